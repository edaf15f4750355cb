"""Statistics over seeds: `describe` (mean, sample std, 95% confidence interval) and `compare`
(paired tests of groups against a baseline on the same seeds, Holm-corrected).

For ``n`` finite values ``x_i``: mean ``m``, sample standard deviation ``s`` (``ddof=1``, the
std every table shows), and the 95% interval ``m +- t_{0.975, n-1} * s / sqrt(n)`` (Student's
t; needs ``n >= 2``, else the interval and ``s`` are NaN).

`compare` pairs each group with the baseline on the seeds both have (the same seed means the
same initial weights, validation split and batch order, so the difference isolates the setting
being compared) and tests the differences ``d_i = group_i - baseline_i``:

* the paired t-test (`scipy.stats.ttest_rel`), the decision test;
* the Wilcoxon signed-rank test (`scipy.stats.wilcoxon`, exact for small n), reported as a
  check that does not assume normal differences. With 5 seeds its smallest two-sided p is
  2/32 = 0.0625, so on its own it can never reach 0.05: that is why it is not the decision;
* Holm's step-down correction of the t-test p-values across all comparisons of one call:
  sorted ``p_(1) <= ... <= p_(m)``, ``holm_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``.

A difference is significant when its Holm-corrected p is below ``alpha``; the verdict is then
"better" or "worse" (by the metric's direction, `fastact.experiments.metrics.METRICS`: a lower
loss is better), else "within noise". With fewer than two pairs nothing can be tested: the
verdict is "too few seeds" and the p-values are NaN. Differences that are all zero give
p = 1 (equal on every seed); SciPy's precision warning for nearly identical differences is
silenced (its p-value is still returned).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from fastact.errors import SettingsError
from fastact.experiments.metrics import METRICS, run_metrics

VERDICTS = ("better", "worse", "within noise", "too few seeds")


@dataclass
class Stat:
    """``mean``, sample ``std`` (ddof=1), ``n`` values, and the 95% t interval ``[ci_low, ci_high]``."""

    mean: float
    std: float
    n: int
    ci_low: float
    ci_high: float


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and not isinstance(v, bool) and math.isfinite(v)]


def describe(values) -> Stat:
    """Mean, sample std and 95% t confidence interval of the finite ``values`` (None and NaN skipped)."""
    v = np.array(_finite(values))
    n = len(v)
    if n == 0:
        return Stat(math.nan, math.nan, 0, math.nan, math.nan)
    mean = float(v.mean())
    if n == 1:
        return Stat(mean, math.nan, 1, math.nan, math.nan)
    std = float(v.std(ddof=1))
    half = float(_st.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return Stat(mean, std, n, mean - half, mean + half)


@dataclass
class Comparison:
    """One group against the baseline on ``metric`` (module docstring)."""

    group: str
    baseline: str
    metric: str
    n_pairs: int
    mean_diff: float
    t_p: float
    wilcoxon_p: float
    holm_p: float
    significant: bool
    verdict: str  # one of VERDICTS


def by_seed(group, metric: str) -> dict[int, float]:
    """seed -> the group's ``metric`` (the mean when a seed was run more than once)."""
    vals: dict[int, list[float]] = {}
    for r in group.runs:
        v = run_metrics(r)[metric]
        if v is not None:
            vals.setdefault(r["config"].get("seed"), []).append(v)
    return {s: float(np.mean(v)) for s, v in vals.items()}


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order (NaN stays NaN and is not counted)."""
    idx = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    order = sorted(idx, key=lambda i: pvalues[i])
    m, out, running = len(order), [math.nan] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def _pair_tests(d: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if len(d) < 2:
        return math.nan, math.nan
    if np.all(d == 0):
        return 1.0, 1.0  # equal on every seed: no evidence of a difference
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        t_p = float(_st.ttest_rel(a, b).pvalue)
        w_p = float(_st.wilcoxon(d).pvalue)
    return t_p, w_p


def compare(groups, baseline: str, metric: str, alpha: float = 0.05) -> list[Comparison]:
    """Every group but the baseline against it on ``metric``, paired by seed (module docstring).

    Args:
        groups: `fastact.experiments.grouping.Group` s.
        baseline: the baseline group's label (or key).
        metric: a name in `fastact.experiments.metrics.METRICS`.
        alpha: the significance level of the Holm-corrected p-values.

    Raises:
        SettingsError: an unknown baseline or metric, or alpha outside (0, 1).
    """
    return compare_sets([(groups, baseline)], metric, alpha)


def compare_sets(sets, metric: str, alpha: float = 0.05) -> list[Comparison]:
    """`compare` for several ``(groups, baseline)`` sets at once (a baseline per activation, say),
    with one Holm correction over all their comparisons."""
    if metric not in METRICS:
        raise SettingsError("metric", metric, f"one of {', '.join(METRICS)}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise SettingsError("alpha", alpha, "in (0, 1)")
    rows = []
    for groups, baseline in sets:
        base = next((g for g in groups if baseline in (g.label, g.key)), None)
        if base is None:
            raise SettingsError("baseline", baseline, f"one of the groups: {', '.join(g.label for g in groups)}")
        b_vals = by_seed(base, metric)
        for g in groups:
            if g is base:
                continue
            g_vals = by_seed(g, metric)
            seeds = sorted(set(g_vals) & set(b_vals))
            a = np.array([g_vals[s] for s in seeds])
            b = np.array([b_vals[s] for s in seeds])
            d = a - b
            t_p, w_p = _pair_tests(d, a, b)
            rows.append([g.label, base.label, len(seeds), float(d.mean()) if len(d) else math.nan, t_p, w_p])
    adjusted = holm([r[4] for r in rows])
    higher = METRICS[metric].higher_is_better
    out = []
    for (label, base_label, n, diff, t_p, w_p), h in zip(rows, adjusted):
        significant = n >= 2 and not math.isnan(h) and h < alpha
        if n < 2:
            verdict = "too few seeds"
        elif not significant or higher is None:
            verdict = "within noise"
        else:
            verdict = "better" if (diff > 0) == higher else "worse"
        out.append(Comparison(label, base_label, metric, n, diff, t_p, w_p, h, bool(significant), verdict))
    return out
