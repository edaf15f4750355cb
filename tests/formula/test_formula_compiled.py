"""compile_formula end to end: formula versions of built-ins match the table's scalars and tests/naive.py.

Each built-in is compared three ways, in float64:
  * the generated njit scalars, called from Python and inside an njit loop,
    against the table's own scalars (same signature (z, alpha, c, u));
  * the formula's slow references (tree + NumPy/SciPy, SymPy derivative) against
    tests/naive.py, written from the literature;
  * param_grad (PReLU) against naive.d_prelu_dslope.
Tolerance: rtol 1e-12, atol 1e-14 (the same operations in another order: a few ulps;
references use libm/SciPy where the kernels use mathfn's ~1e-15 polynomials).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fastact import activations
from fastact.formula import CompiledFormula, FormulaError, compile_formula

import naive
from formula_cases import BUILTIN_FORMULAS, apply, define, formula_cache  # noqa: F401  (autouse fixture)

TOL = {"rtol": 1e-12, "atol": 1e-14}
NAMES = list(BUILTIN_FORMULAS)


def points(seed=0):
    """Inputs across the interesting range, none within 1e-3 of the kinks at 0."""
    z = np.concatenate([np.random.default_rng(seed).normal(0.0, 4.0, 200), [-30.0, -8.0, 8.0, 30.0, 1e-3, -1e-3]])
    return np.where(np.abs(z) < 1e-3, 0.7, z)


def uniforms(n, seed=1):
    return np.random.default_rng(seed).random(n)


def table_values(name, z, u, p):
    act = activations.get(name)
    a, b = BUILTIN_FORMULAS[name]["adapt"](p)
    y = np.array([act.forward(zi, a, b, ui) for zi, ui in zip(z, u)])
    d = np.array([act.backward(zi, yi, a, b, ui) for zi, yi, ui in zip(z, y, u)])
    return y, d


@pytest.mark.parametrize("name", NAMES)
def test_scalars_called_from_python_match_the_table(name):
    f = define(name)
    z = points()
    u = uniforms(z.size) if f.uses_u else np.full(z.size, 0.5)
    alpha, c = f.pack()
    y = np.array([f.forward(zi, alpha, c, ui) for zi, ui in zip(z, u)])
    d = np.array([f.backward(zi, yi, alpha, c, ui) for zi, yi, ui in zip(z, y, u)])
    y_ref, d_ref = table_values(name, z, u, f.defaults)
    np.testing.assert_allclose(y, y_ref, **TOL)
    np.testing.assert_allclose(d, d_ref, **TOL)


@pytest.mark.parametrize("name", NAMES)
def test_scalars_inside_an_njit_loop_match_the_table(name):
    f = define(name)
    z = points(seed=2)
    u = uniforms(z.size) if f.uses_u else np.full(z.size, 0.5)
    alpha, c = f.pack()
    y = apply(f.forward, 4, z, z, alpha, c, u)
    d = apply(f.backward, 5, z, y, alpha, c, u)
    y_ref, d_ref = table_values(name, z, u, f.defaults)
    np.testing.assert_allclose(y, y_ref, **TOL)
    np.testing.assert_allclose(d, d_ref, **TOL)


def naive_values(name, z, u, p):
    if name in ("prelu", "rrelu"):
        slope = p["alpha"] if name == "prelu" else p["lower"] + (p["upper"] - p["lower"]) * u
        return naive.FORWARD[name](z, slope), naive.DERIVATIVE[name](z, slope)
    kw = {k: p[k] for k in ("beta", "threshold") if k in p} if name == "softplus" else (
        {"negative_slope": p["negative_slope"]} if name == "leaky_relu" else {})
    return naive.FORWARD[name](z, **kw), naive.DERIVATIVE[name](z, **kw)


@pytest.mark.parametrize("name", NAMES)
def test_slow_references_match_naive(name):
    f = define(name)
    z = points(seed=3)
    u = uniforms(z.size) if f.uses_u else np.full(z.size, 0.5)
    alpha, c = f.pack()
    y = np.array([f.reference_forward(zi, alpha, c, ui) for zi, ui in zip(z, u)])
    d = np.array([f.reference_backward(zi, yi, alpha, c, ui) for zi, yi, ui in zip(z, y, u)])
    y_ref, d_ref = naive_values(name, z, u, f.defaults)
    np.testing.assert_allclose(y, y_ref, **TOL)
    np.testing.assert_allclose(d, d_ref, **TOL)


@pytest.mark.parametrize("name, params", [
    ("leaky_relu", {"negative_slope": 0.01}), ("leaky_relu", {"negative_slope": 2.5}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}), ("softplus", {"beta": 0.5, "threshold": 1e9}),
    ("rrelu", {"lower": 0.0, "upper": 0.5}),
])
def test_non_default_parameters_match_the_table(name, params):
    f = define(name)
    z = points(seed=4)
    u = uniforms(z.size) if f.uses_u else np.full(z.size, 0.5)
    alpha, c = f.pack(params)
    y = apply(f.forward, 4, z, z, alpha, c, u)
    d = apply(f.backward, 5, z, y, alpha, c, u)
    y_ref, d_ref = table_values(name, z, u, f.resolve(**params))
    np.testing.assert_allclose(y, y_ref, **TOL)
    np.testing.assert_allclose(d, d_ref, **TOL)


@pytest.mark.parametrize("alpha", [0.25, -0.5, 1.7])
def test_prelu_param_grad_matches_table_and_naive(alpha):
    f = define("prelu")
    z = points(seed=5)
    u = np.full(z.size, 0.5)
    c = (0.0,)
    y = apply(f.forward, 4, z, z, alpha, c, u)
    g = apply(f.param_grad, 5, z, y, alpha, c, u)
    act = activations.get("prelu")
    g_table = np.array([act.param_grad(zi, yi, alpha, (0.0,), 0.5) for zi, yi in zip(z, y)])
    np.testing.assert_allclose(g, g_table, **TOL)
    np.testing.assert_allclose(g, naive.d_prelu_dslope(z), **TOL)
    g_ref = np.array([f.reference_param_grad(zi, yi, alpha, c, 0.5) for zi, yi in zip(z, y)])
    np.testing.assert_allclose(g_ref, naive.d_prelu_dslope(z), **TOL)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "prelu", "rrelu"])
def test_kink_at_zero_follows_the_table(name):
    # relu'(0) = 0 (PyTorch); the where(z > 0, ...) forms give the negative side's slope at 0.
    f = define(name)
    alpha, c = f.pack()
    act = activations.get(name)
    a, b = BUILTIN_FORMULAS[name]["adapt"](f.defaults)
    for z in (0.0, -0.0):
        assert f.backward(z, f.forward(z, alpha, c, 0.5), alpha, c, 0.5) == act.backward(z, 0.0, a, b, 0.5)
    if name == "relu":
        assert f.backward(0.0, 0.0, alpha, c, 0.5) == 0.0


def test_issue_rrelu_formula_uses_u_and_its_boundary_goes_to_the_positive_branch():
    f = compile_formula("rrelu_ge", "where(z >= 0, z, (l + (h - l) * u) * z)", {"l": 0.125, "h": 1 / 3})
    assert f.uses_u and f.random and f.constant_names == ("l", "h")
    alpha, c = f.pack()
    assert f.forward(-2.0, alpha, c, 0.25) == -2.0 * (0.125 + (1 / 3 - 0.125) * 0.25)
    assert f.backward(-2.0, 0.0, alpha, c, 0.25) == 0.125 + (1 / 3 - 0.125) * 0.25
    assert f.backward(0.0, 0.0, alpha, c, 0.25) == 1.0  # >=: z = 0 is on the identity branch


def test_extreme_inputs_match_the_table_limits():
    for name in NAMES:
        f = define(name)
        alpha, c = f.pack()
        act = activations.get(name)
        a, b = BUILTIN_FORMULAS[name]["adapt"](f.defaults)
        for z in (-1e4, 1e4):
            y = f.forward(z, alpha, c, 0.5)
            assert math.isfinite(y) and math.isfinite(f.backward(z, y, alpha, c, 0.5)), name
            assert y == pytest.approx(act.forward(z, a, b, 0.5), rel=1e-12, abs=1e-300)
        assert f.warning is None, f.warning


# ---- the object the integrator uses -------------------------------------------------------------
def test_compiled_formula_fields():
    f = define("softplus")
    assert isinstance(f, CompiledFormula)
    assert f.name == "formula_softplus" and f.canonical == "where(beta * z > threshold, z, softplus(beta * z) / beta)"
    assert f.param_names == ("beta", "threshold") and f.constant_names == ("beta", "threshold")
    assert f.defaults == {"beta": 1.0, "threshold": 20.0} and f.learnable is None and not f.uses_u
    assert [p.rule for p in f.params] == ["> 0", "> 0"]
    assert f.param_grad is None
    assert len(f.source_hash) == 64 and f.kernel_tag == "formula_" + f.source_hash[:16]
    assert f.path.read_text() == f.source and f.path.name.startswith("f_" + f.source_hash[:32])
    assert set(f.timings) == {"parse", "derive", "codegen", "load", "check"}
    assert f.compile_seconds == pytest.approx(sum(f.timings.values())) and f.compile_seconds > 0
    assert f.fd_points > 0 and f.derivative.startswith("Piecewise")


def test_spec_is_plain_data_that_rebuilds_the_definition():
    import json

    f = define("softplus")
    spec = json.loads(json.dumps(f.spec))
    assert spec == {"name": "formula_softplus", "text": BUILTIN_FORMULAS["softplus"]["text"],
                    "params": {"beta": 1.0, "threshold": 20.0}, "learnable": None,
                    "rules": {"beta": "> 0", "threshold": "> 0"}}
    again = compile_formula(**spec)
    assert again.source_hash == f.source_hash and again.params == f.params
    assert repr(f) == (f"CompiledFormula(name='formula_softplus', formula='{f.canonical}', params={f.defaults!r}, "
                       f"learnable=None, uses_u=False, hash='{f.source_hash[:16]}')")
    p = define("prelu")
    assert compile_formula(**p.spec).learnable == "alpha"


def test_pack_orders_constants_and_pads():
    f = define("rrelu")
    assert f.pack() == (0.0, (0.125, 1 / 3))
    assert f.pack({"upper": 0.5}) == (0.0, (0.125, 0.5))
    assert define("silu").pack() == (0.0, (0.0,))
    p = define("prelu")
    assert p.pack() == (0.25, (0.0,)) and p.pack({"alpha": -1.0}) == (-1.0, (0.0,))


def test_resolve_checks_rules_and_names():
    f = define("softplus")
    assert f.resolve(beta=2.0) == {"beta": 2.0, "threshold": 20.0}
    with pytest.raises(FormulaError, match=r"^formula_softplus: beta must be > 0\. Received: beta=0\.0$"):
        f.resolve(beta=0.0)
    with pytest.raises(FormulaError, match=r"no parameter 'gamma'\. Received: gamma=1\.0\. Valid: beta, threshold$"):
        f.resolve(gamma=1.0)


def test_same_definition_returns_the_same_object_and_errors_are_prefixed_with_the_name():
    assert define("silu") is define("silu")
    with pytest.raises(FormulaError, match=r"^mine: unknown name 'q' at position 5\. Valid: names z, u, pi; "):
        compile_formula("mine", "z * q")
    with pytest.raises(FormulaError, match=r"^invalid activation name 'My Act'\. "):
        compile_formula("My Act", "z")


def test_importing_the_package_does_not_import_sympy():
    import subprocess
    import sys

    code = "import sys, fastact.formula; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert out.stdout.strip() == "False", out.stderr


# ---- formulas at the limits compile, stay bounded, and agree with their references ---------------
def nest(fn, depth, inner="z", extra=""):
    text = inner
    for _ in range(depth):
        text = f"{fn}({text}{extra})"
    return text


LARGE = {
    "sigmoid30": nest("sigmoid", 30), "tanh30": nest("tanh", 30), "softplus30": nest("softplus", 30),
    "max30": nest("max", 30, extra=", 0.5"), "clip20": nest("clip", 20, extra=", -1, 1"),
    "abs30": nest("abs", 30, inner="z - 1"), "max15_mixed": nest("max", 15, extra=", 0.3 * z"),
    "where15": "z" + "".join(f" + where(z > {i / 10}, z * {i}, z - {i})" for i in range(15)),
    "product50": " * ".join(f"sigmoid(z + {i % 5})" for i in range(50)),
    "powers": " + ".join(f"sigmoid(z * {i}) ** 16" for i in range(1, 20)),
    "max10_where": nest("max", 10, inner="where(z > 0, z, 0.1 * z)", extra=", where(z < 1, z, -z)"),
}


@pytest.mark.parametrize("case", list(LARGE))
def test_large_formulas_compile_and_match_their_references(case):
    # The generated Python is run as such: Numba takes tens of seconds to inline 30 nested mathfn calls,
    # which is the kernel's compile time, not this module's concern.
    f = compile_formula("large", LARGE[case])
    assert f.fd_points > 0 and f.warning is None
    forward = getattr(f.forward, "py_func", f.forward)
    backward = getattr(f.backward, "py_func", f.backward)
    for z in (-2.3, -0.61, 0.37, 1.7):
        y = forward(np.float64(z), 0.0, (0.0,), 0.5)
        assert y == pytest.approx(f.reference_forward(z, 0.0, (0.0,), 0.5), rel=1e-12, abs=1e-14)
        assert backward(np.float64(z), y, 0.0, (0.0,), 0.5) == pytest.approx(
            f.reference_backward(z, y, 0.0, (0.0,), 0.5), rel=1e-10, abs=1e-13)
