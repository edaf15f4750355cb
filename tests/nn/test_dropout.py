"""Dropout fused into the dense kernels, against a NumPy reference given the same mask.

Inverted dropout with rate ``p`` while training: ``y = act(z) * keep / (1 - p)`` and
``dz = dy * keep / (1 - p) * act'(z)``, ``keep`` the layer's mask (`Dense.dropout_mask`, drawn
from its own counter-based stream, regenerated in backward). Tolerances as in test_dense.py
(float64: rtol 1e-12 of the sums' magnitude; float32: 2e-6 * K / 64, capped at 2e-5).
Statistical checks use fixed seeds and 5-sigma bounds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import fastact
from fastact.engine.threads import max_threads
from fastact.errors import SettingsError
from fastact.nn import MLP, Adam

import naive


def rtol_for(dtype, k):
    return 1e-12 if dtype == "float64" else min(2e-5, 2e-6 * max(1.0, k / 64))


def assert_close(got, ref, mag, dtype, k, what):
    atol = 1e-14 if dtype == "float64" else 1e-6
    err = np.abs(np.asarray(got, np.float64) - ref)
    bound = 2 * rtol_for(dtype, k) * mag + atol
    assert (err <= bound).all(), f"{what}: worst {np.max(err - bound):.3g} over the bound"


def make(name, dtype, p, seed=0, n_in=13, n_out=70, mode="unit"):
    layer = fastact.Dense(n_in, n_out, name, dtype, rng=np.random.default_rng(seed), index=2, seed=seed,
                          dropout=p, prelu=mode)
    rng = np.random.default_rng(seed + 100)
    layer.b[...] = rng.normal(0, 0.5, n_out)
    if layer.alpha is not None:
        layer.alpha[...] = rng.uniform(0.05, 0.6, layer.alpha.size)
    return layer


def slope_of(layer, batch, step):
    if layer.act.name == "prelu":
        return layer.alpha.astype(np.float64)
    if layer.act.name == "rrelu":
        return naive.probe_slopes((batch, layer.n_out), "float64", seed=layer.seed, index=layer.index, step=step,
                                  **layer.act_params)
    return None


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["relu", "sigmoid", "prelu", "rrelu", "gelu"])
def test_forward_and_backward_match_numpy_given_the_mask(name, dtype, batch=67, step=5, p=0.3):
    layer = make(name, dtype, p)
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (batch, layer.n_in)).astype(dtype)
    dy = rng.normal(0, 1, (batch, layer.n_out)).astype(dtype)
    y = layer.forward(x, training=True, step=step).astype(np.float64)
    dx = layer.backward(dy).astype(np.float64)

    keep = layer.dropout_mask(batch, step)
    scale = float(np.dtype(dtype).type(1) / (np.dtype(dtype).type(1) - np.dtype(dtype).type(p)))
    slope = slope_of(layer, batch, step)
    x64, w64, b64, dy64 = (a.astype(np.float64) for a in (x, layer.w, layer.b, dy))
    z, act = naive.dense_forward(x64, w64, b64, name, slope)
    z_mag = np.abs(x64) @ np.abs(w64) + np.abs(b64)
    assert_close(y, act * keep * scale, 2 * scale * z_mag, dtype, layer.n_in, "y")
    assert (y[~keep] == 0).all()
    g = naive.dense_backward(x64, w64, b64, dy64 * keep * scale, name, slope)  # dL/d(act) = dy * keep * scale
    dz_mag = (np.abs(dy64) * scale * keep) * (np.abs(naive.act_derivative(name, z, slope)) + z_mag)
    assert_close(dx, g["dx"], dz_mag @ np.abs(w64).T, dtype, layer.n_out, "dx")
    assert_close(layer.dw, g["dw"], np.abs(x64).T @ dz_mag, dtype, batch, "dw")
    assert_close(layer.db, g["db"], dz_mag.sum(axis=0), dtype, batch, "db")
    if layer.alpha is not None:
        assert_close(layer.dalpha, g["dalpha"], (np.abs(dy64) * scale * (np.abs(z) + z_mag)).sum(axis=0), dtype,
                     batch, "dalpha")


def test_gradients_match_central_differences_for_a_fixed_mask():
    layer = make("softplus", "float64", 0.4, n_in=6, n_out=5)
    rng = np.random.default_rng(3)
    x, dy = rng.normal(0, 1, (9, 6)), rng.normal(0, 1, (9, 5))

    def loss(xx):
        return float(np.sum(dy * layer.forward(xx, training=True, step=2)))

    loss(x)
    layer.backward(dy)
    dx, dw = layer.backward(dy).copy(), layer.dw.copy()
    h, fd = 1e-6, np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        fd[idx] = (loss(x + e) - loss(x - e)) / (2 * h)
    assert np.allclose(dx, fd, rtol=1e-6, atol=1e-8)
    w0 = layer.w.copy()
    fdw = np.zeros_like(w0)
    for idx in np.ndindex(*w0.shape):
        for sign in (1, -1):
            layer.w[...] = w0
            layer.w[idx] += sign * h
            fdw[idx] += sign * loss(x) / (2 * h)
    layer.w[...] = w0
    assert np.allclose(dw, fdw, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_the_mask_keeps_the_expected_fraction(p):
    keep = make("relu", "float32", p, n_out=512).dropout_mask(256, step=7)
    n = keep.size
    assert abs(keep.mean() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)
    layer = make("relu", "float64", p, n_in=1, n_out=512)
    layer.w[...] = 0.0
    layer.b[...] = 1.0  # relu(1) = 1: the output is keep / (1 - p)
    y = layer.forward(np.zeros((256, 1)), training=True, step=7)
    assert np.array_equal(y != 0, layer.dropout_mask(256, 7))
    assert np.allclose(y[y != 0], 1 / (1 - p), rtol=1e-15) and abs(y.mean() - 1) < 5 * math.sqrt(p / (1 - p) / n)


def test_masks_differ_across_steps_layers_and_seeds_and_from_rrelus_slopes():
    base = make("relu", "float64", 0.5, n_out=512)
    a = base.dropout_mask(256, 0).ravel()
    others = [base.dropout_mask(256, 1), make("relu", "float64", 0.5, seed=1, n_out=512).dropout_mask(256, 0)]
    other_layer = fastact.Dense(13, 512, "relu", "float64", index=3, dropout=0.5)
    others.append(other_layer.dropout_mask(256, 0))
    # the same layer's RReLU slopes come from another stream of the same (seed, step, layer)
    slopes = naive.probe_slopes((256, 512), seed=0, index=2, step=0)
    bound = 5 / math.sqrt(a.size)
    for o in [*others, slopes]:
        assert abs(np.corrcoef(a.astype(float), np.ravel(o).astype(float))[0, 1]) < bound


def test_evaluation_is_the_identity_and_no_dropout_is_bitwise_the_plain_layer():
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (40, 13)).astype(np.float32)
    plain, dropped = make("tanh", "float32", 0.0), make("tanh", "float32", 0.5)
    assert np.array_equal(plain.forward(x, training=False), dropped.forward(x, training=False))
    assert np.array_equal(plain.forward(x, training=True, step=3), make("tanh", "float32", 0).forward(x, True, 3))
    assert not np.array_equal(plain.forward(x, training=True, step=3), dropped.forward(x, training=True, step=3))
    assert plain.dropout_mask(40, 3).all()


def test_dropout_layers_use_their_own_kernels():
    from fastact.engine import dense

    act = fastact.activations.get("relu")
    plain, dropped = dense.epilogues(act), dense.epilogues(act, dropout=True)
    assert plain is dense.epilogues(act, "float32", False) and plain[0] is not dropped[0]
    digest = dense.source_digest(act)
    assert [k.__name__ for k in dropped] == [f"epilogue_forward_relu_dropout_{digest}",
                                             f"epilogue_backward_relu_dropout_{digest}"]
    assert [k.__name__ for k in plain] == [f"epilogue_forward_relu_{digest}", f"epilogue_backward_relu_{digest}"]


def train(threads, p=0.5, act="rrelu", mode="unit"):
    rng = np.random.default_rng(0)
    x, labels = rng.normal(0, 1, (150, 20)).astype(np.float32), rng.integers(0, 5, 150)
    fastact.set_num_threads(threads)
    try:
        model = MLP([20, 130, 70, 5], act, seed=3, dropout=p, prelu=mode)
        opt = Adam(lr=1e-2)
        losses = [model.train_step(x, labels, opt)[0] for _ in range(5)]
    finally:
        fastact.set_num_threads(None)
    return np.array(losses), [q.value.copy() for q in model.parameters()]


@pytest.mark.skipif(max_threads() < 2, reason="needs NUMBA_NUM_THREADS >= 2")
@pytest.mark.parametrize("act, mode", [("rrelu", "unit"), ("prelu", "shared")])
def test_training_with_dropout_is_bitwise_the_same_on_one_and_two_threads(act, mode):
    one, two = train(1, act=act, mode=mode), train(2, act=act, mode=mode)
    assert np.array_equal(one[0], two[0]) and all(np.array_equal(a, b) for a, b in zip(one[1], two[1]))


def test_only_hidden_layers_drop_out_and_the_model_file_keeps_the_rate(tmp_path):
    model = MLP([6, 8, 7, 3], "relu", "float64", dropout=0.25)
    assert [layer.dropout for layer in model.layers] == [0.25, 0.25, 0.0]
    assert model.config()["dropout"] == 0.25 and "dropout" not in MLP([6, 8, 3]).config()
    model.save(tmp_path / "m.npz")
    assert fastact.MLP.load(tmp_path / "m.npz").dropout == 0.25


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan"), "0.5", True, None])
def test_a_bad_rate_names_the_value(bad):
    with pytest.raises(SettingsError, match=r"^dropout must be in \[0, 1\). Received: dropout="):
        fastact.Dense(3, 2, dropout=bad)
    with pytest.raises(SettingsError, match=r"^dropout must be in \[0, 1\)"):
        MLP([3, 2, 2], dropout=bad)
    if not isinstance(bad, str) and bad is not None:
        assert fastact.TrainConfig(dropout=bad).problems()[0].field == "dropout"
