"""`fastact.MLP`: a whole training step against a naive NumPy MLP, evaluation,
persistence, divergence handling, initialisation and argument checks.

The naive step (`naive.mlp_loss_and_grads` + `naive.sgd_step`/`adam_step`)
runs in float64. Tolerances on a [6, 5, 4, 3] model in float64: rtol 1e-10,
atol 1e-12 (the engine's polynomial exp and BLAS reassociation stay far
below); float32 runs are compared with rtol 1e-4, atol 1e-5.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import fastact
from fastact import activations
from fastact.engine.threads import max_threads

import naive

ALL = activations.names("every")
SIZES = [6, 5, 4, 3]
TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-4, atol=1e-5)}


def batch(n=7, d=6, c=3, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(dtype), rng.integers(0, c, n)


def snapshot(model):
    """Float64 copies of (ws, bs, alphas) as the naive MLP wants them."""
    ws = [layer.w.astype(np.float64) for layer in model.layers]
    bs = [layer.b.astype(np.float64) for layer in model.layers]
    alphas = [None if layer.alpha is None else layer.alpha.astype(np.float64) for layer in model.layers]
    return ws, bs, alphas


def hidden_slopes(model, n, step):
    if model.act != "rrelu":
        return None
    return [naive.probe_slopes((n, layer.n_out), seed=model.seed, index=i, step=step, **model.act_params)
            for i, layer in enumerate(model.layers[:-1])]


def naive_step(model, x, labels, opt_kind, kw, states, step):
    """One reference training step; returns (mean loss, correct, new ws, bs, alphas)."""
    ws, bs, alphas = snapshot(model)
    params = {} if model.act in naive.SLOPED else model.act_params
    loss, correct, grads = naive.mlp_loss_and_grads(ws, bs, x, labels, model.act,
                                                    hidden_slopes(model, len(x), step), alphas, **params)
    update = naive.sgd_step if opt_kind == "sgd" else naive.adam_step
    new = ([], [], [])
    for i, g in enumerate(grads):
        # Weights decay; biases and PReLU slopes do not.
        new[0].append(update(ws[i], g["dw"], states.setdefault(("w", i), {}), **kw))
        nodecay = {**kw, "weight_decay": 0.0}
        new[1].append(update(bs[i], g["db"], states.setdefault(("b", i), {}), **nodecay))
        if alphas[i] is not None:
            new[2].append(update(alphas[i], g["dalpha"], states.setdefault(("a", i), {}), **nodecay))
        else:
            new[2].append(None)
    return loss, correct, new


OPTS = [("sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.01)), ("adam", dict(lr=0.01, weight_decay=0.01))]


def make_opt(kind, kw):
    return fastact.SGD(**kw) if kind == "sgd" else fastact.Adam(**kw)


def check_training(act, dtype, opt_kind, kw, steps=2, **model_kw):
    model = fastact.MLP(SIZES, act, dtype=dtype, seed=3, **model_kw)
    if model.layers[0].alpha is not None:
        for layer in model.layers[:-1]:
            layer.alpha[...] = np.linspace(0.1, 0.4, layer.alpha.size)
    opt = make_opt(opt_kind, kw)
    states = {}
    for step in range(steps):
        x, labels = batch(seed=step, dtype=dtype)
        ref_loss, ref_correct, (ws, bs, alphas) = naive_step(model, x, labels, opt_kind, kw, states, opt.steps)
        total, correct = model.train_step(x, labels, opt)
        assert total == pytest.approx(ref_loss * len(x), **{"rel": TOL[dtype]["rtol"]})
        assert correct == ref_correct
        for i, layer in enumerate(model.layers):
            np.testing.assert_allclose(layer.w, ws[i], **TOL[dtype], err_msg=f"w{i} step {step}")
            np.testing.assert_allclose(layer.b, bs[i], **TOL[dtype], err_msg=f"b{i} step {step}")
            if layer.alpha is not None:
                np.testing.assert_allclose(layer.alpha, alphas[i], **TOL[dtype], err_msg=f"alpha{i} step {step}")
    return model


@pytest.mark.parametrize("opt_kind, kw", OPTS)
@pytest.mark.parametrize("act", ALL)
def test_train_step_matches_naive_mlp(act, opt_kind, kw):
    check_training(act, "float64", opt_kind, kw)


@pytest.mark.parametrize("act", ["relu", "rrelu", "prelu", "softplus"])
def test_train_step_matches_naive_mlp_float32(act):
    check_training(act, "float32", "adam", dict(lr=0.01))


@pytest.mark.parametrize("mode", ["unit", "shared"])
def test_prelu_modes_train_like_the_reference(mode):
    model = check_training("prelu", "float64", "sgd", dict(lr=0.5, weight_decay=0.1), steps=3, prelu=mode)
    assert model.layers[0].alpha.shape == ((5,) if mode == "unit" else (1,))


@pytest.mark.parametrize("opt_kind, kw", OPTS)
def test_model_without_hidden_layer_is_softmax_regression(opt_kind, kw):
    model = fastact.MLP([6, 3], "relu", dtype="float64", seed=0)
    opt = make_opt(opt_kind, kw)
    states = {}
    for step in range(2):
        x, labels = batch(seed=step)
        ref_loss, ref_correct, (ws, bs, _) = naive_step(model, x, labels, opt_kind, kw, states, opt.steps)
        total, correct = model.train_step(x, labels, opt)
        assert total == pytest.approx(ref_loss * len(x), rel=1e-12) and correct == ref_correct
        np.testing.assert_allclose(model.layers[0].w, ws[0], **TOL["float64"])
        np.testing.assert_allclose(model.layers[0].b, bs[0], **TOL["float64"])


def test_leaky_relu_slope_above_one_trains_like_the_reference():
    check_training("leaky_relu", "float64", "sgd", dict(lr=0.1), negative_slope=1.7)


def test_rrelu_custom_range_trains_like_the_reference():
    check_training("rrelu", "float64", "adam", dict(lr=0.01), steps=3, lower=0.0, upper=0.9)


# ---- evaluation --------------------------------------------------------------------------
@pytest.mark.parametrize("act", ["rrelu", "prelu", "sigmoid"])
def test_evaluate_matches_reference_across_batches(act):
    model = fastact.MLP(SIZES, act, dtype="float64", seed=1)
    x, labels = batch(n=11, seed=5)
    ws, bs, alphas = snapshot(model)
    slopes = [np.full((11, n), (1 / 8 + 1 / 3) / 2) for n in SIZES[1:-1]] if act == "rrelu" else None
    loss, correct, _ = naive.mlp_loss_and_grads(ws, bs, x, labels, act, slopes, alphas)
    mean_loss, acc = model.evaluate(x, labels, batch_size=4)  # batches of 4, 4, 3
    assert mean_loss == pytest.approx(loss, rel=1e-12)
    assert acc == correct / 11


def test_predict_logits_is_a_copy_in_evaluation_mode():
    model = fastact.MLP(SIZES, "rrelu", dtype="float64", seed=1)
    x, _ = batch()
    a = model.predict_logits(x)
    model.forward(x, training=True, step=5)
    b = model.predict_logits(x)
    assert np.array_equal(a, b)


# ---- persistence ----------------------------------------------------------------------------
@pytest.mark.parametrize("act, dtype, kw", [
    ("prelu", "float32", dict(prelu="shared", init=0.1)),
    ("prelu", "float64", dict(prelu="unit")),
    ("rrelu", "float32", dict(lower=0.05, upper=0.5)),
    ("leaky_relu", "float64", dict(negative_slope=0.01)),
])
def test_save_load_round_trip(tmp_path, act, dtype, kw):
    model = fastact.MLP([6, 8, 5, 3], act, dtype=dtype, seed=4, **kw)
    x, labels = batch(seed=2, dtype=dtype)
    opt = fastact.Adam(lr=0.01)
    for _ in range(3):
        model.train_step(x, labels, opt)  # moves w, b (and alpha) away from their initial values
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = fastact.MLP.load(path)
    assert loaded.config() == model.config()
    json.dumps(loaded.config())  # the config is plain JSON
    for a, b in zip(model.parameters(), loaded.parameters()):
        assert a.name == b.name and a.value.dtype == b.value.dtype
        assert np.array_equal(a.value, b.value)
    assert np.array_equal(model.predict_logits(x), loaded.predict_logits(x))
    # The training stream is part of the config too: the same step draws the same slopes.
    assert np.array_equal(model.forward(x, training=True, step=9), loaded.forward(x, training=True, step=9))


def test_save_then_load_the_same_path_without_suffix(tmp_path):
    # np.savez appends ".npz"; load(path) must find what save(path) wrote.
    model = fastact.MLP([4, 5, 3], "relu", dtype="float64", seed=2)
    path = tmp_path / "model"
    model.save(path)
    loaded = fastact.MLP.load(path)
    assert np.array_equal(loaded.layers[0].w, model.layers[0].w)


def test_config_names_everything_needed_to_rebuild():
    cfg = fastact.MLP([784, 32, 10], "leaky_relu", dtype="float64", seed=5, negative_slope=0.1).config()
    assert cfg == {"sizes": [784, 32, 10], "act": "leaky_relu", "act_params": {"negative_slope": 0.1},
                   "dtype": "float64", "seed": 5, "prelu": "unit"}


# ---- divergence ---------------------------------------------------------------------------------
def test_non_finite_loss_skips_the_update():
    model = fastact.MLP([4, 5, 3], "relu", dtype="float32", seed=0)
    model.layers[-1].w[...] = 3e38
    x = np.full((2, 4), 100.0, np.float32)  # logits overflow to inf, so the loss is nan
    before = [p.value.copy() for p in model.parameters()]
    opt = fastact.SGD(lr=0.1)
    total, _ = model.train_step(x, np.array([0, 1]), opt)
    assert not math.isfinite(total)
    for p, b in zip(model.parameters(), before):
        assert np.array_equal(p.value, b)


# ---- reproducibility --------------------------------------------------------------------------
def train_a_few(seed, threads=None, act="rrelu"):
    fastact.set_num_threads(threads)
    try:
        model = fastact.MLP([20, 70, 65, 4], act, dtype="float32", seed=seed)
        opt = fastact.Adam(lr=0.01)
        rng = np.random.default_rng(0)
        for _ in range(3):
            x = rng.normal(size=(67, 20)).astype(np.float32)
            model.train_step(x, rng.integers(0, 4, 67), opt)
        return [p.value.copy() for p in model.parameters()]
    finally:
        fastact.set_num_threads(None)


def test_same_seed_same_model_bitwise_other_seed_differs():
    a, b, c = train_a_few(1), train_a_few(1), train_a_few(2)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], c[0])


@pytest.mark.skipif(max_threads() < 2, reason="needs NUMBA_NUM_THREADS >= 2")
@pytest.mark.parametrize("act", ["rrelu", "prelu", "relu"])
def test_training_is_bitwise_identical_on_one_and_two_threads(act):
    one, two = train_a_few(1, threads=1, act=act), train_a_few(1, threads=2, act=act)
    assert all(np.array_equal(p, q) for p, q in zip(one, two))


def test_two_models_training_concurrently_match_sequential_runs():
    # A UI thread and a worker both launch parallel kernels (the TUI does): the
    # threading layer must be thread-safe and the results unaffected.
    import threading

    expected = {seed: train_a_few(seed, threads=1) for seed in (1, 2)}
    got = {}

    def work(seed):
        got[seed] = train_a_few(seed, threads=1)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    for seed in (1, 2):
        assert all(np.array_equal(p, q) for p, q in zip(expected[seed], got[seed]))


# ---- initialisation ------------------------------------------------------------------------------
@pytest.mark.parametrize("act, std", [("relu", math.sqrt(2 / 784)), ("selu", math.sqrt(1 / 784)),
                                      ("sigmoid", math.sqrt(2 / (784 + 512)))])
def test_default_initialisation_scale(act, std):
    w = fastact.MLP([784, 512, 10], act, seed=0).layers[0].w.astype(np.float64)
    n = w.size
    # Sample std of n draws: relative standard error 1/sqrt(2n) (~0.1%); 5 sigma.
    assert abs(w.std() / std - 1) < 5 / math.sqrt(2 * n)
    assert abs(w.mean()) < 5 * std / math.sqrt(n)
    if act == "sigmoid":  # glorot_uniform: bounded by sqrt(6 / (fan_in + fan_out))
        assert np.abs(w).max() <= math.sqrt(6 / (784 + 512))
    assert (fastact.MLP([784, 512, 10], act, seed=0).layers[-1].b == 0).all()


# ---- arguments ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, bad", [
    (dict(sizes=[784]), "sizes=\\[784\\]"),
    (dict(sizes=[784, 0, 10]), "sizes=\\[784, 0, 10\\]"),
    (dict(sizes=[784, 10], dtype="int8"), "dtype='int8'"),
    (dict(sizes=[784, 8, 10], act="prelu", prelu="channel"), "prelu='channel'"),
    (dict(sizes=[784, 8, 10], act="leaky_relu", negative_slope=-0.2), "negative_slope=-0.2"),
    (dict(sizes=[784, 8, 10], act="rrelu", lower=0.5, upper=0.1), "lower=0.5"),
    (dict(sizes=[784, 8, 10], act="swish"), "act='swish'"),
    (dict(sizes=[784, 8, 10], initializer="orthogonal"), "initializer='orthogonal'"),
])
def test_bad_arguments_name_the_value(kwargs, bad):
    with pytest.raises(ValueError, match="Received: " + bad):
        fastact.MLP(**kwargs)


@pytest.mark.parametrize("seed", [-1, 1.5, 2**64])
def test_bad_seed_names_the_value(seed):
    with pytest.raises(ValueError, match=f"Received: seed={seed!r}"):
        fastact.MLP([4, 5, 3], seed=seed)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_evaluate_rejects_bad_batch_size(batch_size):
    # batch_size=-1 used to return (0.0, 0.0): a loss of 0 and accuracy 0 for any model.
    model = fastact.MLP([4, 5, 3], dtype="float64")
    with pytest.raises(ValueError, match=f"Received: batch_size={batch_size!r}"):
        model.evaluate(np.ones((6, 4)), np.zeros(6, np.int64), batch_size=batch_size)


def test_bad_inputs_name_the_shape():
    model = fastact.MLP([4, 5, 3])
    opt = fastact.SGD(lr=0.1)
    with pytest.raises(ValueError, match=r"Received: shape=\(2, 5\)"):
        model.train_step(np.ones((2, 5), np.float32), np.zeros(2, np.int64), opt)
    with pytest.raises(ValueError, match=r"Received: shape=\(3,\)"):
        model.train_step(np.ones((2, 4), np.float32), np.zeros(3, np.int64), opt)


@pytest.mark.parametrize("n, bad", [(0, "threads=0"), (max_threads() + 1, f"threads={max_threads() + 1}"),
                                    (1.5, "threads=1.5")])
def test_set_num_threads_rejects_bad_counts(n, bad):
    with pytest.raises(ValueError, match="Received: " + bad):
        fastact.set_num_threads(n)
    assert fastact.get_num_threads() >= 1
