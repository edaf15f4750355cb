"""Reading and writing IDX files, the format MNIST and its siblings ship in.

An IDX file is a header followed by one big-endian array::

    bytes 0-1   0x00 0x00                      (magic)
    byte  2     dtype code  (see DTYPE_CODES)
    byte  3     ndim        (d >= 1)
    4*d bytes   sizes s_1 .. s_d, unsigned 32-bit big-endian
    rest        s_1 * ... * s_d items of the dtype, big-endian, C order

so a valid file is exactly ``4 + 4*d + itemsize * prod(s)`` bytes long. Files
may be gzip-compressed; that is detected from the content (``1f 8b``), not
from the name. :func:`read_idx` checks every one of these facts and raises
:class:`~fastact.data.errors.DatasetError` naming the file and the broken
fact, so a truncated or corrupted file can never come back as a short or
garbled array.

Example::

    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x-idx2-ubyte.gz")
    >>> _ = write_idx(path, np.arange(6, dtype=np.uint8).reshape(2, 3))
    >>> read_idx(path).tolist()
    [[0, 1, 2], [3, 4, 5]]
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

from fastact.data.errors import DatasetError, file_error

#: IDX dtype code -> big-endian NumPy dtype
DTYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dt.newbyteorder("="): code for code, dt in DTYPE_CODES.items()}
_VALID_CODES = ", ".join(f"0x{c:02X} ({d.newbyteorder('=').name})" for c, d in DTYPE_CODES.items())
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """The array stored in the IDX file ``path`` (gzipped or raw), in native byte order.

    Args:
        path: the file; compression is detected from its first two bytes.
        ndim: if given, the number of dimensions the file must have
            (3 for ``(n, rows, cols)`` images, 1 for labels).

    Returns:
        A writable, C-contiguous array of the file's dtype and shape.

    Raises:
        DatasetError: the file is missing, empty, not gzip/IDX, or its header
            disagrees with its length; the message names the file.
    """
    return parse_idx(decompress(read_bytes(path), path), path, ndim)


def read_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of ``path``; a missing or unreadable file is a :class:`DatasetError`."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise file_error(path, "no such file") from None
    except IsADirectoryError:
        raise file_error(path, "is a directory, expected an IDX file") from None
    except OSError as exc:
        raise file_error(path, f"cannot be read ({exc.strerror or exc})") from None


def decompress(data: bytes, path: str | os.PathLike) -> bytes:
    """``data`` gunzipped if it starts with the gzip magic, else unchanged; ``path`` is for messages."""
    if not data:
        raise file_error(path, "file is empty (0 bytes)")
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except EOFError:
        raise file_error(path, "gzip stream is truncated (the file was cut off)") from None
    except (OSError, zlib.error) as exc:
        raise file_error(path, f"corrupted gzip data ({exc})") from None


def parse_idx(payload: bytes, path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """The array encoded by the uncompressed IDX bytes ``payload`` (see the module docstring)."""
    if not payload:
        raise file_error(path, "decompresses to 0 bytes (empty IDX payload)")
    if len(payload) < 4:
        raise file_error(path, f"truncated: {len(payload)} bytes, shorter than the 4-byte IDX magic")
    zero0, zero1, code, dims = payload[:4]
    magic = int.from_bytes(payload[:4], "big")
    if zero0 or zero1:
        raise file_error(path, f"bad magic number 0x{magic:08X}: an IDX file starts with 0x0000, not an IDX file")
    if code not in DTYPE_CODES:
        raise file_error(path, f"unknown IDX dtype code 0x{code:02X} (magic 0x{magic:08X}); "
                         f"valid codes: {_VALID_CODES}")
    if dims == 0:
        raise file_error(path, f"magic 0x{magic:08X} declares 0 dimensions; an IDX array has at least 1")
    header = 4 + 4 * dims
    if len(payload) < header:
        raise file_error(path, f"truncated header: {dims} dimensions need {header} bytes, file has {len(payload)}")
    shape = tuple(int(s) for s in np.frombuffer(payload, ">u4", dims, 4))
    dtype = DTYPE_CODES[code]
    if ndim is not None and dims != ndim:
        raise file_error(path, f"has {dims} dimension(s), shape {shape}, expected {ndim}")
    expected = dtype.itemsize * int(np.prod(shape, dtype=object))
    found = len(payload) - header
    if found < expected:
        raise file_error(
            path, f"truncated: header declares {dtype.newbyteorder('=').name} {shape} = {expected} data bytes, "
            f"file holds {found}")
    if found > expected:
        raise file_error(path, f"{found - expected} unexpected trailing bytes after the {shape} array")
    return np.frombuffer(payload, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray, gz: bool | None = None) -> Path:
    """Write ``array`` to ``path`` as IDX, gzipped when ``gz`` (default: name ends in ``.gz``).

    The file appears atomically (temporary file + rename), and gzip output
    carries no timestamp, so equal arrays give byte-identical files.

    Raises:
        DatasetError: the dtype has no IDX code, the array is 0-d, or a
            dimension does not fit in 32 bits.
    """
    path = Path(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODE_OF:
        raise DatasetError(f"write_idx({path}): dtype {array.dtype} has no IDX code; valid: {_VALID_CODES}")
    if not 1 <= array.ndim <= 255 or any(s >= 2**32 for s in array.shape):
        raise DatasetError(f"write_idx({path}): shape {array.shape} not storable; "
                           "IDX needs 1-255 dims, each < 2**32")
    code = _CODE_OF[native]
    body = (bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
            + np.ascontiguousarray(array, DTYPE_CODES[code]).tobytes())
    if path.name.endswith(".gz") if gz is None else gz:
        body = gzip.compress(body, mtime=0)
    _atomic_write(path, body)
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
