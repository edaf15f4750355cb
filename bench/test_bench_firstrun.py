"""A first run on a fresh install: the kernels of ``fastact train --act all`` (the seed's seven
activations, float32, Adam) ready, cold (an empty Numba cache, as after ``pip install``) and
warm (the same cache again), each in a fresh interpreter; the cold case both in parallel
processes (the default) and in one."""

from fastact import activations
from fastact.benchmarks.firstrun import first_run

ACTS = activations.names("seed")


def test_first_run(benchmark, record, tmp_path):
    rows = {}

    def runs():
        rows["cold"] = first_run(ACTS, tmp_path / "parallel")
        rows["warm"] = first_run(ACTS, tmp_path / "parallel")
        rows["cold, one process"] = first_run(ACTS, tmp_path / "serial", processes=1)

    benchmark.group = "first run"
    benchmark.pedantic(runs, rounds=1, iterations=1)
    assert rows["cold"]["compiled"] == rows["cold"]["jobs"] and rows["warm"]["compiled"] == 0
    for case, r in rows.items():
        record("firstrun", {"case": case, "acts": len(ACTS), **r})
    benchmark.extra_info.update(rows)
