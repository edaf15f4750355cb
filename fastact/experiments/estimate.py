"""How long study points take: a cost model, calibrated on this machine or fitted to finished points.

The cost of a point is its multiply-adds: ``epochs * n_train * sum_l n_in_l * n_out_l`` over the
layers (forward; backward is about twice that, evaluation adds a forward pass over the
validation rows each epoch, both proportional, so they fold into the rate).

* `calibrate` (``fastact study --dry-run``): for each distinct (layer sizes, batch size, dtype),
  time `STEPS` training steps of a ReLU network of those sizes on random inputs (after a warm-up
  step, which also compiles or loads the kernels), then a point takes
  ``epochs * (ceil(n_train / B) + n_val / (3 B)) * step + n_test / (3 B) * step`` seconds plus
  `OVERHEAD` (kernel loading, test evaluation). The activation changes a step by up to about
  1.5x (GELU and Mish are the slowest, README's benchmark table), which this ignores.
* `Rate` (the progress bar's ETA): seconds per unit cost from the points finished so far.
"""

from __future__ import annotations

import math
import time

import numpy as np

from fastact.nn import MLP, optim

STEPS = 5
#: seconds per point beyond its epochs: loading the cached kernels, the test evaluation, files
OVERHEAD = 0.5


def sizes_of(config, input_dim: int, n_classes: int) -> list[int]:
    return [input_dim, *config.hidden, n_classes]


def cost(config, n_train: int, input_dim: int = 784, n_classes: int = 10) -> float:
    s = sizes_of(config, input_dim, n_classes)
    return float(config.epochs) * n_train * sum(a * b for a, b in zip(s, s[1:]))


def step_seconds(sizes: list[int], batch: int, dtype: str, threads: int | None = None) -> float:
    """Seconds of one ReLU training step of these sizes (random inputs): the fastest of `STEPS`,
    the machine's speed when nothing else competes for it."""
    model = MLP(sizes, "relu", dtype, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((batch, sizes[0]), dtype=np.float64).astype(model.dtype)
    y = rng.integers(0, sizes[-1], batch)
    opt = optim.get("adam", 1e-3)
    model.train_step(x, y, opt)  # warm-up: compiles or loads the kernels
    times = []
    for _ in range(STEPS):
        t0 = time.perf_counter()
        model.train_step(x, y, opt)
        times.append(time.perf_counter() - t0)
    return float(min(times))


def calibrate(configs, n_train: int, n_val: int, n_test: int, input_dim: int = 784,
              n_classes: int = 10) -> list[float]:
    """Estimated seconds of each config (module docstring), timing each distinct shape once."""
    steps: dict[tuple, float] = {}
    out = []
    for c in configs:
        shape = (tuple(sizes_of(c, input_dim, n_classes)), c.batch_size, c.dtype)
        if shape not in steps:
            steps[shape] = step_seconds(list(shape[0]), c.batch_size, c.dtype)
        step, b = steps[shape], c.batch_size
        per_epoch = (math.ceil(n_train / b) + n_val / (3 * b)) * step
        out.append(c.epochs * per_epoch + n_test / (3 * b) * step + OVERHEAD)
    return out


class Rate:
    """Seconds per unit of `cost`, from the points measured so far."""

    def __init__(self):
        self.seconds = 0.0
        self.cost = 0.0

    def add(self, seconds: float | None, point_cost: float) -> None:
        if seconds is not None and math.isfinite(seconds) and point_cost > 0:
            self.seconds += seconds
            self.cost += point_cost

    def eta(self, remaining_cost: float) -> float | None:
        """Seconds left for ``remaining_cost``, or None before any point was measured."""
        return None if self.cost == 0 else self.seconds / self.cost * remaining_cost
