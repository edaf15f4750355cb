"""The Sweep tab: final train and val accuracy against any setting `fastact sweep` can vary
(Leaky ReLU's slope, depth, width, learning rate, every activation parameter), with the same
values syntax (`fastact.experiments.sweep.parse_values`: ``0:1:0.25``, ``0 0.1 0.5``).

Every other setting (epochs, width, optimizer, seeds, data) comes from the Train tab's form, so
a sweep is the Train setup with one knob turned: the same configs `fastact sweep` builds. The
points run where the executor controls say (`fastact_tui.widgets.executor`): serial here (the
Train tab's trainer), or on a Dask cluster, each run's files written here as it comes back."""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from fastact.experiments.sweep import build_configs, parse_values, targets
from fastact.nn.memory import MemoryBudgetError
from fastact.training.memory import check_runs
from fastact_tui import form
from fastact_tui.messages import BatchProgress, EpochDone, JobDone, LogLine, RunFinished, RunsChanged, SweepPrepared
from fastact_tui.widgets import executor as where
from fastact_tui.widgets.charts import SeriesPlot
from fastact_tui.widgets.fields import VALUES, FieldInput
from fastact_tui.worker import fmt_pct, run_on, run_training

TARGETS = targets()
FIRST = "leaky-slope"


class SweepView(Vertical):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.cancel, self.running = threading.Event(), False
        self.values: dict[tuple, float] = {}
        self._by_label: tuple = (None, {})

    def compose(self) -> ComposeResult:
        with Horizontal(id="sweep-controls"):
            yield Select([(name, name) for name in TARGETS], value=FIRST, allow_blank=False,
                         id="sweep-kind", compact=True)
            yield FieldInput(TARGETS[FIRST].example, accepts=VALUES, id="sweep-values", compact=True,
                             tooltip="values or start:stop:step ranges, separated by spaces or commas "
                                     "(as fastact sweep --values)")
            yield from where.executor_controls("sweep")
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

    @on(Select.Changed, "#sweep-executor")
    @on(Input.Changed, "#sweep-scheduler")
    def _executor_changed(self) -> None:
        where.show_scheduler(self, "sweep")

    def on_executor_refused(self, msg: where.ExecutorRefused) -> None:
        where.mark(self, "sweep", msg.field, msg.text)

    @on(Select.Changed, "#sweep-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self.query_one("#sweep-values", Input).value = TARGETS[event.value].example
        self.query_one(SeriesPlot).xlabel = event.value

    def build(self):
        """The sweep's configs and labels, exactly as `fastact sweep` builds them; raises ValueError.

        Blocking (up to `fastact.experiments.sweep.MAX_RUNS` configs, each validated): `start`
        runs it in a worker thread."""
        target, text, parsed = self._inputs()
        return self._prepare_sweep(target, text, parsed)

    def _inputs(self):
        """What the sweep is built from, read from the widgets (in the UI thread)."""
        target = TARGETS[self.query_one("#sweep-kind", Select).value]
        parsed = self.app.query_one("TrainView").validate_form()
        return target, self.query_one("#sweep-values", Input).value, parsed

    def _prepare_sweep(self, target, text, parsed):
        values = parse_values(text)
        if not parsed.ok:
            raise ValueError("the Train tab's settings have errors; fix them first")
        cfgs = build_configs(target, values, parsed.configs)
        try:
            check_runs(cfgs)  # a width or depth too large for memory, before anything is loaded
        except MemoryBudgetError as exc:
            if exc.field == "hidden" and target.name in ("depth", "width"):
                raise MemoryBudgetError("values", target.value_of({"hidden": list(exc.value)}), exc.rule) from None
            raise
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
        self.running = True  # from now: no second start while the sweep is being built
        self._buttons()
        self.app.set_state(state="preparing")
        self._prepare(*self._inputs())

    @work(thread=True, exclusive=True, group="sweep-prepare", exit_on_error=False)
    def _prepare(self, target, text, parsed) -> None:
        try:
            cfgs, labels = self._prepare_sweep(target, text, parsed)
        except ValueError as exc:  # SettingsError, MemoryBudgetError: the library's one-line refusals
            self.post_message(SweepPrepared([], [], str(exc)))
        else:
            self.post_message(SweepPrepared(cfgs, labels))

    def on_sweep_prepared(self, msg: SweepPrepared) -> None:
        if msg.error:
            self.running = False
            self._buttons()
            self.app.set_state(state="idle")
            self.query_one("#sweep-error", Static).update(msg.error)
            self.app.notify(msg.error, severity="warning", markup=False)
            return
        cfgs, labels = msg.configs, msg.labels
        self.query_one("#sweep-error", Static).update("")
        self.labels = {form.config_key(c): lab for c, lab in zip(cfgs, labels)}
        plot = self.query_one(SeriesPlot)
        plot.clear_series()
        plot.replot()
        self.query_one(DataTable).clear()
        self.cancel = threading.Event()
        self.app.set_state(state="sweeping")
        self.app.log_event(f"sweep: {len(cfgs)} runs over {', '.join(labels)}")
        self._sweep(self.app.trainer, cfgs, self.cancel, where.chosen(self, "sweep"))

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
    def _sweep(self, trainer, configs, cancel, executor=("serial", None)) -> None:
        if executor[0] == "serial":
            run_training(trainer, configs, self, self.label_of, cancel)
        else:
            run_on(lambda: where.make(self, *executor), configs, self, self.label_of, cancel)

    def on_log_line(self, msg: LogLine) -> None:
        # Logged here, not bubbled to the app: a bubbled line would land after this view's own
        # lines for the same moment (the dataset line after "started").
        msg.stop()
        self.app.log_event(msg.text, msg.level)
        if self.running:  # where the points go, the data, a lost worker: here too, until the next batch
            self.query_one("#sweep-note", Label).update(msg.text)

    def on_batch_progress(self, msg: BatchProgress) -> None:
        self.query_one("#sweep-note", Label).update(
            f"{msg.label} · epoch {msg.epoch}/{msg.epochs} · batch {msg.batch}/{msg.n_batches}")

    def _draw(self, act: str, x, record) -> None:
        """The point at ``x`` as of ``record`` (its latest epoch so far, or its last)."""
        plot = self.query_one(SeriesPlot)
        plot.put_point(f"{act} train", x, record.train_acc)
        plot.put_point(f"{act} val", x, record.val_acc)
        plot.replot()

    def on_epoch_done(self, msg: EpochDone) -> None:
        # Live: a point moves as its run trains (here or on a Dask worker), until its run ends.
        if self._by_label[0] is not self.labels:  # a new sweep: label -> config key, once
            self._by_label = (self.labels, {lab: k for k, lab in self.labels.items()})
        key = self._by_label[1].get(msg.label)
        if key in self.values:
            self._draw(key[0], self.values[key], msg.record)

    def on_run_finished(self, msg: RunFinished) -> None:
        res = msg.result
        last = res.history[-1] if res.history else None
        x = self.values.get(form.config_key(res.config))
        if last is not None and x is not None:
            self._draw(res.config.act, x, last)
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
