"""pytest plumbing for ``pytest bench/ --benchmark``.

* ``--benchmark`` turns the benchmarks on; without it every item here is skipped, so a plain
  ``pytest`` (or ``pytest bench/``) stays fast. pytest-benchmark's own ``--benchmark-*``
  options are untouched (pytest parses options without prefix abbreviation, so the exact
  ``--benchmark`` cannot be mistaken for one of them).
* ``--fastact-threads N`` pins fastact, NumPy's BLAS and torch to N threads (default: all cores).
* The `measure` fixture warms a case up, times it with pytest-benchmark's ``pedantic`` mode,
  tags it (group, implementation, threads, BLAS) and records it for the session report that
  `bench/report.py` prints and writes as JSON at the end.
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
from pathlib import Path

import pytest

from fastact import benchmarks

_HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("fastact_bench_report", _HERE / "report.py")
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)

#: Largest relative error (of the largest magnitude) a peer may show against fastact.
AGREEMENT_TOL = 1e-3
#: Seconds of timed rounds aimed at per case, and the bounds on the round count.
TARGET_S = 0.3
MIN_ROUNDS, MAX_ROUNDS = 5, 50

RECORDS: dict[str, list] = {"kernels": [], "epoch": [], "memory": [], "trainer": [], "contention": [],
                            "firstrun": []}
#: the 1-minute load average when the session started and ended (a loaded machine gives noisy ratios)
LOAD: dict[str, float] = {}


def pytest_addoption(parser):
    group = parser.getgroup("fastact", "fastact benchmarks")
    group.addoption("--benchmark", action="store_true", dest="fastact_benchmark", default=False,
                    help="run the benchmarks in bench/ (skipped otherwise)")
    group.addoption("--fastact-threads", type=int, default=None, dest="fastact_threads",
                    help="threads for every implementation (default: all cores)")


def _enabled(config) -> bool:
    return bool(config.getoption("fastact_benchmark", default=False))


def pytest_configure(config):
    if _enabled(config) and not config.pluginmanager.hasplugin("benchmark"):
        raise pytest.UsageError("--benchmark needs the pytest-benchmark plugin: pip install pytest-benchmark")
    if _enabled(config) and hasattr(os, "getloadavg"):
        LOAD["start"] = os.getloadavg()[0]


def pytest_collection_modifyitems(config, items):
    if _enabled(config):
        return
    skip = pytest.mark.skip(reason="benchmarks run only with --benchmark (pytest bench/ --benchmark)")
    for item in items:
        if _HERE in Path(item.path).parents:
            item.add_marker(skip)


def pytest_report_header(config):
    if not _enabled(config):
        return None
    lines = []
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if os.environ.get(var):
            lines.append(f"WARNING: {var}={os.environ[var]} is set; benchmark runs should unset it "
                         f"(env -u {var} ...): it is read when OpenBLAS loads")
    return lines


@pytest.fixture(scope="session")
def threads(request):
    """The pinned thread count, held for the whole session."""
    impls = benchmarks.available_impls()
    with benchmarks.pinned_threads(request.config.getoption("fastact_threads"), torch_too="torch" in impls) as n:
        yield n


@pytest.fixture(scope="session")
def environment(threads):
    return benchmarks.environment()


def _rounds_for(fn) -> int:
    """Warm up (JIT compile, thread pools) and pick a round count filling ~TARGET_S."""
    fn()  # the first call compiles fastact's kernels (or loads them from the disk cache)
    start, k = time.perf_counter(), 0
    while k < 3 or time.perf_counter() - start < 0.1:
        fn()
        k += 1
    per_call = (time.perf_counter() - start) / k
    return max(MIN_ROUNDS, min(MAX_ROUNDS, int(TARGET_S / per_call)))


@pytest.fixture
def measure(benchmark, threads, environment):
    """``measure(case_fn, impl=, op=, act=, batch=, shape=)``: time and record one case."""

    def run(fn, *, impl, op, act, batch, shape, kind="kernels", rounds=None, extra=None):
        rounds = rounds or _rounds_for(fn)
        benchmark.group = f"{op} {act} b{batch} {shape[0]}x{shape[1]}"
        benchmark.extra_info.update({"impl": impl, "op": op, "act": act, "batch": batch, "n_in": shape[0],
                                     "n_out": shape[1], "threads": threads, **(extra or {})})
        if impl == "torch":
            import torch

            benchmark.extra_info["torch_threads"] = torch.get_num_threads()
        else:
            benchmark.extra_info["blas"] = [f"{b['library']} {b['version']} {b['architecture']} "
                                            f"x{b['threads']} ({b['used_by']})" for b in environment["blas"]]
        benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=0)
        stats = getattr(benchmark, "stats", None)
        if stats is None:  # --benchmark-disable: ran once, nothing measured
            return None
        s = stats.stats
        res = benchmarks.BenchResult(impl, op, act, batch, shape[0], shape[1], s.median, s.iqr, s.rounds)
        if kind is not None:
            RECORDS[kind].append(res)
        return res

    return run


@pytest.fixture
def bench_case(measure, record):
    """``bench_case(impl, op, act, batch, shape)``: build a `fastact.benchmarks` case and measure it.

    A peer without a mapping for the activation is recorded with its reason, then skipped.
    """

    def run(impl, op, act, batch, shape):
        if impl == "torch":
            pytest.importorskip("torch")
        note = benchmarks.missing(impl, act)
        if note:
            record("kernels", benchmarks.BenchResult(impl, op, act, batch, *shape, math.nan, math.nan, 0, note))
            pytest.skip(note)
        if impl != "fastact":
            errors = benchmarks.agreement(impl, op, act, batch, shape)
            bad = {k: e for k, e in errors.items() if not e <= AGREEMENT_TOL}
            assert not bad, f"{impl} computes different numbers from fastact ({bad}); the ratio would be unfair"
        case = benchmarks.make_case(impl, op, act, batch, shape)
        return measure(case.fn, impl=impl, op=op, act=act, batch=batch, shape=shape)

    return run


@pytest.fixture
def record():
    """Append a dict to one section of the session report (epoch, memory)."""

    def add(kind, row):
        RECORDS[kind].append(row)

    return add


@pytest.hookimpl(optionalhook=True)  # a pytest-benchmark hook: absent plugin, no error
def pytest_benchmark_update_machine_info(config, machine_info):
    """Every BLAS, its threads, numba's and torch's settings, in pytest-benchmark's JSON too."""
    if _enabled(config):
        machine_info["fastact"] = benchmarks.environment()


def _report_path(config) -> Path:
    given = config.getoption("benchmark_json", default=None)
    # pytest-benchmark gives a Path (older versions an open file): the report goes beside that JSON
    path = given if isinstance(given, (str, os.PathLike)) else getattr(given, "name", None)
    if path:
        return Path(path).with_name("fastact-report.json")
    return Path(config.rootpath) / ".benchmarks" / "fastact-report.json"


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _enabled(config) or not any(RECORDS.values()):
        return
    threads = config.getoption("fastact_threads")
    if hasattr(os, "getloadavg"):
        LOAD["end"] = os.getloadavg()[0]
    data = report.build(RECORDS, {**benchmarks.environment(), "load_average": dict(LOAD)},
                        benchmarks.fma_peak(threads, measure=True))
    path = _report_path(config)
    report.write_json(data, path)
    path.with_suffix(".md").write_text(report.to_markdown(data))
    terminalreporter.write_sep("=", "fastact benchmark report")
    terminalreporter.write(report.render(data, width=max(terminalreporter._tw.fullwidth, 150)))
    terminalreporter.write_line(f"report written to {path} (README tables: {path.with_suffix('.md')})")
    missing = [r for r in RECORDS["kernels"] if not math.isfinite(r.median_s)]
    for r in missing:
        terminalreporter.write_line(f"not measured: {r.impl} {r.op} {r.act}: {r.note}")
