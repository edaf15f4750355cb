"""What runs on a Dask worker: getting it ready for a study (`prepare`: the data probe and the
kernels, once per worker process) and one point (`run_point`), whose trainer events reach the
client as Dask events (`Relay`) while it trains.

The events of a point, on the study's topic (msgpack-able dicts; ``k`` is the task key):
``{"k", "e": "start", "info"}`` (the trainer's info plus the worker's address and pid),
``{"k", "e": "batch", "epoch", "batch", "n", "loss"}`` (at most one every `BATCH_EVERY` seconds
per run), ``{"k", "e": "epoch", "record"}`` (an `EpochRecord` as a dict). The run's end is its
result, which travels back as the task's value, not as an event.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import asdict, replace

from distributed import Event, get_worker

from fastact import activations
from fastact.engine import threads as _threads
from fastact.experiments.distributed.shipping import load_shipped, local_config, probe
from fastact.experiments.tasks import Task, run_task, worker_dataset
from fastact.training import Callbacks, RunResult, prepare_kernels_for

#: seconds between two batch events of one run (epochs always send theirs)
BATCH_EVERY = 0.5
#: seconds between two looks at the study's cancel event
CANCEL_EVERY = 1.0


def prepare(sources: list, kernels: list) -> dict:
    """Probe each ``(config, file hashes)`` source (`shipping.probe`: None = loads it itself),
    then load or compile the kernels runs of each `TrainConfig` in ``kernels`` use (its activation,
    dtype, optimizer, dropout); what this worker is.

    A defined activation is defined first, from the definition its config carries
    (`TrainConfig.define`): a worker process has only the built-in table of its own."""
    w = get_worker()
    data = [probe(config, hashes) for config, hashes in sources]
    start = time.perf_counter()
    for config in kernels:
        if config.define is not None:
            activations.define_spec(config.define)
    prepare_kernels_for(kernels)  # as `fastact train` does: missing kernels compiled in parallel processes
    return {"worker": w.address, "host": socket.gethostname(), "pid": os.getpid(), "nthreads": w.state.nthreads,
            "numba_num_threads": _threads.max_threads(), "threading_layer": _threads.threading_layer(),
            "data": data, "kernel_seconds": time.perf_counter() - start}


class Relay(Callbacks):
    """Trainer callbacks -> events on ``topic``; sets ``cancel`` once the study's cancel event is set."""

    def __init__(self, topic: str, key: str, cancel_name: str, cancel: threading.Event):
        self.worker = get_worker()
        self.topic, self.key, self.cancel_name, self.cancel = topic, key, cancel_name, cancel
        self._batch_at = self._cancel_at = time.monotonic()
        self._event = None  # made on the first look (it opens this worker's client to the scheduler)

    def _send(self, msg: dict) -> None:
        self.worker.log_event(self.topic, {"k": self.key, **msg})

    def _look(self) -> None:
        now = time.monotonic()
        if now - self._cancel_at >= CANCEL_EVERY:
            self._cancel_at = now
            self._event = self._event or Event(self.cancel_name)
            if self._event.is_set():
                self.cancel.set()

    def on_run_start(self, config, info):
        self._send({"e": "start", "info": {**info, "worker": self.worker.address, "pid": os.getpid()}})

    def on_batch(self, config, epoch, batch, n_batches, loss):
        now = time.monotonic()
        if now - self._batch_at >= BATCH_EVERY:
            self._batch_at = now
            self._send({"e": "batch", "epoch": epoch, "batch": batch, "n": n_batches, "loss": float(loss)})
        self._look()

    def on_epoch_end(self, config, record):
        self._send({"e": "epoch", "record": asdict(record)})
        self._look()


_SHIPPED: dict = {}  # (shipment digest, data key) -> the split made from shipped files (the last one)


def _data(shipment, config):
    """The point's dataset and the config to train it with (its data paths valid here)."""
    if shipment is None:
        return worker_dataset(config), config
    root = get_worker().local_directory
    key = (shipment.digest, config.val_split, config.seed, config.dtype)
    if key not in _SHIPPED:
        _SHIPPED.clear()  # one split in memory at a time, as `worker_dataset` keeps
        _SHIPPED[key] = load_shipped(shipment, config, root)
    return _SHIPPED[key], local_config(shipment, config, root)


def kernel_threads(threads: int | None, config_threads: int | None) -> int:
    """Kernel threads for a point here: the config's, else ``threads`` (the client's share of the
    cores), else this worker's Numba threads over its Dask threads; never above NUMBA_NUM_THREADS.
    Results do not depend on it (the tiling follows NUMBA_NUM_THREADS alone)."""
    top = _threads.max_threads()
    n = config_threads or threads or max(1, top // max(1, get_worker().state.nthreads))
    return min(n, top)


def run_point(task: Task, shipment, threads: int | None, topic: str, cancel_name: str, run=None) -> RunResult:
    """Train one point here (``run``: `fastact.experiments.tasks.run_task` unless an interface
    brings its own); the result carries the weights and the client's config, and names the worker."""
    cancel = threading.Event()
    relay = Relay(topic, task.key, cancel_name, cancel)
    ds, config = _data(shipment, task.config)
    here = replace(task, config=replace(config, threads=kernel_threads(threads, config.threads)))
    result = (run or run_task)(here, ds, relay, cancel)
    result.config = task.config  # the settings as the study gave them (threads: not part of a result)
    w = get_worker()
    result.meta.update({"worker": w.address, "host": socket.gethostname()})
    return result
