"""``fastact report DIR...``: redraw the tables and charts of saved runs, optionally as a sweep,
and export them as CSV.

Runs are grouped by their full configuration minus the seed (never averaging different
configurations; `fastact.experiments.grouping`), labelled by what differs (``relu depth=3``).
``--where act=relu,depth=3`` keeps matching runs, ``--group-by act`` merges on request (the table
says what each group mixes), ``--baseline LABEL`` adds paired comparisons on the same seeds. A
study directory (``fastact study``'s, holding ``spec.toml``) is shown part by part.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from fastact.cli.options import UsageError
from fastact.cli.output import chart_width, make_console, say
from fastact.cli.study_output import print_results
from fastact.cli.sweep import print_sweep
from fastact.experiments import analysis, charts, tables
from fastact.experiments.grouping import group_runs, parse_where
from fastact.experiments.metrics import METRICS
from fastact.experiments.runner import SPEC
from fastact.experiments.stats import compare
from fastact.experiments.sweep import targets
from fastact.training import runs as saved


def add_arguments(parser) -> None:
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="run directories, roots holding them, or a study")
    parser.add_argument("--where", default=None, metavar="NAME=VALUE,...",
                        help="only runs whose settings match, e.g. act=relu,depth=3 (act=relu|tanh: either)")
    parser.add_argument("--group-by", default=None, metavar="NAMES",
                        help="group by these settings only, e.g. act,depth (default: the whole configuration "
                             "but the seed)")
    parser.add_argument("--baseline", default=None, metavar="LABEL",
                        help="compare every group with this one, paired by seed (t-test, Wilcoxon, Holm)")
    parser.add_argument("--metric", default="test_acc", choices=list(METRICS),
                        help="what --baseline compares (default: test_acc)")
    parser.add_argument("--csv", metavar="PATH", default=None, help="also write the runs as CSV")
    parser.add_argument("--csv-rows", default="epoch", choices=("epoch", "run"),
                        help="one CSV row per epoch of each run (default) or per run")
    parser.add_argument("--sweep", default=None, metavar="TARGET",
                        help="draw as a sweep of TARGET (leaky-slope, depth, ...) instead of per epoch")
    parser.add_argument("--no-charts", action="store_true", help="tables only")


def run_cli(args, console=None) -> int:
    """Redraw tables and charts from saved runs; a bad path or option raises (exit 2)."""
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
    where = parse_where(args.where) if args.where else None
    by = [b.strip() for b in args.group_by.split(",") if b.strip()] if args.group_by else None
    groups = group_runs(runs, by, where)
    say(console, f"{len(runs)} run(s) from {escape(', '.join(args.dirs))}"
        + (f", {sum(len(g.runs) for g in groups)} matching {escape(args.where)}" if where else ""))
    study = len(args.dirs) == 1 and (Path(args.dirs[0]) / SPEC).is_file()
    if args.sweep:
        chosen = [r for g in groups for r in g.runs]
        print_sweep(console, chosen, known[args.sweep], quiet=args.no_charts)
    elif study and not (where or by or args.baseline):
        print_results(console, analysis.load_study(args.dirs[0]), args.metric, not args.no_charts, chart_width())
    else:
        console.print(tables.summary_table(None, "Saved runs", groups=groups))
        for line in tables.problems([r for g in groups for r in g.runs]):
            say(console, f"[yellow]{escape(line)}[/yellow]")
        if args.baseline:
            comps = compare(groups, args.baseline, args.metric)
            console.print(tables.comparison_table(comps, f"Paired by seed against {args.baseline} ({args.metric})"))
        if not args.no_charts:
            for chart in charts.accuracy_charts(runs, color=console.is_terminal, width=chart_width(), groups=groups):
                console.out(chart, highlight=False)
    if args.csv:
        chosen = [r for g in groups for r in g.runs]
        n = (tables.write_csv if args.csv_rows == "epoch" else tables.write_runs_csv)(chosen, args.csv)
        say(console, f"wrote {n} rows to {escape(args.csv)}")
    return 0
