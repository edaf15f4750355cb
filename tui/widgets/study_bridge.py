"""The Study tab's worker side: `fastact.experiments.runner` events -> small messages.

Everything heavy (reading the finished runs, grouping, statistics) happens here in the worker
thread; the UI receives ready rows and series (`PartView`) and only draws them. The points in
flight (one when serial, one per worker thread on Dask) are followed epoch by epoch from the
executor's forwarded trainer events, so their validation curves are drawn while they train.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from textual.message import Message

from fastact.experiments import analysis, charts, identity
from fastact.experiments.runner import StudyEvents, fmt_seconds
from fastact.experiments.tables import fmt_ci, fmt_pct, group_label
from fastact_tui.messages import LogLine


@dataclass
class PartView:
    """One part, drawn: table rows (label, runs, test acc, 95% CI, best val, status) and the
    validation accuracy (%) per epoch of each configuration (mean over seeds)."""

    rows: list[tuple] = field(default_factory=list)
    series: dict[str, tuple[list, list]] = field(default_factory=dict)
    note: str = ""


@dataclass
class StudyProgress(Message):
    """Points done of total, the ETA, what runs now; ``views`` is set when results changed;
    ``live``: label -> (its parts, epochs, validation accuracy %) of each point in flight."""

    done: int
    total: int
    text: str
    views: dict | None = None
    live: dict = field(default_factory=dict)


@dataclass
class StudyFinished(Message):
    summary: str
    error: str = ""


def part_views(run, study=None) -> dict[str, PartView]:
    """part name -> `PartView` from the points finished so far."""
    study = study or analysis.Study(run, analysis.load_runs(run))
    out = {}
    for part in run.spec.parts:
        groups = analysis.part_groups(study, part)
        rows = [(group_label(g), str(len(g.runs)), fmt_pct(g.stat("test_acc").mean, g.stat("test_acc").std),
                 fmt_ci(g.stat("test_acc")), fmt_pct(g.stat("best_val_acc").mean),
                 ", ".join(sorted(g.statuses))) for g in groups]
        series, note = charts.capped(charts.epoch_series(None, "val_acc", groups), "pick a part with fewer")
        out[part.name] = PartView(rows, series, note)
    return out


@dataclass
class _Flight:
    """A point in flight: what the progress line and the live curve show of it."""

    label: str
    parts: list
    epochs: int
    epoch: int = 0
    xs: list = field(default_factory=list)
    ys: list = field(default_factory=list)


class StudyBridge(StudyEvents):
    """Posts `StudyProgress` to ``target``: at each point's start and end (with fresh views), and
    at most every ``min_interval`` seconds (default `MIN_INTERVAL`) while points train."""

    MIN_INTERVAL = 0.2

    def __init__(self, target, min_interval: float | None = None):
        self.target, self._last, self.run = target, 0.0, None
        self.min_interval = self.MIN_INTERVAL if min_interval is None else min_interval
        self.flight: dict[str, _Flight] = {}  # point key -> its progress (start order)

    def _running(self) -> str:
        words = [f"{f.label} · epoch {f.epoch}/{f.epochs}" if f.epoch else f.label for f in self.flight.values()]
        return words[0] if len(words) == 1 else f"{len(words)} running: {', '.join(words)}" if words else ""

    def _progress(self, views=None) -> None:
        run = self.run
        done = run.count("completed", "diverged", "failed")
        text = f"{done}/{run.total} points · ETA {fmt_seconds(run.eta())}"
        text += f" · {self._running()}" if self.flight else ""
        live = {f.label: (list(f.parts), list(f.xs), list(f.ys)) for f in self.flight.values()}
        self.target.post_message(StudyProgress(done, run.total, text, views, live))

    def on_study_start(self, run):
        self.run = run
        self.target.post_message(LogLine(f"study {run.spec.name} in {run.dir}: {run.summary()}"))
        self._progress(part_views(run))

    def on_point_start(self, run, point):
        # Again for a point whose worker died: its curve starts over with the new attempt.
        self.flight[point.key] = _Flight(point.label, list(point.parts), point.config.epochs)
        self._progress()

    def on_epoch_end(self, config, record):
        f = self.flight.get(identity.run_key(config.to_dict()))
        if f is not None:
            f.epoch = record.epoch
            f.xs.append(record.epoch)
            f.ys.append(None if record.val_acc is None else 100 * record.val_acc)  # in %, as the part's curves
        now = time.monotonic()
        if now - self._last >= self.min_interval:
            self._last = now
            self._progress()

    def on_point_end(self, run, point, result):
        self.flight.pop(point.key, None)
        level = "info" if result.status in ("completed", "diverged") else "warning"
        self.target.post_message(LogLine(f"study {point.label}: {result.status} {result.message}".rstrip(), level))
        self._progress(part_views(run))
