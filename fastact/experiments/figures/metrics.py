"""Per-run numbers the figures compare, from a normalised run (`fastact.experiments.tables.normalize`).

Each returns a fraction (accuracies, the gap) or None when the run has no such number (no
epoch finished, no test set evaluated, a diverged value).

* ``final_train_acc``, ``final_val_acc``: the last finished epoch's;
* ``best_val_acc``: the highest validation accuracy of any epoch;
* ``test_acc``: the test accuracy of the weights the run kept;
* ``gap``: final training minus final validation accuracy (overfitting shows as a growing gap).
"""

from __future__ import annotations

import math


def _finite(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _last(run, key):
    return _finite(run["history"][-1].get(key)) if run["history"] else None


def final_train_acc(run):
    return _last(run, "train_acc")


def final_val_acc(run):
    return _last(run, "val_acc")


def best_val_acc(run):
    v = [x for x in (_finite(h.get("val_acc")) for h in run["history"]) if x is not None]
    return max(v) if v else None


def test_acc(run):
    return _finite(run.get("test_acc"))


def gap(run):
    t, v = final_train_acc(run), final_val_acc(run)
    return None if t is None or v is None else t - v


METRICS = {"final_train_acc": final_train_acc, "final_val_acc": final_val_acc, "best_val_acc": best_val_acc,
           "test_acc": test_acc, "gap": gap}


def value(run, metric: str):
    """``metric`` of ``run`` (a name of `METRICS`)."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}. Received: metric={metric!r}")
    return METRICS[metric](run)
