"""The Train tab: settings on the left; charts, the in-flight epoch's progress and the results
table on the right. Owns the training worker and turns its messages into widget updates."""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar

from fastact_tui import form
from fastact_tui.messages import BatchProgress, EpochDone, JobDone, LogLine, RunFinished, RunsChanged, RunStarted
from fastact_tui.widgets.charts import ChartsPanel
from fastact_tui.widgets.results_table import ResultsTable
from fastact_tui.widgets.settings import SettingsPanel
from fastact_tui.worker import fmt_pct, run_training


class TrainView(Horizontal):
    def __init__(self, prefill: dict | None = None, **kw):
        super().__init__(**kw)
        self.prefill = prefill
        self.parsed = form.FormResult()
        self.cancel = threading.Event()
        self.running = False
        self.labels: dict[tuple, str] = {}
        self.results: list = []

    def compose(self) -> ComposeResult:
        yield SettingsPanel(self.prefill, id="settings")
        with Vertical(id="main"):
            yield ChartsPanel(id="charts")
            with Horizontal(id="progress-row"):
                yield Label("idle", id="progress-label")
                yield ProgressBar(total=1, show_eta=False, id="progress")
            yield ResultsTable(id="results")

    def on_mount(self) -> None:
        self.validate_form()

    def validate_form(self) -> form.FormResult:
        settings = self.query_one(SettingsPanel)
        values, acts, params, base = settings.read()
        self.parsed = form.build(values, acts, params, base)
        settings.show_errors(self.parsed.errors)
        self._sync_buttons()
        return self.parsed

    @property
    def ready(self) -> bool:
        """Run would start a job now (the app greys out ``r`` otherwise)."""
        return not self.running and self.parsed.ok

    def _sync_buttons(self) -> None:
        self.query_one("#run", Button).disabled = not self.ready
        self.query_one("#stop", Button).disabled = not self.running
        self.app.refresh_bindings()

    @on(SettingsPanel.Changed)
    def _settings_changed(self) -> None:
        self.validate_form()

    @on(Button.Pressed, "#run")
    @on(Input.Submitted)
    def start(self) -> None:
        if self.running or not self.validate_form().ok:
            if not self.running:
                self.app.notify("Fix the highlighted settings first.", severity="warning")
            return
        cfgs, labels = self.parsed.configs, self.parsed.labels
        self.labels = {form.config_key(c): lab for c, lab in zip(cfgs, labels)}
        self.query_one(ChartsPanel).reset()
        table = self.query_one(ResultsTable)
        table.reset()
        for c, lab in zip(cfgs, labels):
            table.add_run(lab, c.epochs)
        self.cancel = threading.Event()
        self.running, self.results = True, []
        self._sync_buttons()
        self.app.set_state(state="running")
        self.app.log_event(f"run: {len(cfgs)} runs ({', '.join(labels)})")
        self._train(self.app.trainer, cfgs, self.cancel)

    @on(Button.Pressed, "#stop")
    def stop(self) -> None:
        if self.running and not self.cancel.is_set():
            self.cancel.set()
            self.app.set_state(state="stopping")
            self.app.log_event("stop requested: finishing the current batch")

    def label_of(self, config) -> str:
        return self.labels.get(form.config_key(config), config.act)

    @work(thread=True, group="train", exit_on_error=False)
    def _train(self, trainer, configs, cancel) -> None:
        run_training(trainer, configs, self, self.label_of, cancel)

    def on_log_line(self, msg: LogLine) -> None:
        # Logged here, not bubbled to the app: a bubbled line would land after this view's own
        # lines for the same moment (the dataset line after "started").
        msg.stop()
        self.app.log_event(msg.text, msg.level)

    def on_run_started(self, msg: RunStarted) -> None:
        info = msg.info
        self.app.set_state(dataset=info.get("dataset_name"), threads=info.get("threads"))
        # The dataset itself is logged once per load (fastact_tui.worker.load_dataset), not per run.
        self.app.log_event(f"{msg.label}: started {info.get('run_id', '')} "
                           f"({info.get('n_train', '?')} train / {info.get('n_val', '?')} val, "
                           f"{info.get('threads', '?')} threads)")
        self.query_one(ResultsTable).set_status(msg.label, "running")

    def on_batch_progress(self, msg: BatchProgress) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=msg.n_batches, progress=msg.batch)
        self.query_one("#progress-label", Label).update(
            f"{msg.label} {msg.epoch}/{msg.epochs} loss {msg.loss:.3f}")

    def on_epoch_done(self, msg: EpochDone) -> None:
        r = msg.record
        self.query_one(ChartsPanel).add_epoch(msg.label, r)
        self.query_one(ResultsTable).update_epoch(msg.label, r)
        self.app.log_event(f"{msg.label}: epoch {r.epoch} train {fmt_pct(r.train_acc)} val {fmt_pct(r.val_acc)} "
                           f"loss {r.train_loss:.4f} ({r.seconds:.2f} s)")

    def on_run_finished(self, msg: RunFinished) -> None:
        res = msg.result
        self.results.append(res)
        self.query_one(ResultsTable).set_status(msg.label, res.status, res.test_acc)
        where = f" → {res.run_dir}" if res.run_dir else ""
        text = f"{msg.label}: {res.status}" + (f" ({res.message})" if res.message else "") + where
        level = {"completed": "info", "cancelled": "warning", "diverged": "warning"}.get(res.status, "error")
        self.app.log_event(text, level, notify=res.status in ("diverged", "failed"))

    def on_job_done(self, msg: JobDone) -> None:
        self.running = False
        state = "error" if msg.error else "stopped" if self.cancel.is_set() else "done"
        self.app.set_state(state=state)
        if msg.error:
            self.app.log_event(msg.error, "error", notify=True)
        if state != "done":  # stopped or failed: the runs that never started say so, the bar empties
            self.query_one(ResultsTable).mark_not_run()
            self.query_one(ProgressBar).update(total=1, progress=0)
        self.query_one("#progress-label", Label).update(state)
        self.validate_form()
        self.app.post_message(RunsChanged())

