"""fastact's own expression tree for activation formulas.

The parser (`fastact.formula.grammar`) builds these nodes and nothing else
does; every later stage (SymPy, code generation, checks) reads them. A node
holds only validated data: numbers as exact fractions, names that were
checked against the vocabulary, operators and function names from fixed
lists. ``pos`` is the 1-based position of the node's token in the formula.

Two kinds of node: *numeric* ones (the value of the activation and its
parts) and *boolean* ones (`Compare`, `Logic`, `Not`), which may only stand
as the condition of ``where``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Num:
    """A numeric literal, kept exact (``0.044715`` is 8943/200000)."""

    value: Fraction
    pos: int


@dataclass(frozen=True)
class Name:
    """``z``, ``u``, ``pi`` or a declared parameter."""

    id: str
    pos: int


@dataclass(frozen=True)
class Neg:
    """``-arg``."""

    arg: Node
    pos: int


@dataclass(frozen=True)
class BinOp:
    """``left op right`` for op in ``+ - * / **``."""

    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Call:
    """``fn(args...)`` for a whitelisted function with its arity."""

    fn: str
    args: tuple
    pos: int


@dataclass(frozen=True)
class Compare:
    """``left op right`` for op in ``< <= > >=``: boolean."""

    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Logic:
    """``left and right`` / ``left or right`` between booleans."""

    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Not:
    """``not arg`` of a boolean."""

    arg: Node
    pos: int


Node = Num | Name | Neg | BinOp | Call | Compare | Logic | Not
BOOLEAN = (Compare, Logic, Not)


def children(node: Node) -> tuple:
    if isinstance(node, (Num, Name)):
        return ()
    if isinstance(node, (Neg, Not)):
        return (node.arg,)
    if isinstance(node, Call):
        return node.args
    return (node.left, node.right)


def walk(node: Node) -> Iterator[Node]:
    """Every node, parents before children (iterative: no recursion limit involved)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def names(node: Node) -> set[str]:
    """The variable and parameter names the tree uses (``pi`` excluded)."""
    return {n.id for n in walk(node) if isinstance(n, Name) and n.id != "pi"}


def is_constant(node: Node) -> bool:
    """True when the value involves no ``z``, ``u`` or parameter."""
    return not names(node)


# Binding strength for `unparse`: a child binding looser than its parent gets parentheses.
_PREC = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7, "**": 8, "atom": 9}


def _prec(node: Node) -> int:
    if isinstance(node, (BinOp, Logic)):
        return _PREC[node.op]
    if isinstance(node, Compare):
        return _PREC["cmp"]
    if isinstance(node, Not):
        return _PREC["not"]
    if isinstance(node, Neg):
        return _PREC["neg"]
    if isinstance(node, Num) and node.value < 0:
        return _PREC["neg"]
    return _PREC["atom"]


def number_text(value: Fraction) -> str:
    """Shortest text of a literal: ``3`` for integers, else the float's repr (``0.044715``)."""
    if value.denominator == 1:
        return str(value.numerator)
    return repr(float(value))


def unparse(node: Node) -> str:
    """Canonical text of the tree: one space around binary operators, minimal parentheses.

    Built only from the nodes' validated fields, so it holds nothing but digits,
    lowercase names, operators, parentheses, commas and spaces.
    """
    if isinstance(node, Num):
        return number_text(node.value)
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Call):
        return f"{node.fn}({', '.join(unparse(a) for a in node.args)})"
    if isinstance(node, (Neg, Not)):
        inner = unparse(node.arg)
        if _prec(node.arg) < _prec(node):
            inner = f"({inner})"
        return f"-{inner}" if isinstance(node, Neg) else f"not {inner}"
    p = _prec(node)
    left, right = unparse(node.left), unparse(node.right)
    # ** is right-associative, the others left-associative.
    left_tight = p + 1 if isinstance(node, BinOp) and node.op == "**" else p
    right_tight = p if isinstance(node, BinOp) and node.op == "**" else p + 1
    if _prec(node.left) < left_tight:
        left = f"({left})"
    if _prec(node.right) < right_tight:
        right = f"({right})"
    return f"{left} {node.op} {right}"
