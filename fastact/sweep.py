"""Sweeps: one setting varied over values, every point a full training run.

Targets: ``leaky-slope`` (Leaky ReLU's ``negative_slope``), ``depth`` (that
many hidden layers of ``--hidden``'s first width), ``width`` (one hidden
layer of that width), ``lr``, and every activation parameter by its flag name
without dashes (``rrelu-lower``, ``elu-alpha``, ``prelu-init`` ...).

Points run through an `Executor`: anything with ``map(fn, items) -> iterator``
of results in input order. `SerialExecutor` runs them in this process with all
threads; `ProcessExecutor` runs them in spawned worker processes, each with
``cores // workers`` threads. A distributed engine plugs in by providing
``map`` (``fn`` and the items are picklable: top-level function, dataclasses).

Which is faster (measured on the 2-core development machine): the kernels are
parallel inside one run, so serial with all threads keeps both cores busy for
the protocol's 784-512-10 network, and every spawned worker pays ~1-2 s of
start-up (imports, JIT cache, loading the data again). On a tiny sweep (4
widths 16..64, 540 images, 3 epochs) serial took 1.6 s and two processes
3.7 s. So ``--workers`` defaults to 1 (serial), and `choose_executor` with
``workers="auto"`` uses processes only where one run cannot keep the cores
busy and there is enough work to amortise the start-up: every hidden width
<= 128 and at least two points per core; otherwise serial.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import os
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Protocol

from fastact import activations
from fastact.engine import threads as _threads
from fastact.trainer import TrainConfig, param_flag, train


class Executor(Protocol):
    def map(self, fn: Callable, items) -> Iterator: ...


class SerialExecutor:
    """Runs every item in this process, in order."""

    def map(self, fn, items):
        for item in items:
            yield fn(item)


class ProcessExecutor:
    """``workers`` spawned processes (``concurrent.futures``), results in input order."""

    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError(f"--workers must be a positive integer. Received: workers={workers!r}")
        self.workers = workers

    def map(self, fn, items):
        ctx = multiprocessing.get_context("spawn")
        pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx)
        try:
            yield from pool.map(fn, list(items))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def choose_executor(configs: list[TrainConfig], workers="1") -> Executor:
    """``workers``: an integer (1 = serial) or ``"auto"`` (the rule in the module docstring)."""
    cores = _threads.max_threads()
    if workers == "auto":
        small = all(max(c.hidden) <= 128 for c in configs)
        n = min(cores, len(configs)) if small and cores > 1 and len(configs) >= 2 * cores else 1
    else:
        try:
            n = int(workers)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"--workers must be a positive integer or 'auto'. Received: workers={workers!r}")
    return SerialExecutor() if n == 1 else ProcessExecutor(n)


_DATA: dict = {}


def train_in_worker(config: TrainConfig):
    """Top-level (picklable) point runner for process executors: loads the data once per process."""
    from fastact.trainer import load_for

    key = (config.dataset, config.data_dir, config.val_split, config.seed, config.dtype)
    if key not in _DATA:
        _DATA[key] = load_for(config, progress=False)
    return train(config, _DATA[key])


@dataclass(frozen=True)
class Target:
    """What a sweep varies: ``apply(config, value)`` and ``value_of(config dict)``."""

    name: str
    apply: Callable[[TrainConfig, float], TrainConfig]
    value_of: Callable[[dict], float]
    act: str | None = None  # the activation a parameter sweep implies


def _param_target(name: str, act: str, param: str) -> Target:
    return Target(name, lambda c, v: replace(c, act=act, act_params={**c.act_params, param: v}),
                  lambda d: float((d.get("act_params") or {}).get(param, activations.get(act).defaults[param])),
                  act)


def targets() -> dict[str, Target]:
    """Every sweepable setting by the name ``fastact sweep`` takes."""
    out = {
        "leaky-slope": _param_target("leaky-slope", "leaky_relu", "negative_slope"),
        "depth": Target("depth", lambda c, v: replace(c, hidden=(c.hidden[0],) * _count(v, "depth")),
                        lambda d: float(len(d["hidden"]))),
        "width": Target("width", lambda c, v: replace(c, hidden=(_count(v, "width"),)),
                        lambda d: float(d["hidden"][0])),
        "lr": Target("lr", lambda c, v: replace(c, lr=v), lambda d: float(d["lr"])),
    }
    for act in activations.ACTIVATIONS.values():
        for p in act.params:
            name = param_flag(act.name, p.name)[2:]
            out.setdefault(name, _param_target(name, act.name, p.name))
    return out


def _count(v: float, name: str) -> int:
    if v != int(v) or v < 1:
        raise ValueError(f"--values for {name} must be positive integers. Received: {name}={v!r}")
    return int(v)


def parse_values(text: str) -> list[float]:
    """``"0,0.1,0.5"`` or ranges ``"0:1:0.25"`` (start:stop:step, stop included), mixable with commas."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            nums = [float(x) for x in part.split(":")]
        except ValueError:
            nums = []
        if len(nums) == 1:
            out.append(nums[0])
        elif len(nums) == 3 and nums[2] > 0 and nums[1] >= nums[0]:
            start, stop, step = nums
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            out += [round(start + i * step, 12) for i in range(count)]
        else:
            raise ValueError("--values must be numbers separated by commas or start:stop:step ranges "
                             f"(step > 0). Received: values={text!r}")
    if not out:
        raise ValueError(f"--values needs at least one value. Received: values={text!r}")
    return out


def build_configs(target: Target, values: list[float], bases: list[TrainConfig]) -> list[TrainConfig]:
    """One config per (base, value); a parameter sweep fixes the activation its parameter belongs to."""
    if target.act is not None:
        bases = list({(b.seed,): replace(b, act=target.act) for b in bases}.values())
    configs = [target.apply(b, v) for b in bases for v in values]
    for c in configs:
        c.validate()
    return configs


def worker_threads(workers: int) -> int:
    """Threads per worker process: the cores shared out, at least one."""
    return max(1, (os.cpu_count() or 1) // workers)


# ---- ``fastact sweep`` ----------------------------------------------------------------------
def add_arguments(parser) -> None:
    from fastact import train as train_cmd

    parser.add_argument("target", metavar="TARGET", choices=sorted(targets()),
                        help=f"what to vary: {', '.join(sorted(targets()))}")
    parser.add_argument("--values", required=True,
                        help="comma-separated values and/or start:stop:step ranges (stop included), "
                             "e.g. 0,0.1,0.2 or 0:1:0.1; depth: 1,2,3 hidden layers of --hidden's first width")
    parser.add_argument("--workers", default="1",
                        help="1 = points one after another with all threads (default); N = N worker "
                             "processes; auto = processes only for small networks (see fastact.sweep)")
    train_cmd.add_arguments(parser, sweep=True)


def run_cli(args, console=None) -> int:
    """Run ``fastact sweep``: every point, then a table and the two charts against the swept value."""
    from fastact import report
    from fastact import train as train_cmd
    from fastact.engine.threads import set_num_threads

    console = console or train_cmd.make_console()
    target = targets()[args.target]
    try:
        values = parse_values(args.values)
        bases = train_cmd.configs_from_args(args)
        configs = build_configs(target, values, bases)
        executor = choose_executor(configs, args.workers)
    except train_cmd.UsageError:
        raise
    except ValueError as exc:
        raise train_cmd.UsageError(str(exc)) from None
    threads = set_num_threads(args.threads)
    ds = train_cmd.load_data(configs[0], console)
    train_cmd.header(console, ds, threads)
    console.print(f"sweep {target.name} over {', '.join(f'{v:g}' for v in values)}: {len(configs)} runs, "
                  f"{'serial' if isinstance(executor, SerialExecutor) else f'{executor.workers} processes'}")
    results = []
    try:
        if isinstance(executor, SerialExecutor):
            cb = train_cmd.ConsoleCallbacks(console, args.quiet)
            fn = lambda c: train(c, ds, cb)  # noqa: E731
        else:
            n = worker_threads(executor.workers)
            configs = [c if c.threads is not None else replace(c, threads=min(n, _threads.max_threads()))
                       for c in configs]
            fn = train_in_worker
        for r in executor.map(fn, configs):
            results.append(r)
            if not isinstance(executor, SerialExecutor) and not args.quiet:
                last = r.history[-1] if r.history else None
                console.print(f"{report.label_of(r.config.to_dict())} hidden={list(r.config.hidden)} "
                              f"s{r.config.seed}: {r.status}"
                              + (f", val_acc {report.fmt_pct(last.val_acc)}" if last else ""))
    except KeyboardInterrupt:
        console.print("\n[yellow]interrupted[/yellow]: finished points are saved")
        return train_cmd.EXIT_INTERRUPTED
    print_sweep(console, results, target, args.quiet)
    return 1 if any(r.status == "failed" for r in results) else 0


def series_label(d: dict) -> str:
    return d.get("act", "?")


def print_sweep(console, runs, target: Target, quiet: bool = False) -> None:
    import shutil

    from fastact import report

    points = report.sweep_points(runs, target.value_of, series_label)
    console.print(report.sweep_table(points, target.name, f"Sweep of {target.name}"))
    for line in report.problems(runs):
        console.print(f"[yellow]{line}[/yellow]")
    if not quiet:
        width = min(100, shutil.get_terminal_size((100, 24)).columns)
        for chart in report.sweep_charts(points, target.name, color=console.is_terminal, width=width):
            console.out(chart, highlight=False)
