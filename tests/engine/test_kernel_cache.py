"""Editing a formula or an inlined engine function can never run a stale cached kernel.

Numba's disk cache checks only the source file of the function it caches. A specialised kernel
is generated from `engine/dense.py`'s templates with an activation's scalar functions inlined,
so an edit to `activations.py` or `engine/mathfn.py` left `dense.py` (and the cache entry)
unchanged. Kernels are now named after a digest of every source they inline
(`engine.dense.source_digest`): the test edits a copy of the package, with its warm cache, and
checks that the next process computes with the new formula.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fastact import activations
from fastact.engine import dense

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import numpy as np
import fastact
layer = fastact.Dense(3, 3, sys.argv[1], dtype="float64")
layer.w[...] = np.eye(3)
y = layer.forward(np.array([[-1.0, 0.5, 2.0]]))
print(json.dumps({"file": fastact.__file__, "y": y[0].tolist()}))
"""


def probe(root: Path, act: str) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    p = subprocess.run([sys.executable, "-c", PROBE, act], cwd=root, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["file"].startswith(str(root)), out["file"]  # the copy ran, not the installed package
    return out["y"]


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """A copy of the package (mtimes kept, warm cache included), as a contributor's checkout."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(ROOT / "fastact", root / "fastact", copy_function=shutil.copy2)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    stat = path.stat()
    path.write_text(text.replace(old, new))
    # The engine's own files keep their size-and-mtime stamp unchanged, as after an edit elsewhere.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_editing_a_formula_in_the_table_recompiles(copy):
    assert probe(copy, "relu") == [0.0, 0.5, 2.0]
    edit(copy / "fastact" / "activations.py", "    return z if z > 0 else fm.same(z, 0.0) * z\n",
         "    return 3.0 * z if z > 0 else fm.same(z, 0.0) * z\n")
    assert probe(copy, "relu") == [0.0, 1.5, 6.0]


def test_editing_an_inlined_math_function_recompiles(copy):
    before = probe(copy, "sigmoid")
    assert before == pytest.approx([0.2689414213699951, 0.6224593312018546, 0.8807970779778823], rel=1e-12)
    edit(copy / "fastact" / "engine" / "mathfn64.py", '    return 1.0 / (1.0 + exp(-x))\n',
         '    return 0.25 + 0.0 * x\n')
    assert probe(copy, "sigmoid") == [0.25, 0.25, 0.25]


def test_digest_covers_the_activation_source_and_the_engine_files():
    relu = activations.get("relu")
    d = dense.source_digest(relu)
    assert len(d) == 12 and d == dense.source_digest(relu)
    assert d != dense.source_digest(activations.get("sigmoid"))  # the name is part of it
    changed = type(relu)(**{**relu.__dict__, "source": relu.source + "\n# edited\n"})
    assert dense.source_digest(changed) != d
    fwd, bwd = dense.epilogues(relu)
    assert (fwd.__name__, bwd.__name__) == (f"epilogue_forward_relu_{d}", f"epilogue_backward_relu_{d}")
    drivers = [k.py_func.__name__ for k in dense.drivers()]
    assert drivers == [f"forward_{dense.engine_digest()[:12]}", f"backward_{dense.engine_digest()[:12]}"]
