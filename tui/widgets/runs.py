"""The Runs tab: browse the runs saved under the results directory and plot them again.

Select a row (enter or click) to add that run's curves to the plot; select it again to
remove them. The directory is rescanned whenever a job ends, or with the Refresh button."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Label

from fastact_tui.widgets.charts import SeriesPlot
from fastact_tui.worker import fmt_pct


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def load_run(run_dir: Path) -> dict | None:
    """``{"id", "dir", "config", "history": [dict], "summary": dict}`` or None if not a run."""
    summary, history, config = {}, [], {}
    for name in ("result.json", "summary.json", "run.json"):
        if (run_dir / name).is_file():
            summary = json.loads((run_dir / name).read_text())
            break
    if (run_dir / "config.json").is_file():
        config = json.loads((run_dir / "config.json").read_text())
    config = config or summary.get("config", {})
    if (run_dir / "history.csv").is_file():
        with open(run_dir / "history.csv", newline="") as f:
            history = [{k: _num(v) for k, v in row.items()} for row in csv.DictReader(f)]
    elif (run_dir / "history.jsonl").is_file():
        history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines() if line]
    else:
        history = summary.get("history", [])
    if not (summary or config or history):
        return None
    return {"id": summary.get("run_id", run_dir.name), "dir": str(run_dir), "config": config,
            "history": history, "summary": summary}


def scan(root) -> list[dict]:
    root = Path(root)
    if not root.is_dir():
        return []
    runs = []
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        try:
            run = load_run(d)
        except (OSError, ValueError):
            continue
        if run is not None and run["history"] is not None:
            runs.append(run)
    return runs


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
            vals = [h.get("val_acc") for h in r["history"] if h.get("val_acc") is not None]
            s = r["summary"]
            table.add_row(rid, r["config"].get("act", "?"), str(len(r["history"])),
                          fmt_pct(max(vals) if vals else None), fmt_pct(s.get("test_acc")),
                          s.get("status", "?"), key=rid)
        if not self.runs:
            self.query_one("#runs-root", Label).update(f"No saved runs in {self.root}/ yet")

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
            name = f"{r['config'].get('act', rid)} {rid[-6:]}"
            epochs = [h["epoch"] for h in r["history"]]
            plot.set_series(f"{name} train", epochs, [h["train_acc"] for h in r["history"]])
            plot.set_series(f"{name} val", epochs, [h["val_acc"] for h in r["history"]])
        plot.replot()
