"""Synthetic runs for the figure and report tests: normalised run dicts (what
`fastact.experiments.metrics.normalize` returns) with closed-form, seed-dependent curves, so a
test knows every number a figure or a table should show.

`seed_study_runs` lays them out like the built-in seed study: the seven activations at one hidden
layer, Leaky ReLU's slope 0..1 by 0.1, and depth 1..5 for each of the seven (each distinct
configuration once, as a study stores it).
"""

from __future__ import annotations

import zlib

from fastact import activations
from fastact.training import TrainConfig

#: each activation's ceiling (validation accuracy it approaches), in the classic order
CEILING = {"linear": 0.84, "softplus": 0.875, "sigmoid": 0.86, "relu": 0.885, "leaky_relu": 0.888,
           "prelu": 0.889, "rrelu": 0.887}


def noise(*key) -> float:
    """A deterministic value in [-1, 1) from ``key``."""
    return zlib.crc32(repr(key).encode()) % 2000 / 1000.0 - 1.0


def fake_run(act="relu", seed=0, epochs=4, depth=1, slope=None, stop=None, test_shift=-0.004, **cfg) -> dict:
    """One completed run: ``val_acc(e) = ceiling * (1 - 0.5**e) + 0.004 * noise``, train above it.

    ``stop`` ends the history early (as early stopping would).
    """
    params = {"negative_slope": slope} if slope is not None else {}
    config = TrainConfig(act=act, seed=seed, epochs=epochs, hidden=(512,) * depth, act_params=params,
                         dataset="fashion-mnist", out=None, **cfg).to_dict()
    ceiling = CEILING.get(act, 0.87) - 0.004 * (depth - 1) ** 1.5 - (0.03 * abs(slope - 0.2) if slope else 0.0)
    history = []
    for e in range(1, (stop or epochs) + 1):
        val = ceiling * (1 - 0.5 ** e) + 0.004 * noise(act, seed, depth, slope, e)
        train = val + 0.01 * e * depth / epochs
        history.append({"epoch": e, "train_loss": 1.0 / e, "train_acc": train, "val_loss": 1.2 / e,
                        "val_acc": val, "seconds": 1.0 + 0.1 * depth, "samples_per_s": 5e4})
    best = max(h["val_acc"] for h in history)
    return {"id": f"{act}-d{depth}-a{slope}-s{seed}", "dir": None, "config": config, "history": history,
            "status": "completed", "message": "", "test_acc": best + test_shift, "test_loss": 0.4,
            "best_test_acc": None, "best_test_loss": None, "best_epoch": None, "stopped_epoch": stop,
            "seconds": sum(h["seconds"] for h in history), "dataset": "fashion-mnist", "data": "fashion-mnist:abc"}


def seed_study_runs(seeds=(0, 1, 2), epochs=4, slopes=None, depths=(1, 2, 3, 4, 5)) -> list[dict]:
    slopes = [round(0.1 * i, 1) for i in range(11)] if slopes is None else slopes
    points = {}
    for act in activations.names("seed"):
        points[(act, 1, None)] = None
        for d in depths:
            points[(act, d, None)] = None
    for a in slopes:
        points[("leaky_relu", 1, a)] = None
    runs = []
    for act, depth, slope in points:
        # Leaky ReLU at its default slope is the same configuration with or without the slope given.
        if act == "leaky_relu" and slope == 0.3:
            continue
        for s in seeds:
            runs.append(fake_run(act, s, epochs, depth, slope))
    return runs
