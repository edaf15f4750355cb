"""fastact.data.idx: round trips, one clear DatasetError per kind of broken file, sizes checked first."""

from __future__ import annotations

import gzip
import hashlib
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastact.data import DatasetError, DatasetMemoryError, read_idx, write_idx
from fastact.data.idx import DTYPE_CODES, load_idx, scan_idx
from fastact.resources import ResourceError, set_memory_budget

from idxgen import write_idx_dataset

NATIVE_DTYPES = [d.newbyteorder("=") for d in DTYPE_CODES.values()]


def _header(code: int, shape) -> bytes:
    return bytes([0, 0, code, len(shape)]) + np.asarray(shape, ">u4").tobytes()


def _write(path: Path, data: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def _raises(path: Path, match: str, ndim: int | None = None) -> DatasetError:
    with pytest.raises(DatasetError, match=match) as info:
        read_idx(path, ndim=ndim)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)
    return info.value


# -- round trips -------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(array=hnp.arrays(st.sampled_from(NATIVE_DTYPES), hnp.array_shapes(min_dims=1, max_dims=4, min_side=0,
                                                                         max_side=5)),
       gz=st.booleans())
def test_round_trip_any_shape_and_dtype(array, gz):
    with tempfile.TemporaryDirectory() as d:
        path = write_idx(Path(d) / ("a.idx.gz" if gz else "a.idx"), array)
        back = read_idx(path)
    assert back.dtype == array.dtype.newbyteorder("=") and back.shape == array.shape
    np.testing.assert_array_equal(back, array)  # NaNs compare equal here
    assert back.flags.c_contiguous and back.flags.writeable


@pytest.mark.parametrize("gz", [True, False])
def test_round_trip_generated_dataset(tmp_path, gz):
    paths = write_idx_dataset(tmp_path, n_train=50, n_test=20, shape=(7, 5), gz=gz)
    images, labels = read_idx(paths["train_images"], ndim=3), read_idx(paths["train_labels"], ndim=1)
    assert images.shape == (50, 7, 5) and images.dtype == np.uint8
    assert labels.shape == (50,) and labels.max() < 10
    assert (paths["train_images"].read_bytes()[:2] == b"\x1f\x8b") == gz
    write_idx(tmp_path / "copy", images, gz=not gz)
    np.testing.assert_array_equal(read_idx(tmp_path / "copy"), images)


@pytest.mark.parametrize("dtype", ["int8", ">i2", "int32", "float32", ">f8"])
def test_other_dtype_codes_keep_values(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    back = read_idx(write_idx(tmp_path / "x.gz", array))
    assert back.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(back, array)


def test_writer_is_deterministic_and_big_endian(tmp_path):
    a = write_idx(tmp_path / "a.gz", np.array([1, 258], np.int32)).read_bytes()
    b = write_idx(tmp_path / "b.gz", np.array([1, 258], np.int32)).read_bytes()
    assert a == b
    assert gzip.decompress(a) == _header(0x0C, [2]) + b"\x00\x00\x00\x01\x00\x00\x01\x02"
    assert not list(tmp_path.glob(".*.part"))


def test_compression_detected_from_content_not_name(tmp_path):
    path = _write(tmp_path / "looks-raw", _header(0x08, [3]) + b"\x01\x02\x03", gz=True)
    assert read_idx(path).tolist() == [1, 2, 3]


@pytest.mark.parametrize("array, match", [
    (np.zeros(3, bool), "dtype bool has no IDX code"),
    (np.zeros(3, np.complex64), "valid: 0x08 \\(uint8\\)"),
    (np.array(5, np.uint8), "shape \\(\\) not storable"),
])
def test_writer_rejects_unstorable_arrays(tmp_path, array, match):
    with pytest.raises(DatasetError, match=match):
        write_idx(tmp_path / "x", array)


# -- every way a file can be broken ------------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data(tmp_path, gz):
    data = _header(0x08, [4, 3, 3]) + bytes(36)
    expected = r"truncated: header declares uint8 \(4, 3, 3\) = 36 data bytes, file holds 31"
    _raises(_write(tmp_path / "t", data[:-5], gz), expected)


def test_truncated_gzip_stream(tmp_path):
    full = gzip.compress(_header(0x08, [100]) + bytes(range(100)), mtime=0)
    _raises(_write(tmp_path / "t.gz", full[: len(full) // 2]), "gzip stream is truncated")


def test_corrupted_gzip_stream(tmp_path):
    full = bytearray(gzip.compress(_header(0x08, [100]) + bytes(range(100)), mtime=0))
    full[-8] ^= 0xFF  # break the CRC
    _raises(_write(tmp_path / "c.gz", bytes(full)), "corrupted gzip data")


def test_truncated_header(tmp_path):
    _raises(_write(tmp_path / "h", _header(0x08, [4, 3, 3])[:9]), "truncated header: 3 dimensions need 16 bytes")
    _raises(_write(tmp_path / "m", b"\x00\x00"), "shorter than the 4-byte IDX magic")


def test_trailing_bytes(tmp_path):
    _raises(_write(tmp_path / "x", _header(0x08, [2]) + b"\x01\x02\x03"), "1 unexpected trailing bytes")


@pytest.mark.parametrize("gz", [False, True])
def test_bad_magic(tmp_path, gz):
    err = _raises(_write(tmp_path / "png", b"\x89PNG\r\n\x1a\n" + bytes(16), gz), "bad magic number 0x89504E47")
    assert "not an IDX file" in str(err)


def test_bad_dtype_code(tmp_path):
    err = _raises(_write(tmp_path / "d", _header(0x0A, [2]) + bytes(2)), "unknown IDX dtype code 0x0A")
    assert "0x08 (uint8)" in str(err) and "0x0E (float64)" in str(err)


def test_wrong_ndim(tmp_path):
    path = write_idx(tmp_path / "labels-as-images", np.zeros((5, 4), np.uint8))
    _raises(path, r"has 2 dimension\(s\), shape \(5, 4\), expected 3", ndim=3)
    _raises(_write(tmp_path / "zero", bytes([0, 0, 8, 0])), "declares 0 dimensions")


@pytest.mark.parametrize("gz", [False, True])
def test_empty_file(tmp_path, gz):
    _raises(_write(tmp_path / "empty", b"", gz), "empty")


def test_missing_file_and_directory(tmp_path):
    _raises(tmp_path / "nope", "no such file")
    _raises(tmp_path, "is a directory")


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 10_000), gz=st.booleans())
def test_any_truncation_is_an_error_never_a_short_array(cut, gz):
    full = _header(0x0D, [10, 5, 5]) + np.arange(250, dtype=">f4").tobytes()
    full = gzip.compress(full, mtime=0) if gz else full
    with tempfile.TemporaryDirectory() as d:
        path = _write(Path(d) / "t", full[: cut % len(full)])
        with pytest.raises(DatasetError):
            read_idx(path)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=64))
def test_arbitrary_bytes_parse_or_raise_dataset_error(data):
    with tempfile.TemporaryDirectory() as d:
        path = _write(Path(d) / "fuzz", data)
        try:
            array = read_idx(path)
        except DatasetError as exc:
            assert str(path) in str(exc)
        else:
            assert array.nbytes + 4 + 4 * array.ndim == len(data)


# -- sizes are checked before anything is allocated --------------------------------------------

@pytest.fixture
def budget():
    yield set_memory_budget
    set_memory_budget(None)


@pytest.mark.parametrize("gz", [False, True])
def test_budget_refuses_before_reading(tmp_path, budget, gz):
    path = write_idx(tmp_path / ("x.gz" if gz else "x"), np.zeros((10, 100), np.uint8))
    budget(999, source="--memory-budget 999")
    with pytest.raises(DatasetMemoryError) as info:
        read_idx(path)
    assert str(info.value) == (
        f"{path}: the uint8 (10, 100) array its header declares needs an estimated 1000 B, more than the memory "
        "budget of 999 B (--memory-budget 999); raise the budget with --memory-budget SIZE or "
        "FASTACT_MEMORY_BUDGET=SIZE (e.g. 16G, or 90%)")
    assert isinstance(info.value, DatasetError) and isinstance(info.value, ResourceError)
    budget(1000)
    assert read_idx(path).shape == (10, 100)


def test_gzip_payload_longer_than_declared(tmp_path):
    path = _write(tmp_path / "long.gz", _header(0x08, [2]) + b"\x01\x02\x03", gz=True)
    _raises(path, r"unexpected trailing bytes after the \(2,\) array: the payload is longer than the 10 bytes "
            "its header declares")


def test_gzip_header_claiming_more_than_deflate_can_expand(tmp_path):
    path = _write(tmp_path / "claim.gz", _header(0x08, [10**9]) + bytes(100), gz=True)
    size = path.stat().st_size
    _raises(path, rf"header declares uint8 \(1000000000,\) = 954 MiB of data, but a {size}-byte gzip file can "
            r"hold at most .* \(deflate expands at most 1032:1\)")


@pytest.mark.parametrize("gz", [False, True])
def test_load_and_scan_give_the_same_digests(tmp_path, gz):
    array = np.arange(600, dtype=">i4").reshape(20, 30)
    path = write_idx(tmp_path / ("a.gz" if gz else "a"), array)
    data = path.read_bytes()
    payload = gzip.decompress(data) if gz else data
    loaded = load_idx(path, ndim=2)
    np.testing.assert_array_equal(loaded.array, array)
    assert loaded.array.dtype == np.dtype("int32")  # native order, swapped in place
    digests = (hashlib.sha256(data).hexdigest(), hashlib.sha256(payload).hexdigest())
    assert (loaded.file_sha256, loaded.payload_sha256) == digests
    header, *scanned = scan_idx(path, ndim=2)
    assert tuple(scanned) == digests and header.shape == (20, 30) and header.nbytes == 2400


def test_scan_finds_the_same_faults_as_read(tmp_path):
    path = _write(tmp_path / "t.gz", _header(0x08, [4, 3, 3]) + bytes(31), gz=True)
    with pytest.raises(DatasetError, match=r"truncated: header declares uint8 \(4, 3, 3\) = 36 data bytes"):
        scan_idx(path)
