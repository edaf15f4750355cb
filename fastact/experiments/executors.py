"""Executors: how the points of a sweep run. Anything with ``map(fn, items) -> iterator`` of
results in input order is one.

`SerialExecutor` runs points in this process with all threads; `ProcessExecutor` runs them
in spawned worker processes, each with ``cores // workers`` threads. A distributed engine
plugs in by providing ``map`` (``fn`` and the items are picklable: a top-level function and
dataclasses).

Which is faster (measured on the 2-core development machine): the kernels are parallel
inside one run, so serial with all threads keeps both cores busy for the protocol's
784-512-10 network, and every spawned worker pays ~1-2 s of start-up (imports, JIT cache,
loading the data again). On a tiny sweep (4 widths 16..64, 540 images, 3 epochs) serial took
1.6 s and two processes 3.7 s. So the default is serial, and `choose_executor` with
``workers="auto"`` uses processes only where one run cannot keep the cores busy and there is
enough work to amortise the start-up: every hidden width <= 128 and at least two points per
core; otherwise serial.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from dataclasses import replace
from typing import Callable, Iterator, Protocol

from fastact.engine import threads as _threads
from fastact.errors import SettingsError
from fastact.training import TrainConfig, data_key, load_for, train


class Executor(Protocol):
    def map(self, fn: Callable, items) -> Iterator: ...


class SerialExecutor:
    """Runs every item in this process, in order."""

    def map(self, fn, items):
        for item in items:
            yield fn(item)


class ProcessExecutor:
    """``workers`` spawned processes (``concurrent.futures``), results in input order."""

    def __init__(self, workers: int):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise SettingsError("workers", workers, "a positive integer")
        self.workers = workers

    def map(self, fn, items):
        ctx = multiprocessing.get_context("spawn")
        pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx)
        try:
            yield from pool.map(fn, list(items))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def choose_executor(configs: list[TrainConfig], workers="1") -> Executor:
    """``workers``: an integer (1 = serial) or ``"auto"`` (the rule in the module docstring)."""
    cores = _threads.max_threads()
    if workers == "auto":
        small = all(max(c.hidden) <= 128 for c in configs)
        n = min(cores, len(configs)) if small and cores > 1 and len(configs) >= 2 * cores else 1
    else:
        try:
            n = int(workers)
        except (TypeError, ValueError):
            n = 0
        if n < 1:
            raise SettingsError("workers", workers, "a positive integer or 'auto'")
    return SerialExecutor() if n == 1 else ProcessExecutor(n)


def worker_threads(workers: int) -> int:
    """Threads per worker process: the cores shared out, at least one."""
    return max(1, (os.cpu_count() or 1) // workers)


_DATA: dict = {}


def train_in_worker(config: TrainConfig):
    """Top-level (picklable) point runner for process executors: loads the data once per process."""
    key = data_key(config)
    if key not in _DATA:
        _DATA[key] = load_for(config, progress=False)
    # The weights stay in the worker: the parent needs the metrics only (a saved run keeps model.npz).
    return replace(train(config, _DATA[key]), model=None)
