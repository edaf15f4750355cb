"""`fastact.activations.define`: a formula becomes a table entry like a built-in's (tests/conftest.py
restores the table after each test)."""

from __future__ import annotations

import pytest

from fastact import activations
from fastact.formula import FormulaError


def test_an_entry_in_the_custom_group_with_the_formulas_functions():
    act = activations.define("hswish", "z * clip(z + 3, 0, 6) / 6")
    assert activations.get("hswish") is act and activations.get("HSwish") is act
    assert (act.group, act.formula, act.init, act.learnable, act.random, act.params) == \
        ("custom", "y = z * clip(z + 3, 0, 6) / 6", "he", None, False, ())
    assert act.forward(1.0, 0.0, (0.0,), 0.5) == pytest.approx(2 / 3, rel=1e-15)
    assert act.backward(1.0, 2 / 3, 0.0, (0.0,), 0.5) == pytest.approx(5 / 6, rel=1e-15)
    assert act.source == act.definition.source and "def forward(z, alpha, c, u)" in act.source
    assert activations.names("custom") == ["hswish"]
    assert activations.names("every")[-1] == "hswish" and "hswish" not in activations.names("seed")
    assert activations.expand("relu, hswish all") == ["relu", "hswish", *activations.names("seed")[:3],
                                                      *activations.names("seed")[4:]]


def test_parameters_become_params_with_options_rules_and_constants_in_order():
    act = activations.define("soft2", "where(b * z > t, z, softplus(b * z) / b)", {"b": 1.0, "t": 20.0},
                             rules={"b": "> 0"}, init="glorot")
    assert [(p.name, p.default, p.rule) for p in act.params] == [("b", 1.0, "> 0"), ("t", 20.0, "a finite number")]
    assert act.option("b") == "soft2-b" and act.init == "glorot"
    assert act.constants(act.resolve(t=10.0)) == (1.0, 10.0)
    with pytest.raises(ValueError, match=r"soft2.b must be > 0. Received: b=0.0"):
        act.resolve(b=0.0)


def test_learnable_and_random_follow_the_formula():
    prelu = activations.define("myprelu", "where(z > 0, z, a * z)", {"a": 0.25}, learnable="a")
    assert prelu.learnable == "a" and prelu.param_grad is not None and not prelu.random
    assert prelu.constants(prelu.defaults) == (0.0,)  # the learnable one is alpha, not in c
    assert prelu.param_grad(-2.0, 0.5, 0.25, (0.0,), 0.5) == -2.0
    rrelu = activations.define("myrrelu", "where(z > 0, z, (l + (h - l) * u) * z)", {"l": 0.125, "h": 1 / 3})
    assert rrelu.random and rrelu.learnable is None and rrelu.param_grad is None


def test_the_spec_rebuilds_the_entry_and_the_same_definition_again_is_a_no_op():
    act = activations.define("swishb", "z * sigmoid(beta * z)", {"beta": 1.0}, learnable="beta", rules={"beta": ">0"})
    assert act.spec == {"name": "swishb", "formula": "z * sigmoid(beta * z)", "params": {"beta": 1.0},
                        "learnable": "beta", "rules": {"beta": "> 0"}, "init": "he"}
    assert activations.define(**act.spec) is act
    assert activations.define("swishb", "z*sigmoid(beta*z)", {"beta": 1}, learnable="beta", rules={"beta": "> 0"}) \
        is act  # spacing and int vs float do not make another definition
    assert activations.spec_of("swishb") == act.spec and activations.spec_of("relu") is None
    assert activations.spec_of("nonesuch") is None and activations.get("relu").spec is None


@pytest.mark.parametrize("kw", [dict(formula="z * sigmoid(2 * beta * z)"), dict(params={"beta": 2.0}),
                                dict(learnable=None), dict(rules={}), dict(init="glorot")])
def test_another_definition_under_a_taken_name_is_an_error_unless_replaced(kw):
    spec = dict(name="swishb", formula="z * sigmoid(beta * z)", params={"beta": 1.0}, learnable="beta",
                rules={"beta": "> 0"})
    first = activations.define(**spec)
    with pytest.raises(FormulaError, match=r"'swishb' is already defined as 'z \* sigmoid\(beta \* z\)' "
                                           r"\(beta=1 learnable, init=he\); pass replace=True"):
        activations.define(**{**spec, **kw})
    assert activations.get("swishb") is first
    second = activations.define(**{**spec, **kw}, replace=True)
    assert activations.get("swishb") is second and second is not first


@pytest.mark.parametrize("name, message", [
    ("relu", "'relu' is a built-in activation; choose another name. Received: name='relu'. Built-in: linear,"),
    ("prelu", "'prelu' is a built-in activation"),
    ("every", "'every' is a group word of --act"),
    ("all", "'all' is a group word of --act"),
    ("Hswish", "invalid activation name 'Hswish'. Valid: lowercase identifiers"),
    ("h-swish", "invalid activation name 'h-swish'"),
    ("a" * 33, "invalid activation name"),
    (None, "invalid activation name 'None'"),
])
def test_bad_or_taken_names(name, message):
    with pytest.raises(FormulaError) as err:
        activations.define(name, "z")
    assert message in str(err.value)
    assert activations.names("custom") == []


def test_builtins_are_never_replaced():
    with pytest.raises(FormulaError, match="'relu' is a built-in"):
        activations.define("relu", "max(z, 0)", replace=True)
    assert activations.get("relu").definition is None


def test_bad_init_and_bad_formula_name_the_value():
    with pytest.raises(FormulaError, match=r"h: init must be one of he, glorot, lecun. Received: init='xavier'"):
        activations.define("h", "z", init="xavier")
    with pytest.raises(FormulaError, match=r"^h: unknown name 'y' at position 5"):
        activations.define("h", "z * y")
    assert "h" not in activations.ACTIVATIONS


def test_a_parameter_option_taken_by_another_activation_is_refused():
    # leaky_relu's parameter is typed --negative-slope; so would be "negative"'s "slope".
    with pytest.raises(FormulaError, match="parameter option 'negative-slope' is already leaky_relu's"):
        activations.define("negative", "z * slope", {"slope": 1.0})
    activations.define("a_b", "z * c", {"c": 1.0})
    with pytest.raises(FormulaError, match="parameter option 'a-b-c' is already a_b's"):
        activations.define("a", "z * b_c", {"b_c": 1.0})
