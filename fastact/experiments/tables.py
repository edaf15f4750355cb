"""Tables, epoch lines and CSV for runs, live (`RunResult`) or saved (`fastact.training.runs.load_run`).

Rows are groups of `fastact.experiments.grouping.group_runs`: by default one per configuration
(everything but the seed), labelled with what differs between them (``relu depth=3``); a group
merged on request (``by``) says which settings it mixes. A group of several seeds shows
``mean +- std`` with the **sample** standard deviation over seeds (``ddof=1``, the one the
confidence intervals use; one seed shows no spread) and the test accuracy's 95% interval.

CSV: `write_csv` one row per (run, epoch), `write_runs_csv` one row per run; both carry a column
for every setting (`fastact.experiments.identity.settings`, the union over the runs) and every
metric (`fastact.experiments.metrics.METRICS`).
"""

from __future__ import annotations

import csv
import math

import numpy as np
from rich.table import Table

from fastact.experiments import identity
from fastact.experiments.grouping import flat_settings, group_runs
from fastact.experiments.metrics import METRICS, normalize, run_metrics

# The labels and epoch lines are the training layer's, so `fastact.fit(verbose=1)` prints what the CLI does.
from fastact.training.progress import epoch_line, label_of  # noqa: F401  (re-exported)

EPOCH_FIELDS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds", "samples_per_s")


def labeller(configs) -> callable:
    """``config dict -> label`` showing what differs among ``configs`` (seed included)."""
    v = identity.varying(list(configs))
    return lambda c: identity.label(c, v)


def mean_std(values) -> tuple[float | None, float | None]:
    """Mean and sample std (ddof=1; 0 for one value) of the finite values, or (None, None)."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    if not v:
        return None, None
    return float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0


def fmt_pct(m, s=None) -> str:
    if m is None or (isinstance(m, float) and math.isnan(m)):
        return "-"
    return f"{100 * m:.2f}%" if not s or math.isnan(s) else f"{100 * m:.2f} +- {100 * s:.2f}%"


def fmt_ci(stat) -> str:
    """An accuracy's 95% interval in percent; the t interval is clipped to [0, 100], where an
    accuracy lives (with 2 seeds it easily reaches past 100%)."""
    if stat.n < 2:
        return "-"
    return f"[{max(0.0, 100 * stat.ci_low):.1f}, {min(100.0, 100 * stat.ci_high):.1f}]"


def _final(r, key):
    return r["history"][-1][key] if r["history"] else None


def group_label(g) -> str:
    return g.label + (f" (mixed: {', '.join(g.mixed)})" if g.mixed else "")


def _column(table: Table, title: str, text: bool) -> None:
    # Numbers never wrap or shorten (``12.0...``); names fold when the console is narrower than the table.
    if text:
        table.add_column(title, overflow="fold")
    else:
        table.add_column(title, justify="right", no_wrap=True)


def summary_table(runs, title: str = "Results", by=None, where=None, groups=None) -> Table:
    """Configuration x final train acc, best val acc, test acc (+ 95% CI), s/epoch, status."""
    groups = group_runs(runs, by, where) if groups is None else groups
    table = Table(title=title)
    for col in ("configuration", "runs", "final train acc", "best val acc", "test acc", "test 95% CI", "s/epoch",
                "status"):
        _column(table, col, text=col in ("configuration", "status"))
    for g in groups:
        cells = [fmt_pct(g.stat(m).mean, g.stat(m).std) for m in ("final_train_acc", "best_val_acc", "test_acc")]
        sec = g.stat("seconds_per_epoch")
        statuses = ", ".join(f"{s}" if n == len(g.runs) else f"{n} {s}" for s, n in sorted(g.statuses.items()))
        table.add_row(group_label(g), str(len(g.runs)), *cells, fmt_ci(g.stat("test_acc")),
                      "-" if sec.n == 0 else f"{sec.mean:.2f}", statuses)
    return table


def comparison_table(comparisons, title: str) -> Table:
    """One row per `fastact.experiments.stats.Comparison`: the difference, p-values and verdict."""
    table = Table(title=title)
    for col in ("configuration", "vs", "pairs", "mean diff", "t-test p", "Wilcoxon p", "Holm p", "verdict"):
        _column(table, col, text=col in ("configuration", "vs", "verdict"))
    for c in comparisons:
        pct = METRICS[c.metric].percent
        diff = "-" if math.isnan(c.mean_diff) else (f"{100 * c.mean_diff:+.2f} pp" if pct else f"{c.mean_diff:+.4g}")
        p = lambda v: "-" if math.isnan(v) else f"{v:.3g}"  # noqa: E731
        table.add_row(c.group, c.baseline, str(c.n_pairs), diff, p(c.t_p), p(c.wilcoxon_p), p(c.holm_p), c.verdict)
    return table


def problems(runs) -> list[str]:
    """One line per run that did not complete: ``linear seed=2: diverged (loss became nan ...)``."""
    rs = [normalize(r) for r in runs]
    v = identity.varying([r["config"] for r in rs])
    v = v if "seed" in v else [*v, "seed"]
    return [f"{identity.label(r['config'], v)}: {r['status']} ({r['message']})"
            for r in rs if r["status"] != "completed"]


def _columns(rs) -> tuple[list[dict], list[str], dict[str, str]]:
    flats = [flat_settings(r) for r in rs]
    groups = group_runs(rs)
    group_of = {id(r): g.label for g in groups for r in g.runs}
    labels = {id(r): group_of[id(r)] for r in rs}
    return flats, identity.names(flats), labels


def _cell(v):
    return identity.fmt(v) if isinstance(v, (list, tuple, bool)) else ("" if v is None else v)


def write_csv(runs, path) -> int:
    """One row per (run, epoch): run id, group label, status, every setting, the epoch's
    fields, every run metric. Returns the number of rows written."""
    rs = [normalize(r) for r in runs]
    flats, names, labels = _columns(rs)
    n = 0
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run_id", "label", "status", *names, *EPOCH_FIELDS, *METRICS])
        for r, flat in zip(rs, flats):
            m = run_metrics(r)
            for h in r["history"]:
                w.writerow([r["id"], labels[id(r)], r["status"], *(_cell(flat.get(k)) for k in names),
                            *(h.get(k) for k in EPOCH_FIELDS), *(_cell(m[k]) for k in METRICS)])
                n += 1
    return n


def write_runs_csv(runs, path, extras: list[dict] | None = None) -> int:
    """One row per run: ``extras`` columns (e.g. a study's key, label, parts), run id, group
    label, status, message, every setting, every metric. Returns the number of rows."""
    rs = [normalize(r) for r in runs]
    extras = extras or [{} for _ in rs]
    extra_cols = list(dict.fromkeys(k for e in extras for k in e))
    flats, names, labels = _columns(rs)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*extra_cols, "run_id", "group", "status", "message", *names, *METRICS])
        for r, flat, extra in zip(rs, flats, extras):
            m = run_metrics(r)
            w.writerow([*(extra.get(k, "") for k in extra_cols), r["id"], labels[id(r)], r["status"], r["message"],
                        *(_cell(flat.get(k)) for k in names), *(_cell(m[k]) for k in METRICS)])
    return len(rs)


# ---- sweeps --------------------------------------------------------------------------------
def sweep_points(runs, setting: str, where: dict | None = None) -> dict[str, dict[float, list[dict]]]:
    """series label -> swept value -> runs: a series is one configuration but for ``setting``
    (and the seed), so only like is drawn with like; runs without ``setting`` are left out."""
    rs = [r for r in (normalize(x) for x in runs) if setting in flat_settings(r)]
    by_series: dict[tuple, list[dict]] = {}
    series_flats: dict[tuple, dict] = {}
    for r in rs:
        flat = flat_settings(r)
        rest = {k: v for k, v in flat.items() if k not in (setting, "seed")}
        key = tuple(sorted((k, identity.fmt(v)) for k, v in rest.items()))
        by_series.setdefault(key, []).append(r)
        series_flats[key] = rest
    if where:
        groups = {id(r) for g in group_runs(rs, where=where) for r in g.runs}
        by_series = {k: [r for r in v if id(r) in groups] for k, v in by_series.items()}
        by_series = {k: v for k, v in by_series.items() if v}
    between = identity.varying_settings([series_flats[k] for k in by_series])
    out: dict[str, dict[float, list[dict]]] = {}
    for key, members in by_series.items():
        label = identity.label_settings(series_flats[key], between)
        for r in members:
            out.setdefault(label, {}).setdefault(flat_settings(r)[setting], []).append(r)
    return out


def sweep_table(points, name: str, title: str) -> Table:
    """Swept value x final train acc, final val acc, test acc (mean +- sample std over seeds)."""
    table = Table(title=title)
    for col in ("series", name, "runs", "final train acc", "final val acc", "test acc", "status"):
        _column(table, col, text=col in ("series", "status"))
    for series, by_value in points.items():
        for value, rs in sorted(by_value.items(), key=lambda kv: (str(type(kv[0])), kv[0])):
            cells = [fmt_pct(*mean_std(f(r) for r in rs)) for f in
                     (lambda r: _final(r, "train_acc"), lambda r: _final(r, "val_acc"), lambda r: r["test_acc"])]
            table.add_row(series, identity.fmt(value), str(len(rs)), *cells,
                          ", ".join(sorted({r["status"] for r in rs})))
    return table
