"""fastact.data.split: the validation split is seeded, disjoint, stratified, and only from training."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastact.data import DatasetError, load_dataset
from fastact.data.split import check_val_split, stratified_split

from idxgen import write_idx_dataset


def _labels(n=1000, k=10, seed=0):
    return np.random.default_rng(seed).integers(0, k, n)


def test_reproducible_for_a_seed_and_different_across_seeds():
    y = _labels()
    a, b = stratified_split(y, 0.1, seed=3), stratified_split(y, 0.1, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], stratified_split(y, 0.1, seed=4)[1])


@settings(max_examples=80, deadline=None)
@given(y=st.lists(st.integers(0, 6), min_size=1, max_size=300), f=st.floats(0, 0.95), seed=st.integers(0, 2**32))
def test_partition_sizes_and_strata(y, f, seed):
    y = np.asarray(y)
    train, val = stratified_split(y, f, seed)
    assert train.dtype == val.dtype == np.int64
    assert np.intersect1d(train, val).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(y.size))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    counts, in_val = np.bincount(y, minlength=7), np.bincount(y[val], minlength=7)
    for n_c, v_c in zip(counts, in_val):
        assert v_c <= np.ceil(f * n_c) and (n_c == 0 or v_c < n_c)  # never a whole class
    assert val.size <= round(f * y.size)


def test_stratified_exactly_on_balanced_labels():
    y = np.repeat(np.arange(10), 100)
    train, val = stratified_split(y, 0.1, seed=0)
    assert np.bincount(y[val]).tolist() == [10] * 10
    assert np.bincount(y[train]).tolist() == [90] * 10


def test_total_is_exact_when_classes_do_not_divide():
    y = np.repeat(np.arange(3), [7, 11, 13])
    _, val = stratified_split(y, 0.25, seed=1)
    assert val.size == round(0.25 * 31)
    assert sorted(np.bincount(y[val]).tolist()) == [2, 3, 3]


def test_zero_means_empty_validation():
    train, val = stratified_split(_labels(50), 0, seed=0)
    assert val.size == 0 and train.size == 50


@pytest.mark.parametrize("bad", [1, 1.0, -0.1, float("nan"), "0.1", None, True])
def test_invalid_fraction_names_the_value(bad):
    with pytest.raises(DatasetError, match=r"val_split must be a number in \[0, 1\).*received: val_split="):
        check_val_split(bad)


def test_loader_takes_validation_from_training_only(tmp_path):
    write_idx_dataset(tmp_path, n_train=200, n_test=50)
    whole = load_dataset(data_dir=tmp_path, val_split=0)
    ds = load_dataset(data_dir=tmp_path, val_split=0.2, seed=5)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (160, 40, 50)
    np.testing.assert_array_equal(ds.x_test, whole.x_test)
    np.testing.assert_array_equal(ds.y_test, whole.y_test)
    train_rows = {r.tobytes() for r in ds.x_train}
    assert not any(r.tobytes() in train_rows for r in ds.x_val)
    rows = sorted(r.tobytes() for r in np.vstack([ds.x_train, ds.x_val]))
    assert rows == sorted(r.tobytes() for r in whole.x_train)
    assert np.bincount(ds.y_val).tolist() == [4] * 10
    again = load_dataset(data_dir=tmp_path, val_split=0.2, seed=5)
    np.testing.assert_array_equal(again.x_val, ds.x_val)
