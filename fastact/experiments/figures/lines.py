"""Line figures' data and drawing: `Series` (a line with its spread), `Panel`, `LineFigure`.

Every line figure (accuracy against epoch, against a swept setting, against depth) is first a
`LineFigure`: plain arrays that a test can check against the runs, computed by a pure function
in the figure's own module. `draw` consumes exactly that object and nothing else, so what is
drawn is what was tested.

A panel never holds more than `style.MAX_LEGEND` series: `facet` splits them into several
panels and records a note the figure prints under its title.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fastact.experiments.figures import palette, style
from fastact.experiments.stats import describe

LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


@dataclass
class Series:
    """One line: ``mean[i]`` (+- ``std[i]``, over ``n[i]`` seeds) at ``x[i]``, in display units.

    ``variant`` tells apart series of one activation in one panel (line style and marker).
    """

    label: str
    act: str | None
    x: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n: np.ndarray
    variant: int = 0

    @property
    def color(self) -> str:
        return palette.color(self.act) if self.act else palette.NEUTRAL


@dataclass
class Panel:
    title: str
    xlabel: str
    ylabel: str
    series: list[Series]
    percent: bool = True  # y in percent: limits kept inside [0, 100]
    xticks: list | None = None  # the swept values, when few enough to label each
    logx: bool = False


@dataclass
class LineFigure:
    """``panels[row][col]``; ``spread`` is ``"band"`` (curves) or ``"bars"`` (error bars)."""

    title: str
    panels: list[list[Panel]]
    spread: str = "band"
    notes: list[str] = field(default_factory=list)


def mean_std(values) -> tuple[float, float, int]:
    """Mean, sample standard deviation and count of the finite values (`fastact.experiments.stats.describe`,
    so a band in a figure and a ``+-`` in the report's tables are the same number); the std of a
    single value is drawn as 0 (no band), of none as NaN."""
    st = describe(values)
    return st.mean, 0.0 if st.n == 1 else st.std, st.n


def assign_variants(series: list[Series]) -> list[Series]:
    """Number the series that share an activation (0, 1, ...) so each gets its own line style."""
    seen: dict[str | None, int] = {}
    for s in series:
        s.variant = seen.get(s.act, 0)
        seen[s.act] = s.variant + 1
    return series


def facet(series: list[Series], key=None, by: str = "", what: str = "series"
          ) -> tuple[list[tuple[str, list[Series]]], list[str]]:
    """Split ``series`` into panels of at most `style.MAX_LEGEND`: by ``key(series) -> facet title``
    first when given (``by`` names it for the note), then in order. Returns
    ``[(facet title, series)], notes``."""
    groups: dict[str, list[Series]] = {}
    for s in series:
        groups.setdefault(key(s) if key else "", []).append(s)
    out = []
    for title, members in groups.items():
        parts = style.chunks(members, style.MAX_LEGEND)
        for i, part in enumerate(parts):
            suffix = f" ({i + 1}/{len(parts)})" if len(parts) > 1 else ""
            out.append((f"{title}{suffix}", assign_variants(part)))
    notes = []
    if len(out) > 1:
        how = f"one row per {by}, " if key and by else ""
        notes.append(f"{len(series)} {what} in {len(out)} rows ({how}at most {style.MAX_LEGEND} per legend)")
    return out, notes


def draw(fig_data: LineFigure):
    """The matplotlib Figure of ``fig_data`` (nothing else is read)."""
    rows, cols = len(fig_data.panels), max(len(r) for r in fig_data.panels)
    with style.style_context():
        fig, axes = style.new_figure(rows, cols, height=style.PANEL_H * rows + 0.5 + 0.2 * len(fig_data.notes))
        for r, row in enumerate(fig_data.panels):
            for c in range(cols):
                ax = axes[r][c]
                if c >= len(row):
                    ax.set_visible(False)
                    continue
                # Panels of one row that show the same series share the first one's legend.
                shared = c > 0 and [s.label for s in row[c].series] == [s.label for s in row[0].series]
                _draw_panel(ax, row[c], fig_data.spread, legend=not shared)
        style.suptitle(fig, fig_data.title, fig_data.notes)
    return fig


def _draw_panel(ax, panel: Panel, spread: str, legend: bool = True) -> None:
    ax.set_title(panel.title)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    shown = []
    for s in panel.series:
        ok = np.isfinite(s.mean)
        if not ok.any():
            continue
        x, m, sd = s.x[ok], s.mean[ok], np.nan_to_num(s.std[ok])
        kw = dict(color=s.color, linestyle=LINESTYLES[s.variant % len(LINESTYLES)], label=s.label,
                  marker=MARKERS[s.variant % len(MARKERS)] if (spread == "bars" or len(x) <= 12) else None,
                  markersize=3.5, linewidth=1.5)
        if spread == "bars":
            ax.errorbar(x, m, yerr=sd if (sd > 0).any() else None, capsize=2.5, elinewidth=1.0, **kw)
        else:
            ax.plot(x, m, **kw)
            if (sd > 0).any():
                ax.fill_between(x, m - sd, m + sd, color=s.color, alpha=0.18, linewidth=0)
        shown += list(m - sd) + list(m + sd)
    if panel.logx:
        ax.set_xscale("log")
    if panel.xticks is not None:
        ax.set_xticks(panel.xticks, [style.fmt_value(v) for v in panel.xticks])
    if panel.percent and (lim := style.percent_limits(shown)):
        ax.set_ylim(*lim)
    if not shown:
        style.empty_panel(ax, "no finite values")
    if legend:
        style.legend(ax, sum(1 for s in panel.series if np.isfinite(s.mean).any()))
