"""The Runs tab: browse the runs saved under the results directory and plot them again.

Select a row (enter or click) to add that run's curves to the plot; select it again to
remove them. The directory is rescanned whenever a job ends, or with the Refresh button. The
scan reads every run's files, so it runs in a worker thread and posts `RunsScanned`; a
malformed run is skipped with a warning in the Log tab naming the file."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Label

from fastact.training import runs as results
from fastact_tui.messages import RunsScanned
from fastact_tui.widgets.charts import SeriesPlot
from fastact_tui.worker import fmt_pct


def scan(root) -> tuple[list[dict], list[str]]:
    """Every readable run under ``root``, newest first (run ids start with a UTC timestamp), and one
    line per run skipped (`fastact.training.runs.load_runs`)."""
    try:
        dirs = results.find_runs([root])
    except OSError:  # no results yet (or an unreadable root): nothing to show
        return [], []
    runs, skipped = results.load_runs(dirs)
    return sorted(runs, key=lambda r: r["id"], reverse=True), skipped


class RunsView(Horizontal):
    def __init__(self, root: str, **kw):
        super().__init__(**kw)
        self.root, self.runs, self.shown = root, {}, []
        self.scanning = False

    def compose(self) -> ComposeResult:
        with Vertical(id="runs-left"):
            with Horizontal(id="runs-controls"):
                yield Label(f"Results in {self.root}/", id="runs-root")
                yield Button("Refresh", id="runs-refresh", compact=True)
            yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield SeriesPlot("Saved runs: accuracy (%)", percent=True, id="runs-plot")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("run", "act", "epochs", "best val", "test acc", "status")
        self.rescan()

    @on(Button.Pressed, "#runs-refresh")
    def rescan(self) -> None:
        self.scanning = True
        self._scan(self.root)

    @work(thread=True, exclusive=True, group="runs-scan", exit_on_error=False)
    def _scan(self, root) -> None:
        try:
            runs, skipped = scan(root)
        except Exception as exc:  # noqa: BLE001 (shown in the Log tab, never a traceback over the UI)
            self.post_message(RunsScanned([], [], f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(RunsScanned(runs, skipped))

    def on_runs_scanned(self, msg: RunsScanned) -> None:
        self.scanning = False
        for problem in msg.skipped:
            self.app.log_event(f"Runs tab: skipped {problem}", "warning")
        if msg.error:
            self.app.log_event(f"Runs tab: {msg.error}", "error")
        table = self.query_one(DataTable)
        table.clear()
        self.runs = {r["id"]: r for r in msg.runs}
        for rid, r in self.runs.items():
            vals = [h["val_acc"] for h in r["history"] if h.get("val_acc") is not None]
            # Text, not str: a DataTable parses markup in strings, and these come from files.
            table.add_row(Text(rid), Text(str(r["config"].get("act", "?"))), str(len(r["history"])),
                          fmt_pct(max(vals) if vals else None), fmt_pct(r["summary"].get("test_acc")),
                          Text(r["status"]), key=rid)
        skipped = f" ({len(msg.skipped)} skipped: see Log)" if msg.skipped else ""
        self.query_one("#runs-root", Label).update(
            f"{len(self.runs)} runs in {self.root}/{skipped} · enter: plot / unplot" if self.runs
            else f"No saved runs in {self.root}/ yet{skipped}")

    @on(DataTable.RowSelected, "#runs-table")
    def toggle(self, event: DataTable.RowSelected) -> None:
        rid = event.row_key.value
        self.shown.remove(rid) if rid in self.shown else self.shown.append(rid)
        plot = self.query_one(SeriesPlot)
        plot.clear_series()
        for rid in self.shown:
            r = self.runs.get(rid)
            if r is None:
                continue
            name = f"{r['config'].get('act', '?')} {rid[-4:]}"  # run ids end in 4 random hex digits
            epochs = [h["epoch"] for h in r["history"]]
            plot.set_series(f"{name} train", epochs, [h["train_acc"] for h in r["history"]])
            plot.set_series(f"{name} val", epochs, [h["val_acc"] for h in r["history"]])
        plot.replot()
