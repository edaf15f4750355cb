"""Named parameters of a formula: validated names, defaults and rules.

A parameter name is a lowercase identifier (``[a-z][a-z0-9_]*``, at most 32
characters) that is not ``z``, ``u``, ``pi``, a function name or a keyword.
Generated code never contains the name: parameters become ``c[i]`` (constants,
in declared order) or ``alpha`` (the one learnable parameter).

A rule is one of a small whitelisted set of strings, parsed by a regular
expression (never evaluated); every rule also requires a finite value:

    ""  or "finite"             any finite number
    "> a", ">= a", "< a", "<= a"
    "in [a, b]", "in (a, b)", "in [a, b)", "in (a, b]"   (round bracket: open end)

>>> rule("> 0")(0.5), rule("> 0")(0.0), rule("in [0, 1]")(1.0)
(True, False, True)
"""

from __future__ import annotations

import keyword
import math
import numbers
import re
from dataclasses import dataclass

from fastact.formula.errors import FormulaError, show
from fastact.formula.grammar import BUILTIN_NAMES, FUNCTIONS, KEYWORDS

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)
_NUM = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?"
_BOUND = re.compile(rf"\s*(>=|<=|>|<)\s*({_NUM})\s*", re.ASCII)
_INTERVAL = re.compile(rf"\s*in\s*([\[(])\s*({_NUM})\s*,\s*({_NUM})\s*([\])])\s*", re.ASCII)
RULE_FORMS = "'' (any finite number), '> a', '>= a', '< a', '<= a', 'in [a, b]' (round brackets for open ends)"


def check_name(name: object) -> str:
    """``name`` if it is a valid parameter name, else `FormulaError` naming it."""
    valid = ("lowercase identifiers [a-z][a-z0-9_]* of up to 32 characters, other than "
             f"{', '.join(BUILTIN_NAMES)}, the function names and {', '.join(KEYWORDS)}")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise FormulaError(f"invalid parameter name {show(name)}. Valid: {valid}")
    if name in BUILTIN_NAMES or name in FUNCTIONS or name in KEYWORDS or keyword.iskeyword(name):
        raise FormulaError(f"parameter name {name!r} is reserved. Valid: {valid}")
    return name


@dataclass(frozen=True)
class Rule:
    """A validity rule for a parameter value: ``lo <(=) value <(=) hi``, always finite."""

    text: str
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = True
    hi_open: bool = True

    def __call__(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below

    @property
    def describe(self) -> str:
        return self.text or "a finite number"


def rule(text: str | None) -> Rule:
    """Parse a rule string (see the module docstring) into a `Rule`."""
    if text is None or (isinstance(text, str) and text.strip() in ("", "finite")):
        return Rule("")
    if not isinstance(text, str):
        raise FormulaError(f"a rule must be a string. Received: rule={show(text)}. Valid: {RULE_FORMS}")
    m = _BOUND.fullmatch(text)
    if m:
        op, v = m.group(1), float(m.group(2))
        if not math.isfinite(v):
            raise FormulaError(f"rule bound must be finite. Received: rule={show(text)}. Valid: {RULE_FORMS}")
        canon = f"{op} {v:g}"
        if op in (">", ">="):
            return Rule(canon, lo=v, lo_open=op == ">")
        return Rule(canon, hi=v, hi_open=op == "<")
    m = _INTERVAL.fullmatch(text)
    if m:
        left, a, b, right = m.group(1), float(m.group(2)), float(m.group(3)), m.group(4)
        if not (math.isfinite(a) and math.isfinite(b) and a <= b):
            raise FormulaError(f"interval rule needs finite a <= b. Received: rule={show(text)}")
        return Rule(f"in {left}{a:g}, {b:g}{right}", lo=a, hi=b, lo_open=left == "(", hi_open=right == ")")
    raise FormulaError(f"unknown rule {show(text)}. Valid: {RULE_FORMS}")


@dataclass(frozen=True)
class FormulaParam:
    """One declared parameter: the fields of `fastact.activations.Param`, plus whether it is learned."""

    name: str
    default: float
    check: Rule
    learnable: bool = False

    @property
    def rule(self) -> str:
        return self.check.describe


def declare(params: dict | None, rules: dict | None, learnable) -> tuple[FormulaParam, ...]:
    """Validate names, defaults, rules and the learnable choice; parameters in declared order."""
    params = {} if params is None else params
    rules = {} if rules is None else rules
    if not isinstance(params, dict):
        raise FormulaError(f"params must be a dict of name -> default. Received: params={show(params)}")
    if not isinstance(rules, dict):
        raise FormulaError(f"rules must be a dict of name -> rule. Received: rules={show(rules)}")
    for key in rules:
        if key not in params:
            raise FormulaError(f"rule for undeclared parameter {show(key)}. Valid: {', '.join(params) or 'none'}")
    if isinstance(learnable, (list, tuple, set)):
        if len(learnable) > 1:
            raise FormulaError("at most one learnable parameter per activation (the kernels carry one per-unit"
                               f" value, alpha). Received: learnable={show(sorted(learnable))}")
        learnable = next(iter(learnable), None)
    if learnable is not None and learnable not in params:
        raise FormulaError(f"learnable parameter {show(learnable)} is not declared. "
                           f"Valid: {', '.join(params) or 'none (declare it in params)'}")
    out = []
    for name, default in params.items():
        check_name(name)
        if isinstance(default, bool) or not isinstance(default, numbers.Real):
            raise FormulaError(f"parameter {name!r} needs a number as default. Received: {name}={show(default)}")
        default = float(default)
        r = rule(rules.get(name))
        if not r(default):
            raise FormulaError(f"default of {name!r} must be {r.describe}. Received: {name}={default!r}")
        out.append(FormulaParam(name, default, r, learnable=name == learnable))
    return tuple(out)
