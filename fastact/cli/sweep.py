"""``fastact sweep TARGET --values ...``: every point a full training run, then a table and the
two charts (final training and validation accuracy) against the swept value. The points run
through the same executors as ``fastact study`` (``--executor serial|dask``, ``--scheduler``,
``--workers``: `fastact.cli.options.add_executor_arguments`); this process writes every run."""

from __future__ import annotations

from rich.markup import escape

from fastact.cli.options import add_executor_arguments, add_run_arguments, configs_from_args, executor_from_args
from fastact.cli.output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    ConsoleCallbacks,
    chart_width,
    header,
    load_data,
    make_console,
    say,
)
from fastact.engine import threads as _threads
from fastact.experiments import charts, tables
from fastact.experiments.sweep import Target, build_configs, parse_values, run_points, targets
from fastact.experiments.tasks import closing


def add_arguments(parser) -> None:
    parser.add_argument("target", metavar="TARGET", choices=sorted(targets()),
                        help=f"what to vary: {', '.join(sorted(targets()))}")
    parser.add_argument("--values", required=True, nargs="+", metavar="V",
                        help="values and/or start:stop:step ranges (stop included), separated by spaces or "
                             "commas, e.g. 0 0.1 0.2, 0,0.1,0.2 or 0:1:0.1; depth: 1 2 3 hidden layers of "
                             "--hidden's first width (a range starting below 0: --values=-1:1:0.5)")
    add_run_arguments(parser, sweep=True)
    add_executor_arguments(parser)


def run_cli(args, console=None) -> int:
    """Run ``fastact sweep``; bad input raises (the dispatcher prints one line, exit 2)."""
    console = console or make_console()
    target = targets()[args.target]
    values = parse_values(" ".join(args.values))
    bases = configs_from_args(args, acts=[target.act] if target.act else None)
    configs = build_configs(target, values, bases)
    threads = _threads.set_num_threads(args.threads)
    ds = load_data(configs[0])
    header(console, ds, threads)
    executor = executor_from_args(args, log=lambda text: say(console, text))
    serial = executor.name == "serial"
    say(console, f"sweep {target.name} over {', '.join(f'{v:g}' for v in values)}: {len(configs)} runs, "
                 f"{'serial' if serial else executor.describe()}")
    results = [None] * len(configs)
    label = tables.labeller(c.to_dict() for c in configs)
    # One point at a time draws a bar per epoch; points running side by side print a line each as they end.
    cb = ConsoleCallbacks(console, args.quiet, label) if serial else None
    try:
        with closing(executor):
            for i, r in run_points(configs, executor, cb, labels=[label(c.to_dict()) for c in configs]):
                results[i] = r
                if not serial and not args.quiet:
                    last = r.history[-1] if r.history else None
                    say(console, f"{label(r.config.to_dict())}: {r.status}"
                                 + (f", val_acc {tables.fmt_pct(last.val_acc)}" if last else "")
                                 + (f" ({r.message})" if r.status == "failed" else ""))
    except KeyboardInterrupt:
        say(console, "\n[yellow]interrupted[/yellow]: finished points are saved")
        return EXIT_INTERRUPTED
    results = [r for r in results if r is not None]
    print_sweep(console, results, target, args.quiet)
    return EXIT_FAILED if any(r.status == "failed" for r in results) else 0


def setting_of(target: Target) -> str:
    """The setting (`fastact.experiments.identity.settings`) a sweep target varies."""
    return {"leaky-slope": "negative_slope"}.get(target.name, target.name.replace("-", "_"))


def print_sweep(console, runs, target: Target, quiet: bool = False) -> None:
    """The sweep's table and charts: one series per configuration but for the swept setting."""
    points = tables.sweep_points(runs, setting_of(target))
    console.print(tables.sweep_table(points, target.name, f"Sweep of {target.name}"))
    for line in tables.problems(runs):
        say(console, f"[yellow]{escape(line)}[/yellow]")
    if not quiet:
        for chart in charts.sweep_charts(points, target.name, color=console.is_terminal, width=chart_width()):
            console.out(chart, highlight=False)
