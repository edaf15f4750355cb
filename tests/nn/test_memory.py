"""fastact.nn.memory: the estimate against what NumPy really allocates (tracemalloc), and the refusals.

tracemalloc sees every NumPy buffer, so its peak while a model is built, trains a step and
evaluates is an independent measurement of what `estimate_memory` predicts. The estimate must
never be below it (a refusal must come before a real shortage) and may exceed it only by the
per-layer allowance for Python objects and NumPy's small-temporary slack.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from fastact.errors import SettingsError
from fastact.nn import MLP, SGD, Adam, warm_up
from fastact.nn.memory import LAYER_OVERHEAD, MemoryBudgetError, check_memory, estimate_memory
from fastact.resources import ResourceError, set_memory_budget


def measured_peak(sizes, batch, act, optimizer, dtype, prelu, n_eval) -> int:
    warm_up(act, dtype)  # kernels compiled or loaded first: their one-time objects are not the model's
    rng = np.random.default_rng(0)
    x = rng.random((batch, sizes[0])).astype(dtype)
    labels = rng.integers(0, sizes[-1], batch)
    x_eval, y_eval = np.zeros((n_eval, sizes[0]), dtype), np.zeros(n_eval, np.int64)
    tracemalloc.start()
    try:
        model = MLP(sizes, act, dtype, prelu=prelu)
        if optimizer is not None:
            opt = Adam(lr=1e-3) if optimizer == "adam" else SGD(lr=1e-3, momentum=0.9)
            model.train_step(x, labels, opt)
        if n_eval:
            model.evaluate(x_eval, y_eval)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


CASES = [
    ([784, 512, 10], 128, "relu", "adam", "float32", "unit", 0),
    ([784, 512, 10], 128, "prelu", "sgd", "float32", "unit", 0),
    ([100, 50, 40, 30, 10], 7, "prelu", "adam", "float64", "shared", 3000),
    ([64, 33, 5], 1, "rrelu", "sgd", "float32", "unit", 700),
    ([784, 2048, 10], 1, "relu", "adam", "float32", "unit", 0),
    ([784, 4096, 10], 0, "relu", None, "float32", "unit", 0),  # built only: the initialiser's peak dominates
    ([100, 1024, 1024, 10], 0, "sigmoid", None, "float64", "unit", 0),
]


@pytest.mark.parametrize("sizes, batch, act, optimizer, dtype, prelu, n_eval", CASES,
                         ids=[f"{'-'.join(map(str, c[0]))}-b{c[1]}-{c[2]}-{c[3]}-{c[4]}" for c in CASES])
def test_the_estimate_bounds_what_numpy_allocates(sizes, batch, act, optimizer, dtype, prelu, n_eval):
    peak = measured_peak(sizes, batch, act, optimizer, dtype, prelu, n_eval)
    est = estimate_memory(sizes, batch, dtype, optimizer, act, prelu, eval_batch=min(n_eval, 1024))
    slack = LAYER_OVERHEAD * (len(sizes) - 1) + (256 << 10) + peak // 100
    assert peak <= est.total <= peak + slack, (peak, est)


def test_the_parts():
    est = estimate_memory([10, 20, 5], batch=4, dtype="float64", optimizer="sgd", act="prelu", prelu="shared")
    s = 8
    # w, b, the per-unit alpha copy, and the shared alpha (hidden layer only)
    assert est.weights == s * (10 * 20 + 2 * 20 + 1) + s * (20 * 5 + 2 * 5)
    assert est.gradients == est.weights
    assert est.optimizer == s * (10 * 20 + 20 + 1) + s * (20 * 5 + 5)  # one momentum buffer per trainable array
    tiles = 1  # ceil(4 / EPI_ROWS) partial-sum rows
    assert est.workspace == s * (3 * 4 * 20 + 4 * 10 + 2 * tiles * 20) + s * (3 * 4 * 5 + 4 * 20 + 2 * tiles * 5) \
        + 4 * (s * 5 + 8 + 1)
    assert est.plus_data(100).total == est.total + 100
    assert est.describe() == ("weights 2.74 KiB + gradients 2.74 KiB + optimizer state 2.55 KiB + workspace 3.86 KiB "
                              "+ Python objects 32.0 KiB")


def test_check_memory_is_a_settings_error_and_a_resource_error():
    est = estimate_memory([784, 100_000, 10], 128, optimizer="adam")
    set_memory_budget("1G", source="--memory-budget 1G")
    try:
        with pytest.raises(MemoryBudgetError) as info:
            check_memory(est, "an MLP", "hidden", (100_000,), "use fewer or narrower hidden layers")
    finally:
        set_memory_budget(None)
    exc = info.value
    assert isinstance(exc, SettingsError) and isinstance(exc, ResourceError) and exc.field == "hidden"
    assert exc.render(lambda f: "--" + f) == (
        f"--hidden must be within the memory budget: an MLP ({est.describe()}) needs an estimated 1.38 GiB, more "
        "than the memory budget of 1.00 GiB (--memory-budget 1G); use fewer or narrower hidden layers, or raise "
        "the budget with --memory-budget SIZE or FASTACT_MEMORY_BUDGET=SIZE (e.g. 16G, or 90%). "
        "Received: hidden=(100000,)")


def test_a_model_within_the_budget_is_built(monkeypatch):
    monkeypatch.setenv("FASTACT_MEMORY_BUDGET", "64M")
    assert len(MLP([784, 512, 10]).layers) == 2
    with pytest.raises(MemoryBudgetError, match="Received: sizes=\\[784, 8192, 10\\]"):
        MLP([784, 8192, 10])
