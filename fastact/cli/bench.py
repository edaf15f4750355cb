"""``fastact bench``: its options and the command (run, print the table, optionally write JSON)."""

from __future__ import annotations

from fastact import activations, fsio
from fastact.benchmarks.config import IMPLS, OPS
from fastact.benchmarks.machine import environment, fma_peak
from fastact.benchmarks.peers import available_impls
from fastact.benchmarks.report import ratio_table, render_table
from fastact.benchmarks.timing import MAX_ROUNDS, MAX_TIME, _plan, run
from fastact.cli.options import (
    add_act_argument,
    add_define_argument,
    add_list_argument,
    add_resource_arguments,
    apply_defines,
    bounded,
    check_output_file,
    choice,
    positive_int,
)
from fastact.engine import threads as engine_threads


def add_arguments(parser) -> None:
    """Options of ``fastact bench``: every list flag takes values separated by spaces and/or commas."""
    add_define_argument(parser)
    add_act_argument(parser, activations.names("seed"), "all")
    add_list_argument(parser, "--batch", positive_int, "batch size", default=[128], metavar="B",
                      help="batch sizes, e.g. 128 1024 or 128,1024 (default: 128)")
    add_list_argument(parser, "--ops", choice(OPS, "op"), "op", unique=True, default=list(OPS), metavar="OP",
                      help=f"operations: {', '.join(OPS)} (default: all three)")
    add_list_argument(parser, "--impls", choice(IMPLS, "impl"), "impl", unique=True, default=None, metavar="IMPL",
                      help=f"implementations: {', '.join(IMPLS)} (default: {', '.join(available_impls())})")
    add_list_argument(parser, "--shape", positive_int, "size", default=[784, 512], metavar="N",
                      help="n_in n_out, e.g. 784 512 or 784,512 (default: 784 512)")
    parser.add_argument("--threads", type=bounded(int, 1, engine_threads.max_threads(), "an integer"), default=None,
                        help="threads for every impl (all cores)")
    parser.add_argument("--min-rounds", type=bounded(int, 1, MAX_ROUNDS, "an integer"), default=5,
                        help=f"timed rounds per case, at least (5; at most {MAX_ROUNDS:,})")
    parser.add_argument("--max-time", type=bounded(float, 0, MAX_TIME, "seconds"), default=0.5,
                        help=f"seconds per case (0.5; at most {MAX_TIME:g})")
    parser.add_argument("--json", metavar="PATH", default=None, help="also write results + environment")
    add_resource_arguments(parser)


def run_cli(args) -> int:
    """``fastact bench``: run, print the table, optionally write JSON. Returns the exit code.

    Bad arguments raise ValueError naming the value (``fastact``'s CLI prints it as one line, exit 2).
    """
    import json

    from rich.markup import escape
    from rich.progress import Progress

    from fastact.cli.output import make_console, say

    apply_defines(args.define)  # fastact's kernels only: the peers have no mapping for a defined activation
    console = make_console()
    # Bad arguments (and cases too large for the memory budget) fail before the bar shows.
    _plan(args.act, args.batch, args.ops, args.impls, args.shape, names=("--batch", "--shape"))
    check_output_file("--json", args.json)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("benchmarking", total=None)

        def progress(done, total, res):
            bar.update(task, completed=done, total=total, description=f"{res.impl} {res.op} {res.act} b{res.batch}")

        results = run(args.act, args.batch, args.ops, args.impls, tuple(args.shape), args.min_rounds,
                      args.max_time, progress=progress, threads=args.threads)
    rows = ratio_table(results)
    peak = fma_peak(args.threads)
    console.print(render_table(rows, peak=peak))
    say(console, f"peak: {peak['gflops']:.0f} GFLOP/s = {peak['how']}")
    for r in results:
        if r.note:
            say(console, f"[yellow]skipped[/yellow] {r.impl} {r.act}: {escape(r.note)}")
    if args.json:
        data = {"results": [r.to_dict() for r in results], "table": rows, "peak": peak,
                "environment": environment("torch" in (args.impls or available_impls()))}
        fsio.atomic_write(args.json, lambda fh: json.dump(data, fh, indent=2))
        say(console, f"wrote {escape(args.json)}")
    return 0
