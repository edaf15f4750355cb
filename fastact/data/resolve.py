"""Choosing the directory to load from, and saying why, before any array is read.

Rules, first match wins:

* ``data_dir`` given: it is authoritative. Its own four files are used, else
  its ``<name>`` subdirectory (for ``"auto"``: ``mnist``, then the
  fallbacks); if neither exists it is an error, never a silent fall-through.
* a named dataset: the first of :func:`~fastact.data.locations.search_dirs`
  holding it, else a download into the user cache (unless disabled).
* ``"auto"``: MNIST as above; if MNIST is neither on disk nor downloadable, the
  first fallback (:data:`~fastact.data.registry.AUTO_FALLBACKS`) on disk.

Downloading is disabled by ``download=False`` or ``$FASTACT_OFFLINE=1``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fastact.data import locations
from fastact.data.download import TIMEOUT_S, download_dataset
from fastact.data.errors import DatasetError, DownloadError
from fastact.data.registry import AUTO_FALLBACKS, FILE_ROLES, get_spec

_HOW_TO_GET_DATA = (
    "get data one of three ways: (1) allow network access so MNIST downloads into {cache} "
    "(and leave {offline} unset); (2) pass --data-dir DIR (data_dir=DIR) naming a directory with "
    + ", ".join(FILE_ROLES.values()) + " (gzipped or not); "
    "(3) sudo apt-get install dataset-fashion-mnist")


@dataclass(frozen=True)
class Resolution:
    """Where to read from. ``name`` is None when only checksums can tell (auto on an explicit dir)."""

    name: str | None
    directory: Path
    files: dict[str, Path]
    reason: str


def resolve(name: str = "auto", data_dir=None, download: bool = True, mirrors=None,
            progress: bool = True, timeout: float = TIMEOUT_S) -> Resolution:
    """The :class:`Resolution` for the arguments of :func:`~fastact.data.loader.load_dataset`."""
    if name != "auto":
        get_spec(name)
    if data_dir is not None:
        return _explicit(name, Path(data_dir))
    allowed, why_not = _download_allowed(download)
    primary = "mnist" if name == "auto" else name
    found = _on_disk(primary)
    if found:
        return found
    failure = why_not
    if allowed:
        try:
            return _download(primary, mirrors, progress, timeout)
        except DownloadError as exc:
            failure = f"download failed: {'; '.join(exc.failures)}"
        except DatasetError as exc:
            failure = f"download failed: {exc}"
    if name == "auto":
        for fallback in AUTO_FALLBACKS:
            found = _on_disk(fallback)
            if found:
                return Resolution(fallback, found.directory, found.files, f"MNIST not on disk, {failure}")
    looked = ", ".join(str(d) for _, d in locations.search_dirs(primary))
    hint = _HOW_TO_GET_DATA.format(cache=locations.cache_root() / "mnist", offline=locations.ENV_OFFLINE)
    if name == "auto":
        raise DatasetError(f"no MNIST-format dataset available: MNIST is not in {looked} and {failure}; "
                           f"no installed {' or '.join(AUTO_FALLBACKS)} either. To fix, {hint}")
    raise DatasetError(f"{name} is not on disk (looked in {looked}) and {failure}. To fix, {hint}")


def _explicit(name: str, base: Path) -> Resolution:
    if not base.is_dir():
        raise DatasetError(f"data_dir={str(base)!r} is not a directory")
    files = locations.dataset_files(base)
    if files:
        return Resolution(None if name == "auto" else name, base, files, "given as data_dir")
    for sub in ("mnist", *AUTO_FALLBACKS) if name == "auto" else (name,):
        files = locations.dataset_files(base / sub)
        if files:
            return Resolution(sub, base / sub, files, "subdirectory of the given data_dir")
    raise DatasetError(
        f"data_dir={str(base)!r} holds no dataset: missing {', '.join(locations.missing_files(base))} "
        f"(gzipped or raw), and no {'mnist/ or ' + '/ or '.join(AUTO_FALLBACKS) if name == 'auto' else name}"
        "/ subdirectory has them either")


def _on_disk(name: str) -> Resolution | None:
    for label, directory in locations.search_dirs(name):
        files = locations.dataset_files(directory)
        if files:
            return Resolution(name, directory, files, f"found in {label}")
    return None


def _download(name: str, mirrors, progress: bool, timeout: float) -> Resolution:
    spec = get_spec(name)
    target = locations.cache_root() / name
    urls = download_dataset(spec, target, mirrors=mirrors, timeout=timeout, progress=progress)
    files = locations.dataset_files(target)
    if not files:
        raise DatasetError(f"download into {target} finished but files are missing: "
                           f"{', '.join(locations.missing_files(target))}")
    source = os.path.dirname(urls[0]) + "/" if urls else "an earlier download"
    return Resolution(name, target, files, f"downloaded from {source}")


def _download_allowed(download: bool) -> tuple[bool, str]:
    if not download:
        return False, "download is disabled (download=False)"
    if locations.offline():
        return False, f"download is disabled (${locations.ENV_OFFLINE}={os.environ[locations.ENV_OFFLINE]})"
    return True, ""
