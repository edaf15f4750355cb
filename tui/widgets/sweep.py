"""The Sweep tab: final train and val accuracy against Leaky ReLU's slope or the depth.

Every other setting (epochs, width, optimizer, seed, data) comes from the Train tab's form,
so a sweep is the Train setup with one knob turned."""

from __future__ import annotations

import dataclasses
import threading

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from fastact_tui import form
from fastact_tui.messages import BatchProgress, JobDone, RunFinished, RunsChanged
from fastact_tui.widgets.charts import SeriesPlot
from fastact_tui.worker import fmt_pct, run_training

KINDS = {"slope": ("Leaky ReLU slope", "0 0.01 0.05 0.1 0.2 0.3 0.5"), "depth": ("Depth", "1 2 3 4")}


def parse_values(kind: str, text: str) -> list[float]:
    """The swept values; raises ValueError naming the bad one."""
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts:
        raise ValueError(f"enter at least one value. Received: values={text!r}")
    out = []
    for p in parts:
        try:
            v = int(p) if kind == "depth" else float(p)
        except ValueError:
            raise ValueError(f"{'depth must be an integer' if kind == 'depth' else 'slope must be a number'}. "
                             f"Received: {p!r}") from None
        if v < (1 if kind == "depth" else 0):
            raise ValueError(f"{kind} must be {'>= 1' if kind == 'depth' else '>= 0'}. Received: {kind}={p}")
        out.append(v)
    return out


class SweepView(Vertical):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.cancel, self.running = threading.Event(), False
        self.points: dict[str, float] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="sweep-controls"):
            yield Select([(v[0], k) for k, v in KINDS.items()], value="slope", allow_blank=False,
                         id="sweep-kind", compact=True)
            yield Input(KINDS["slope"][1], id="sweep-values", compact=True)
            yield Button("Run sweep", id="sweep-run", variant="success", compact=True)
            yield Button("Stop", id="sweep-stop", variant="error", compact=True, disabled=True)
        yield Static("", id="sweep-error", classes="error")
        yield Label("Uses the Train tab's settings; depth sweeps use its first ticked activation.",
                    id="sweep-note")
        with Horizontal(id="sweep-body"):
            yield SeriesPlot("Final accuracy (%)", xlabel="slope", percent=True, id="sweep-plot")
            yield DataTable(id="sweep-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("value", "train acc", "val acc", "status")

    @on(Select.Changed, "#sweep-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self.query_one("#sweep-values", Input).value = KINDS[event.value][1]
        self.query_one(SeriesPlot).xlabel = "slope" if event.value == "slope" else "hidden layers"

    def build(self):
        kind = self.query_one("#sweep-kind", Select).value
        values = parse_values(kind, self.query_one("#sweep-values", Input).value)
        parsed = self.app.query_one("TrainView").validate_form()
        if not parsed.ok:
            raise ValueError("the Train tab's settings have errors; fix them first")
        base = parsed.configs[0]
        if kind == "slope":
            cfgs = [dataclasses.replace(base, act="leaky_relu", act_params={"negative_slope": v}) for v in values]
        else:
            cfgs = [dataclasses.replace(base, hidden=(base.hidden[0],) * v) for v in values]
        return cfgs, [f"{v:g}" for v in values]

    @on(Button.Pressed, "#sweep-run")
    @on(Input.Submitted, "#sweep-values")
    def start(self) -> None:
        if self.running:
            return
        try:
            cfgs, labels = self.build()
        except ValueError as exc:
            self.query_one("#sweep-error", Static).update(str(exc))
            self.app.notify(str(exc), severity="warning")
            return
        self.query_one("#sweep-error", Static).update("")
        self.labels = {form.config_key(c): lab for c, lab in zip(cfgs, labels)}
        plot = self.query_one(SeriesPlot)
        plot.clear_series()
        plot.replot()
        self.query_one(DataTable).clear()
        self.cancel, self.running = threading.Event(), True
        self._buttons()
        self.app.set_state(state="sweeping")
        self.app.log_event(f"sweep: {len(cfgs)} runs over {', '.join(labels)}")
        self._sweep(self.app.trainer, cfgs, self.cancel)

    def stop(self) -> None:
        if self.running:
            self.cancel.set()
            self.app.set_state(state="stopping")

    @on(Button.Pressed, "#sweep-stop")
    def _stop_pressed(self) -> None:
        self.stop()

    def _buttons(self) -> None:
        self.query_one("#sweep-run", Button).disabled = self.running
        self.query_one("#sweep-stop", Button).disabled = not self.running

    def label_of(self, config) -> str:
        return self.labels.get(form.config_key(config), config.act)

    @work(thread=True, group="sweep", exit_on_error=False)
    def _sweep(self, trainer, configs, cancel) -> None:
        run_training(trainer, configs, self, self.label_of, cancel)

    def on_batch_progress(self, msg: BatchProgress) -> None:
        self.query_one("#sweep-note", Label).update(
            f"{msg.label} · epoch {msg.epoch}/{msg.epochs} · batch {msg.batch}/{msg.n_batches}")

    def on_run_finished(self, msg: RunFinished) -> None:
        res = msg.result
        last = res.history[-1] if res.history else None
        x = float(msg.label)
        plot = self.query_one(SeriesPlot)
        if last is not None:
            plot.add_point("train", x, last.train_acc)
            plot.add_point("val", x, last.val_acc)
            plot.replot()
        self.query_one(DataTable).add_row(msg.label, fmt_pct(last and last.train_acc),
                                          fmt_pct(last and last.val_acc), res.status)
        level = "info" if res.status in ("completed", "cancelled") else "warning"
        self.app.log_event(f"sweep {msg.label}: {res.status} {res.message}".rstrip(), level,
                           notify=res.status in ("diverged", "failed"))

    def on_job_done(self, msg: JobDone) -> None:
        self.running = False
        self._buttons()
        self.app.set_state(state="error" if msg.error else "stopped" if self.cancel.is_set() else "done")
        self.query_one("#sweep-note", Label).update(msg.error or "sweep finished")
        if msg.error:
            self.app.log_event(msg.error, "error", notify=True)
        self.app.post_message(RunsChanged())
