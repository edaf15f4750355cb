"""Downloading a named dataset into a directory, never leaving a half-file behind.

Each file is streamed into a hidden temporary file in the destination
directory (``.<name>.<random>.part``) under three limits:

* **a deadline** per file and mirror (:data:`DEADLINE_S`, or
  ``$FASTACT_DOWNLOAD_DEADLINE`` seconds): a timer shuts the connection
  down when it passes (:mod:`fastact.data.transport`), so a server that trickles bytes (or header lines)
  fails then, not never. ``timeout`` still bounds the name lookup, the connect
  and each read, so a silent server fails sooner.
* **a byte cap**: ``Content-Length`` when the server sends one (and it must
  not exceed the spec's :meth:`~fastact.data.registry.DatasetSpec.size_cap`),
  else that cap; a body that goes on past it is cut off there, so an endless
  response cannot fill the disk. Free disk space is checked against the cap.
* **streaming verification**: the SHA-256 is computed as the bytes arrive,
  and the IDX structure is then checked by streaming the file through
  :func:`~fastact.data.idx.scan_idx`; neither holds the file in memory.

Only a file that passes the byte count, the checksum (see
:mod:`fastact.data.checksums`) and the structure check is renamed to its real
name. Any failure at all (HTTP, network, deadline, size, checksum, structure,
memory) deletes the temporary file and moves on to the next mirror.

Stale temporary files: a process killed mid-transfer leaves its ``.part``
file. The next attempt at the same file removes every ``.<name>.*.part`` that
no live download holds: each download keeps an exclusive ``flock`` on its own
``.part`` for as long as it writes, and the lock dies with its process. So a
concurrent download of the same file in another process is never disturbed;
as a second guard, a file modified in the last :data:`STALE_AFTER_S` seconds is
left alone (this also covers the instant between creating a ``.part`` and
locking it, and filesystems without ``flock``).

Mirror base URLs come from, in order: the ``mirrors`` argument, the
``FASTACT_MIRRORS`` environment variable (comma- or space-separated), the spec.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import numbers
import os
import socket
import tempfile
import time
import urllib.error
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from fastact.data import checksums
from fastact.data.errors import DatasetError, DownloadError
from fastact.data.idx import scan_idx
from fastact.data.registry import DatasetSpec
from fastact.data.transport import Deadline, open_url, resolve_host
from fastact.fsio import file_mode
from fastact.resources import format_bytes

try:
    import fcntl
except ImportError:  # not on POSIX: stale files are told by age alone
    fcntl = None

ENV_MIRRORS = "FASTACT_MIRRORS"
ENV_DEADLINE = "FASTACT_DOWNLOAD_DEADLINE"
#: seconds allowed for the name lookup, the connect, and each read
TIMEOUT_S = 5.0
#: seconds allowed for one file from one mirror, start to finish (MNIST's largest file is
#: 9.9 MB: this allows a 0.3 Mbit/s link)
DEADLINE_S = 300.0
#: a ``.part`` file modified more recently than this is never treated as stale
STALE_AFTER_S = 60.0
_CHUNK = 1 << 16
_USER_AGENT = "fastact (+https://github.com/fastact)"


def mirrors_for(spec: DatasetSpec, mirrors: str | Iterable[str] | None = None) -> tuple[str, ...]:
    """Base URLs to try for ``spec``: ``mirrors`` if given, else ``$FASTACT_MIRRORS``, else the spec's."""
    if mirrors is None:
        mirrors = os.environ.get(ENV_MIRRORS) or spec.mirrors
    if isinstance(mirrors, str):
        mirrors = mirrors.replace(",", " ").split()
    return tuple(m if m.endswith("/") else m + "/" for m in mirrors)


def deadline_for(deadline: float | None = None) -> float:
    """Seconds per file and mirror: ``deadline`` if given, else ``$FASTACT_DOWNLOAD_DEADLINE``, else
    :data:`DEADLINE_S`; anything but a positive number is a :class:`DatasetError` naming the setting."""
    setting, value = "deadline", deadline
    if deadline is None:
        env = os.environ.get(ENV_DEADLINE, "").strip()
        if not env:
            return DEADLINE_S
        setting, value = f"${ENV_DEADLINE}", env
        try:
            value = float(env)
        except ValueError:
            pass
    return _positive(setting, value)


def download_dataset(spec: DatasetSpec, dest: str | os.PathLike, mirrors=None, timeout: float = TIMEOUT_S,
                     progress: bool = True, deadline: float | None = None) -> list[str]:
    """Fetch ``spec``'s files missing from ``dest`` (or not matching their digest); return the URLs used.

    ``deadline`` is per file and mirror (see :func:`deadline_for`).

    Raises:
        DownloadError: a file could not be fetched intact from any mirror; the
            message names the dataset, the file and each mirror's reason.
            Files already completed stay.
    """
    dest = Path(dest)
    timeout, deadline = _positive("timeout", timeout), deadline_for(deadline)
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
            return [fetch_file(spec, f, bases, dest, timeout, bar, deadline) for f in todo]
    except BaseException:
        with contextlib.suppress(OSError):
            dest.rmdir()  # only succeeds if the failed attempt left the directory empty
        raise


def fetch_file(spec: DatasetSpec, filename: str, bases: tuple[str, ...], dest: Path,
               timeout: float = TIMEOUT_S, bar=None, deadline: float | None = None) -> str:
    """Download ``filename`` from the first of ``bases`` that serves it intact; return that URL.

    Stale ``.part`` files of ``filename`` in ``dest`` are removed first.
    """
    deadline = deadline_for(deadline)
    remove_stale_parts(dest, filename)
    failures = []
    for base in bases:
        url = urllib.parse.urljoin(base, filename)
        try:
            _download_verified(spec, url, dest / filename, timeout, deadline, bar)
            return url
        except Exception as exc:  # noqa: BLE001 (any failure at all means: try the next mirror)
            failures.append(f"{urllib.parse.urlsplit(url).netloc}: {_reason(exc)}")
    raise DownloadError(f"could not download {spec.name}'s {filename} from any mirror: " + "; ".join(failures),
                        failures)


def remove_stale_parts(dest: str | os.PathLike, filename: str, now: float | None = None) -> list[Path]:
    """Delete the ``.<filename>.*.part`` files in ``dest`` that no live download holds; return them.

    Stale means: not locked by another process (``flock``) and not modified in
    the last :data:`STALE_AFTER_S` seconds (module docstring).
    """
    now = time.time() if now is None else now
    removed = []
    for part in Path(dest).glob(f".{filename}.*.part"):
        try:
            with open(part, "rb") as handle:
                if now - os.fstat(handle.fileno()).st_mtime < STALE_AFTER_S or not _try_lock(handle):
                    continue
                part.unlink()
                removed.append(part)
        except OSError:
            continue  # gone already, or not ours to remove: either way not in the way
    return removed


def _try_lock(handle) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _already_there(spec: DatasetSpec, path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        digest = checksums.sha256_file(path)
    except OSError:
        return False
    return checksums.status(spec, path.name, digest) == checksums.OK


def _download_verified(spec: DatasetSpec, url: str, target: Path, timeout: float, deadline: float, bar) -> None:
    start = time.monotonic()
    resolve_host(url, min(timeout, deadline))
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    # Held (with the lock) until the file is renamed or deleted: the lock is what tells
    # remove_stale_parts in another process that this file is live.
    out = os.fdopen(fd, "wb")
    try:
        if fcntl is not None:
            with contextlib.suppress(OSError):  # no flock (some network filesystems): the age guard remains
                fcntl.flock(fd, fcntl.LOCK_EX)
        with Deadline(deadline, start) as timer:
            received, total, digest = _transfer(url, out, spec.size_cap(target.name), target, timeout, timer, bar)
        out.flush()
        os.fsync(out.fileno())
        if total is not None and received != total:
            raise DatasetError(f"transfer cut off after {received} of {total} bytes")
        _verify(spec, tmp, target.name, digest)
        os.chmod(tmp, file_mode())  # mkstemp's 0600 would outlive the rename
        os.replace(tmp, target)
    finally:
        out.close()
        if os.path.exists(tmp):
            os.unlink(tmp)


def _transfer(url: str, out, cap: int, target: Path, timeout: float, timer: Deadline,
              bar) -> tuple[int, int | None, str]:
    """Stream ``url`` into ``out`` within the cap and deadline: ``(bytes received, Content-Length, sha256)``."""
    received, total = 0, None
    try:
        with open_url(url, timeout, timer, _USER_AGENT) as response:
            total = _announced_length(response, cap, target.name)
            limit = total if total is not None else cap
            _check_disk(target.parent, limit)
            digest = hashlib.sha256()
            task = bar.add_task(target.name, total=total) if bar is not None else None
            while chunk := response.read(min(_CHUNK, limit + 1 - received)):
                received += len(chunk)
                if received > limit:
                    raise DatasetError(f"the server sent more than the {format_bytes(cap)} {target.name} can be "
                                       f"(stopped at {format_bytes(limit)})")
                digest.update(chunk)
                out.write(chunk)
                if bar is not None:
                    bar.update(task, completed=received)
                _check_deadline(timer, received, total)
        _check_deadline(timer, received, total)
    except Exception:
        # A socket shut down at the deadline surfaces as any error: name the cause.
        _check_deadline(timer, received, total)
        raise
    return received, total, digest.hexdigest()


def _announced_length(response, cap: int, filename: str) -> int | None:
    length = response.headers.get("Content-Length")
    total = int(length) if length and length.strip().isdigit() else None
    if total is not None and total > cap:
        raise DatasetError(f"the server announces {format_bytes(total)} ({total} bytes), more than the "
                           f"{format_bytes(cap)} {filename} can be")
    return total


def _check_disk(directory: Path, n_bytes: int) -> None:
    try:
        st = os.statvfs(directory)
    except (OSError, AttributeError):
        return
    free = st.f_bavail * st.f_frsize
    if free < n_bytes:
        raise DatasetError(f"not enough free space in {directory}: the file may need {format_bytes(n_bytes)}, "
                           f"{format_bytes(free)} free")


def _verify(spec: DatasetSpec, tmp: str, filename: str, file_digest: str) -> None:
    """Checksum first (when known), then IDX structure, which is all an unverified file gets."""
    ndim = 3 if "images" in filename else 1
    if checksums.status(spec, filename, file_digest) == checksums.MISMATCH:
        try:  # the same data compressed differently also verifies, via the payload digest
            payload_ok = checksums.status(spec, filename, scan_idx(tmp, ndim, filename)[2])
        except DatasetError:
            payload_ok = checksums.MISMATCH
        if payload_ok != checksums.OK:
            raise DatasetError(f"checksum mismatch: sha256 {file_digest}, expected {spec.sha256.get(filename)}")
        return
    scan_idx(tmp, ndim, filename)


def _check_deadline(timer: Deadline, received: int, total: int | None) -> None:
    if timer.expired.is_set():
        of = f" of {total}" if total is not None else ""
        raise DatasetError(f"did not finish within the {timer.seconds:g} s deadline ({received}{of} bytes "
                           f"received); on a slow link allow more with {ENV_DEADLINE}=SECONDS")


def _positive(setting: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < float("inf"):
        raise DatasetError(f"{setting} must be a positive number of seconds; received: {setting}={value!r}")
    return float(value)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return getattr(exc.reason, "strerror", None) or str(exc.reason)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(exc, (OSError, http.client.HTTPException, DatasetError)):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _progress(enabled: bool):
    if not enabled:
        return contextlib.nullcontext()
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                    transient=False)
