"""``fastact train`` (also ``python -m fastact.train``): compare activations epoch by epoch.

Prints the dataset and thread count, a progress bar per epoch and one line per epoch, then a
table (mean +- std over ``--seeds``) and the two charts of the original experiment: training
and validation accuracy against epoch, a line per activation. Every run is saved under
``--out`` (`fastact.training.runs`).
"""

from __future__ import annotations

import sys

from rich.console import Console

from fastact.cli.options import add_resource_arguments, add_run_arguments, configs_from_args
from fastact.cli.output import (
    EXIT_INTERRUPTED,
    ConsoleCallbacks,
    exit_code,
    header,
    load_data,
    make_console,
    print_results,
    say,
)
from fastact.engine.threads import set_num_threads
from fastact.training import train_many
from fastact.training.memory import check_runs


def add_arguments(p) -> None:
    add_run_arguments(p)
    add_resource_arguments(p)


def run_cli(args, console: Console | None = None) -> int:
    """Run ``fastact train``; bad input raises (the dispatcher prints one line, exit 2)."""
    console = console or make_console()
    configs = configs_from_args(args)
    check_runs(configs)  # a named dataset's shape is known: refuse before downloading or loading it
    threads = set_num_threads(args.threads)
    ds = load_data(configs[0])
    check_runs(configs, ds)
    header(console, ds, threads, configs)
    results = []

    class Collect(ConsoleCallbacks):
        def on_run_end(self, result):
            super().on_run_end(result)
            results.append(result)

    try:
        train_many(configs, ds, Collect(console, args.quiet))
    except KeyboardInterrupt:
        say(console, "\n[yellow]interrupted[/yellow]: runs so far are saved; the stopped run is marked cancelled")
        if results:
            print_results(console, results, quiet=True)
        return EXIT_INTERRUPTED
    print_results(console, results, args.quiet)
    return exit_code(results)


def main(argv=None) -> int:
    from fastact.cli import main as cli_main

    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])
