"""Plots that own their series: `SeriesPlot` (lines, one per name, with a legend) and
`ChartsPanel` (train accuracy, validation accuracy and loss against epoch)."""

from __future__ import annotations

import bisect
import math

from textual.app import ComposeResult
from textual.containers import Grid
from textual_plotext import PlotextPlot

from fastact.experiments.figures import palette

# Tableau-10: distinguishable on both dark and light backgrounds, unlike plotext's named
# colours (white/yellow vanish on a light theme). Lines of an activation take its colour
# from `fastact.experiments.figures.palette` (the same as in the exported figures); these
# are for the other lines.
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


class SeriesPlot(PlotextPlot):
    """A line plot that keeps ``name -> (xs, ys)`` and redraws everything in `replot`."""

    def __init__(self, title: str, xlabel: str = "epoch", ylabel: str = "", percent: bool = False, **kw):
        super().__init__(**kw)
        self.plot_title, self.xlabel, self.ylabel, self.percent = title, xlabel, ylabel, percent
        self.series: dict[str, tuple[list[float], list[float]]] = {}
        self.line_colors: dict[str, tuple[int, int, int]] = {}

    def add_point(self, name: str, x: float, y: float) -> None:
        xs, ys = self.series.setdefault(name, ([], []))
        xs.append(x)
        ys.append(100 * y if self.percent else y)

    def put_point(self, name: str, x: float, y: float) -> None:
        """``y`` at ``x``: replaces the point there, else inserts it in order of x (points that
        arrive in any order still draw one line from left to right)."""
        xs, ys = self.series.setdefault(name, ([], []))
        y = 100 * y if self.percent else y
        if x in xs:
            ys[xs.index(x)] = y
            return
        i = bisect.bisect(xs, x)
        xs.insert(i, x)
        ys.insert(i, y)

    def set_series(self, name: str, xs, ys) -> None:
        self.series[name] = (list(xs), [100 * y if self.percent else y for y in ys])

    def clear_series(self) -> None:
        self.series.clear()
        self.line_colors.clear()

    def y_range(self) -> tuple[float, float]:
        """A percentage axis: the data's range padded by a tenth (at least 1 point) and clipped to
        0-100, so one epoch at 41% is drawn on 40-42, never on plotext's guess of 41-123."""
        ys = [y for _, values in self.series.values() for y in values if math.isfinite(y)]
        if not ys:
            return 0.0, 100.0
        lo, hi = min(ys), max(ys)
        pad = max(0.1 * (hi - lo), 1.0)
        return max(0.0, lo - pad), min(100.0, hi + pad)

    def color_of(self, name: str):
        """The activation's own colour; a second line of one activation (its val beside its train)
        or a line of none takes the first Tableau colour no line of this plot has."""
        if name not in self.line_colors:
            taken = set(self.line_colors.values())
            act = palette.act_of(name)
            color = palette.rgb(act) if act else None
            if color is None or color in taken:
                color = next((c for c in PALETTE if c not in taken), PALETTE[len(self.line_colors) % len(PALETTE)])
            self.line_colors[name] = color
        return self.line_colors[name]

    def on_mount(self) -> None:
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.plot_title)
        plt.xlabel(self.xlabel)
        if self.ylabel:
            plt.ylabel(self.ylabel)
        if self.percent:
            plt.ylim(*self.y_range())
        xs_all = sorted({x for xs, _ in self.series.values() for x in xs})
        for name, (xs, ys) in self.series.items():
            if xs:
                plt.plot(xs, ys, label=name, color=self.color_of(name), marker="braille")
        if xs_all and len(xs_all) <= 12 and all(float(x).is_integer() for x in xs_all):
            plt.xticks(xs_all, [f"{x:g}" for x in xs_all])
        self.refresh()


class ChartsPanel(Grid):
    """Train accuracy, validation accuracy and loss; on narrow screens one at a time (`m` cycles)."""

    METRICS = ("train", "val", "loss")

    def compose(self) -> ComposeResult:
        yield SeriesPlot("Train accuracy (%)", percent=True, id="plot-train", classes="current")
        yield SeriesPlot("Val accuracy (%)", percent=True, id="plot-val")
        yield SeriesPlot("Train loss", id="plot-loss")

    def plot(self, metric: str) -> SeriesPlot:
        return self.query_one(f"#plot-{metric}", SeriesPlot)

    def reset(self) -> None:
        for m in self.METRICS:
            self.plot(m).clear_series()
            self.plot(m).replot()

    def add_epoch(self, label: str, record) -> None:
        self.plot("train").add_point(label, record.epoch, record.train_acc)
        self.plot("val").add_point(label, record.epoch, record.val_acc)
        self.plot("loss").add_point(label, record.epoch, record.train_loss)
        for m in self.METRICS:
            self.plot(m).replot()

    def cycle(self) -> str:
        plots = [self.plot(m) for m in self.METRICS]
        i = next((k for k, p in enumerate(plots) if p.has_class("current")), 0)
        plots[i].remove_class("current")
        plots[(i + 1) % 3].add_class("current")
        return self.METRICS[(i + 1) % 3]
