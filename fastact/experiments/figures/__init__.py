"""Figures of runs and studies as PNG (150 dpi) and SVG, with matplotlib's Agg canvas (no display).

One module per figure kind, each with a pure function computing the figure's data (arrays a
test can check against the runs) and a drawing that consumes exactly that object:

* `curves`: training and validation accuracy per epoch, a line per configuration, +-1 std band;
* `sweep`: final training, best validation and test accuracy against a swept setting;
* `depth`: accuracy and the train - validation gap against the number of hidden layers;
* `spread`: each configuration's values seed by seed (box and points);
* `heatmap`: a metric over two settings that vary together;
* `shapes`: the activations and their derivatives, computed by the kernels from the table.

`plan` decides which figures a set of runs calls for, `build` computes, draws and writes them
(`writers`), `palette` holds the one colour per activation (shared with the TUI), `style` the
look and the legend limit, `protocol` the line every title states. matplotlib is imported only
when a figure is drawn (`style.new_figure`), never by importing this package.
"""

from __future__ import annotations


def write_figures(runs, outdir, groups=None):
    """Every figure ``runs`` call for, written into ``outdir`` (`build.write_figures`)."""
    from fastact.experiments.figures.build import write_figures as write

    return write(runs, outdir, groups)
