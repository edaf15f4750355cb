"""Plain-Python evaluation of a formula tree, in float64, for references and checks.

Two function tables:

* :data:`LIBM`: NumPy/SciPy's own functions (``np.exp``, ``scipy.special.expit``,
  ``np.logaddexp``, ...): the slow, obviously-correct reference the tests compare
  the generated kernels against.
* :data:`KERNEL`: the functions the generated kernels call (``fastact.engine.mathfn``,
  whose exp clamps its input to +-700): used by the definition-time overflow check,
  so it sees what the kernels will compute.

Arithmetic runs on ``np.float64`` with floating-point errors silenced, so it
follows IEEE rules as the kernels do (1/0 = inf, log(-1) = nan, (-8)**(1/3) =
nan) instead of raising as Python floats would. ``where`` evaluates only the
branch its condition selects (the other one cannot affect the result).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from scipy import special

from fastact.formula import tree as t

_F = np.float64


def _lib_softplus(x):
    return np.logaddexp(_F(0.0), x)


LIBM: dict[str, Callable] = {
    "exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt, "abs": np.abs,
    "tanh": np.tanh, "sigmoid": special.expit, "softplus": _lib_softplus, "erf": special.erf,
}


def _kernel_table() -> dict[str, Callable]:
    from fastact.engine import mathfn as fm

    def wrap(f):
        return lambda x: _F(f(float(x)))

    table = dict(LIBM)
    table.update({name: wrap(getattr(fm, name)) for name in ("exp", "expm1", "tanh", "sigmoid", "softplus", "erf")})
    return table


class _Lazy(dict):
    """The kernel table, built on first use (importing mathfn loads its compiled code)."""

    def __missing__(self, key):
        self.update(_kernel_table())
        return dict.__getitem__(self, key)


KERNEL: Mapping[str, Callable] = _Lazy()

_BINARY = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "**": lambda a, b: a ** b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def evaluate(node: t.Node, env: Mapping[str, float], table: Mapping[str, Callable],
             visit: Callable[[t.Node, object], None] | None = None):
    """Value of ``node`` with names from ``env`` (``pi`` is built in), functions from ``table``.

    ``visit(node, value)`` is called for every numeric node evaluated, children
    before parents, so the first bad value it sees belongs to the innermost culprit.
    """
    with np.errstate(all="ignore"):
        return _eval(node, env, table, visit)


def _eval(node, env, table, visit):
    if isinstance(node, t.Num):
        v = _F(node.value.numerator) / _F(node.value.denominator)
    elif isinstance(node, t.Name):
        v = _F(np.pi) if node.id == "pi" else _F(env[node.id])
    elif isinstance(node, t.Neg):
        v = -_eval(node.arg, env, table, visit)
    elif isinstance(node, t.Not):
        return not _eval(node.arg, env, table, visit)
    elif isinstance(node, t.Logic):
        a = _eval(node.left, env, table, visit)
        b = _eval(node.right, env, table, visit)
        return bool(a and b) if node.op == "and" else bool(a or b)
    elif isinstance(node, t.Compare):
        return bool(_BINARY[node.op](_eval(node.left, env, table, visit), _eval(node.right, env, table, visit)))
    elif isinstance(node, t.BinOp):
        v = _F(_BINARY[node.op](_eval(node.left, env, table, visit), _eval(node.right, env, table, visit)))
    elif node.fn == "where":
        cond = _eval(node.args[0], env, table, visit)
        v = _eval(node.args[1] if cond else node.args[2], env, table, visit)
    else:
        args = [_eval(a, env, table, visit) for a in node.args]
        v = _F(_call(node.fn, args, table))
    if visit is not None:
        visit(node, v)
    return v


def _call(fn: str, args: list, table: Mapping[str, Callable]):
    if fn == "max":
        return max(args[1], args[0])
    if fn == "min":
        return min(args[1], args[0])
    if fn == "clip":
        x, lo, hi = args
        return min(max(x, lo), hi)
    return table[fn](args[0])
