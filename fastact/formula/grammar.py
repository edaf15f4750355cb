"""The formula language: a whitelisted tokenizer and recursive-descent parser.

Nothing in a formula is ever evaluated as Python: the text is cut into
tokens by one regular expression (anything else is an error), and a
recursive-descent parser turns the tokens into `fastact.formula.tree` nodes,
checking every name, arity, type and limit on the way. A saved model or a
study file carrying a formula therefore cannot run code.

Grammar (loosest binding first; ``**`` is right-associative and binds tighter
than unary minus, as in Python: ``-z**2`` is ``-(z**2)``)::

    formula  := or_expr                                 (must be numeric)
    or_expr  := and_expr (("or" | "|") and_expr)*
    and_expr := not_expr (("and" | "&") not_expr)*
    not_expr := "not" not_expr | compare
    compare  := sum (("<" | "<=" | ">" | ">=") sum)*     (a < b < c means a < b and b < c)
    sum      := product (("+" | "-") product)*
    product  := unary (("*" | "/") unary)*
    unary    := ("-" | "+") unary | power
    power    := atom ("**" unary)?
    atom     := NUMBER | NAME | FUNCTION "(" or_expr ("," or_expr)* ")" | "(" or_expr ")"

Unlike Python, ``&`` and ``|`` bind looser than comparisons, so
``z > 0 & z < 1`` reads as written. Comparisons and the logical operators make
*conditions*, which are allowed only as the first argument of ``where``.

Names: ``z`` (the pre-activation), ``u`` (a uniform number in [0, 1) drawn
per element while training, 0.5 in evaluation), ``pi``, and the declared
parameters. Functions and their arities are in :data:`FUNCTIONS`.

Limits (:data:`LIMITS`) keep every later stage bounded: the formula's length,
the nesting depth, the number of nodes, the literals' range, constant
exponents (``z ** 1e9``, ``9 ** 9 ** 9``), the total power that nested powers
multiply to, and the size of exact constants.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from fastact.formula import tree as t
from fastact.formula.errors import FormulaError, show

#: function name -> (arity, how to call it)
FUNCTIONS = {
    "exp": (1, "exp(x)"), "log": (1, "log(x)"), "log1p": (1, "log1p(x)"), "expm1": (1, "expm1(x)"),
    "sqrt": (1, "sqrt(x)"), "abs": (1, "abs(x)"), "tanh": (1, "tanh(x)"), "sigmoid": (1, "sigmoid(x)"),
    "softplus": (1, "softplus(x)"), "erf": (1, "erf(x)"),
    "min": (2, "min(a, b)"), "max": (2, "max(a, b)"), "clip": (3, "clip(x, low, high)"),
    "where": (3, "where(condition, if_true, if_false)"),
}
#: names every formula may use besides its parameters
BUILTIN_NAMES = ("z", "u", "pi")
KEYWORDS = ("and", "or", "not")

LIMITS = {
    "length": 2000,  # characters
    "depth": 32,  # nested parentheses, calls and unary operators
    "nodes": 300,  # tree nodes
    "literal": 1e12,  # largest magnitude of a number literal
    "tiny": 1e-30,  # smallest magnitude of a non-zero literal
    "exponent": 16,  # largest magnitude of a constant exponent
    "power": 64,  # largest power that nested powers of z multiply to: (z**8)**8
    "digits": 400,  # exact constants (numerator and denominator digits) SymPy may build
}

_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|<=|>=|==|!=|//|[-+*/(),<>&|^%=!~@.\[\]{}:;])",
    re.ASCII,
)
_SUPPORTED_OPS = {"+", "-", "*", "/", "**", "(", ")", ",", "<", "<=", ">", ">=", "&", "|"}
_HINTS = {
    "^": "use ** for powers", ".": "attribute access is not part of the formula language",
    "[": "indexing is not part of the formula language", "==": "equality is not supported; use <, <=, > or >=",
    "!=": "equality is not supported; use <, <=, > or >=", "=": "assignment is not part of the formula language",
    "//": "use / (floor division is not supported)", "%": "modulo is not supported",
    ":": "lambdas and slices are not part of the formula language",
}
VALID_CHARS = "digits, letters, _, whitespace and + - * / ** ( ) , < <= > >= & |"
_CMP = ("<", "<=", ">", ">=")


def _err(msg: str, pos: int, valid: str) -> FormulaError:
    return FormulaError(f"{msg} at position {pos}. Valid: {valid}")


def tokenize(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, 1-based position) for each token, ending with ("end", "", len + 1).

    A character or operator outside the language becomes an ("error", message, pos)
    token and ends the list, so the parser reports problems in reading order.
    """
    out, i = [], 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            out.append(("error", f"unexpected character {show(text[i])}", i + 1))
            return out
        kind = m.lastgroup
        if kind == "op" and m.group() not in _SUPPORTED_OPS:
            hint = _HINTS.get(m.group(), "not an operator of the formula language")
            out.append(("error", f"unsupported {show(m.group())} ({hint})", i + 1))
            return out
        if kind != "ws":
            out.append((kind, m.group(), i + 1))
        i = m.end()
    out.append(("end", "", len(text) + 1))
    return out


def _literal(text: str, pos: int) -> Fraction:
    """The exact value of a number token, within the literal limits (no `eval`: `Fraction` parses decimals)."""
    lo, hi = LIMITS["tiny"], LIMITS["literal"]
    valid = f"numbers of magnitude {lo:g} to {hi:g}, or 0"
    if len(text) > 40:
        raise _err(f"number {show(text)} is too long", pos, valid)
    _, _, exp10 = text.lower().partition("e")
    # Bound the decimal exponent before Fraction builds 10**exp10 exactly (1e99999999999 would not finish).
    if exp10 and abs(int(exp10)) > 60:
        raise _err(f"number {show(text)} is out of range", pos, valid)
    value = Fraction(text)
    if value != 0 and not lo <= abs(value) <= hi:
        raise _err(f"number {show(text)} is out of range", pos, valid)
    return value


def constant_value(node: t.Node) -> float:
    """Float value of a constant subtree (validated numbers, ``pi``, whitelisted functions).

    Used to bound exponents; float arithmetic cannot hang (overflow gives inf).
    """
    from fastact.formula.evaluate import LIBM, evaluate

    return evaluate(node, {}, LIBM)


class _Parser:
    def __init__(self, text: str, params: tuple[str, ...]):
        self.text = text
        self.params = params
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.nodes = 0

    # ---- helpers -----------------------------------------------------------------------
    @property
    def tok(self):
        kind, msg, pos = self.tokens[self.i]
        if kind == "error":
            raise _err(msg, pos, VALID_CHARS)
        return self.tokens[self.i]

    def take(self):
        tok = self.tok
        self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        kind, text, _ = self.tokens[self.i]  # an error token is not raised here: it is raised when read
        return kind in ("op", "name") and text in texts

    def node(self, node: t.Node) -> t.Node:
        self.nodes += 1
        if self.nodes > LIMITS["nodes"]:
            raise _err(f"formula has more than {LIMITS['nodes']} nodes", node.pos, "shorter formulas")
        return node

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > LIMITS["depth"]:
            raise _err(f"nesting deeper than {LIMITS['depth']} levels", pos, "shallower formulas")

    def found(self) -> str:
        kind, text, _ = self.tok
        return "the end of the formula" if kind == "end" else show(text)

    def valid_names(self) -> str:
        names = ", ".join(BUILTIN_NAMES + self.params)
        return f"names {names}; functions {', '.join(FUNCTIONS)}"

    def numeric(self, node: t.Node, where: str) -> t.Node:
        if isinstance(node, t.BOOLEAN):
            raise _err(f"a condition cannot be {where}", node.pos,
                       "conditions only as the first argument of where(condition, if_true, if_false)")
        return node

    def boolean(self, node: t.Node, where: str) -> t.Node:
        if not isinstance(node, t.BOOLEAN):
            raise _err(f"{where} needs a condition, found a number", node.pos,
                       "comparisons with < <= > >=, combined by and, or, not, &, |")
        return node

    # ---- grammar -----------------------------------------------------------------------
    def parse(self) -> t.Node:
        node = self.or_expr()
        if self.tok[0] != "end":
            pos = self.tok[2]
            raise _err(f"unexpected {self.found()}", pos, "an operator (+ - * / ** < <= > >= and or), ')' or ','"
                       " between terms (write 2*z, not 2z)")
        return self.numeric(node, "the whole formula (wrap it: where(condition, 1, 0))")

    def or_expr(self) -> t.Node:
        self.enter(self.tok[2])
        node = self.and_expr()
        while self.at("or", "|"):
            pos = self.take()[2]
            node = self.node(t.Logic("or", self.boolean(node, "'or'"), self.boolean(self.and_expr(), "'or'"), pos))
        self.depth -= 1
        return node

    def and_expr(self) -> t.Node:
        node = self.not_expr()
        while self.at("and", "&"):
            pos = self.take()[2]
            node = self.node(t.Logic("and", self.boolean(node, "'and'"), self.boolean(self.not_expr(), "'and'"), pos))
        return node

    def not_expr(self) -> t.Node:
        if self.at("not"):
            pos = self.take()[2]
            self.enter(pos)
            node = self.node(t.Not(self.boolean(self.not_expr(), "'not'"), pos))
            self.depth -= 1
            return node
        return self.compare()

    def compare(self) -> t.Node:
        left = self.sum()
        node = None
        while self.at(*_CMP):
            op, pos = self.take()[1:]
            right = self.sum()
            cmp = self.node(t.Compare(op, self.numeric(left, "compared"), self.numeric(right, "compared"), pos))
            node = cmp if node is None else self.node(t.Logic("and", node, cmp, pos))
            left = right
        return left if node is None else node

    def sum(self) -> t.Node:
        node = self.product()
        while self.at("+", "-"):
            op, pos = self.take()[1:]
            right = self.product()
            node = self.node(t.BinOp(op, self.numeric(node, f"added ({op})"), self.numeric(right, f"added ({op})"),
                                     pos))
        return node

    def product(self) -> t.Node:
        node = self.unary()
        while self.at("*", "/"):
            op, pos = self.take()[1:]
            right = self.unary()
            node = self.node(t.BinOp(op, self.numeric(node, f"multiplied ({op})"),
                                     self.numeric(right, f"multiplied ({op})"), pos))
        return node

    def unary(self) -> t.Node:
        if self.at("-", "+"):
            op, pos = self.take()[1:]
            self.enter(pos)
            arg = self.numeric(self.unary(), "negated")
            self.depth -= 1
            return arg if op == "+" else self.node(t.Neg(arg, pos))
        return self.power()

    def power(self) -> t.Node:
        base = self.atom()
        if not self.at("**"):
            return base
        pos = self.take()[2]
        self.enter(pos)
        exponent = self.numeric(self.unary(), "an exponent")
        self.depth -= 1
        self.check_exponent(exponent, pos)
        return self.node(t.BinOp("**", self.numeric(base, "raised to a power"), exponent, pos))

    def check_exponent(self, exponent: t.Node, pos: int) -> None:
        if not t.is_constant(exponent):
            return
        bound = LIMITS["exponent"]
        p = constant_value(exponent)
        if not (math.isfinite(p) and abs(p) <= bound):
            raise _err(f"exponent {t.unparse(exponent)!r} is too large", pos,
                       f"constant exponents from {-bound} to {bound}, or exponents that involve z, u or a parameter")

    def atom(self) -> t.Node:
        kind, text, pos = self.tok
        if kind == "num":
            self.take()
            return self.node(t.Num(_literal(text, pos), pos))
        if kind == "op" and text == "(":
            self.take()
            node = self.or_expr()
            self.expect(")", f"to close the '(' at position {pos}")
            return node
        if kind == "name":
            self.take()
            if self.at("("):
                return self.call(text, pos)
            return self.name(text, pos)
        raise _err(f"expected a number, a name or '(' but found {self.found()}", pos,
                   f"a number, {self.valid_names()}, or '('")

    def expect(self, text: str, why: str) -> None:
        kind, found, pos = self.tok
        if not (kind == "op" and found == text):
            raise _err(f"expected {text!r} {why} but found {self.found()}", pos, f"{text!r}")
        self.take()

    def name(self, text: str, pos: int) -> t.Node:
        if text in BUILTIN_NAMES or text in self.params:
            return self.node(t.Name(text, pos))
        if text in FUNCTIONS:
            raise _err(f"function {text!r} needs its arguments: {FUNCTIONS[text][1]}", pos, self.valid_names())
        if text in KEYWORDS:
            raise _err(f"{text!r} needs conditions on both sides", pos, self.valid_names())
        if text.startswith("_"):
            raise _err(f"name {show(text)} starts with '_' (no such names exist here)", pos, self.valid_names())
        raise _err(f"unknown name {show(text)}", pos, self.valid_names())

    def call(self, fn: str, pos: int) -> t.Node:
        if fn.startswith("_"):
            raise _err(f"name {show(fn)} starts with '_' (no such names exist here)", pos,
                       f"functions {', '.join(FUNCTIONS)}")
        if fn not in FUNCTIONS:
            what = "is not a function" if fn in BUILTIN_NAMES or fn in self.params else "is not a known function"
            raise _err(f"{show(fn)} {what}", pos, f"functions {', '.join(FUNCTIONS)}")
        self.take()  # "(": each argument is an or_expr, which counts the nesting level
        args = [self.or_expr()]
        while self.at(","):
            self.take()
            args.append(self.or_expr())
        self.expect(")", f"to close {fn}( at position {pos}")
        arity, usage = FUNCTIONS[fn]
        if len(args) != arity:
            raise _err(f"{fn} takes {arity} argument{'s' if arity > 1 else ''}, got {len(args)}", pos, usage)
        if fn == "where":
            args = [self.boolean(args[0], "where's first argument")] + [
                self.numeric(a, "a value of where") for a in args[1:]]
        else:
            args = [self.numeric(a, f"an argument of {fn}") for a in args]
        return self.node(t.Call(fn, tuple(args), pos))


def _power_bound(node: t.Node, memo: dict) -> float:
    """Upper bound on the power of a variable that SymPy's automatic combining can build.

    (z**a)**b becomes z**(a*b) and z**a * z**b becomes z**(a+b); functions and
    sums do not combine powers beyond their arguments'.
    """
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, t.Num):
        r = 0.0
    elif isinstance(node, t.Name):
        r = 0.0 if node.id == "pi" else 1.0
    elif isinstance(node, t.BinOp) and node.op in "*/":
        r = _power_bound(node.left, memo) + _power_bound(node.right, memo)
    elif isinstance(node, t.BinOp) and node.op == "**":
        base = _power_bound(node.left, memo)
        r = base * abs(constant_value(node.right)) if t.is_constant(node.right) else base
    else:
        r = max((_power_bound(c, memo) for c in t.children(node)), default=0.0)
    memo[key] = r
    return r


def _digits(node: t.Node, memo: dict) -> float:
    """Upper bound on the digits of an exact constant SymPy builds from this subtree.

    Constants combine exactly through + - * / and integer powers (and powers of products
    distribute: (2*z)**16 is 65536*z**16); a function keeps its argument's constants inside
    (the argument is bounded on its own), so a call contributes none outside.
    """
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, t.Call) and not t.is_constant(node):
        r = 0.0
    elif isinstance(node, t.Num):
        r = float(len(str(node.value.numerator)) + len(str(node.value.denominator)))
    elif isinstance(node, t.BinOp) and node.op == "**" and t.is_constant(node.right):
        r = _digits(node.left, memo) * max(1.0, math.ceil(abs(constant_value(node.right)))) + _digits(
            node.right, memo)
    else:
        r = sum(_digits(c, memo) for c in t.children(node))
    memo[key] = r
    return r


def _check_sizes(root: t.Node) -> None:
    powers, digits = {}, {}
    for node in reversed(list(t.walk(root))):  # children first: memo fills bottom-up, no deep recursion
        if isinstance(node, t.BinOp) and node.op == "**":
            p = _power_bound(node, powers)
            if p > LIMITS["power"]:
                raise _err(f"nested powers reach z**{p:g}", node.pos,
                           f"total powers up to {LIMITS['power']} (write (z*z)**8 as z**16)")
        d = _digits(node, digits)
        if d > LIMITS["digits"]:
            raise _err(f"constant {show(t.unparse(node))} is too large", node.pos,
                       f"exact constants of up to {LIMITS['digits']} digits")


def parse(text: str, params: tuple[str, ...] = ()) -> t.Node:
    """Parse ``text`` into a tree; ``params`` are the declared (already validated) parameter names.

    >>> from fastact.formula.tree import unparse
    >>> unparse(parse("z*clip(z+3,0,6)/6"))
    'z * clip(z + 3, 0, 6) / 6'

    Raises `FormulaError` (one line: what, where, what is valid) for anything
    outside the language or its limits. Nothing is evaluated except the float
    value of constant exponents (validated numbers only).
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be a string. Received: formula={show(text)} ({type(text).__name__})")
    if len(text) > LIMITS["length"]:
        raise FormulaError(f"formula is {len(text)} characters long. Valid: up to {LIMITS['length']} characters")
    if not text.strip():
        raise FormulaError("formula is empty. Valid: an expression in z, e.g. 'z * sigmoid(z)'")
    root = _Parser(text, tuple(params)).parse()
    _check_sizes(root)
    return root
