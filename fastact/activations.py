"""The activation table: one entry per activation, the single source of truth.

Each entry holds the scalar formula and its derivative as inlinable Numba functions (the
fused kernels in `fastact.engine.dense` are specialised on them), its parameters with
defaults, rules and option names, and the initialisation it wants. The CLI's ``--act``
choices and parameter flags, the sweep targets, the TUI's checklist and fields, the tests
and the benchmarks are all generated from :data:`ACTIVATIONS`; adding an activation means
one ``_register(...)`` call here (the independent references that must cover it are listed
by `tests/test_activation_tables.py`, which fails naming any table that lacks it).

Scalar signature shared by every entry (``z`` pre-activation, ``y`` output):

* ``forward(z, alpha, c, u) -> y``
* ``backward(z, y, alpha, c, u) -> dy/dz``
* ``param_grad(z, y, alpha, c, u) -> dy/dalpha`` (only an entry with a learnable parameter)

``alpha`` is the unit's value of the entry's one learnable parameter (PReLU's slope; 0 for
entries without one), ``c`` the tuple of its constant parameters in declared order (in the
model's dtype, at least one element), and ``u`` a uniform number in [0, 1) drawn per element
for random entries (RReLU) while training, 0.5 otherwise, so that evaluation uses the
midpoint slope. Every literal goes through ``fm.same(z, ...)`` so that float32 runs compute in
float32 end to end (a Python float literal would promote the expression to float64, and the
elementary functions dispatch on their argument's type: `fastact.engine.mathfn`). Kinks follow
PyTorch: the derivative at ``z = 0`` is the left one
(relu'(0) = 0, leaky_relu'(0) = negative_slope).

Example:
    >>> get("leaky_relu").resolve(negative_slope=0.1)
    {'negative_slope': 0.1}
    >>> get("rrelu").constants({"lower": 0.1, "upper": 0.3})
    (0.1, 0.3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fastact.engine import mathfn as fm
from fastact.engine.jit import scalar
from fastact.errors import SettingsError

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_SQRT_2_OVER_PI = 0.7978845608028654
_INV_SQRT_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
_GELU_C = 0.044715
#: the text the built-in entries' scalar code comes from (part of their kernels' cache key)
_SOURCE = Path(__file__).read_text()


def _as_float(value) -> float | None:
    """``value`` as a float if it is a real number (NumPy scalars included), else None."""
    if isinstance(value, (bool, str, bytes)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _finite(v: float) -> bool:
    return math.isfinite(v)


def _nonneg(v: float) -> bool:
    return math.isfinite(v) and v >= 0


def _positive(v: float) -> bool:
    return math.isfinite(v) and v > 0


@dataclass(frozen=True)
class Param:
    """One user-facing activation parameter.

    ``option`` is the name users type for it: ``--<option>`` on the command line and the
    sweep target ``<option>`` (default ``<activation>-<name>``, e.g. ``elu-alpha``).
    """

    name: str
    default: float
    check: Callable[[float], bool] = _finite
    rule: str = "a finite number"
    help: str = ""
    option: str | None = None


@dataclass(frozen=True)
class Constraint:
    """A rule over several parameters: ``check(params)`` must hold, else ``field`` breaks ``rule``.

    ``rule`` names the other parameters as ``{name}`` placeholders (see `fastact.errors`).
    """

    check: Callable[[dict], bool]
    field: str
    rule: str


@dataclass(frozen=True)
class Activation:
    """One row of the activation table (see the module docstring)."""

    name: str
    formula: str
    forward: Callable
    backward: Callable
    params: tuple[Param, ...] = ()
    init: str = "he"  # "he" (ReLU family), "glorot" (saturating) or "lecun" (SELU)
    group: str = "seed"  # "seed": the original experiment's seven; "extra"; "custom" (defined)
    learnable: str | None = None  # the parameter trained per unit or shared (PReLU's "init" slope)
    random: bool = False  # RReLU: `u` is sampled per element while training
    param_grad: Callable | None = None
    constraints: tuple[Constraint, ...] = ()
    source: str = ""  # the text its scalar code is generated from: part of its kernels' cache key

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        valid = ", ".join(p.name for p in self.params)
        raise SettingsError("act_params", name, f"a parameter of {self.name} ({valid or 'which has none'})")

    def option(self, name: str) -> str:
        """The name users type for parameter ``name``: ``negative-slope``, ``rrelu-lower``, ``elu-alpha``."""
        p = self.param(name)
        return p.option or f"{self.name}-{p.name}".replace("_", "-")

    def resolve(self, **overrides) -> dict[str, float]:
        """Defaults updated with ``overrides`` (None: keep the default), each checked.

        Raises:
            SettingsError: an unknown parameter, a value breaking its rule, or a broken
                constraint; the field is ``"<activation>.<parameter>"``.
        """
        out = self.defaults
        for key, value in overrides.items():
            if value is None:
                continue
            if key not in (valid := {p.name: p for p in self.params}):
                raise SettingsError(f"{self.name}.{key}", value,
                                    f"a parameter of {self.name} ({', '.join(valid) or 'which has none'})")
            p = valid[key]
            number = _as_float(value)
            if number is None or not p.check(number):
                raise SettingsError(f"{self.name}.{key}", value, p.rule)
            out[key] = number
        for rule in self.constraints:
            if not rule.check(out):
                others = {n: (f"{self.name}.{n}", out[n]) for n in out if "{" + n + "}" in rule.rule}
                raise SettingsError(f"{self.name}.{rule.field}", out[rule.field], rule.rule, others)
        return out

    def constants(self, params: dict[str, float]) -> tuple[float, ...]:
        """The kernels' ``c``: the non-learnable parameters in declared order (``(0.0,)`` if none)."""
        return tuple(params[p.name] for p in self.params if p.name != self.learnable) or (0.0,)


ACTIVATIONS: dict[str, Activation] = {}


def _register(act: Activation) -> None:
    if act.name in ACTIVATIONS:
        raise ValueError(f"activation {act.name!r} is already defined")
    ACTIVATIONS[act.name] = act


def get(name: str) -> Activation:
    """Look an activation up by the name users type (``get("leaky_relu")``, ``get("Leaky-ReLU")``)."""
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key not in ACTIVATIONS:
        raise SettingsError("act", name, f"one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[key]


GROUPS = ("seed", "extra", "every")


def names(group: str = "every") -> list[str]:
    """Names in table order: ``"seed"`` (the experiment's seven), ``"extra"`` or ``"every"``."""
    if group not in GROUPS:
        raise SettingsError("group", group, f"one of {', '.join(GROUPS)}")
    return [n for n, a in ACTIVATIONS.items() if group == "every" or a.group == group]


def expand(given) -> list[str]:
    """Activation names from what users type: names, ``all`` or ``seed`` (the seed's seven),
    ``extra`` (the others) or ``every``, separated by spaces and/or commas, in the order given,
    without repeats."""
    items = [given] if isinstance(given, str) else list(given)
    out: list[str] = []
    for item in items:
        for word in str(item).replace(",", " ").split():
            group = {"all": "seed", "seed": "seed", "extra": "extra", "every": "every"}.get(word.lower())
            for n in names(group) if group else [get(word).name]:
                if n not in out:
                    out.append(n)
    return out


def _builtin(name, formula, forward, backward, **kw) -> None:
    _register(Activation(name, formula, forward, backward, source=_SOURCE, **kw))


# ---- linear ---------------------------------------------------------------
@scalar
def _linear(z, alpha, c, u):
    return z


@scalar
def _linear_d(z, y, alpha, c, u):
    return fm.same(z, 1.0)


_builtin("linear", "y = z", _linear, _linear_d, init="glorot")


# ---- softplus (PyTorch semantics: beta, threshold) -------------------------
@scalar
def _softplus(z, alpha, c, u):
    bz = c[0] * z
    # Above the threshold log(1 + e^bz) == bz to working precision (PyTorch's rule).
    return z if bz > c[1] else fm.softplus(bz) / c[0]


@scalar
def _softplus_d(z, y, alpha, c, u):
    bz = c[0] * z
    return fm.same(z, 1.0) if bz > c[1] else fm.sigmoid(bz)


_builtin("softplus", "y = log(1 + exp(beta*z)) / beta  (y = z where beta*z > threshold)",
         _softplus, _softplus_d,
         params=(Param("beta", 1.0, _positive, "> 0"), Param("threshold", 20.0, _positive, "> 0")))


# ---- sigmoid -------------------------------------------------------------
@scalar
def _sigmoid(z, alpha, c, u):
    return fm.sigmoid(z)


@scalar
def _sigmoid_d(z, y, alpha, c, u):
    # From the output: one multiply instead of another exp.
    return y * (fm.same(y, 1.0) - y)


_builtin("sigmoid", "y = 1 / (1 + exp(-z))", _sigmoid, _sigmoid_d, init="glorot")


# ---- ReLU family -----------------------------------------------------------
@scalar
def _relu(z, alpha, c, u):
    return z if z > 0 else fm.same(z, 0.0) * z


@scalar
def _relu_d(z, y, alpha, c, u):
    return fm.same(z, 1.0) if z > 0 else fm.same(z, 0.0)


_builtin("relu", "y = max(z, 0)", _relu, _relu_d)


@scalar
def _leaky(z, alpha, c, u):
    return z if z > 0 else c[0] * z


@scalar
def _leaky_d(z, y, alpha, c, u):
    return fm.same(z, 1.0) if z > 0 else c[0]


_builtin("leaky_relu", "y = z if z > 0 else negative_slope * z", _leaky, _leaky_d,
         params=(Param("negative_slope", 0.3, _nonneg, ">= 0", "slope for z < 0 (Keras's layer default 0.3)",
                       option="negative-slope"),))


@scalar
def _prelu(z, alpha, c, u):
    return z if z > 0 else alpha * z


@scalar
def _prelu_d(z, y, alpha, c, u):
    return fm.same(z, 1.0) if z > 0 else alpha


@scalar
def _prelu_dalpha(z, y, alpha, c, u):
    return fm.same(z, 0.0) if z > 0 else z


_builtin("prelu", "y = z if z > 0 else alpha * z, alpha learned (per unit or shared)", _prelu, _prelu_d,
         params=(Param("init", 0.25, _finite, "a finite number", "initial alpha (He et al. 2015)"),),
         learnable="init", param_grad=_prelu_dalpha)


@scalar
def _rrelu(z, alpha, c, u):
    return z if z > 0 else (c[0] + (c[1] - c[0]) * u) * z


@scalar
def _rrelu_d(z, y, alpha, c, u):
    return fm.same(z, 1.0) if z > 0 else c[0] + (c[1] - c[0]) * u


_builtin("rrelu",
         "y = z if z > 0 else r * z,  r ~ U(lower, upper) per element in training, (lower + upper) / 2 in evaluation",
         _rrelu, _rrelu_d,
         params=(Param("lower", 1.0 / 8, _nonneg, ">= 0", option="rrelu-lower"),
                 Param("upper", 1.0 / 3, _nonneg, ">= 0", option="rrelu-upper")),
         constraints=(Constraint(lambda p: p["lower"] <= p["upper"], "lower", "<= {upper}"),),
         random=True)


# ---- beyond the original experiment ------------------------------------------
@scalar
def _tanh(z, alpha, c, u):
    return fm.tanh(z)


@scalar
def _tanh_d(z, y, alpha, c, u):
    return fm.same(y, 1.0) - y * y


_builtin("tanh", "y = tanh(z)", _tanh, _tanh_d, init="glorot", group="extra")


@scalar
def _elu(z, alpha, c, u):
    return z if z > 0 else c[0] * fm.expm1(z)


@scalar
def _elu_d(z, y, alpha, c, u):
    return fm.same(z, 1.0) if z > 0 else c[0] * fm.exp(z)


_builtin("elu", "y = z if z > 0 else alpha * (exp(z) - 1)", _elu, _elu_d,
         params=(Param("alpha", 1.0, _nonneg, ">= 0"),), group="extra")


@scalar
def _selu(z, alpha, c, u):
    return fm.same(z, _SELU_SCALE) * (z if z > 0 else fm.same(z, _SELU_ALPHA) * fm.expm1(z))


@scalar
def _selu_d(z, y, alpha, c, u):
    return fm.same(z, _SELU_SCALE) * (fm.same(z, 1.0) if z > 0 else fm.same(z, _SELU_ALPHA) * fm.exp(z))


_builtin("selu", "y = scale * (z if z > 0 else alpha * (exp(z) - 1)), alpha = 1.6733, scale = 1.0507",
         _selu, _selu_d, init="lecun", group="extra")


@scalar
def _gelu(z, alpha, c, u):
    return fm.same(z, 0.5) * z * (fm.same(z, 1.0) + fm.erf(z * fm.same(z, _INV_SQRT_2)))


@scalar
def _gelu_d(z, y, alpha, c, u):
    h = fm.same(z, 0.5)
    cdf = h * (fm.same(z, 1.0) + fm.erf(z * fm.same(z, _INV_SQRT_2)))
    return cdf + z * fm.same(z, _INV_SQRT_2PI) * fm.exp(-h * z * z)


_builtin("gelu", "y = z * Phi(z) = 0.5 z (1 + erf(z / sqrt 2))", _gelu, _gelu_d, group="extra")


@scalar
def _gelu_tanh(z, alpha, c, u):
    # 0.5 (1 + tanh(v)) = sigmoid(2v): the same function without 1 + tanh's cancellation for v << 0
    # (in float32 it cost 1.2x the derivative's tolerance at z = -5.07).
    return z * fm.sigmoid(fm.same(z, 2 * _SQRT_2_OVER_PI) * (z + fm.same(z, _GELU_C) * z * z * z))


@scalar
def _gelu_tanh_d(z, y, alpha, c, u):
    s = fm.sigmoid(fm.same(z, 2 * _SQRT_2_OVER_PI) * (z + fm.same(z, _GELU_C) * z * z * z))
    one = fm.same(z, 1.0)
    return s + z * s * (one - s) * fm.same(z, 2 * _SQRT_2_OVER_PI) * (one + fm.same(z, 3 * _GELU_C) * z * z)


_builtin("gelu_tanh", "y = 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))", _gelu_tanh, _gelu_tanh_d,
         group="extra")


@scalar
def _silu(z, alpha, c, u):
    return z * fm.sigmoid(z)


@scalar
def _silu_d(z, y, alpha, c, u):
    s = fm.sigmoid(z)
    one = fm.same(z, 1.0)
    return s * (one + z * (one - s))


_builtin("silu", "y = z * sigmoid(z)", _silu, _silu_d, group="extra")


@scalar
def _mish(z, alpha, c, u):
    return z * fm.tanh(fm.softplus(z))


@scalar
def _mish_d(z, y, alpha, c, u):
    t = fm.tanh(fm.softplus(z))
    return t + z * (fm.same(z, 1.0) - t * t) * fm.sigmoid(z)


_builtin("mish", "y = z * tanh(softplus(z))", _mish, _mish_d, group="extra")
