"""Optimizers: SGD (momentum, Nesterov), Adam and AdamW, with weight decay.

Python classes hold the state and check arguments; the updates run in
`fastact.engine.optim_kernels`. Weight decay applies to parameters flagged
``decay`` (weights); biases and PReLU's slopes are excluded, as He et al.
recommend for PReLU.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from fastact.engine import optim as k
from fastact.errors import SettingsError

#: optimizer names, as users type them
OPTIMIZERS = ("sgd", "adam", "adamw")


@dataclass
class Parameter:
    """A trainable array, its gradient, and whether weight decay applies."""

    name: str
    value: np.ndarray
    grad: np.ndarray
    decay: bool = True


def _check_positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
        raise SettingsError(name, value, "a positive number")
    return float(value)


def _check_range(name: str, value: float, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and lo <= value < hi):
        raise SettingsError(name, value, f"in [{lo}, {hi})")
    return float(value)


@dataclass
class Optimizer:
    lr: float
    weight_decay: float = 0.0
    steps: int = 0
    _state: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.lr = _check_positive("lr", self.lr)
        self.weight_decay = _check_range("weight_decay", self.weight_decay, 0.0, math.inf)

    def _buffers(self, p: Parameter, count: int) -> list[np.ndarray]:
        key = id(p.value)
        if key not in self._state:
            self._state[key] = [np.zeros(p.value.size, p.value.dtype) for _ in range(count)]
        return self._state[key]

    def step(self, params: list[Parameter]) -> None:
        self.steps += 1
        for p in params:
            self._update(p, p.value.reshape(-1), p.grad.reshape(-1), self.weight_decay if p.decay else 0.0)

    def _update(self, p, value, grad, wd):  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class SGD(Optimizer):
    momentum: float = 0.0
    nesterov: bool = False

    def __post_init__(self):
        super().__post_init__()
        self.momentum = _check_range("momentum", self.momentum, 0.0, 1.0)
        if self.nesterov and self.momentum == 0.0:
            raise SettingsError("nesterov", self.nesterov, "used with {momentum} > 0",
                                {"momentum": ("momentum", self.momentum)})

    def _update(self, p, value, grad, wd):
        (v,) = self._buffers(p, 1)
        k.sgd(value, grad, v, self.lr, self.momentum, self.nesterov, wd)


@dataclass
class Adam(Optimizer):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    decoupled: bool = False

    def __post_init__(self):
        super().__post_init__()
        self.beta1 = _check_range("beta1", self.beta1, 0.0, 1.0)
        self.beta2 = _check_range("beta2", self.beta2, 0.0, 1.0)
        self.eps = _check_positive("eps", self.eps)

    def _update(self, p, value, grad, wd):
        m, v = self._buffers(p, 2)
        k.adam(value, grad, m, v, self.lr, self.beta1, self.beta2, self.eps, wd, self.decoupled, self.steps)


def get(name: str, lr: float, weight_decay: float = 0.0, momentum: float = 0.0, nesterov: bool = False) -> Optimizer:
    """Build an optimizer by the name users type: ``sgd``, ``adam`` or ``adamw``."""
    key = name.lower() if isinstance(name, str) else None
    if key == "sgd":
        return SGD(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov)
    if key == "adam":
        return Adam(lr=lr, weight_decay=weight_decay)
    if key == "adamw":
        return Adam(lr=lr, weight_decay=weight_decay, decoupled=True)
    raise SettingsError("optimizer", name, f"one of {', '.join(OPTIMIZERS)}")
