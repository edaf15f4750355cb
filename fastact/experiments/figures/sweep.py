"""Figure 2: final training, best validation and test accuracy against a swept setting (Leaky
ReLU's slope, the learning rate, the width, any setting a study varies), error bars +-1 std over
seeds. Figure 3 (`depth.py`) is the same data against the number of hidden layers.

`sweep_data` computes the arrays; `lines.draw` draws them (one panel per metric).
"""

from __future__ import annotations

import numpy as np

from fastact.experiments.figures import style
from fastact.experiments.figures.curves import group_act
from fastact.experiments.figures.lines import LineFigure, Panel, Series, facet, mean_std
from fastact.experiments.figures.protocol import protocol
from fastact.experiments.metrics import run_metrics

METRICS = ("final_train_acc", "best_val_acc", "test_acc")

#: how a swept setting reads on an axis (the rest: the setting's own name)
AXIS_NAMES = {
    "act": "activation",
    "negative_slope": "Leaky ReLU's negative slope a (y = a z for z < 0)",
    "slope": "Leaky ReLU's negative slope a (y = a z for z < 0)",
    "depth": "hidden layers (depth)",
    "width": "hidden units per layer",
    "lr": "learning rate",
    "batch_size": "batch size (samples)",
    "weight_decay": "weight decay",
    "momentum": "momentum",
}


def axis_name(param: str) -> str:
    return AXIS_NAMES.get(param.split(".")[-1], param)


def point_series(groups, metric: str, value_of, label: str, act: str | None) -> Series:
    """``metric`` at each swept value: mean, sample std and count over the runs of the groups there."""
    by_x: dict[float, list] = {}
    for g in groups:
        by_x.setdefault(float(value_of(g)), []).extend(run_metrics(r)[metric] for r in g.runs)
    xs = sorted(by_x)
    k = style.scale(metric)
    stats = [mean_std(by_x[x]) for x in xs]
    return Series(label, act, np.array(xs, dtype=np.float64), np.array([k * m for m, _, _ in stats]),
                  np.array([k * s for _, s, _ in stats]), np.array([n for _, _, n in stats], dtype=np.int64))


def sweep_data(groups, param: str, value_of, series_of=None, metrics=METRICS, title: str | None = None
               ) -> LineFigure:
    """The figure's data: ``value_of(group)`` is the swept value, ``series_of(group)`` the line it
    belongs to (default: its label without the swept setting, i.e. the activation)."""
    groups = [g for g in groups if value_of(g) is not None]
    series_of = series_of or (lambda g: group_act(g) or g.label)
    lines: dict[str, list] = {}
    for g in groups:
        lines.setdefault(series_of(g), []).append(g)
    values = sorted({float(value_of(g)) for g in groups})
    # A tick at every value only when they are few and evenly enough spread that labels cannot
    # collide (0.25 beside 0.3 would); otherwise matplotlib's own ticks, the markers show the values.
    gaps = np.diff(values)
    ticks = values if len(values) <= 12 and (len(values) < 2 or gaps.min() >= 0.6 * gaps.max()) else None
    logx = style.log_axis(values)
    base = [point_series(gs, metrics[0], value_of, name, group_act(gs[0])) for name, gs in lines.items()]
    facets, notes = facet(base, what="series")
    by_name = {name: gs for name, gs in lines.items()}
    rows = []
    for facet_title, members in facets:
        row = []
        for metric in metrics:
            picked = []
            for s in members:
                p = point_series(by_name[s.label], metric, value_of, s.label, s.act)
                p.variant = s.variant
                picked.append(p)
            head = style.METRIC_LABELS.get(metric, metric)
            row.append(Panel(f"{head[0].upper()}{head[1:]}" + (f" {facet_title}" if facet_title else ""),
                             axis_name(param), style.unit_label(metric), picked,
                             percent=metric != "gap" and not style.is_loss(metric), xticks=ticks, logx=logx))
        rows.append(row)
    head = title or f"Accuracy against {axis_name(param)}, mean ±1 std over seeds"
    return LineFigure(f"{head}\n{protocol(groups)}", rows, "bars", notes)
