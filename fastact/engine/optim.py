"""Optimizer update rules, applied to a tile of a parameter: fused into backward, or on their own.

SGD (PyTorch's formulation; ``m`` is the momentum buffer)::

    g = grad + wd * p
    m = mu * m + g                       (momentum)
    p -= lr * (g + mu * m)   (Nesterov)  or  p -= lr * m   (or lr * g without momentum)

Adam (Kingma & Ba, bias-corrected at step t; ``wd`` as L2, ``decoupled`` as AdamW)::

    g = grad + wd * p                    (L2)
    m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)  [+ lr * wd * p if decoupled]

Each rule is one scalar function of one element; `rule` specialises the tile template on it
(`fastact.engine.jit.rebind`, as the dense epilogues are specialised on an activation) into
a `fastact.engine.jit.compiled` kernel with one signature::

    update(p, g, m, v, hp, r0, r1, c0, c1)     p[r0:r1, c0:c1] updated in place from g

for C-contiguous 2-D ``p``, ``g``, ``m``, ``v`` of one dtype (a 1-D parameter is viewed as one
row; ``m``/``v`` may be empty where the rule does not use them) and ``hp``, the rule's
hyperparameters of this step (`HP_SIZE` values in the parameter's dtype: the smallest normal
number and the weight decay last).
The fused backward kernel (`fastact.engine.dense`) calls it on each ``dw`` tile while the tile
is in cache; `apply` runs the same compiled kernel over a whole parameter in parallel tiles, so
the fused and the separate update compute each element with the same instructions. Float32
parameters are updated in float32 arithmetic (as PyTorch does), float64 in float64.
"""

from __future__ import annotations

import math

import numpy as np

from fastact.engine.dense import engine_digest, prune_stale, rule_signature
from fastact.engine.jit import compiled, fixed_tuple, function_at, parallel, prange, rebind, scalar

#: hyperparameter slots per rule; the last two are the dtype's smallest normal number and the
#: parameter's weight decay
HP_SIZE = 11
TINY, WD = HP_SIZE - 2, HP_SIZE - 1

# Template global, rebound per rule by `rule`.
RULE = None


@scalar
def _flushed(v, tiny):
    """``v``, or 0 if it is subnormal: a buffer decaying geometrically (a dead unit's momentum or
    Adam moment: 0.9^t) runs through the subnormal range, where each operation takes the CPU's
    slow path (an epoch measured 3.4x slower once 180k of 400k moments had gone subnormal)."""
    return v if abs(v) >= tiny else tiny - tiny


@scalar
def _sgd(p, g, m, v, h, i, j):
    lr, mu, nesterov, tiny, wd = h[0], h[1], h[2], h[TINY], h[WD]
    gi = g[i, j] + wd * p[i, j]
    if mu != 0:
        mi = _flushed(mu * m[i, j] + gi, tiny)
        m[i, j] = mi
        gi = gi + mu * mi if nesterov != 0 else mi
    p[i, j] -= lr * gi


@scalar
def _adam(p, g, m, v, h, i, j):
    lr, b1, one_b1, b2, one_b2, eps, c1, c2, decoupled, tiny, wd = h
    pi = p[i, j]
    gi = g[i, j] if decoupled != 0 else g[i, j] + wd * pi
    mi = _flushed(b1 * m[i, j] + one_b1 * gi, tiny)
    vi = _flushed(b2 * v[i, j] + one_b2 * gi * gi, tiny)
    m[i, j] = mi
    v[i, j] = vi
    upd = (mi / c1) / (math.sqrt(vi / c2) + eps)
    if decoupled != 0:
        upd += wd * pi
    p[i, j] = pi - lr * upd


@scalar
def _none(p, g, m, v, h, i, j):
    pass


def _update_tile(p, g, m, v, hp, r0, r1, c0, c1):
    h = fixed_tuple(hp, HP_SIZE)  # read once: loop-invariant branches (momentum, decoupled) unswitch
    # Unsigned indices: Numba wraps a negative signed index around (a select per access),
    # which kept this loop scalar when compiled on its own.
    for i in range(np.uint64(max(r0, 0)), np.uint64(max(r1, 0))):
        for j in range(np.uint64(max(c0, 0)), np.uint64(max(c1, 0))):
            RULE(p, g, m, v, h, i, j)


def signature(dtype):
    """The one signature every rule kernel has in ``dtype`` (the backward driver calls it so)."""
    return rule_signature(dtype)


RULES = {"sgd": _sgd, "adam": _adam, "none": _none}
#: Only multiply-add contraction: no approximate reciprocal or square root, which LLVM uses in
#: vector code but not in the scalar remainder loop, so an element's update would depend on
#: where its row was cut into tiles (and PyTorch's rounds correctly too).
RULE_FASTMATH = {"contract"}
_COMPILED: dict[tuple[str, str], object] = {}


def rule_function(name: str):
    """The tile template bound to rule ``name``, not compiled yet (`fastact.nn.warmup` probes its cache)."""
    return rebind(_update_tile, f"update_{name}_{engine_digest()[:12]}", {"RULE": RULES[name]})


def rule(name: str, dtype=np.float32):
    """The compiled update kernel of rule ``name`` (``sgd``, ``adam``, ``none``) in ``dtype``."""
    found = _COMPILED.get((name, dtype))
    if found is not None:
        return found
    dt = np.dtype(dtype).name
    key = (name, dt)
    if key not in _COMPILED:
        if not any(k[0] == name for k in _COMPILED):
            prune_stale("optim", f"update_{name}", engine_digest()[:12])
        _COMPILED[key] = compiled(signature(dt), RULE_FASTMATH)(rule_function(name))
    if isinstance(dtype, np.dtype):
        _COMPILED[name, dtype] = _COMPILED[key]  # the next look-up by the same dtype object is one dict hit
    return _COMPILED[key]


_rule_at = function_at(signature)


@parallel
def apply(p, g, m, v, hp, update_at, parts):
    """``update`` over all of the 2-D parameter ``p`` (the separate path), one task per block of rows.

    Whole rows, as the fused backward kernel updates them, so each element is computed at the
    same place in its row's loop either way. ``update_at``: the rule's `fastact.engine.jit.address`.
    """
    update = _rule_at(update_at, p)
    n_rows, n_cols = p.shape
    nb = max(1, min(parts, n_rows))
    rb = (n_rows + nb - 1) // nb
    for t in prange(nb):
        r0 = t * rb
        update(p, g, m, v, hp, r0, min(r0 + rb, n_rows), 0, n_cols)


def sgd_row(lr, momentum, nesterov, wd, dtype) -> np.ndarray:
    """SGD's `HP_SIZE` hyperparameters in ``dtype``: lr, momentum, nesterov (0/1), unused, tiny, decay."""
    return np.array([lr, momentum, float(nesterov), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.finfo(dtype).tiny, wd], dtype)


def adam_row(lr, beta1, beta2, eps, step, decoupled, wd, dtype) -> np.ndarray:
    """Adam's `HP_SIZE` hyperparameters in ``dtype`` at ``step`` (1-based), bias corrections 1 - beta^t included."""
    return np.array([lr, beta1, 1.0 - beta1, beta2, 1.0 - beta2, eps, 1.0 - beta1 ** step, 1.0 - beta2 ** step,
                     float(decoupled), np.finfo(dtype).tiny, wd], dtype)
