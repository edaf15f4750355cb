"""Terminal charts (plotext): accuracy against epoch, and a swept value's final accuracy.

Each function returns the chart as a string (``plotext.build()``), so the CLI
prints it and tests can read it. Colours are dropped when ``color=False``
(output piped to a file).
"""

from __future__ import annotations

import math
import re

import plotext as plt

from fastact.experiments.grouping import group_runs
from fastact.experiments.tables import _final, group_label, mean_std

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: the most lines one chart draws: beyond it a terminal legend covers the plot (or is dropped)
MAX_SERIES = 10


def _finish(color: bool) -> str:
    text = plt.build()
    # theme("clear") still emits reset codes; strip every escape for plain output.
    return text if color else _ANSI.sub("", text)


def _start(title: str, xlabel: str, ylabel: str, width: int, height: int, color: bool) -> None:
    plt.clear_figure()
    plt.plotsize(width, height)
    # "pro" keeps the terminal's own background (the default theme paints it white).
    plt.theme("pro" if color else "clear")
    plt.title(title)
    plt.xlabel(xlabel)
    plt.ylabel(ylabel)


def _percent_ylim(values: list[float]) -> None:
    """Accuracy axes stay inside [0, 100], with a margin (plotext pads a lone point far beyond 100%)."""
    if values:
        lo, hi = min(values), max(values)
        pad = max(2.0, 0.05 * (hi - lo))
        plt.ylim(max(0.0, lo - pad), min(100.0, hi + pad) if hi < 100.5 else hi + pad)


def _marker(n: int) -> str:
    return "braille" if n > 1 else "o"  # a single braille dot is nearly invisible


def curves_chart(series: dict[str, tuple[list, list]], title: str, ylabel: str = "accuracy (%)",
                 width: int = 100, height: int = 22, color: bool = True) -> str:
    """One line per label: ``series[label] = (epochs, values)`` (values in percent)."""
    _start(title, "epoch", ylabel, width, height, color)
    shown = []
    for label, (xs, ys) in series.items():
        pts = [(x, y) for x, y in zip(xs, ys) if y is not None and math.isfinite(y)]
        if pts:
            plt.plot([p[0] for p in pts], [p[1] for p in pts], label=label, marker=_marker(len(pts)))
            shown += [p[1] for p in pts]
    _percent_ylim(shown)
    epochs = sorted({x for xs, _ in series.values() for x in xs})
    if epochs and len(epochs) <= 20:
        plt.xticks(epochs)
    return _finish(color)


def sweep_chart(series: dict[str, tuple[list, list, list]], xlabel: str, title: str,
                ylabel: str = "final accuracy (%)", width: int = 100, height: int = 22, color: bool = True) -> str:
    """``series[label] = (x values, means, stds)``; error bars (+- std) where any std > 0."""
    _start(title, xlabel, ylabel, width, height, color)
    shown = []
    for label, (xs, means, stds) in series.items():
        pts = [(x, m, s) for x, m, s in zip(xs, means, stds) if m is not None and math.isfinite(m)]
        if not pts:
            continue
        x, m, s = ([p[i] for p in pts] for i in range(3))
        plt.plot(x, m, label=label, marker=_marker(len(pts)))
        shown += [v + d for v, d in zip(m, s)] + [v - d for v, d in zip(m, s)]
        if any(v > 0 for v in s):
            plt.error(x, m, yerr=s)
    _percent_ylim(shown)
    values = sorted({x for xs, _, _ in series.values() for x in xs})
    if values and len(values) <= 12:
        plt.xticks(values, [f"{v:g}" for v in values])
    return _finish(color)


# ---- from runs ----------------------------------------------------------------------------
def epoch_series(runs, key: str, groups=None) -> dict[str, tuple[list, list]]:
    """label -> (epochs, mean over seeds of ``key`` in percent) per group (`group_runs`), for `curves_chart`."""
    out = {}
    for g in group_runs(runs) if groups is None else groups:
        n = max((len(r["history"]) for r in g.runs), default=0)
        xs, ys = [], []
        for e in range(n):
            m, _ = mean_std(r["history"][e][key] for r in g.runs if len(r["history"]) > e)
            xs.append(e + 1)
            ys.append(None if m is None else 100 * m)
        out[group_label(g)] = (xs, ys)
    return out


def capped(series: dict, hint: str = "narrow with --where or --group-by") -> tuple[dict, str]:
    """At most `MAX_SERIES` series, and a line saying when some were left out ("" otherwise)."""
    if len(series) <= MAX_SERIES:
        return series, ""
    kept = dict(list(series.items())[:MAX_SERIES])
    return kept, f"showing the first {MAX_SERIES} of {len(series)} configurations ({hint})"


def accuracy_charts(runs, color: bool = True, width: int = 100, groups=None) -> list[str]:
    """The seed's two figures: training and validation accuracy against epoch, a line per configuration."""
    groups = group_runs(runs) if groups is None else groups
    out = []
    for key, title in (("train_acc", "Training accuracy"), ("val_acc", "Validation accuracy")):
        series, note = capped(epoch_series(runs, key, groups))
        out.append(curves_chart(series, title, color=color, width=width) + (f"\n{note}\n" if note else ""))
    return out


def sweep_charts(points, name: str, color: bool = True, width: int = 100) -> list[str]:
    """Final training and validation accuracy against the swept value (error bars: std over seeds)."""
    charts = []
    for key, what in (("train_acc", "training"), ("val_acc", "validation")):
        series = {}
        for label, by_value in points.items():
            xs = sorted(by_value)
            stats = [mean_std(_final(r, key) for r in by_value[x]) for x in xs]
            series[label] = (xs, [None if m is None else 100 * m for m, _ in stats],
                             [0.0 if s is None else 100 * s for _, s in stats])
        series, note = capped(series)
        chart = sweep_chart(series, name, f"Final {what} accuracy against {name}", color=color, width=width)
        charts.append(chart + (f"\n{note}\n" if note else ""))
    return charts
