"""The entry points: Ctrl-C at any moment, imports and interpreter shutdown included, exits 130 quietly.

The interrupt is delivered at an exact point rather than after a delay (tests must not depend on
timing): a ``sitecustomize`` module put on the child's path installs an import hook that sends
the process SIGINT the moment a given module is first imported (NumPy, Numba, Textual, ...), or
from an exit handler once the command has returned.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOOK = '''
import atexit, importlib.abc, os, signal, sys
_at = os.environ.get("SIGINT_AT", "")
def _interrupt():
    os.kill(os.getpid(), signal.SIGINT)
class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == _at:
            sys.meta_path.remove(self)
            _interrupt()  # Python raises KeyboardInterrupt at its next check: inside this import
        return None
if _at == "exit":
    atexit.register(_interrupt)
elif _at:
    sys.meta_path.insert(0, _Hook())
'''


def interrupted_at(tmp_path, module: str, argv: list[str]) -> subprocess.CompletedProcess:
    (tmp_path / "sitecustomize.py").write_text(HOOK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]), "SIGINT_AT": module}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path)


CONSOLE = ["-c", "from fastact._entry import fastact; fastact()"]  # what the installed `fastact` script runs
CONSOLE_TUI = ["-c", "from fastact._entry import fastact_tui; fastact_tui()"]

CASES = [
    ("numpy", [*CONSOLE, "train", "--help"]),
    ("numba", [*CONSOLE, "train", "--help"]),
    ("rich", [*CONSOLE, "train", "--help"]),
    ("fastact.training", [*CONSOLE, "train", "--help"]),
    ("fastact.cli.train", [*CONSOLE, "train", "--help"]),
    ("fastact.benchmarks", [*CONSOLE, "bench", "--help"]),
    ("numpy", ["-m", "fastact", "sweep", "--help"]),
    ("fastact.cli", ["-m", "fastact", "report", "--help"]),
    ("numpy", ["-m", "fastact.train", "--help"]),
    ("textual", [*CONSOLE_TUI, "--help"]),
    ("numpy", [*CONSOLE_TUI, "--help"]),
    ("fastact_tui.app", ["-m", "fastact_tui", "--help"]),
]


@pytest.mark.parametrize("module, argv", CASES, ids=[f"{m}-{' '.join(a[-2:])}" for m, a in CASES])
def test_ctrl_c_during_the_imports_exits_130_quietly(tmp_path, module, argv):
    p = interrupted_at(tmp_path, module, argv)
    assert (p.returncode, p.stderr, p.stdout) == (130, "interrupted\n", ""), p.stderr[-3000:]


@pytest.mark.parametrize("argv", [[*CONSOLE, "--version"], ["-m", "fastact", "report", "--help"],
                                  [*CONSOLE_TUI, "--help"]], ids=["version", "report-help", "tui-help"])
def test_ctrl_c_during_interpreter_shutdown_exits_130_quietly(tmp_path, argv):
    p = interrupted_at(tmp_path, "exit", argv)
    assert p.returncode == 130 and p.stderr == "", p.stderr[-3000:]
    assert p.stdout  # the command itself finished: its output is all there


def test_the_hook_really_interrupts_an_unprotected_import(tmp_path):
    # Without the entry point's handling the same interrupt is a traceback: the tests above are not vacuous.
    p = interrupted_at(tmp_path, "numpy", ["-c", "import fastact.cli.train"])
    # (Python re-raises an uncaught KeyboardInterrupt as SIGINT once it has printed the traceback)
    assert p.returncode == -2 and "KeyboardInterrupt" in p.stderr and "Traceback" in p.stderr


def test_import_fastact_loads_nothing_heavy_and_names_load_on_use():
    code = ("import sys, fastact\n"
            "print(sorted(m for m in ('numpy', 'numba', 'rich', 'textual') if m in sys.modules))\n"
            "print(fastact.MLP.__name__, fastact.activations.get('relu').name, fastact.__version__)\n"
            "from fastact import TrainConfig, Dense\n"
            "print(TrainConfig().act, 'MLP' in dir(fastact))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "[]"
    assert p.stdout.splitlines()[1].startswith("MLP relu ")
    assert p.stdout.splitlines()[2] == "relu True"
    with pytest.raises(AttributeError, match="module 'fastact' has no attribute 'nope'"):
        import fastact

        fastact.nope  # noqa: B018
