"""``fastact report DIR...``: redraw the tables and charts of saved runs, optionally as a sweep,
and export every epoch of every run as CSV."""

from __future__ import annotations

import sys

from rich.markup import escape

from fastact.cli.options import UsageError, check_output_file
from fastact.cli.output import chart_width, make_console, say
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
    check_output_file("--csv", args.csv)
    try:
        dirs = saved.find_runs(args.dirs)
    except FileNotFoundError as exc:
        raise UsageError(f"DIR: {exc}") from None
    if not dirs:
        raise UsageError(f"DIR holds no saved runs (no config.json or summary.json). Received: {' '.join(args.dirs)}")
    runs, skipped = saved.load_runs(dirs)
    for problem in skipped:  # a malformed run is skipped, named, and the others are still drawn
        print(f"fastact report: warning: skipped {problem}", file=sys.stderr)
    if not runs:
        raise UsageError(f"DIR holds no readable runs ({len(skipped)} skipped). Received: {' '.join(args.dirs)}")
    say(console, f"{len(runs)} run(s) from {escape(', '.join(args.dirs))}"
                 + (f" ({len(skipped)} skipped)" if skipped else ""))
    if args.sweep:
        target = known[args.sweep]
        points = [r for r in runs if _has_value(target, r)]
        for r in runs:
            if not _has_value(target, r):
                print(f"fastact report: warning: skipped {r['dir']}: its config holds no {target.name} value to "
                      f"draw the sweep against", file=sys.stderr)
        if not points:
            raise UsageError(f"--sweep {target.name}: no run holds a {target.name} value. Received: "
                             f"{' '.join(args.dirs)}")
        print_sweep(console, points, target, quiet=args.no_charts)
    else:
        console.print(tables.summary_table(runs, "Saved runs"))
        for line in tables.problems(runs):
            say(console, f"[yellow]{escape(line)}[/yellow]")
        if not args.no_charts:
            for chart in charts.accuracy_charts(runs, color=console.is_terminal, width=chart_width()):
                console.out(chart, highlight=False)
    if args.csv:
        n = tables.write_csv(runs, args.csv)
        say(console, f"wrote {n} rows to {escape(args.csv)}")
    return 0


def _has_value(target, run) -> bool:
    """The run's config holds the swept setting (a run written by hand or by another version may not)."""
    try:
        float(target.value_of(run["config"]))
    except (KeyError, TypeError, ValueError, IndexError):
        return False
    return True
