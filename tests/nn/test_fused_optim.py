"""The optimizer step fused into the backward kernels (`MLP.train_step`) against the separate path
(`MLP.backward()` then `Optimizer.step`) and against `tests/naive.py`'s update rules.

Fused and separate run the same compiled rule kernel on the same gradients, so the parameters
must agree bitwise after every step, in both dtypes, for every rule and setting (weight decay on
weights only, Adam's bias correction at the step's count). Against the float64 naive reference
(`naive.mlp_loss_and_grads` + `naive.sgd_step`/`adam_step`), the tolerances of
`tests/nn/test_model.py`: float64 rtol 1e-10 (atol 1e-12), float32 rtol 1e-4 (atol 1e-5).
"""

from __future__ import annotations

import numpy as np
import pytest

import fastact
from fastact.nn import optim

import naive

SIZES = [6, 9, 5, 3]
TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-4, atol=1e-5)}

RULES = [
    ("sgd", dict(lr=0.1)),
    ("sgd", dict(lr=0.05, weight_decay=0.05)),
    ("sgd", dict(lr=0.05, momentum=0.9)),
    ("sgd", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("adam", dict(lr=1e-2)),
    ("adam", dict(lr=1e-2, weight_decay=0.1, beta1=0.5, beta2=0.9, eps=1e-6)),
    ("adamw", dict(lr=1e-2, weight_decay=0.1)),
]
MODELS = [("relu", {}), ("rrelu", {}), ("prelu", {"prelu": "unit"}), ("prelu", {"prelu": "shared"}),
          ("gelu", {})]


def make_opt(kind, kw):
    if kind == "sgd":
        return optim.SGD(**kw)
    return optim.Adam(decoupled=kind == "adamw", **kw)


def make_model(act, dtype, model_kw):
    model = fastact.MLP(SIZES, act, dtype=dtype, seed=5, **model_kw)
    for layer in model.layers:
        layer.b[...] = np.linspace(-0.3, 0.3, layer.b.size)
        if layer.alpha is not None:
            layer.alpha[...] = np.linspace(0.1, 0.4, layer.alpha.size)
    return model


def batch(step, dtype, n=11):
    rng = np.random.default_rng(step)
    return rng.normal(size=(n, SIZES[0])).astype(dtype), rng.integers(0, SIZES[-1], n)


def separate_step(model, x, labels, opt):
    """The unfused path: gradients first, then `Optimizer.step` over them."""
    logits = model.forward(x, training=True, step=opt.steps)
    total, correct = model.loss(logits, labels, want_grad=True)
    model.backward()
    opt.step(model.parameters())
    return total, correct


def params_of(model):
    return [p.value.copy() for p in model.parameters()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act, model_kw", MODELS, ids=lambda v: v if isinstance(v, str) else "-".join(v.values()))
@pytest.mark.parametrize("kind, kw", RULES)
def test_fused_step_is_bitwise_the_separate_step(kind, kw, act, model_kw, dtype):
    fused, separate = make_model(act, dtype, model_kw), make_model(act, dtype, model_kw)
    opt_f, opt_s = make_opt(kind, kw), make_opt(kind, kw)
    for step in range(4):
        x, labels = batch(step, dtype)
        assert fused.train_step(x, labels, opt_f) == separate_step(separate, x, labels, opt_s)
        for p, a, b in zip(fused.parameters(), params_of(fused), params_of(separate)):
            np.testing.assert_array_equal(a, b, err_msg=f"{p.name} after step {step + 1}")
        # The fused path fills the gradients too.
        for pf, ps in zip(fused.parameters(), separate.parameters()):
            np.testing.assert_array_equal(pf.grad, ps.grad, err_msg=f"grad of {pf.name}")
    assert opt_f.steps == opt_s.steps == 4


def reference_step(model, x, labels, kind, kw, states, step):
    """New float64 (ws, bs, alphas) after one naive step: decay on weights only."""
    ws = [lyr.w.astype(np.float64) for lyr in model.layers]
    bs = [lyr.b.astype(np.float64) for lyr in model.layers]
    alphas = [None if lyr.alpha is None else lyr.alpha.astype(np.float64) for lyr in model.layers]
    slopes = None
    if model.act == "rrelu":
        slopes = [naive.probe_slopes((len(x), lyr.n_out), seed=model.seed, index=i, step=step, **model.act_params)
                  for i, lyr in enumerate(model.layers[:-1])]
    params = {} if model.act in naive.SLOPED else model.act_params
    _, _, grads = naive.mlp_loss_and_grads(ws, bs, x, labels, model.act, slopes, alphas, **params)
    if kind == "sgd":
        rule = naive.sgd_step
    else:
        def rule(p, g, s, **k):
            return naive.adam_step(p, g, s, decoupled=kind == "adamw", **k)
    nodecay = {**kw, "weight_decay": 0.0}
    out = []
    for i, g in enumerate(grads):
        new = {"w": rule(ws[i], g["dw"], states.setdefault(("w", i), {}), **kw),
               "b": rule(bs[i], g["db"], states.setdefault(("b", i), {}), **nodecay)}
        if alphas[i] is not None:
            new["alpha"] = rule(alphas[i], g["dalpha"], states.setdefault(("a", i), {}), **nodecay)
        out.append(new)
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act, model_kw", MODELS[:4], ids=lambda v: v if isinstance(v, str) else "-".join(v.values()))
@pytest.mark.parametrize("kind, kw", RULES)
def test_fused_step_matches_the_naive_reference(kind, kw, act, model_kw, dtype):
    model, opt, states = make_model(act, dtype, model_kw), make_opt(kind, kw), {}
    for step in range(3):  # Adam's bias correction differs at every step
        x, labels = batch(step, dtype)
        ref = reference_step(model, x, labels, kind, kw, states, opt.steps)
        model.train_step(x, labels, opt)
        for i, layer in enumerate(model.layers):
            for name, want in ref[i].items():
                np.testing.assert_allclose(getattr(layer, name), want, **TOL[dtype],
                                           err_msg=f"{name}{i} after step {step + 1}")


def test_dense_backward_alone_leaves_the_parameters_alone():
    # The gradient-only path (gradient checks, tests, your own optimizer) never updates.
    layer = fastact.Dense(5, 4, "prelu", "float64", rng=np.random.default_rng(0))
    before = [p.value.copy() for p in layer.parameters()]
    layer.forward(np.random.default_rng(1).normal(size=(3, 5)), training=True)
    layer.backward(np.ones((3, 4)))
    for p, b in zip(layer.parameters(), before):
        np.testing.assert_array_equal(p.value, b, err_msg=p.name)
    assert np.abs(layer.dw).sum() > 0


def test_fused_dense_backward_updates_with_the_given_rule():
    # One SGD step fused into Dense.backward: w - lr * (dw + wd * w), b - lr * db (no decay).
    layer = fastact.Dense(5, 4, "relu", "float64", rng=np.random.default_rng(0))
    w0, b0 = layer.w.copy(), layer.b.copy()
    layer.forward(np.random.default_rng(1).normal(size=(3, 5)), training=True)
    opt = optim.SGD(lr=0.5, weight_decay=0.1)
    dx = layer.backward(np.ones((3, 4)), update=opt.updates(layer.parameters()))
    assert dx.shape == (3, 5)
    np.testing.assert_allclose(layer.w, w0 - 0.5 * (layer.dw + 0.1 * w0), rtol=1e-15)
    np.testing.assert_allclose(layer.b, b0 - 0.5 * layer.db, rtol=1e-15)


def test_fused_dense_backward_rejects_updates_that_do_not_fit():
    layer = fastact.Dense(5, 4, "relu", "float32", rng=np.random.default_rng(0))
    layer.forward(np.zeros((2, 5), np.float32), training=True)
    opt = optim.Adam(lr=0.1)
    with pytest.raises(ValueError, match="expected 2 updates .*Received: 1"):
        layer.backward(np.ones((2, 4), np.float32), update=opt.updates(layer.parameters())[:1])
    other = fastact.Dense(5, 4, "relu", "float64", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="float32.*float64"):
        layer.backward(np.ones((2, 4), np.float32), update=opt.updates(other.parameters()))


def test_separate_step_names_a_parameter_it_cannot_update():
    w = np.zeros((4, 3))[:, ::2]
    with pytest.raises(ValueError, match="parameter w .* C-contiguous.*Received: value flags c_contiguous=False"):
        optim.SGD(lr=0.1).step([optim.Parameter("w", w, np.zeros_like(w))])
    with pytest.raises(ValueError, match="gradient of b must match.*Received: dtype=float32"):
        optim.SGD(lr=0.1).step([optim.Parameter("b", np.zeros(3), np.zeros(3, np.float32))])


@pytest.mark.parametrize("kind", ["sgd", "adamw"])
def test_a_schedule_changing_the_learning_rate_between_steps_applies(kind):
    # The fused path reuses its Update objects; their rows are refilled from the optimizer each step.
    fused, separate = make_model("relu", "float64", {}), make_model("relu", "float64", {})
    kw = dict(lr=0.1, weight_decay=0.01, **({"momentum": 0.5} if kind == "sgd" else {}))
    opt_f, opt_s = make_opt(kind, kw), make_opt(kind, kw)
    for step, lr in enumerate([0.1, 0.03, 0.01]):
        opt_f.lr = opt_s.lr = lr
        x, labels = batch(step, "float64")
        fused.train_step(x, labels, opt_f)
        separate_step(separate, x, labels, opt_s)
    for a, b in zip(params_of(fused), params_of(separate)):
        np.testing.assert_array_equal(a, b)
    # ... and the rate actually changed the step: a constant-rate run ends elsewhere.
    constant, opt_c = make_model("relu", "float64", {}), make_opt(kind, kw)
    for step in range(3):
        constant.train_step(*batch(step, "float64"), opt_c)
    assert not np.array_equal(params_of(constant)[0], params_of(fused)[0])
