"""PyTorch as an independent oracle for every activation and a fused dense layer.

Skipped cleanly when torch is not installed (it is only a test oracle; fastact
never imports it). Torch always computes in float64 from fastact's (possibly
float32-rounded) inputs, so the comparison measures fastact's error alone
(torch's own float32 gelu_tanh derivative is ~1e-6 off in the tail); tolerances as in
test_activations: float64 rtol 1e-10 / atol 1e-12, float32 rtol 1e-5 / atol 1e-6,
and for the dense layer's GEMMs float64 rtol 1e-10 / atol 1e-10 and float32
rtol 1e-4 / atol 1e-4 on sums of O(10) terms of O(1).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from fastact import activations  # noqa: E402

import naive  # noqa: E402

ALL = activations.names("every")
DTYPES = ["float32", "float64"]
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}
DENSE_TOL = {"float32": dict(rtol=1e-4, atol=1e-4), "float64": dict(rtol=1e-10, atol=1e-10)}

# name -> (fastact params, torch function of (z, slope tensor or None))
ORACLE = {
    "linear": ({}, lambda z, a: z),
    "softplus": ({"beta": 1.5, "threshold": 4.0}, lambda z, a: F.softplus(z, beta=1.5, threshold=4.0)),
    "sigmoid": ({}, lambda z, a: torch.sigmoid(z)),
    "relu": ({}, lambda z, a: F.relu(z)),
    "leaky_relu": ({}, lambda z, a: F.leaky_relu(z, 0.3)),
    "prelu": ({}, lambda z, a: F.prelu(z, a)),
    # Evaluation mode: torch uses the midpoint (lower + upper) / 2, as fastact does.
    "rrelu": ({"lower": 0.1, "upper": 0.3}, lambda z, a: F.rrelu(z, 0.1, 0.3, training=False)),
    "tanh": ({}, lambda z, a: torch.tanh(z)),
    "elu": ({"alpha": 0.7}, lambda z, a: F.elu(z, alpha=0.7)),
    "selu": ({}, lambda z, a: F.selu(z)),
    "gelu": ({}, lambda z, a: F.gelu(z, approximate="none")),
    "gelu_tanh": ({}, lambda z, a: F.gelu(z, approximate="tanh")),
    "silu": ({}, lambda z, a: F.silu(z)),
    "mish": ({}, lambda z, a: F.mish(z)),
}


def test_oracle_covers_every_activation():
    assert set(ORACLE) == set(ALL)


def t64(a, grad=True):
    return torch.tensor(np.asarray(a, np.float64), requires_grad=grad)


def torch_act(name, z, alpha):
    return ORACLE[name][1](z, alpha)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ALL)
def test_elementwise_forward_and_backward_match_torch(name, dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 4, (9, 13))
    x[0, :6] = [-1e4, 1e4, -1e3, 1e3, -60.0, 60.0]
    x = np.where(np.abs(x) < 1e-3, 0.5, x).astype(dtype)
    dy = rng.normal(size=x.shape).astype(dtype)
    params = ORACLE[name][0]
    layer = naive.identity_dense(name, 13, dtype, **params)
    if layer.alpha is not None:
        layer.alpha[...] = np.linspace(-0.2, 0.6, 13)
    y = layer.forward(x).copy()
    dx = layer.backward(dy).copy()

    z = t64(x)
    alpha = None if layer.alpha is None else t64(layer.alpha)
    out = torch_act(name, z, alpha)
    out.backward(t64(dy, grad=False))
    np.testing.assert_allclose(y, out.detach().numpy(), **TOL[dtype], err_msg="forward")
    np.testing.assert_allclose(dx, z.grad.numpy(), **TOL[dtype], err_msg="backward")
    if alpha is not None:
        np.testing.assert_allclose(layer.dalpha, alpha.grad.numpy(), **DENSE_TOL[dtype], err_msg="dalpha")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ALL)
def test_dense_layer_matches_torch_autograd(name, dtype):
    import fastact

    rng = np.random.default_rng(1)
    params = ORACLE[name][0]
    layer = fastact.Dense(11, 7, name, dtype, rng=rng, **params)
    layer.b[...] = rng.normal(size=7)
    x = rng.normal(size=(6, 11)).astype(dtype)
    dy = rng.normal(size=(6, 7)).astype(dtype)
    y = layer.forward(x).copy()
    dx = layer.backward(dy).copy()

    tx, tw, tb = (t64(a) for a in (x, layer.w, layer.b))
    ta = None if layer.alpha is None else t64(layer.alpha)
    out = torch_act(name, tx @ tw + tb, ta)
    out.backward(t64(dy, grad=False))
    tol = DENSE_TOL[dtype]
    np.testing.assert_allclose(y, out.detach().numpy(), **tol, err_msg="y")
    np.testing.assert_allclose(dx, tx.grad.numpy(), **tol, err_msg="dx")
    np.testing.assert_allclose(layer.dw, tw.grad.numpy(), **tol, err_msg="dw")
    np.testing.assert_allclose(layer.db, tb.grad.numpy(), **tol, err_msg="db")
    if ta is not None:
        np.testing.assert_allclose(layer.dalpha, ta.grad.numpy(), **tol, err_msg="dalpha")


def test_shared_prelu_gradient_matches_torch():
    import fastact

    rng = np.random.default_rng(2)
    layer = fastact.Dense(5, 8, "prelu", "float64", rng=rng, prelu="shared")
    x = rng.normal(size=(10, 5))
    dy = rng.normal(size=(10, 8))
    layer.forward(x)
    layer.backward(dy)
    tx, tw, tb = (torch.tensor(a.copy(), requires_grad=True) for a in (x, layer.w, layer.b))
    ta = torch.tensor(layer.alpha.copy(), requires_grad=True)  # shape (1,): torch's shared weight
    F.prelu(tx @ tw + tb, ta).backward(torch.tensor(dy))
    np.testing.assert_allclose(layer.dalpha, ta.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["sgd_nesterov", "adam", "adamw"])
def test_prelu_mlp_step_matches_torch_optimizers(kind):
    import fastact

    model = fastact.MLP([6, 9, 4], "prelu", dtype="float64", seed=0)
    rng = np.random.default_rng(3)
    tensors = []
    for layer in model.layers:
        group = [torch.tensor(layer.w.copy(), requires_grad=True), torch.tensor(layer.b.copy(), requires_grad=True)]
        if layer.alpha is not None:
            group.append(torch.tensor(layer.alpha.copy(), requires_grad=True))
        tensors.append(group)
    decayed = [g[0] for g in tensors]
    other = [t for g in tensors for t in g[1:]]
    groups = [{"params": decayed, "weight_decay": 0.05}, {"params": other, "weight_decay": 0.0}]
    if kind == "sgd_nesterov":
        ours = fastact.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)
        theirs = torch.optim.SGD(groups, lr=0.1, momentum=0.9, nesterov=True)
    elif kind == "adam":
        ours = fastact.Adam(lr=0.01, weight_decay=0.05)
        theirs = torch.optim.Adam(groups, lr=0.01)
    else:
        ours = fastact.Adam(lr=0.01, weight_decay=0.05, decoupled=True)
        theirs = torch.optim.AdamW(groups, lr=0.01)
    for _ in range(3):
        x = rng.normal(size=(8, 6))
        labels = rng.integers(0, 4, 8)
        total, _ = model.train_step(x, labels, ours)
        theirs.zero_grad()
        (w0, b0, a0), (w1, b1) = tensors
        logits = F.prelu(torch.tensor(x) @ w0 + b0, a0) @ w1 + b1
        loss = F.cross_entropy(logits, torch.tensor(labels))
        loss.backward()
        theirs.step()
        assert total / 8 == pytest.approx(loss.item(), rel=1e-10)
    for layer, group in zip(model.layers, tensors):
        for mine, t in zip([layer.w, layer.b, layer.alpha], group):
            np.testing.assert_allclose(mine, t.detach().numpy(), rtol=1e-9, atol=1e-12)
