"""Threads: the threading layer really is TBB when the wheel is installed, kernel BLAS is pinned
to one thread whatever the entry point, and thread counts are checked.

Each check runs in a fresh interpreter: the layer and the BLAS pools are process-wide state
decided by the first kernel that runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fastact.engine import threads

ROOT = Path(__file__).resolve().parents[2]


def fresh(code: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


RUN_A_STEP = """
import json
import numpy as np
import fastact
from fastact.engine import threads
from threadpoolctl import threadpool_info
m = fastact.MLP([6, 4, 3])                     # the Python API, no set_num_threads
m.train_step(np.zeros((2, 6), np.float32), np.zeros(2, np.int64), fastact.Adam(lr=1e-3))
blas = {l["filepath"]: l["num_threads"] for l in threadpool_info() if l["user_api"] == "blas"}
print(json.dumps({"layer": threads.threading_layer(), "tbb": threads.TBB_LIBRARY, "blas": blas}))
"""


@pytest.mark.skipif(importlib.util.find_spec("tbb") is None and not threads._tbb_candidates(),
                    reason="the tbb package is not installed: Numba falls back to OpenMP by design")
def test_tbb_is_the_layer_when_the_wheel_is_installed():
    out = fresh(RUN_A_STEP)
    assert out["layer"] == "tbb", out
    assert out["tbb"] and out["tbb"].endswith("libtbb.so.12")


def test_kernel_blas_is_pinned_to_one_thread_from_the_python_api():
    out = fresh(RUN_A_STEP)
    scipy_blas = [n for path, n in out["blas"].items() if "scipy" in path and "numpy" not in path]
    assert scipy_blas == [1], out["blas"]


def test_candidates_are_real_files():
    for path in threads._tbb_candidates():
        assert path.is_file() and path.name == "libtbb.so.12"


@pytest.mark.parametrize("n", [0, -1, 1.5, True, threads.max_threads() + 1])
def test_set_num_threads_rejects_bad_counts(n):
    with pytest.raises(ValueError, match=f"Received: threads={n!r}"):
        threads.set_num_threads(n)


def test_set_num_threads_none_means_all():
    assert threads.set_num_threads(None) == threads.max_threads() == threads.get_num_threads()
