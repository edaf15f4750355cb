"""The Study tab: pick a built-in study or edit the spec (TOML, `fastact.experiments.spec`), run
it through the same runner as ``fastact study`` (resumable: running it again skips finished
points), and watch points complete, with each part's grouped table and validation curves.

The data, data directory and threads come from the Train tab's form; the study directory is
the one in the Out field (``studies/<name>[-quick]``); the points run where the executor
controls say (`fastact_tui.widgets.executor`: serial here, or on a Dask cluster)."""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static, TextArea

from fastact.experiments.builtins import BUILTINS
from fastact.experiments.runner import run_study
from fastact.experiments.spec import SpecError, parse_spec
from fastact.experiments.tasks import SerialExecutor, closing
from fastact_tui.messages import LogLine, RunsChanged
from fastact_tui.widgets import executor as where
from fastact_tui.widgets.charts import SeriesPlot
from fastact_tui.widgets.fields import FieldInput
from fastact_tui.widgets.study_bridge import StudyBridge, StudyFinished, StudyProgress

FIRST = next(iter(BUILTINS))


def _quick_label(on: bool) -> str:
    return "quick: on" if on else "quick: off"


class StudyView(Vertical):
    def __init__(self, root: str = "studies", **kw):
        super().__init__(**kw)
        self.root, self.cancel, self.running, self.views = root, threading.Event(), False, {}
        self.live: dict = {}  # label -> (parts, epochs, val acc %) of the points in flight
        self.begun = False  # the runner has said where the study is (its first progress message)

    def compose(self) -> ComposeResult:
        with Horizontal(id="study-controls"):
            yield Select([(n, n) for n in BUILTINS], value=FIRST, allow_blank=False, id="study-name", compact=True)
            yield Checkbox(_quick_label(True), True, id="study-quick", compact=True)
            yield FieldInput(f"{self.root}/{FIRST}-quick", id="study-out", compact=True, tooltip="the study directory")
            yield from where.executor_controls("study")
            yield Button("Run study", id="study-run", variant="success", compact=True)
            yield Button("Stop", id="study-stop", variant="error", compact=True, disabled=True)
        yield Static("", id="study-error", classes="error")
        yield Label("Edit the spec on the left; r runs it (again: resumes).", id="study-progress")
        with Horizontal(id="study-body"):
            yield TextArea(BUILTINS[FIRST], id="study-spec", soft_wrap=False)
            with Vertical(id="study-right"):
                yield Select([], id="study-part", prompt="part", compact=True)
                yield DataTable(id="study-table", cursor_type="row", zebra_stripes=True)
                yield SeriesPlot("Validation accuracy (%)", id="study-plot")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("configuration", "runs", "test acc", "95% CI", "best val", "status")
        self._parts()

    def _parts(self) -> None:
        try:
            names = [p.name for p in parse_spec(self.query_one(TextArea).text).parts]
        except SpecError:
            return
        select = self.query_one("#study-part", Select)
        select.set_options([(n, n) for n in names])
        select.value = names[0]

    @on(Select.Changed, "#study-executor")
    @on(Input.Changed, "#study-scheduler")
    def _executor_changed(self) -> None:
        where.show_scheduler(self, "study")

    def on_executor_refused(self, msg: where.ExecutorRefused) -> None:
        where.mark(self, "study", msg.field, msg.text)

    @on(Select.Changed, "#study-name")
    @on(Checkbox.Changed, "#study-quick")
    def _chosen(self) -> None:
        name = self.query_one("#study-name", Select).value
        if self.query_one(TextArea).text != BUILTINS[name]:
            self.query_one(TextArea).text = BUILTINS[name]
        box = self.query_one("#study-quick", Checkbox)
        box.label = _quick_label(box.value)  # the state as text, not only the box's colour
        quick = "-quick" if box.value else ""
        self.query_one("#study-out", Input).value = f"{self.root}/{name}{quick}"
        self._parts()

    def machine(self) -> dict:
        """dataset, data_dir and threads of the Train tab's form (when its settings are valid)."""
        parsed = self.app.query_one("TrainView").validate_form()
        c = parsed.configs[0] if parsed.ok else None
        return {} if c is None else {"dataset": c.dataset, "data_dir": c.data_dir, "threads": c.threads}

    def start(self) -> None:
        if self.running:
            return
        error = self.query_one("#study-error", Static)
        try:
            spec = parse_spec(self.query_one(TextArea).text, "the Study tab", self.query_one("#study-quick").value)
            m = self.machine()
            if m.get("dataset") not in (None, "auto"):
                spec = spec.with_base("the Train tab's dataset", dataset=m["dataset"])
        except SpecError as exc:
            error.update(str(exc))
            error.add_class("shown")
            self.app.notify(str(exc), severity="warning")
            return
        error.remove_class("shown")
        self._parts()
        self.cancel, self.running, self.begun = threading.Event(), True, False
        self._buttons()
        self.app.set_state(state="study")
        self.query_one("#study-progress", Label).update("starting")
        self._study(self.app.trainer, spec, self.query_one("#study-out", Input).value.strip() or "studies/study",
                    {k: m.get(k) for k in ("data_dir", "threads")}, self.cancel, where.chosen(self, "study"))

    @on(Button.Pressed, "#study-run")
    def _run_pressed(self) -> None:
        self.start()

    def stop(self) -> None:
        if self.running:
            self.cancel.set()
            self.app.set_state(state="stopping")

    @on(Button.Pressed, "#study-stop")
    def _stop_pressed(self) -> None:
        self.stop()

    def _buttons(self) -> None:
        self.query_one("#study-run", Button).disabled = self.running
        self.query_one("#study-stop", Button).disabled = not self.running

    @work(thread=True, group="study", exit_on_error=False)
    def _study(self, trainer, spec, out, machine, cancel, executor=("serial", None)) -> None:
        try:
            if getattr(trainer, "__name__", "") == "fastact.training":  # the same path as `fastact study`
                first = spec.points(**machine)[0].config
                ds = trainer.load_for(first, progress=False)
                ex = where.make(self, *executor)
            else:  # a test double trains without data, here
                ds = None
                ex = SerialExecutor(run=lambda t, d, cb, c: trainer.train(t.config, d, cb, c), load=lambda c: None)
            if ex.name != "serial":
                self.post_message(LogLine(ex.describe()))
            with closing(ex):
                run = run_study(spec, out, ex, ds, events=StudyBridge(self), cancel=cancel, machine=machine)
            self.post_message(StudyFinished(run.summary()))
        except Exception as exc:  # noqa: BLE001 (shown in the UI, never a traceback over the dashboard)
            self.post_message(StudyFinished("", f"{type(exc).__name__}: {exc}"))

    def on_log_line(self, msg: LogLine) -> None:
        # Logged here, not bubbled to the app: a bubbled line lands after this view's own lines for
        # the same moment (a refusal logged by `on_study_finished` before the "connecting" line).
        msg.stop()
        self.app.log_event(msg.text, msg.level)
        # Until the study begins, what the start-up is doing (a LocalCluster starting, a scheduler
        # being waited for) shows here too, not only in the Log tab.
        if self.running and not self.begun:
            self.query_one("#study-progress", Label).update(msg.text)

    def on_study_progress(self, msg: StudyProgress) -> None:
        self.begun = True
        self.query_one("#study-progress", Label).update(msg.text)
        live_changed, self.live = msg.live != self.live, msg.live
        if msg.views is not None:
            self.views = msg.views
            self.show_part()
        elif live_changed:
            self._draw_plot()

    @on(Select.Changed, "#study-part")
    def show_part(self) -> None:
        view = self.views.get(self.query_one("#study-part", Select).value)
        table = self.query_one(DataTable)
        table.clear()
        for row in view.rows if view is not None else ():
            table.add_row(*row)
        self._draw_plot()

    def _draw_plot(self) -> None:
        """The part's curves (mean over seeds of its finished points), then one per point of the
        part in flight, ``<label> (running)``, as far as it has trained."""
        part = self.query_one("#study-part", Select).value
        view, plot = self.views.get(part), self.query_one(SeriesPlot)
        plot.clear_series()
        curves = dict(view.series) if view is not None else {}
        curves.update({f"{label} (running)": (xs, ys) for label, (parts, xs, ys) in self.live.items() if part in parts})
        for name, (xs, ys) in curves.items():
            pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
            plot.set_series(name, [x for x, _ in pts], [y for _, y in pts])
        plot.replot()

    def on_study_finished(self, msg: StudyFinished) -> None:
        self.running = False
        self._buttons()
        self.app.set_state(state="error" if msg.error else "stopped" if self.cancel.is_set() else "done")
        refused = self.query_one("#study-error").has_class("shown")  # the refusal is shown above already
        self.query_one("#study-progress", Label).update("not started" if refused else msg.error or msg.summary)
        if msg.error:
            self.app.log_event(msg.error, "error", notify=True)
        self.app.post_message(RunsChanged())
