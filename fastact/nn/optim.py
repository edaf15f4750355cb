"""Optimizers: SGD (momentum, Nesterov), Adam and AdamW, with weight decay.

Python classes hold the state and check arguments; the updates run in
`fastact.engine.optim`. Weight decay applies to parameters flagged
``decay`` (weights); biases and PReLU's slopes are excluded, as He et al.
recommend for PReLU.

A step can run two ways, with the same numbers (the same compiled rule kernel):

* fused: `Optimizer.updates` counts the step and returns one `Update` per parameter,
  which `fastact.nn.MLP.train_step` hands to the backward kernels; each applies it to
  its weight-gradient tiles while they are in cache (no second pass over the gradients);
* separate: `Optimizer.step` after the gradients are filled (``Dense.backward`` called
  directly, gradient checks, parameters of your own).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from fastact.engine import optim as k
from fastact.engine.jit import address
from fastact.engine.threads import max_threads
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


@dataclass(frozen=True)
class Update:
    """One parameter's part of a step as the kernels apply it: ``rule(p, g, m, v, hp, ...)``.

    ``rule`` is the compiled rule kernel (`fastact.engine.optim.rule`), ``hp`` this step's
    hyperparameters in the parameter's dtype (weight decay included, 0 when the parameter does
    not decay), ``m``/``v`` the state buffers shaped like the parameter's 2-D view (empty when
    the rule does not use them).
    """

    rule: object
    hp: np.ndarray
    m: np.ndarray
    v: np.ndarray


def as_matrix(a: np.ndarray) -> np.ndarray:
    """The 2-D view the rule kernels update: a 1-D array as one row, (n, ...) as (n, rest)."""
    return a.reshape(1, -1) if a.ndim < 2 else a.reshape(a.shape[0], -1)


def _check_positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
        raise SettingsError(name, value, "a positive number")
    return float(value)


def _check_range(name: str, value: float, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and lo <= value < hi):
        raise SettingsError(name, value, f"in [{lo}, {hi})")
    return float(value)


def _check_array(p: Parameter) -> None:
    v, g = p.value, p.grad
    if v.dtype not in (np.float32, np.float64):
        raise ValueError(f"parameter {p.name} must be float32 or float64. Received: dtype={v.dtype}")
    if g.dtype != v.dtype or g.shape != v.shape:
        raise ValueError(f"the gradient of {p.name} must match its {v.dtype} {v.shape}. "
                         f"Received: dtype={g.dtype}, shape={g.shape}")
    if not (v.flags.c_contiguous and v.flags.writeable and g.flags.c_contiguous):
        raise ValueError(f"parameter {p.name} and its gradient must be C-contiguous and writable. "
                         f"Received: value flags c_contiguous={v.flags.c_contiguous}, "
                         f"writeable={v.flags.writeable}; grad c_contiguous={g.flags.c_contiguous}")


@dataclass
class Optimizer:
    lr: float
    weight_decay: float = 0.0
    steps: int = 0
    _state: dict = field(default_factory=dict, repr=False)
    _rows: dict = field(default_factory=dict, repr=False)  # (decay, dtype) -> this step's hyperparameter row
    _plans: dict = field(default_factory=dict, repr=False)  # parameter identities -> their `Update` s

    #: the engine rule (`fastact.engine.optim.RULES`) and how many state buffers it keeps
    RULE: ClassVar[str] = "none"

    def __post_init__(self):
        self.lr = _check_positive("lr", self.lr)
        self.weight_decay = _check_range("weight_decay", self.weight_decay, 0.0, math.inf)

    def _n_buffers(self) -> int:  # pragma: no cover - overridden
        return 0

    def _row(self, wd: float, dtype) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def _buffers(self, p: Parameter) -> tuple[np.ndarray, np.ndarray]:
        key = id(p.value)
        if key not in self._state:
            shape, dt = as_matrix(p.value).shape, p.value.dtype
            n = self._n_buffers()
            self._state[key] = tuple(np.zeros(shape if i < n else (1, 0), dt) for i in range(2))
        return self._state[key]

    def updates(self, params: list[Parameter]) -> list[Update]:
        """Count one step and return each parameter's `Update` for it (the fused path).

        The list is built once per set of parameters and reused; its hyperparameter rows are
        refilled in place every step (from the current ``lr`` etc., so a schedule that changes
        them between steps applies), so an `Update` holds for the step it was returned for.
        """
        self.steps += 1
        key = tuple(id(p.value) for p in params)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = [self._update_of(p) for p in params]
        for (wd, dt), row in self._rows.items():
            row[...] = self._row(wd, dt)
        return plan

    def _update_of(self, p: Parameter) -> Update:
        wd = self.weight_decay if p.decay else 0.0
        dt = p.value.dtype
        if (wd, dt) not in self._rows:
            self._rows[wd, dt] = self._row(wd, dt)
        m, v = self._buffers(p)
        return Update(k.rule(self.RULE, dt), self._rows[wd, dt], m, v)

    def step(self, params: list[Parameter]) -> None:
        """One update of every parameter from its filled gradient (the separate path)."""
        for p in params:
            _check_array(p)
        parts = max_threads()
        for p, u in zip(params, self.updates(params)):
            k.apply(as_matrix(p.value), as_matrix(p.grad), u.m, u.v, u.hp, address(u.rule), parts)


@dataclass
class SGD(Optimizer):
    momentum: float = 0.0
    nesterov: bool = False

    RULE: ClassVar[str] = "sgd"

    def __post_init__(self):
        super().__post_init__()
        self.momentum = _check_range("momentum", self.momentum, 0.0, 1.0)
        if self.nesterov and self.momentum == 0.0:
            raise SettingsError("nesterov", self.nesterov, "used with {momentum} > 0",
                                {"momentum": ("momentum", self.momentum)})

    def _n_buffers(self) -> int:
        return 1 if self.momentum != 0.0 else 0

    def _row(self, wd, dtype):
        return k.sgd_row(self.lr, self.momentum, self.nesterov, wd, dtype)


@dataclass
class Adam(Optimizer):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    decoupled: bool = False

    RULE: ClassVar[str] = "adam"

    def __post_init__(self):
        super().__post_init__()
        self.beta1 = _check_range("beta1", self.beta1, 0.0, 1.0)
        self.beta2 = _check_range("beta2", self.beta2, 0.0, 1.0)
        self.eps = _check_positive("eps", self.eps)

    def _n_buffers(self) -> int:
        return 2

    def _row(self, wd, dtype):
        return k.adam_row(self.lr, self.beta1, self.beta2, self.eps, self.steps, self.decoupled, wd, dtype)


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
