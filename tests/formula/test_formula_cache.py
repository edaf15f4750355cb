"""Generated modules on disk: named by hash, written once, replaced if they differ, imported once."""

from __future__ import annotations

import sys

import pytest

from fastact.formula import cache

from formula_cases import formula_cache  # noqa: F401  (autouse fixture)

SOURCE = "import numpy as np\n\n\ndef forward(z, alpha, c, u):\n    return z\n"


def test_default_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("FASTACT_FORMULA_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.default_dir() == tmp_path / "fastact" / "formulas"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.default_dir() == tmp_path / "home" / ".cache" / "fastact" / "formulas"
    monkeypatch.setenv("FASTACT_FORMULA_CACHE", str(tmp_path / "x"))
    assert cache.default_dir() == tmp_path / "x"


def test_written_once_then_reused(tmp_path):
    source = SOURCE + "# written_once\n"
    module, path, digest = cache.load(source, tmp_path)
    assert path == tmp_path / f"f_{digest[:32]}.py" and path.read_text() == source
    assert digest == cache.source_hash(source) and len(digest) == 64
    assert module.forward(2.0, 0.0, (0.0,), 0.5) == 2.0
    mtime = path.stat().st_mtime_ns
    again, path2, _ = cache.load(source, tmp_path)
    assert again is module and path2 == path and path.stat().st_mtime_ns == mtime


def test_an_existing_identical_file_is_not_rewritten(tmp_path):
    source = SOURCE + "# identical_file\n"
    path = tmp_path / f"f_{cache.source_hash(source)[:32]}.py"
    path.write_text(source)
    mtime = path.stat().st_mtime_ns
    cache.load(source, tmp_path)
    assert path.stat().st_mtime_ns == mtime  # Numba's cache keys on it


def test_a_tampered_file_is_replaced_before_import(tmp_path):
    source = SOURCE + "# tampered\n"
    path = tmp_path / f"f_{cache.source_hash(source)[:32]}.py"
    path.write_text("raise SystemExit('tampered file imported')\n")
    module, _, _ = cache.load(source, tmp_path)
    assert path.read_text() == source and module.forward(1.0, 0.0, (0.0,), 0.5) == 1.0
    assert not list(tmp_path.glob("*.tmp"))


def test_modules_are_registered_by_hash(tmp_path):
    source = SOURCE + "# registered\n"
    module, _, digest = cache.load(source, tmp_path)
    assert sys.modules[f"fastact_formula_{digest[:32]}"] is module


def test_unwritable_directory_raises(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError):
        cache.load(SOURCE + "# unwritable\n", blocker / "sub")
