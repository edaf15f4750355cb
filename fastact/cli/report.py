"""``fastact report DIR...``: redraw the tables and charts of saved runs, optionally as a sweep,
and export them as CSV.

Runs are grouped by their full configuration minus the seed (never averaging different
configurations; `fastact.experiments.grouping`), labelled by what differs (``relu depth=3``).
``--where act=relu,depth=3`` keeps matching runs, ``--group-by act`` merges on request (the table
says what each group mixes), ``--baseline LABEL`` adds paired comparisons on the same seeds. A
study directory (``fastact study``'s, holding ``spec.toml``) is shown part by part.
``--figures OUTDIR`` writes the figures as PNG and SVG (`fastact.experiments.figures`), and for a
study folder its ``report.md`` and self-contained ``report.html`` too.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.markup import escape

from fastact import activations, fsio
from fastact.cli.options import UsageError, check_output_file
from fastact.cli.output import chart_width, make_console, say
from fastact.cli.study_output import print_results
from fastact.cli.sweep import print_sweep
from fastact.experiments import analysis, charts, tables
from fastact.experiments.grouping import group_runs, parse_where
from fastact.experiments.metrics import METRICS
from fastact.experiments.runner import SPEC
from fastact.experiments.stats import compare
from fastact.experiments.sweep import targets
from fastact.formula import FormulaError
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
    parser.add_argument("--figures", metavar="OUTDIR", default=None,
                        help="also write the figures (PNG and SVG) into OUTDIR; when DIR is a study folder, "
                             "its report.md and report.html too")


def define_carried(runs) -> None:
    """Define the activations saved runs carry (`TrainConfig.define`), through the whitelisted parser.

    Raises:
        UsageError: a run's definition does not parse, or clashes with another; naming the run.
    """
    for run in runs:
        spec = run["config"].get("define")
        if isinstance(spec, dict):
            try:
                activations.define_spec(spec)
            except FormulaError as exc:
                raise UsageError(f"{run['dir']}: its activation cannot be defined: {str(exc).splitlines()[0]}") \
                    from None


def run_cli(args, console=None) -> int:
    """Redraw tables and charts from saved runs; a bad path or option raises (exit 2)."""
    console = console or make_console()
    known = targets()
    check_output_file("--csv", args.csv)
    if getattr(args, "figures", None) and (problem := fsio.writable_dir_problem(args.figures)):
        raise UsageError(f"--figures must be a directory fastact can write ({problem}). "
                         f"Received: figures={args.figures!r}")
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
    if args.sweep and args.sweep not in known:
        define_carried(runs)  # a defined activation's parameter: its sweep target exists once it is defined
        known = targets()
    if args.sweep and args.sweep not in known:
        raise UsageError(f"--sweep must be one of {', '.join(sorted(known))}. Received: sweep={args.sweep!r}")
    where = parse_where(args.where) if args.where else None
    by = [b.strip() for b in args.group_by.split(",") if b.strip()] if args.group_by else None
    groups = group_runs(runs, by, where)
    say(console, f"{len(runs)} run(s) from {escape(', '.join(args.dirs))}"
        + (f" ({len(skipped)} skipped)" if skipped else "")
        + (f", {sum(len(g.runs) for g in groups)} matching {escape(args.where)}" if where else ""))
    for line in tables.definitions(r["config"] for r in runs):
        say(console, f"defined: {escape(line)}")
    study = len(args.dirs) == 1 and (Path(args.dirs[0]) / SPEC).is_file()
    if args.sweep:
        target = known[args.sweep]
        chosen = [r for g in groups for r in g.runs]
        points = [r for r in chosen if _has_value(target, r)]
        for r in chosen:
            if not _has_value(target, r):
                print(f"fastact report: warning: skipped {r['dir']}: its config holds no {target.name} value to "
                      f"draw the sweep against", file=sys.stderr)
        if not points:
            raise UsageError(f"--sweep {target.name}: no run holds a {target.name} value. Received: "
                             f"{' '.join(args.dirs)}")
        print_sweep(console, points, target, quiet=args.no_charts)
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
    if args.figures:
        chosen = [r for g in groups for r in g.runs]
        write_figures(console, args.dirs, chosen, args.figures, whole_study=study and not (where or by))
    return 0


def _has_value(target, run) -> bool:
    """The run's config holds the swept setting (a run written by hand or by another version may not)."""
    try:
        float(target.value_of(run["config"]))
    except (KeyError, TypeError, ValueError, IndexError):
        return False
    return True


def write_figures(console, dirs, runs, outdir, whole_study: bool = False) -> None:
    """The figures of ``runs`` into ``outdir`` (always grouped by full configuration: ``--group-by``
    never averages different configurations in a figure); for a whole study folder, its report too."""
    # Imported here: matplotlib and the report code load only when figures are asked for.
    from fastact.experiments.figures import write_figures as figures_of
    from fastact.experiments.report import is_study, write_study_report

    if whole_study and is_study(dirs[0]):
        files = write_study_report(dirs[0], figures_dir=outdir)
        written, reports = files.figures, [files.md, files.html]
    else:
        written, reports = figures_of(runs, outdir), []
    for w in written:
        console.print(f"wrote {w.png} and {w.svg.name}")
    for path in reports:
        console.print(f"wrote {path}")


def write_study_files(console, out) -> bool:
    """What ``fastact study`` does at its end: ``report.md``, ``report.html`` and ``figures/`` in the
    study folder ``out``. A failure is reported, not raised: the study's results are already safe,
    and ``fastact report OUT --figures OUT/figures`` writes the report again."""
    from fastact.experiments.report import write_study_report

    try:
        files = write_study_report(out)
    except Exception as exc:  # noqa: BLE001 (the points are done; say what failed and how to retry)
        console.print(f"[yellow]report not written[/yellow]: {type(exc).__name__}: {exc} "
                      f"(fastact report {out} --figures {out}/figures tries again)")
        return False
    console.print(f"report: {files.html} ({files.md.name}, {len(files.figures)} figures in "
                  f"{files.figures[0].png.parent if files.figures else out})")
    return True
