"""Formula tree -> SymPy, derivatives d/dz and d/dparam, cheap tidying.

The tree is translated node by node into SymPy objects (never through
``sympify`` of text). Functions SymPy lacks, or whose numerically careful form
should survive into the generated code, are SymPy functions of their own:
``Sigmoid``, ``Softplus``, ``Log1p``, ``Expm1`` (with their derivatives
s(1 - s), sigmoid, 1/(1 + x), exp), and ``Fabs``, ``Fmax``, ``Fmin`` whose
derivatives carry the kink conventions below.

Kink conventions (what the derivative is exactly at a kink). They follow
PyTorch where PyTorch has one (relu'(0) = 0, leaky_relu'(0) = slope,
abs'(0) = 0, hardtanh/relu6 have slope 0 at their bounds):

* ``where(c, a, b)``: the derivative is that of the branch the condition
  selects, boundary included: ``where(z > 0, z, 0)`` has slope 0 at z = 0 (as
  relu), ``where(z >= 0, z, 0)`` slope 1. This is what autograd gives for
  ``torch.where``.
* ``max(a, b)`` / ``min(a, b)``: away from a tie, the derivative of the
  selected argument. At a tie (a == b), the argument whose d/dz is smaller in
  magnitude (the flatter piece) when the formula decides it: both slopes are
  numbers there, or only one argument is constant in z; otherwise ``b``. So
  ``max(z, 0)``, ``max(0, z)`` and ``min(z, 0)`` have slope 0 at 0 (relu'(0) =
  0), ``max(z, 0.01*z)`` and ``max(0.01*z, z)`` slope 0.01 (leaky_relu), and
  ``max(z, alpha*z)`` slope alpha (prelu). The same argument's d/dparam is
  used, so the learnable gradient is consistent with d/dz.
* ``clip(x, lo, hi)`` is ``min(max(x, lo), hi)``: with constant bounds, slope 0
  at both bounds (relu6/hardtanh; ``torch.clamp`` instead passes 1 there).
* ``abs(x)``: slope 0 at x = 0 (``torch.abs``).
* ``sqrt``, ``log`` and powers keep their one-sided behaviour: sqrt'(0) = inf.

Simplification is cheap and bounded: SymPy's automatic canonicalisation,
``piecewise_fold`` and ``factor_terms`` only when the expression is small,
conditions in z alone rewritten through their solution sets when they are
linear in z. ``sympy.simplify`` is never called: it can run for minutes (and
rewrites tanh into cosh, which the kernels lack). Common subexpressions are
shared later, by the code generator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import mpmath.libmp as mlib
import numpy as np
import sympy as sp
from scipy import special

from fastact.formula import tree as t
from fastact.formula.errors import FormulaError, show

Z = sp.Symbol("z", real=True)
U = sp.Symbol("u", real=True)
#: the forward output y, substituted into derivatives where the forward expression reappears
#: (sigmoid' = y(1 - y)); underscored so no parameter can share its name
Y = sp.Symbol("_y", real=True)

#: largest derivative (distinct subexpressions) accepted; a formula beyond it is refused
MAX_DERIVATIVE_SIZE = 4000
#: expressions above this tree size skip piecewise_fold / factor_terms (they walk trees, not DAGs)
TIDY_TREE_LIMIT = 1500


class _Real1(sp.Function):
    """A real function of one real argument, with an elementary form for numerical evaluation."""

    nargs = 1

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_is_finite(self):
        return self.args[0].is_finite

    def elementary(self):
        raise NotImplementedError

    def _eval_evalf(self, prec):
        if not self.args[0].is_number:
            return None  # symbolic: nothing to evaluate (SymPy probes signs this way, often)
        try:
            return self.elementary()._eval_evalf(prec)
        except (AttributeError, TypeError, ValueError):  # SymPy probes with symbolic or nan arguments: "cannot"
            return None


class Sigmoid(_Real1):
    """1 / (1 + exp(-x)); derivative s (1 - s)."""

    def fdiff(self, argindex=1):
        s = Sigmoid(self.args[0])
        return s * (1 - s)

    def elementary(self):
        return 1 / (1 + sp.exp(-self.args[0]))


class Softplus(_Real1):
    """log(1 + exp(x)); derivative sigmoid(x)."""

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0])

    def elementary(self):
        return sp.log(1 + sp.exp(self.args[0]))


class Log1p(_Real1):
    """log(1 + x); derivative 1 / (1 + x)."""

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])

    def elementary(self):
        return sp.log(1 + self.args[0])

    def _eval_is_finite(self):
        return None


class Expm1(_Real1):
    """exp(x) - 1; derivative exp(x)."""

    def fdiff(self, argindex=1):
        return sp.exp(self.args[0])

    def elementary(self):
        return sp.exp(self.args[0]) - 1


def _real_number(e) -> bool:
    return e.is_number and e.is_comparable


class Fabs(_Real1):
    """|x|, with |x|'(0) = 0."""

    @classmethod
    def eval(cls, x):
        if _real_number(x):
            return -x if x < 0 else x

    def elementary(self):
        return sp.Abs(self.args[0])

    def _eval_derivative(self, s):
        x = self.args[0]
        return sp.Piecewise((1, x > 0), (-1, x < 0), (0, True)) * x.diff(s)


def _flatter_first(az, bz) -> bool:
    """True when a tie should take the first argument: its d/dz is known to be smaller in magnitude.

    Decidable when both slopes are numbers, or when only the first argument is constant in z;
    otherwise the second argument wins the tie.
    """
    if az.is_number and bz.is_number:
        return bool(abs(az) < abs(bz))
    return az == 0 and bz != 0


class _Select2(sp.Function):
    """max or min of two reals, with the tie convention in `_eval_derivative`."""

    nargs = 2
    _pick_first = None  # (a, b) -> condition under which a is selected away from a tie

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real and self.args[1].is_extended_real

    def _eval_evalf(self, prec):
        if not all(x.is_number for x in self.args):
            return None  # symbolic: nothing to evaluate (and no recursion into nested max/min)
        try:
            a, b = (x.evalf(mlib.prec_to_dps(prec)) for x in self.args)
        except (AttributeError, TypeError, ValueError):  # SymPy's evalf fails on some nan arguments
            return None
        if not (a.is_Float and b.is_Float):
            return None  # complex or nan: not a number SymPy can use
        return self.func(a, b)

    def _eval_derivative(self, s):
        a, b = self.args
        az, bz = a.diff(Z), b.diff(Z)
        strict, loose = self._pick(a, b)
        # The tie is decided here, once, never by a runtime test of the slopes: a condition holding
        # the derivatives would double the expression at every nested max (2**depth).
        cond = loose if _flatter_first(az, bz) else strict
        return sp.Piecewise((az if s == Z else a.diff(s), cond), (bz if s == Z else b.diff(s), True))


class Fmax(_Select2):
    """max(a, b)."""

    @classmethod
    def eval(cls, a, b):
        if a == b:
            return a
        if _real_number(a) and _real_number(b):
            return max(b, a)

    @staticmethod
    def _pick(a, b):
        return sp.Gt(a, b), sp.Ge(a, b)


class Fmin(_Select2):
    """min(a, b)."""

    @classmethod
    def eval(cls, a, b):
        if a == b:
            return a
        if _real_number(a) and _real_number(b):
            return min(b, a)

    @staticmethod
    def _pick(a, b):
        return sp.Lt(a, b), sp.Le(a, b)


_FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "log1p": Log1p, "expm1": Expm1, "sqrt": sp.sqrt, "abs": Fabs,
    "tanh": sp.tanh, "sigmoid": Sigmoid, "softplus": Softplus, "erf": sp.erf, "min": Fmin, "max": Fmax,
}
_RELATIONS = {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge}
_UNDEFINED = (sp.zoo, sp.nan, sp.oo, -sp.oo)
#: what SymPy raises on valid input it cannot handle (its assumptions system meeting nan, and the like)
_SYMPY_FAILURES = (ArithmeticError, AttributeError, TypeError, ValueError, NotImplementedError, RecursionError)


def symbols_for(param_names) -> dict[str, sp.Symbol]:
    """SymPy symbols for z, u and each parameter (real)."""
    out = {"z": Z, "u": U}
    out.update({name: sp.Symbol(name, real=True) for name in param_names})
    return out


def to_sympy(root: t.Node, syms: Mapping[str, sp.Symbol]):
    """The SymPy expression of a tree; a constant part that is not a finite real raises `FormulaError`."""
    memo: dict[int, object] = {}
    order = list(reversed(list(t.walk(root))))  # children first, so no deep recursion
    for node in order:
        if id(node) not in memo:
            memo[id(node)] = _convert(node, syms, memo)
    if memo[id(root)].has(*_UNDEFINED):
        # Name the innermost part that became undefined (z / 0 is zoo * z).
        node = next(n for n in order if not isinstance(n, t.BOOLEAN) and memo[id(n)].has(*_UNDEFINED))
        raise FormulaError(f"{show(t.unparse(node))} at position {node.pos} is undefined "
                           f"(SymPy: {show(str(memo[id(node)]))}). Valid: formulas without division by zero or log(0)")
    return memo[id(root)]


def _convert(node, syms, memo):
    arg = [memo[id(c)] for c in t.children(node)]
    if isinstance(node, t.Num):
        return sp.Rational(node.value.numerator, node.value.denominator)
    if isinstance(node, t.Name):
        return sp.pi if node.id == "pi" else syms[node.id]
    if isinstance(node, t.Neg):
        r = -arg[0]
    elif isinstance(node, t.Not):
        return sp.Not(arg[0])
    elif isinstance(node, t.Logic):
        return (sp.And if node.op == "and" else sp.Or)(*arg)
    elif isinstance(node, t.Compare):
        return _RELATIONS[node.op](*arg)
    elif isinstance(node, t.BinOp):
        a, b = arg
        r = {"+": a + b, "-": a - b, "*": a * b}.get(node.op) if node.op in "+-*" else (
            a / b if node.op == "/" else a ** b)
    elif node.fn == "where":
        r = sp.Piecewise((arg[1], arg[0]), (arg[2], True))
    elif node.fn == "clip":
        r = Fmin(Fmax(arg[0], arg[1]), arg[2])
    else:
        r = _FUNCTIONS[node.fn](*arg)
    if not r.free_symbols and not (r.is_extended_real and r.is_finite):
        raise FormulaError(f"{show(t.unparse(node))} at position {node.pos} is not a finite real number "
                           f"(SymPy: {show(str(r))}). Valid: constant parts that are finite and real")
    return r


def dag_size(expr) -> int:
    """Number of distinct subexpressions (shared ones counted once)."""
    seen, stack = set(), [expr]
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        stack.extend(e.args)
    return len(seen)


def tree_size(expr, cap: int) -> int:
    """Size of the expression as a tree, counting stops just above ``cap``."""
    n, stack = 0, [expr]
    while stack and n <= cap:
        e = stack.pop()
        n += 1
        stack.extend(e.args)
    return n


def _linear_in_z(cond) -> bool:
    if cond.free_symbols != {Z} or cond.atoms(sp.Function):
        return False
    for rel in cond.atoms(sp.core.relational.Relational):
        d = rel.lhs - rel.rhs
        if not d.is_polynomial(Z) or sp.degree(d, Z) > 1:
            return False
    return True


def _split_selects(cond):
    """max(a, b) < c as (a < c) & (b < c), and the like, so that linear conditions become visible."""
    def split(rel):
        lhs, rhs, op = rel.lhs, rel.rhs, rel.rel_op
        if isinstance(rhs, _Select2) and not isinstance(lhs, _Select2):
            lhs, rhs, op = rhs, lhs, {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        if not isinstance(lhs, _Select2) or op not in ("<", "<=", ">", ">="):
            return rel
        below = op in ("<", "<=")
        parts = [_split_selects(sp.core.relational.Relational(arg, rhs, op)) for arg in lhs.args]
        both = isinstance(lhs, Fmax) == below  # max(a, b) < c needs both; max(a, b) > c needs either
        return sp.And(*parts) if both else sp.Or(*parts)

    return cond.replace(lambda e: isinstance(e, sp.core.relational.Relational), split)


def _tidy_condition(cond):
    """A condition in z alone, linear in z, rewritten from its solution set ((z > -3) & (z < 3))."""
    if cond in (sp.true, sp.false) or cond.free_symbols != {Z}:
        return cond
    candidate = _split_selects(cond) if cond.has(_Select2) else cond
    if not _linear_in_z(candidate):
        return cond
    try:
        return candidate.as_set().as_relational(Z)
    except (NotImplementedError, TypeError, ValueError):
        return cond


def _tidy_piecewise(pw):
    return sp.Piecewise(*[(e, _tidy_condition(c)) for e, c in pw.args])


def tidy(expr):
    """Cheap, bounded simplification (see the module docstring); the smaller result wins."""
    small = tree_size(expr, TIDY_TREE_LIMIT) <= TIDY_TREE_LIMIT
    # piecewise_fold multiplies out nested conditions and simplifies them with simplify_logic, which
    # can take minutes: only for a few Piecewise whose conditions are linear in z alone, if smaller.
    pieces = expr.atoms(sp.Piecewise) if small else ()
    if 0 < len(pieces) <= 3 and all(_linear_in_z(_split_selects(c)) for pw in pieces for _, c in pw.args
                                    if c is not sp.true):
        folded = _attempt(sp.piecewise_fold, expr)
        if tree_size(folded, TIDY_TREE_LIMIT) <= TIDY_TREE_LIMIT:
            folded = _attempt(lambda e: e.replace(lambda x: isinstance(x, sp.Piecewise), _tidy_piecewise), folded)
            if dag_size(folded) <= dag_size(expr):
                expr = folded
    if small:
        factored = _attempt(sp.factor_terms, expr)
        if dag_size(factored) < dag_size(expr):
            expr = factored
    return expr


def _attempt(step, expr):
    """``step(expr)``, or ``expr`` unchanged if SymPy fails on it (tidying is optional)."""
    try:
        return step(expr)
    except _SYMPY_FAILURES:
        return expr


@dataclass(frozen=True)
class Derivation:
    """The forward expression and its derivatives, as SymPy expressions.

    ``dz`` and ``dparam`` are in z (and u, parameters); ``dz_y`` / ``dparam_y``
    are the same with the forward expression replaced by the symbol `Y` where
    it reappears, which is what the generated backward code computes.
    """

    forward: object
    dz: object
    dparam: object | None
    dz_y: object
    dparam_y: object | None
    symbols: Mapping[str, sp.Symbol]


def derive(root: t.Node, param_names: tuple[str, ...], learnable: str | None) -> Derivation:
    """d/dz (and d/d``learnable``) of the formula, tidied; raises `FormulaError` if it cannot be used."""
    syms = symbols_for(param_names)
    try:
        f = to_sympy(root, syms)
        if Z not in f.free_symbols:
            raise FormulaError(f"formula does not depend on z: it simplifies to {show(str(f))}. "
                               "Valid: formulas whose value changes with z")
        dz = tidy(sp.diff(f, Z))
        dparam = tidy(sp.diff(f, syms[learnable])) if learnable else None
    except FormulaError:
        raise
    except _SYMPY_FAILURES as exc:
        # A valid formula SymPy cannot handle (its assumptions system on an odd constant): say so in one line.
        raise FormulaError(f"SymPy could not differentiate the formula ({type(exc).__name__}: {show(str(exc), 80)}). "
                           "Valid: a simpler equivalent formula") from None
    for what, d in (("d/dz", dz), (f"d/d{learnable}", dparam)):
        if d is not None and dag_size(d) > MAX_DERIVATIVE_SIZE:
            raise FormulaError(f"{what} of the formula has {dag_size(d)} distinct parts. "
                               f"Valid: formulas whose derivative has up to {MAX_DERIVATIVE_SIZE}")

    def with_y(d):
        # Only a compound forward is worth replacing (sigmoid' = y (1 - y)); a bare z stays z.
        return d if d is None or f.is_Atom else d.xreplace({f: Y})

    return Derivation(f, dz, dparam, with_y(dz), with_y(dparam), syms)


# ---- plain-float evaluation of SymPy expressions (the derivative references) ---------------------
_F = np.float64
_NUMERIC = {
    sp.exp: np.exp, sp.log: np.log, sp.tanh: np.tanh, sp.erf: special.erf, Sigmoid: special.expit,
    Softplus: lambda x: np.logaddexp(_F(0.0), x), Log1p: np.log1p, Expm1: np.expm1, Fabs: np.abs,
    sp.Abs: np.abs, sp.sign: np.sign,
}


def evaluate(expr, env: Mapping[sp.Symbol, float]) -> float:
    """float64 value of a SymPy expression built by this module (NumPy/SciPy functions, IEEE rules)."""
    memo: dict = {}
    with np.errstate(all="ignore"):
        return _ev(expr, env, memo)


def _ev(e, env, memo):
    if e in memo:
        return memo[e]
    if e.is_Symbol:
        v = _F(env[e])
    elif e.is_Number or e.is_NumberSymbol:
        v = _F(float(e))
    elif e is sp.true or e is sp.false:
        v = bool(e)
    elif e.is_Add:
        v = _F(sum((_ev(a, env, memo) for a in e.args), _F(0.0)))
    elif e.is_Mul:
        v = _F(1.0)
        for a in e.args:
            v = v * _ev(a, env, memo)
    elif e.is_Pow:
        v = _F(_ev(e.base, env, memo) ** _ev(e.exp, env, memo))
    elif isinstance(e, sp.Piecewise):
        v = _F(math.nan)
        for expr, cond in e.args:
            if _ev(cond, env, memo):
                v = _ev(expr, env, memo)
                break
    elif isinstance(e, sp.core.relational.Relational):
        a, b = _ev(e.lhs, env, memo), _ev(e.rhs, env, memo)
        v = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[e.rel_op]
    elif isinstance(e, (sp.And, sp.Or)):
        vals = [_ev(a, env, memo) for a in e.args]
        v = all(vals) if isinstance(e, sp.And) else any(vals)
    elif isinstance(e, sp.Not):
        v = not _ev(e.args[0], env, memo)
    elif isinstance(e, sp.ITE):
        v = _ev(e.args[1] if _ev(e.args[0], env, memo) else e.args[2], env, memo)
    elif isinstance(e, Fmax):
        a, b = (_ev(x, env, memo) for x in e.args)
        v = max(b, a)
    elif isinstance(e, Fmin):
        a, b = (_ev(x, env, memo) for x in e.args)
        v = min(b, a)
    elif e.func in _NUMERIC:
        v = _F(_NUMERIC[e.func](_ev(e.args[0], env, memo)))
    else:
        raise FormulaError(f"internal: cannot evaluate {type(e).__name__} in {show(str(e))}")
    memo[e] = v
    return v
