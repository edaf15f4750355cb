"""Figure 4: the spread over seeds of each configuration: a box (quartiles, whiskers at 1.5 IQR)
and every seed's value as a point, so five seeds are seen as five seeds.

Two layouts: one box per configuration, labelled on the x axis (`spread_data`); or, for a swept
setting, its values on the x axis with a box per activation side by side at each, coloured and
named in the legend (`spread_by_data`). Rows hold at most `style.MAX_CATEGORIES` positions and
`style.MAX_LEGEND` legend entries; more are split over several rows, and the figure says so.
The data functions compute the per-seed values; `draw` draws exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fastact.experiments.figures import palette, style
from fastact.experiments.figures.curves import group_act
from fastact.experiments.figures.protocol import protocol
from fastact.experiments.metrics import run_metrics


@dataclass
class Box:
    label: str
    act: str | None
    values: np.ndarray  # one per seed that has the metric, in display units
    seeds: list
    category: int = 0  # x position (index into the row's categories)
    slot: int = 0  # side-by-side position at that x (index into the row's legend)

    @property
    def color(self) -> str:
        return palette.color(self.act) if self.act else palette.NEUTRAL


@dataclass
class SpreadRow:
    title: str
    categories: list[str]
    boxes: list[Box]
    slots: list[str] = field(default_factory=list)  # legend entries (side-by-side layout only)


@dataclass
class SpreadFigure:
    title: str
    xlabel: str
    ylabel: str
    rows: list[SpreadRow]
    notes: list[str] = field(default_factory=list)


def box(group, metric: str, label: str | None = None) -> Box:
    pairs = [(r["config"].get("seed"), run_metrics(r)[metric]) for r in group.runs]
    pairs = [(s, v) for s, v in pairs if v is not None]
    k = style.scale(metric)
    return Box(label or group.label, group_act(group), np.array([k * v for _, v in pairs], dtype=np.float64),
               [s for s, _ in pairs])


def _head(metric: str, groups, title):
    what = style.METRIC_LABELS.get(metric, metric)
    return f"{title or f'Spread of the {what} over seeds (box: quartiles; points: seeds)'}\n{protocol(groups)}"


def spread_data(groups, metric: str = "best_val_acc", title: str | None = None) -> SpreadFigure:
    """One box per group, labelled on the x axis."""
    groups = list(groups)
    boxes = [box(g, metric) for g in groups]
    rows = []
    for part in style.chunks(boxes, style.MAX_CATEGORIES):
        for i, b in enumerate(part):
            b.category = i
        rows.append(SpreadRow("", [b.label for b in part], part))
    notes = [f"{len(boxes)} configurations in {len(rows)} rows (at most {style.MAX_CATEGORIES} per row)"] \
        if len(rows) > 1 else []
    return SpreadFigure(_head(metric, groups, title), "configuration", style.unit_label(metric), rows, notes)


def spread_by_data(groups, value_of, xlabel: str, series_of, metric: str = "best_val_acc",
                   title: str | None = None) -> SpreadFigure:
    """``value_of(group)`` on the x axis, a box per ``series_of(group)`` (its legend entry) at each."""
    groups = [g for g in groups if value_of(g) is not None]
    values = sorted({value_of(g) for g in groups})
    names = list(dict.fromkeys(series_of(g) for g in groups))
    rows = []
    for name_part in style.chunks(names, style.MAX_LEGEND):
        for value_part in style.chunks(values, style.MAX_CATEGORIES):
            boxes = []
            for g in groups:
                if series_of(g) in name_part and value_of(g) in value_part:
                    b = box(g, metric, series_of(g))
                    b.category, b.slot = value_part.index(value_of(g)), name_part.index(series_of(g))
                    boxes.append(b)
            rows.append(SpreadRow("", [style.fmt_value(v) for v in value_part], boxes, list(name_part)))
    notes = [f"{len(groups)} configurations in {len(rows)} rows (at most {style.MAX_LEGEND} per legend, "
             f"{style.MAX_CATEGORIES} values per row)"] if len(rows) > 1 else []
    return SpreadFigure(_head(metric, groups, title), xlabel, style.unit_label(metric), rows, notes)


def draw(data: SpreadFigure):
    rows = len(data.rows)
    widest = max((len(r.categories) * max(1, len(r.slots)) for r in data.rows), default=1)
    width = min(16.0, max(style.PANEL_W * 2, 0.42 * widest + 2.0))
    with style.style_context():
        fig, axes = style.new_figure(rows, 1, width=width, height=3.0 * rows + 1.3 + 0.2 * len(data.notes))
        for r, row in enumerate(data.rows):
            _draw_row(axes[r][0], row, data)
        style.suptitle(fig, data.title, data.notes)
    return fig


def _draw_row(ax, row: SpreadRow, data: SpreadFigure) -> None:
    slots = max(1, len(row.slots))
    width = 0.7 / slots
    pos = {id(b): b.category + 1 + (b.slot - (slots - 1) / 2) * width for b in row.boxes}
    filled = [b for b in row.boxes if b.values.size]
    if filled:
        parts = ax.boxplot([b.values for b in filled], positions=[pos[id(b)] for b in filled],
                           widths=width * 0.8, patch_artist=True, showfliers=False, manage_ticks=False,
                           medianprops={"color": "black"})
        for patch, b in zip(parts["boxes"], filled):
            patch.set_facecolor(b.color)
            patch.set_alpha(0.35)
    for b in row.boxes:
        # Fixed offsets (not random jitter) so a redraw is the same picture.
        n = b.values.size
        dx = np.linspace(-0.3, 0.3, n) * width if n > 1 else np.zeros(n)
        ax.scatter(pos[id(b)] + dx, b.values, s=12, color=b.color, edgecolors="black", linewidths=0.4, zorder=3)
    ticks = np.arange(1, len(row.categories) + 1)
    long = not row.slots and len(row.categories) > 4
    ax.set_xticks(ticks, row.categories, rotation=30 if long else 0, ha="right" if long else "center")
    ax.set_xlim(0.4, len(row.categories) + 0.6)
    ax.set_xlabel(data.xlabel)
    ax.set_ylabel(data.ylabel)
    ax.grid(axis="x", visible=False)
    if row.slots:
        from matplotlib.patches import Patch

        by_slot = {b.slot: b for b in row.boxes}
        handles = [Patch(facecolor=by_slot[i].color if i in by_slot else palette.NEUTRAL, alpha=0.6, label=name)
                   for i, name in enumerate(row.slots)]
        ax.legend(handles=handles, loc="best", ncols=1 if len(handles) <= 4 else 2)
