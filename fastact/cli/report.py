"""``fastact report DIR...``: redraw the tables and charts of saved runs, optionally as a sweep,
export every epoch of every run as CSV, and write the figures as PNG and SVG (``--figures
OUTDIR``; for a study folder also its ``report.md`` and self-contained ``report.html``)."""

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
    parser.add_argument("--figures", metavar="OUTDIR", default=None,
                        help="also write the figures (PNG and SVG) into OUTDIR; when DIR is a study folder, "
                             "its report.md and report.html too")


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
    if args.figures:
        write_figures(console, args.dirs, runs, args.figures)
    return 0


def write_figures(console, dirs, runs, outdir) -> None:
    """The figures of ``runs`` into ``outdir``; for one study folder, its report as well."""
    # Imported here: matplotlib and the report code load only when figures are asked for.
    from fastact.experiments.figures import write_figures as figures_of
    from fastact.experiments.report import is_study, write_study_report

    if len(dirs) == 1 and is_study(dirs[0]):
        files = write_study_report(dirs[0], figures_dir=outdir)
        written, reports = files.figures, [files.md, files.html]
    else:
        written, reports = figures_of(runs, outdir), []
    for w in written:
        console.print(f"wrote {w.png} and {w.svg.name}")
    for path in reports:
        console.print(f"wrote {path}")
