"""`fastact.formula.definition`: the one-line ``--define`` syntax, parsed by regular expressions only."""

from __future__ import annotations

import pytest

from fastact.formula import FormulaError, format_definition, parse_definition
from fastact.formula.definition import MAX_CLAUSES, MAX_LENGTH


def test_name_and_formula_only():
    assert parse_definition("hswish=z*clip(z+3,0,6)/6") == {
        "name": "hswish", "formula": "z*clip(z+3,0,6)/6", "params": {}, "learnable": None, "rules": {}, "init": "he"}


def test_parameters_rules_learnable_and_init_in_order():
    spec = parse_definition("myrrelu = where(z > 0, z, (l + (h - l) * u) * z); l = 0.125 in [0, 1]; "
                            "h=.333 in (0, 1]; init = glorot;")
    assert spec["params"] == {"l": 0.125, "h": 0.333} and list(spec["params"]) == ["l", "h"]
    assert spec["rules"] == {"l": "in [0, 1]", "h": "in (0, 1]"}
    assert spec["init"] == "glorot" and spec["learnable"] is None
    spec = parse_definition("s = z * sigmoid(beta * z); beta = -1.5e0>=-2 learnable")
    assert (spec["params"], spec["rules"], spec["learnable"]) == ({"beta": -1.5}, {"beta": ">= -2"}, "beta")
    assert parse_definition("s = z * b; b = 1 learnable")["rules"] == {}


def test_a_formula_keeps_its_comparisons_and_equals_signs_after_the_first():
    assert parse_definition("r = where(z >= 0, z, 0)")["formula"] == "where(z >= 0, z, 0)"


def test_format_is_the_inverse():
    text = "swishb = z * sigmoid(beta * z); beta = 1.0 > 0 learnable; init = lecun"
    spec = parse_definition(text)
    assert format_definition(spec) == text and parse_definition(format_definition(spec)) == spec


@pytest.mark.parametrize("text, message", [
    ("z * sigmoid(z)", "expected NAME = FORMULA"),
    ("Hswish = z", "expected NAME = FORMULA"),
    ("9a = z", "expected NAME = FORMULA"),
    ("h = ", "the formula after '=' is empty"),
    ("h = z * b; b", "expected PARAM = DEFAULT [RULE] [learnable] or init = NAME. Received: 'b'"),
    ("h = z * b; b = one", "Received: 'b = one'"),
    ("h = z * b; b = 1e5learnable", "Received: 'b = 1e5learnable'"),
    ("h = z * b; b = 1; b = 2", "parameter 'b' is declared twice"),
    ("h = z * a * b; a = 1 learnable; b = 2 learnable", "at most one learnable parameter"),
    ("h = z * b; b = 1 > zero", "parameter 'b': unknown rule '> zero'"),
    ("h = z * b; b = 1 >= 0 trainable", "parameter 'b': unknown rule '>= 0 trainable'"),
    ("h = z * init; init = 0.25", "'init' is the initialisation clause"),
    ("h = z\x1b[2J", "printable ASCII text. Received: '\\x1b'"),
    ("h = z\n; b = 1", "printable ASCII text. Received: '\\n'"),
    ("h = z \u00d7 2", "printable ASCII text"),
])
def test_bad_definitions_are_one_line_naming_the_clause(text, message):
    with pytest.raises(FormulaError) as err:
        parse_definition(text)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bounded_before_anything_is_read():
    with pytest.raises(FormulaError, match=f"at most {MAX_LENGTH} characters. Received: {MAX_LENGTH + 1}"):
        parse_definition("h = " + "z" * (MAX_LENGTH - 3))
    clauses = "; ".join(f"p{i} = 1" for i in range(MAX_CLAUSES + 2))
    with pytest.raises(FormulaError, match=f"at most {MAX_CLAUSES} parameter clauses"):
        parse_definition("h = z; " + clauses)
    with pytest.raises(FormulaError, match="a definition must be text"):
        parse_definition(["h = z"])


def test_the_formula_is_only_cut_out_not_read():
    # The syntax never looks inside the formula: hostile text is the formula parser's to refuse.
    assert parse_definition("h = __import__('os').system('x')")["formula"] == "__import__('os').system('x')"
