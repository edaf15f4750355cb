"""Parameter names, defaults, rules and the learnable choice."""

from __future__ import annotations

import math
import pickle

import pytest

from fastact.formula import FormulaError, compile_formula, rule
from fastact.formula.params import check_name, declare

from formula_cases import formula_cache  # noqa: F401  (autouse fixture)


@pytest.mark.parametrize("text, inside, outside", [
    ("", [0.0, -1e300, 1e300], [math.inf, math.nan]),
    ("finite", [0.0], [math.nan]),
    ("> 0", [1e-300, 5.0], [0.0, -1.0, math.inf]),
    (">= 0", [0.0, 2.0], [-1e-12, math.nan]),
    ("< 1", [0.999, -5.0], [1.0, -math.inf]),
    ("<= -2.5", [-2.5, -3.0], [-2.4]),
    ("in [0, 1]", [0.0, 0.5, 1.0], [-0.1, 1.1, math.nan]),
    ("in (0, 1)", [0.5], [0.0, 1.0]),
    ("in [0, 1)", [0.0], [1.0]),
    ("in (0, 1]", [1.0], [0.0]),
    ("  in [ -1e3 , 2.5e2 ] ", [-1000.0, 250.0], [-1001.0]),
])
def test_rules_accept_and_refuse(text, inside, outside):
    r = rule(text)
    assert all(r(v) for v in inside) and not any(r(v) for v in outside)
    assert pickle.loads(pickle.dumps(r))(inside[0])  # picklable: sweeps ship parameters to workers


def test_rule_text_is_canonical():
    assert rule(">=0").describe == ">= 0" and rule("").describe == "a finite number"
    assert rule("in(0,1]").describe == "in (0, 1]"


@pytest.mark.parametrize("text", ["positive", "> beta", "__import__('os')", "> 1e9999", "> 1e999", "in [1, 0]", "== 1",
                                  "in [0, 1", "> 0 and < 1"])
def test_unknown_rules_are_refused_listing_the_forms(text):
    with pytest.raises(FormulaError, match=r"rule") as info:
        rule(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["beta", "negative_slope", "a1", "x" * 32])
def test_valid_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name, why", [
    ("Beta", "invalid"), ("_beta", "invalid"), ("__class__", "invalid"), ("1a", "invalid"), ("x" * 33, "invalid"),
    ("be ta", "invalid"), ("z", "reserved"), ("u", "reserved"), ("pi", "reserved"), ("exp", "reserved"),
    ("where", "reserved"), ("and", "reserved"), ("lambda", "reserved"), ("import", "reserved"), (3, "invalid"),
])
def test_invalid_names_are_refused(name, why):
    with pytest.raises(FormulaError, match=f"^(parameter name|{why} parameter name) ") as info:
        check_name(name)
    assert why in str(info.value) and "Valid: lowercase identifiers" in str(info.value)


def test_declare_keeps_order_and_marks_the_learnable_one():
    ps = declare({"b": 2, "a": 1.5}, {"a": "> 0"}, "a")
    assert [(p.name, p.default, p.rule, p.learnable) for p in ps] == [("b", 2.0, "a finite number", False),
                                                                       ("a", 1.5, "> 0", True)]


@pytest.mark.parametrize("params, rules, learnable, message", [
    ({"beta": -1.0}, {"beta": "> 0"}, None, r"^default of 'beta' must be > 0\. Received: beta=-1\.0$"),
    ({"beta": "1"}, None, None, r"^parameter 'beta' needs a number as default\. Received: beta='1'$"),
    ({"beta": True}, None, None, r"needs a number as default"),
    ({"beta": math.nan}, None, None, r"must be a finite number\. Received: beta=nan"),
    ({"beta": 1.0}, {"gamma": "> 0"}, None, r"^rule for undeclared parameter 'gamma'\. Valid: beta$"),
    ({"a": 1.0, "b": 1.0}, None, ["a", "b"], (r"^at most one learnable parameter per activation \(the kernels carry "
                                             r"one per-unit value, alpha\)\. Received: learnable=\"\['a', 'b'\]\"$")),
    ({"a": 1.0}, None, "b", r"^learnable parameter 'b' is not declared\. Valid: a$"),
    ([1.0], None, None, r"^params must be a dict"),
])
def test_declare_refuses_bad_declarations(params, rules, learnable, message):
    with pytest.raises(FormulaError, match=message):
        declare(params, rules, learnable)


def test_one_learnable_parameter_in_a_list_is_accepted():
    assert [p.learnable for p in declare({"a": 1.0, "b": 2.0}, None, ["b"])] == [False, True]


def test_compile_formula_reports_declaration_errors_with_the_name():
    with pytest.raises(FormulaError, match=r"^myact: at most one learnable parameter"):
        compile_formula("myact", "a * b * z", {"a": 1.0, "b": 1.0}, learnable=("a", "b"))
    with pytest.raises(FormulaError, match=r"^myact: parameter 'b' is declared but not used in the formula\."):
        compile_formula("myact", "a * z", {"a": 1.0, "b": 1.0})
