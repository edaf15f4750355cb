"""What the commands print: the console, a progress bar and a line per epoch, the run header,
and the results (table, problems, charts). Printing only: the content comes from
`fastact.experiments`."""

from __future__ import annotations

import shutil
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from fastact.cli.options import UsageError
from fastact.data import DatasetError
from fastact.engine.blas import backend_name
from fastact.engine.threads import threading_layer
from fastact.experiments import charts, tables
from fastact.training import Callbacks, TrainConfig, load_for

EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 2, 1, 130


def make_console() -> Console:
    """stdout; 120 columns when piped (rich would wrap tables and epoch lines at 80)."""
    return Console() if sys.stdout.isatty() else Console(width=120)


def chart_width() -> int:
    return min(100, shutil.get_terminal_size((100, 24)).columns)


def load_data(config: TrainConfig):
    """The dataset, loaded once per invocation; bad names or files become UsageError."""
    try:
        return load_for(config, progress=True)
    except DatasetError as exc:
        raise UsageError(f"--dataset/--data-dir: {exc}") from None


class ConsoleCallbacks(Callbacks):
    """A rich progress bar per epoch and one printed line per epoch."""

    def __init__(self, console: Console, quiet: bool = False, label=tables.label_of):
        self.console, self.quiet, self.label = console, quiet, label
        self.progress = None
        self.task = None

    def on_kernels_ready(self, report):
        if not self.quiet and report.compiled:
            self.console.print(report.summary())

    def on_run_start(self, config, info):
        if self.quiet:
            return
        where = f" -> {info['run_dir']}" if info["run_dir"] else ""
        ready = info.get("compile_seconds")
        kernels = f" (kernels ready in {ready:.1f}s)" if ready is not None else ""
        self.console.print(f"[bold]{self._label(config)}[/bold] seed {config.seed}{where}{kernels}")
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn(),
                                 console=self.console, transient=True)
        self.progress.start()

    def _label(self, config):
        return self.label(config.to_dict())

    def on_batch(self, config, epoch, batch, n_batches, loss):
        if self.progress is None:
            return
        if self.task is None:
            self.task = self.progress.add_task(f"epoch {epoch}/{config.epochs}", total=n_batches, loss=loss)
        self.progress.update(self.task, completed=batch, loss=loss)

    def on_epoch_end(self, config, record):
        if self.progress is None:
            return
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        self.progress.console.print(tables.epoch_line(self._label(config), record, config.epochs))

    def on_run_end(self, result):
        if self.progress is not None:
            self.progress.stop()
            self.progress, self.task = None, None
        if not self.quiet and result.status != "completed":
            self.console.print(f"[yellow]{result.status}[/yellow]: {result.message}")


def header(console: Console, ds, threads: int) -> None:
    console.print(f"dataset: {ds.description}")
    console.print(f"         {len(ds.y_train):,} train / {len(ds.y_val):,} validation / {len(ds.y_test):,} test, "
                  f"{ds.input_dim} inputs, {ds.n_classes} classes")
    console.print(f"threads: {threads} ({threading_layer()}), BLAS: {backend_name()}")


def print_results(console: Console, results, quiet: bool, title: str = "Results") -> None:
    console.print(tables.summary_table(results, title))
    for line in tables.problems(results):
        console.print(f"[yellow]{line}[/yellow]")
    if not quiet and any(r.history for r in results):
        for chart in charts.accuracy_charts(results, color=console.is_terminal, width=chart_width()):
            console.out(chart, highlight=False)
    dirs = sorted({str(r.run_dir).rsplit("/", 1)[0] for r in results if r.run_dir})
    if dirs:
        console.print(f"saved under {', '.join(dirs)}/ (fastact report {dirs[0]} redraws this)")
