"""A first run, as a fresh install has it: the kernels of some activations compiled in a fresh
interpreter with an empty Numba cache (cold), then again with that cache filled (warm)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from fastact.nn.warmup import prepare_kernels
imported = time.perf_counter() - t0
r = prepare_kernels(json.loads(sys.argv[1]), sys.argv[2], sys.argv[3],
                    processes=None if sys.argv[4] == "auto" else int(sys.argv[4]))
print(json.dumps({"kernels_s": r.seconds, "import_s": imported, "jobs": len(r.jobs), "compiled": len(r.compiled),
                  "processes": r.processes, "helpers_failed": r.helpers_failed}))
"""


def first_run(acts, cache_dir, dtype="float32", optimizer="adam", processes=None, timeout=900.0) -> dict:
    """`fastact.nn.warmup.prepare_kernels` of ``acts`` in a fresh interpreter whose Numba cache is ``cache_dir``.

    An empty ``cache_dir`` is a fresh install (everything compiles); the same folder a second
    time is a warm start. Returns the child's report (``kernels_s``: until every kernel is
    ready; ``import_s``: importing fastact first) plus ``process_s``, the interpreter's whole
    wall time.
    """
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    start = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(list(acts)), dtype, optimizer,
                        "auto" if processes is None else str(processes)],
                       env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"first-run child failed: {p.stderr[-2000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - start
    return out
