"""Figure 3: accuracy against depth per activation, and the train - validation gap against depth
(overfitting: a gap that grows with depth while validation accuracy stalls).

The same arrays as a sweep (`sweep.sweep_data`) with the number of hidden layers as the swept
value and the gap as the third panel.
"""

from __future__ import annotations

from fastact.experiments.figures.lines import LineFigure
from fastact.experiments.figures.sweep import sweep_data

METRICS = ("final_train_acc", "best_val_acc", "gap")


def depth_of(group) -> int | None:
    """The number of hidden layers of ``group``'s runs (None if they differ)."""
    depths = {len(r["config"].get("hidden") or ()) for r in group.runs}
    return depths.pop() if len(depths) == 1 else None


def depth_data(groups, series_of=None, metrics=METRICS) -> LineFigure:
    return sweep_data(groups, "depth", depth_of, series_of, metrics,
                      title="Accuracy and overfitting against depth, mean ±1 std over seeds")
