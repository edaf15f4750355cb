"""The Runs tab: browse the runs saved under the results directory and plot them again.

Each run is labelled by what differs among the saved runs (``relu depth=3 seed=4``,
`fastact.experiments.identity`), and every setting that differs is a column of its own; a run of
a defined activation shows its formula (column ``formula``, the text its config carries). Select
a row (enter or click) to add that run's curves to the plot; select it again to remove them.
The directory is rescanned whenever a job ends, or with the Refresh button. The scan reads every
run's files, so it runs in a worker thread and posts `RunsScanned`; a malformed run is skipped
with a warning in the Log tab naming the file."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Label

from fastact.experiments import identity, tables
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


def formula(run: dict) -> str:
    """``y = z * clip(z + 3, 0, 6) / 6`` for a run of a defined activation ("" for a built-in's), as
    safe to draw as any text read from a file (`fastact.experiments.tables.definitions`)."""
    spec = run["config"].get("define")
    return tables.definitions([run["config"]])[0].split(": ", 1)[1] if isinstance(spec, dict) else ""


class RunsView(Horizontal):
    def __init__(self, root: str, **kw):
        super().__init__(**kw)
        self.root, self.runs, self.shown, self.varying = root, {}, [], []
        self.scanning = False

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
        self.scanning = True
        self._scan(self.root)

    @work(thread=True, exclusive=True, group="runs-scan", exit_on_error=False)
    def _scan(self, root) -> None:
        try:
            runs, skipped = scan(root)
            by_id = {r["id"]: r for r in runs}
            flats = {rid: identity.settings(r["config"]) for rid, r in by_id.items()}
            varying = identity.varying_settings(list(flats.values()))
        except Exception as exc:  # noqa: BLE001 (shown in the Log tab, never a traceback over the UI)
            self.post_message(RunsScanned({}, [], f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(RunsScanned(by_id, skipped, flats=flats, varying=varying))

    def on_runs_scanned(self, msg: RunsScanned) -> None:
        self.scanning = False
        for problem in msg.skipped:
            self.app.log_event(f"Runs tab: skipped {problem}", "warning")
        if msg.error:
            self.app.log_event(f"Runs tab: {msg.error}", "error")
        table = self.query_one(DataTable)
        table.clear(columns=True)
        self.runs, flats, self.varying = msg.runs, msg.flats, msg.varying
        shown = [k for k in self.varying if k not in ("act", "seed")]
        formulas = {rid: formula(r) for rid, r in self.runs.items()}
        defined = any(formulas.values())
        table.add_columns("run", "label", "act", *(["formula"] if defined else []), *shown, "seed", "epochs",
                          "best val", "test acc", "status")
        for rid, r in self.runs.items():
            vals = [h["val_acc"] for h in r["history"] if h.get("val_acc") is not None]
            flat = flats[rid]
            # Escaped: a DataTable parses markup in strings, and these come from files.
            table.add_row(escape(rid), escape(self.label(rid)), escape(str(flat["act"])),
                          *([Text(formulas[rid] or "—")] if defined else []),
                          *(escape(identity.fmt(flat[k])) if k in flat else "—" for k in shown),
                          escape(str(flat.get("seed", "?"))), str(len(r["history"])),
                          fmt_pct(max(vals) if vals else None), fmt_pct(r["summary"].get("test_acc")),
                          escape(r["status"]), key=rid)
        skipped = f" ({len(msg.skipped)} skipped: see Log)" if msg.skipped else ""
        self.query_one("#runs-root", Label).update(
            f"{len(self.runs)} runs in {self.root}/{skipped} · enter: plot / unplot" if self.runs
            else f"No saved runs in {self.root}/ yet{skipped}")

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
