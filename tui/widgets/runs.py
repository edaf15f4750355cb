"""The Runs tab: browse the runs saved under the results directory and plot them again.

Select a row (enter or click) to add that run's curves to the plot; select it again to
remove them. The directory is rescanned whenever a job ends, or with the Refresh button."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Label

from fastact.training import runs as results
from fastact_tui.widgets.charts import SeriesPlot
from fastact_tui.worker import fmt_pct


def scan(root) -> list[dict]:
    """Every readable run under ``root``, newest first (run ids start with a UTC timestamp)."""
    try:
        dirs = results.find_runs([root])
    except FileNotFoundError:
        return []
    runs = []
    for d in dirs:
        try:
            runs.append(results.load_run(d))
        except (OSError, ValueError):
            continue  # a half-written or foreign directory is skipped, not fatal
    return sorted(runs, key=lambda r: r["id"], reverse=True)


class RunsView(Horizontal):
    def __init__(self, root: str, **kw):
        super().__init__(**kw)
        self.root, self.runs, self.shown = root, {}, []

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
        table = self.query_one(DataTable)
        table.clear()
        self.runs = {r["id"]: r for r in scan(self.root)}
        for rid, r in self.runs.items():
            vals = [h["val_acc"] for h in r["history"] if h.get("val_acc") is not None]
            table.add_row(rid, r["config"].get("act", "?"), str(len(r["history"])),
                          fmt_pct(max(vals) if vals else None), fmt_pct(r["summary"].get("test_acc")),
                          r["status"], key=rid)
        self.query_one("#runs-root", Label).update(
            f"{len(self.runs)} runs in {self.root}/ · enter: plot / unplot" if self.runs
            else f"No saved runs in {self.root}/ yet")

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
