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

The header is read first and its claim checked before anything else is
allocated or decompressed: against the file (a raw file's exact length; for
gzip, deflate's 1032:1 bound on what the compressed size can expand to), then
against the memory budget (:mod:`fastact.resources`; refusal is a
:class:`~fastact.data.errors.DatasetMemoryError`). The array is then filled in
place, chunk by chunk, from :class:`~fastact.data.stream.PayloadStream`, and
decompression stops one byte past the declared size, so a gzip bomb costs
what its header declares and not what it expands to. :func:`load_idx` also
returns the file's and the payload's SHA-256 from the same pass;
:func:`scan_idx` runs every check without building the array (download
verification).

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fastact.data.errors import DatasetError, DatasetMemoryError, file_error
from fastact.data.stream import CHUNK, GZIP_MAX_RATIO, PayloadStream
from fastact.fsio import file_mode
from fastact.resources import array_bytes, check_allocation, format_bytes, out_of_memory

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
        DatasetMemoryError: the array the header declares does not fit in the
            memory budget (:mod:`fastact.resources`).
    """
    return load_idx(path, ndim).array


@dataclass(frozen=True)
class IdxHeader:
    """What an IDX header declares: item dtype (big-endian), shape, and the header's length in bytes."""

    dtype: np.dtype
    shape: tuple[int, ...]
    size: int

    @property
    def nbytes(self) -> int:
        """Bytes of array data that must follow the header (exact, no overflow)."""
        return array_bytes(self.shape, self.dtype.itemsize)

    def describe(self) -> str:
        """``"uint8 (60000, 28, 28)"``."""
        return f"{self.dtype.newbyteorder('=').name} {self.shape}"


@dataclass(frozen=True)
class IdxData:
    """A decoded IDX file: its array (native byte order) and the SHA-256 of the file and of its payload."""

    array: np.ndarray
    file_sha256: str
    payload_sha256: str


def load_idx(path: str | os.PathLike, ndim: int | None = None) -> IdxData:
    """Decode ``path`` as :func:`read_idx` does, and hash the file and its payload in the same pass.

    Order of checks, each before anything is allocated or decompressed past
    the header: the header itself; the declared size against what the file
    can hold (its length if raw, its deflate bound if gzip); the declared size
    against the memory budget. The array is then filled straight from the
    file (raw) or chunk by chunk from the decompressor, which is asked for at
    most one byte more than the header declares, to detect trailing data.
    """
    with PayloadStream(path) as stream:
        header = _read_header(stream, ndim)
        _check_size_against_file(stream, header)
        check_allocation(f"the {header.describe()} array its header declares", header.nbytes, setting=str(path),
                         error=DatasetMemoryError)
        try:
            raw = np.empty(header.nbytes, np.uint8)
        except MemoryError:
            raise out_of_memory(f"the {header.describe()} array", header.nbytes, str(path),
                                error=DatasetMemoryError) from None
        got = stream.readinto(memoryview(raw))
        _check_end(stream, header, got)
        file_sha, payload_sha = stream.digests()
    array = raw.view(header.dtype).reshape(header.shape)
    if header.dtype.byteorder == ">" and header.dtype.itemsize > 1:
        array = array.byteswap(inplace=True).view(header.dtype.newbyteorder("="))
    else:
        array = array.view(header.dtype.newbyteorder("="))
    return IdxData(array, file_sha, payload_sha)


def scan_idx(path: str | os.PathLike, ndim: int | None = None,
             name: str | None = None) -> tuple[IdxHeader, str, str]:
    """Check ``path`` is a well-formed IDX file without building its array: ``(header, file sha, payload sha)``.

    Streams the whole payload through the same checks as :func:`load_idx`
    (header, size, gzip integrity, trailing data) holding one chunk at a time,
    so it verifies a download of any size in constant memory. Errors name the
    file ``name`` if given (a temporary file's real name), else ``path``.
    """
    with PayloadStream(path, name) as stream:
        header = _read_header(stream, ndim)
        _check_size_against_file(stream, header)
        got = 0
        while got < header.nbytes and (piece := stream.read(min(CHUNK, header.nbytes - got))):
            got += len(piece)
        _check_end(stream, header, got)
        return (header, *stream.digests())


def _read_header(stream: PayloadStream, ndim: int | None) -> IdxHeader:
    path = stream.path
    head = stream.read(4)
    if not head:
        raise file_error(path, "decompresses to 0 bytes (empty IDX payload)")
    if len(head) < 4:
        raise file_error(path, f"truncated: {len(head)} bytes, shorter than the 4-byte IDX magic")
    zero0, zero1, code, dims = head
    magic = int.from_bytes(head, "big")
    if zero0 or zero1:
        raise file_error(path, f"bad magic number 0x{magic:08X}: an IDX file starts with 0x0000, not an IDX file")
    if code not in DTYPE_CODES:
        raise file_error(path, f"unknown IDX dtype code 0x{code:02X} (magic 0x{magic:08X}); "
                         f"valid codes: {_VALID_CODES}")
    if dims == 0:
        raise file_error(path, f"magic 0x{magic:08X} declares 0 dimensions; an IDX array has at least 1")
    sizes = stream.read(4 * dims)
    if len(sizes) < 4 * dims:
        raise file_error(path, f"truncated header: {dims} dimensions need {4 + 4 * dims} bytes, "
                         f"file has {4 + len(sizes)}")
    shape = tuple(int.from_bytes(sizes[i:i + 4], "big") for i in range(0, 4 * dims, 4))
    if ndim is not None and dims != ndim:
        raise file_error(path, f"has {dims} dimension(s), shape {shape}, expected {ndim}")
    return IdxHeader(DTYPE_CODES[code], shape, 4 + 4 * dims)


def _check_size_against_file(stream: PayloadStream, header: IdxHeader) -> None:
    """Refuse a header that declares more data than the file can hold, before reading any of it."""
    expected, path = header.nbytes, stream.path
    if not stream.compressed:
        found = stream.file_size - header.size
        if found < expected:
            raise file_error(path, f"truncated: header declares {header.describe()} = {expected} data bytes, "
                             f"file holds {found}")
        if found > expected:
            raise file_error(path, f"{found - expected} unexpected trailing bytes after the {header.shape} array")
    elif header.size + expected > stream.max_payload():
        raise file_error(path, f"header declares {header.describe()} = {format_bytes(expected)} of data, but a "
                         f"{stream.file_size}-byte gzip file can hold at most {format_bytes(stream.max_payload())} "
                         f"(deflate expands at most {GZIP_MAX_RATIO}:1): the header is corrupt or the file was "
                         "cut off")


def _check_end(stream: PayloadStream, header: IdxHeader, got: int) -> None:
    """After reading ``got`` data bytes: the payload held exactly the declared amount, and nothing more."""
    if got < header.nbytes:
        raise file_error(stream.path, f"truncated: header declares {header.describe()} = {header.nbytes} "
                         f"data bytes, file holds {got}")
    # One more byte, not the rest: a stream that decompresses past the declared size stops here.
    if stream.read(1):
        raise file_error(stream.path, f"unexpected trailing bytes after the {header.shape} array: the payload "
                         f"is longer than the {header.size + header.nbytes} bytes its header declares")


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
        os.chmod(tmp, file_mode())  # mkstemp's 0600 would outlive the rename
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
