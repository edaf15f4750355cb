"""Reading a file's payload in bounded pieces, gunzipping on the fly, hashing as it goes.

:class:`PayloadStream` hands out the *uncompressed* bytes of a file a piece at
a time: the file itself when it is raw, its decompressed content when it starts
with the gzip magic (``1f 8b``; multi-member files as ``gzip`` writes them are
one payload). It never holds more than one read chunk of compressed input and
never decompresses more than the caller asked for, so a small file that expands
to gigabytes costs only what the caller reads of it. The SHA-256 of the file
and of the payload are computed along the way (:meth:`PayloadStream.digests`).

Deflate cannot expand data by more than :data:`GZIP_MAX_RATIO` to 1 (zlib's
documented limit: a 258-byte match in 2 bits), so
``compressed_size * GZIP_MAX_RATIO`` bounds any payload a gzip file can hold;
:func:`~fastact.data.idx.read_idx` uses it to refuse a header that claims more
before decompressing anything.

Every problem is a :class:`~fastact.data.errors.DatasetError` naming the file.
"""

from __future__ import annotations

import hashlib
import os
import zlib

from fastact.data.errors import file_error

GZIP_MAGIC = b"\x1f\x8b"
#: deflate's maximum expansion factor (zlib "technical details": 1032:1)
GZIP_MAX_RATIO = 1032
#: bytes of compressed input read at a time (and of output produced at a time)
CHUNK = 1 << 20
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class PayloadStream:
    """The uncompressed bytes of ``path``, read in pieces; use as a context manager.

    Attributes:
        path: how errors name the file: ``name`` if given (say, the real name of a
            temporary file), else the path.
        compressed: the file is gzip.
        file_size: the size of the file on disk, in bytes.
    """

    def __init__(self, path: str | os.PathLike, name: str | None = None):
        self.path = name or path
        try:
            self._file = open(path, "rb")  # noqa: SIM115 (closed by close()/__exit__)
        except FileNotFoundError:
            raise file_error(self.path, "no such file") from None
        except IsADirectoryError:
            raise file_error(self.path, "is a directory, expected an IDX file") from None
        except OSError as exc:
            raise file_error(self.path, f"cannot be read ({exc.strerror or exc})") from None
        try:
            self.file_size = os.fstat(self._file.fileno()).st_size
            self._file_hash, self._payload_hash = hashlib.sha256(), hashlib.sha256()
            self._pending = self._read_file(len(GZIP_MAGIC))
            if not self._pending:
                raise file_error(self.path, "file is empty (0 bytes)")
            self.compressed = self._pending.startswith(GZIP_MAGIC)
            self._inflate = zlib.decompressobj(_GZIP_WBITS) if self.compressed else None
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> PayloadStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def max_payload(self) -> int:
        """An upper bound on the payload size: the file size, or its deflate bound if gzip."""
        return self.file_size * GZIP_MAX_RATIO if self.compressed else self.file_size

    def read(self, n: int) -> bytes:
        """Up to ``n`` payload bytes; fewer only at the end of the payload."""
        pieces, want = [], n
        while want > 0:
            piece = self._next(min(want, CHUNK))
            if not piece:
                break
            pieces.append(piece)
            want -= len(piece)
        out = b"".join(pieces)
        self._payload_hash.update(out)
        return out

    def readinto(self, view: memoryview) -> int:
        """Fill ``view`` (bytes) with payload; return the count, short only at the end of the payload."""
        done = 0
        while done < len(view):
            if self._inflate is None and not self._pending:
                got = self._file.readinto(view[done:])
                if not got:
                    break
                self._file_hash.update(view[done:done + got])
            else:
                piece = self._next(min(len(view) - done, CHUNK))
                if not piece:
                    break
                got = len(piece)
                view[done:done + got] = piece
            self._payload_hash.update(view[done:done + got])
            done += got
        return done

    def drain(self) -> int:
        """Read to the end (hashing), keeping nothing; return how many payload bytes there were."""
        total = 0
        while piece := self.read(CHUNK):
            total += len(piece)
        return total

    def digests(self) -> tuple[str, str]:
        """``(file sha256, payload sha256)`` of everything read so far (the whole file after a full read)."""
        return self._file_hash.hexdigest(), self._payload_hash.hexdigest()

    # -- internals -------------------------------------------------------------------------------

    def _read_file(self, n: int) -> bytes:
        try:
            data = self._file.read(n)
        except OSError as exc:
            raise file_error(self.path, f"cannot be read ({exc.strerror or exc})") from None
        self._file_hash.update(data)
        return data

    def _next(self, n: int) -> bytes:
        """At most ``n`` (> 0) new payload bytes, b"" at the end; not yet payload-hashed."""
        if self._inflate is None:
            if self._pending:
                out, self._pending = self._pending[:n], self._pending[n:]
                return out
            return self._read_file(n)
        while True:
            if self._inflate.eof:
                # A gzip member ended: what follows is either nothing or the next member.
                rest = self._inflate.unused_data or self._pending or self._read_file(CHUNK)
                if not rest:
                    return b""
                if not rest.startswith(GZIP_MAGIC[: len(rest)]):
                    raise file_error(self.path, "corrupted gzip data (trailing garbage after the gzip stream)")
                self._inflate, self._pending = zlib.decompressobj(_GZIP_WBITS), rest
            if not self._pending:
                self._pending = self._read_file(CHUNK)
                if not self._pending:
                    raise file_error(self.path, "gzip stream is truncated (the file was cut off)")
            try:
                out = self._inflate.decompress(self._pending, n)
            except zlib.error as exc:
                raise file_error(self.path, f"corrupted gzip data ({exc})") from None
            self._pending = self._inflate.unconsumed_tail
            if out:
                return out
