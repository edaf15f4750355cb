"""The Study tab: pick a built-in study or edit the spec (TOML, `fastact.experiments.spec`), run
it through the same runner as ``fastact study`` (resumable: running it again skips finished
points), and watch points complete, with each part's grouped table and validation curves.

The data, data directory and threads come from the Train tab's form; the study directory is
the one in the Out field (``studies/<name>[-quick]``)."""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static, TextArea

from fastact.experiments.builtins import BUILTINS
from fastact.experiments.runner import run_study
from fastact.experiments.spec import SpecError, parse_spec
from fastact.experiments.tasks import SerialExecutor
from fastact_tui.messages import RunsChanged
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

    def compose(self) -> ComposeResult:
        with Horizontal(id="study-controls"):
            yield Select([(n, n) for n in BUILTINS], value=FIRST, allow_blank=False, id="study-name", compact=True)
            yield Checkbox(_quick_label(True), True, id="study-quick", compact=True)
            yield FieldInput(f"{self.root}/{FIRST}-quick", id="study-out", compact=True, tooltip="the study directory")
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
        self.cancel, self.running = threading.Event(), True
        self._buttons()
        self.app.set_state(state="study")
        self._study(self.app.trainer, spec, self.query_one("#study-out", Input).value.strip() or "studies/study",
                    {k: m.get(k) for k in ("data_dir", "threads")}, self.cancel)

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
    def _study(self, trainer, spec, out, machine, cancel) -> None:
        try:
            if getattr(trainer, "__name__", "") == "fastact.training":  # the same path as `fastact study`
                first = spec.points(**machine)[0].config
                ds, executor = trainer.load_for(first, progress=False), SerialExecutor()
            else:  # a test double trains without data
                ds = None
                executor = SerialExecutor(run=lambda t, d, cb, c: trainer.train(t.config, d, cb, c),
                                          load=lambda c: None)
            run = run_study(spec, out, executor, ds, events=StudyBridge(self), cancel=cancel, machine=machine)
            self.post_message(StudyFinished(run.summary()))
        except Exception as exc:  # noqa: BLE001 (shown in the UI, never a traceback over the dashboard)
            self.post_message(StudyFinished("", f"{type(exc).__name__}: {exc}"))

    def on_study_progress(self, msg: StudyProgress) -> None:
        self.query_one("#study-progress", Label).update(msg.text)
        if msg.views is not None:
            self.views = msg.views
            self.show_part()

    @on(Select.Changed, "#study-part")
    def show_part(self) -> None:
        view = self.views.get(self.query_one("#study-part", Select).value)
        table, plot = self.query_one(DataTable), self.query_one(SeriesPlot)
        table.clear()
        plot.clear_series()
        if view is not None:
            for row in view.rows:
                table.add_row(*row)
            for name, (xs, ys) in view.series.items():
                pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
                plot.set_series(name, [x for x, _ in pts], [y for _, y in pts])
        plot.replot()

    def on_study_finished(self, msg: StudyFinished) -> None:
        self.running = False
        self._buttons()
        self.app.set_state(state="error" if msg.error else "stopped" if self.cancel.is_set() else "done")
        self.query_one("#study-progress", Label).update(msg.error or msg.summary)
        if msg.error:
            self.app.log_event(msg.error, "error", notify=True)
        self.app.post_message(RunsChanged())
