"""The Study tab's worker side: `fastact.experiments.runner` events -> small messages.

Everything heavy (reading the finished runs, grouping, statistics) happens here in the worker
thread; the UI receives ready rows and series (`PartView`) and only draws them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from textual.message import Message

from fastact.experiments import analysis, charts
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
    """Points done of total, the ETA, what runs now; ``views`` is set when results changed."""

    done: int
    total: int
    text: str
    views: dict | None = None


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


class StudyBridge(StudyEvents):
    """Posts `StudyProgress` to ``target``: at each point's end (with fresh views), and at most
    every ``min_interval`` seconds while one trains."""

    def __init__(self, target, min_interval: float = 0.2):
        self.target, self.min_interval, self._last, self.run, self.current = target, min_interval, 0.0, None, ""

    def _progress(self, views=None) -> None:
        run = self.run
        done = run.count("completed", "diverged", "failed")
        text = f"{done}/{run.total} points · ETA {fmt_seconds(run.eta())}"
        text += f" · {self.current}" if self.current else ""
        self.target.post_message(StudyProgress(done, run.total, text, views))

    def on_study_start(self, run):
        self.run = run
        self.target.post_message(LogLine(f"study {run.spec.name} in {run.dir}: {run.summary()}"))
        self._progress(part_views(run))

    def on_point_start(self, run, point):
        self.current = point.label
        self._progress()

    def on_epoch_end(self, config, record):
        now = time.monotonic()
        if now - self._last >= self.min_interval:
            self._last = now
            self.current = f"{self.current.split(' · ')[0]} · epoch {record.epoch}/{config.epochs}"
            self._progress()

    def on_point_end(self, run, point, result):
        self.current = ""
        level = "info" if result.status in ("completed", "diverged") else "warning"
        self.target.post_message(LogLine(f"study {point.label}: {result.status} {result.message}".rstrip(), level))
        self._progress(part_views(run))
