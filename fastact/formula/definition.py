"""The one-line definition syntax of ``--define`` (the CLI, the TUI's field, a study's ``defines``).

::

    NAME = FORMULA [; PARAM = DEFAULT [RULE] [learnable]]... [; init = he|glorot|lecun]

    hswish = z * clip(z + 3, 0, 6) / 6
    swishb = z * sigmoid(beta * z); beta = 1.0 > 0 learnable
    myrrelu = where(z > 0, z, (l + (h - l) * u) * z); l = 0.125 in [0, 1]; h = 0.333 in [0, 1]
    stanh = 1.7159 * tanh(2 * z / 3); init = glorot

Clauses are separated by ``;`` (the formula language has none). ``NAME`` is the activation's
name; ``FORMULA`` is the formula text (docs/FORMULAS.md), handed to its own whitelisted parser.
A parameter clause declares one parameter, in the order ``c`` carries them: its default (a
number), optionally a rule (``> a``, ``>= a``, ``< a``, ``<= a``, ``in [a, b]``, round brackets
for open ends: `fastact.formula.params`) and the word ``learnable`` (at most one parameter).
``init`` picks the initialisation family (default ``he``); a parameter may not be called init.

The text is cut by regular expressions and nothing in it is evaluated; what it declares is
checked where it is used (`fastact.activations.define`, which compiles the formula).

>>> spec = parse_definition("swishb = z * sigmoid(beta * z); beta = 1.0 > 0 learnable")
>>> spec["params"], spec["learnable"], spec["rules"]
({'beta': 1.0}, 'beta', {'beta': '> 0'})
"""

from __future__ import annotations

import re

from fastact.formula.errors import FormulaError, show
from fastact.formula.grammar import LIMITS
from fastact.formula.params import rule

SYNTAX = "NAME = FORMULA [; PARAM = DEFAULT [RULE] [learnable]]... [; init = he|glorot|lecun]"
#: the most parameter clauses one definition may hold
MAX_CLAUSES = 16
#: the longest definition read (the formula's own limit plus its clauses)
MAX_LENGTH = LIMITS["length"] + 100 * MAX_CLAUSES

_IDENT = r"[a-z][a-z0-9_]{0,31}"
_NUM = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?"
_HEAD = re.compile(rf"\s*({_IDENT})\s*=(.*)", re.ASCII | re.DOTALL)
_PARAM = re.compile(rf"\s*({_IDENT})\s*=\s*({_NUM})(?:\s+|(?=[<>])|$)(.*?)\s*", re.ASCII)
_INIT = re.compile(r"\s*init\s*=\s*([a-z]+)\s*", re.ASCII)
_LEARNABLE = re.compile(r"(?:^|\s)learnable$", re.ASCII)


def parse_definition(text: str) -> dict:
    """``text`` in the syntax above -> the keyword arguments of `fastact.activations.define`.

    Raises:
        FormulaError: a one-line message naming the clause that does not fit the syntax.
    """
    if not isinstance(text, str):
        raise FormulaError(f"a definition must be text. Received: {show(text)}. Syntax: {SYNTAX}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"a definition is at most {MAX_LENGTH} characters. Received: {len(text)} characters")
    if not text.isascii() or any(not ch.isprintable() for ch in text):
        bad = next(ch for ch in text if not (ch.isascii() and ch.isprintable()))
        raise FormulaError(f"a definition is printable ASCII text. Received: {show(bad)} in {show(text)}")
    head, *clauses = text.split(";")
    m = _HEAD.fullmatch(head)
    if not m:
        raise FormulaError(f"expected NAME = FORMULA (a lowercase name, then '='). Received: {show(head.strip())}. "
                           f"Syntax: {SYNTAX}")
    name, formula = m.group(1), m.group(2).strip()
    if not formula:
        raise FormulaError(f"{name}: the formula after '=' is empty. Syntax: {SYNTAX}")
    if len(clauses) > MAX_CLAUSES + 1:
        raise FormulaError(f"{name}: at most {MAX_CLAUSES} parameter clauses. Received: {len(clauses)} clauses")
    params, rules, learnable, init = {}, {}, None, "he"
    for clause in clauses:
        if not clause.strip():
            continue  # a trailing ';'
        if m := _INIT.fullmatch(clause):
            init = m.group(1)
            continue
        m = _PARAM.fullmatch(clause)
        if not m:
            raise FormulaError(f"{name}: expected PARAM = DEFAULT [RULE] [learnable] or init = NAME. "
                               f"Received: {show(clause.strip())}. Syntax: {SYNTAX}")
        param, default, rest = m.group(1), float(m.group(2)), m.group(3)
        if param == "init":
            raise FormulaError(f"{name}: 'init' is the initialisation clause (init = he, glorot or lecun), not a "
                               f"parameter name. Received: {show(clause.strip())}")
        if param in params:
            raise FormulaError(f"{name}: parameter {param!r} is declared twice. Received: {show(clause.strip())}")
        if _LEARNABLE.search(rest):
            if learnable is not None:
                raise FormulaError(f"{name}: at most one learnable parameter (the kernels carry one per unit). "
                                   f"Received: {learnable} and {param}")
            learnable, rest = param, _LEARNABLE.sub("", rest).strip()
        if rest:
            try:
                canonical = rule(rest).text
            except FormulaError as exc:
                raise FormulaError(f"{name}: parameter {param!r}: {exc}") from None
            if canonical:
                rules[param] = canonical
        params[param] = default
    return {"name": name, "formula": formula, "params": params, "learnable": learnable, "rules": rules,
            "init": init}


def format_definition(spec: dict) -> str:
    """The syntax above for a definition (`fastact.activations.Activation.spec`): the inverse of `parse_definition`."""
    parts = [f"{spec['name']} = {spec['formula']}"]
    rules = spec.get("rules") or {}
    for p, default in (spec.get("params") or {}).items():
        clause = f"{p} = {default!r}"
        if rules.get(p):
            clause += f" {rules[p]}"
        if p == spec.get("learnable"):
            clause += " learnable"
        parts.append(clause)
    if spec.get("init", "he") != "he":
        parts.append(f"init = {spec['init']}")
    return "; ".join(parts)
