"""bench/scaling_dask.py without timing anything: the study it measures (seed --quick, the parts
asked for) and its paper estimate for the full seed study, against the multiply-adds counted by
hand per depth."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from fastact.experiments.spec import load_spec


def _script():
    path = Path(__file__).resolve().parents[2] / "bench" / "scaling_dask.py"
    spec = importlib.util.spec_from_file_location("scaling_dask_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_measured_study_is_the_quick_seed_study_restricted_to_its_parts():
    scaling = _script()
    points = scaling.quick_study(["activations"]).points()
    assert len(points) == 7 * 2 and all(p.parts == ["activations"] for p in points)
    assert {(p.config.epochs, p.config.hidden) for p in points} == {(3, (512,))}
    smoke = scaling.quick_study(["activations", "slope"], seeds=[0], epochs=1, hidden=[8]).points()
    assert len(smoke) == 7 + 5 and {(p.config.seed, p.config.epochs, p.config.hidden) for p in smoke} == {(0, 1, (8,))}
    with pytest.raises(SystemExit, match="^--parts: no part width in the seed study"):
        scaling.quick_study(["width"])


def test_the_paper_estimate_is_cost_times_the_measured_rate_over_the_workers_plus_overhead():
    scaling = _script()
    n = 54_000
    ds = SimpleNamespace(y_train=[0] * n, input_dim=784, n_classes=10)
    measured = {"point_seconds": {"a": 2.0, "b": 4.0, "c": None}, "costs": {"a": 1e9, "b": 2e9, "c": 5e9},
                "startup_seconds": 3.0}
    got = scaling.paper_estimate(ds, measured, overhead=0.04, workers=32)
    rate = 6.0 / 3e9  # the point without a time is left out of the rate
    depths = Counter(len(p.config.hidden) for p in load_spec("seed").points())
    # the seed study's 300 distinct points (one in two parts runs once): per depth 2..5, 7 activations plus
    # 3 with dropout 0.5, x 5 seeds
    assert depths == Counter({1: 100, 2: 50, 3: 50, 4: 50, 5: 50})

    def macs(depth):  # one sample, forward: 784-512, (depth - 1) x 512-512, 512-10
        return 784 * 512 + (depth - 1) * 512 * 512 + 512 * 10

    compute = rate * sum(k * 10 * n * macs(d) for d, k in depths.items())
    assert got["points"] == 300 and got["compute_seconds"] == pytest.approx(compute, rel=1e-12)
    assert got["seconds"] == pytest.approx(compute / 32 + 300 / 32 * 0.04 + 3.0, rel=1e-12)
    assert got["longest_point_seconds"] == pytest.approx(rate * 10 * n * macs(5), rel=1e-12)
