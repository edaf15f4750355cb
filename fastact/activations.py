"""The activation table: one entry per activation, the single source of truth.

Each entry holds the scalar formula and its derivative as inlinable Numba
functions (the fused kernels in `fastact.engine.dense` are specialised on them), its parameters with defaults and validity checks, and the
initialisation it wants. The fused kernels (`fastact.engine.dense`), the CLI's
``--act`` choices, the TUI's checklist, the tests and the benchmarks are all
generated from :data:`ACTIVATIONS`. Adding an activation means adding one
``_register(...)`` call here.

Scalar signature shared by every entry (``z`` pre-activation, ``y`` output):

* ``forward(z, a, b, u) -> y``
* ``backward(z, y, a, b, u) -> dy/dz``
* ``param_grad(z, y, a, b, u) -> dy/da`` (only learnable entries use it)

``a`` is a per-unit parameter (PReLU's learned slope, or a constant filled per
unit), ``b`` a scalar parameter, ``u`` a uniform number in [0, 1) drawn
per element for random entries (RReLU) while training, and 0.5 otherwise, so
that evaluation uses the midpoint slope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from fastact._jit import scalar
from fastact.engine import mathfn as fm

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_SQRT_2_OVER_PI = 0.7978845608028654
_INV_SQRT_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
_GELU_C = 0.044715


@dataclass(frozen=True)
class Param:
    """One user-facing activation parameter."""

    name: str
    default: float
    check: Callable[[float], bool] = lambda v: math.isfinite(v)
    rule: str = "a finite number"
    help: str = ""


@dataclass(frozen=True)
class Activation:
    """One row of the activation table (see the module docstring)."""

    name: str
    formula: str
    forward: Callable
    backward: Callable
    params: tuple[Param, ...] = ()
    init: str = "he"  # "he" (ReLU family) or "glorot" (saturating)
    group: str = "seed"  # "seed": the original experiment's seven; "extra"
    learnable: bool = False  # PReLU: `a` is a trained per-unit slope
    random: bool = False  # RReLU: `u` is sampled per element while training
    param_grad: Callable | None = None
    pack: Callable[[dict], tuple[float, float]] = lambda p: (0.0, 0.0)
    code: int = field(default=-1)

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def resolve(self, **overrides) -> dict[str, float]:
        """Defaults updated with ``overrides``, each checked; raises ValueError naming the bad value."""
        valid = {p.name: p for p in self.params}
        out = self.defaults
        for key, value in overrides.items():
            if value is None:
                continue
            if key not in valid:
                choices = ", ".join(valid) or "none"
                raise ValueError(
                    f"{self.name} has no parameter {key!r} (valid: {choices}). Received: {key}={value!r}"
                )
            value = float(value)
            if not valid[key].check(value):
                raise ValueError(f"{self.name}: {key} must be {valid[key].rule}. Received: {key}={value!r}")
            out[key] = value
        if self.name == "rrelu" and out["lower"] > out["upper"]:
            raise ValueError(
                f"rrelu: lower must be <= upper. Received: lower={out['lower']!r}, upper={out['upper']!r}"
            )
        return out


ACTIVATIONS: dict[str, Activation] = {}


def _register(act: Activation) -> None:
    object.__setattr__(act, "code", len(ACTIVATIONS))
    ACTIVATIONS[act.name] = act


def get(name: str) -> Activation:
    """Look an activation up by the name users type (``get("leaky_relu")``)."""
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}. Received: act={name!r}. Valid: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[key]


def names(group: str = "every") -> list[str]:
    """Names in table order: ``"seed"`` (the experiment's seven), ``"extra"`` or ``"every"``."""
    if group not in ("seed", "extra", "every"):
        raise ValueError(f"group must be 'seed', 'extra' or 'every'. Received: group={group!r}")
    return [n for n, a in ACTIVATIONS.items() if group == "every" or a.group == group]


def _nonneg(v: float) -> bool:
    return math.isfinite(v) and v >= 0


def _positive(v: float) -> bool:
    return math.isfinite(v) and v > 0


# ---- linear ---------------------------------------------------------------
@scalar
def _linear(z, a, b, u):
    return z


@scalar
def _linear_d(z, y, a, b, u):
    return 1.0


_register(Activation("linear", "y = z", _linear, _linear_d, init="glorot"))


# ---- softplus (PyTorch semantics: beta, threshold) -------------------------
@scalar
def _softplus(z, a, b, u):
    bz = a * z
    # Above the threshold log(1 + e^bz) == bz to working precision (PyTorch's rule).
    return z if bz > b else fm.softplus(bz) / a


@scalar
def _softplus_d(z, y, a, b, u):
    bz = a * z
    return 1.0 if bz > b else fm.sigmoid(bz)


_register(Activation(
    "softplus", "y = log(1 + exp(beta*z)) / beta  (y = z where beta*z > threshold)",
    _softplus, _softplus_d,
    params=(Param("beta", 1.0, _positive, "> 0"), Param("threshold", 20.0, _positive, "> 0")),
    init="he", pack=lambda p: (p["beta"], p["threshold"]),
))


# ---- sigmoid -------------------------------------------------------------
@scalar
def _sigmoid(z, a, b, u):
    return fm.sigmoid(z)


@scalar
def _sigmoid_d(z, y, a, b, u):
    # From the output: one multiply instead of another exp.
    return y * (1.0 - y)


_register(Activation("sigmoid", "y = 1 / (1 + exp(-z))", _sigmoid, _sigmoid_d, init="glorot"))


# ---- ReLU family -----------------------------------------------------------
@scalar
def _relu(z, a, b, u):
    return z if z > 0 else 0.0 * z


@scalar
def _relu_d(z, y, a, b, u):
    return 1.0 if z > 0 else 0.0


_register(Activation("relu", "y = max(z, 0)", _relu, _relu_d))


@scalar
def _leaky(z, a, b, u):
    return z if z > 0 else a * z


@scalar
def _leaky_d(z, y, a, b, u):
    return 1.0 if z > 0 else a


@scalar
def _leaky_da(z, y, a, b, u):
    return 0.0 if z > 0 else z


_register(Activation(
    "leaky_relu", "y = z if z > 0 else negative_slope * z", _leaky, _leaky_d,
    params=(Param("negative_slope", 0.3, _nonneg, ">= 0", "slope for z < 0 (Keras's layer default 0.3)"),),
    pack=lambda p: (p["negative_slope"], 0.0),
))

_register(Activation(
    "prelu", "y = z if z > 0 else alpha * z, alpha learned (per unit or shared)", _leaky, _leaky_d,
    params=(Param("init", 0.25, math.isfinite, "a finite number", "initial alpha (He et al. 2015)"),),
    learnable=True, param_grad=_leaky_da, pack=lambda p: (p["init"], 0.0),
))


@scalar
def _rrelu(z, a, b, u):
    return z if z > 0 else (a + (b - a) * u) * z


@scalar
def _rrelu_d(z, y, a, b, u):
    return 1.0 if z > 0 else a + (b - a) * u


_register(Activation(
    "rrelu",
    "y = z if z > 0 else r * z,  r ~ U(lower, upper) per element in training, (lower + upper) / 2 in evaluation",
    _rrelu, _rrelu_d,
    params=(Param("lower", 1.0 / 8, _nonneg, ">= 0"), Param("upper", 1.0 / 3, _nonneg, ">= 0")),
    random=True, pack=lambda p: (p["lower"], p["upper"]),
))


# ---- beyond the original experiment ------------------------------------------
@scalar
def _tanh(z, a, b, u):
    return fm.tanh(z)


@scalar
def _tanh_d(z, y, a, b, u):
    return 1.0 - y * y


_register(Activation("tanh", "y = tanh(z)", _tanh, _tanh_d, init="glorot", group="extra"))


@scalar
def _elu(z, a, b, u):
    return z if z > 0 else a * fm.expm1(z)


@scalar
def _elu_d(z, y, a, b, u):
    return 1.0 if z > 0 else a * fm.exp(z)


_register(Activation(
    "elu", "y = z if z > 0 else alpha * (exp(z) - 1)", _elu, _elu_d,
    params=(Param("alpha", 1.0, _nonneg, ">= 0"),), group="extra", pack=lambda p: (p["alpha"], 0.0),
))


@scalar
def _selu(z, a, b, u):
    return _SELU_SCALE * (z if z > 0 else _SELU_ALPHA * fm.expm1(z))


@scalar
def _selu_d(z, y, a, b, u):
    return _SELU_SCALE * (1.0 if z > 0 else _SELU_ALPHA * fm.exp(z))


_register(Activation(
    "selu", "y = scale * (z if z > 0 else alpha * (exp(z) - 1)), alpha = 1.6733, scale = 1.0507",
    _selu, _selu_d, init="lecun", group="extra",
))


@scalar
def _gelu(z, a, b, u):
    return 0.5 * z * (1.0 + fm.erf(z * _INV_SQRT_2))


@scalar
def _gelu_d(z, y, a, b, u):
    return 0.5 * (1.0 + fm.erf(z * _INV_SQRT_2)) + z * _INV_SQRT_2PI * fm.exp(-0.5 * z * z)


_register(Activation("gelu", "y = z * Phi(z) = 0.5 z (1 + erf(z / sqrt 2))", _gelu, _gelu_d, group="extra"))


@scalar
def _gelu_tanh(z, a, b, u):
    return 0.5 * z * (1.0 + fm.tanh(_SQRT_2_OVER_PI * (z + _GELU_C * z * z * z)))


@scalar
def _gelu_tanh_d(z, y, a, b, u):
    t = fm.tanh(_SQRT_2_OVER_PI * (z + _GELU_C * z * z * z))
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * z * z)


_register(Activation(
    "gelu_tanh", "y = 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))", _gelu_tanh, _gelu_tanh_d, group="extra",
))


@scalar
def _silu(z, a, b, u):
    return z * fm.sigmoid(z)


@scalar
def _silu_d(z, y, a, b, u):
    s = fm.sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


_register(Activation("silu", "y = z * sigmoid(z)", _silu, _silu_d, group="extra"))


@scalar
def _mish(z, a, b, u):
    return z * fm.tanh(fm.softplus(z))


@scalar
def _mish_d(z, y, a, b, u):
    t = fm.tanh(fm.softplus(z))
    return t + z * (1.0 - t * t) * fm.sigmoid(z)


_register(Activation("mish", "y = z * tanh(softplus(z))", _mish, _mish_d, group="extra"))

