"""fastact.data.dataset: Dataset.from_arrays splits and checks like IDX data, for any feature count."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from fastact.data import Dataset, DatasetError, DatasetMemoryError, load_dataset
from fastact.data.assemble import MAX_CLASSES
from fastact.data.split import stratified_split
from fastact.resources import set_memory_budget

from idxgen import isolate_data_env, make_arrays, write_idx_dataset


@pytest.fixture
def budget():
    yield set_memory_budget
    set_memory_budget(None)


def _features(n=100, d=3, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), np.arange(n) % k


def test_plain_feature_vectors():
    x, y = _features()
    ds = Dataset.from_arrays(x, y, val_split=0.2, seed=1)
    assert ds.input_dim == 3 and ds.image_shape is None and ds.n_classes == 4
    assert ds.classes == ("0", "1", "2", "3") and ds.name == "arrays" and ds.source == "arrays"
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (80, 20, 0)
    assert ds.x_test.shape == (0, 3) and ds.y_test.dtype == np.int64
    assert np.bincount(ds.y_val).tolist() == [5, 5, 5, 5]
    # floats are taken as given: every row comes back, in float32, unscaled
    rows = sorted(map(tuple, np.vstack([ds.x_train, ds.x_val]).tolist()))
    assert rows == sorted(map(tuple, x.astype(np.float32).tolist()))
    assert ds.description == "arrays from arrays (100 training rows of 3 features, no test split)"
    config = ds.to_config()
    assert json.loads(json.dumps(config)) == config and config["image_shape"] is None and config["input_dim"] == 3


def test_a_single_feature_and_an_explicit_test_split():
    x, y = _features(d=1)
    ds = Dataset.from_arrays(x, y, x[:10], y[:10], val_split=0, dtype="float64", name="one", classes=["a", "b",
                                                                                                     "c", "d"])
    assert ds.input_dim == 1 and ds.x_train.dtype == np.float64 and len(ds.y_val) == 0
    np.testing.assert_array_equal(ds.x_test, x[:10])
    assert ds.classes == ("a", "b", "c", "d") and ds.description.endswith("(100 training rows of 1 features, "
                                                                           "10 test rows)")


@pytest.mark.parametrize("val_split, seed", [(0.1, 0), (0.25, 7), (0.0, 3)])
def test_same_arrays_same_dataset_as_the_idx_path(monkeypatch, tmp_path, val_split, seed):
    isolate_data_env(monkeypatch, tmp_path)
    write_idx_dataset(tmp_path / "d", n_train=120, n_test=30, shape=(6, 5), n_classes=7)
    x_train, y_train = make_arrays(120, 7, (6, 5), 0)
    x_test, y_test = make_arrays(30, 7, (6, 5), 1)
    from_idx = load_dataset(data_dir=tmp_path / "d", val_split=val_split, seed=seed, download=False)
    from_arrays = Dataset.from_arrays(x_train, y_train, x_test, y_test, val_split=val_split, seed=seed)
    for key in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(from_arrays, key), getattr(from_idx, key), err_msg=key)
    assert from_arrays.image_shape == from_idx.image_shape == (6, 5)
    assert from_arrays.n_classes == from_idx.n_classes == 7 and from_arrays.input_dim == 30


def test_standardize_uses_training_rows():
    x, y = _features(n=200)
    ds = Dataset.from_arrays(x * 3 + 5, y, standardize=True, dtype="float64")
    assert abs(ds.x_train.mean()) < 1e-9 and abs(ds.x_train.std() - 1) < 1e-9


def test_inputs_are_copied():
    x, y = _features()
    ds = Dataset.from_arrays(x, y, val_split=0)
    ds.x_train[:] = 0
    assert np.abs(x).sum() > 0


X, Y = _features()
BAD_LABEL = Y.copy()
BAD_LABEL[4] = 1_000_000
NAN = X.copy()
NAN[7, 1] = np.nan


@pytest.mark.parametrize("args, kw, message", [
    ((X, Y[:99]), {}, "y_train: holds 99 labels but x_train holds 100 rows"),
    ((X, Y.astype(float)), {}, "y_train: labels must be integers, received float64"),
    ((X, Y, X[:5], Y[:5] + 10), {"classes": 4}, "y_test: label 10 at index 0 is outside 0..3 "
                                                "(this dataset has 4 classes)"),
    ((X, Y - 1), {}, "y_train: label -1 at index 0 is outside 0..2 (this dataset has 3 classes)"),
    ((X, BAD_LABEL), {}, "y_train: label 1000000 at index 4 implies 1000001 classes, more than the 100 training "
                         "labels (a class needs room for at least one training example); relabel the classes as "
                         "0..k-1 (e.g. np.unique(y, return_inverse=True)[1])"),
    ((X, Y * 0), {}, "y_train: every label is 0; need at least 2 classes"),
    ((X[:0], Y[:0]), {}, "x_train: holds 0 rows"),
    ((X, Y, X[:0], Y[:0]), {}, "x_test: holds 0 rows"),
    ((X, Y, X[:5]), {}, "x_test and y_test go together; received only x_test"),
    ((X, Y, None, Y[:5]), {}, "x_test and y_test go together; received only y_test"),
    ((X, Y, X[:5, :2], Y[:5]), {}, "x_test: rows are (2,), training rows are (3,)"),
    ((X[:, 0], Y), {}, "x_train must be 2-D (n, features) or 3-D (n, rows, cols); received shape (100,); a single "
                       "feature is x.reshape(-1, 1)"),
    ((X.reshape(100, 3, 1, 1), Y), {}, "x_train must be 2-D (n, features) or 3-D (n, rows, cols); received shape "
                                       "(100, 3, 1, 1); flatten with x.reshape(len(x), -1)"),
    ((X, np.eye(4)[Y]), {}, "y_train must be 1-D class indices; received shape (100, 4) (one-hot labels? use "
                            "y.argmax(axis=1))"),
    ((NAN, Y), {}, "x_train: features must be finite: row 7 holds NaN or infinity"),
    ((X.astype(np.int64), Y), {}, "x_train: features must be uint8 (scaled by 1/255) or floats, received int64; "
                                  "convert with x.astype('float32')"),
    ((X.astype(object), Y), {}, "x_train: must be a numeric array; received dtype object"),
    ((X, Y), {"classes": 1}, "classes must be at least 2 (a count) or a list of names; received: classes=1"),
    ((X, Y), {"classes": ["a", "a"]}, "classes must be a count or a list of at least 2 distinct names; "
                                      "received: classes=['a', 'a']"),
    ((X, Y), {"classes": "abcd"}, "classes must be a count or a list of at least 2 distinct names; "
                                  "received: classes='abcd'"),
    ((X, Y), {"name": ""}, "name must be a non-empty string; received: name=''"),
    ((X, Y), {"val_split": 1}, "val_split must be a number in [0, 1), e.g. 0.1; received: val_split=1"),
    ((X, Y), {"dtype": "int8"}, "dtype must be one of float32, float64; received: dtype='int8'"),
    ((X, Y), {"seed": -2}, "seed must be a non-negative integer; received: seed=-2"),
])
def test_messages_name_the_argument(args, kw, message):
    with pytest.raises(DatasetError, match=f"^{re.escape(message)}$"):
        Dataset.from_arrays(*args, **kw)


def test_nan_in_a_validation_row_names_its_row_in_x_train():
    x, y = _features()
    x[3, 0] = np.inf
    seeds = range(20)
    assert any(3 in stratified_split(y, 0.1, s)[1] for s in seeds)  # some of them send row 3 to validation
    for seed in seeds:
        with pytest.raises(DatasetError, match=r"^x_train: features must be finite: row 3 holds"):
            Dataset.from_arrays(x, y, seed=seed)


def test_class_count_cap():
    n = MAX_CLASSES + 2
    y = np.arange(n) % (MAX_CLASSES + 1)  # every class present, one too many
    with pytest.raises(DatasetError, match=rf"^y_train: label {MAX_CLASSES} at index {MAX_CLASSES} implies "
                                           rf"{MAX_CLASSES + 1} classes, more than the cap of {MAX_CLASSES} classes;"):
        Dataset.from_arrays(np.zeros((n, 1)), y, val_split=0)
    ok = Dataset.from_arrays(np.zeros((n - 1, 1)), y[: n - 1] % MAX_CLASSES, val_split=0)
    assert ok.n_classes == MAX_CLASSES


def test_budget_refusal_names_the_dataset_and_the_fix(budget):
    x, y = _features(n=1000, d=50)
    budget(100_000, source="--memory-budget 100000")
    with pytest.raises(DatasetMemoryError) as info:
        Dataset.from_arrays(x, y, dtype="float64", name="blobs")
    assert str(info.value) == (
        "Dataset.from_arrays(name='blobs'): 1000 rows x 50 features as float64 (+ a 391 KiB working copy) needs "
        "an estimated 789 KiB, more than the memory budget of 97.7 KiB (--memory-budget 100000); use "
        "dtype='float32', or raise the budget with --memory-budget SIZE or FASTACT_MEMORY_BUDGET=SIZE "
        "(e.g. 16G, or 90%)")


def test_dataset_checks_its_own_arrays():
    x, y = _features()
    ds = Dataset.from_arrays(x, y)
    fields = {f: getattr(ds, f) for f in ds.__dataclass_fields__}
    with pytest.raises(DatasetError, match=r"arrays must be 2-D \(n, features\) of one width; received: "
                                           r"x_train=\(90, 3\), x_val=\(10, 2\), x_test=\(0, 3\)"):
        Dataset(**{**fields, "x_val": ds.x_val[:, :2]})
    with pytest.raises(DatasetError, match=r"y_val must be 1-D with one label per row of x_val"):
        Dataset(**{**fields, "y_val": ds.y_val[:3]})
    with pytest.raises(DatasetError, match=r"image_shape=\(2, 2\) does not flatten to the 3 features"):
        Dataset(**{**fields, "image_shape": (2, 2)})
