"""fastact.experiments.report.claims: each claim's rule gives supported, not supported and within
noise on data built to show each (per-seed values set here, so the expected verdict is known)."""

from __future__ import annotations

import pytest

from fastact.experiments.grouping import group_runs
from fastact.experiments.report import claims
from fastact.training import TrainConfig

from fakeruns import noise

SEEDS = range(6)


def run(act, seed, val, test=None, slope=None):
    params = {"negative_slope": slope} if slope is not None else {}
    cfg = TrainConfig(act=act, seed=seed, epochs=1, act_params=params, out=None).to_dict()
    h = [{"epoch": 1, "train_loss": 0.5, "train_acc": val + 0.01, "val_loss": 0.5, "val_acc": val,
          "seconds": 1.0, "samples_per_s": 1.0}]
    return {"id": f"{act}-{slope}-{seed}", "dir": None, "config": cfg, "history": h, "status": "completed",
            "message": "", "test_acc": val if test is None else test, "test_loss": 0.4, "best_test_acc": None,
            "best_test_loss": None, "best_epoch": None, "stopped_epoch": None, "seconds": 1.0,
            "dataset": "x", "data": "x"}


def groups(means: dict, spread: float = 0.0005, tests: dict | None = None):
    """One group per activation; seed s gets ``mean + spread * noise(act, s)`` (small spread: every
    ordering of the means is significant; large: none is)."""
    runs = []
    for act, m in means.items():
        for s in SEEDS:
            v = m + spread * noise(act, s)
            t = None if tests is None else tests[act] + spread * noise(act, s, "test")
            runs.append(run(act, s, v, t))
    return {g.settings["act"]: g for g in group_runs(runs)}


CLASSIC = {"linear": 0.84, "softplus": 0.876, "sigmoid": 0.86, "relu": 0.880, "leaky_relu": 0.882,
           "prelu": 0.886, "rrelu": 0.884}


@pytest.mark.parametrize("means, spread, verdict", [
    (CLASSIC, 0.0005, claims.SUPPORTED),
    ({**CLASSIC, "linear": 0.95}, 0.0005, claims.NOT_SUPPORTED),
    ({**CLASSIC, "linear": 0.8795}, 0.02, claims.NOISE),
])
def test_linear_worst(means, spread, verdict):
    c = claims.linear_worst(groups(means, spread))
    assert c.verdict == verdict, c.found
    assert len(c.comparisons) == 6 and {x.baseline for x in c.comparisons} == {"linear"}


@pytest.mark.parametrize("means, spread, verdict", [
    (CLASSIC, 0.0005, claims.SUPPORTED),
    ({**CLASSIC, "rrelu": 0.70}, 0.0005, claims.NOT_SUPPORTED),
    ({**CLASSIC, "sigmoid": 0.881, "linear": 0.881}, 0.02, claims.NOISE),
])
def test_relu_family_strong(means, spread, verdict):
    c = claims.family_strong(groups(means, spread))
    assert c.verdict == verdict, c.found
    assert len(c.comparisons) == 8  # four members against sigmoid and against linear, one Holm family
    ps = sorted(x.t_p for x in c.comparisons)
    assert max(x.holm_p for x in c.comparisons) >= min(1.0, ps[-1])  # corrected over all 8, never below raw


@pytest.mark.parametrize("softplus, spread, verdict", [
    (0.880, 0.0005, claims.SUPPORTED),  # 0.6 pp behind PReLU, the family's best
    (0.860, 0.0005, claims.NOT_SUPPORTED),  # 2.6 pp behind, significantly
])
def test_softplus_close(softplus, spread, verdict):
    c = claims.softplus_close(groups({**CLASSIC, "softplus": softplus}, spread))
    assert c.verdict == verdict, c.found
    assert c.comparisons[0].baseline == "prelu"


def test_softplus_far_behind_but_not_significantly_is_within_noise():
    # PReLU leads by 1.5 pp on average, but the seeds disagree (+6 pp, -3 pp, ...): not significant.
    values = {"prelu": [0.90, 0.86] * 3, "softplus": [0.84, 0.89] * 3, "relu": [0.87] * 6}
    runs = [run(a, s, v) for a, vs in values.items() for s, v in zip(SEEDS, vs)]
    c = claims.softplus_close({g.settings["act"]: g for g in group_runs(runs)})
    assert c.verdict == claims.NOISE, c.found
    assert c.comparisons[0].mean_diff == pytest.approx(-0.015) and c.comparisons[0].holm_p > 0.05


@pytest.mark.parametrize("prelu, spread, verdict", [
    (0.90, 0.0005, claims.SUPPORTED),
    (0.87, 0.0005, claims.NOT_SUPPORTED),
    (0.8845, 0.02, claims.NOISE),
])
def test_prelu_best(prelu, spread, verdict):
    c = claims.prelu_best(groups({**CLASSIC, "prelu": prelu}, spread))
    assert c.verdict == verdict, c.found


def slope_groups(curve, spread):
    runs = [run("leaky_relu", s, v + spread * noise(a, s), slope=a) for a, v in curve.items() for s in SEEDS]
    return {float(g.settings["negative_slope"]): g for g in group_runs(runs)}


@pytest.mark.parametrize("curve, spread, verdict", [
    ({0.0: 0.880, 0.1: 0.884, 0.3: 0.883, 0.5: 0.875, 1.0: 0.86}, 0.0005, claims.SUPPORTED),
    ({0.0: 0.880, 0.1: 0.881, 0.3: 0.882, 0.5: 0.89, 1.0: 0.86}, 0.0005, claims.NOT_SUPPORTED),
    ({0.0: 0.880, 0.1: 0.881, 0.3: 0.882, 0.5: 0.881, 1.0: 0.880}, 0.02, claims.NOISE),
])
def test_leaky_best_below_0_4(curve, spread, verdict):
    c = claims.leaky_low_slopes(slope_groups(curve, spread))
    assert c.verdict == verdict, c.found
    best_low = max((a for a in curve if a < 0.4), key=curve.get)
    assert {x.baseline for x in c.comparisons} == {f"leaky_relu slope={best_low:g}"}
    assert len(c.comparisons) == 2  # the slopes >= 0.4


@pytest.mark.parametrize("tests, spread, verdict", [
    ({**CLASSIC, "rrelu": 0.895}, 0.0005, claims.SUPPORTED),
    ({**CLASSIC, "rrelu": 0.875}, 0.0005, claims.NOT_SUPPORTED),
    ({**CLASSIC, "rrelu": 0.883}, 0.02, claims.NOISE),
])
def test_rrelu_against_relu_and_prelu_on_test_accuracy(tests, spread, verdict):
    c = claims.rrelu_vs(groups(CLASSIC, spread, tests))
    assert c.verdict == verdict, c.found
    assert [x.metric for x in c.comparisons] == ["test_acc", "test_acc"]


def test_a_claim_without_its_runs_is_not_testable():
    found = claims.check([], [])
    assert [c.verdict for c in found] == [claims.MISSING] * 6
    assert all(c.found.startswith("the study has no") for c in found)
