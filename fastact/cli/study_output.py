"""What ``fastact study`` prints: a study-level progress bar (points done / total, ETA from the
points' measured times) with one compact line per finished point, or plain lines (``--quiet``);
then, per part, the grouped table and the comparisons against the part's baseline."""

from __future__ import annotations

import math

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fastact.experiments import analysis, charts, identity, tables
from fastact.experiments.metrics import run_metrics
from fastact.experiments.runner import DONE, StudyEvents, fmt_seconds


def point_line(study, point, result) -> str:
    """``[12/52] relu depth=3 seed=1: completed  best val 97.90% @8  test 97.70%  41.2s``."""
    m = run_metrics(result)
    done = study.count(*DONE) + study.count("failed")
    head = f"[{done}/{study.total}] {point.label}: {result.status}"
    if result.status not in DONE:
        return f"{head} ({result.message})"
    best = "" if m["best_val_acc"] is None else f"  best val {tables.fmt_pct(m['best_val_acc'])} @{m['best_val_epoch']}"
    test = "" if m["test_acc"] is None else f"  test {tables.fmt_pct(m['test_acc'])}"
    stop = f"  stopped at {result.stopped_epoch}" if result.stopped_epoch else ""
    return f"{head}{best}{test}{stop}  {fmt_seconds(result.seconds)}"


class StudyConsole(StudyEvents):
    """The study's progress on a console (module docstring)."""

    def __init__(self, console: Console, quiet: bool = False):
        self.console, self.quiet = console, quiet
        self.progress, self.task, self.labels = None, None, {}

    def on_study_start(self, study):
        self.labels = {p.key: p.label for p in study.points}
        self.console.print(f"study {study.spec.name}{' (quick)' if study.spec.quick else ''} in {study.dir}: "
                           f"{study.summary()}")
        if self.quiet or not study.left:
            return
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("ETA {task.fields[eta]}"), TimeElapsedColumn(),
                                 console=self.console, transient=True)
        self.task = self.progress.add_task("starting", total=study.total, completed=study.count(*DONE, "failed"),
                                           eta=fmt_seconds(study.eta()))
        self.progress.start()

    def _label(self, config) -> str:
        return self.labels.get(identity.run_key(config.to_dict()), config.act)

    def on_point_start(self, study, point):
        if self.progress is not None:
            self.progress.update(self.task, description=point.label)

    def on_epoch_end(self, config, record):
        if self.progress is not None:
            self.progress.update(self.task, description=f"{self._label(config)} · epoch {record.epoch}/"
                                 f"{config.epochs} · val {tables.fmt_pct(record.val_acc)}")

    def on_point_end(self, study, point, result):
        line = point_line(study, point, result)
        if self.progress is None:
            self.console.print(line, highlight=False)
            return
        self.progress.console.print(line, highlight=False)
        self.progress.update(self.task, completed=study.count(*DONE, "failed"), eta=fmt_seconds(study.eta()))

    def stop(self):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def on_study_end(self, study):
        self.stop()


def part_charts(study: analysis.Study, part, groups, color: bool, width: int) -> list[str]:
    """A part over activations only: accuracy per epoch; over one other setting: final accuracy
    against it (a series per activation); anything else: none (the table says it all)."""
    axes = [k for k in part.axes if k != "act"]
    if not axes:
        return charts.accuracy_charts(None, color, width, groups)
    if len(axes) == 1 and axes[0] != "hidden":
        points = tables.sweep_points(analysis.part_runs(study, part), axes[0])
        return charts.sweep_charts(points, axes[0], color, width)
    return []


def print_results(console: Console, study: analysis.Study, metric: str = "test_acc", show_charts: bool = False,
                  width: int = 100) -> None:
    """Each part's grouped table (and charts), comparisons and significance statements."""
    for part in study.spec.parts:
        groups = analysis.part_groups(study, part)
        if not groups:
            continue
        title = f"{part.name}: {part.title}" if part.title else part.name
        console.print(tables.summary_table(None, title, groups=groups))
        if show_charts:
            for chart in part_charts(study, part, groups, console.is_terminal, width):
                console.out(chart, highlight=False)
        comps = analysis.part_comparisons(part, groups, metric)
        if comps:
            console.print(tables.comparison_table(comps, f"{part.name}: paired by seed against the baseline "
                                                         f"({metric}, Holm-corrected)"))
            for c in comps:
                if c.verdict in ("better", "worse"):
                    console.print(analysis.statement(c), highlight=False)
            noise = [c.group for c in comps if c.verdict == "within noise"]
            if noise:
                console.print(f"within noise of the baseline: {', '.join(noise)}", highlight=False)


def estimate_line(n: int, seconds: float) -> str:
    return f"{n} points to run, about {fmt_seconds(seconds)}" if math.isfinite(seconds) else f"{n} points to run"
