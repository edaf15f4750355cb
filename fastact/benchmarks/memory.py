"""Peak memory of a short training run, measured in a fresh interpreter."""

from __future__ import annotations

from fastact import activations
from fastact.benchmarks.cases import make_case
from fastact.benchmarks.config import _check_choice
from fastact.engine import threads as engine_threads


def _rss_kb() -> tuple[int, int]:
    """(current, peak) resident set size in KiB from /proc/self/status (Linux)."""
    vals = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, val = line.split(":")
                vals[key] = int(val.split()[0])
    return vals["VmRSS"], vals["VmHWM"]


def _memory_child(impl: str, act: str, batch: int, steps: int, n_in: int, hidden: int, dropout: float = 0.0) -> None:
    """Runs in its own process: prints the resident-memory growth of ``steps`` SGD steps.

    Imports, data, the model and a warm-up on a tiny model (the JIT's cached code, torch's
    thread pools) come before the baseline, so the figure is what training itself holds:
    workspaces, gradients, saved activations, RReLU's noise or a dropout mask when one is stored
    (fastact stores neither: both are regenerated in backward). The peak is
    Linux's VmHWM, reset at the baseline through /proc/self/clear_refs (``ru_maxrss`` would
    also count what the process held before ``exec``, i.e. the forking parent's pages).
    """
    import json
    import sys
    import tracemalloc

    small = make_case(impl, "step", act, batch=4, shape=(8, 6), dropout=dropout)
    small.fn()
    case = make_case(impl, "step", act, batch=batch, shape=(n_in, hidden), dropout=dropout)
    tracemalloc.start()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM to the current RSS
    base, _ = _rss_kb()
    for _ in range(steps):
        case.fn()
    _, peak = _rss_kb()
    traced = tracemalloc.get_traced_memory()[1]
    json.dump({"impl": impl, "act": act, "dropout": dropout, "batch": batch, "steps": steps,
               "baseline_mb": base / 1024,
               "peak_mb": peak / 1024, "above_baseline_mb": (peak - base) / 1024,
               "numpy_traced_peak_mb": traced / 2**20 if impl != "torch" else None}, sys.stdout)


def peak_memory(impl: str, act: str, batch: int = 1024, steps: int = 20, shape=(784, 512),
                threads: int | None = None, dropout: float = 0.0) -> dict:
    """`_memory_child` in a fresh interpreter (RSS is per process); returns its report.

    ``dropout``: fastact's hidden layer drops out at that rate (its mask is never stored).
    """
    import json
    import subprocess
    import sys

    _check_choice("impl", impl, ("fastact", "numpy", "torch"))
    act = activations.get(act).name
    n = threads or engine_threads.max_threads()
    code = (f"import fastact, fastact.benchmarks as b\nwith b.pinned_threads({n}, torch_too={impl == 'torch'}):\n"
            f"    b.memory._memory_child({impl!r}, {act!r}, {int(batch)}, {int(steps)},"
            f" {int(shape[0])}, {int(shape[1])}, {float(dropout)!r})")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"memory probe {impl}/{act} (dropout {dropout:g}) failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
