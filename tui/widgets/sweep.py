"""The Sweep tab: final train and val accuracy against any setting `fastact sweep` can vary
(Leaky ReLU's slope, depth, width, learning rate, every activation parameter), with the same
values syntax (`fastact.experiments.sweep.parse_values`: ``0:1:0.25``, ``0 0.1 0.5``).

Every other setting (epochs, width, optimizer, seeds, data) comes from the Train tab's form, so
a sweep is the Train setup with one knob turned: the same configs `fastact sweep` builds."""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from fastact.errors import SettingsError
from fastact.experiments.sweep import build_configs, parse_values, targets
from fastact_tui import form
from fastact_tui.messages import BatchProgress, JobDone, LogLine, RunFinished, RunsChanged
from fastact_tui.widgets.charts import SeriesPlot
from fastact_tui.widgets.fields import VALUES, FieldInput
from fastact_tui.worker import fmt_pct, run_training

TARGETS = targets()
FIRST = "leaky-slope"


class SweepView(Vertical):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.cancel, self.running = threading.Event(), False
        self.values: dict[tuple, float] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="sweep-controls"):
            yield Select([(name, name) for name in TARGETS], value=FIRST, allow_blank=False,
                         id="sweep-kind", compact=True)
            yield FieldInput(TARGETS[FIRST].example, accepts=VALUES, id="sweep-values", compact=True,
                             tooltip="values or start:stop:step ranges, separated by spaces or commas "
                                     "(as fastact sweep --values)")
            yield Button("Run sweep", id="sweep-run", variant="success", compact=True)
            yield Button("Stop", id="sweep-stop", variant="error", compact=True, disabled=True)
        yield Static("", id="sweep-error", classes="error")
        yield Label("Uses the Train tab's settings and ticked activations (a parameter sweep uses its own).",
                    id="sweep-note")
        with Horizontal(id="sweep-body"):
            yield SeriesPlot("Final accuracy (%)", xlabel=FIRST, percent=True, id="sweep-plot")
            yield DataTable(id="sweep-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("point", "train acc", "val acc", "status")

    @on(Select.Changed, "#sweep-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self.query_one("#sweep-values", Input).value = TARGETS[event.value].example
        self.query_one(SeriesPlot).xlabel = event.value

    def build(self):
        """The sweep's configs and labels, exactly as `fastact sweep` builds them; raises ValueError."""
        target = TARGETS[self.query_one("#sweep-kind", Select).value]
        values = parse_values(self.query_one("#sweep-values", Input).value)
        parsed = self.app.query_one("TrainView").validate_form()
        if not parsed.ok:
            raise ValueError("the Train tab's settings have errors; fix them first")
        cfgs = build_configs(target, values, parsed.configs)
        self.values = {form.config_key(c): target.value_of(c.to_dict()) for c in cfgs}
        many_acts, many_seeds = len({c.act for c in cfgs}) > 1, len({c.seed for c in cfgs}) > 1
        labels = [" ".join([*([c.act] if many_acts else []), f"{target.value_of(c.to_dict()):g}",
                            *([f"s{c.seed}"] if many_seeds else [])]) for c in cfgs]
        return cfgs, labels

    @on(Button.Pressed, "#sweep-run")
    @on(Input.Submitted, "#sweep-values")
    def start(self) -> None:
        if self.running:
            return
        try:
            cfgs, labels = self.build()
        except SettingsError as exc:
            self.query_one("#sweep-error", Static).update(str(exc))
            self.app.notify(str(exc), severity="warning")
            return
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

    def on_log_line(self, msg: LogLine) -> None:
        # Logged here, not bubbled to the app: a bubbled line would land after this view's own
        # lines for the same moment (the dataset line after "started").
        msg.stop()
        self.app.log_event(msg.text, msg.level)

    def on_batch_progress(self, msg: BatchProgress) -> None:
        self.query_one("#sweep-note", Label).update(
            f"{msg.label} · epoch {msg.epoch}/{msg.epochs} · batch {msg.batch}/{msg.n_batches}")

    def on_run_finished(self, msg: RunFinished) -> None:
        res = msg.result
        last = res.history[-1] if res.history else None
        x = self.values.get(form.config_key(res.config))
        plot = self.query_one(SeriesPlot)
        if last is not None and x is not None:
            plot.add_point(f"{res.config.act} train", x, last.train_acc)
            plot.add_point(f"{res.config.act} val", x, last.val_acc)
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
