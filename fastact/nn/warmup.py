"""`prepare_kernels`: have every kernel a set of runs needs compiled before training starts.

A run of activation ``a`` in dtype ``d`` with optimizer ``o`` needs (`jobs`): the forward and
backward drivers in ``d`` (shared by every activation), the loss kernel, the rule of ``o``, and
the epilogues of ``a`` (their dropout specialisation for a run with dropout) and of the output
layer (``linear``, never dropped). A job already in Numba's disk cache
is only loaded (well under a second); a missing one is compiled (the drivers take a few seconds
once per install, an activation's epilogues one to a few seconds).

When more than one job is missing and there is more than one core, helper processes compile
in parallel: fresh interpreters (``python -m fastact.nn.warmup``: safe from a threaded parent
such as the TUI, and never re-running the caller's script) and this process take jobs from one
shared counter file, largest first, each writing what it compiles to the disk cache. Then this
process runs every job itself, which loads what the helpers wrote (and compiles anything a
helper could not), so the result never depends on the helpers. Jobs are named by activation,
so only the table's built-in activations go to helpers; others compile here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fastact import activations
from fastact.engine import dense, loss, optim
from fastact.engine.jit import DISABLE_JIT
from fastact.engine.rng import stream_key
from fastact.engine.threads import max_threads
from fastact.nn.dense import resolve_dtype
from fastact.nn.optim import OPTIMIZERS

#: optimizer name -> the rule its kernels run
RULE_OF = {"sgd": "sgd", "adam": "adam", "adamw": "adam"}
#: relative compile cost of a job kind, to hand out the largest first (measured: the backward
#: driver ~2x the forward one; an activation's two epilogues 1-6x a small kernel)
_COST = {"backward": 6, "forward": 3, "epilogues": 2, "loss": 1, "rule": 1}


@dataclass(frozen=True)
class Job:
    """One unit of compile work: ``kind`` (forward, backward, loss, rule, epilogues), a name, a dtype,
    and for epilogues whether they are the dropout specialisation."""

    kind: str
    name: str
    dtype: str
    dropout: bool = False

    def __str__(self) -> str:
        return f"{self.kind}{' ' + self.name if self.name else ''}{' +dropout' if self.dropout else ''} ({self.dtype})"


@dataclass
class Report:
    """What `prepare_kernels` did: wall seconds, the jobs it found missing, the processes used."""

    seconds: float
    jobs: list[Job] = field(default_factory=list)
    compiled: list[Job] = field(default_factory=list)
    processes: int = 1
    helpers_failed: int = 0  # helper processes that did not finish cleanly (their jobs were redone here)

    def summary(self) -> str:
        if not self.compiled:
            return f"kernels loaded from the cache in {self.seconds:.1f}s"
        how = f"{self.processes} processes" if self.processes > 1 else "1 process"
        return (f"kernels ready in {self.seconds:.1f}s ({len(self.compiled)} of {len(self.jobs)} compiled, "
                f"{how})")


def jobs(acts, dtype="float32", optimizer="adam", dropout: bool = False) -> list[Job]:
    """The compile jobs of runs of ``acts`` (names) in ``dtype`` with ``optimizer`` (and with dropout
    on the hidden layers), largest first."""
    dt = resolve_dtype(dtype).__name__
    rule = RULE_OF[optimizer.lower()] if isinstance(optimizer, str) and optimizer.lower() in RULE_OF else None
    if rule is None:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}. Received: optimizer={optimizer!r}")
    hidden = [(activations.get(a).name, bool(dropout)) for a in acts]
    epilogues = list(dict.fromkeys([*hidden, ("linear", False)]))
    out = [Job("backward", "", dt), Job("forward", "", dt), *(Job("epilogues", n, dt, d) for n, d in epilogues),
           Job("loss", "", dt), Job("rule", rule, dt)]
    return sorted(out, key=lambda j: -_COST[j.kind])


def _loss_signature(dt):
    from numba import types

    from fastact.engine.jit import array

    return (array(dt, 2), array(np.int64, 1), types.float64, array(dt, 2), array(np.float64, 1),
            array(np.int8, 1), types.boolean)


def _pyfuncs_and_signatures(job: Job) -> list[tuple]:
    """(Python function, cache key signature) of every kernel ``job`` makes."""
    if job.kind in ("forward", "backward"):
        sigs = dense.driver_signatures(job.dtype)
        driver = dense.drivers()[job.kind == "backward"]
        return [(driver.py_func, sigs[job.kind == "backward"])]
    if job.kind == "loss":
        return [(loss.softmax_xent.py_func, _loss_signature(job.dtype))]
    if job.kind == "rule":
        return [(optim.rule_function(job.name), optim.signature(job.dtype))]
    fns, _ = dense.epilogue_functions(activations.get(job.name), job.dropout)
    return list(zip(fns, dense.epilogue_signatures(job.dtype)))


def cached(job: Job) -> bool:
    """Whether every kernel of ``job`` is in Numba's disk cache for this machine (a best guess:
    any doubt answers False, and a wrong False only costs an early compile)."""
    try:
        from numba.core.caching import FunctionCache
        from numba.core.registry import cpu_target

        magic = cpu_target.target_context.codegen().magic_tuple()
        for fn, sig in _pyfuncs_and_signatures(job):
            index = FunctionCache(fn)._cache_file._load_index()
            if not any(key[0] == sig and key[1] == magic for key in index):
                return False
        return True
    except Exception:  # noqa: BLE001 (Numba internals: treat as not cached)
        return False


def run(job: Job) -> None:
    """Compile ``job``'s kernels in this process, or load them from the disk cache."""
    dt = job.dtype
    if job.kind in ("forward", "backward"):
        sigs = dense.driver_signatures(dt)
        i = job.kind == "backward"
        dense.drivers()[i].compile(sigs[i])
    elif job.kind == "loss":
        loss.softmax_xent.compile(_loss_signature(dt))
        stream_key(0, 0, 0)  # RReLU's stream key, which every layer computes from Python
    elif job.kind == "rule":
        optim.rule(job.name, dt)
    else:
        dense.epilogues(activations.get(job.name), dt, job.dropout)


def _claim(counter: str) -> int:
    """The next job index from the shared counter file (one increment under an exclusive lock)."""
    import fcntl

    with open(counter, "r+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        i = int(fh.read() or 0)
        fh.seek(0)
        fh.write(str(i + 1))
        fh.truncate()
    return i


def _work(todo: list[Job], counter: str) -> None:
    """Take jobs off the shared counter until none is left (in this process or a helper)."""
    while (i := _claim(counter)) < len(todo):
        run(todo[i])


def _builtin(job: Job) -> bool:
    return job.kind != "epilogues" or activations.get(job.name).group != "custom"


def _start_helpers(n: int, todo: list[Job], counter: str) -> list[subprocess.Popen]:
    """``n`` helper interpreters running `main` on the shared job list (``python -m``: no re-import of
    the caller's ``__main__``, as multiprocessing's spawn would do)."""
    import fastact

    root = str(Path(fastact.__file__).resolve().parents[1])  # the very package this process runs
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    spec = json.dumps([[j.kind, j.name, j.dtype, j.dropout] for j in todo])
    return [subprocess.Popen([sys.executable, "-m", "fastact.nn.warmup", counter, spec], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(n)]


def prepare_kernels(acts, dtype="float32", optimizer="adam", processes: int | None = None,
                    timeout: float = 600.0, dropout: bool = False) -> Report:
    """Compile (in parallel where it pays) or load every kernel runs of ``acts`` need; see the module docstring.

    Args:
        acts: activation names (``["relu", "rrelu"]``).
        dtype: the runs' dtype; only it is compiled.
        optimizer: ``sgd``, ``adam`` or ``adamw``; only its rule is compiled.
        dropout: the runs drop hidden units: the hidden activations' dropout epilogues.
        processes: at most this many processes compile (this one included); default: the cores
            Numba may use.
        timeout: seconds to wait for the helpers before this process does their work itself.

    Returns:
        A `Report` (``report.summary()`` is one line for a console).
    """
    start = time.perf_counter()
    todo = jobs(acts, dtype, optimizer, dropout)
    if DISABLE_JIT:  # interpreted kernels: nothing to compile
        return Report(time.perf_counter() - start, todo, [], 1)
    missing = [j for j in todo if not cached(j)]
    shareable = [j for j in missing if _builtin(j)]
    n = processes if processes is not None else min(os.cpu_count() or 1, max_threads())
    n = max(1, min(int(n), len(shareable)))
    failed = 0
    if n > 1 and sys.platform != "win32":
        with tempfile.TemporaryDirectory(prefix="fastact-compile-") as tmp:
            counter = os.path.join(tmp, "next")
            Path(counter).write_text("0")
            helpers = _start_helpers(n - 1, shareable, counter)
            try:
                _work(shareable, counter)
                deadline = time.perf_counter() + timeout
                for p in helpers:
                    p.wait(max(0.0, deadline - time.perf_counter()))
            except subprocess.TimeoutExpired:
                pass
            finally:
                for p in helpers:  # any still running (timeout, Ctrl-C): stopped, its jobs redone below
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                failed = sum(p.returncode != 0 for p in helpers)
    for j in todo:
        run(j)  # loads what the helpers wrote; compiles whatever they did not
    return Report(time.perf_counter() - start, todo, missing, n, failed)


def main(argv=None) -> int:
    """Helper entry point: ``python -m fastact.nn.warmup COUNTER JOBS_JSON``."""
    counter, spec = (sys.argv[1:] if argv is None else argv)[:2]
    _work([Job(*j) for j in json.loads(spec)], counter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
