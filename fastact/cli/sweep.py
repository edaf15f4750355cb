"""``fastact sweep TARGET --values ...``: every point a full training run, then a table and the
two charts (final training and validation accuracy) against the swept value. The points run
through the same executors as ``fastact study`` (``--executor serial|dask``, ``--scheduler``,
``--workers``: `fastact.cli.options.add_executor_arguments`); this process writes every run."""

from __future__ import annotations

from rich.markup import escape

from fastact.cli.options import (
    add_executor_arguments,
    add_resource_arguments,
    add_run_arguments,
    configs_from_args,
    executor_from_args,
)
from fastact.cli.output import (
    EXIT_INTERRUPTED,
    ConsoleCallbacks,
    chart_width,
    exit_code,
    header,
    load_data,
    make_console,
    say,
)
from fastact.engine import threads as _threads
from fastact.experiments import charts, tables
from fastact.experiments.sweep import Target, build_configs, parse_values, run_points, targets
from fastact.experiments.tasks import closing
from fastact.nn.memory import MemoryBudgetError
from fastact.training import prepare_kernels_for
from fastact.training.memory import check_runs


def add_arguments(parser) -> None:
    parser.add_argument("target", metavar="TARGET", choices=sorted(targets()),
                        help=f"what to vary: {', '.join(sorted(targets()))}")
    parser.add_argument("--values", required=True, nargs="+", metavar="V",
                        help="values and/or start:stop:step ranges (stop included), separated by spaces or "
                             "commas, e.g. 0 0.1 0.2, 0,0.1,0.2 or 0:1:0.1; depth: 1 2 3 hidden layers of "
                             "--hidden's first width (a range starting below 0: --values=-1:1:0.5)")
    add_run_arguments(parser, sweep=True)
    add_resource_arguments(parser)
    add_executor_arguments(parser)


def run_cli(args, console=None) -> int:
    """Run ``fastact sweep``; bad input raises (the dispatcher prints one line, exit 2)."""
    console = console or make_console()
    target = targets()[args.target]
    values = parse_values(" ".join(args.values))
    bases = configs_from_args(args, acts=[target.act] if target.act else None)
    configs = build_configs(target, values, bases)
    _check_memory(target, configs)  # every point, before the data is downloaded or loaded (named datasets)
    threads = _threads.set_num_threads(args.threads)
    ds = load_data(configs[0])
    _check_memory(target, configs, ds)
    header(console, ds, threads, configs)
    executor = executor_from_args(args, log=lambda text: say(console, text))
    serial = executor.name == "serial"
    say(console, f"sweep {target.name} over {', '.join(f'{v:g}' for v in values)}: {len(configs)} runs, "
                 f"{'serial' if serial else executor.describe()}")
    if serial:  # every point's kernels first, in parallel processes when missing (Dask workers prepare their own)
        prepare_kernels_for(configs, ConsoleCallbacks(console, args.quiet))
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
    return exit_code(results)


def _check_memory(target: Target, configs, ds=None) -> None:
    """`check_runs`; when the swept values set the layers (depth, width), the refusal names ``--values``."""
    try:
        check_runs(configs, ds)
    except MemoryBudgetError as exc:
        if exc.field == "hidden" and target.name in ("depth", "width"):
            raise MemoryBudgetError("values", target.value_of({"hidden": list(exc.value)}), exc.rule) from None
        raise


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
