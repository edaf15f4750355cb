"""`fastact-tui`: the application. It composes the tabs, routes the global keys to the active
tab and keeps the header's status line; every behaviour lives in a widget module."""

from __future__ import annotations

import importlib
import sys

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, TabbedContent, TabPane

import fastact
from fastact_tui import cli
from fastact_tui.widgets.benchmarks import BenchView
from fastact_tui.widgets.log import LogPanel
from fastact_tui.widgets.runs import RunsView
from fastact_tui.widgets.study import StudyView
from fastact_tui.widgets.sweep import SweepView
from fastact_tui.widgets.train_view import TrainView

TABS = ("train", "sweep", "study", "bench", "runs", "log")
_TAB_KEYS = Binding.Group("Tabs", compact=True)


class FastactApp(App):
    """Keys (every one in the footer and the README): ``r`` Run the tab's job, ``s`` Stop,
    ``q`` Quit, ``m`` chart and ``o`` sort (Train tab), ``1``-``5`` switch tabs, ``tab`` next
    panel, Escape leaves a text field. A key a text field cannot hold is not typed but acts as
    its shortcut (`fastact_tui.widgets.fields.FieldInput`); where letters are text (Dataset,
    Data dir, Data file), ``ctrl+r``, ``ctrl+s`` and ``ctrl+q`` do the same and the footer shows them."""

    TITLE = "fastact"
    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("r", "run", "Run"),
        Binding("s", "stop", "Stop"),
        Binding("q", "quit", "Quit"),
        Binding("m", "metric", "Chart"),
        Binding("o", "sort", "Sort"),
        # priority: the screen's own tab binding is hidden and would hide this one from the footer
        Binding("tab", "app.focus_next", "Next panel", priority=True),
        *[Binding(str(i + 1), f"show_tab('{t}')", t, group=_TAB_KEYS) for i, t in enumerate(TABS)],
        # Where letters are text: shown only there (`check_action`), each falls through to the
        # hidden binding below it everywhere else, so ctrl+r/s/q always work.
        *[b for key, action, text in (("ctrl+r", "run", "Run"), ("ctrl+s", "stop", "Stop"), ("ctrl+q", "quit", "Quit"))
          for b in (Binding(key, f"typing('{action}')", text, priority=True),
                    Binding(key, action, text, show=False, priority=True))],
    ]

    def __init__(self, prefill: dict | None = None, trainer=None, benchmarks=None, runs_root: str | None = None):
        super().__init__()
        self.prefill = prefill or {}
        self._trainer, self._benchmarks = trainer, benchmarks
        self.runs_root = runs_root or self.prefill.get("base", {}).get("out") or "runs"
        self.status = {"dataset": self.prefill.get("fields", {}).get("dataset", "auto"),
                       "threads": fastact.get_num_threads(), "state": "idle"}

    @property
    def trainer(self):
        if self._trainer is None:
            self._trainer = importlib.import_module("fastact.training")
        return self._trainer

    @property
    def benchmarks(self):
        if self._benchmarks is None:
            self._benchmarks = importlib.import_module("fastact.benchmarks")
        return self._benchmarks

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane("Train", id="train"):
                yield TrainView(self.prefill, id="train-view")
            with TabPane("Sweep", id="sweep"):
                yield SweepView(id="sweep-view")
            with TabPane("Study", id="study"):
                yield StudyView(id="study-view")
            with TabPane("Benchmarks", id="bench"):
                yield BenchView(id="bench-view")
            with TabPane("Runs", id="runs"):
                yield RunsView(self.runs_root, id="runs-view")
            with TabPane("Log", id="log"):
                yield LogPanel(id="log-panel")
        yield Footer()

    def on_mount(self) -> None:
        self.set_state()

    def set_state(self, **kw) -> None:
        self.status.update({k: v for k, v in kw.items() if v is not None})
        s = self.status
        self.sub_title = f"{s['dataset']} · {s['threads']} threads · {s['state']}"
        self.refresh_bindings()  # Run and Stop are greyed out while they would do nothing

    def log_event(self, text: str, level: str = "info", notify: bool = False) -> None:
        self.query_one(LogPanel).log_line(text, level)
        if notify:
            self.notify(text, severity="error" if level == "error" else "warning", timeout=8)

    def on_log_line(self, msg) -> None:
        self.log_event(msg.text, msg.level)

    def on_runs_changed(self) -> None:
        self.query_one(RunsView).rescan()

    def active_view(self):
        pane = self.query_one(TabbedContent).active_pane
        return pane.children[0] if pane and pane.children else None

    def _typing(self) -> bool:
        """A field that types letters has focus (its plain-letter shortcuts are text there)."""
        focused = self.focused
        return focused is not None and focused.check_consume_key("r", "r")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Which keys the footer shows, and greys out (None) when they would do nothing now."""
        if not self.is_mounted or not self.query(TabbedContent):
            return True
        if action == "typing":
            return self._typing()
        if action == "run":
            view = self.active_view()
            ready = getattr(view, "ready", not getattr(view, "running", False))
            return True if hasattr(view, "start") and ready else None
        if action == "stop":
            return True if any(v.running for v in self.query("TrainView, SweepView, StudyView, BenchView")) else None
        if action in ("metric", "sort"):
            return self.query_one(TabbedContent).active == "train"
        return True

    async def action_typing(self, action: str) -> None:
        await self.run_action(action)

    def on_tabbed_content_tab_activated(self) -> None:
        self.refresh_bindings()

    def action_run(self) -> None:
        view = self.active_view()
        if hasattr(view, "start"):
            view.start()

    def action_stop(self) -> None:
        for view in self.query("TrainView, SweepView, StudyView, BenchView"):
            view.stop()

    def action_metric(self) -> None:
        self.notify(f"chart: {self.query_one('#charts').cycle()}", timeout=1.5)

    def action_sort(self) -> None:
        self.notify(f"sorted by {self.query_one('#results').cycle_sort()}", timeout=1.5)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.refresh_bindings()

    async def action_quit(self) -> None:
        # Quitting mid-run: cancel and let the trainer finish its batch and write its files.
        views = [v for v in self.query("TrainView, SweepView, StudyView, BenchView") if v.running]
        for v in views:
            v.stop()
        if views:
            self.notify("Stopping the run before quitting…", timeout=3)
            await self.workers.wait_for_complete()
        self.exit()


def main(argv=None) -> int:
    prefill = cli.parse(sys.argv[1:] if argv is None else argv)
    FastactApp(prefill).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
