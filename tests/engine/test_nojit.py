"""The engine also runs as plain Python (``NUMBA_DISABLE_JIT=1``).

Pure-Python kernels are slow, so a small subset of the engine tests, chosen
by test name and parameters (``NOJIT`` in tests/conftest.py marks them
``nojit``: tiny shapes; relu, softplus, gelu, prelu and rrelu; loss,
optimizers and one whole training step), runs in a subprocess with the JIT
off. A second check makes sure the interpreted path computes the *same*
thing as the compiled one: RReLU's slopes (integer hashing, then one
multiply-add) and a dense forward/backward agree to float64 rounding.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import naive
from conftest import NOJIT

ROOT = Path(__file__).resolve().parents[2]


def nojit_env():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def test_engine_subset_passes_without_jit():
    files = sorted({f"tests/{d}/{name.split('::')[0]}" for name in NOJIT for d in ("engine", "nn")
                    if (ROOT / "tests" / d / name.split("::")[0]).is_file()} | {"tests/test_activations.py"})
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::RuntimeWarning",
         "-m", "nojit", *files], cwd=ROOT, env=nojit_env(), capture_output=True, text=True, timeout=300,
    )
    tail = (proc.stdout + proc.stderr)[-4000:]
    assert proc.returncode == 0, tail
    expected = sum(len(cases) for cases in NOJIT.values())
    assert f"{expected} passed" in proc.stdout, tail


SCRIPT = """
import sys, numpy as np, numba
sys.path.insert(0, "tests")
import naive
assert numba.config.DISABLE_JIT
slopes = naive.probe_slopes((5, 7), "float64", seed=3, index=1, step=4, lower=0.05, upper=0.7)
layer = naive.identity_dense("rrelu", 6, "float64", seed=2, index=1)
layer.w[...] = np.arange(36.0).reshape(6, 6) / 40 - 0.4
x = np.linspace(-2, 2, 24).reshape(4, 6)
y = layer.forward(x, training=True, step=3).copy()
dx = layer.backward(np.cos(y)).copy()
np.savez(sys.argv[1], slopes=slopes, y=y, dx=dx, dw=layer.dw, db=layer.db)
"""


def test_interpreted_and_compiled_paths_agree(tmp_path):
    out = tmp_path / "nojit.npz"
    proc = subprocess.run([sys.executable, "-W", "ignore::RuntimeWarning", "-c", SCRIPT, str(out)],
                          cwd=ROOT, env=nojit_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = np.load(out)
    slopes = naive.probe_slopes((5, 7), "float64", seed=3, index=1, step=4, lower=0.05, upper=0.7)
    np.testing.assert_allclose(got["slopes"], slopes, rtol=1e-15)
    layer = naive.identity_dense("rrelu", 6, "float64", seed=2, index=1)
    layer.w[...] = np.arange(36.0).reshape(6, 6) / 40 - 0.4
    x = np.linspace(-2, 2, 24).reshape(4, 6)
    y = layer.forward(x, training=True, step=3).copy()
    dx = layer.backward(np.cos(y)).copy()
    for name, mine in (("y", y), ("dx", dx), ("dw", layer.dw), ("db", layer.db)):
        np.testing.assert_allclose(got[name], mine, rtol=1e-13, atol=1e-15, err_msg=name)
