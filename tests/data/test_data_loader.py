"""fastact.data.loader: arrays as promised, consistency checks across files, the real Fashion-MNIST."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pytest

from fastact.data import DatasetError, DatasetMemoryError, load_dataset, write_idx
from fastact.resources import set_memory_budget

from idxgen import isolate_data_env, write_idx_dataset

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def data(monkeypatch, tmp_path):
    isolate_data_env(monkeypatch, tmp_path)
    write_idx_dataset(tmp_path / "d", n_train=100, n_test=30, shape=(6, 5))
    return tmp_path / "d"


def _load(path, **kw):
    return load_dataset(data_dir=path, download=False, progress=False, **kw)


def test_arrays_as_promised(data):
    ds = _load(data)
    for x in (ds.x_train, ds.x_val, ds.x_test):
        assert x.dtype == np.float32 and x.flags.c_contiguous and x.shape[1] == 30
        assert 0 <= x.min() and x.max() <= 1
    for y in (ds.y_train, ds.y_val, ds.y_test):
        assert y.dtype == np.int64
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (90, 10, 30)
    assert ds.n_classes == 10 and ds.input_dim == 30 and ds.image_shape == (6, 5)
    raw = np.frombuffer(gzip.decompress((data / "t10k-images-idx3-ubyte.gz").read_bytes())[16:], np.uint8)
    np.testing.assert_array_equal(ds.x_test.ravel(), raw / np.float32(255))


def test_float64_and_standardize_use_training_rows_only(data):
    ds = _load(data, dtype="float64", standardize=True, val_split=0.3)
    assert ds.x_train.dtype == np.float64
    assert abs(ds.x_train.mean()) < 1e-9 and abs(ds.x_train.std() - 1) < 1e-9
    plain = _load(data, dtype=np.float64, val_split=0.3)
    np.testing.assert_allclose(ds.x_test, (plain.x_test - ds.mean) / ds.std)
    assert ds.mean == pytest.approx(plain.x_train.mean())


def test_to_config_is_json_and_has_no_arrays(data):
    config = _load(data, standardize=True).to_config()
    assert json.loads(json.dumps(config)) == config
    assert config["name"] == "custom" and config["n_train"] == 90 and config["label_dtype"] == "int64"
    assert set(config["checksums"].values()) == {"unverified"}


def test_arrays_are_private_copies(data):
    first = _load(data)
    first.x_test[:] = 7
    assert _load(data).x_test.max() <= 1


@pytest.mark.parametrize("kw, match", [
    ({"name": "mnits"}, "unknown dataset: name='mnits'; valid names: auto, mnist"),
    ({"val_split": 1.0}, r"val_split must be a number in \[0, 1\)"),
    ({"dtype": "float16"}, "dtype must be one of float32, float64; received: dtype='float16'"),
    ({"seed": -1}, "seed must be a non-negative integer; received: seed=-1"),
])
def test_bad_arguments_name_the_value(data, kw, match):
    with pytest.raises(DatasetError, match=match):
        _load(data, **kw)


def _break(directory: Path, role_file: str, array) -> Path:
    return write_idx(directory / role_file, np.asarray(array))


def test_count_mismatch_names_the_labels_file(data):
    bad = _break(data, "train-labels-idx1-ubyte.gz", np.zeros(99, np.uint8))
    with pytest.raises(DatasetError, match="holds 99 labels but train-images-idx3-ubyte.gz holds 100 images") as e:
        _load(data)
    assert str(bad) in str(e.value)


def test_label_out_of_range_for_a_named_dataset(data):
    labels = np.arange(30) % 10
    labels[17] = 12
    bad = _break(data, "t10k-labels-idx1-ubyte.gz", labels.astype(np.uint8))
    with pytest.raises(DatasetError, match=r"label 12 at index 17 is outside 0..9 \(mnist has 10 classes\)") as e:
        _load(data, name="mnist")
    assert str(bad) in str(e.value)


def test_negative_or_float_labels(data):
    _break(data, "t10k-labels-idx1-ubyte.gz", -(np.arange(30) % 10).astype(np.int8))
    with pytest.raises(DatasetError, match="label -1 at index 1 is outside 0..9"):
        _load(data)
    _break(data, "t10k-labels-idx1-ubyte.gz", np.zeros(30, np.float32))
    with pytest.raises(DatasetError, match="labels must be integers, file stores float32"):
        _load(data)


def test_custom_class_count_is_inferred(monkeypatch, tmp_path):
    isolate_data_env(monkeypatch, tmp_path)
    write_idx_dataset(tmp_path, n_train=40, n_test=12, n_classes=4)
    ds = _load(tmp_path)
    assert ds.n_classes == 4 and ds.classes == ("0", "1", "2", "3")


def test_wrong_ndim_and_mismatched_shapes(data):
    _break(data, "train-images-idx3-ubyte.gz", np.zeros((100, 30), np.uint8))
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.gz: has 2 dimension\(s\)"):
        _load(data)
    _break(data, "train-images-idx3-ubyte.gz", np.zeros((100, 5, 6), np.uint8))
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte.gz: images are \(6, 5\), training images are"):
        _load(data)


def test_float_pixels_must_be_in_unit_range(data):
    _break(data, "t10k-images-idx3-ubyte.gz", np.full((30, 6, 5), 0.5, np.float32))
    assert _load(data).x_test.max() == 0.5
    _break(data, "t10k-images-idx3-ubyte.gz", np.full((30, 6, 5), 3.0, np.float32))
    with pytest.raises(DatasetError, match=r"float pixels must lie in \[0, 1\]"):
        _load(data)


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist(monkeypatch, tmp_path):
    isolate_data_env(monkeypatch, tmp_path)
    monkeypatch.setenv("FASTACT_SYSTEM_DATA_DIR", str(DEBIAN_FASHION.parent))
    ds = load_dataset(val_split=0, download=False, progress=False)
    assert ds.name == "fashion-mnist" and ds.source == str(DEBIAN_FASHION)
    assert "MNIST not on disk" in ds.description
    assert ds.x_train.shape == (60_000, 784) and ds.x_test.shape == (10_000, 784) and len(ds.y_val) == 0
    assert ds.image_shape == (28, 28)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert set(ds.checksums.values()) == {"ok"}
    split = load_dataset("fashion-mnist", val_split=0.1, download=False, progress=False)
    assert np.bincount(split.y_val).tolist() == [600] * 10


def test_inferred_class_count_must_be_consistent_with_the_labels(data):
    labels = np.arange(100) % 10
    labels[42] = 100  # 101 classes from 100 training labels: corrupt, not data
    bad = _break(data, "train-labels-idx1-ubyte.gz", labels.astype(np.uint8))
    with pytest.raises(DatasetError, match=re.escape(
            f"{bad}: label 100 at index 42 implies 101 classes, more than the 100 training labels")):
        _load(data)
    # A known dataset keeps its spec's count: the same label is simply out of range.
    with pytest.raises(DatasetError, match=r"label 100 at index 42 is outside 0..9 \(mnist has 10 classes\)"):
        _load(data, name="mnist")


def test_memory_budget_names_the_dataset_and_the_fix(data):
    set_memory_budget(20_000, source="--memory-budget 20000")
    try:
        with pytest.raises(DatasetMemoryError) as info:
            _load(data, dtype="float64")
    finally:
        set_memory_budget(None)
    assert str(info.value) == (
        f"custom from {data}: 130 rows x 30 features as float64 (+ a 2.93 KiB working copy) needs an estimated "
        "34.4 KiB, more than the memory budget of 19.5 KiB (--memory-budget 20000); use dtype='float32', or raise "
        "the budget with --memory-budget SIZE or FASTACT_MEMORY_BUDGET=SIZE (e.g. 16G, or 90%)")


def test_image_shape_and_input_dim_agree_for_any_image_size(monkeypatch, tmp_path):
    isolate_data_env(monkeypatch, tmp_path)
    write_idx_dataset(tmp_path, n_train=20, n_test=10, shape=(1, 7), n_classes=2)
    ds = _load(tmp_path)
    assert ds.image_shape == (1, 7) and ds.input_dim == 7
