"""How study points scale on Dask: the same quick study serially and on a LocalCluster of 1 and 2
workers, the scheduler's overhead per task, and what a 32-worker cluster would do with the full
seed study, on paper.

    python bench/scaling_dask.py                              # Fashion-MNIST, quick seed study, part "activations"
    python bench/scaling_dask.py --parts activations slope --json scaling.json

Run it on a quiet machine (every run shares the cores). It measures, in this order:

1. the study (``seed --quick``, only the parts asked for: by default ``activations``, 7
   activations x 2 seeds x 3 epochs of 784-512-10) through `fastact.experiments.runner.run_study`
   as ``fastact study`` runs it, each time into a fresh directory: serially (all cores), then on
   a LocalCluster of 1 worker (all cores) and of 2 workers (cores/2 kernel threads each). Points
   per minute are over the whole `run_study` call (for Dask: the start-up too: workers probed,
   kernels loaded, the data checked); the LocalCluster's own start is timed apart.
2. on the last LocalCluster, the overhead per task: a Dask round trip of an empty task
   (``client.submit(f).result()``, one at a time: what a point waits between its worker ending
   one and starting the next) and fastact's executor per point with a point function that does
   nothing (submit, the start event, the result back, this process's bookkeeping; one point per
   worker slot in flight, as for real points).
3. the paper estimate for the full seed study (every point of ``fastact study seed``, 10 epochs,
   depth up to 5) on ``--cluster-workers`` workers of one kernel thread each: its cost
   (`fastact.experiments.estimate.cost`, multiply-adds) times the seconds per unit cost measured
   on the 2-worker LocalCluster's points (one kernel thread each, the other core busy too), over
   the workers, plus points / workers x the executor's overhead per point, plus one start-up.
   Below it, the longest single point: no number of workers finishes sooner.

Kernels are compiled (or loaded) in this process first, so the serial run does not pay for
compiling and the workers load them from the disk cache, as they would after a first run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from fastact.engine import threads as _threads
from fastact.experiments.distributed.executor import DaskExecutor
from fastact.experiments.estimate import cost
from fastact.experiments.runner import StudyEvents, fmt_seconds, run_study
from fastact.experiments.spec import load_spec
from fastact.experiments.tasks import SerialExecutor, Task
from fastact.training import Callbacks, RunResult, load_for, prepare_kernels_for

FASHION = Path("/usr/share/datasets/fashion-mnist")


def quick_study(parts, seeds=None, epochs=None, hidden=None):
    """``seed --quick`` restricted to ``parts`` (and, for a smoke run, fewer seeds, epochs, units)."""
    spec = load_spec("seed", quick=True)
    unknown = set(parts) - {p.name for p in spec.parts}
    if unknown:
        raise SystemExit(f"--parts: no part {', '.join(sorted(unknown))} in the seed study "
                         f"(parts: {', '.join(p.name for p in spec.parts)})")
    spec = replace(spec, parts=[p for p in spec.parts if p.name in parts])
    if seeds is not None:
        spec = replace(spec, seeds=tuple(seeds), parts=[replace(p, seeds=tuple(seeds)) for p in spec.parts])
    base = {k: v for k, v in (("epochs", epochs), ("hidden", hidden)) if v is not None}
    return spec.with_base("the command line", **base) if base else spec


class Clock(StudyEvents):
    """When the first point started (the end of the executor's start-up)."""

    def __init__(self):
        self.first_start = None

    def on_point_start(self, run, point):
        self.first_start = self.first_start or time.perf_counter()


def measure_study(name: str, spec, executor, ds, machine, out: Path) -> dict:
    clock = Clock()
    start = time.perf_counter()
    run = run_study(spec, out / name, executor, ds, events=clock, machine=machine)
    end = time.perf_counter()
    n = run.count("completed", "diverged")
    if n != run.total:
        raise SystemExit(f"{name}: {run.summary()} (every point must complete for a fair count)")
    first = clock.first_start or start
    return {"executor": name, "points": n, "seconds": end - start, "startup_seconds": first - start,
            "points_per_minute": 60 * n / (end - start), "points_per_minute_after_startup": 60 * n / (end - first),
            "point_seconds": {k: s for k, s in run.seconds.items()}, "costs": {p.key: cost(p.config, len(ds.y_train),
                              ds.input_dim, ds.n_classes) for p in run.points}}


def _empty(i):
    return i


def noop_point(task, dataset, callbacks, cancel) -> RunResult:
    """A point that trains nothing: its start event, then a completed result (the executor's cost alone)."""
    callbacks.on_run_start(task.config, {})
    return RunResult(task.config, task.key, None, [], None, None, "completed", "", "", seconds=0.0)


class Ends(Callbacks):
    def __init__(self):
        self.first_start = None

    def on_run_start(self, config, info):
        self.first_start = self.first_start or time.perf_counter()


def measure_overhead(executor: DaskExecutor, config, round_trips: int, tasks: int) -> dict:
    """Seconds per empty Dask task (round trip, median) and per no-op point through the executor."""
    client = executor.client
    for i in range(5):  # the first submissions set up the workers' comms
        client.submit(_empty, i, pure=False).result()
    trips = []
    for i in range(round_trips):
        t0 = time.perf_counter()
        client.submit(_empty, i, pure=False).result()
        trips.append(time.perf_counter() - t0)
    slots = sum(client.nthreads().values())
    noop = DaskExecutor(client=client, run=noop_point)
    batch = [Task(f"noop{i}", f"noop {i}", config) for i in range(tasks + 2 * slots)]
    warm, timed = batch[:2 * slots], batch[2 * slots:]
    list(noop.submit(warm))  # the point function shipped, each worker's split loaded
    ends = Ends()
    last = None
    for _ in noop.submit(timed, ends):
        last = time.perf_counter()
    # Each slot runs len(timed) / slots points one after another: a point's cycle is the wall over that.
    per_point = (last - ends.first_start) * slots / len(timed)
    return {"round_trip_seconds_median": statistics.median(trips), "round_trips": round_trips,
            "executor_seconds_per_point": per_point, "noop_points": len(timed), "slots": slots}


def paper_estimate(ds, measured: dict, overhead: float, workers: int) -> dict:
    """The full seed study on ``workers`` one-thread workers (module docstring, step 3)."""
    keys = [k for k in measured["point_seconds"] if measured["point_seconds"][k] is not None]
    rate = sum(measured["point_seconds"][k] for k in keys) / sum(measured["costs"][k] for k in keys)
    full = load_spec("seed").points()
    costs = [cost(p.config, len(ds.y_train), ds.input_dim, ds.n_classes) for p in full]
    compute = sum(costs) * rate
    total = compute / workers + len(full) / workers * overhead + measured["startup_seconds"]
    return {"points": len(full), "workers": workers, "seconds_per_unit_cost": rate, "compute_seconds": compute,
            "overhead_seconds_per_point": overhead, "startup_seconds": measured["startup_seconds"],
            "seconds": total, "longest_point_seconds": max(costs) * rate}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="scaling_dask.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="auto", help="the data (default: auto, Fashion-MNIST via --data-dir)")
    p.add_argument("--data-dir", default=str(FASHION) if FASHION.is_dir() else None)
    p.add_argument("--parts", nargs="+", default=["activations"], help="parts of seed --quick (default: activations)")
    p.add_argument("--workers", nargs="+", type=int, default=[1, 2], help="LocalCluster sizes (default: 1 2)")
    p.add_argument("--cluster-workers", type=int, default=32, help="workers of the paper estimate (32)")
    p.add_argument("--round-trips", type=int, default=200, help="empty Dask tasks timed one by one (200)")
    p.add_argument("--tasks", type=int, default=200, help="no-op points through the executor (200)")
    p.add_argument("--seeds", nargs="+", type=int, default=None, help="(smoke runs) seeds instead of 0 1")
    p.add_argument("--epochs", type=int, default=None, help="(smoke runs) epochs instead of 3")
    p.add_argument("--hidden", nargs="+", type=int, default=None, help="(smoke runs) hidden sizes instead of 512")
    p.add_argument("--out", default=None, help="keep the study directories here (default: a temporary one)")
    p.add_argument("--json", default=None, help="also write every number here")
    args = p.parse_args(argv)

    spec = quick_study(args.parts, args.seeds, args.epochs, args.hidden)
    if args.dataset != "auto":
        spec = spec.with_base("--dataset", dataset=args.dataset)
    machine = {"data_dir": args.data_dir, "threads": None}
    points = spec.points(**machine)
    ds = load_for(points[0].config, progress=False)
    prepare_kernels_for([q.config for q in points])  # compiled (or loaded) here first: see the docstring
    print(f"{ds.name}: {len(ds.y_train):,} training rows; seed --quick, parts {', '.join(args.parts)}: "
          f"{len(points)} points; {_threads.max_threads()} cores (NUMBA_NUM_THREADS)")
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="fastact-scaling-"))
    rows, overhead, clusters = [], None, {}
    try:
        rows.append(measure_study("serial", spec, SerialExecutor(), ds, machine, out))
        for n in args.workers:
            t0 = time.perf_counter()
            ex = DaskExecutor(workers=n)
            clusters[n] = time.perf_counter() - t0
            try:
                rows.append({**measure_study(f"dask-{n}", spec, ex, ds, machine, out), "cluster_start_seconds":
                             clusters[n], "kernel_threads": ex.threads})
                if n == args.workers[-1]:
                    overhead = measure_overhead(ex, points[-1].config, args.round_trips, args.tasks)
            finally:
                ex.close()
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
    print(f"\n{'executor':<34}{'points':>7}{'wall':>9}{'points/min':>12}{'after start-up':>16}{'vs serial':>11}")
    for r in rows:
        what = "serial, all cores" if r["executor"] == "serial" else \
            f"LocalCluster {r['executor'][5:]} x {r['kernel_threads']} thread{'s' if r['kernel_threads'] > 1 else ''}"
        extra = f"  (cluster start {r['cluster_start_seconds']:.1f}s, start-up {r['startup_seconds']:.1f}s)" \
            if "cluster_start_seconds" in r else ""
        print(f"{what:<34}{r['points']:>7}{fmt_seconds(r['seconds']):>9}{r['points_per_minute']:>12.2f}"
              f"{r['points_per_minute_after_startup']:>16.2f}{rows[0]['seconds'] / r['seconds']:>10.2f}x{extra}")
    paper = None
    if overhead is not None:
        trip = 1e3 * overhead["round_trip_seconds_median"]
        print(f"\noverhead per task: Dask round trip of an empty task {trip:.1f} ms "
              f"(median of {overhead['round_trips']}); fastact's executor per no-op point "
              f"{1e3 * overhead['executor_seconds_per_point']:.1f} ms ({overhead['noop_points']} points, "
              f"{overhead['slots']} slots)")
        one_thread = next((r for r in rows if r.get("kernel_threads") == 1), rows[-1])
        paper = paper_estimate(ds, one_thread, overhead["executor_seconds_per_point"], args.cluster_workers)
        print(f"paper: the full seed study ({paper['points']} points) on {paper['workers']} one-thread workers: "
              f"{fmt_seconds(paper['compute_seconds'])} of compute / {paper['workers']} + {paper['points']} / "
              f"{paper['workers']} x {1e3 * paper['overhead_seconds_per_point']:.1f} ms + start-up "
              f"{paper['startup_seconds']:.1f}s = {fmt_seconds(paper['seconds'])} (rate from {one_thread['executor']}; "
              f"its longest point alone: {fmt_seconds(paper['longest_point_seconds'])})")
    if args.json:
        Path(args.json).write_text(json.dumps({"dataset": ds.name, "n_train": len(ds.y_train), "parts": args.parts,
                                               "cores": _threads.max_threads(), "runs": rows, "overhead": overhead,
                                               "paper": paper}, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":  # LocalCluster's worker processes import this file: the guard keeps them idle
    raise SystemExit(main())
