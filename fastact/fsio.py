"""Writing files: all or nothing, with normal permissions, and failures worded as one line.

`atomic_write` writes into a temporary file beside the target, flushes it to disk and renames
it over the target, so a reader sees the old file or the new one, never half of either; when
anything fails (a full disk, a quota, a read-only file system, Ctrl-C) the temporary file is
removed and the error re-raised. The file gets the mode a plain ``open(path, "w")`` would
give it, ``0o666`` less the process's umask (`file_mode`; ``tempfile.mkstemp`` alone creates
``0o600`` files, which other users and tools then cannot read).

`writable_dir_problem` says, *without leaving anything behind*, why a directory could not
hold new files (a file in the way, no permission, a read-only file system), so commands can
refuse a bad output path before any work starts. `describe` words an `OSError` as
``<path>: <reason>``.

This module imports nothing from fastact: every layer may use it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import threading
from pathlib import Path
from typing import Callable

_umask_lock = threading.Lock()


def file_mode() -> int:
    """``0o666 & ~umask``: the mode ``open(path, "w")`` gives a new file."""
    try:
        with open("/proc/self/status") as f:  # Linux >= 4.7: read the umask without changing it
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:  # elsewhere the only way to read it is to set it (briefly, under a lock)
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def describe(exc: OSError) -> str:
    """``/runs/x/summary.json: No space left on device``: the path and the reason, one line."""
    reason = exc.strerror or (errno.errorcode.get(exc.errno, "") if exc.errno else "") or str(exc) or type(exc).__name__
    where = exc.filename if exc.filename is not None else None
    return f"{where}: {reason}" if where is not None else reason


def atomic_write(path, write: Callable, *, binary: bool = False, tmp=None) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, then atomically put it at ``path``.

    Args:
        path: the target file.
        write: fills the open file (text, or bytes with ``binary``).
        tmp: the temporary file's path (default: a fresh ``.<name>.XXXX.tmp`` beside ``path``).

    Raises:
        OSError: the write, flush or rename failed; the temporary file is gone, ``path`` untouched.
    """
    path = Path(path)
    if tmp is None:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        handle = os.fdopen(fd, "wb" if binary else "w")
        tmp = Path(name)
    else:
        tmp = Path(tmp)
        handle = open(tmp, "wb" if binary else "w")
    try:
        with handle as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def writable_dir_problem(path) -> str | None:
    """Why new files could not be created under directory ``path`` (created if missing), or None.

    The nearest existing ancestor is probed by creating and removing a temporary file, so a
    read-only file system or a missing permission is found even for root (``os.access`` ignores
    both for root); nothing is created or left behind.
    """
    p = Path(path)
    probe = p
    while not probe.exists() and probe.parent != probe:
        if probe.is_symlink():
            return f"{probe} is a broken symbolic link"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is a file, not a directory"
    try:
        fd, name = tempfile.mkstemp(dir=probe, prefix=".fastact-probe-")
    except OSError as exc:
        return f"{probe} is not writable ({exc.strerror or exc})"
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None
