"""Slow, obviously-correct NumPy float64 references for the engine's tests.

Written from the formulas in the literature (PyTorch / Keras documentation,
He et al. 2015, Xu et al. 2015, Klambauer et al. 2017, Hendrycks & Gimpel
2016, Misra 2019, Kingma & Ba 2015, Loshchilov & Hutter 2019), not from
fastact's code. Everything here runs in float64 with plain NumPy/SciPy, and
favours clarity over speed.

Every activation reference has the signature ``f(z, **params)``; RReLU and
PReLU take the slope array directly (``slope`` broadcast against ``z``),
because the slope is data (learned, or sampled), not a formula.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf, expit

# Klambauer et al. 2017, eq. (14), to more digits than float64 holds.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _f64(z):
    return np.asarray(z, dtype=np.float64)


def softplus_unit(z):
    """log(1 + e^z), via logaddexp(0, z): exact for every finite z."""
    return np.logaddexp(0.0, _f64(z))


# ---- forward: y = f(z) -------------------------------------------------------
def linear(z):
    return _f64(z).copy()


def softplus(z, beta=1.0, threshold=20.0):
    """PyTorch: (1/beta) log(1 + exp(beta z)); reverts to z where beta z > threshold."""
    z = _f64(z)
    return np.where(beta * z > threshold, z, softplus_unit(beta * z) / beta)


def sigmoid(z):
    return expit(_f64(z))


def relu(z):
    return np.maximum(_f64(z), 0.0)


def leaky_relu(z, negative_slope=0.3):
    z = _f64(z)
    return np.where(z > 0, z, negative_slope * z)


def prelu(z, slope):
    """He et al. 2015: f(z) = z for z > 0, a z otherwise; ``slope`` broadcasts over columns."""
    z = _f64(z)
    return np.where(z > 0, z, _f64(slope) * z)


def rrelu(z, slope):
    """Xu et al. 2015: z for z > 0, r z otherwise (r sampled in training, (l + u)/2 in eval)."""
    return prelu(z, slope)


def tanh(z):
    return np.tanh(_f64(z))


def elu(z, alpha=1.0):
    z = _f64(z)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def selu(z):
    z = _f64(z)
    return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def gelu(z):
    """z Phi(z), Phi the standard normal CDF."""
    z = _f64(z)
    return z * 0.5 * (1.0 + erf(z / np.sqrt(2.0)))


def _gelu_inner(z):
    return np.sqrt(2.0 / np.pi) * (z + 0.044715 * z**3)


def gelu_tanh(z):
    """Hendrycks & Gimpel's tanh approximation."""
    z = _f64(z)
    return 0.5 * z * (1.0 + np.tanh(_gelu_inner(z)))


def silu(z):
    z = _f64(z)
    return z * expit(z)


def mish(z):
    z = _f64(z)
    return z * np.tanh(softplus_unit(z))


# ---- derivative: dy/dz -----------------------------------------------------------
def d_linear(z):
    return np.ones_like(_f64(z))


def d_softplus(z, beta=1.0, threshold=20.0):
    z = _f64(z)
    return np.where(beta * z > threshold, 1.0, expit(beta * z))


def d_sigmoid(z):
    s = expit(_f64(z))
    return s * (1.0 - s)


def d_relu(z):
    return (_f64(z) > 0).astype(np.float64)


def d_leaky_relu(z, negative_slope=0.3):
    return np.where(_f64(z) > 0, 1.0, negative_slope)


def d_prelu(z, slope):
    z = _f64(z)
    return np.where(z > 0, 1.0, np.broadcast_to(_f64(slope), z.shape))


d_rrelu = d_prelu


def d_tanh(z):
    return 1.0 / np.cosh(np.clip(_f64(z), -350, 350)) ** 2


def d_elu(z, alpha=1.0):
    z = _f64(z)
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


def d_selu(z):
    z = _f64(z)
    return SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))


def d_gelu(z):
    """Phi(z) + z phi(z)."""
    z = _f64(z)
    pdf = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    return 0.5 * (1.0 + erf(z / np.sqrt(2.0))) + z * pdf


def d_gelu_tanh(z):
    """Product rule on 0.5 z (1 + tanh(u)), u = sqrt(2/pi)(z + 0.044715 z^3)."""
    z = _f64(z)
    t = np.tanh(_gelu_inner(z))
    du = np.sqrt(2.0 / np.pi) * (1.0 + 3 * 0.044715 * z * z)
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * du


def d_silu(z):
    z = _f64(z)
    s = expit(z)
    return s + z * s * (1.0 - s)


def d_mish(z):
    """tanh(sp(z)) + z sech^2(sp(z)) sigmoid(z), since sp'(z) = sigmoid(z)."""
    z = _f64(z)
    t = np.tanh(softplus_unit(z))
    return t + z * (1.0 - t * t) * expit(z)


def d_prelu_dslope(z):
    """d f / d a for PReLU: z where z <= 0, else 0."""
    z = _f64(z)
    return np.where(z > 0, 0.0, z)


FORWARD = {
    "linear": linear, "softplus": softplus, "sigmoid": sigmoid, "relu": relu, "leaky_relu": leaky_relu,
    "prelu": prelu, "rrelu": rrelu, "tanh": tanh, "elu": elu, "selu": selu, "gelu": gelu,
    "gelu_tanh": gelu_tanh, "silu": silu, "mish": mish,
}
DERIVATIVE = {
    "linear": d_linear, "softplus": d_softplus, "sigmoid": d_sigmoid, "relu": d_relu,
    "leaky_relu": d_leaky_relu, "prelu": d_prelu, "rrelu": d_rrelu, "tanh": d_tanh, "elu": d_elu,
    "selu": d_selu, "gelu": d_gelu, "gelu_tanh": d_gelu_tanh, "silu": d_silu, "mish": d_mish,
}
#: Activations whose reference takes the slope array (not a keyword parameter).
SLOPED = ("prelu", "rrelu")


def act_forward(name, z, slope=None, **params):
    """Reference forward of activation ``name`` (``slope`` for prelu/rrelu)."""
    return FORWARD[name](z, slope) if name in SLOPED else FORWARD[name](z, **params)


def act_derivative(name, z, slope=None, **params):
    return DERIVATIVE[name](z, slope) if name in SLOPED else DERIVATIVE[name](z, **params)


# ---- dense layer -----------------------------------------------------------------
def dense_forward(x, w, b, name, slope=None, **params):
    """(z, y): z = x w + b, y = f(z), in float64."""
    z = _f64(x) @ _f64(w) + _f64(b)
    return z, act_forward(name, z, slope, **params)


def dense_backward(x, w, b, dy, name, slope=None, shared=False, **params):
    """Gradients of L with dL/dy = dy: dict of dx, dw, db (and dalpha for prelu).

    dz = dy * f'(z);  dw = x^T dz;  db = sum_rows dz;  dx = dz w^T;
    dalpha_j = sum_i dy_ij * min(z_ij, 0)  (summed over j too when shared).
    """
    x, w, dy = _f64(x), _f64(w), _f64(dy)
    z, _ = dense_forward(x, w, b, name, slope, **params)
    dz = dy * act_derivative(name, z, slope, **params)
    out = {"dx": dz @ w.T, "dw": x.T @ dz, "db": dz.sum(axis=0)}
    if name == "prelu":
        da = (dy * d_prelu_dslope(z)).sum(axis=0)
        out["dalpha"] = np.array([da.sum()]) if shared else da
    return out


# ---- softmax cross-entropy ---------------------------------------------------------
def log_softmax(s):
    s = _f64(s)
    m = s.max(axis=1, keepdims=True)
    return s - m - np.log(np.exp(s - m).sum(axis=1, keepdims=True))


def softmax_xent(logits, labels):
    """(per-row loss, dL/dlogits of the *mean* loss, per-row correct)."""
    lp = log_softmax(logits)
    n, c = lp.shape
    rows = np.arange(n)
    loss = -lp[rows, labels]
    onehot = np.zeros((n, c))
    onehot[rows, labels] = 1.0
    grad = (np.exp(lp) - onehot) / n
    correct = np.argmax(_f64(logits), axis=1) == labels
    return loss, grad, correct


# ---- optimizers (one step, returning new arrays; state dicts updated in place) -------------
def sgd_step(p, g, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    """PyTorch's SGD: g += wd p; b = mu b + g; g = g + mu b (Nesterov) or b; p -= lr g."""
    p, g = _f64(p), _f64(g) + weight_decay * _f64(p)
    if momentum:
        buf = state["buf"] = momentum * state.get("buf", 0.0) + g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g


def adam_step(p, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    """Kingma & Ba with bias correction; L2 (Adam) or decoupled decay (AdamW, Loshchilov & Hutter)."""
    p, g = _f64(p), _f64(g)
    t = state["t"] = state.get("t", 0) + 1
    if decoupled:
        p = p * (1.0 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


# ---- a whole MLP step ------------------------------------------------------------------
def mlp_loss_and_grads(ws, bs, x, labels, name, slopes=None, alphas=None, **params):
    """Mean softmax CE of an MLP with hidden activation ``name`` and a linear output.

    ``slopes[i]`` is hidden layer i's (B, N) slope array for rrelu; ``alphas[i]``
    its alpha (N,) or (1,) for prelu. Returns (mean loss, correct count, grads)
    with grads a list of dicts per layer (dw, db, and dalpha for prelu).
    """
    n_hidden = len(ws) - 1
    hs, zs = [_f64(x)], []
    for i in range(n_hidden):
        slope = slopes[i] if name == "rrelu" else (alphas[i] if name == "prelu" else None)
        z, y = dense_forward(hs[-1], ws[i], bs[i], name, slope, **params)
        zs.append(z)
        hs.append(y)
    logits = hs[-1] @ _f64(ws[-1]) + _f64(bs[-1])
    loss, g, correct = softmax_xent(logits, labels)
    grads = [None] * len(ws)
    grads[-1] = {"dw": hs[-1].T @ g, "db": g.sum(axis=0)}
    dh = g @ _f64(ws[-1]).T
    for i in range(n_hidden - 1, -1, -1):
        slope = slopes[i] if name == "rrelu" else (alphas[i] if name == "prelu" else None)
        shared = name == "prelu" and np.size(alphas[i]) == 1
        grads[i] = dense_backward(hs[i], ws[i], bs[i], dh, name, slope, shared, **params)
        dh = grads[i]["dx"]
    return loss.mean(), int(correct.sum()), grads


# ---- probes: read what the engine did without reusing its formulas -------------------
def identity_dense(name, n, dtype, seed=0, index=0, **params):
    """A fastact Dense(n, n) with w = I, b = 0, so z == x exactly (x * 1 + 0 sums are exact)."""
    import fastact

    layer = fastact.Dense(n, n, name, dtype, rng=np.random.default_rng(0), index=index, seed=seed, **params)
    layer.w[...] = np.eye(n, dtype=layer.dtype)
    return layer


def probe_slopes(shape, dtype="float64", seed=0, index=0, step=0, training=True, **params):
    """The (B, N) negative-side slopes an rrelu layer (seed, index) draws at ``step``.

    A layer with w = 0 and b = -1 has z = -1 everywhere, so y = -slope.
    """
    import fastact

    b, n = shape
    layer = fastact.Dense(1, n, "rrelu", dtype, rng=np.random.default_rng(0), index=index, seed=seed, **params)
    layer.w[...] = 0.0
    layer.b[...] = -1.0
    y = layer.forward(np.zeros((b, 1), layer.dtype), training=training, step=step)
    return -np.asarray(y, dtype=np.float64)
