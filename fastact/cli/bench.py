"""``fastact bench``: its options and the command (run, print the table, optionally write JSON)."""

from __future__ import annotations

import argparse

from fastact.benchmarks.config import OPS
from fastact.benchmarks.machine import environment, fma_peak
from fastact.benchmarks.peers import available_impls
from fastact.benchmarks.report import ratio_table, render_table
from fastact.benchmarks.timing import _plan, run


def _csv(kind, what):
    def parse(text):
        try:
            return [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {what}. Received: {text!r}") from None

    parse.__name__ = what
    return parse


def add_arguments(parser) -> None:
    """Options of ``fastact bench``."""
    parser.add_argument("--act", type=_csv(str, "names"), default=["seed"],
                        help="activations, comma-separated, or seed/extra/every (default: seed)")
    parser.add_argument("--batch", type=_csv(int, "integers"), default=[128], help="batch sizes, comma-separated (128)")
    parser.add_argument("--ops", type=_csv(str, "names"), default=list(OPS), help="forward,backward,step")
    parser.add_argument("--impls", type=_csv(str, "names"), default=None,
                        help=f"implementations (default: {','.join(available_impls())})")
    parser.add_argument("--shape", type=_csv(int, "integers"), default=[784, 512], help="n_in,n_out (784,512)")
    parser.add_argument("--threads", type=int, default=None, help="threads for every impl (all cores)")
    parser.add_argument("--min-rounds", type=int, default=5)
    parser.add_argument("--max-time", type=float, default=0.5, help="seconds per case (0.5)")
    parser.add_argument("--json", metavar="PATH", default=None, help="also write results + environment")



def run_cli(args) -> int:
    """``fastact bench``: run, print the table, optionally write JSON. Returns the exit code.

    Bad arguments raise ValueError naming the value (``fastact``'s CLI prints it as one line, exit 2).
    """
    import json

    from rich.progress import Progress

    from fastact.cli.output import make_console

    console = make_console()
    _plan(args.act, args.batch, args.ops, args.impls, args.shape)  # bad arguments fail before the bar shows
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("benchmarking", total=None)

        def progress(done, total, res):
            bar.update(task, completed=done, total=total, description=f"{res.impl} {res.op} {res.act} b{res.batch}")

        results = run(args.act, args.batch, args.ops, args.impls, tuple(args.shape), args.min_rounds,
                      args.max_time, progress=progress, threads=args.threads)
    rows = ratio_table(results)
    peak = fma_peak(args.threads)
    console.print(render_table(rows, peak=peak))
    console.print(f"peak: {peak['gflops']:.0f} GFLOP/s = {peak['how']}")
    for r in results:
        if r.note:
            console.print(f"[yellow]skipped[/yellow] {r.impl} {r.act}: {r.note}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": [r.to_dict() for r in results], "table": rows, "peak": peak,
                       "environment": environment("torch" in (args.impls or available_impls()))}, fh, indent=2)
        console.print(f"wrote {args.json}")
    return 0
