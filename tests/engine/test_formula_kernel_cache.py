"""A defined activation's kernels are cached on disk under a hash of the formula's generated code: a
second process loads them instead of compiling (Numba's cache statistics say which happened)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from fastact import activations
from fastact.engine import dense
from fastact.nn import warm_up
act = activations.define("cache_probe", sys.argv[1])
seconds = warm_up("cache_probe", "float64")
kernels = dense.epilogues(act, "float64")  # a defined activation's own kernels: its epilogues
print(json.dumps({"seconds": seconds, "digest": dense.source_digest(act),
                  "hits": sum(k.cache_hits for k in kernels),
                  "misses": sum(k.cache_hits == 0 for k in kernels)}))
"""


def probe(formula: str) -> dict:
    p = subprocess.run([sys.executable, "-c", PROBE, formula], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_the_kernels_instead_of_compiling():
    # A constant no earlier run used: this formula's kernels cannot be in the cache yet. (The name is
    # fixed, so each run's kernels replace the previous run's files: `engine.dense` prunes stale ones.)
    formula = f"z * sigmoid(z) * {1 + secrets.randbelow(10**6) * 1e-9!r}"
    first, second = probe(formula), probe(formula)
    assert first["digest"] == second["digest"]
    assert first["misses"] > 0 and first["hits"] == 0
    assert second["misses"] == 0 and second["hits"] > 0
    other = probe("z * sigmoid(z) * 2")
    assert other["digest"] != first["digest"]
