"""Fused dense + activation kernels, forward and backward.

Forward, for a batch ``x`` (B, K), weights ``w`` (K, N), bias (N,)::

    z = x @ w + bias,   y = act(z)

The output is cut into a fixed grid of tiles (``tm`` rows x ``tn`` columns,
chosen from the shape only). ``prange`` hands tiles to threads; each tile is
one single-threaded GEMM followed at once by the bias + activation epilogue
while the tile is still in cache. Both ``z`` and ``y`` are kept: ``y`` is the
next layer's input and the derivative of each activation is read from
whichever is cheaper (``sigmoid``/``tanh`` from ``y``, the rest from ``z``).

Backward, from ``dy`` (B, N)::

    dz = dy * act'(z, y)           (phase A, per row tile, all columns)
    dx = dz @ w.T                  (phase A, same row tile, still in cache)
    db = sum_rows dz               (per-row-tile partials, reduced in tile order)
    dalpha = sum_rows dy * dy/da   (PReLU; per-row-tile partials likewise)
    dw = x.T @ dz                  (phase B, a fixed grid of (K, N) tiles)

Because the tiling depends only on the shapes and every reduction runs in a
fixed order, results are bitwise identical for any number of threads.
RReLU's slopes are regenerated in backward from the same counter-based stream
(`fastact.engine.rng`), so no noise tensor is ever stored.

The activation is a runtime ``code``: the epilogues unroll over
`fastact.activations.KERNEL_TABLE` (``literal_unroll``), producing one tight
specialised loop per activation inside one compiled kernel, so a single
compilation (cached on disk) serves every activation.
"""

from __future__ import annotations

import numpy as np

from fastact._jit import kernel, literal_unroll, parallel, prange
from fastact.activations import KERNEL_TABLE
from fastact.engine.blas import gemm
from fastact.engine.rng import uniform

#: Tile sizes. Rows: enough tiles to feed 2+ threads at batch 128; columns:
#: a 784 x 256 float32 weight panel (800 KB) fits the 1 MB per-core L2.
TILE_ROWS = 64
TILE_COLS = 256
TILE_K = 256


def n_row_tiles(batch: int, tm: int = TILE_ROWS) -> int:
    return max(1, -(-batch // tm))


@kernel
def _epilogue_forward(code, z, y, bias, a, b, key, training, row0, col0, n_cols):
    for ent in literal_unroll(KERNEL_TABLE):
        if ent[0] == code:
            f = ent[1]
            sample = ent[4] and training
            for i in range(z.shape[0]):
                base = (row0 + i) * n_cols + col0
                zi = z[i]
                yi = y[i]
                for j in range(z.shape[1]):
                    zz = zi[j] + bias[col0 + j]
                    zi[j] = zz
                    u = uniform(key, base + j) if sample else 0.5
                    yi[j] = f(zz, a[col0 + j], b, u)


@parallel
def forward(x, w, bias, code, a, b, key, training, z, y, tm, tn):
    """z <- x @ w + bias; y <- act(z). Writes into ``z`` and ``y`` (B, N)."""
    n_rows, n_cols = z.shape
    ntr = (n_rows + tm - 1) // tm
    ntc = (n_cols + tn - 1) // tn
    for t in prange(ntr * ntc):
        r0 = (t // ntc) * tm
        c0 = (t % ntc) * tn
        r1 = min(r0 + tm, n_rows)
        c1 = min(c0 + tn, n_cols)
        zt = z[r0:r1, c0:c1]
        gemm(x[r0:r1], w[:, c0:c1], zt)
        _epilogue_forward(code, zt, y[r0:r1, c0:c1], bias, a, b, key, training, r0, c0, n_cols)


@kernel
def _epilogue_backward(code, dy, z, y, dz, a, b, key, training, row0, n_cols, db_part, da_part):
    for ent in literal_unroll(KERNEL_TABLE):
        if ent[0] == code:
            fd = ent[2]
            fa = ent[3]
            sample = ent[4] and training
            learnable = ent[5]
            for j in range(n_cols):
                db_part[j] = 0.0
                da_part[j] = 0.0
            for i in range(dz.shape[0]):
                base = (row0 + i) * n_cols
                dyi = dy[i]
                zi = z[i]
                yi = y[i]
                dzi = dz[i]
                for j in range(n_cols):
                    u = uniform(key, base + j) if sample else 0.5
                    g = dyi[j] * fd(zi[j], yi[j], a[j], b, u)
                    dzi[j] = g
                    db_part[j] += g
                    if learnable:
                        da_part[j] += dyi[j] * fa(zi[j], yi[j], a[j], b, u)


@parallel
def backward(x, w, dy, z, y, code, a, b, key, training, dz, dx, dw, db, da, db_parts, da_parts, need_dx, tm, tk, tn):
    """Gradients of a fused dense layer; see the module docstring.

    ``db_parts``/``da_parts`` are (row tiles, N) scratch; ``dx`` is skipped
    unless ``need_dx`` (the first layer has no use for it).
    """
    n_rows, n_cols = dz.shape
    n_in = x.shape[1]
    ntr = (n_rows + tm - 1) // tm
    for t in prange(ntr):
        r0 = t * tm
        r1 = min(r0 + tm, n_rows)
        _epilogue_backward(code, dy[r0:r1], z[r0:r1], y[r0:r1], dz[r0:r1], a, b, key, training,
                           r0, n_cols, db_parts[t], da_parts[t])
        if need_dx:
            gemm(dz[r0:r1], w, dx[r0:r1], False, True)
    ntk = (n_in + tk - 1) // tk
    ntc = (n_cols + tn - 1) // tn
    for t in prange(ntk * ntc + 1):
        if t == ntk * ntc:
            # Fixed-order reduction of the per-row-tile partial sums.
            for j in range(n_cols):
                sb = 0.0
                sa = 0.0
                for p in range(ntr):
                    sb += db_parts[p, j]
                    sa += da_parts[p, j]
                db[j] = sb
                da[j] = sa
        else:
            k0 = (t // ntc) * tk
            c0 = (t % ntc) * tn
            k1 = min(k0 + tk, n_in)
            c1 = min(c0 + tn, n_cols)
            gemm(x[:, k0:k1], dz[:, c0:c1], dw[k0:k1, c0:c1], True, False)
