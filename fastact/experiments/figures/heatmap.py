"""Figure 5: when two settings vary (activation x depth, slope x learning rate), a heatmap of the
mean over seeds of one metric, each cell annotated with its mean and std; a missing combination
is left blank (never interpolated).

`heatmap_data` computes the matrix; `draw` draws exactly it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fastact.experiments.figures import style
from fastact.experiments.figures.lines import mean_std
from fastact.experiments.figures.protocol import protocol
from fastact.experiments.figures.sweep import axis_name
from fastact.experiments.metrics import run_metrics


@dataclass
class HeatmapFigure:
    title: str
    row_name: str
    col_name: str
    rows: list  # the row setting's values, top to bottom
    cols: list
    mean: np.ndarray  # (len(rows), len(cols)), display units; NaN where no run
    std: np.ndarray
    n: np.ndarray
    label: str  # the colour bar's


def _key(v):
    return (0, float(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, str(v))


def heatmap_data(groups, row_name: str, row_of, col_name: str, col_of, metric: str = "best_val_acc",
                 row_order=None) -> HeatmapFigure:
    """``row_of(group)`` and ``col_of(group)`` give the group's cell; ``row_order`` fixes the rows'
    order (e.g. the activation table's), else values sort (numbers first, ascending)."""
    groups = list(groups)
    cells: dict[tuple, list] = {}
    for g in groups:
        cells.setdefault((row_of(g), col_of(g)), []).extend(run_metrics(r)[metric] for r in g.runs)
    rows = sorted({r for r, _ in cells}, key=lambda v: (row_order.index(v), 0) if row_order and v in row_order
                  else (len(row_order or ()), _key(v)))
    cols = sorted({c for _, c in cells}, key=_key)
    shape = (len(rows), len(cols))
    mean, std, n = np.full(shape, math.nan), np.full(shape, math.nan), np.zeros(shape, dtype=np.int64)
    k = style.scale(metric)
    for (r, c), values in cells.items():
        m, s, count = mean_std(values)
        i, j = rows.index(r), cols.index(c)
        mean[i, j], std[i, j], n[i, j] = k * m, k * s, count
    what = style.METRIC_LABELS.get(metric, metric)
    title = f"Mean {what} over seeds, {axis_name(row_name)} x {axis_name(col_name)}\n{protocol(groups)}"
    return HeatmapFigure(title, row_name, col_name, rows, cols, mean, std, n, style.unit_label(metric))


def draw(data: HeatmapFigure):
    n_rows, n_cols = data.mean.shape
    width = max(style.PANEL_W * 1.4, 0.95 * n_cols + 2.8)
    height = max(3.2, 0.5 * n_rows + 1.9)
    with style.style_context():
        fig, axes = style.new_figure(1, 1, width=width, height=height)
        ax = axes[0][0]
        masked = np.ma.masked_invalid(data.mean)
        image = ax.imshow(masked, cmap="viridis", aspect="auto")
        finite = data.mean[np.isfinite(data.mean)]
        mid = float(finite.min() + finite.max()) / 2 if finite.size else 0.0
        for i in range(n_rows):
            for j in range(n_cols):
                if not math.isfinite(data.mean[i, j]):
                    continue
                text = f"{data.mean[i, j]:.1f}" + (f"\n±{data.std[i, j]:.1f}" if data.n[i, j] > 1 else "")
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="black" if data.mean[i, j] > mid else "white")
        ax.set_xticks(range(n_cols), [style.fmt_value(v) for v in data.cols])
        ax.set_yticks(range(n_rows), [style.fmt_value(v) for v in data.rows])
        ax.set_xlabel(axis_name(data.col_name))
        ax.set_ylabel(axis_name(data.row_name))
        ax.grid(False)
        fig.colorbar(image, ax=ax, label=data.label)
        style.suptitle(fig, data.title)
    return fig
