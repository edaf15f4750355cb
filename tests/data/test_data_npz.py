"""fastact.data.npz: load_npz gives from_arrays's dataset, and sizes every member before loading it."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pytest

from fastact.data import Dataset, DatasetError, DatasetMemoryError, load_npz
from fastact.resources import set_memory_budget

from idxgen import make_arrays


@pytest.fixture
def arrays():
    x_train, y_train = make_arrays(80, 4, (5, 3), 0)
    x_test, y_test = make_arrays(20, 4, (5, 3), 1)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_same_dataset_as_from_arrays(tmp_path, arrays, save):
    path = tmp_path / "digits.npz"
    save(path, **arrays)
    ds = load_npz(path, val_split=0.25, seed=3)
    ref = Dataset.from_arrays(**arrays, val_split=0.25, seed=3)
    for key in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(ds, key), getattr(ref, key), err_msg=key)
    assert ds.name == "digits" and ds.source == str(path) and ds.image_shape == (5, 3)
    assert ds.description == f"digits from {path} (80 training rows of 15 features, 20 test rows)"


def test_without_test_keys_and_with_options(tmp_path, arrays):
    path = tmp_path / "train-only.npz"
    np.savez(path, x_train=arrays["x_train"].reshape(80, -1).astype(np.float64), y_train=arrays["y_train"])
    ds = load_npz(path, name="mine", classes=["a", "b", "c", "d"], dtype="float64", val_split=0)
    assert ds.name == "mine" and len(ds.y_test) == 0 and ds.image_shape is None and ds.input_dim == 15
    assert ds.classes == ("a", "b", "c", "d") and ds.x_train.dtype == np.float64


@pytest.mark.parametrize("keys, problem", [
    (["x_train"], "missing key(s) 'y_train' (found 'x_train')"),
    (["x_train", "y_train", "z", "extra"], "unexpected key(s) 'extra', 'z' (found 'x_train', 'y_train', 'z', "
                                           "'extra')"),
    (["x", "y"], "missing key(s) 'x_train', 'y_train'; unexpected key(s) 'x', 'y' (found 'x', 'y')"),
])
def test_missing_and_extra_keys(tmp_path, arrays, keys, problem):
    path = tmp_path / "keys.npz"
    np.savez(path, **{k: arrays.get(k, np.zeros(3)) for k in keys})
    with pytest.raises(DatasetError, match=f"^{re.escape(f'{path}: {problem}')}; expected x_train, y_train and "
                                           "optionally x_test, y_test$"):
        load_npz(path)


def test_errors_name_the_file_and_key(tmp_path, arrays):
    path = tmp_path / "short.npz"
    np.savez(path, **{**arrays, "y_test": arrays["y_test"][:19]})
    with pytest.raises(DatasetError, match=f"^{re.escape(str(path))}\\[y_test\\]: holds 19 labels but "
                                           f"{re.escape(str(path))}\\[x_test\\] holds 20 rows$"):
        load_npz(path)
    np.savez(path, x_train=arrays["x_train"], y_train=arrays["y_train"], x_test=arrays["x_test"])
    with pytest.raises(DatasetError, match=r"\[x_test\] and .*\[y_test\] go together; received only .*\[x_test\]"):
        load_npz(path)


def test_object_arrays_are_refused(tmp_path, arrays):
    path = tmp_path / "pickled.npz"
    np.savez(path, x_train=np.array([{"a": 1}] * 80, dtype=object), y_train=arrays["y_train"])
    with pytest.raises(DatasetError, match=re.escape(f"{path}: member 'x_train' holds Python objects (dtype object); "
                                                     "only numeric arrays are loaded (allow_pickle=False)")):
        load_npz(path)


def test_not_an_npz(tmp_path):
    path = tmp_path / "fake.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match=re.escape(f"{path}: not an .npz file (File is not a zip file)")):
        load_npz(path)
    with pytest.raises(DatasetError, match="no such file"):
        load_npz(tmp_path / "absent.npz")


def _lying_npz(path, shape):
    """An .npz whose x_train header declares ``shape`` float64 but holds 24 bytes of data."""
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("x_train.npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": shape})
            member.write(bytes(24))
        with archive.open("y_train.npy", "w") as member:
            np.lib.format.write_array(member, np.arange(3))
    return path


def test_member_header_must_match_its_size(tmp_path):
    path = _lying_npz(tmp_path / "liar.npz", (10**9, 3))
    with pytest.raises(DatasetError, match=re.escape(f"{path}: member 'x_train': its header declares float64 "
                                                     "(1000000000, 3) = 22.4 GiB, but the member holds 24 B of data")):
        load_npz(path)


def test_budget_is_checked_before_loading(tmp_path, arrays):
    path = tmp_path / "big.npz"
    np.savez(path, **arrays)
    set_memory_budget(1000, source="--memory-budget 1000")
    try:
        with pytest.raises(DatasetMemoryError, match=re.escape(
                f"{path}: its arrays (x_train uint8 (80, 5, 3), y_train uint8 (80,), x_test uint8 (20, 5, 3), "
                "y_test uint8 (20,)) needs an estimated 1.56 KiB, more than the memory budget of 1000 B "
                "(--memory-budget 1000); raise the budget")):
            load_npz(path)
    finally:
        set_memory_budget(None)
