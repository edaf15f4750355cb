"""From runs to files: group them, plan the figures (`plan.plan`), compute each figure's data with
its module's pure function, draw it and write PNG + SVG (`writers.save`).

`figure_data(planned)` is the seam tests use: it returns exactly the object the drawing consumes.
"""

from __future__ import annotations

from fastact import activations
from fastact.experiments.figures import curves, depth, heatmap, lines, shapes, spread, sweep, writers
from fastact.experiments.figures.plan import Planned, plan


def _setting(name: str):
    return lambda g: g.settings.get(name)


def _act(g):
    return g.settings.get("act") or g.label


def figure_data(p: Planned):
    """The data object of planned figure ``p`` (a `LineFigure`, `SpreadFigure`, `HeatmapFigure` or
    `ShapesFigure`)."""
    if p.kind == "curves":
        return curves.curves_data(p.groups)
    if p.kind == "sweep":
        (k,) = p.settings
        return sweep.sweep_data(p.groups, k, _setting(k), _act)
    if p.kind == "depth":
        return depth.depth_data(p.groups, _act)
    if p.kind == "spread":
        if p.settings:
            (k,) = p.settings
            return spread.spread_by_data(p.groups, _setting(k), sweep.axis_name(k), _act)
        return spread.spread_data(p.groups)
    if p.kind == "heatmap":
        a, b = p.settings
        order = list(activations.ACTIVATIONS) if a == "act" else None
        return heatmap.heatmap_data(p.groups, a, _setting(a), b, _setting(b), row_order=order)
    if p.kind == "activations":
        return shapes.shapes_data(p.acts)
    raise ValueError(f"unknown figure kind. Received: kind={p.kind!r}")


DRAW = {"curves": lines.draw, "sweep": lines.draw, "depth": lines.draw, "spread": spread.draw,
        "heatmap": heatmap.draw, "activations": shapes.draw}

CAPTIONS = {
    "curves": "Training and validation accuracy per epoch, a line per activation (mean over seeds, "
              "band ±1 sample std).",
    "sweep": "Final training, best validation and test accuracy against the swept setting "
             "(mean over seeds, error bars ±1 sample std).",
    "depth": "Final training and best validation accuracy against the number of hidden layers, and the "
             "train - validation gap (overfitting grows with it).",
    "spread": "Each configuration's best validation accuracy, seed by seed (box: quartiles, whiskers 1.5 IQR).",
    "heatmap": "Mean best validation accuracy over seeds for each combination of the two settings "
               "(± sample std); blank cells were not run.",
    "activations": "The activations and their derivatives as fastact's kernels compute them from the "
                   "activation table (PReLU at its initial slope, RReLU at its evaluation slope, band: "
                   "its training range).",
}


def draw(p: Planned, outdir) -> writers.Written:
    """Compute, draw and write planned figure ``p`` into ``outdir``."""
    data = figure_data(p)
    fig = DRAW[p.kind](data)
    title = data.title.split("\n")[0]
    return writers.save(fig, outdir, p.name, title, CAPTIONS[p.kind], getattr(data, "notes", []))


def write_figures(runs, outdir, groups=None) -> list[writers.Written]:
    """Every figure ``runs`` call for (`plan.plan`), written into ``outdir``; ``groups`` (from
    `fastact.experiments.grouping.group_runs`) saves grouping them again."""
    from fastact.experiments.grouping import group_runs

    groups = groups if groups is not None else group_runs(runs)
    return [draw(p, outdir) for p in plan(groups)]
