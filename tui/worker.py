"""The bridge between `fastact.training` callbacks (called in the training thread) and the UI.

Each callback becomes one message posted to ``target``. Per-batch messages are throttled to
at most one every ``min_interval`` seconds: a 60k-sample epoch has ~470 batches, and one
repaint per batch would flood the UI thread for no visible gain.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from typing import Callable

from fastact import training
from fastact.experiments.sweep import run_points
from fastact.experiments.tasks import closing
from fastact.training import data_key
from fastact_tui.messages import BatchProgress, EpochDone, JobDone, LogLine, RunFinished, RunStarted


class Bridge:
    """Trainer callbacks -> messages; mixed with the trainer's own `Callbacks` base in `make_bridge`."""

    def __init__(self, target, label_of: Callable, min_interval: float = 0.05):
        self.target, self.label_of, self.min_interval = target, label_of, min_interval
        self._last = 0.0
        self.ended: set[int] = set()  # id() of each result posted as RunFinished

    def on_run_start(self, config, info):
        self.target.post_message(RunStarted(self.label_of(config), dict(info)))

    def on_batch(self, config, epoch, batch, n_batches, loss):
        now = time.monotonic()
        if batch == n_batches or now - self._last >= self.min_interval:
            self._last = now
            self.target.post_message(
                BatchProgress(self.label_of(config), epoch, config.epochs, batch, n_batches, float(loss)))

    def on_epoch_end(self, config, record):
        self.target.post_message(EpochDone(self.label_of(config), record))

    def on_run_end(self, result):
        self.ended.add(id(result))
        self.target.post_message(RunFinished(self.label_of(result.config), result))


def make_bridge(trainer, target, label_of, min_interval=0.05) -> Bridge:
    base = getattr(trainer, "Callbacks", object)
    cls = type("TuiCallbacks", (Bridge, base), {})
    return cls(target, label_of, min_interval)


_DATASETS: dict[tuple, object] = {}  # the last loaded splits, so Run again starts at once
_KEEP = 2


dataset_key = data_key  # configs with the same key share one loaded split


def load_dataset(trainer, config, target):
    """The split ``config`` names, loaded here (not by the trainer) with ``progress=False``:
    a download progress bar written to the terminal would tear the dashboard."""
    if not hasattr(trainer, "load_for"):
        return None  # a test double that makes its own data
    key = dataset_key(config)
    if key not in _DATASETS:
        what = (f"from {config.data_file}" if config.data_file else
                f"{config.dataset!r}" + (f" from {config.data_dir}" if config.data_dir else ""))
        target.post_message(LogLine(f"loading dataset {what}"))
        ds = trainer.load_for(config, progress=False)
        while len(_DATASETS) >= _KEEP:
            _DATASETS.pop(next(iter(_DATASETS)))
        _DATASETS[key] = ds
        target.post_message(LogLine(f"dataset: {getattr(ds, 'description', ds)}"))
    return _DATASETS[key]


def run_training(trainer, configs, target, label_of, cancel: threading.Event, min_interval=0.05) -> None:
    """Blocking: train ``configs`` one after another; always ends with one `JobDone` message.

    Any exception (a missing dataset, a bad value the form could not catch) is turned into a
    message: a worker thread must never print a traceback over the dashboard.
    """
    results, error = [], ""
    bridge = make_bridge(trainer, target, label_of, min_interval)
    try:
        for c in configs:
            c.validate()
        for _, group in itertools.groupby(configs, key=dataset_key):
            group = list(group)
            if cancel.is_set():
                break
            ds = load_dataset(trainer, group[0], target)
            results += trainer.train_many(group, dataset=ds, callbacks=bridge, cancel=cancel)
    except Exception as exc:  # noqa: BLE001 (shown to the user, never re-raised)
        error = f"{type(exc).__name__}: {exc}"
    target.post_message(JobDone(list(results), error))


def run_on(make_executor: Callable, configs, target, label_of, cancel: threading.Event, min_interval=0.05) -> None:
    """Blocking: ``configs`` through the executor ``make_executor()`` returns
    (`fastact.experiments.sweep.run_points`: this process writes each run as it comes back, in
    the order points finish), with the same messages as `run_training`, each run's epochs as they
    arrive from wherever it trains; always ends with one `JobDone` message."""
    results, error = [], ""
    bridge = make_bridge(training, target, label_of, min_interval)
    try:
        for c in configs:
            c.validate()
        ex = make_executor()
        target.post_message(LogLine(ex.describe()))
        with closing(ex):
            for _, r in run_points(configs, ex, bridge, cancel, labels=[label_of(c) for c in configs]):
                results.append(r)
                if id(r) not in bridge.ended:  # a point that never ran (its workers kept dying): no run end
                    target.post_message(RunFinished(label_of(r.config), r))
    except Exception as exc:  # noqa: BLE001 (shown to the user, never re-raised)
        error = f"{type(exc).__name__}: {exc}"
    target.post_message(JobDone(list(results), error))


def fmt_pct(v) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{100 * v:.2f}%"
