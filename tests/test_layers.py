"""The layer contract (`[tool.importlinter]` in pyproject.toml) holds, and catches an upward import.

`.ci/run` runs ``lint-imports`` too; this test also proves the contract is not vacuous by adding
one upward import to a copy of the package and checking that the copy is rejected, naming it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))

pytestmark = pytest.mark.skipif(not Path(LINT).exists(),
                                reason="import-linter is not installed (pip install -e .[dev])")


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(root), "PATH": ""})


def test_the_tree_keeps_its_layers():
    p = lint(ROOT)
    assert p.returncode == 0 and "0 broken" in p.stdout, p.stdout[-3000:] + p.stderr[-2000:]


def test_an_upward_import_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "fastact", tmp_path / "fastact", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tui", tmp_path / "fastact_tui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    rng = tmp_path / "fastact" / "engine" / "rng.py"
    rng.write_text(rng.read_text() + "\nfrom fastact.training import TrainConfig  # noqa\n")
    p = lint(tmp_path)
    assert p.returncode != 0 and "1 broken" in p.stdout, p.stdout[-3000:]
    assert "fastact.engine.rng -> fastact.training" in p.stdout
