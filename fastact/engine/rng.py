"""Counter-based random numbers: a pure function of (seed, step, layer, index).

RReLU needs one uniform number per element, drawn inside the parallel forward
kernel and drawn *again* in backward, so nothing is stored between the two and
no generator state is shared between threads. Each number is

    key   = mix(mix(mix(seed) ^ step) ^ layer)
    u(i)  = (top 53 bits of mix(key + (i + 1) * GOLDEN)) / 2**53       (float64, any dtype)

where ``mix`` is SplitMix64's finaliser (Steele, Lea & Flood 2014): SplitMix64
is exactly this counter-plus-finaliser construction and passes BigCrush.
The value depends only on its coordinates, so output is bitwise identical for
any thread count and any tiling (what Philox gives oneDNN's dropout).

Dropout draws from its own stream of the same (seed, step, layer), ``dropout_key(key) =
mix(key ^ DROPOUT_STREAM)``, so its mask and RReLU's slopes are independent; element ``i``
is kept when ``u(i) >= p`` (`keep_mask` computes the mask the kernels regenerate).
"""

from __future__ import annotations

import numpy as np

from fastact.engine.jit import kernel, scalar

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0
#: the constant that separates the dropout stream of a (seed, step, layer) from RReLU's
DROPOUT_STREAM = np.uint64(0xD509_0A7E_5EED_0001)


@scalar
def mix64(x):
    """SplitMix64 finaliser: a bijection on uint64 with full avalanche."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@scalar
def stream_key(seed, step, layer):
    """The key of one (seed, step, layer) stream."""
    k = mix64(np.uint64(seed) * _GOLDEN + _GOLDEN)
    k = mix64(k ^ (np.uint64(step) * _M1))
    return mix64(k ^ (np.uint64(layer) * _M2))


@scalar
def uniform(key, index):
    """U[0, 1) number ``index`` of stream ``key`` (53-bit resolution)."""
    return np.float64(mix64(key + (np.uint64(index) + np.uint64(1)) * _GOLDEN) >> _S11) * _INV_2_53


@scalar
def dropout_key(key):
    """The dropout stream of the (seed, step, layer) whose RReLU stream is ``key``."""
    return mix64(key ^ DROPOUT_STREAM)


@kernel
def keep_mask(key, p, out):
    """``out[i, j] = u(i * n_cols + j) >= p`` on the dropout stream of ``key``: the elements a
    dropout layer keeps (the mask its kernels regenerate in forward and backward, never store)."""
    dk = dropout_key(key)
    n_cols = out.shape[1]
    for i in range(out.shape[0]):
        for j in range(n_cols):
            out[i, j] = uniform(dk, i * n_cols + j) >= p
