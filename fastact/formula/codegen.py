"""Python source of a formula's three Numba scalar functions.

The generated module defines, with the `fastact.engine.jit.scalar` preset
(``inline="always"``, fastmath, numpy error model, nogil)::

    forward(z, alpha, c, u)        -> y
    backward(z, y, alpha, c, u)    -> dy/dz
    param_grad(z, y, alpha, c, u)  -> dy/dalpha   (only with a learnable parameter)

``alpha`` is the learnable parameter's value for the unit, ``c`` the tuple of
constant parameters in declared order (``c[0]`` a 0 pad when there are none),
``u`` the uniform in [0, 1) (0.5 in evaluation).

The text is built only from validated pieces: fixed function names
(``fm.exp``, ``np.log``...), numbers printed with ``repr(float)``, and local
names chosen here (``c0``, ``av``, ``k0``, ``t0``...); no identifier from the
formula is copied (parameters become ``c[i]`` and ``alpha``). Output is
deterministic (SymPy's canonical argument order, numbered names), so the
hash of the text is stable and identifies the kernels compiled from it.

``forward`` is printed from the parsed tree, keeping the user's own form
(``log1p(exp(-abs(z)))`` stays that); the derivatives are printed from SymPy
after common-subexpression elimination. Every constant, parameter, ``u`` and
``y`` is read through ``like(z, .)`` so a float32 kernel stays in float32
(see `fastact.formula.runtime`). ``where``/``max``/``min`` become conditional
expressions and ``max``/``min`` calls, which LLVM turns into selects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import sympy as sp

from fastact.formula import symbolic as S
from fastact.formula import tree as t
from fastact.formula.errors import FormulaError, show
from fastact.formula.evaluate import LIBM, evaluate

#: bump when the generated text changes for the same formula (a new hash, so new kernels)
GENERATOR_VERSION = 1

# Binding strength of generated Python expressions (Python's own order: `&` and `|` bind
# tighter than comparisons, `not` looser).
COND, NOT, CMP, BOR, BAND, ADD, MUL, NEG, POW, ATOM = range(10)

_TREE_CALLS = {
    "exp": "fm.exp", "expm1": "fm.expm1", "tanh": "fm.tanh", "sigmoid": "fm.sigmoid", "softplus": "fm.softplus",
    "erf": "fm.erf", "log": "np.log", "log1p": "np.log1p", "sqrt": "np.sqrt", "abs": "abs",
    "min": "min", "max": "max",
}
_SYMPY_CALLS = {
    sp.exp: "fm.exp", S.Expm1: "fm.expm1", sp.tanh: "fm.tanh", S.Sigmoid: "fm.sigmoid", S.Softplus: "fm.softplus",
    sp.erf: "fm.erf", sp.log: "np.log", S.Log1p: "np.log1p", S.Fabs: "abs", sp.Abs: "abs",
    S.Fmax: "max", S.Fmin: "min",
}
_SAFE_COMMENT = re.compile(r"[a-z0-9_ .,+\-*/()<>=]*")


def _wrap(piece: tuple[str, int], need: int) -> str:
    text, prec = piece
    return text if prec >= need else f"({text})"


class _Body:
    """Lines and local names of one generated function."""

    def __init__(self, inputs: Mapping[str, str]):
        self.inputs = inputs  # input name -> local it is read into ("u" -> "uv")
        self.used: set[str] = set()
        self.consts: dict[str, str] = {}
        self.lines: list[str] = []
        self.n_temp = 0

    def const(self, value: float) -> tuple[str, int]:
        if math.isnan(value):
            text = "np.nan"
        elif not math.isfinite(value):
            raise FormulaError(f"a constant of the formula overflows float64 ({value!r}). "
                               "Valid: constants within float64's range")
        else:
            text = repr(float(value))
        if text not in self.consts:
            self.consts[text] = f"k{len(self.consts)}"
        return self.consts[text], ATOM

    def var(self, name: str) -> tuple[str, int]:
        if name == "z":
            return "z", ATOM
        self.used.add(name)
        return self.inputs[name], ATOM

    def temp(self, piece: tuple[str, int]) -> tuple[str, int]:
        if piece[1] == ATOM and re.fullmatch(r"[a-z]+[0-9]*", piece[0]):
            return piece
        name = f"q{self.n_temp}"
        self.n_temp += 1
        self.lines.append(f"    {name} = {piece[0]}")
        return name, ATOM

    def power(self, base: tuple[str, int], p: float | None, exponent: tuple[str, int] | None) -> tuple[str, int]:
        """base ** p: small integer and half-integer powers as products and sqrt (vectorisable)."""
        if p is not None and p == 1:
            return base
        if p is not None and p == 0:
            return self.const(1.0)
        if p is not None and abs(p) <= 16.5 and (2 * p).is_integer():
            whole, half = int(abs(p)), (2 * p) % 2 == 1
            q = self.temp(base) if whole + half >= 2 else base  # a base used twice is computed once
            factors = [q] * whole + ([(f"np.sqrt({q[0]})", ATOM)] if half else [])
            prod = factors[0] if len(factors) == 1 else (" * ".join(_wrap(f, MUL) for f in factors), MUL)
            if p > 0:
                return prod
            return f"{self.const(1.0)[0]} / {_wrap(prod, POW)}", MUL
        exp_piece = self.const(p) if p is not None else exponent
        return f"{_wrap(base, ATOM)} ** {_wrap(exp_piece, POW)}", POW

    def render(self, name: str, args: str, result: tuple[str, int]) -> str:
        head = [f"    {local} = like(z, {src})" for key, (local, src) in _INPUTS.items() if key in self.used]
        for key in sorted((k for k in self.used if k.startswith("c")), key=lambda k: int(k[1:])):
            head.append(f"    {self.inputs[key]} = like(z, c[{int(key[1:])}])")
        head += [f"    {local} = like(z, {text})" for text, local in self.consts.items()]
        return "\n".join(["@scalar", f"def {name}({args}):", *head, *self.lines, f"    return {result[0]}"])


# fixed inputs: key -> (local name, source expression)
_INPUTS = {"y": ("yv", "y"), "u": ("uv", "u"), "alpha": ("av", "alpha")}


def _inputs(param_names: tuple[str, ...], learnable: str | None) -> dict[str, str]:
    """Input key -> local variable: y, u, alpha, and c0, c1, ... for the constant parameters."""
    out = {key: local for key, (local, _) in _INPUTS.items()}
    n_const = len([p for p in param_names if p != learnable])
    out.update({f"c{i}": f"c{i}" for i in range(n_const)})
    return out


def _key(name: str, param_names, learnable) -> str:
    if name in ("z", "u", "y"):
        return name
    if name == learnable:
        return "alpha"
    constants = [p for p in param_names if p != learnable]
    return f"c{constants.index(name)}"


# ---- forward, from the tree --------------------------------------------------------------------
def _forward(root: t.Node, param_names, learnable) -> str:
    body = _Body(_inputs(param_names, learnable))
    constant = _constant_nodes(root)
    memo: dict[int, tuple[str, int]] = {}
    for node in reversed(_needed(root, constant)):
        if id(node) not in memo:
            memo[id(node)] = _tree_node(node, memo, body, constant, param_names, learnable)
    return body.render("forward", "z, alpha, c, u", memo[id(root)])


def _needed(root: t.Node, constant: set[int]) -> list[t.Node]:
    """Nodes to print, parents first: not the insides of a folded constant or a constant exponent."""
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        out.append(node)
        if id(node) in constant and not isinstance(node, t.BOOLEAN) and _finite_value(node) is not None:
            continue
        kids = t.children(node)
        if isinstance(node, t.BinOp) and node.op == "**" and id(node.right) in constant:
            kids = (node.left,)
        stack.extend(reversed(kids))
    return out


def _finite_value(node: t.Node) -> float | None:
    value = float(evaluate(node, {}, LIBM))
    return value if math.isfinite(value) else None


def _constant_nodes(root: t.Node) -> set[int]:
    const: set[int] = set()
    for node in reversed(list(t.walk(root))):
        leaf = isinstance(node, t.Num) or (isinstance(node, t.Name) and node.id == "pi")
        if leaf or (not isinstance(node, t.Name) and all(id(c) in const for c in t.children(node))):
            const.add(id(node))
    return const


def _tree_node(node, memo, body: _Body, constant, param_names, learnable) -> tuple[str, int]:
    if id(node) in constant and not isinstance(node, t.BOOLEAN):
        value = _finite_value(node)
        if value is not None:
            return body.const(value)
    if isinstance(node, t.BinOp) and node.op == "**" and id(node.right) in constant:
        return body.power(memo[id(node.left)], float(evaluate(node.right, {}, LIBM)), None)
    arg = [memo[id(c)] for c in t.children(node)]
    if isinstance(node, t.Num):
        return body.const(float(node.value))
    if isinstance(node, t.Name):
        return body.const(math.pi) if node.id == "pi" else body.var(_key(node.id, param_names, learnable))
    if isinstance(node, t.Neg):
        return f"-{_wrap(arg[0], NEG)}", NEG
    if isinstance(node, t.Not):
        return f"not {_wrap(arg[0], NOT)}", NOT
    if isinstance(node, t.Logic):
        op, prec = ("&", BAND) if node.op == "and" else ("|", BOR)
        return f"{_wrap(arg[0], prec)} {op} {_wrap(arg[1], prec + 1)}", prec
    if isinstance(node, t.Compare):
        return f"{_wrap(arg[0], ADD)} {node.op} {_wrap(arg[1], ADD)}", CMP
    if isinstance(node, t.BinOp):
        if node.op == "**":
            return body.power(arg[0], None, arg[1])
        prec = ADD if node.op in "+-" else MUL
        return f"{_wrap(arg[0], prec)} {node.op} {_wrap(arg[1], prec + 1)}", prec
    if node.fn == "where":
        return f"{_wrap(arg[1], CMP)} if {_wrap(arg[0], CMP)} else {_wrap(arg[2], COND)}", COND
    if node.fn == "clip":
        return f"min(max({arg[0][0]}, {arg[1][0]}), {arg[2][0]})", ATOM
    return f"{_TREE_CALLS[node.fn]}({', '.join(a[0] for a in arg)})", ATOM


# ---- derivatives, from SymPy ---------------------------------------------------------------------
def _derivative(name: str, expr, symbols: Mapping[str, sp.Symbol], param_names, learnable) -> str:
    body = _Body(_inputs(param_names, learnable))
    names = {sym: _key(n, param_names, learnable) for n, sym in symbols.items()}
    names[S.Y] = "y"
    temps = sp.numbered_symbols("_t", real=True)
    replacements, (reduced,) = sp.cse([expr], symbols=temps, optimizations=None, order="canonical")
    locals_: dict[sp.Symbol, tuple[str, int]] = {}
    printer = _SympyPrinter(body, names, locals_)
    for i, (sym, sub) in enumerate(replacements):
        piece = printer.emit(sub)
        if piece[1] == ATOM and re.fullmatch(r"[a-z]+[0-9]*", piece[0]):
            locals_[sym] = piece  # a constant or input already has a name
            continue
        local = f"t{i}"
        body.lines.append(f"    {local} = {piece[0]}")
        locals_[sym] = (local, ATOM)
    return body.render(name, "z, y, alpha, c, u", printer.emit(reduced))


class _SympyPrinter:
    def __init__(self, body: _Body, names: Mapping, locals_: Mapping):
        self.body = body
        self.names = names
        self.locals = locals_

    def number(self, e) -> tuple[str, int]:
        try:
            if e.is_Rational:
                value = int(e.p) / int(e.q)
            else:
                value = float(e.evalf(30))
        except (OverflowError, TypeError) as exc:
            raise FormulaError(f"a constant of the derivative is not a float64 ({show(str(e))}). "
                               "Valid: constants within float64's range") from exc
        return self.body.const(value)

    def emit(self, e) -> tuple[str, int]:
        if e in self.locals:
            return self.locals[e]
        if e.is_Symbol:
            return self.body.var(self.names[e])
        if e.is_Number or e.is_NumberSymbol:
            return self.number(e)
        if e is sp.true or e is sp.false:
            return ("True" if e is sp.true else "False"), ATOM
        if e.is_number and not e.free_symbols:
            folded = e.evalf(30)
            if folded.is_Float:
                return self.number(folded)
        if e.is_Add:
            return self.add(e)
        if e.is_Mul:
            return self.mul(e)
        if e.is_Pow:
            p = float(e.exp) if e.exp.is_Number else None
            return self.body.power(self.emit(e.base), p, None if p is not None else self.emit(e.exp))
        if isinstance(e, sp.Piecewise):
            return self.piecewise(e.args)
        if isinstance(e, sp.ITE):
            return self.piecewise(((e.args[1], e.args[0]), (e.args[2], sp.true)))
        if isinstance(e, sp.core.relational.Relational) and e.rel_op in ("<", "<=", ">", ">=", "==", "!="):
            return f"{_wrap(self.emit(e.lhs), ADD)} {e.rel_op} {_wrap(self.emit(e.rhs), ADD)}", CMP
        if isinstance(e, (sp.And, sp.Or)):
            op, prec = (" & ", BAND) if isinstance(e, sp.And) else (" | ", BOR)
            return op.join(_wrap(self.emit(a), prec + 1) for a in e.args), prec
        if isinstance(e, sp.Not):
            return f"not {_wrap(self.emit(e.args[0]), NOT)}", NOT
        if e.func is sp.sign:
            x = self.body.temp(self.emit(e.args[0]))
            one, zero, minus = self.body.const(1.0)[0], self.body.const(0.0)[0], self.body.const(-1.0)[0]
            return f"{one} if {x[0]} > {zero} else ({minus} if {x[0]} < {zero} else {zero})", COND
        if e.func in _SYMPY_CALLS:
            return f"{_SYMPY_CALLS[e.func]}({', '.join(self.emit(a)[0] for a in e.args)})", ATOM
        raise FormulaError(f"internal: no code for {type(e).__name__} in the derivative ({show(str(e))})")

    def add(self, e) -> tuple[str, int]:
        """Positive terms first, then the constant, then the subtracted terms: 1 - s, not -s + 1."""
        value = sp.Add(*[a for a in e.args if a.is_number])
        terms = [a for a in e.args if not a.is_number]
        plus = [self.emit(a) for a in terms if not a.could_extract_minus_sign()]
        minus = [self.emit(-a) for a in terms if a.could_extract_minus_sign()]
        if value != 0:
            (minus if value.is_extended_negative else plus).append(self.number(abs(value)))
        parts = [_wrap(p, ADD) for p in plus]
        text = " + ".join(parts)
        for m in minus:
            text = f"{text} - {_wrap(m, ADD + 1)}" if text else f"-{_wrap(m, NEG)}"
        return text, ADD if (len(plus) + len(minus) > 1) else NEG

    def mul(self, e) -> tuple[str, int]:
        coeff = sp.Mul(*[a for a in e.args if a.is_number])
        num, den = [], []
        for a in e.args:
            if a.is_number:
                continue
            if a.is_Pow and a.exp.is_Number and a.exp < 0:
                den.append(self.emit(a.base ** -a.exp))
            else:
                num.append(self.emit(a))
        sign = ""
        if coeff == -1:
            sign = "-"
        elif coeff != 1:
            num.insert(0, self.number(coeff))
        if not num:
            num = [self.body.const(1.0)]
        if len(num) == 1 and not den and not sign:
            return num[0]
        text = " * ".join(_wrap(p, MUL) for p in num)
        if len(num) == 1 and not den:
            return f"-{_wrap(num[0], NEG)}", NEG
        if den:
            den_text = " * ".join(_wrap(p, MUL) for p in den)
            text = f"{text} / {den_text if len(den) == 1 and den[0][1] > MUL else '(' + den_text + ')'}"
        if sign:
            return f"-{_wrap((text, MUL), NEG)}", NEG
        return text, MUL

    def piecewise(self, pieces) -> tuple[str, int]:
        if len(pieces) == 1 and pieces[0][1] is sp.true:
            return self.emit(pieces[0][0])
        text = None
        for expr, cond in reversed(pieces):
            value = self.emit(expr)
            if text is None:
                # A Piecewise that does not cover every case is nan elsewhere (SymPy's meaning).
                text = value[0] if cond is sp.true else (
                    f"{_wrap(value, CMP)} if {_wrap(self.emit(cond), CMP)} else np.nan")
                continue
            text = f"{_wrap(value, CMP)} if {_wrap(self.emit(cond), CMP)} else {text}"
        return text, COND


# ---- the module ----------------------------------------------------------------------------------
def module_source(root: t.Node, derivation: S.Derivation, param_names: tuple[str, ...],
                  learnable: str | None) -> str:
    """The generated module's text (deterministic for a given formula, parameters and SymPy version)."""
    canonical = t.unparse(root)
    if not _SAFE_COMMENT.fullmatch(canonical) or not all(_SAFE_COMMENT.fullmatch(p) for p in param_names):
        raise FormulaError(f"internal: unexpected characters in {show(canonical)}")
    constants = [p for p in param_names if p != learnable]
    layout = ", ".join([f"{p} = c[{i}]" for i, p in enumerate(constants)] + (
        [f"{learnable} = alpha (learnable)"] if learnable else [])) or "none"
    parts = [
        f"# Generated by fastact.formula (generator {GENERATOR_VERSION}, SymPy {sp.__version__}); do not edit.",
        "# The file is named by the hash of this text; fastact rewrites it if it differs.",
        f"# formula: {canonical}",
        f"# parameters: {layout}",
        "import numpy as np",
        "",
        "from fastact.engine.jit import scalar",
        "from fastact.engine import mathfn as fm",
        "from fastact.formula.runtime import like",
        "",
        "",
        _forward(root, param_names, learnable),
        "",
        "",
        _derivative("backward", derivation.dz_y, derivation.symbols, param_names, learnable),
    ]
    if learnable:
        parts += ["", "", _derivative("param_grad", derivation.dparam_y, derivation.symbols, param_names, learnable)]
    return "\n".join(parts) + "\n"
