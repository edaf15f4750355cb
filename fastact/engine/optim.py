"""Element-wise optimizer updates, parallel over a flattened parameter.

SGD (PyTorch's formulation)::

    g = grad + wd * p
    v = mu * v + g                       (momentum)
    p -= lr * (g + mu * v)   (Nesterov)  or  p -= lr * v

Adam (Kingma & Ba, bias-corrected; ``wd`` as L2, ``decoupled`` as AdamW)::

    g = grad + wd * p                    (L2)
    m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)  [+ lr * wd * p if decoupled]
"""

from __future__ import annotations

import math

from fastact.engine.jit import parallel, prange


@parallel
def sgd(p, g, v, lr, momentum, nesterov, wd):
    for i in prange(p.size):
        gi = g[i] + wd * p[i]
        if momentum != 0.0:
            vi = momentum * v[i] + gi
            v[i] = vi
            gi = gi + momentum * vi if nesterov else vi
        p[i] -= lr * gi


@parallel
def adam(p, g, m, v, lr, b1, b2, eps, wd, decoupled, step):
    c1 = 1.0 - b1 ** step
    c2 = 1.0 - b2 ** step
    for i in prange(p.size):
        gi = g[i] if decoupled else g[i] + wd * p[i]
        mi = b1 * m[i] + (1.0 - b1) * gi
        vi = b2 * v[i] + (1.0 - b2) * gi * gi
        m[i] = mi
        v[i] = vi
        upd = (mi / c1) / (math.sqrt(vi / c2) + eps)
        if decoupled:
            upd += wd * p[i]
        p[i] -= lr * upd
