"""The Runs tab: browse the runs saved under the results directory and plot them again.

Each run is labelled by what differs among the saved runs (``relu depth=3 seed=4``,
`fastact.experiments.identity`), and every setting that differs is a column of its own. Select
a row (enter or click) to add that run's curves to the plot; select it again to remove them.
The directory is rescanned whenever a job ends, or with the Refresh button."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Label

from fastact.experiments import identity
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
        self.root, self.runs, self.shown, self.varying = root, {}, [], []

    def compose(self) -> ComposeResult:
        with Vertical(id="runs-left"):
            with Horizontal(id="runs-controls"):
                yield Label(f"Results in {self.root}/", id="runs-root")
                yield Button("Refresh", id="runs-refresh", compact=True)
            yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield SeriesPlot("Saved runs: accuracy (%)", percent=True, id="runs-plot")

    def on_mount(self) -> None:
        self.rescan()

    @on(Button.Pressed, "#runs-refresh")
    def rescan(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        self.runs = {r["id"]: r for r in scan(self.root)}
        flats = {rid: identity.settings(r["config"]) for rid, r in self.runs.items()}
        self.varying = identity.varying_settings(list(flats.values()))
        shown = [k for k in self.varying if k not in ("act", "seed")]
        table.add_columns("run", "label", "act", *shown, "seed", "epochs", "best val", "test acc", "status")
        for rid, r in self.runs.items():
            vals = [h["val_acc"] for h in r["history"] if h.get("val_acc") is not None]
            flat = flats[rid]
            table.add_row(rid, self.label(rid), flat["act"], *(identity.fmt(flat[k]) if k in flat else "—"
                                                               for k in shown),
                          str(flat.get("seed", "?")), str(len(r["history"])), fmt_pct(max(vals) if vals else None),
                          fmt_pct(r["summary"].get("test_acc")), r["status"], key=rid)
        self.query_one("#runs-root", Label).update(
            f"{len(self.runs)} runs in {self.root}/ · enter: plot / unplot" if self.runs
            else f"No saved runs in {self.root}/ yet")

    def label(self, rid: str) -> str:
        """The run's label among the saved runs (seed included, so every run's is its own)."""
        v = self.varying if "seed" in self.varying else [*self.varying, "seed"]
        return identity.label(self.runs[rid]["config"], v)

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
            name = self.label(rid)
            epochs = [h["epoch"] for h in r["history"]]
            plot.set_series(f"{name} train", epochs, [h["train_acc"] for h in r["history"]])
            plot.set_series(f"{name} val", epochs, [h["val_acc"] for h in r["history"]])
        plot.replot()
