"""Running a study: its directory, resuming, and the events interfaces follow it by.

A study directory holds

* ``spec.toml``: the spec as given (``study.json`` says whether ``--quick`` applied);
* ``runs/<key>/``: one run directory per point (`fastact.training.runs`), written by this
  process from the finished result, atomically (`fastact.training.runs.write_run`): it exists
  complete or not at all;
* ``study.json``: name, data identity, counts, each point's label, parts, status and time, the
  points in flight; rewritten atomically whenever a point starts or ends;
* ``results.csv``: one row per finished point, every setting and every metric
  (`fastact.experiments.tables.write_runs_csv`);
* ``study.lock``: held while a runner works here (a second one is refused).

**Resume.** A point's state is its run directory: ``completed`` and ``diverged`` points are
done (a divergence is a result: the same config diverges again, bitwise; ``retry_diverged``
reruns them), ``failed`` ones are rerun with ``retry_failed``, anything else (no directory: the
point was in flight when the process stopped, or cancelled) is run from scratch. Points are keyed
(`fastact.experiments.identity.run_key`), so a rerun never duplicates one, and a changed spec
reuses every point it still has. Ctrl-C or a kill loses only the points in flight.

The data: ``dataset="auto"`` is resolved to the dataset actually loaded before the points are
keyed (``auto`` and ``mnist`` are the same study), and the data's identity (name and file
checksums) is recorded; running the study again on different data is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastact.data import DATASETS
from fastact.experiments import identity
from fastact.experiments.estimate import Rate, cost
from fastact.experiments.metrics import data_identity
from fastact.experiments.spec import Point, StudySpec
from fastact.experiments.tables import write_runs_csv
from fastact.experiments.tasks import SerialExecutor, StudyExecutor, Task, failure
from fastact.training import Callbacks, RunResult, runfiles
from fastact.training import runs as saved
from fastact.training.runfiles import MalformedRun

SPEC, STATE, RESULTS, LOCK, RUNS = "spec.toml", "study.json", "results.csv", "study.lock", "runs"
DONE = ("completed", "diverged")


class StudyError(ValueError):
    """The study cannot run here (another runner holds it, it ran on other data)."""


@dataclass
class StudyRun:
    """A study in progress: what interfaces read in their `StudyEvents` hooks."""

    spec: StudySpec
    dir: Path
    points: list[Point]
    status: dict[str, str]  # key -> "pending", "running", or a run status
    seconds: dict[str, float] = field(default_factory=dict)
    n_train: int = 0
    input_dim: int = 784
    n_classes: int = 10
    rate: Rate = field(default_factory=Rate)
    started: float = field(default_factory=time.monotonic)
    data: str | None = None
    dataset_name: str | None = None
    #: one line per point whose run folder is malformed (`fastact.training.runfiles`): it runs again
    skipped: list[str] = field(default_factory=list)

    def count(self, *statuses) -> int:
        return sum(1 for p in self.points if self.status[p.key] in statuses)

    @property
    def total(self) -> int:
        return len(self.points)

    @property
    def left(self) -> int:
        return self.count("pending", "running", "cancelled", "interrupted")

    def cost(self, point: Point) -> float:
        return cost(point.config, self.n_train or 1, self.input_dim, self.n_classes)

    def eta(self) -> float | None:
        """Seconds until the points left are done, from the measured points' times."""
        left = sum(self.cost(p) for p in self.points if self.status[p.key] not in (*DONE, "failed"))
        return self.rate.eta(left)

    def summary(self) -> str:
        """``52 points: 40 done (2 diverged), 1 failed, 11 left``."""
        done, div, failed = self.count(*DONE), self.count("diverged"), self.count("failed")
        return (f"{self.total} points: {done} done" + (f" ({div} diverged)" if div else "")
                + f", {failed} failed, {self.left} left")

    def state(self) -> dict:
        return {"name": self.spec.name, "source": self.spec.source, "quick": self.spec.quick, "data": self.data,
                "dataset_name": self.dataset_name,
                "total": self.total, "done": self.count(*DONE), "diverged": self.count("diverged"),
                "failed": self.count("failed"), "left": self.left,
                "running": [p.key for p in self.points if self.status[p.key] == "running"],
                "updated": saved.now_iso(),
                "points": [{"key": p.key, "label": p.label, "parts": p.parts, "status": self.status[p.key],
                            "seconds": self.seconds.get(p.key)} for p in self.points]}


class StudyEvents(Callbacks):
    """Trainer callbacks (for the point running here) plus the study's own hooks; no-op base."""

    def on_study_start(self, study: StudyRun): ...
    def on_point_start(self, study: StudyRun, point: Point): ...
    def on_point_end(self, study: StudyRun, point: Point, result: RunResult): ...
    def on_study_end(self, study: StudyRun): ...


def read_state(out) -> dict | None:
    """``study.json`` (None when missing or malformed: it is rewritten from the run folders)."""
    p = Path(out) / STATE
    try:
        return runfiles.read_json(p) if p.is_file() else None
    except MalformedRun:
        return None


def point_states(out, points: list[Point], skipped: list[str] | None = None) -> dict[str, str]:
    """key -> status from the run directories (``pending`` where there is none, or where its summary
    is malformed: then one line naming the file is added to ``skipped``)."""
    root = Path(out) / RUNS
    states = {}
    for p in points:
        try:
            s = _read_summary(root / p.key / saved.SUMMARY)
        except MalformedRun as exc:
            if skipped is not None:
                skipped.append(str(exc))
            s = None
        states[p.key] = "pending" if s is None else s.get("status", "interrupted")
    return states


def _read_summary(path: Path) -> dict | None:
    """A run's checked summary, None when it has none (raises `MalformedRun` for a malformed one)."""
    if not path.is_file():
        return None
    summary = runfiles.read_json(path)
    runfiles.check_summary(path, summary)
    return summary


@contextlib.contextmanager
def _locked(out: Path):
    fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StudyError(f"another fastact study is running in {out} (it holds {LOCK})") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock; a killed process releases it too


def _write_json(path: Path, data: dict) -> None:
    saved.write_json(path, data)


def resolved_name(dataset) -> str | None:
    """The registry name ``dataset="auto"`` stands for, given the loaded dataset (None: keep "auto")."""
    name = getattr(dataset, "name", None)
    return name if name in DATASETS else None


def open_study(spec: StudySpec, out, dataset=None, dataset_name: str | None = None,
               machine: dict | None = None) -> StudyRun:
    """The study's state in ``out`` without running anything (what ``--dry-run`` shows).

    ``dataset``: the loaded data (resolves ``auto``; its sizes feed the cost model), or only
    ``dataset_name`` (a study read back). ``machine``: ``data_dir``/``threads`` for every point.
    """
    out = Path(out)
    name = resolved_name(dataset) if dataset is not None else dataset_name
    points = spec.points(name, **(machine or {}))
    skipped: list[str] = []
    run = StudyRun(spec, out, points, point_states(out, points, skipped), skipped=skipped)
    run.dataset_name = name
    if dataset is not None:
        run.n_train, run.input_dim, run.n_classes = len(dataset.y_train), dataset.input_dim, dataset.n_classes
        run.data = data_identity(dataset.to_config())
    for p in points:
        if run.status[p.key] in DONE:
            s = _summary(out, p.key)
            run.seconds[p.key] = s.get("seconds")
            run.rate.add(s.get("seconds"), run.cost(p))
    return run


def _summary(out: Path, key: str) -> dict:
    try:
        return _read_summary(out / RUNS / key / saved.SUMMARY) or {}
    except MalformedRun:
        return {}


class _Forward(Callbacks):
    """The executor's trainer events -> the study's: marks a point running when it starts."""

    def __init__(self, run: StudyRun, events: StudyEvents, by_key: dict):
        self.run, self.events, self.by_key = run, events, by_key

    def on_run_start(self, config, info):
        point = self.by_key.get(identity.run_key(config.to_dict()))
        if point is not None:
            self.run.status[point.key] = "running"
            _write_json(self.run.dir / STATE, self.run.state())
            self.events.on_point_start(self.run, point)
        self.events.on_run_start(config, info)

    def on_batch(self, config, epoch, batch, n_batches, loss):
        self.events.on_batch(config, epoch, batch, n_batches, loss)

    def on_epoch_end(self, config, record):
        self.events.on_epoch_end(config, record)

    def on_run_end(self, result):
        self.events.on_run_end(result)


def run_study(spec: StudySpec, out, executor: StudyExecutor | None = None, dataset=None,
              retry_failed: bool = False, retry_diverged: bool = False, events: StudyEvents | None = None,
              cancel: threading.Event | None = None, machine: dict | None = None) -> StudyRun:
    """Run every point of ``spec`` not done yet in ``out`` (module docstring); returns the final state.

    Args:
        dataset: the loaded data (resolves ``auto``, gives the data identity and the cost model's
            sizes); the executor loads each point's split itself.
        events: progress hooks (the point's trainer events come through the executor).
        machine: ``data_dir``/``threads`` for every point (not part of a point's key).
        cancel: once set, no new point starts; a point cut short is left to run again.

    Raises:
        StudyError: another runner holds ``out``, or it ran on different data.
        KeyboardInterrupt: after ``study.json`` records what finished.
    """
    out = Path(out)
    (out / RUNS).mkdir(parents=True, exist_ok=True)
    events = events or StudyEvents()
    executor = executor or SerialExecutor()
    with _locked(out):
        saved.clean_partial(out / RUNS)
        run = open_study(spec, out, dataset, machine=machine)
        before = read_state(out) or {}
        if before.get("data") and run.data and before["data"] != run.data:
            raise StudyError(f"{out} holds a study run on {before['data']}; this data is {run.data} "
                             f"(use another --out)")
        tmp = out / (SPEC + ".tmp")
        tmp.write_text(spec.text)
        os.replace(tmp, out / SPEC)
        again = {"failed"} if retry_failed else set()
        again |= {"diverged"} if retry_diverged else set()
        todo = [p for p in run.points if run.status[p.key] not in DONE + ("failed",) or run.status[p.key] in again]
        for p in todo:
            run.status[p.key] = "pending"
        # Seed by seed (each seed is one validation split: one dataset in memory at a time).
        order = {p.key: i for i, p in enumerate(run.points)}
        todo.sort(key=lambda p: (p.config.seed, order[p.key]))
        _write_json(out / STATE, run.state())
        events.on_study_start(run)
        by_key = {p.key: p for p in run.points}
        try:
            tasks = [Task(p.key, p.label, p.config) for p in todo]
            for task, outcome in executor.submit(tasks, _Forward(run, events, by_key), cancel):
                point = by_key[task.key]
                result = outcome if isinstance(outcome, RunResult) else failure(task, outcome)
                if result.status == "cancelled":
                    run.status[point.key] = "pending"
                    continue
                saved.write_run(out / RUNS, point.key, result)
                run.status[point.key] = result.status
                run.seconds[point.key] = result.seconds
                if result.status in DONE:
                    run.rate.add(result.seconds, run.cost(point))
                _write_json(out / STATE, run.state())
                events.on_point_end(run, point, result)
        finally:
            for k, s in run.status.items():
                if s == "running":
                    run.status[k] = "pending"
            _write_json(out / STATE, run.state())
            write_results(run)
        events.on_study_end(run)
        return run


def load_runs(run: StudyRun) -> dict[str, dict]:
    """key -> `fastact.training.runs.load_run` of every point with a run directory."""
    out = {}
    for p in run.points:
        d = run.dir / RUNS / p.key
        if (d / saved.SUMMARY).is_file():
            try:
                out[p.key] = saved.load_run(d)
            except MalformedRun as exc:  # left out of the results, named once in run.skipped
                if str(exc) not in run.skipped:
                    run.skipped.append(str(exc))
    return out


def write_results(run: StudyRun) -> int:
    """``results.csv``: one row per point that has run (in spec order); returns the row count."""
    runs = load_runs(run)
    rows = [(runs[p.key], {"key": p.key, "label": p.label, "parts": ";".join(p.parts)})
            for p in run.points if p.key in runs]
    return write_runs_csv([r for r, _ in rows], run.dir / RESULTS, [extra for _, extra in rows])


def fmt_seconds(s: float | None) -> str:
    """``1h02m``, ``3m05s``, ``12s``, ``0.4s`` (``?`` when unknown)."""
    if s is None or not math.isfinite(s):
        return "?"
    if s < 9.95:
        return f"{s:.1f}s"
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
