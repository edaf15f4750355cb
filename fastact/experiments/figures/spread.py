"""Figure 4: the spread over seeds of each configuration: a box (quartiles, whiskers at 1.5 IQR)
and every seed's value as a point, so five seeds are seen as five seeds.

`spread_data` computes the per-seed values; `draw` draws exactly those. More configurations than
`style.MAX_CATEGORIES` are split over several rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fastact.experiments.figures import metrics as M
from fastact.experiments.figures import palette, style
from fastact.experiments.figures.curves import group_act
from fastact.experiments.figures.protocol import protocol


@dataclass
class Box:
    label: str
    act: str | None
    values: np.ndarray  # one per seed (finite only), in display units
    seeds: list


@dataclass
class SpreadFigure:
    title: str
    ylabel: str
    rows: list[list[Box]]
    notes: list[str] = field(default_factory=list)


def box(group, metric: str) -> Box:
    pairs = [(r["config"].get("seed"), M.value(r, metric)) for r in group.runs]
    pairs = [(s, v) for s, v in pairs if v is not None]
    k = style.scale(metric)
    return Box(group.label, group_act(group), np.array([k * v for _, v in pairs], dtype=np.float64),
               [s for s, _ in pairs])


def spread_data(groups, metric: str = "best_val_acc", title: str | None = None) -> SpreadFigure:
    groups = list(groups)
    boxes = [box(g, metric) for g in groups]
    rows = style.chunks(boxes, style.MAX_CATEGORIES)
    notes = [f"{len(boxes)} configurations in {len(rows)} rows (at most {style.MAX_CATEGORIES} per row)"] \
        if len(rows) > 1 else []
    what = style.METRIC_LABELS.get(metric, metric)
    head = title or f"Spread of the {what} over seeds (box: quartiles; points: seeds)"
    return SpreadFigure(f"{head}\n{protocol(groups)}", style.unit_label(metric), rows, notes)


def draw(data: SpreadFigure):
    rows = len(data.rows)
    width = max(style.PANEL_W * 2, 0.75 * max(len(r) for r in data.rows) + 1.5)
    with style.style_context():
        fig, axes = style.new_figure(rows, 1, width=width, height=2.9 * rows + 1.2 + 0.2 * len(data.notes))
        for r, boxes in enumerate(data.rows):
            ax = axes[r][0]
            pos = np.arange(1, len(boxes) + 1)
            filled = [(p, b) for p, b in zip(pos, boxes) if b.values.size]
            if filled:
                parts = ax.boxplot([b.values for _, b in filled], positions=[p for p, _ in filled], widths=0.55,
                                   patch_artist=True, showfliers=False, medianprops={"color": "black"})
                for patch, (_, b) in zip(parts["boxes"], filled):
                    patch.set_facecolor(palette.color(b.act) if b.act else palette.NEUTRAL)
                    patch.set_alpha(0.35)
            for p, b in zip(pos, boxes):
                # Fixed offsets (not random jitter) so a redraw is identical.
                n = b.values.size
                dx = np.linspace(-0.15, 0.15, n) if n > 1 else np.zeros(n)
                ax.scatter(p + dx, b.values, s=14, color=palette.color(b.act) if b.act else palette.NEUTRAL,
                           edgecolors="black", linewidths=0.4, zorder=3)
            ax.set_xticks(pos, [b.label for b in boxes], rotation=30 if len(boxes) > 4 else 0,
                            ha="right" if len(boxes) > 4 else "center")
            ax.set_xlim(0.4, len(boxes) + 0.6)
            ax.set_ylabel(data.ylabel)
            ax.set_xlabel("configuration")
            ax.grid(axis="x", visible=False)
        fig.suptitle(data.title + "".join(f"\n{n}" for n in data.notes))
    return fig
