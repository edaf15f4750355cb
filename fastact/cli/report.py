"""``fastact report DIR...``: redraw the tables and charts of saved runs, optionally as a sweep,
and export every epoch of every run as CSV."""

from __future__ import annotations

from fastact.cli.options import UsageError
from fastact.cli.output import chart_width, make_console
from fastact.cli.sweep import print_sweep
from fastact.experiments import charts, tables
from fastact.experiments.sweep import targets
from fastact.training import runs as saved


def add_arguments(parser) -> None:
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="run directories, or roots holding them")
    parser.add_argument("--csv", metavar="PATH", default=None, help="also write every epoch of every run as CSV")
    parser.add_argument("--sweep", default=None, metavar="TARGET",
                        help="draw as a sweep of TARGET (leaky-slope, depth, ...) instead of per epoch")
    parser.add_argument("--no-charts", action="store_true", help="tables only")


def run_cli(args, console=None) -> int:
    """Redraw tables and charts from saved runs; a bad path or target raises UsageError (exit 2)."""
    console = console or make_console()
    known = targets()
    if args.sweep and args.sweep not in known:
        raise UsageError(f"--sweep must be one of {', '.join(sorted(known))}. Received: sweep={args.sweep!r}")
    try:
        dirs = saved.find_runs(args.dirs)
    except FileNotFoundError as exc:
        raise UsageError(f"DIR: {exc}") from None
    if not dirs:
        raise UsageError(f"DIR holds no saved runs (no config.json or summary.json). Received: {' '.join(args.dirs)}")
    runs = [saved.load_run(d) for d in dirs]
    console.print(f"{len(runs)} run(s) from {', '.join(args.dirs)}")
    for line in tables.definitions(r["config"] for r in runs):
        console.print(f"defined: {line}", highlight=False, markup=False)
    if args.sweep:
        print_sweep(console, runs, known[args.sweep], quiet=args.no_charts)
    else:
        console.print(tables.summary_table(runs, "Saved runs"))
        for line in tables.problems(runs):
            console.print(f"[yellow]{line}[/yellow]")
        if not args.no_charts:
            for chart in charts.accuracy_charts(runs, color=console.is_terminal, width=chart_width()):
                console.out(chart, highlight=False)
    if args.csv:
        n = tables.write_csv(runs, args.csv)
        console.print(f"wrote {n} rows to {args.csv}")
    return 0
