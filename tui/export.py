"""Export the dashboard's charts as PNG and SVG, through the same figure code as ``fastact report
--figures`` (`fastact.experiments.figures`): the Train tab's training accuracy, validation
accuracy and training loss per epoch, the Sweep tab's final accuracies and the Study tab's
validation curves of the part it shows, when they have any. (A whole study's figures and report:
``fastact report STUDY --figures STUDY/figures``.)

`snapshot` copies the series in the UI thread (the charts keep changing while a run trains);
`write` draws and writes them and may take a second (matplotlib's import, rendering), so the app
calls it in a worker thread that reports back with one `ExportDone` message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message

TRAIN_PANELS = (("train", "train_acc"), ("val", "val_acc"), ("loss", "train_loss"))


@dataclass
class Snapshot:
    """What the charts showed: ``train[metric][label] = (xs, ys)`` (accuracies in percent), and the
    sweep's ``[label] = (values, final accuracy %)`` with its x-axis name."""

    train: dict = field(default_factory=dict)
    sweep: dict = field(default_factory=dict)
    sweep_xlabel: str = ""
    study: dict = field(default_factory=dict)  # [label] = (epochs, mean validation accuracy %)
    study_part: str = ""
    protocol: str = ""  # the Train tab's runs, as the figures' titles state it

    @property
    def empty(self) -> bool:
        return not any(self.train.values()) and not self.sweep and not self.study


@dataclass
class ExportDone(Message):
    paths: list  # every file written (PNG and SVG of each figure)
    error: str = ""


def _copy(series: dict) -> dict:
    return {name: (list(xs), list(ys)) for name, (xs, ys) in series.items() if xs}


def train_protocol(view) -> str:
    """The protocol line of the Train tab's runs: the finished ones (their data is recorded), else
    the configurations the form holds."""
    from fastact.experiments.figures.protocol import protocol

    runs = [{"config": r.config.to_dict(), "meta": getattr(r, "meta", None) or {}, "history": []}
            for r in getattr(view, "results", [])]
    if not runs and getattr(view, "parsed", None) is not None:
        runs = [{"config": c.to_dict(), "history": []} for c in view.parsed.configs]
    return protocol([], runs) if runs else ""


def snapshot(app) -> Snapshot:
    """The series the app's charts hold now (UI thread only)."""
    snap = Snapshot()
    view = app.query("TrainView")
    if view:
        snap.protocol = train_protocol(view.first())
    charts = app.query("#charts")
    if charts:
        panel = charts.first()
        snap.train = {metric: _copy(panel.plot(key).series) for key, metric in TRAIN_PANELS}
        snap.train = {m: s for m, s in snap.train.items() if s}
    sweep = app.query("#sweep-plot")
    if sweep:
        plot = sweep.first()
        snap.sweep, snap.sweep_xlabel = _copy(plot.series), plot.xlabel
    study = app.query("#study-plot")
    if study:
        snap.study = _copy(study.first().series)
        part = app.query("#study-part")
        snap.study_part = str(part.first().value) if part and part.first().value is not None else ""
    return snap


def write(snap: Snapshot, outdir, stamp: str | None = None) -> list[Path]:
    """Draw and write ``snap``'s figures into ``outdir``; returns the files (PNG, SVG per figure)."""
    from fastact.experiments.figures import curves, lines, writers

    stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
    written = []
    if snap.train:
        title = "fastact-tui: the Train tab's charts (one line per run)"
        title += f"\n{snap.protocol}" if snap.protocol else ""
        data = curves.series_data(snap.train, title)
        written.append(writers.save(lines.draw(data), outdir, f"tui-train-{stamp}"))
    if snap.sweep:
        data = curves.series_data({"final_acc": snap.sweep}, "fastact-tui: the Sweep tab's final accuracies",
                                  xlabel=snap.sweep_xlabel)
        written.append(writers.save(lines.draw(data), outdir, f"tui-sweep-{stamp}"))
    if snap.study:
        part = f" (part {snap.study_part})" if snap.study_part else ""
        data = curves.series_data({"val_acc": snap.study}, f"fastact-tui: the Study tab's validation accuracy{part}, "
                                  "mean over seeds")
        written.append(writers.save(lines.draw(data), outdir, f"tui-study-{stamp}"))
    return [p for w in written for p in (w.png, w.svg)]


def run_export(snap: Snapshot, outdir, target) -> None:
    """Blocking (a worker thread): `write`, then post one `ExportDone` to ``target``; never raises."""
    try:
        target.post_message(ExportDone(write(snap, outdir)))
    except Exception as exc:  # noqa: BLE001 (shown to the user, never re-raised in a worker)
        target.post_message(ExportDone([], f"{type(exc).__name__}: {exc}"))
