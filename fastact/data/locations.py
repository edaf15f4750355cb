"""Where datasets live on disk, and which files in a directory make one.

Directories searched for a named dataset ``<name>``, in order (an explicit
``data_dir`` comes before all of them, see :mod:`fastact.data.resolve`):

1. ``$FASTACT_DATA_DIR/<name>``
2. the user cache, ``$XDG_CACHE_HOME/fastact/<name>`` (default
   ``~/.cache/fastact/<name>``), which is also where downloads go
3. the system directory ``/usr/share/datasets/<name>``, where Debian's
   ``dataset-fashion-mnist`` installs; override it with
   ``$FASTACT_SYSTEM_DATA_DIR`` or by setting :data:`SYSTEM_DATA_DIR`.

A directory holds a dataset when each of the four standard files
(:data:`~fastact.data.registry.FILE_ROLES`) is present gzipped or raw.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastact.data.registry import FILE_ROLES

ENV_DATA_DIR = "FASTACT_DATA_DIR"
ENV_SYSTEM_DIR = "FASTACT_SYSTEM_DATA_DIR"
ENV_OFFLINE = "FASTACT_OFFLINE"
#: the system-wide dataset root; tests and packagers may reassign it
SYSTEM_DATA_DIR = Path("/usr/share/datasets")


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/fastact``, or ``~/.cache/fastact`` when that is unset or relative."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "fastact"


def system_root() -> Path:
    """``$FASTACT_SYSTEM_DATA_DIR`` if set, else :data:`SYSTEM_DATA_DIR`."""
    return Path(os.environ.get(ENV_SYSTEM_DIR) or SYSTEM_DATA_DIR)


def search_dirs(name: str) -> list[tuple[str, Path]]:
    """``(label, directory)`` pairs to look in for dataset ``name``, in lookup order."""
    dirs = []
    if os.environ.get(ENV_DATA_DIR):
        dirs.append((f"${ENV_DATA_DIR}", Path(os.environ[ENV_DATA_DIR]) / name))
    dirs.append(("user cache", cache_root() / name))
    dirs.append(("system datasets", system_root() / name))
    return dirs


def offline() -> bool:
    """True when ``$FASTACT_OFFLINE`` is set to anything but ``""``, ``0``, ``false`` or ``no``."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")


def dataset_files(directory: str | os.PathLike) -> dict[str, Path] | None:
    """Role -> path of the four standard files in ``directory`` (``.gz`` preferred), or None if any is absent."""
    found = {}
    for role, gz in FILE_ROLES.items():
        for candidate in (Path(directory) / gz, Path(directory) / gz[: -len(".gz")]):
            if candidate.is_file():
                found[role] = candidate
                break
        else:
            return None
    return found


def missing_files(directory: str | os.PathLike) -> list[str]:
    """Standard file names absent from ``directory`` in both their ``.gz`` and raw forms."""
    d = Path(directory)
    return [gz for gz in FILE_ROLES.values() if not (d / gz).is_file() and not (d / gz[:-3]).is_file()]
