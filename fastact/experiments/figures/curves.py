"""Figure 1: training and validation accuracy against epoch, a line per configuration (coloured by
its activation), a +-1 std band over seeds.

`curves_data` computes the arrays from grouped runs, `series_data` from plain series (what the
TUI's charts hold); `lines.draw` draws either. At epoch ``e`` a group's mean is over the seeds that
reached ``e`` (early stopping ends some earlier), and ``Series.n`` says how many did.
"""

from __future__ import annotations

import numpy as np

from fastact.experiments.figures import style
from fastact.experiments.figures.lines import LineFigure, Panel, Series, facet, mean_std
from fastact.experiments.figures.protocol import protocol

METRICS = ("train_acc", "val_acc")


def group_act(group) -> str | None:
    acts = {r["config"].get("act") for r in group.runs}
    return acts.pop() if len(acts) == 1 else None


def epoch_series(group, metric: str) -> Series:
    """``metric`` per epoch of ``group``'s runs: mean and sample std over the seeds at each epoch."""
    n_epochs = max((len(r["history"]) for r in group.runs), default=0)
    k = style.scale(metric)
    stats = [mean_std(r["history"][e].get(metric) for r in group.runs if len(r["history"]) > e)
             for e in range(n_epochs)]
    return Series(group.label, group_act(group), np.arange(1, n_epochs + 1, dtype=np.float64),
                  np.array([k * m for m, _, _ in stats]), np.array([k * s for _, s, _ in stats]),
                  np.array([n for _, _, n in stats], dtype=np.int64))


def _ticks(series: list[Series]) -> list | None:
    xs = sorted({float(x) for s in series for x in s.x})
    return [int(x) for x in xs] if xs and len(xs) <= 12 and all(x.is_integer() for x in xs) else None


def _grid(by_metric: dict[str, list[Series]], metrics, facet_key=None, facet_by: str = "", xlabel: str = ""):
    """Rows of facets (the same facets in every metric's column), columns of metrics."""
    first = by_metric[metrics[0]]
    facets, notes = facet(first, facet_key, facet_by, "configurations")
    index = {id(s): i for i, s in enumerate(first)}
    rows = []
    for title, members in facets:
        row = []
        for metric in metrics:
            picked = [by_metric[metric][index[id(s)]] for s in members]
            for src, dst in zip(members, picked):
                dst.variant = src.variant
            head = style.METRIC_LABELS.get(metric, metric)
            row.append(Panel(f"{head[0].upper()}{head[1:]}" + (f": {title}" if title else ""),
                             xlabel or style.AXIS["epoch"],
                             style.unit_label(metric), picked, percent=not style.is_loss(metric),
                             xticks=_ticks(picked)))
        rows.append(row)
    return rows, notes


def curves_data(groups, metrics=METRICS, facet_key=None, facet_by: str = "", title: str | None = None) -> LineFigure:
    """The figure's data from ``groups`` (objects with ``.label`` and ``.runs``, normalised runs).

    ``facet_key(series) -> str`` puts series in rows by a setting (``by`` names it); without it
    more than `style.MAX_LEGEND` configurations are split in order.
    """
    groups = list(groups)
    by_metric = {m: [epoch_series(g, m) for g in groups] for m in metrics}
    rows, notes = _grid(by_metric, metrics, facet_key, facet_by)
    if any(len(set(s.n.tolist())) > 1 for s in by_metric[metrics[0]]):
        notes.append("some seeds stopped earlier: a point is the mean over the seeds that reached that epoch")
    head = "Accuracy per epoch, mean ±1 std over seeds"
    return LineFigure(f"{title or head}\n{protocol(groups)}", rows, "band", notes)


def series_data(panels: dict[str, dict[str, tuple]], title: str, acts: dict[str, str] | None = None,
                xlabel: str = "") -> LineFigure:
    """The figure's data from plain series: ``panels[metric][label] = (xs, ys)``, ys in display units
    (accuracies in percent, as the TUI's charts hold them), one run per line (no spread); the x
    axis is the epoch unless ``xlabel`` names it.

    ``acts`` maps a label to its activation (for its colour); by default the label's first word.
    """
    from fastact.experiments.figures.palette import act_of

    acts = acts or {}
    labels = list(dict.fromkeys(label for series in panels.values() for label in series))
    by_metric = {}
    for metric, series in panels.items():
        by_metric[metric] = []
        for label in labels:  # a label missing from one chart is an empty line there: same facets everywhere
            xs, ys = series.get(label, ((), ()))
            by_metric[metric].append(Series(label, acts.get(label) or act_of(label), np.asarray(xs, np.float64),
                                            np.asarray(ys, np.float64), np.zeros(len(ys)), np.ones(len(ys), np.int64)))
    rows, notes = _grid(by_metric, list(panels), xlabel=xlabel)
    return LineFigure(title, rows, "band", notes)
