"""Defined activations through the real fused kernels (`Dense`, `MLP`), against the built-ins they restate.

Each formula is defined with `fastact.activations.define` and compared, float64, with the
built-in computing the same function, from the same weights:

* relu, leaky_relu, prelu, rrelu and softplus generate the built-ins' arithmetic (the same
  operations in the same order), so forward, every gradient and 20 training steps agree
  bitwise;
* silu and gelu_tanh differ in expression form (SymPy's derivative of ``z * sigmoid(z)`` is
  ``s + s z (1 - s)``, the table's ``s (1 + z (1 - s))``; the formula's GELU is the tanh form,
  the table's ``z sigmoid(2v)``), so values agree to rounding: 1e-14 relative to the largest
  magnitude per array in one step, 1e-12 after 20 Adam steps (measured: 2e-16 and 3e-15).
"""

from __future__ import annotations

import numpy as np
import pytest

import fastact
from fastact import activations
from fastact.engine.threads import max_threads
from fastact.nn import MLP, Adam

#: built-in -> (formula, params, learnable, built-in parameter -> formula parameter)
CASES = {
    "relu": ("where(z > 0, z, 0)", {}, None, {}),
    "leaky_relu": ("where(z > 0, z, s * z)", {"s": 0.3}, None, {"negative_slope": "s"}),
    "prelu": ("where(z > 0, z, a * z)", {"a": 0.25}, "a", {"init": "a"}),
    "rrelu": ("where(z > 0, z, (l + (h - l) * u) * z)", {"l": 0.125, "h": 1 / 3}, None,
              {"lower": "l", "upper": "h"}),
    "softplus": ("where(beta * z > threshold, z, softplus(beta * z) / beta)", {"beta": 1.0, "threshold": 20.0},
                 None, {"beta": "beta", "threshold": "threshold"}),
    "silu": ("z * sigmoid(z)", {}, None, {}),
    "gelu_tanh": ("0.5 * z * (1 + tanh(sqrt(2 / pi) * (z + 0.044715 * z ** 3)))", {}, None, {}),
}
EXACT = ("relu", "leaky_relu", "prelu", "rrelu", "softplus")
STEP_TOL, TRAIN_TOL = 1e-14, 1e-12


def define(builtin: str) -> str:
    text, params, learnable, _ = CASES[builtin]
    return activations.define(f"f_{builtin}", text, params, learnable=learnable).name


def formula_params(builtin: str, **builtin_params) -> dict:
    return {CASES[builtin][3][k]: v for k, v in builtin_params.items()}


def assert_agree(name, got, ref, what, tol):
    if name in EXACT:
        assert np.array_equal(got, ref), f"{name} {what}: max difference {np.abs(got - ref).max():.3g}"
    else:
        scale = max(float(np.abs(ref).max()), 1e-300)
        assert np.abs(got - ref).max() <= tol * scale, f"{name} {what}: {np.abs(got - ref).max() / scale:.3g}"


def layer_outputs(act, training, mode="unit", **params):
    layer = fastact.Dense(37, 70, act, "float64", rng=np.random.default_rng(4), index=2, seed=9, prelu=mode,
                          **params)
    rng = np.random.default_rng(5)
    layer.b[...] = rng.normal(0, 0.5, layer.n_out)
    if layer.alpha is not None:
        layer.alpha[...] = rng.uniform(0.05, 0.6, layer.alpha.size)
    x, dy = rng.normal(0, 1.5, (67, 37)), rng.normal(0, 1, (67, 70))
    y = layer.forward(x, training=training, step=7).copy()
    dx = layer.backward(dy).copy()
    out = {"y": y, "dx": dx, "dw": layer.dw.copy(), "db": layer.db.copy()}
    if layer.dalpha is not None:
        out["dalpha"] = layer.dalpha.copy()
    return out


@pytest.mark.parametrize("training", [True, False], ids=["training", "evaluation"])
@pytest.mark.parametrize("name", list(CASES))
def test_forward_and_gradients_match_the_builtin(name, training):
    ref = layer_outputs(name, training)
    got = layer_outputs(define(name), training)
    assert set(got) == set(ref)
    for key in ref:
        assert_agree(name, got[key], ref[key], key, STEP_TOL)


@pytest.mark.parametrize("mode", ["unit", "shared"])
def test_a_learnable_formula_parameter_per_unit_or_shared_matches_prelu(mode):
    ref = layer_outputs("prelu", True, mode, init=0.1)
    got = layer_outputs(define("prelu"), True, mode, a=0.1)
    assert got["dalpha"].shape == ((70,) if mode == "unit" else (1,))
    for key in ref:
        assert_agree("prelu", got[key], ref[key], key, STEP_TOL)


def train(act, steps=20, threads=None, **params):
    rng = np.random.default_rng(0)
    x, labels = rng.normal(0, 1, (64, 20)), rng.integers(0, 5, 64)
    fastact.set_num_threads(threads)
    try:
        model = MLP([20, 32, 16, 5], act, "float64", seed=3, **params)
        opt = Adam(lr=1e-2)
        losses = [model.train_step(x, labels, opt)[0] for _ in range(steps)]
    finally:
        fastact.set_num_threads(None)
    return np.array(losses), [p.value.copy() for p in model.parameters()]


@pytest.mark.parametrize("name", list(CASES))
def test_training_metrics_match_the_builtin(name):
    params = {"leaky_relu": {"negative_slope": 0.1}, "rrelu": {"lower": 0.05, "upper": 0.4}}.get(name, {})
    ref_loss, ref_values = train(name, **params)
    got_loss, got_values = train(define(name), **formula_params(name, **params))
    assert_agree(name, got_loss, ref_loss, "losses", TRAIN_TOL)
    for i, (g, r) in enumerate(zip(got_values, ref_values)):
        assert_agree(name, g, r, f"parameter {i}", TRAIN_TOL)


SWISH = ("swishb", "z * sigmoid(beta * z)", {"beta": 1.0})


def test_a_learnable_parameters_gradient_matches_central_differences():
    act = activations.define(*SWISH, learnable="beta")
    layer = fastact.Dense(5, 4, act.name, "float64", rng=np.random.default_rng(1), prelu="unit")
    layer.alpha[...] = [0.5, 1.0, 1.5, -0.7]
    rng = np.random.default_rng(2)
    x, dy = rng.normal(0, 1, (9, 5)), rng.normal(0, 1, (9, 4))
    layer.forward(x, training=True)
    layer.backward(dy)
    got = layer.dalpha.copy()

    def objective(alpha):
        layer.alpha[...] = alpha
        return float(np.sum(dy * layer.forward(x, training=True)))

    h, base, fd = 1e-6, layer.alpha.copy(), []
    for j in range(4):
        e = np.zeros(4)
        e[j] = h
        fd.append((objective(base + e) - objective(base - e)) / (2 * h))
    assert np.allclose(got, fd, rtol=1e-7, atol=1e-9), (got, fd)


@pytest.mark.skipif(max_threads() < 2, reason="needs NUMBA_NUM_THREADS >= 2")
@pytest.mark.parametrize("mode", ["unit", "shared"])
def test_a_learnable_formula_trains_bitwise_the_same_on_one_and_two_threads(mode):
    act = activations.define(*SWISH, learnable="beta").name
    rr = activations.define("rrelu_u", "where(z > 0, z, (0.1 + 0.3 * u) * z * beta)", {"beta": 1.0},
                            learnable="beta").name
    for name in (act, rr):
        one, two = _train_mode(name, mode, 1), _train_mode(name, mode, 2)
        assert np.array_equal(one[0], two[0])
        assert all(np.array_equal(a, b) for a, b in zip(one[1], two[1]))


def _train_mode(act, mode, threads):
    rng = np.random.default_rng(0)
    x, labels = rng.normal(0, 1, (150, 20)), rng.integers(0, 5, 150)  # 3 row tiles of the backward epilogue
    fastact.set_num_threads(threads)
    try:
        model = MLP([20, 130, 5], act, "float64", seed=3, prelu=mode)
        opt = Adam(lr=1e-2)
        losses = [model.train_step(x, labels, opt)[0] for _ in range(5)]
    finally:
        fastact.set_num_threads(None)
    return np.array(losses), [p.value.copy() for p in model.parameters()]
