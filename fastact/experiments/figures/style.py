"""The look shared by every figure: size, resolution, fonts, axis wording with units, legends.

matplotlib is imported here, lazily, by `new_figure` and `style_context` only: the figure
modules compute their data with NumPy alone, and `fastact train` (which never draws) does not pay
matplotlib's import. Figures are `matplotlib.figure.Figure` objects bound to the Agg canvas
directly, never through `pyplot`: no display, no global current figure, so a TUI worker thread can
draw while the UI runs.
"""

from __future__ import annotations

import math

#: PNG resolution (the SVG is resolution-free; its size is the figure size in points)
DPI = 150
#: the most series one legend holds; more are faceted into several panels (and the figure says so)
MAX_LEGEND = 8
#: the most categories (configurations) one spread panel shows along its x axis
MAX_CATEGORIES = 12
#: width of one panel and its height, in inches
PANEL_W, PANEL_H = 4.6, 3.4

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9.0,
    "figure.titlesize": 10.5,
    "legend.fontsize": 8.0,
    "legend.framealpha": 0.85,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    # Deterministic SVG: fixed ids (and no timestamp: writers.py); text stays text, so the
    # report's inline SVG is searchable and selectable.
    "svg.hashsalt": "fastact",
    "svg.fonttype": "none",
}

#: axis wording, with units, for what the figures put on their axes
AXIS = {
    "epoch": "epoch (passes over the training split)",
    "accuracy": "accuracy (%)",
    "loss": "cross-entropy loss (nats)",
    "gap": "train - validation accuracy (percentage points)",
    "z": "pre-activation z",
}

#: per-run metrics: (short name, axis label); accuracies are shown in percent
METRIC_LABELS = {
    "train_acc": "training accuracy",
    "val_acc": "validation accuracy",
    "train_loss": "training loss",
    "val_loss": "validation loss",
    "final_train_acc": "final training accuracy",
    "final_val_acc": "final validation accuracy",
    "best_val_acc": "best validation accuracy",
    "test_acc": "test accuracy",
    "gap": "train - validation gap (final epoch)",
    "final_acc": "final accuracy",
}


def is_loss(metric: str) -> bool:
    return metric.endswith("loss")


def unit_label(metric: str) -> str:
    """The y-axis label of ``metric``, with its unit."""
    if metric == "gap":
        return AXIS["gap"]
    return f"{METRIC_LABELS.get(metric, metric)} ({'nats' if is_loss(metric) else '%'})"


def scale(metric: str) -> float:
    """Accuracies and gaps are drawn in percent (points), losses as they are."""
    return 1.0 if is_loss(metric) else 100.0


def style_context():
    """`matplotlib.rc_context` with `RC`: the figure's style without touching the caller's rcParams."""
    import matplotlib

    return matplotlib.rc_context(RC)


def new_figure(n_rows: int, n_cols: int, width: float | None = None, height: float | None = None):
    """``(fig, axes)``: a constrained-layout Figure on the Agg canvas, ``axes[row][col]``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width or PANEL_W * n_cols, height or PANEL_H * n_rows + 0.6), dpi=DPI,
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    return fig, [list(row) for row in axes]


def suptitle(fig, title: str, notes=()) -> None:
    """The figure's title and notes, each line wrapped to the figure's width (a narrow heatmap
    would otherwise cut the protocol line off at both ends)."""
    import textwrap

    width_in = fig.get_size_inches()[0]
    chars = max(30, int(width_in * 72 / (RC["figure.titlesize"] * 0.56)))
    lines = [w for line in [*title.split("\n"), *notes] for w in (textwrap.wrap(line, chars) or [""])]
    fig.suptitle("\n".join(lines))


def chunks(items: list, size: int) -> list[list]:
    """``items`` cut into consecutive pieces of at most ``size`` (at least one piece, maybe empty)."""
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def legend(ax, n: int) -> None:
    """A legend for ``n`` series (callers facet before this is ever more than `MAX_LEGEND`)."""
    if n:
        ax.legend(loc="best", ncols=1 if n <= 4 else 2, handlelength=1.6, borderaxespad=0.3)


def empty_panel(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def fmt_value(v) -> str:
    """A setting's value as an axis tick or legend entry: ``0.1``, ``3``, ``1e-3``."""
    if isinstance(v, float) and v and (abs(v) < 1e-2 or abs(v) >= 1e4):
        return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def log_axis(values) -> bool:
    """A log axis when positive values span more than a factor of 20 (learning rates, widths)."""
    v = [float(x) for x in values if isinstance(x, (int, float)) and not isinstance(x, bool)]
    return len(v) > 2 and min(v) > 0 and max(v) / min(v) > 20


def percent_limits(values) -> tuple[float, float] | None:
    """y limits for accuracies in percent: the data with a margin, clipped to [0, 100]."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    if not v:
        return None
    lo, hi = min(v), max(v)
    pad = max(0.5, 0.08 * (hi - lo))
    return max(0.0, lo - pad), min(100.0, hi + pad) if hi <= 100 else hi + pad

