"""What the commands print: the console, a progress bar and a line per epoch, the run header,
and the results (table, problems, charts). Printing only: the content comes from
`fastact.experiments`."""

from __future__ import annotations

import shutil
import sys

from rich.console import Console
from rich.markup import escape

from fastact.cli.options import UsageError
from fastact.data import DatasetError
from fastact.engine.blas import backend_name
from fastact.engine.threads import threading_layer
from fastact.experiments import charts, tables
from fastact.training import TrainConfig, load_for
from fastact.training.progress import ConsoleProgress

EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 2, 1, 130


def exit_code(results) -> int:
    """1 when a run failed or no run completed (every one diverged or failed), else 0.

    A diverged run among completed ones is a result of the comparison, not an error."""
    if any(r.status == "failed" for r in results) or not any(r.status == "completed" for r in results):
        return EXIT_FAILED
    return 0


def make_console() -> Console:
    """stdout: the terminal's width, or 120 columns when piped (rich would assume 80)."""
    return Console() if sys.stdout.isatty() else Console(width=120)


def say(console: Console, text: str) -> None:
    """One line of prose. Written to a file it is never broken (``soft_wrap``); a terminal wraps it
    at word boundaries to its width."""
    console.print(text, soft_wrap=not console.is_terminal)


def chart_width() -> int:
    return min(100, shutil.get_terminal_size((100, 24)).columns)


def load_data(config: TrainConfig):
    """The dataset, loaded once per invocation; bad names or files become UsageError."""
    try:
        return load_for(config, progress=True)
    except DatasetError as exc:
        raise UsageError(f"{'--data-file' if config.data_file else '--dataset/--data-dir'}: {exc}") from None


class ConsoleCallbacks(ConsoleProgress):
    """The training layer's console progress (a bar per epoch, a line per epoch); silent with ``quiet``."""

    def __init__(self, console: Console, quiet: bool = False, label=tables.label_of):
        super().__init__(console, bar=not quiet, label=label)
        self.quiet = quiet

    def on_kernels_ready(self, report):
        if not self.quiet and report.compiled:
            self.console.print(report.summary())

    def on_run_start(self, config, info):
        if not self.quiet:
            super().on_run_start(config, info)

    def on_epoch_end(self, config, record):
        if not self.quiet:
            super().on_epoch_end(config, record)

    def on_run_end(self, result):
        if not self.quiet:
            super().on_run_end(result)
            if result.status == "completed" and result.stopped_epoch:
                self.say(result.message)


def header(console: Console, ds, threads: int, configs=()) -> None:
    say(console, f"dataset: {escape(ds.description)}")
    say(console, f"         {len(ds.y_train):,} train / {len(ds.y_val):,} validation / {len(ds.y_test):,} test, "
                 f"{ds.input_dim} inputs, {ds.n_classes} classes")
    say(console, f"threads: {threads} ({threading_layer()}), BLAS: {backend_name()}")
    for line in tables.definitions(c.to_dict() for c in configs):
        say(console, f"defined: {escape(line)}")


def print_results(console: Console, results, quiet: bool, title: str = "Results") -> None:
    console.print(tables.summary_table(results, title))
    for line in tables.problems(results):
        say(console, f"[yellow]{escape(line)}[/yellow]")
    if not quiet and any(r.history for r in results):
        for chart in charts.accuracy_charts(results, color=console.is_terminal, width=chart_width()):
            console.out(chart, highlight=False)
    dirs = sorted({str(r.run_dir).rsplit("/", 1)[0] for r in results if r.run_dir})
    if dirs:
        say(console, f"saved under {', '.join(dirs)}/ (fastact report {dirs[0]} redraws this)")
