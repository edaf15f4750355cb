"""Messages from worker threads to the UI: small dataclasses, posted with `post_message`
(thread-safe), so a worker never touches a widget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class RunStarted(Message):
    label: str
    info: dict


@dataclass
class BatchProgress(Message):
    label: str
    epoch: int
    epochs: int
    batch: int
    n_batches: int
    loss: float


@dataclass
class EpochDone(Message):
    label: str
    record: Any  # fastact.training.EpochRecord


@dataclass
class RunFinished(Message):
    label: str
    result: Any  # fastact.training.RunResult


@dataclass
class JobDone(Message):
    """A whole batch of runs (or benchmarks) ended; ``error`` is set when it raised."""

    results: list
    error: str = ""


@dataclass
class BenchProgress(Message):
    done: int
    total: int
    result: Any  # fastact.benchmarks.BenchResult


@dataclass
class LogLine(Message):
    text: str
    level: str = "info"  # "info" | "warning" | "error"


@dataclass
class RunsChanged(Message):
    """New result files may exist: the Runs tab rescans."""


@dataclass
class RunsScanned(Message):
    """The Runs tab's scan finished: the runs read (by id), one line per run skipped, ``error`` if it
    raised, and each run's flat settings and the settings that vary among them (computed off the UI
    thread too)."""

    runs: dict
    skipped: list
    error: str = ""
    flats: dict = field(default_factory=dict)
    varying: list = field(default_factory=list)


@dataclass
class SweepPrepared(Message):
    """The Sweep tab's configs, built in a worker thread (up to 100,000, each validated); ``error``: why not."""

    configs: list
    labels: list
    error: str = ""
