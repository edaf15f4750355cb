"""``fastact train`` (also ``python -m fastact.train``): compare activations epoch by epoch.

Prints the dataset and thread count, a progress bar per epoch and one line per epoch, then a
table (mean +- std over ``--seeds``) and the two charts of the original experiment: training
and validation accuracy against epoch, a line per activation. Every run is saved under
``--out`` (`fastact.training.runs`).
"""

from __future__ import annotations

import sys

from rich.console import Console

from fastact.cli.options import add_run_arguments, configs_from_args
from fastact.cli.output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    ConsoleCallbacks,
    header,
    load_data,
    make_console,
    print_results,
    say,
)
from fastact.engine.threads import set_num_threads
from fastact.training import train_many


def add_arguments(p) -> None:
    add_run_arguments(p)


def run_cli(args, console: Console | None = None) -> int:
    """Run ``fastact train``; bad input raises (the dispatcher prints one line, exit 2)."""
    console = console or make_console()
    configs = configs_from_args(args)
    threads = set_num_threads(args.threads)
    ds = load_data(configs[0])
    header(console, ds, threads)
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
    return EXIT_FAILED if any(r.status == "failed" for r in results) else 0


def main(argv=None) -> int:
    from fastact.cli import main as cli_main

    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])
