"""SymPy derivatives: kink conventions, agreement with finite differences, tidying, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import special

from fastact.formula import FormulaError
from fastact.formula import symbolic as S
from fastact.formula.evaluate import LIBM, evaluate
from fastact.formula.grammar import parse


def derive(text, params=(), learnable=None):
    return S.derive(parse(text, params), params, learnable)


def dz_at(text, z, **values):
    d = derive(text, tuple(values))
    env = {S.Z: z, S.U: values.pop("u", 0.5), **{d.symbols[k]: v for k, v in values.items()}}
    return float(S.evaluate(d.dz, env))


# ---- kinks: the documented conventions -------------------------------------------------------------
@pytest.mark.parametrize("text, z, slope", [
    ("max(z, 0)", 0.0, 0.0),  # relu'(0) = 0, PyTorch
    ("max(0, z)", 0.0, 0.0),  # argument order does not matter
    ("min(z, 0)", 0.0, 0.0),
    ("max(-z, 0)", 0.0, 0.0),
    ("max(z, 0.01 * z)", 0.0, 0.01),  # leaky_relu'(0) = slope
    ("max(0.01 * z, z)", 0.0, 0.01),
    ("max(z, 2 * z)", 0.0, 1.0),  # flatter piece
    ("max(z, -z)", 0.0, -1.0),  # equal magnitudes: the second argument
    ("where(z > 0, z, 0)", 0.0, 0.0),  # boundary goes with the condition
    ("where(z >= 0, z, 0)", 0.0, 1.0),
    ("where(z < 0, 0, z)", 0.0, 1.0),
    ("abs(z)", 0.0, 0.0),  # torch.abs
    ("clip(z, -1, 1)", -1.0, 0.0),  # hardtanh / relu6: 0 at the bounds
    ("clip(z, -1, 1)", 1.0, 0.0),
    ("clip(z, -1, 1)", 0.5, 1.0),
    ("z * clip(z + 3, 0, 6) / 6", -3.0, 0.0),
    ("z * clip(z + 3, 0, 6) / 6", 3.0, 1.0),  # clip' = 0 there; d/dz = clip(6)/6 = 1
    ("max(z, 0) ** 2", 0.0, 0.0),
])
def test_kink_conventions(text, z, slope):
    assert dz_at(text, z) == slope


def test_learnable_gradient_uses_the_same_piece_at_a_tie():
    # |1| vs |alpha| is not decided by the formula alone: the tie goes to the second argument (prelu'(0) = alpha).
    d = derive("max(z, alpha * z)", ("alpha",), "alpha")
    a = d.symbols["alpha"]
    for alpha, dz, da in [(0.25, 0.25, 0.0), (2.0, 2.0, 0.0), (-0.5, -0.5, 0.0)]:
        env = {S.Z: 0.0, S.U: 0.5, a: alpha}
        assert (S.evaluate(d.dz, env), S.evaluate(d.dparam, env)) == (dz, da)
    env = {S.Z: -2.0, S.U: 0.5, a: 0.25}
    assert (S.evaluate(d.dz, env), S.evaluate(d.dparam, env)) == (0.25, -2.0)


# ---- derivatives against central differences of the slow reference ------------------------------
SMOOTH = [
    "z * sigmoid(z)", "softplus(z)", "tanh(softplus(z)) * z", "0.5 * z * (1 + erf(z / sqrt(2)))",
    "log1p(exp(-abs(z))) + max(z, 0)", "expm1(z) / (1 + z ** 2)", "sqrt(1 + z ** 2) - 1", "z ** 3 - 2 * z ** -2",
    "log(1 + z * z) * exp(-z / 4)", "sigmoid(z) ** 0.5 * z", "where(z > 1, z ** 2, 2 * z - 1) * tanh(z)",
    "(z + 3) ** 2.5 / 10", "2 ** z", "exp(sin_) * z",
]


@pytest.mark.parametrize("text", SMOOTH)
def test_derivative_matches_central_differences(text):
    params = ("sin_",) if "sin_" in text else ()
    root = parse(text, params)
    d = S.derive(root, params, None)
    for z in (-2.7, -1.3, -0.41, 0.29, 0.83, 1.9, 3.7):
        env = {"z": z, "u": 0.5, "sin_": 0.3}
        h = 1e-6 * max(1.0, abs(z))
        fd = (evaluate(root, {**env, "z": z + h}, LIBM) - evaluate(root, {**env, "z": z - h}, LIBM)) / (2 * h)
        exact = S.evaluate(d.dz, {S.Z: z, S.U: 0.5, **{d.symbols[p]: 0.3 for p in params}})
        if not math.isfinite(fd):
            continue  # outside the domain (z ** 2.5 of a negative)
        assert exact == pytest.approx(fd, rel=1e-6, abs=1e-8), (text, z)


def test_parameter_derivative_matches_central_differences():
    root = parse("z * sigmoid(beta * z) + beta ** 2", ("beta",))
    d = S.derive(root, ("beta",), "beta")
    b = d.symbols["beta"]
    for z, beta in [(-1.5, 0.7), (0.4, 1.3), (2.2, -0.6)]:
        h = 1e-6
        fd = (evaluate(root, {"z": z, "u": 0.5, "beta": beta + h}, LIBM)
              - evaluate(root, {"z": z, "u": 0.5, "beta": beta - h}, LIBM)) / (2 * h)
        assert S.evaluate(d.dparam, {S.Z: z, S.U: 0.5, b: beta}) == pytest.approx(fd, rel=1e-7)


def test_custom_functions_differentiate_as_documented():
    x = sp.Symbol("x", real=True)
    assert sp.diff(S.Sigmoid(x), x) == S.Sigmoid(x) * (1 - S.Sigmoid(x))
    assert sp.diff(S.Softplus(x), x) == S.Sigmoid(x)
    assert sp.diff(S.Log1p(x), x) == 1 / (1 + x)
    assert sp.diff(S.Expm1(x), x) == sp.exp(x)
    assert float(S.Sigmoid(sp.Rational(1, 3)).evalf(20)) == pytest.approx(special.expit(1 / 3), rel=1e-15)
    assert float(S.Softplus(2).evalf(20)) == pytest.approx(np.logaddexp(0, 2.0), rel=1e-15)
    assert S.Fmax(2, 3) == 3 and S.Fmin(2, 3) == 2 and S.Fabs(-2) == 2 and S.Fmax(x, x) == x


# ---- what the code generator receives ------------------------------------------------------------
def test_forward_reappearing_in_the_derivative_becomes_y():
    assert derive("sigmoid(z)").dz_y == S.Y * (1 - S.Y)
    assert derive("tanh(z)").dz_y == 1 - S.Y ** 2
    assert derive("exp(z)").dz_y == S.Y
    assert derive("z").dz_y == 1  # a bare z is not replaced


def test_linear_conditions_are_tidied():
    d = derive("z * clip(z + 3, 0, 6) / 6")
    cond = d.dz.args[0][1]
    assert cond == sp.And(S.Z > -3, S.Z < 3)
    assert derive("where(z > 0, where(z > 1, z ** 2, z), exp(z) - 1)").dz == sp.Piecewise(
        (2 * S.Z, S.Z > 1), (1, S.Z > 0), (sp.exp(S.Z), True))


def test_tidy_keeps_the_smaller_form():
    d = derive("z * sigmoid(z)")
    assert S.dag_size(d.dz) <= S.dag_size(sp.diff(d.forward, S.Z))


def test_nested_max_stays_bounded():
    d = derive("max(max(max(max(max(max(z, 1), 2), 3), 4), 5), -z)")
    assert S.dag_size(d.dz) < 200
    assert S.evaluate(d.dz, {S.Z: 7.0, S.U: 0.5}) == 1.0
    assert S.evaluate(d.dz, {S.Z: -7.0, S.U: 0.5}) == -1.0
    assert S.evaluate(d.dz, {S.Z: 2.5, S.U: 0.5}) == 0.0


# ---- refusals -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, message", [
    ("z - z", r"^formula does not depend on z: it simplifies to '0'\. Valid: formulas whose value changes with z$"),
    ("z * 0 + 1", r"^formula does not depend on z: it simplifies to '1'\."),
    ("log(0) + z", r"^'log\(0\)' at position 1 is not a finite real number \(SymPy: 'zoo'\)\. Valid: constant parts"),
    ("sqrt(-1) * z", r"^'sqrt\(-1\)' at position 1 is not a finite real number \(SymPy: 'I'\)\."),
    ("(-8) ** (1 / 3) + z", r"^'\(-8\) \*\* \(1 / 3\)' at position 6 is not a finite real number"),
    ("z / (1 - 1)", (r"^'z / \(1 - 1\)' at position 3 is undefined \(SymPy: 'zoo\*z'\)\. Valid: formulas without "
                    r"division by zero or log\(0\)$")),
])
def test_undefined_or_constant_formulas_are_refused(text, message):
    with pytest.raises(FormulaError, match=message):
        derive(text)


def test_evaluate_follows_ieee_rules():
    assert math.isnan(S.evaluate(sp.log(S.Z), {S.Z: -1.0}))
    assert S.evaluate(1 / S.Z, {S.Z: 0.0}) == math.inf
    assert S.evaluate(sp.Piecewise((1, S.Z > 0), (2, True)), {S.Z: 0.0}) == 2.0
