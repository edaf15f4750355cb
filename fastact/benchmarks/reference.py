"""fastact's side of a case: the shared inputs, fastact's initial weights and resolved
parameters that every peer starts from, and fastact's own case."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from fastact.benchmarks.config import N_CLASSES, SGD_LR
from fastact.nn import MLP, SGD, Dense


class Case:
    """``fn()`` runs the operation once; ``outputs()`` returns its results as NumPy arrays."""

    fn: Callable[[], object]

    def outputs(self) -> dict[str, np.ndarray]:  # pragma: no cover - overridden
        raise NotImplementedError


def _inputs(batch: int, n_in: int, n_out: int, seed: int):
    rng = np.random.default_rng(seed + 1)
    x = rng.random((batch, n_in), dtype=np.float32)  # MNIST-like pixels in [0, 1)
    dy = rng.standard_normal((batch, n_out), dtype=np.float32)
    labels = rng.integers(0, N_CLASSES, batch).astype(np.int64)
    return x, dy, labels


def _params_of(act: str, layer) -> dict:
    p = dict(layer.act_params)
    if layer.alpha is not None:
        p["prelu_alpha"] = layer.alpha.copy()  # not "alpha": ELU's parameter has that name
        p["n_alpha"] = layer.alpha.size
    return p


class _FastactCase(Case):
    def __init__(self, op, act, batch, n_in, n_out, seed, act_params, dropout=0.0):
        self.x, self.dy, self.labels = _inputs(batch, n_in, n_out, seed)
        if op == "step":
            self.model = MLP([n_in, n_out, N_CLASSES], act, seed=seed, dropout=dropout, **act_params)
            self.opt = SGD(lr=SGD_LR)
            self.loss = math.nan

            def step():
                total, _ = self.model.train_step(self.x, self.labels, self.opt)
                self.loss = total / batch

            self.fn = step
        else:
            self.layer = Dense(n_in, n_out, act, rng=np.random.default_rng(seed), seed=seed, dropout=dropout,
                               **act_params)
            if op == "forward":
                self.fn = lambda: self.layer.forward(self.x, training=True)
            else:
                self.layer.forward(self.x, training=True)

                def backward():
                    self.dx = self.layer.backward(self.dy)

                self.fn = backward
        self.op = op

    def outputs(self):
        if self.op == "forward":
            return {"y": self.layer.output.copy()}
        if self.op == "backward":
            out = {"dx": self.dx.copy(), "dw": self.layer.dw.copy(),
                   "db": self.layer.db.copy()}
            if self.layer.dalpha is not None:
                out["dalpha"] = self.layer.dalpha.copy()
            return out
        out = {"loss": np.array(self.loss)}
        for i, layer in enumerate(self.model.layers):
            out[f"w{i}"], out[f"b{i}"] = layer.w.copy(), layer.b.copy()
            if layer.alpha is not None:
                out[f"alpha{i}"] = layer.alpha.copy()
        return out


def _reference(op, act, n_in, n_out, seed, act_params):
    """fastact's initial weights (and resolved parameters) for the peers to start from."""
    if op == "step":
        m = MLP([n_in, n_out, N_CLASSES], act, seed=seed, **act_params)
        return [(lyr.w.copy(), lyr.b.copy()) for lyr in m.layers], _params_of(act, m.layers[0])
    layer = Dense(n_in, n_out, act, rng=np.random.default_rng(seed), seed=seed, **act_params)
    return [(layer.w.copy(), layer.b.copy())], _params_of(act, layer)
