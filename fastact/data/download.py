"""Downloading a named dataset into a directory, never leaving a half-file behind.

Each file is streamed into a hidden temporary file in the destination
directory (``.<name>.<random>.part``), then checked: the byte count against
``Content-Length``, the SHA-256 against the spec (see
:mod:`fastact.data.checksums`) and the IDX structure (see
:func:`~fastact.data.idx.parse_idx`). Only a file that passes all three is
renamed to its real name; anything else is deleted and the next mirror is
tried. A process killed mid-transfer can leave a ``.part`` file, which no
lookup ever reads.

Mirror base URLs come from, in order: the ``mirrors`` argument, the
``FASTACT_MIRRORS`` environment variable (comma- or space-separated), the spec.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import socket
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterable

from fastact.data import checksums
from fastact.data.errors import DatasetError, DownloadError
from fastact.data.idx import decompress, parse_idx, read_bytes
from fastact.data.registry import DatasetSpec

ENV_MIRRORS = "FASTACT_MIRRORS"
#: seconds allowed for the name lookup, the connect, and each read
TIMEOUT_S = 5.0
_CHUNK = 1 << 16
_USER_AGENT = "fastact (+https://github.com/fastact)"


def mirrors_for(spec: DatasetSpec, mirrors: str | Iterable[str] | None = None) -> tuple[str, ...]:
    """Base URLs to try for ``spec``: ``mirrors`` if given, else ``$FASTACT_MIRRORS``, else the spec's."""
    if mirrors is None:
        mirrors = os.environ.get(ENV_MIRRORS) or spec.mirrors
    if isinstance(mirrors, str):
        mirrors = mirrors.replace(",", " ").split()
    return tuple(m if m.endswith("/") else m + "/" for m in mirrors)


def download_dataset(spec: DatasetSpec, dest: str | os.PathLike, mirrors=None,
                     timeout: float = TIMEOUT_S, progress: bool = True) -> list[str]:
    """Fetch ``spec``'s files missing from ``dest`` (or not matching their digest); return the URLs used.

    Raises:
        DownloadError: a file could not be fetched intact from any mirror; the
            message lists each mirror's reason. Files already completed stay.
    """
    dest = Path(dest)
    bases = mirrors_for(spec, mirrors)
    if not bases:
        raise DatasetError(f"no mirrors to download {spec.name} from (mirrors={mirrors!r}, ${ENV_MIRRORS})")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create download directory {dest}: {exc.strerror or exc}") from None
    todo = [f for f in spec.files.values() if not _already_there(spec, dest / f)]
    try:
        with _progress(progress) as bar:
            return [fetch_file(spec, f, bases, dest, timeout, bar) for f in todo]
    except BaseException:
        with contextlib.suppress(OSError):
            dest.rmdir()  # only succeeds if the failed attempt left the directory empty
        raise


def fetch_file(spec: DatasetSpec, filename: str, bases: tuple[str, ...], dest: Path,
               timeout: float = TIMEOUT_S, bar=None) -> str:
    """Download ``filename`` from the first of ``bases`` that serves it intact; return that URL."""
    failures = []
    for base in bases:
        url = urllib.parse.urljoin(base, filename)
        try:
            _download_verified(spec, url, dest / filename, timeout, bar)
            return url
        except (OSError, http.client.HTTPException, DatasetError) as exc:
            failures.append(f"{urllib.parse.urlsplit(url).netloc}: {_reason(exc)}")
    raise DownloadError(f"could not download {filename} from any mirror: " + "; ".join(failures), failures)


def _already_there(spec: DatasetSpec, path: Path) -> bool:
    if not path.is_file():
        return False
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return checksums.status(spec, path.name, digest) == checksums.OK


def _download_verified(spec: DatasetSpec, url: str, target: Path, timeout: float, bar) -> None:
    _resolve_host(url, timeout)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            task = bar.add_task(target.name, total=total) if bar is not None else None
            received = 0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(task, completed=received)
            out.flush()
            os.fsync(out.fileno())
        if total is not None and received != total:
            raise DatasetError(f"transfer cut off after {received} of {total} bytes")
        _verify(spec, tmp, target.name)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _verify(spec: DatasetSpec, tmp: str, filename: str) -> None:
    """Checksum first (when known), then IDX structure, which is all an unverified file gets."""
    data = read_bytes(tmp)
    got = checksums.sha256_hex(data)
    if checksums.status(spec, filename, got) == checksums.MISMATCH:
        try:  # the same data compressed differently also verifies, via the payload digest
            payload_ok = checksums.status(spec, filename, checksums.sha256_hex(decompress(data, filename)))
        except DatasetError:
            payload_ok = checksums.MISMATCH
        if payload_ok != checksums.OK:
            raise DatasetError(f"checksum mismatch: sha256 {got}, expected {spec.sha256.get(filename)}")
    parse_idx(decompress(data, filename), filename, 3 if "images" in filename else 1)


def _resolve_host(url: str, timeout: float) -> None:
    """Look the host up in a daemon thread, because ``urlopen``'s timeout does not cover DNS."""
    parts = urllib.parse.urlsplit(url)
    outcome: list = []

    def lookup():
        try:
            outcome.append(socket.getaddrinfo(parts.hostname, parts.port or 80))
        except OSError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise DatasetError(f"name lookup of {parts.hostname} took longer than {timeout:g} s")
    if isinstance(outcome[0], OSError):
        raise urllib.error.URLError(outcome[0])


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return getattr(exc.reason, "strerror", None) or str(exc.reason)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    return str(exc) or type(exc).__name__


def _progress(enabled: bool):
    if not enabled:
        return contextlib.nullcontext()
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                               TimeRemainingColumn, TransferSpeedColumn)

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                    transient=False)
