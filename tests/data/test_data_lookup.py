"""fastact.data.locations and .resolve: where a dataset is found, and the line saying why."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import shutil
from pathlib import Path

import pytest

from fastact.data import DATASETS, DatasetError, load_dataset, locations

from idxgen import isolate_data_env, write_idx_dataset

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def dirs(monkeypatch, tmp_path):
    return isolate_data_env(monkeypatch, tmp_path)


def _put(directory: Path, n_train: int, **kw) -> Path:
    """A generated dataset whose size (n_train) tells the tests which copy got loaded."""
    write_idx_dataset(directory, n_train=n_train, n_test=20, **kw)
    return directory


def _load(**kw):
    return load_dataset(val_split=0, download=False, progress=False, **kw)


def test_explicit_data_dir_beats_everything(dirs, monkeypatch, tmp_path):
    _put(dirs["env"] / "mnist", 40)
    monkeypatch.setenv("FASTACT_DATA_DIR", str(dirs["env"]))
    _put(dirs["cache"] / "mnist", 50)
    _put(dirs["system"] / "mnist", 60)
    ds = _load(name="mnist", data_dir=_put(tmp_path / "mine", 30))
    assert len(ds.y_train) == 30 and ds.source == str(tmp_path / "mine")
    assert "given as data_dir" in ds.description


def test_env_dir_then_cache_then_system(dirs, monkeypatch):
    _put(dirs["system"] / "mnist", 60)
    assert len(_load().y_train) == 60
    _put(dirs["cache"] / "mnist", 50)
    ds = _load()
    assert len(ds.y_train) == 50 and "(found in user cache; checksum mismatch on 4 file(s))" in ds.description
    _put(dirs["env"] / "mnist", 40)
    monkeypatch.setenv("FASTACT_DATA_DIR", str(dirs["env"]))
    ds = _load()
    assert len(ds.y_train) == 40 and "found in $FASTACT_DATA_DIR" in ds.description
    assert ds.name == "mnist" and ds.source == str(dirs["env"] / "mnist")


def test_system_dir_is_a_module_attribute_too(monkeypatch, tmp_path, dirs):
    monkeypatch.delenv("FASTACT_SYSTEM_DATA_DIR")
    monkeypatch.setattr(locations, "SYSTEM_DATA_DIR", tmp_path / "sys2")
    _put(tmp_path / "sys2" / "kmnist", 30)
    assert _load(name="kmnist").source == str(tmp_path / "sys2" / "kmnist")


def test_cache_root_follows_xdg_and_defaults_to_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert locations.cache_root() == tmp_path / "xdg" / "fastact"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert locations.cache_root() == tmp_path / "home" / ".cache" / "fastact"


def test_raw_and_gz_names_both_accepted(dirs, tmp_path):
    _put(tmp_path / "raw", 30, gz=False)
    assert len(_load(data_dir=tmp_path / "raw").y_train) == 30
    _put(tmp_path / "mixed", 30)
    labels = tmp_path / "mixed" / "train-labels-idx1-ubyte.gz"
    (tmp_path / "mixed" / "train-labels-idx1-ubyte").write_bytes(gzip.decompress(labels.read_bytes()))
    labels.unlink()
    ds = _load(data_dir=tmp_path / "mixed")
    assert "train-labels-idx1-ubyte" in ds.checksums and len(ds.y_train) == 30


def test_explicit_dir_may_hold_named_subdirectories(dirs, tmp_path):
    _put(tmp_path / "data" / "fashion-mnist", 30)
    ds = _load(data_dir=tmp_path / "data")
    assert ds.name == "fashion-mnist" and "subdirectory of the given data_dir" in ds.description
    assert _load(name="fashion-mnist", data_dir=tmp_path / "data").name == "fashion-mnist"


def test_explicit_dir_without_data_is_an_error_not_a_fall_through(dirs, tmp_path):
    _put(dirs["cache"] / "mnist", 50)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no dataset: missing train-images-idx3-ubyte.gz") as info:
        _load(data_dir=tmp_path / "empty")
    assert str(tmp_path / "empty") in str(info.value)
    with pytest.raises(DatasetError, match="is not a directory"):
        _load(data_dir=tmp_path / "absent")


def test_half_populated_directory_is_skipped(dirs):
    paths = write_idx_dataset(dirs["cache"] / "mnist", n_train=30, n_test=10)
    paths["test_labels"].unlink()
    _put(dirs["system"] / "mnist", 60)
    assert len(_load().y_train) == 60
    assert locations.missing_files(dirs["cache"] / "mnist") == ["t10k-labels-idx1-ubyte.gz"]


def test_auto_prefers_mnist_then_falls_back_with_reason(dirs, monkeypatch):
    _put(dirs["system"] / "fashion-mnist", 30)
    ds = _load()
    assert ds.name == "fashion-mnist"
    assert ds.description.startswith(f"fashion-mnist from {dirs['system'] / 'fashion-mnist'} "
                                     "(MNIST not on disk, download is disabled (download=False)")
    monkeypatch.setenv("FASTACT_OFFLINE", "1")
    ds = load_dataset(progress=False)
    assert "download is disabled ($FASTACT_OFFLINE=1)" in ds.description
    _put(dirs["cache"] / "mnist", 50)
    assert load_dataset(progress=False).name == "mnist"


def test_nothing_available_names_the_three_ways(dirs, monkeypatch):
    monkeypatch.setenv("FASTACT_OFFLINE", "yes")
    with pytest.raises(DatasetError) as info:
        load_dataset(progress=False)
    msg = str(info.value)
    assert "no MNIST-format dataset available" in msg
    assert "network" in msg and "--data-dir DIR" in msg and "apt-get install dataset-fashion-mnist" in msg
    with pytest.raises(DatasetError, match="kmnist is not on disk .* download is disabled"):
        _load(name="kmnist")


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("0", False), ("", False),
                                             ("no", False)])
def test_offline_switch(monkeypatch, value, expected):
    monkeypatch.setenv("FASTACT_OFFLINE", value)
    assert locations.offline() is expected


def _with_digests(monkeypatch, name, directory):
    """Make DATASETS[name] know the digests of the files in ``directory``."""
    spec = DATASETS[name]
    sums = {f: hashlib.sha256((directory / f).read_bytes()).hexdigest() for f in spec.files.values()}
    monkeypatch.setitem(DATASETS, name, dataclasses.replace(spec, sha256=sums, alt_sha256={}))


def test_checksums_identify_an_explicit_dir_and_flag_mismatches(dirs, monkeypatch, tmp_path):
    _with_digests(monkeypatch, "kmnist", _put(tmp_path / "k", 30))
    ds = _load(data_dir=tmp_path / "k")
    assert ds.name == "kmnist" and set(ds.checksums.values()) == {"ok"}
    assert "checksums match kmnist" in ds.description
    _put(tmp_path / "own", 30, seed=9)
    ds = _load(data_dir=tmp_path / "own")
    assert ds.name == "custom" and set(ds.checksums.values()) == {"unverified"}
    ds = _load(name="kmnist", data_dir=tmp_path / "own")  # the user's own files still load
    assert ds.name == "kmnist" and set(ds.checksums.values()) == {"mismatch"}
    assert "checksum mismatch on 4 file(s)" in ds.description


def test_unknown_digest_records_unverified(dirs, monkeypatch, tmp_path):
    spec = DATASETS["kmnist"]
    monkeypatch.setitem(DATASETS, "kmnist", dataclasses.replace(
        spec, sha256=dict.fromkeys(spec.files.values()), alt_sha256={}))
    ds = _load(name="kmnist", data_dir=_put(tmp_path / "k", 30))
    assert set(ds.checksums.values()) == {"unverified"}


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_files_are_recognised_even_gunzipped(dirs, tmp_path):
    mine = tmp_path / "copy"
    mine.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        (mine / name).symlink_to(DEBIAN_FASHION / name)
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(DEBIAN_FASHION / f"{name}.gz") as src, open(mine / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    ds = _load(data_dir=mine)
    assert ds.name == "fashion-mnist" and set(ds.checksums.values()) == {"ok"}
