"""Timing: threads pinned alike for every implementation, warm-up then timed rounds, and `run`."""

from __future__ import annotations

import contextlib
import math
import statistics
import threading
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from fastact import activations

# `torch_available` is looked up on the package at call time, so patching
# `benchmarks.torch_available` (as the tests do) reaches this module too.
from fastact import benchmarks as _package
from fastact.benchmarks.budget import check_cases
from fastact.benchmarks.cases import make_case
from fastact.benchmarks.config import IMPLS, OPS, _check_choice
from fastact.benchmarks.peers import available_impls, missing
from fastact.engine import threads as engine_threads


@dataclass
class BenchResult:
    """One timed case. ``median_s``/``iqr_s`` are NaN and ``note`` says why when it could not run."""

    impl: str
    op: str
    act: str
    batch: int
    n_in: int
    n_out: int
    median_s: float
    iqr_s: float
    rounds: int
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@contextlib.contextmanager
def pinned_threads(n: int | None = None, torch_too: bool = False):
    """Pin fastact, NumPy's BLAS and (if asked) torch to ``n`` threads (None: all cores)."""
    from threadpoolctl import ThreadpoolController

    n = engine_threads.set_num_threads(n)
    ctl = ThreadpoolController()
    numpy_blas = [lib for lib in ctl.lib_controllers
                  if lib.user_api == "blas" and "numpy" in lib.filepath]
    before = [lib.num_threads for lib in numpy_blas]
    for lib in numpy_blas:
        lib.set_num_threads(n)
    torch_before = None
    if torch_too:
        import torch

        torch_before = torch.get_num_threads()
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        for lib, k in zip(numpy_blas, before):
            lib.set_num_threads(k)
        if torch_before is not None:
            import torch

            torch.set_num_threads(torch_before)


def time_rounds(fn: Callable, min_rounds: int = 5, max_time: float = 0.5, warmup: int = 3,
                cancel: threading.Event | None = None) -> list[float]:
    """Seconds per call: warm-up, then rounds until ``min_rounds`` and ``max_time`` are both reached.

    Warm-up is ``warmup`` untimed calls and at least a fifth of ``max_time`` (oneDNN and
    the BLAS thread pools settle over the first several calls, not the first one).
    """
    start = time.perf_counter()
    k = 0
    while k < warmup or time.perf_counter() - start < 0.2 * max_time:
        fn()
        k += 1
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_rounds or time.perf_counter() - start < max_time:
        if cancel is not None and cancel.is_set():
            break
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def summarize(times: list[float]) -> tuple[float, float]:
    """(median, inter-quartile range) of ``times``."""
    if not times:
        return math.nan, math.nan
    q1, q3 = np.percentile(times, [25, 75])
    return float(statistics.median(times)), float(q3 - q1)


def _resolve_acts(acts) -> list[str]:
    if isinstance(acts, str):
        acts = [acts]
    out = []
    for a in acts:
        if a in ("seed", "extra", "every", "all"):
            out += activations.names("every" if a == "all" else a)
        else:
            out.append(activations.get(a).name)
    return list(dict.fromkeys(out))


#: the most timed rounds and seconds per case `run` accepts (beyond them a benchmark never ends)
MAX_ROUNDS, MAX_TIME = 100_000, 600.0


def check_rounds(min_rounds, max_time) -> None:
    """``min_rounds`` in 1..`MAX_ROUNDS`, ``max_time`` seconds in [0, `MAX_TIME`] (0: just the rounds); else
    ValueError."""
    if isinstance(min_rounds, bool) or not isinstance(min_rounds, (int, np.integer)) \
            or not 1 <= min_rounds <= MAX_ROUNDS:
        raise ValueError(f"min_rounds must be an integer in 1..{MAX_ROUNDS:,}. Received: min_rounds={min_rounds!r}")
    if isinstance(max_time, bool) or not isinstance(max_time, (int, float, np.floating)) \
            or not 0 <= max_time <= MAX_TIME:  # NaN fails too
        raise ValueError(f"max_time must be seconds in [0, {MAX_TIME:g}]. Received: max_time={max_time!r}")


def _plan(acts, batches, ops, impls, shape, names=("batch", "shape")):
    """Validated (op, act, batch, impl) cases in run order, the impls and the shape; ``names`` are how a
    memory refusal names the batch and shape settings (the CLI's ``--batch``/``--shape``)."""
    acts = _resolve_acts(acts)
    impls = list(impls) if impls is not None else available_impls()
    for i in impls:
        _check_choice("impl", i, IMPLS)
    if "torch" in impls and not _package.torch_available():
        raise ValueError("impl 'torch' requested but torch is not installed. Received: impls="
                         f"{impls!r}; available: {', '.join(available_impls())}")
    for o in ops:
        _check_choice("op", o, OPS)
    for b in batches:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
            raise ValueError(f"batch sizes must be positive integers. Received: batches={batches!r}")
    if len(shape) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in shape):
        raise ValueError(f"shape must be two positive sizes (n_in, n_out). Received: shape={tuple(shape)!r}")
    plan = [(op, a, int(b), i) for op in ops for a in acts for b in batches for i in impls]
    check_cases(plan, (int(shape[0]), int(shape[1])), *names)
    return plan, impls, (int(shape[0]), int(shape[1]))


def run(acts, batches=(128,), ops=OPS, impls=None, shape=(784, 512), min_rounds=5, max_time=0.5,
        progress: Callable | None = None, cancel: threading.Event | None = None,
        threads: int | None = None) -> list[BenchResult]:
    """Time every (op, act, batch, impl); ``progress(done, total, result)`` after each case.

    A peer that cannot run an activation yields a result with NaN times and a ``note``.
    Cancelling (``cancel.set()``) stops after the current round; results so far are returned.
    """
    check_rounds(min_rounds, max_time)
    plan, impls, (n_in, n_out) = _plan(acts, batches, ops, impls, shape)
    results: list[BenchResult] = []
    with pinned_threads(threads, torch_too="torch" in impls):
        for k, (op, act, batch, impl) in enumerate(plan):
            if cancel is not None and cancel.is_set():
                break
            note = missing(impl, act)
            if note:
                res = BenchResult(impl, op, act, batch, n_in, n_out, math.nan, math.nan, 0, note)
            else:
                case = make_case(impl, op, act, batch, (n_in, n_out))
                med, iqr = summarize(times := time_rounds(case.fn, min_rounds, max_time, cancel=cancel))
                res = BenchResult(impl, op, act, batch, n_in, n_out, med, iqr, len(times))
            results.append(res)
            if progress is not None:
                progress(k + 1, len(plan), res)
    return results
