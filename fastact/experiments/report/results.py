"""The report's numbers: per part of a study, a table of its groups (mean +- sample std and the 95%
confidence interval over seeds, `fastact.experiments.stats.describe`) and the paired comparisons
against the part's baseline (`fastact.experiments.stats.compare`), written as sentences.

A `Part` is one grid of a study spec (its groups, its baseline and ``within``: one baseline per
value of those settings, e.g. depth 1 of each activation), or, for plain run folders, one of
the one-setting-at-a-time slices `default_parts` finds (as the figures do, `figures.plan`).
The comparisons are the study's own (`fastact.experiments.analysis.part_comparisons`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fastact import activations
from fastact.experiments.analysis import part_comparisons
from fastact.experiments.figures import plan as fplan
from fastact.experiments.report.document import Table

#: the metrics the tables show, and the ones the comparisons test
TABLE_METRICS = (("final_train_acc", "final train acc"), ("best_val_acc", "best val acc"),
                 ("test_acc", "test acc"))
TESTED = ("best_val_acc", "test_acc")
ALPHA = 0.05


@dataclass
class Part:
    name: str
    title: str
    groups: list
    baseline: dict | None = None
    within: tuple[str, ...] = ()


def pct(v: float) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{100 * v:.2f}"


def stat_cell(st) -> str:
    """``88.52 ± 0.21 [88.26, 88.78]`` (percent; the interval needs two seeds, the std too)."""
    if st.n == 0:
        return "-"
    if st.n == 1:
        return f"{pct(st.mean)} (1 seed)"
    return f"{pct(st.mean)} ± {pct(st.std)} [{pct(st.ci_low)}, {pct(st.ci_high)}]"


def table(part: Part) -> Table:
    header = ["configuration", "seeds", *(f"{t} (%)" for _, t in TABLE_METRICS), "s/epoch", "status"]
    rows = []
    for g in part.groups:
        sec = g.stat("seconds_per_epoch")
        status = ", ".join(f"{n} {s}" for s, n in g.statuses.items())
        rows.append([g.label, str(len(g.runs)), *(stat_cell(g.stat(m)) for m, _ in TABLE_METRICS),
                     "-" if sec.n == 0 else f"{sec.mean:.2f}", status])
    return Table(header, rows, "lr" + "r" * len(TABLE_METRICS) + "rl")


def comparisons(part: Part, metric: str, alpha: float = ALPHA):
    """Every group of ``part`` against its baseline on ``metric`` (one per ``within`` partition),
    Holm-corrected over the part: `fastact.experiments.analysis.part_comparisons`, exactly what
    ``fastact study`` prints."""
    return part_comparisons(part, part.groups, metric, alpha)


VERDICT_WORDS = {"better": "significantly better", "worse": "significantly worse", "within noise": "within noise",
                 "too few seeds": "too few seeds"}


def statement(comps, metric: str) -> str:
    """One sentence for a baseline's comparisons on ``metric``: which are significantly better,
    significantly worse, within noise (and which could not be tested)."""
    if not comps:
        return ""
    what = dict(TABLE_METRICS).get(metric, metric)
    bases = list(dict.fromkeys(c.baseline for c in comps))
    against = bases[0] if len(bases) == 1 else f"each one's baseline ({len(bases)} baselines)"
    out = []
    for verdict in ("better", "worse", "within noise", "too few seeds"):
        names = [c.group for c in comps if c.verdict == verdict]
        if names:
            out.append(f"**{VERDICT_WORDS[verdict]}**: {', '.join(names)}")
        elif verdict in ("better", "worse"):
            out.append(f"**{VERDICT_WORDS[verdict]}**: none")
    return f"{what} against {against}: " + "; ".join(out) + "."


def comparison_table(by_metric: dict[str, list]) -> Table:
    """A row per compared configuration: for each tested metric, the mean paired difference,
    the number of pairs, the paired t, Wilcoxon and Holm p-values and the verdict."""
    metrics = [m for m in by_metric if by_metric[m]]
    header = ["configuration", "baseline", "pairs"]
    for m in metrics:
        what = dict(TABLE_METRICS).get(m, m)
        header += [f"Δ {what} (pp)", "t p / Wilcoxon p / Holm p", "verdict"]
    rows: dict[tuple, list] = {}
    for m in metrics:
        for c in by_metric[m]:
            row = rows.setdefault((c.group, c.baseline), [c.group, c.baseline, str(c.n_pairs)])
            p = "-" if c.verdict == "too few seeds" else f"{c.t_p:.2g} / {c.wilcoxon_p:.2g} / {c.holm_p:.2g}"
            row += [f"{100 * c.mean_diff:+.2f}" if math.isfinite(c.mean_diff) else "-", p, VERDICT_WORDS[c.verdict]]
    return Table(header, list(rows.values()), "llr" + "rrl" * len(metrics))


def ordered(groups) -> list:
    """Groups in reading order: by each varying setting, activations in table order, numbers ascending."""
    names = fplan.varying(groups)
    table_order = {a: i for i, a in enumerate(activations.ACTIVATIONS)}

    def key(g):
        out = []
        for k in names:
            v = g.settings.get(k)
            if k == "act":
                out.append((0, table_order.get(v, len(table_order)), str(v)))
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append((0, float(v), ""))
            else:
                out.append((1, 0.0, str(v)))
        return out

    return sorted(groups, key=key)


def default_parts(groups) -> list[Part]:
    """For runs that are not a study: the slice at the centre (one line per activation, baseline
    ReLU if it is there, else the first group) and one slice per swept setting (baseline: the
    centre value, one per activation)."""
    names = fplan.varying(groups)
    mid = fplan.centre(groups, names)
    base = fplan.relabel(fplan.at_centre(groups, mid, {"act"}))
    parts = []
    if base:
        acts = [g.settings.get("act") for g in base]
        first = {"act": "relu" if "relu" in acts else acts[0]} if acts[0] is not None else None
        parts.append(Part("runs", "The configurations at the centre of the grid", ordered(base), first))
    for k in names:
        if k == "act":
            continue
        part = [g for g in fplan.at_centre(groups, mid, {"act", k}) if k in g.settings]
        if len({str(g.settings[k]) for g in part}) >= 2:
            parts.append(Part(k, f"{k} swept (the other settings at the centre)", ordered(fplan.relabel(part)),
                              {k: mid[k]}, ("act",)))
    return parts
