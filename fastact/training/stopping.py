"""The best epoch and early stopping: Keras's ``EarlyStopping`` rule, as a small state machine.

After epoch ``e`` with monitored value ``v_e`` (``val_accuracy``: higher is better;
``val_loss``: lower is better) and best value so far ``b``:

* ``v_e`` is an *improvement* when ``v_e - min_delta > b`` (accuracy) or ``v_e + min_delta < b``
  (loss); the first epoch always is one. A non-finite ``v_e`` never is.
* an improvement makes ``e`` the best epoch and resets the wait; otherwise the wait grows by
  one, and with a patience ``P`` the run stops once the wait reaches ``max(P, 1)`` (Keras
  counts the epoch before checking, so ``patience=0`` and ``1`` both stop at the first epoch
  without improvement).

Keras's ``baseline`` and ``start_from_epoch`` are not offered.

Example:
    >>> rule = BestEpoch("val_loss", min_delta=0.0, patience=1)
    >>> [rule.update(e, v) for e, v in enumerate([0.5, 0.4, 0.45], 1)]
    [(True, False), (True, False), (False, True)]
    >>> rule.best_epoch, rule.best
    (2, 0.4)
"""

from __future__ import annotations

import math


class BestEpoch:
    """Tracks the best epoch of one run and whether early stopping ends it (module docstring)."""

    def __init__(self, monitor: str = "val_accuracy", min_delta: float = 0.0, patience: int | None = None):
        self.monitor, self.min_delta, self.patience = monitor, float(min_delta), patience
        self.higher = monitor != "val_loss"
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0

    def value_of(self, record) -> float:
        """The monitored value of an `EpochRecord`."""
        return record.val_loss if self.monitor == "val_loss" else record.val_acc

    def _improves(self, v: float) -> bool:
        if not math.isfinite(v):
            return False
        if self.best is None:
            return True
        return v - self.min_delta > self.best if self.higher else v + self.min_delta < self.best

    def update(self, epoch: int, value: float) -> tuple[bool, bool]:
        """``(improved, stop)`` after ``epoch`` reported ``value``."""
        self.wait += 1
        if self._improves(value):
            self.best, self.best_epoch, self.wait = float(value), epoch, 0
            return True, False
        stop = self.patience is not None and self.wait >= max(self.patience, 1)
        return False, stop

    def reason(self) -> str:
        """Why the run stopped, in words, for the run's message."""
        return (f"{self.monitor} did not improve for {self.wait} epochs"
                + (f" (min_delta {self.min_delta:g})" if self.min_delta else "")
                + (f"; best epoch {self.best_epoch}" if self.best_epoch is not None else ""))
