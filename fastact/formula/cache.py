"""Generated formula modules on disk, named by the hash of their text.

``$XDG_CACHE_HOME/fastact/formulas/f_<hash>.py`` (``~/.cache/...`` without
XDG_CACHE_HOME; ``FASTACT_FORMULA_CACHE`` overrides the directory). Writing a
real file, rather than executing a string, lets Numba's disk cache work for
the functions in it, and the hash in the name means an edited formula can
never reuse code compiled from another text (kernels specialised on a formula
should carry `kernel_tag` in their names for the same reason).

A file already present with the same text is left untouched (its mtime is
what Numba's cache checks); one with different text is replaced atomically.
The module is imported only after its bytes were checked to equal the source
generated in this process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType


def source_hash(source: str) -> str:
    """sha256 of the generated text, hex."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def default_dir() -> Path:
    override = os.environ.get("FASTACT_FORMULA_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fastact" / "formulas"


def _write(path: Path, source: str) -> None:
    data = source.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Another process may write the same file at the same time: write aside, then rename over.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(source: str, directory: Path | None = None) -> tuple[ModuleType, Path, str]:
    """(module, its path, hash) for generated ``source``, written under ``directory`` if needed."""
    digest = source_hash(source)
    directory = Path(directory) if directory is not None else default_dir()
    path = directory / f"f_{digest[:32]}.py"
    modname = f"fastact_formula_{digest[:32]}"
    if modname in sys.modules:
        return sys.modules[modname], path, digest
    _write(path, source)
    if path.read_bytes() != source.encode("utf-8"):
        raise OSError(f"formula cache file {path} changed while loading it")
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[modname] = module
    return module, path, digest
