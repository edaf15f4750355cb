"""The Benchmarks tab: kernel microbenchmarks (fused fastact vs NumPy vs PyTorch when
installed) run in a worker thread; a bar chart of medians and a table of medians and ratios."""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select

from fastact import activations
from fastact_tui.messages import BenchProgress, JobDone
from fastact_tui.widgets.charts import PALETTE

OPS = ("forward", "backward", "step")


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
            yield Input("relu leaky_relu prelu rrelu sigmoid", id="bench-acts", compact=True,
                        tooltip="activations to time, separated by spaces")
            yield Input("128", id="bench-batch", compact=True, tooltip="batch size")
            yield Button("Run", id="bench-run", variant="success", compact=True)
            yield Button("Stop", id="bench-stop", variant="error", compact=True, disabled=True)
        with Horizontal(id="bench-progress-row"):
            yield Label("idle", id="bench-label")
            yield ProgressBar(total=1, show_eta=False, id="bench-progress")
        with Horizontal(id="bench-body"):
            yield PlotextPlot(id="bench-plot")
            yield DataTable(id="bench-table", zebra_stripes=True, cursor_type="row")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("op", "act", "batch", "fastact ms", "numpy ms", "torch ms",
                                              "numpy/fastact", "torch/fastact")
        self.replot()

    def start(self) -> None:
        if self.running:
            return
        acts = self.query_one("#bench-acts", Input).value.replace(",", " ").split()
        text = self.query_one("#bench-batch", Input).value
        try:
            acts = [activations.get(a).name for a in acts]
            if not acts:
                raise ValueError(f"enter at least one activation. Received: acts={acts}")
            if not text.strip().isdigit() or int(text) < 1:
                raise ValueError(f"batch must be a positive integer. Received: batch={text!r}")
        except ValueError as exc:
            self.app.notify(str(exc), severity="warning")
            self.query_one("#bench-label", Label).update(str(exc))
            return
        batch = int(text)
        op = self.query_one("#bench-op", Select).value
        self.cancel, self.running, self.results = threading.Event(), True, []
        self._buttons()
        self.app.set_state(state="benchmarking")
        self.app.log_event(f"benchmarks: {op} × {', '.join(acts)} at batch {batch}")
        self._bench(acts, batch, op, self.cancel)

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
    def _bench(self, acts, batch, op, cancel) -> None:
        results, error = [], ""
        try:
            bench = self.app.benchmarks
            results = bench.run(acts, batches=(batch,), ops=OPS, progress=lambda d, t, r: self.post_message(
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
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            table.add_row(r["op"], r["act"], str(r["batch"]), _ms(r["fastact_ms"]), _ms(r["numpy_ms"]),
                          _ms(r["torch_ms"]), _ratio(r["numpy_ratio"]), _ratio(r["torch_ratio"]))
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
        impls = [i for i in ("fastact", "numpy", "torch") if any(r[f"{i}_ms"] is not None for r in rows)]
        if rows and impls:
            data = [[r[f"{i}_ms"] or 0.0 for r in rows] for i in impls]
            plt.multiple_bar([r["act"] for r in rows], data, labels=impls, color=PALETTE[: len(impls)])
        plot.refresh()
