"""``fastact study NAME|SPEC.toml``: a whole experiment as one resumable command.

    fastact study --list                     the built-in studies
    fastact study seed --quick --dry-run     its points and an estimated time
    fastact study seed --quick               run it (again: resume) into studies/seed-quick/
    fastact study my.toml --out st/ --retry-failed
    fastact study my.toml --define "hswish = z * clip(z + 3, 0, 6) / 6"   (a spec's [define] table is better)
    fastact study seed --executor dask --scheduler tcp://HOST:8786   the points on a Dask cluster

The spec format is `fastact.experiments.spec`, the directory and resume rules
`fastact.experiments.runner`. A bad spec field is one line naming it
(``seed.toml: parts[1].negative_slope must be >= 0. Received: negative_slope=-0.1``), exit 2;
a failed point gives exit 1; Ctrl-C exits 130 and loses only the point in flight.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict

from fastact.cli.options import (
    UsageError,
    add_define_argument,
    add_executor_arguments,
    add_resource_arguments,
    apply_defines,
    check_out,
    executor_from_args,
)
from fastact.cli.output import EXIT_FAILED, EXIT_INTERRUPTED, chart_width, header, load_data, make_console, say
from fastact.cli.study_output import StudyConsole, estimate_line, print_results
from fastact.engine import threads as _threads
from fastact.experiments import analysis, identity
from fastact.experiments.builtins import BUILTINS
from fastact.experiments.estimate import calibrate
from fastact.experiments.metrics import METRICS
from fastact.experiments.runner import DONE, RESULTS, StudyError, fmt_seconds, open_study, run_study
from fastact.experiments.spec import SpecError, load_spec
from fastact.experiments.tasks import closing
from fastact.nn.memory import MemoryBudgetError
from fastact.training import TrainConfig
from fastact.training.memory import check_runs


def add_arguments(p) -> None:
    p.add_argument("study", nargs="?", metavar="NAME|SPEC.toml",
                   help=f"a built-in study ({', '.join(BUILTINS)}) or a TOML spec file")
    p.add_argument("--out", metavar="DIR", default=None, help="the study directory (default: studies/NAME[-quick])")
    p.add_argument("--quick", action="store_true", help="apply the spec's [quick] table: a first look in minutes")
    p.add_argument("--dry-run", action="store_true", help="list the points and estimate the time; run nothing")
    p.add_argument("--list", action="store_true", help="list the built-in studies")
    p.add_argument("--retry-failed", action="store_true", help="run failed points again")
    p.add_argument("--retry-diverged", action="store_true", help="run diverged points again (they are results)")
    p.add_argument("--metric", default="test_acc", choices=list(METRICS),
                   help="what the comparisons test (default: test_acc)")
    p.add_argument("--dataset", default=None, help="the data (default: the spec's, else auto)")
    p.add_argument("--data-dir", default=None, help="directory holding the four MNIST-format files")
    p.add_argument("--threads", type=int, default=None, help="kernel threads per point (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar: one line per point (for logs)")
    add_resource_arguments(p)
    add_define_argument(p)  # a spec's own [define] table is the reproducible way; this is for a quick look
    add_executor_arguments(p)


def _spec(args):
    try:
        spec = load_spec(args.study, args.quick)
        return spec.with_base("--dataset", dataset=args.dataset) if args.dataset is not None else spec
    except SpecError as exc:
        where = "" if exc.field in ("study", "spec", "--dataset") else f"{args.study}: "
        raise UsageError(f"{where}{exc}") from None


def list_builtins(console) -> int:
    for name in BUILTINS:
        full, quick = load_spec(name), load_spec(name, quick=True)
        console.print(f"{name}: {full.description}", highlight=False)
        console.print(f"    {len(full.points())} points ({len(quick.points())} with --quick); parts: "
                      + ", ".join(p.name for p in full.parts), highlight=False)
    return 0


def dry_run(console, spec, out, ds, machine) -> int:
    run = open_study(spec, out, ds, machine=machine)
    _warn_skipped(run)
    console.print(f"study {spec.name}{' (quick)' if spec.quick else ''} in {out}: {run.summary()}")
    todo = [p for p in run.points if run.status[p.key] not in (*DONE, "failed")]
    console.print("estimating: timing a few training steps of each network shape (fastact.experiments.estimate)")
    secs = calibrate([p.config for p in todo], len(ds.y_train), len(ds.y_val), len(ds.y_test), ds.input_dim,
                     ds.n_classes)
    est = dict(zip((p.key for p in todo), secs))
    for part in spec.parts:
        pts = [p for p in run.points if part.name in p.parts]
        console.print(f"[bold]{part.name}[/bold] ({len(pts)} points){': ' + part.title if part.title else ''}")
        by_config = defaultdict(list)
        v = [k for k in identity.varying([p.config.to_dict() for p in pts]) if k != "seed"]
        for p in pts:
            by_config[identity.label(p.config.to_dict(), v)].append(p)
        for label, members in by_config.items():
            seeds = ",".join(str(p.config.seed) for p in members)
            left = [p for p in members if p.key in est]
            state = f"{len(members) - len(left)} done" if len(left) < len(members) else ""
            cost = f"~{fmt_seconds(sum(est[p.key] for p in left))}" if left else ""
            console.print(f"  {label:<36} seeds {seeds:<12} {state:>8} {cost:>8}", highlight=False)
    console.print(estimate_line(len(todo), sum(secs)) + " on this machine (serial)")
    return 0


def run_cli(args, console=None) -> int:
    """Run ``fastact study``; bad input raises (the dispatcher prints one line, exit 2)."""
    console = console or make_console()
    if args.list:
        return list_builtins(console)
    if not args.study:
        raise UsageError(f"give a study: a built-in name ({', '.join(BUILTINS)}) or a SPEC.toml (--list shows them)")
    apply_defines(args.define)
    spec = _spec(args)
    machine = {"data_dir": args.data_dir, "threads": args.threads}
    TrainConfig(data_dir=args.data_dir, threads=args.threads).validate()  # words as --data-dir / --threads
    out = args.out or f"studies/{spec.name}{'-quick' if spec.quick else ''}"
    if args.out is not None:
        check_out(argparse.Namespace(out=args.out))
    points = spec.points(**machine)
    configs = [p.config for p in points]
    _check_memory(args, configs)  # a named dataset's shape is known: before it is downloaded or loaded
    threads = _threads.set_num_threads(args.threads)
    ds = load_data(configs[0])
    _check_memory(args, configs, ds)
    header(console, ds, threads, list({p.config.act: p.config for p in points}.values()))
    if args.dry_run:
        return dry_run(console, spec, out, ds, machine)
    executor = executor_from_args(args, log=lambda text: say(console, text))
    if executor.name != "serial":
        say(console, executor.describe())
    view = StudyConsole(console, args.quiet)
    try:
        with closing(executor):
            run = run_study(spec, out, executor, ds, args.retry_failed, args.retry_diverged, view, machine=machine)
    except StudyError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        view.stop()
        state = analysis.load_study(out).run
        console.print(f"\n[yellow]interrupted[/yellow]: {state.summary()}; the point in flight runs again "
                      f"next time (fastact study {args.study}{' --quick' if args.quick else ''} --out {out})")
        return EXIT_INTERRUPTED
    study = analysis.load_study(out)
    _warn_skipped(run)
    print_results(console, study, args.metric, show_charts=not args.quiet, width=chart_width())
    from fastact.cli.report import write_study_files  # matplotlib loads only now, when the points are done

    write_study_files(console, out)
    failed = run.count("failed")
    console.print(f"{run.summary()}; results: {out}/{RESULTS}"
                  + (" (--retry-failed runs the failed points again)" if failed else ""))
    # Diverged points are results, but a study none of whose points completed has none to compare.
    return EXIT_FAILED if failed or not run.count("completed") else 0


def _check_memory(args, configs, ds=None) -> None:
    """Every point's run against the memory budget; the refusal names the spec, whose settings caused it."""
    try:
        check_runs(configs, ds)
    except MemoryBudgetError as exc:
        raise UsageError(f"{args.study}: a point's {exc}") from None


def _warn_skipped(run) -> None:
    for problem in run.skipped:  # its point was run again (or is left to run): named once, not fatal
        print(f"fastact study: warning: skipped {problem}", file=sys.stderr)

