"""The seed study's claims, side by side with what this run found.

The classic experiment (seven activations on an MLP, then Leaky ReLU's slope, then depth)
concluded five things. Each is checked here from the study's own runs, by one explicit rule, and
marked **supported**, **not supported** or **within noise**. Every rule is built from paired
comparisons (`fastact.experiments.stats.compare`: paired t-test on the seeds both groups share,
Holm-corrected over the comparisons *of that claim*, alpha = 0.05), on the best validation
accuracy unless the claim is about test accuracy:

1. *Linear is the worst.* Every other activation against Linear. Supported: each is
   significantly better. Not supported: any is significantly worse than Linear. Otherwise
   within noise.
2. *The ReLU family is strong.* ReLU, Leaky ReLU, PReLU and RReLU each against Sigmoid and
   against Linear (8 comparisons). Supported: all significantly better. Not supported: any
   significantly worse. Otherwise within noise.
3. *Softplus is close to the ReLU family.* Softplus against the family member with the highest
   mean. Supported: the mean difference is smaller than `CLOSE` (1 percentage point). Not
   supported: the family member is better by at least `CLOSE` and significantly so. Otherwise
   within noise.
4. *PReLU is the best on validation.* Every other activation against PReLU. Supported: each is
   significantly worse. Not supported: any is significantly better than PReLU. Otherwise within
   noise.
5. *Leaky ReLU is best for 0 <= a < 0.4.* In the slope sweep, the slope in [0, 0.4) with the
   highest mean against every slope >= 0.4. Supported: each of those is significantly worse.
   Not supported: any is significantly better. Otherwise within noise.
6. *RReLU generalises better than ReLU and PReLU* (test accuracy; Xu et al. 2015 found RReLU
   ahead of both and PReLU overfitting). RReLU against ReLU and against PReLU. Supported: both
   significantly better. Not supported: either significantly worse. Otherwise within noise.

A claim whose groups are missing (a spec without that part) says so instead of a verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fastact.experiments.stats import compare, holm

CLOSE = 0.01  # one percentage point, as a fraction
ALPHA = 0.05
SUPPORTED, NOT_SUPPORTED, NOISE, MISSING = "supported", "not supported", "within noise", "not testable"
FAMILY = ("relu", "leaky_relu", "prelu", "rrelu")


@dataclass
class Claim:
    claim: str
    rule: str
    verdict: str
    found: str  # what the data showed, with the numbers
    comparisons: list = field(default_factory=list)


def _by_act(groups) -> dict:
    return {g.settings.get("act"): g for g in groups}


def _pp(v: float) -> str:
    return f"{100 * v:+.2f} pp"


def _mean(g, metric):
    return g.stat(metric).mean


def _verdict(comps, want: str) -> str:
    """``want`` ("better"/"worse") for each comparison: all significant that way -> supported; any
    significant the other way -> not supported; else within noise."""
    other = "worse" if want == "better" else "better"
    if comps and all(c.verdict == want for c in comps):
        return SUPPORTED
    if any(c.verdict == other for c in comps):
        return NOT_SUPPORTED
    return NOISE


def _summary(comps, name=None) -> str:
    name = name or (lambda label: label)
    return "; ".join(f"{name(c.group)} {_pp(c.mean_diff)} vs {name(c.baseline)} (Holm p {c.holm_p:.2g}, {c.verdict})"
                     for c in comps)


def _missing(claim: str, rule: str, what: str) -> Claim:
    return Claim(claim, rule, MISSING, f"the study has no {what}")


def linear_worst(acts: dict, metric="best_val_acc") -> Claim:
    rule = "every other activation significantly better than linear"
    others = [g for a, g in acts.items() if a != "linear"]
    if "linear" not in acts or not others:
        return _missing("Linear is the worst", rule, "linear run beside other activations")
    comps = compare([acts["linear"], *others], acts["linear"].key, metric, ALPHA)
    return Claim("Linear is the worst", rule, _verdict(comps, "better"), _summary(comps), comps)


def family_strong(acts: dict, metric="best_val_acc") -> Claim:
    rule = "ReLU, Leaky ReLU, PReLU and RReLU each significantly better than sigmoid and than linear"
    fam = [acts[a] for a in FAMILY if a in acts]
    refs = [acts[a] for a in ("sigmoid", "linear") if a in acts]
    if not fam or not refs:
        return _missing("The ReLU family is strong", rule, "ReLU-family run beside sigmoid or linear")
    comps = []
    for ref in refs:
        comps += compare([ref, *fam], ref.key, metric, ALPHA)
    # Holm over all 8: compare corrected each baseline's 4 separately; redo it over the whole family.
    comps = _holm_all(comps)
    return Claim("The ReLU family is strong", rule, _verdict(comps, "better"), _summary(comps), comps)


def _holm_all(comps):
    adjusted = holm([c.t_p for c in comps])
    for c, h in zip(comps, adjusted):
        c.holm_p = h
        c.significant = c.n_pairs >= 2 and not math.isnan(h) and h < ALPHA
        if c.verdict != "too few seeds":
            c.verdict = ("better" if c.mean_diff > 0 else "worse") if c.significant else "within noise"
    return comps


def softplus_close(acts: dict, metric="best_val_acc") -> Claim:
    rule = f"softplus within {100 * CLOSE:g} pp of the best ReLU-family member's mean"
    fam = [acts[a] for a in FAMILY if a in acts]
    if "softplus" not in acts or not fam:
        return _missing("Softplus is close to the ReLU family", rule, "softplus run beside the ReLU family")
    best = max(fam, key=lambda g: _mean(g, metric))
    (c,) = compare([best, acts["softplus"]], best.key, metric, ALPHA)
    gap = -c.mean_diff  # best member minus softplus
    if math.isfinite(gap) and abs(gap) < CLOSE:
        verdict = SUPPORTED
    elif gap >= CLOSE and c.verdict == "worse":
        verdict = NOT_SUPPORTED
    else:
        verdict = NOISE
    found = f"{best.label} ahead of softplus by {_pp(gap)} (Holm p {c.holm_p:.2g})"
    return Claim("Softplus is close to the ReLU family", rule, verdict, found, [c])


def prelu_best(acts: dict, metric="best_val_acc") -> Claim:
    rule = "every other activation significantly worse than PReLU on validation"
    others = [g for a, g in acts.items() if a != "prelu"]
    if "prelu" not in acts or not others:
        return _missing("PReLU is the best on validation", rule, "PReLU run beside other activations")
    comps = compare([acts["prelu"], *others], acts["prelu"].key, metric, ALPHA)
    top = max(acts.values(), key=lambda g: _mean(g, metric))
    found = f"highest mean: {top.label}; " + _summary(comps)
    return Claim("PReLU is the best on validation", rule, _verdict(comps, "worse"), found, comps)


def leaky_low_slopes(slopes: dict, metric="best_val_acc") -> Claim:
    """``slopes``: Leaky ReLU's slope -> its group (the slope sweep)."""
    rule = "the best slope in [0, 0.4) significantly better than every slope >= 0.4"
    low = {a: g for a, g in slopes.items() if 0 <= a < 0.4}
    high = {a: g for a, g in slopes.items() if a >= 0.4}
    if not low or not high:
        return _missing("Leaky ReLU is best for 0 <= a < 0.4", rule, "slope sweep on both sides of 0.4")
    best_a = max(low, key=lambda a: _mean(low[a], metric))
    comps = compare([low[best_a], *high.values()], low[best_a].key, metric, ALPHA)
    top = max(slopes, key=lambda a: _mean(slopes[a], metric))
    slope_of = {g.label: f"a={a:g}" for a, g in slopes.items()}
    found = f"best slope overall a = {top:g}; best below 0.4 a = {best_a:g}; " + _summary(comps, slope_of.get)
    return Claim("Leaky ReLU is best for 0 <= a < 0.4", rule, _verdict(comps, "worse"), found, comps)


def rrelu_vs(acts: dict, metric="test_acc") -> Claim:
    rule = "RReLU significantly better than ReLU and than PReLU on test accuracy"
    refs = [acts[a] for a in ("relu", "prelu") if a in acts]
    if "rrelu" not in acts or not refs:
        return _missing("RReLU generalises better than ReLU and PReLU", rule, "RReLU run beside ReLU or PReLU")
    comps = _holm_all([c for ref in refs for c in compare([ref, acts["rrelu"]], ref.key, metric, ALPHA)])
    return Claim("RReLU generalises better than ReLU and PReLU", rule, _verdict(comps, "better"),
                 _summary(comps), comps)


def check(act_groups, slope_groups) -> list[Claim]:
    """Every claim, from the seven activations' groups and the slope sweep's groups."""
    acts = _by_act(act_groups)
    slopes = {float(g.settings["negative_slope"]): g for g in slope_groups
              if g.settings.get("act") == "leaky_relu" and "negative_slope" in g.settings}
    return [linear_worst(acts), family_strong(acts), softplus_close(acts), prelu_best(acts),
            leaky_low_slopes(slopes), rrelu_vs(acts)]
