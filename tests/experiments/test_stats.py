"""fastact.experiments.stats against SciPy, computed independently here, and Holm by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from fastact.errors import SettingsError
from fastact.experiments.grouping import group_runs
from fastact.experiments.stats import compare, describe, holm
from fastact.training import EpochRecord, RunResult, TrainConfig


def run(act, seed, test_acc, **params):
    cfg = TrainConfig(act=act, seed=seed, act_params=params, out=None)
    h = [EpochRecord(1, 1.0, 0.5, 1.0, 0.5, 1.0, 1.0)]
    return RunResult(cfg, f"{act}-{seed}", None, h, 0.1, test_acc, "completed", "", "synthetic")


def test_describe_is_the_t_interval_with_sample_std():
    v = [0.91, 0.935, 0.92, 0.94, 0.925]
    s = describe([*v, None, math.nan])
    m, sd, n = np.mean(v), np.std(v, ddof=1), len(v)
    lo, hi = st.t.interval(0.95, n - 1, loc=m, scale=st.sem(v))
    assert (s.mean, s.std, s.n) == pytest.approx((m, sd, n))
    assert (s.ci_low, s.ci_high) == pytest.approx((lo, hi))
    one = describe([0.5])
    assert one.n == 1 and one.mean == 0.5 and math.isnan(one.std) and math.isnan(one.ci_low)
    assert describe([]).n == 0 and math.isnan(describe([]).mean)


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.04, 0.3 with m=4: 0.04, max(0.04, 0.06), max(0.06, 0.08), max(0.08, 0.3)
    assert holm([0.3, 0.01, 0.04, 0.02]) == pytest.approx([0.3, 0.04, 0.08, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # 2 * 0.5 caps at 1; the step-down max carries it
    out = holm([math.nan, 0.01])
    assert math.isnan(out[0]) and out[1] == pytest.approx(0.01)


SEEDS = range(6)
BASE = [0.90, 0.91, 0.89, 0.92, 0.90, 0.91]
BETTER = [0.95, 0.97, 0.94, 0.96, 0.955, 0.962]
NOISE = [0.905, 0.90, 0.895, 0.925, 0.898, 0.912]
WORSE = [0.80, 0.79, 0.82, 0.81, 0.78, 0.80]


def test_paired_comparisons_match_scipy_and_holm():
    runs = [run(a, s, v) for a, vals in (("relu", BASE), ("elu", BETTER), ("tanh", NOISE), ("sigmoid", WORSE))
            for s, v in zip(SEEDS, vals)]
    groups = group_runs(runs)
    assert [g.label for g in groups] == ["relu", "elu", "tanh", "sigmoid"]
    out = compare(groups, "relu", "test_acc")
    t_ps = [st.ttest_rel(x, BASE).pvalue for x in (BETTER, NOISE, WORSE)]
    w_ps = [st.wilcoxon(np.array(x) - np.array(BASE)).pvalue for x in (BETTER, NOISE, WORSE)]
    order = np.argsort(t_ps)
    expect_holm = [0.0] * 3
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * t_ps[i]))
        expect_holm[i] = running
    assert [c.group for c in out] == ["elu", "tanh", "sigmoid"] and {c.baseline for c in out} == {"relu"}
    assert [c.n_pairs for c in out] == [6, 6, 6]
    assert [c.mean_diff for c in out] == pytest.approx([np.mean(np.array(x) - BASE) for x in (BETTER, NOISE, WORSE)])
    assert [c.t_p for c in out] == pytest.approx(t_ps)
    assert [c.wilcoxon_p for c in out] == pytest.approx(w_ps)
    assert [c.holm_p for c in out] == pytest.approx(expect_holm)
    assert [c.verdict for c in out] == ["better", "within noise", "worse"]
    assert [c.significant for c in out] == [True, False, True]


def test_pairs_only_on_shared_seeds_and_losses_are_better_lower():
    runs = [run("relu", s, v) for s, v in zip(SEEDS, BASE)] + [run("elu", s, v) for s, v in zip((1, 3, 5, 7), BETTER)]
    (c,) = compare(group_runs(runs), "relu", "test_acc")
    paired_base = [BASE[1], BASE[3], BASE[5]]
    assert c.n_pairs == 3 and c.t_p == pytest.approx(st.ttest_rel(BETTER[:3], paired_base).pvalue)
    lone = [run("relu", 0, 0.9), run("elu", 0, 0.95)]
    (c,) = compare(group_runs(lone), "relu", "test_acc")
    assert c.verdict == "too few seeds" and math.isnan(c.t_p) and not c.significant
    # test loss is 0.1 for every run: equal on every seed
    (c,) = compare(group_runs(runs), "relu", "test_loss")
    assert c.mean_diff == 0 and c.t_p == 1.0 and c.verdict == "within noise"


def test_bad_arguments_name_themselves():
    groups = group_runs([run("relu", 0, 0.9), run("elu", 0, 0.9)])
    with pytest.raises(SettingsError, match="baseline must be one of the groups: relu, elu. Received: baseline='x'"):
        compare(groups, "x", "test_acc")
    with pytest.raises(SettingsError, match="metric must be one of"):
        compare(groups, "relu", "acc")
    with pytest.raises(SettingsError, match="alpha must be in"):
        compare(groups, "relu", "test_acc", alpha=1.5)
