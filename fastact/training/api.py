"""`fit`: the Keras-style shortcut into the training loop."""

from __future__ import annotations

import threading

from fastact.training.config import TrainConfig
from fastact.training.loop import train
from fastact.training.records import Callbacks, RunResult


def fit(dataset=None, callbacks: Callbacks | None = None, cancel: threading.Event | None = None,
        **settings) -> RunResult:
    """``fit(act="relu", hidden=(256,), epochs=3)`` is ``train(TrainConfig(...))``.

    Args:
        dataset: a loaded `fastact.data.Dataset` (else the one ``settings`` name is loaded).
        callbacks, cancel: as for `fastact.training.train`.
        **settings: `TrainConfig` fields.
    """
    if "hidden" in settings:
        settings["hidden"] = tuple(settings["hidden"])
    return train(TrainConfig(**settings), dataset, callbacks, cancel)
