"""The Benchmarks tab: kernel microbenchmarks (fused fastact vs NumPy vs PyTorch when
installed) run in a worker thread; a bar chart of medians and a table of medians and ratios."""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select

from fastact.cli.options import act_words, parse_list, positive_int
from fastact_tui.messages import BenchProgress, JobDone
from fastact_tui.widgets.charts import PALETTE
from fastact_tui.widgets.fields import INTEGERS, FieldInput

OPS = ("forward", "backward", "step")
IMPLS = ("fastact", "numpy", "torch")  # fastact.benchmarks.IMPLS, without importing the benchmarks yet


def _ms(v) -> str:
    return "—" if v is None else f"{v:.3f}"


def _ratio(v) -> str:
    return "—" if v is None else f"{v:.2f}×"


class BenchView(Vertical):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.cancel, self.running, self.results = threading.Event(), False, []

    def compose(self) -> ComposeResult:
        from textual_plotext import PlotextPlot

        with Horizontal(id="bench-controls"):
            yield Select([(o, o) for o in OPS], value="forward", allow_blank=False, id="bench-op", compact=True)
            yield FieldInput("relu leaky_relu prelu rrelu sigmoid", id="bench-acts", compact=True,
                             tooltip="activations to time, separated by spaces or commas (as fastact bench --act)")
            yield FieldInput("128", accepts=INTEGERS, id="bench-batch", compact=True,
                             tooltip="batch sizes, separated by spaces or commas (as fastact bench --batch)")
            yield Button("Run", id="bench-run", variant="success", compact=True)
            yield Button("Stop", id="bench-stop", variant="error", compact=True, disabled=True)
        with Horizontal(id="bench-progress-row"):
            yield Label("idle", id="bench-label")
            yield ProgressBar(total=1, show_eta=False, id="bench-progress")
        with Horizontal(id="bench-body"):
            yield PlotextPlot(id="bench-plot")
            yield DataTable(id="bench-table", zebra_stripes=True, cursor_type="row")

    def on_mount(self) -> None:
        self.refresh_table()

    def start(self) -> None:
        if self.running:
            return
        try:  # the command line's parsers: what `fastact bench --act ... --batch ...` accepts
            acts = list(dict.fromkeys(parse_list(self.query_one("#bench-acts", Input).value, act_words,
                                                 "activation")))
            batches = parse_list(self.query_one("#bench-batch", Input).value, positive_int, "batch size")
        except ValueError as exc:
            self.app.notify(str(exc), severity="warning")
            self.query_one("#bench-label", Label).update(str(exc))
            return
        op = self.query_one("#bench-op", Select).value
        self.cancel, self.running, self.results = threading.Event(), True, []
        self._buttons()
        self.app.set_state(state="benchmarking")
        self.app.log_event(f"benchmarks: {op} × {', '.join(acts)} at batch {', '.join(map(str, batches))}")
        self._bench(acts, batches, op, self.cancel)

    def stop(self) -> None:
        if self.running:
            self.cancel.set()

    @on(Button.Pressed, "#bench-run")
    @on(Input.Submitted)
    def _run_pressed(self) -> None:
        self.start()

    @on(Button.Pressed, "#bench-stop")
    def _stop_pressed(self) -> None:
        self.stop()

    @on(Select.Changed, "#bench-op")
    def _op_changed(self) -> None:
        self.replot()

    def _buttons(self) -> None:
        self.query_one("#bench-run", Button).disabled = self.running
        self.query_one("#bench-stop", Button).disabled = not self.running

    @work(thread=True, group="bench", exit_on_error=False)
    def _bench(self, acts, batches, op, cancel) -> None:
        results, error = [], ""
        try:
            bench = self.app.benchmarks
            results = bench.run(acts, batches=tuple(batches), ops=OPS, progress=lambda d, t, r: self.post_message(
                BenchProgress(d, t, r)), cancel=cancel)
        except Exception as exc:  # noqa: BLE001 (shown in the UI, never as a traceback)
            error = f"{type(exc).__name__}: {exc}"
        self.post_message(JobDone(results, error))

    def on_bench_progress(self, msg: BenchProgress) -> None:
        self.results.append(msg.result)
        self.query_one(ProgressBar).update(total=msg.total, progress=msg.done)
        r = msg.result
        self.query_one("#bench-label", Label).update(f"{msg.done}/{msg.total} {r.impl} {r.op} {r.act}")
        self.refresh_table()

    def on_job_done(self, msg: JobDone) -> None:
        self.running = False
        self._buttons()
        self.app.set_state(state="error" if msg.error else "done")
        if msg.error:
            self.app.log_event(f"benchmarks: {msg.error}", "error", notify=True)
        self.query_one("#bench-label", Label).update(msg.error or "benchmarks finished")
        self.refresh_table()

    def refresh_table(self) -> None:
        rows = self.app.benchmarks.ratio_table(self.results) if self.results else []
        # Columns for what was measured only: no empty torch columns when torch is not installed.
        impls = [i for i in IMPLS if any(r[f"{i}_ms"] is not None for r in rows)] or ["fastact"]
        peers = [p for p in impls if p != "fastact"]
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns("op", "act", "batch", *(f"{i} ms" for i in impls), *(f"{p}/fastact" for p in peers))
        for r in rows:
            table.add_row(r["op"], r["act"], str(r["batch"]), *(_ms(r[f"{i}_ms"]) for i in impls),
                          *(_ratio(r[f"{p}_ratio"]) for p in peers))
        self.rows = rows
        self.replot()

    def replot(self) -> None:
        op = self.query_one("#bench-op", Select).value
        plot = self.query_one("#bench-plot")
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"{op}: median ms (lower is better)")
        rows = [r for r in getattr(self, "rows", []) if r["op"] == op]
        impls = [i for i in IMPLS if any(r[f"{i}_ms"] is not None for r in rows)]
        if rows and impls:
            data = [[r[f"{i}_ms"] or 0.0 for r in rows] for i in impls]
            several = len({r["batch"] for r in rows}) > 1
            names = [f"{r['act']} b{r['batch']}" if several else r["act"] for r in rows]
            plt.multiple_bar(names, data, labels=impls, color=PALETTE[: len(impls)])
        plot.refresh()
