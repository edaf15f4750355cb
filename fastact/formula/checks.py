"""Definition-time checks of a formula and its generated code.

* :func:`require_names`: the formula uses ``z``, every declared parameter, and
  the learnable one (else `FormulaError`).
* :func:`check_derivatives`: the generated ``backward`` (and ``param_grad``)
  against central differences of the generated ``forward``, in float64, at
  fixed sample points (:data:`FD_POINTS`, parameters at their defaults, several
  ``u``), skipping points within :data:`KINK_MARGIN` of a kink or domain edge.
  A disagreement is a fastact bug, not the user's: `FormulaError` says so.
* :func:`check_finite`: forward, derivative and every intermediate value the
  formula computes, at z in :data:`FINITE_POINTS`, with the kernels' own
  functions (``mathfn`` clamps exp's input at +-700, so ``exp(1e4)`` is a
  finite 1e304: "overflow" here means beyond float32's largest value or not
  finite). One one-line `FormulaWarning` names the first culprit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from fastact.formula import tree as t
from fastact.formula.errors import FormulaError, FormulaWarning, show
from fastact.formula.evaluate import KERNEL, LIBM, evaluate

#: z values for the finite-difference check: irregular, so they miss "round" kinks such as 0, +-1, +-3
FD_POINTS = (-7.31, -4.17, -2.93, -1.61, -0.87, -0.43, -0.137, -0.0291, 0.0317, 0.149, 0.46, 0.91, 1.73,
             2.57, 3.41, 5.09, 7.77)
#: u values for formulas that use u (evaluation uses 0.5)
FD_U = (0.5, 0.137, 0.871)
FD_STEP = 1e-5  # relative step: truncation ~ h^2 f''' / 6, rounding ~ 1e-16 f / h, both far below FD_RTOL
FD_RTOL = 1e-6
FD_ATOL = 1e-9
#: a sample point this close (relative) to a kink or domain edge is skipped
KINK_MARGIN = 1e-3
FINITE_POINTS = (-1e4, 0.0, 1e4)
FINITE_U = (0.0, 0.5, 1.0)
FLOAT32_MAX = float(np.finfo(np.float32).max)


def require_names(root: t.Node, param_names: Sequence[str], learnable: str | None) -> None:
    used = t.names(root)
    if "z" not in used:
        raise FormulaError(f"formula {show(t.unparse(root))} does not use z, the pre-activation. "
                           "Valid: an expression in z, e.g. 'z * sigmoid(z)'")
    unused = [p for p in param_names if p not in used]
    if unused:
        raise FormulaError(f"parameter {unused[0]!r} is declared but not used in the formula. "
                           f"Valid: use it, or leave it out of params (used: {', '.join(sorted(used))})")


def _natural_power(node: t.Node) -> bool:
    return isinstance(node, t.Num) and node.value.denominator == 1 and node.value >= 0


def kink_pairs(root: t.Node) -> list[tuple[t.Node, t.Node | float]]:
    """(a, b) pairs whose equality marks a kink or domain edge (b a node or a number)."""
    pairs = []
    for node in t.walk(root):
        if isinstance(node, t.Compare):
            pairs.append((node.left, node.right))
        elif isinstance(node, t.Call) and node.fn in ("max", "min"):
            pairs.append(tuple(node.args))
        elif isinstance(node, t.Call) and node.fn == "clip":
            pairs += [(node.args[0], node.args[1]), (node.args[0], node.args[2])]
        elif isinstance(node, t.Call) and node.fn in ("abs", "sqrt", "log"):
            pairs.append((node.args[0], 0.0))
        elif isinstance(node, t.Call) and node.fn == "log1p":
            pairs.append((node.args[0], -1.0))
        elif isinstance(node, t.BinOp) and node.op == "/":
            pairs.append((node.right, 0.0))
        elif isinstance(node, t.BinOp) and node.op == "**" and not _natural_power(node.right):
            pairs.append((node.left, 0.0))
    return pairs


def _gap(pair, env) -> float:
    a, b = pair
    vb = b if isinstance(b, float) else evaluate(b, env, LIBM)
    return float(evaluate(a, env, LIBM) - vb)


def smooth_at(pairs, env: dict, moves: Sequence[dict]) -> bool:
    """True when no kink pair changes sign (or vanishes) between ``env`` and each of ``moves``."""
    for pair in pairs:
        centre = _gap(pair, env)
        if not math.isfinite(centre) or centre == 0:
            return False
        for move in moves:
            g = _gap(pair, {**env, **move})
            if not math.isfinite(g) or g == 0 or (g > 0) != (centre > 0):
                return False
    return True


def _environments(param_defaults: dict, uses_u: bool, us):
    for u in us if uses_u else (0.5,):
        yield {**param_defaults, "u": u}


def _args(env: dict, const_names: Sequence[str], learnable: str | None):
    alpha = np.float64(env[learnable]) if learnable else np.float64(0.0)
    c = tuple(float(env[p]) for p in const_names) or (0.0,)
    return alpha, c, np.float64(env["u"])


def check_derivatives(name: str, root: t.Node, forward: Callable, backward: Callable, param_grad: Callable | None,
                      param_defaults: dict, const_names: Sequence[str], learnable: str | None,
                      uses_u: bool) -> int:
    """Compare the generated derivatives with central differences; the number of points compared."""
    pairs = kink_pairs(root)
    checked = 0
    with np.errstate(all="ignore"):
        for base in _environments(param_defaults, uses_u, FD_U):
            for z in FD_POINTS:
                env = {**base, "z": z}
                hz = FD_STEP * max(1.0, abs(z))
                margin = KINK_MARGIN * max(1.0, abs(z))
                moves = [{"z": z - margin}, {"z": z + margin}]
                if learnable:
                    ha = FD_STEP * max(1.0, abs(env[learnable]))
                    moves += [{learnable: env[learnable] - 2 * ha}, {learnable: env[learnable] + 2 * ha}]
                if not smooth_at(pairs, env, moves):
                    continue
                alpha, c, u = _args(env, const_names, learnable)
                zz = np.float64(z)
                y = forward(zz, alpha, c, u)
                fd = [(forward(zz + h, alpha, c, u) - forward(zz - h, alpha, c, u)) / (2 * h) for h in (hz, hz / 2)]
                where = _where(env, uses_u)
                ok = _compare(name, "d/dz", z, where, y, fd, backward(zz, y, alpha, c, u))
                if learnable:
                    fd = [(forward(zz, alpha + h, c, u) - forward(zz, alpha - h, c, u)) / (2 * h) for h in (ha, ha / 2)]
                    ok &= _compare(name, f"d/d{learnable}", z, where, y, fd, param_grad(zz, y, alpha, c, u))
                checked += ok
    return checked


def _compare(name, what, z, where, y, fds, d) -> bool:
    """False when a value is not finite (check_finite's business); raises when they disagree.

    ``fds`` are central differences with steps h and h/2: Richardson's (4 fd(h/2) - fd(h)) / 3
    cancels the h**2 error term, and |fd(h) - fd(h/2)| estimates what is left, so a steep point
    (a pole nearby) loosens only its own tolerance while smooth points stay strict.
    """
    if not all(math.isfinite(v) and abs(v) <= FLOAT32_MAX for v in (y, d, *fds)):
        # Not finite or beyond float32 (exp's clamp at 700 flattens the forward there): check_finite's business.
        return False
    fd = (4 * fds[1] - fds[0]) / 3
    tol = FD_RTOL * (abs(d) + abs(fd) + abs(y) / max(1.0, abs(z))) + FD_ATOL + abs(fds[0] - fds[1])
    if abs(fd - d) > tol:
        raise FormulaError(f"internal error: {name}'s generated {what} is {float(d):.17g} but central differences "
                           f"give {float(fd):.17g} at {where}; please report this formula")
    return True


def check_finite(name: str, root: t.Node, forward: Callable, backward: Callable, param_grad: Callable | None,
                 param_defaults: dict, const_names: Sequence[str], learnable: str | None,
                 uses_u: bool, stacklevel: int = 2) -> str | None:
    """Warn (one line) if any value is not finite or beyond float32 at FINITE_POINTS; the message, or None."""
    for base in _environments(param_defaults, uses_u, FINITE_U):
        for z in FINITE_POINTS:
            env = {**base, "z": z}
            msg = _first_bad(root, env) or _bad_derivative(forward, backward, param_grad, env, const_names, learnable)
            if msg:
                text = f"formula {name!r}: {msg} at {_where(env, uses_u)}"
                warnings.warn(text, FormulaWarning, stacklevel=stacklevel)
                return text
    return None


def _where(env: dict, uses_u: bool) -> str:
    shown = {"z": env["z"], **{k: v for k, v in env.items() if k not in ("z", "u")}}
    if uses_u:
        shown["u"] = env["u"]
    return ", ".join(f"{k}={v:g}" for k, v in shown.items())


def _too_big(v) -> bool:
    return not math.isfinite(v) or abs(v) > FLOAT32_MAX


def _describe(what: str, v: float) -> str:
    if math.isfinite(v):
        return f"{what} is {v:.3g}, beyond float32's largest value {FLOAT32_MAX:.3g}"
    return f"{what} is {v}"


def _first_bad(root: t.Node, env: dict) -> str | None:
    found = []

    def visit(node, value):
        if not found and _too_big(float(value)):
            found.append(_describe(show(t.unparse(node), 60), float(value)))

    evaluate(root, env, KERNEL, visit)
    return found[0] if found else None


def _bad_derivative(forward, backward, param_grad, env, const_names, learnable) -> str | None:
    alpha, c, u = _args(env, const_names, learnable)
    z = np.float64(env["z"])
    with np.errstate(all="ignore"):
        y = forward(z, alpha, c, u)
        d = backward(z, y, alpha, c, u)
        if _too_big(float(d)):
            return _describe("its derivative d/dz", float(d))
        if param_grad is not None:
            g = param_grad(z, y, alpha, c, u)
            if _too_big(float(g)):
                return _describe(f"its derivative d/d{learnable}", float(g))
    return None
