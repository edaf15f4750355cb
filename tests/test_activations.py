"""Every activation, element-wise, against `tests/naive.py` and finite differences.

The engine has no separate element-wise entry point: activations run fused
into the dense kernels. A `Dense(n, n)` with w = I and b = 0 makes z == x
exactly, so its output is f(x) and, with dy = 1, its dx is f'(x).

Tolerances (values of O(1); absolute floors for values near 0 and for
derivatives computed from the output, such as sigmoid's y(1 - y)):
  float64: rtol 1e-10, atol 1e-12 (the kernels' exp/log1p are polynomial, ~1e-14)
  float32: rtol 1e-5,  atol 1e-6  (one float32 rounding of the output)
  finite differences (float64, h = 1e-6): rtol 1e-6, atol 1e-8
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fastact import activations

import naive

ALL = activations.names("every")
DTYPES = ["float32", "float64"]
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}
FD_TOL = dict(rtol=1e-6, atol=1e-8)
MIDPOINT = (1.0 / 8 + 1.0 / 3) / 2


def run(name, x, dtype, training=False, step=0, **params):
    """(y, f'(x)) from the engine for a (B, N) batch, both as float64 copies."""
    x = np.ascontiguousarray(x, dtype=dtype)
    layer = naive.identity_dense(name, x.shape[1], dtype, **params)
    y = layer.forward(x, training=training, step=step).astype(np.float64)
    dx = layer.backward(np.ones_like(x)).astype(np.float64)
    return y, dx, layer


def reference(name, x, dtype, **params):
    """Reference (y, f') evaluated on x rounded to ``dtype`` (the engine's actual input)."""
    z = np.asarray(x, dtype=dtype).astype(np.float64)
    slope = {"prelu": params.get("init", 0.25), "rrelu": MIDPOINT}.get(name)
    p = {} if name in naive.SLOPED else params
    return naive.act_forward(name, z, slope, **p), naive.act_derivative(name, z, slope, **p)


def grid(b, n, seed=0, scale=4.0):
    """Random inputs kept at least 1e-3 away from 0 (the ReLU family's kink)."""
    x = np.random.default_rng(seed).normal(0.0, scale, (b, n))
    return np.where(np.abs(x) < 1e-3, 0.5, x)


# ---- the table --------------------------------------------------------------------
def test_seed_and_extra_names():
    assert activations.names("seed") == ["linear", "softplus", "sigmoid", "relu", "leaky_relu", "prelu", "rrelu"]
    assert set(activations.names("extra")) == {"tanh", "elu", "selu", "gelu", "gelu_tanh", "silu", "mish"}
    assert activations.names("every") == activations.names("seed") + activations.names("extra")


@pytest.mark.parametrize("name, defaults", [
    ("leaky_relu", {"negative_slope": 0.3}),
    ("prelu", {"init": 0.25}),
    ("rrelu", {"lower": 1.0 / 8, "upper": 1.0 / 3}),
    ("softplus", {"beta": 1.0, "threshold": 20.0}),
    ("elu", {"alpha": 1.0}),
    ("relu", {}),
])
def test_defaults(name, defaults):
    assert activations.get(name).defaults == defaults


def test_get_accepts_user_spellings():
    assert activations.get("Leaky-ReLU").name == "leaky_relu"
    assert activations.get(" gelu_tanh ").name == "gelu_tanh"


def test_learnable_and_random_flags():
    assert [n for n in ALL if activations.get(n).learnable] == ["prelu"]
    assert [n for n in ALL if activations.get(n).random] == ["rrelu"]


@pytest.mark.parametrize("name, params, bad", [
    ("leaky_relu", {"negative_slope": -0.1}, "negative_slope=-0.1"),
    ("leaky_relu", {"negative_slope": math.nan}, "negative_slope=nan"),
    ("softplus", {"beta": 0.0}, "beta=0.0"),
    ("softplus", {"threshold": -1.0}, "threshold=-1.0"),
    ("rrelu", {"lower": 0.5, "upper": 0.25}, "lower=0.5"),
    ("rrelu", {"lower": -0.1}, "lower=-0.1"),
    ("elu", {"alpha": -1.0}, "alpha=-1.0"),
    ("prelu", {"init": math.inf}, "init=inf"),
    ("relu", {"negative_slope": 0.1}, "negative_slope=0.1"),
])
def test_resolve_rejects_bad_values_naming_them(name, params, bad):
    with pytest.raises(ValueError, match="Received: " + bad):
        activations.get(name).resolve(**params)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="swish") as info:
        activations.get("swish")
    assert "leaky_relu" in str(info.value)


# ---- forward and derivative vs the reference -------------------------------------------
SHAPES = [(1, 1), (1, 7), (5, 1), (3, 17), (13, 29)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ALL)
def test_forward_and_derivative_match_reference(name, dtype):
    for i, (b, n) in enumerate(SHAPES):
        x = grid(b, n, seed=i)
        y, d, _ = run(name, x, dtype)
        y_ref, d_ref = reference(name, x, dtype)
        np.testing.assert_allclose(y, y_ref, **TOL[dtype], err_msg=f"{name} forward, shape {(b, n)}")
        np.testing.assert_allclose(d, d_ref, **TOL[dtype], err_msg=f"{name} derivative, shape {(b, n)}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ALL)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_forward_matches_reference_on_random_shapes(name, dtype, data):
    b = data.draw(st.integers(1, 9), label="batch")
    n = data.draw(st.integers(1, 40), label="width")
    x = data.draw(arrays(np.float64, (b, n), elements=st.floats(-30, 30, allow_subnormal=False)), label="x")
    y, d, _ = run(name, x, dtype)
    y_ref, d_ref = reference(name, x, dtype)
    np.testing.assert_allclose(y, y_ref, **TOL[dtype])
    # Exactly at z = 0 the ReLU family's derivative is a convention; compare elsewhere.
    away = np.asarray(x, dtype=dtype) != 0
    np.testing.assert_allclose(d[away], d_ref[away], **TOL[dtype])


@pytest.mark.parametrize("name, params", [
    ("leaky_relu", {"negative_slope": 0.0}),
    ("leaky_relu", {"negative_slope": 0.01}),
    ("leaky_relu", {"negative_slope": 2.5}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}),
    ("softplus", {"beta": 0.5, "threshold": 1e9}),
    ("elu", {"alpha": 0.3}),
    ("prelu", {"init": -0.5}),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_non_default_parameters_match_reference(name, params, dtype):
    x = grid(6, 11, seed=3)
    y, d, _ = run(name, x, dtype, **params)
    y_ref, d_ref = reference(name, x, dtype, **params)
    np.testing.assert_allclose(y, y_ref, **TOL[dtype])
    np.testing.assert_allclose(d, d_ref, **TOL[dtype])


def test_softplus_threshold_switches_to_identity_exactly():
    # beta z = 2 * 3 = 6 > threshold 5: PyTorch returns z itself and gradient 1.
    x = np.array([[3.0, 2.4, -3.0]])
    y, d, _ = run("softplus", x, "float64", beta=2.0, threshold=5.0)
    assert y[0, 0] == 3.0 and d[0, 0] == 1.0
    assert y[0, 1] == pytest.approx(math.log1p(math.exp(4.8)) / 2, rel=1e-12)


@pytest.mark.parametrize("z, leaky_d", [(-2.0, 0.3), (0.0, 0.3), (1e-300, 1.0)])
def test_relu_family_derivative_at_and_below_zero(z, leaky_d):
    # d/dz at z <= 0 is the slope, at z > 0 is 1 (the table's convention).
    _, d, _ = run("leaky_relu", np.array([[z]]), "float64", negative_slope=0.3)
    assert d[0, 0] == leaky_d
    _, d, _ = run("relu", np.array([[z]]), "float64")
    assert d[0, 0] == (1.0 if z > 0 else 0.0)


# ---- finite differences (float64) ---------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_derivative_matches_central_differences(name):
    x = grid(4, 9, seed=7, scale=3.0)
    h = 1e-6
    training = name == "rrelu"  # sampled slopes are fixed by (seed, step, element), not by z
    _, d, _ = run(name, x, "float64", training=training, step=5)
    y_plus, _, _ = run(name, x + h, "float64", training=training, step=5)
    y_minus, _, _ = run(name, x - h, "float64", training=training, step=5)
    np.testing.assert_allclose(d, (y_plus - y_minus) / (2 * h), **FD_TOL)


@pytest.mark.parametrize("shared", [False, True])
def test_prelu_slope_gradient_matches_central_differences(shared):
    x = grid(5, 6, seed=11)
    dy = np.random.default_rng(1).normal(size=x.shape)
    layer = naive.identity_dense("prelu", 6, "float64", prelu="shared" if shared else "unit", init=0.2)
    layer.alpha[...] = np.linspace(0.1, 0.6, layer.alpha.size)

    def loss():
        return float((dy * layer.forward(x)).sum())

    loss()
    layer.backward(dy)
    analytic = layer.dalpha.copy()
    fd = np.empty_like(analytic)
    h = 1e-6
    for j in range(analytic.size):
        layer.alpha[j] += h
        up = loss()
        layer.alpha[j] -= 2 * h
        down = loss()
        layer.alpha[j] += h
        fd[j] = (up - down) / (2 * h)
    np.testing.assert_allclose(analytic, fd, **FD_TOL)
    ref = (dy * naive.d_prelu_dslope(x)).sum(axis=0)
    np.testing.assert_allclose(analytic, [ref.sum()] if shared else ref, rtol=1e-12)


# ---- extreme inputs ---------------------------------------------------------------------
LIMITS = {  # name: (f(-1e4), f(+1e4), f'(-1e4), f'(+1e4)) from the definitions
    "linear": (-1e4, 1e4, 1.0, 1.0),
    "softplus": (0.0, 1e4, 0.0, 1.0),
    "sigmoid": (0.0, 1.0, 0.0, 0.0),
    "relu": (0.0, 1e4, 0.0, 1.0),
    "leaky_relu": (-3e3, 1e4, 0.3, 1.0),
    "prelu": (-2.5e3, 1e4, 0.25, 1.0),
    "rrelu": (-1e4 * MIDPOINT, 1e4, MIDPOINT, 1.0),
    "tanh": (-1.0, 1.0, 0.0, 0.0),
    "elu": (-1.0, 1e4, 0.0, 1.0),
    "selu": (-naive.SELU_SCALE * naive.SELU_ALPHA, naive.SELU_SCALE * 1e4, 0.0, naive.SELU_SCALE),
    "gelu": (0.0, 1e4, 0.0, 1.0),
    "gelu_tanh": (0.0, 1e4, 0.0, 1.0),
    "silu": (0.0, 1e4, 0.0, 1.0),
    "mish": (0.0, 1e4, 0.0, 1.0),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ALL)
def test_extreme_inputs_are_finite_with_correct_limits(name, dtype):
    x = np.array([[-1e4, 1e4, -1e3, 1e3, -80.0, 80.0]])
    y, d, _ = run(name, x, dtype)
    assert np.isfinite(y).all() and np.isfinite(d).all(), (y, d)
    lo, hi, dlo, dhi = LIMITS[name]
    np.testing.assert_allclose(y[0, :2], [lo, hi], **TOL[dtype])
    np.testing.assert_allclose(d[0, :2], [dlo, dhi], **TOL[dtype])
    y_ref, d_ref = reference(name, x, dtype)
    np.testing.assert_allclose(y, y_ref, **TOL[dtype])
    np.testing.assert_allclose(d, d_ref, **TOL[dtype])


def test_softplus_formula_branch_is_stable_at_1e4():
    # A threshold above beta * z forces log(1 + exp(beta z)) / beta itself at +-1e4.
    x = np.array([[-1e4, 1e4, -50.0, 50.0]])
    y, d, _ = run("softplus", x, "float64", beta=3.0, threshold=1e9)
    np.testing.assert_allclose(y, naive.softplus(x, 3.0, 1e9), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(d, naive.d_softplus(x, 3.0, 1e9), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_tails_stay_in_unit_interval(dtype):
    x = np.array([[-1e4, -745.0, -40.0, 40.0, 745.0, 1e4]])
    y, d, _ = run("sigmoid", x, dtype)
    assert ((y >= 0) & (y <= 1)).all() and (d >= 0).all()
    np.testing.assert_allclose(y, naive.sigmoid(x.astype(dtype)), **TOL[dtype])
