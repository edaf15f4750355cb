"""`fastact.Dense`: fused forward/backward against `tests/naive.py` and finite differences.

GEMM tolerances are relative to the magnitude of the sums, not to the result
(which can cancel to ~0): for ``z = x w + b`` the bound is
``rtol * (|x| |w| + |b|) + atol`` with
  float64: rtol 1e-12, atol 1e-14
  float32: rtol 2e-6 * max(1, K / 64) capped at 2e-5, atol 1e-6
and the same form for dx (``|dz| |w|^T``), dw (``|x|^T |dz|``) and db
(``sum |dz|``). Activation derivatives here are bounded by 2, so f(z) inherits
z's bound times 2. Finite differences (float64, h = 1e-6): rtol 1e-6, atol 1e-8.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import fastact
from fastact import activations
from fastact.engine.threads import max_threads

import naive

ALL = activations.names("every")
DTYPES = ["float32", "float64"]


def rtol_for(dtype, k):
    return 1e-12 if dtype == "float64" else min(2e-5, 2e-6 * max(1.0, k / 64))


def assert_sum_close(got, ref, mag, dtype, k, what):
    """|got - ref| <= rtol * mag + atol, elementwise; mag is the sum of |terms|."""
    atol = 1e-14 if dtype == "float64" else 1e-6
    err = np.abs(np.asarray(got, np.float64) - ref)
    bound = 2 * rtol_for(dtype, k) * mag + atol
    worst = np.unravel_index(np.argmax(err - bound), err.shape)
    assert (err <= bound).all(), f"{what}: err {err[worst]:.3g} > bound {bound[worst]:.3g} at {worst}"


def make_layer(name, n_in, n_out, dtype, seed=0, **kw):
    layer = fastact.Dense(n_in, n_out, name, dtype, rng=np.random.default_rng(seed), index=1, seed=seed, **kw)
    rng = np.random.default_rng(seed + 100)
    layer.b[...] = rng.normal(0, 0.5, n_out)
    if layer.alpha is not None:
        layer.alpha[...] = rng.uniform(0.05, 0.6, layer.alpha.size)
    return layer


def slope_of(layer, batch, training, step):
    """The negative-side slope the reference needs for prelu / rrelu."""
    if layer.act.name == "prelu":
        return layer.alpha.astype(np.float64)
    if layer.act.name == "rrelu":
        return naive.probe_slopes((batch, layer.n_out), "float64", seed=layer.seed, index=layer.index,
                                  step=step, training=training, **layer.act_params)
    return None


def params_of(layer):
    return {} if layer.act.name in naive.SLOPED else layer.act_params


def check_layer(name, batch, n_in, n_out, dtype, seed=0, training=True, step=3, **kw):
    """Run forward + backward and compare every output with the reference."""
    layer = make_layer(name, n_in, n_out, dtype, seed, **kw)
    rng = np.random.default_rng(seed + 1)
    x = rng.normal(0, 1, (batch, n_in)).astype(dtype)
    dy = rng.normal(0, 1, (batch, n_out)).astype(dtype)
    y = layer.forward(x, training=training, step=step).astype(np.float64)
    dx = layer.backward(dy).astype(np.float64)

    slope = slope_of(layer, batch, training, step)
    shared = layer.alpha is not None and layer.alpha.size == 1
    x64, w64, b64, dy64 = (a.astype(np.float64) for a in (x, layer.w, layer.b, dy))
    z_ref, y_ref = naive.dense_forward(x64, w64, b64, name, slope, **params_of(layer))
    g = naive.dense_backward(x64, w64, b64, dy64, name, slope, shared, **params_of(layer))
    z_mag = np.abs(x64) @ np.abs(w64) + np.abs(b64)
    assert_sum_close(y, y_ref, 2 * z_mag, dtype, n_in, f"{name} y")
    # dz carries z's rounding too (|f''| <~ 1 here), hence |dy| z_mag in its magnitude.
    dz_mag = np.abs(dy64 * naive.act_derivative(name, z_ref, slope, **params_of(layer))) + np.abs(dy64) * z_mag
    assert_sum_close(dx, g["dx"], dz_mag @ np.abs(w64).T, dtype, max(n_in, n_out), f"{name} dx")
    assert_sum_close(layer.dw, g["dw"], np.abs(x64).T @ dz_mag, dtype, max(n_in, batch), f"{name} dw")
    assert_sum_close(layer.db, g["db"], dz_mag.sum(axis=0), dtype, max(n_in, batch), f"{name} db")
    if layer.alpha is not None:
        da_mag = (np.abs(dy64) * (np.abs(z_ref) + z_mag)).sum(axis=0)
        da_mag = np.array([da_mag.sum()]) if shared else da_mag
        assert_sum_close(layer.dalpha, g["dalpha"], da_mag, dtype, max(n_in, batch), f"{name} dalpha")
    return layer, y, dx


# ---- shapes ------------------------------------------------------------------------------
SMALL_SHAPES = [(1, 1, 1), (1, 5, 3), (4, 1, 6), (7, 3, 1), (9, 13, 11)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ALL)
def test_small_and_awkward_shapes_match_reference(name, dtype):
    for i, (b, k, n) in enumerate(SMALL_SHAPES):
        check_layer(name, b, k, n, dtype, seed=i)


@pytest.mark.parametrize("name", ["relu", "rrelu", "prelu", "sigmoid", "softplus", "gelu"])
def test_mnist_hidden_layer_784_to_512(name):
    check_layer(name, 65, 784, 512, "float32")


@pytest.mark.parametrize("name", ["rrelu", "linear"])
def test_mnist_hidden_layer_784_to_512_float64(name):
    check_layer(name, 33, 784, 512, "float64")


@pytest.mark.parametrize("mode", ["unit", "shared"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_unit_and_shared(mode, dtype):
    layer, _, _ = check_layer("prelu", 70, 9, 300, dtype, prelu=mode)
    assert layer.alpha.shape == ((300,) if mode == "unit" else (1,))
    assert layer.dalpha.shape == layer.alpha.shape


@pytest.mark.parametrize("training", [False, True])
def test_rrelu_evaluation_and_training(training):
    check_layer("rrelu", 17, 6, 21, "float64", training=training, step=8)


# ---- tile boundaries --------------------------------------------------------------------
@pytest.mark.parametrize("name, dtype", [("relu", "float32"), ("rrelu", "float64"), ("prelu", "float32"),
                                         ("gelu", "float64")])
def test_batches_and_widths_across_tile_boundaries(name, dtype):
    # Row tiles of 64 (the backward partial sums, EPI_ROWS) and GEMM column cuts near 256.
    outs = {}
    for batch in (63, 64, 65, 129):
        for width in (255, 256, 257):
            layer, y, dx = check_layer(name, batch, 70, width, dtype, seed=width)
            outs[batch, width] = y
    # Row i of a batch does not depend on which batch it came in (up to GEMM rounding).
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    for width in (255, 256, 257):
        for batch in (64, 65, 129):
            np.testing.assert_allclose(outs[batch, width][:63], outs[63, width], **tol)


def test_workspace_reuse_after_a_larger_batch():
    # Buffers are sized for the largest batch seen and reused as views for smaller ones.
    layer = make_layer("prelu", 8, 40, "float64")
    rng = np.random.default_rng(0)
    big = rng.normal(size=(130, 8))
    small = rng.normal(size=(3, 8))
    layer.forward(big, training=True)
    layer.backward(np.ones((130, 40)))
    y = layer.forward(small, training=True).copy()
    layer.backward(np.ones((3, 40)))
    fresh = make_layer("prelu", 8, 40, "float64")
    assert np.array_equal(y, fresh.forward(small, training=True))
    fresh.backward(np.ones((3, 40)))
    assert np.array_equal(layer.dw, fresh.dw)
    assert np.array_equal(layer.db, fresh.db)
    assert np.array_equal(layer.dalpha, fresh.dalpha)


def test_non_contiguous_input_gives_the_same_result():
    layer = make_layer("elu", 6, 5, "float64")
    x = np.random.default_rng(2).normal(size=(6, 12))[:, ::2]
    y = layer.forward(x).copy()
    assert np.array_equal(y, layer.forward(np.ascontiguousarray(x)))
    assert np.array_equal(y, layer.forward(np.asfortranarray(x)))


def test_non_contiguous_dy_gives_the_same_gradients():
    layer = make_layer("softplus", 6, 5, "float64")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(7, 6))
    dy = np.asfortranarray(rng.normal(size=(7, 5)))
    layer.forward(x)
    dx = layer.backward(dy).copy()
    dw, db = layer.dw.copy(), layer.db.copy()
    layer.forward(x)
    assert np.array_equal(dx, layer.backward(np.ascontiguousarray(dy)))
    assert np.array_equal(dw, layer.dw) and np.array_equal(db, layer.db)


def test_empty_batch_gives_an_empty_output():
    # PyTorch's and NumPy's convention: a (0, n_in) batch maps to (0, n_out).
    layer = make_layer("relu", 3, 4, "float64")
    y = layer.forward(np.zeros((0, 3)))
    assert y.shape == (0, 4)


# ---- finite differences through L = sum(dy * y), float64 ------------------------------------
def numeric_grad(loss, arr, h=1e-6):
    g = np.empty(arr.shape)
    for idx in np.ndindex(arr.shape):
        keep = arr[idx]
        arr[idx] = keep + h
        up = loss()
        arr[idx] = keep - h
        down = loss()
        arr[idx] = keep
        g[idx] = (up - down) / (2 * h)
    return g


@pytest.mark.parametrize("name", ALL)
def test_gradients_match_central_differences(name):
    rng = np.random.default_rng(4)
    layer = make_layer(name, 4, 5, "float64", seed=4)
    x = rng.normal(size=(3, 4))
    dy = rng.normal(size=(3, 5))
    z = x @ layer.w + layer.b
    # Keep z clear of the ReLU family's kink so that +-h never crosses it.
    layer.b[...] += np.where(np.abs(z).min(axis=0) < 0.05, 0.3, 0.0)

    def loss():
        return float((dy * layer.forward(x, training=True, step=2)).sum())

    loss()
    dx = layer.backward(dy).copy()
    fd = dict(rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dx, numeric_grad(loss, x), **fd, err_msg="dx")
    np.testing.assert_allclose(layer.dw, numeric_grad(loss, layer.w), **fd, err_msg="dw")
    np.testing.assert_allclose(layer.db, numeric_grad(loss, layer.b), **fd, err_msg="db")
    if layer.alpha is not None:
        np.testing.assert_allclose(layer.dalpha, numeric_grad(loss, layer.alpha), **fd, err_msg="dalpha")


def test_need_dx_false_still_fills_parameter_gradients():
    layer = make_layer("relu", 5, 4, "float64")
    x = np.random.default_rng(0).normal(size=(6, 5))
    layer.forward(x)
    assert layer.backward(np.ones((6, 4)), need_dx=False) is None
    ref = naive.dense_backward(x, layer.w, layer.b, np.ones((6, 4)), "relu")
    np.testing.assert_allclose(layer.dw, ref["dw"], rtol=1e-12, atol=1e-14)


# ---- thread count determinism -------------------------------------------------------------
def run_with_threads(name, n_threads, dtype="float32"):
    fastact.set_num_threads(n_threads)
    try:
        layer = make_layer(name, 300, 257, dtype, seed=1)
        rng = np.random.default_rng(5)
        x = rng.normal(size=(129, 300)).astype(dtype)
        y = layer.forward(x, training=True, step=11).copy()
        dx = layer.backward(rng.normal(size=(129, 257)).astype(dtype)).copy()
        grads = [y, dx, layer.dw.copy(), layer.db.copy()]
        return grads + ([layer.dalpha.copy()] if layer.alpha is not None else [])
    finally:
        fastact.set_num_threads(None)


@pytest.mark.skipif(max_threads() < 2, reason="needs NUMBA_NUM_THREADS >= 2")
@pytest.mark.parametrize("name", ["relu", "rrelu", "prelu"])
def test_one_and_two_threads_are_bitwise_identical(name):
    one = run_with_threads(name, 1)
    two = run_with_threads(name, 2)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


def test_worker_thread_gives_the_main_thread_result():
    main = run_with_threads("rrelu", max_threads())
    box = {}

    def work():
        box["out"] = run_with_threads("rrelu", 1)

    t = threading.Thread(target=work)
    t.start()
    t.join(60)
    assert not t.is_alive()
    for a, b in zip(main, box["out"]):
        assert np.array_equal(a, b)


# ---- argument checks ------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, bad", [
    (dict(n_in=0, n_out=3), "n_in=0"),
    (dict(n_in=3, n_out=2.5), "n_out=2.5"),
    (dict(n_in=3, n_out=True), "n_out=True"),
    (dict(n_in=3, n_out=3, dtype="float16"), "dtype='float16'"),
    (dict(n_in=3, n_out=3, act="prelu", prelu="layer"), "prelu='layer'"),
    (dict(n_in=3, n_out=3, act="leaky_relu", negative_slope=-1), "negative_slope=-1"),
])
def test_bad_arguments_name_the_value(kwargs, bad):
    with pytest.raises(ValueError, match="Received: " + bad):
        fastact.Dense(**kwargs)


def test_bad_inputs_name_the_shape_or_dtype():
    layer = fastact.Dense(3, 2, "relu", "float32")
    with pytest.raises(ValueError, match=r"Received: shape=\(4, 5\)"):
        layer.forward(np.zeros((4, 5), np.float32))
    with pytest.raises(ValueError, match="Received: dtype=float64"):
        layer.forward(np.zeros((4, 3)))
    layer.forward(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"Received: shape=\(4, 3\)"):
        layer.backward(np.zeros((4, 3), np.float32))


def test_backward_rejects_a_dy_of_another_dtype():
    # forward() insists on the layer's dtype; backward() must too (a float64 dy on a
    # float32 layer otherwise compiles a mixed-type kernel specialisation on the fly).
    layer = fastact.Dense(3, 2, "relu", "float32")
    layer.forward(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="Received: dtype=float64"):
        layer.backward(np.zeros((4, 2)))
