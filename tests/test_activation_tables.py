"""Every table keyed by activation name covers every built-in activation.

`fastact.activations.ACTIVATIONS` is the one source of truth, and everything user-facing is
generated from it. The tables below must stay separate from it on purpose: each is an
independent reference or peer that a new activation needs by hand (a reference written from the
paper, a PyTorch twin). This test names the table that lacks one, so adding an activation is
one `_builtin(...)` call plus exactly the entries listed here (docs/ARCHITECTURE.md).

Tables are read from the source (module-level ``NAME = {...}`` with string keys), so no peer
(PyTorch) has to be installed to check them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fastact import activations

ROOT = Path(__file__).resolve().parents[1]

#: (file, table name, what it is)
TABLES = [
    ("tests/naive.py", "FORWARD", "slow NumPy reference of each formula"),
    ("tests/naive.py", "DERIVATIVE", "slow NumPy reference of each derivative"),
    ("tests/test_activations.py", "LIMITS", "limits at +-1e4 (value and derivative)"),
    ("tests/test_torch_oracle.py", "ORACLE", "PyTorch's function, the optional oracle"),
    ("fastact/benchmarks/peers.py", "NUMPY_ACTS", "the NumPy benchmark peer"),
    ("fastact/benchmarks/peers.py", "TORCH_ACTS", "the PyTorch benchmark peer"),
    ("bench/torch_twin.py", "TWIN", "the PyTorch twin of the training protocol"),
]


def dict_keys(path: Path, name: str) -> set[str]:
    """String keys of the module-level dict literal assigned to ``name`` in ``path``."""
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) \
            else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and isinstance(node.value, ast.Dict):
            return {k.value for k in node.value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    raise AssertionError(f"{path.name} has no module-level dict literal {name}")


BUILTIN = [n for n, a in activations.ACTIVATIONS.items() if a.group in ("seed", "extra")]


@pytest.mark.parametrize("path, name, what", TABLES, ids=[f"{p}:{n}" for p, n, _ in TABLES])
def test_table_covers_every_builtin_activation(path, name, what):
    keys = dict_keys(ROOT / path, name)
    missing = [a for a in BUILTIN if a not in keys]
    extra = sorted(keys - set(activations.ACTIVATIONS))
    assert not missing, f"{path}: {name} ({what}) lacks {', '.join(missing)}"
    assert not extra, f"{path}: {name} ({what}) has entries for unknown activations: {', '.join(extra)}"


def test_the_reader_reads_plain_and_annotated_tables(tmp_path):
    src = tmp_path / "t.py"
    src.write_text('X = {"relu": 1, "linear": 2}\nY: dict = {"relu": 3}\n')
    assert dict_keys(src, "X") == {"relu", "linear"} and dict_keys(src, "Y") == {"relu"}
    with pytest.raises(AssertionError, match="no module-level dict literal Z"):
        dict_keys(src, "Z")
