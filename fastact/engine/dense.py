"""Fused dense + activation kernels, forward and backward.

Forward, for a batch ``x`` (B, K), weights ``w`` (K, N), bias ``b`` (N,)::

    z = x @ w + b,   y = act(z)

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
    dalpha = sum_rows dy * dy/dalpha  (a learnable parameter; per-row-tile partials likewise)
    dw = x.T @ dz                  (phase B, a fixed grid of (K, N) tiles)

Because the tiling depends only on the shapes and every reduction runs in a
fixed order, results are bitwise identical for any number of threads.
RReLU's slopes are regenerated in backward from the same counter-based stream
(`fastact.engine.rng`), so no noise tensor is ever stored.

Dropout (inverted, rate ``p``, training only) is part of the epilogues: forward writes
``y = act(z) * keep / (1 - p)``, backward ``dz = dy * act'(z) * keep / (1 - p)``, the mask
``keep = u >= p`` drawn from the layer's dropout stream (`fastact.engine.rng.dropout_key`) in
both, so it is never stored either. Its kernels are a separate specialisation
(``DROPOUT``, like ``ACT_RANDOM``), so a layer without dropout runs code without a trace of
it; ``p`` travels as the last element of ``c`` (index ``DROP_INDEX``, after the activation's
constants), so the kernels' signatures are the same with and without.

Kernels are specialised per activation: `kernels_for` rebinds the templates'
``ACT_*`` globals to one table entry's scalar functions, so Numba inlines the
formula into the loop and LLVM vectorises it (a call left in the loop, as
first-class functions or a runtime ``code`` switch gave, measured 5-15x
slower for ELU, SiLU, Softplus). Each activation compiles on first use and is
cached on disk under a name that carries a digest of every source it inlines
(``forward_relu_<digest>``), so editing a formula or ``mathfn`` recompiles.

Argument names follow the table's vocabulary: ``alpha`` (N,) holds each unit's
learnable parameter (read only when the entry has one), ``c`` is the tuple of
the entry's constant parameters, ``key`` the RNG stream of this (seed, step,
layer) (`fastact.engine.rng`).
"""

from __future__ import annotations

import functools
import hashlib
import types
import warnings
from pathlib import Path

from numba.core.errors import NumbaIRAssumptionWarning

from fastact.engine.blas import gemm
from fastact.engine.jit import kernel, parallel, prange
from fastact.engine.mathfn import same
from fastact.engine.rng import dropout_key, uniform

# Numba's SSA pass calls a variable of an inlined float32 elementary function "not in scope" when an
# activation is inlined twice into one epilogue (a learnable parameter's gradient beside the
# derivative; dropout's act(z) recomputed in backward): a pedantic check of Numba's own IR, printed at
# compile time, not a fault in the code (every such kernel is tested against a reference).
warnings.filterwarnings("ignore", category=NumbaIRAssumptionWarning, module=r".*fastact[\\/]engine[\\/]dense$")

# Template globals, rebound per activation by `kernels_for`.
ACT_FORWARD = ACT_BACKWARD = ACT_PARAM_GRAD = None
ACT_RANDOM = ACT_LEARNABLE = False
DROPOUT = False
DROP_INDEX = 1  # where ``c`` holds the dropout rate: after the activation's constants
EPILOGUE_FORWARD = EPILOGUE_BACKWARD = None

#: Rows per tile of the element-wise backward pass (its partial sums).
EPI_ROWS = 64


def n_row_tiles(batch: int) -> int:
    """Number of per-row-tile partial-sum rows the backward pass needs."""
    return max(1, -(-batch // EPI_ROWS))


@kernel
def _grid(m, n, parts):
    """Cut an (m x n) GEMM output into ``parts`` tiles: (row tiles, col tiles, tile rows, tile cols).

    A single-threaded GEMM on a tile packs both operands, so the packing cost
    per flop goes as 1/rows + 1/cols: pick the factorisation of ``parts``
    that keeps tiles largest (B=128: 2 x 64-row tiles measured 2x slower
    than 1 x 128 rows x 2 column halves).
    """
    best = 1e30
    br, bc = 1, 1
    for nr in range(1, parts + 1):
        if parts % nr != 0:
            continue
        nc = parts // nr
        nr_ = min(nr, m)
        nc_ = min(nc, n)
        rows = (m + nr_ - 1) // nr_
        cols = (n + nc_ - 1) // nc_
        cost = 1.0 / rows + 1.0 / cols
        if cost < best:
            best = cost
            br, bc = nr_, nc_
    return br, bc, (m + br - 1) // br, (n + bc - 1) // bc


def _epilogue_forward(z, y, b, alpha, c, key, training, r0, r1, c0, c1):
    # Full C-contiguous arrays plus index ranges (not tile views): unit stride
    # is then known at compile time and the inner loop vectorises. `z` is only
    # read (an in-place update measured unvectorised), so it keeps x @ w
    # without the bias; backward adds the bias again.
    n_cols = z.shape[1]
    sample = ACT_RANDOM and training
    drop = DROPOUT and training
    if DROPOUT:  # a compile-time constant: without dropout this branch is never compiled
        p = c[DROP_INDEX]
        scale = same(p, 1.0) / (same(p, 1.0) - p)
        dkey = dropout_key(key)
    else:
        p = scale = same(c[0], 0.0)
        dkey = key
    for i in range(r0, r1):
        base = i * n_cols
        for j in range(c0, c1):
            zz = z[i, j] + b[j]
            u = same(zz, uniform(key, base + j)) if sample else same(zz, 0.5)
            al = alpha[j] if ACT_LEARNABLE else same(zz, 0.0)
            v = ACT_FORWARD(zz, al, c, u)
            if drop:
                v = v * scale if uniform(dkey, base + j) >= p else same(v, 0.0)
            y[i, j] = v


def _forward(x, w, b, alpha, c, key, training, z, y, parts):
    """z <- x @ w; y <- act(z + b). Writes into ``z`` and ``y`` (B, N)."""
    n_rows, n_cols = z.shape
    ntr, ntc, tm, tn = _grid(n_rows, n_cols, parts)
    for t in prange(ntr * ntc):
        r0 = (t // ntc) * tm
        c0 = (t % ntc) * tn
        r1 = min(r0 + tm, n_rows)
        c1 = min(c0 + tn, n_cols)
        gemm(x[r0:r1], w[:, c0:c1], z[r0:r1, c0:c1])
        EPILOGUE_FORWARD(z, y, b, alpha, c, key, training, r0, r1, c0, c1)


def _epilogue_backward(dy, z, b, y, dz, alpha, c, key, training, r0, r1, db_part, da_part):
    n_cols = dz.shape[1]
    sample = ACT_RANDOM and training
    drop = DROPOUT and training
    if DROPOUT:  # a compile-time constant: without dropout this branch is never compiled
        p = c[DROP_INDEX]
        scale = same(p, 1.0) / (same(p, 1.0) - p)
        dkey = dropout_key(key)
    else:
        p = scale = same(c[0], 0.0)
        dkey = key
    for j in range(n_cols):
        db_part[j] = 0.0
        da_part[j] = 0.0
    for i in range(r0, r1):
        base = i * n_cols
        for j in range(n_cols):
            zz = z[i, j] + b[j]
            u = same(zz, uniform(key, base + j)) if sample else same(zz, 0.5)
            al = alpha[j] if ACT_LEARNABLE else same(zz, 0.0)
            # y holds the dropped output: a derivative read from y (sigmoid's) needs act(z) itself
            # (recomputed; dead code, removed, for derivatives that do not read y)
            ya = ACT_FORWARD(zz, al, c, u) if drop else y[i, j]
            d = dy[i, j]
            if drop:
                d = d * scale if uniform(dkey, base + j) >= p else same(d, 0.0)
            g = d * ACT_BACKWARD(zz, ya, al, c, u)
            dz[i, j] = g
            db_part[j] += g
            if ACT_LEARNABLE:
                da_part[j] += d * ACT_PARAM_GRAD(zz, ya, al, c, u)


def _backward(x, w, b, dy, z, y, alpha, c, key, training, dz, dx, dw, db, dalpha, db_parts, da_parts, need_dx,
              parts):
    """Gradients of a fused dense layer; see the module docstring.

    ``db_parts``/``da_parts`` are (`n_row_tiles`, N) scratch; ``dx`` is
    skipped unless ``need_dx`` (the first layer has no use for it).
    """
    n_rows, n_cols = dz.shape
    n_in = x.shape[1]
    nte = (n_rows + EPI_ROWS - 1) // EPI_ROWS
    for t in prange(nte):
        r0 = t * EPI_ROWS
        r1 = min(r0 + EPI_ROWS, n_rows)
        EPILOGUE_BACKWARD(dy, z, b, y, dz, alpha, c, key, training, r0, r1, db_parts[t], da_parts[t])
    # Fixed-order reduction of the per-row-tile partial sums (small: serial).
    for j in range(n_cols):
        sb = 0.0
        sa = 0.0
        for p in range(nte):
            sb += db_parts[p, j]
            sa += da_parts[p, j]
        db[j] = sb
        dalpha[j] = sa
    # One parallel region for every GEMM tile of dw and dx. prange hands each
    # thread a contiguous chunk, so the task count is a multiple of `parts`.
    wr, wc, wtr, wtc = _grid(n_in, n_cols, parts)
    xr, xc, xtr, xtc = _grid(n_rows, n_in, parts)
    n_dw = wr * wc
    n_dx = xr * xc if need_dx else 0
    for t in prange(n_dw + n_dx):
        if t < n_dw:
            k0 = (t // wc) * wtr
            c0 = (t % wc) * wtc
            k1 = min(k0 + wtr, n_in)
            c1 = min(c0 + wtc, n_cols)
            gemm(x[:, k0:k1], dz[:, c0:c1], dw[k0:k1, c0:c1], True, False)
        else:
            s = t - n_dw
            r0 = (s // xc) * xtr
            k0 = (s % xc) * xtc
            r1 = min(r0 + xtr, n_rows)
            k1 = min(k0 + xtc, n_in)
            gemm(dz[r0:r1], w[k0:k1], dx[r0:r1, k0:k1], False, True)


@kernel
def _zero_grad(z, y, alpha, c, u):
    return 0.0


def _specialise(template, decorator, name, bindings):
    """``template`` with its globals rebound; its own qualname keeps its disk cache apart."""
    env = dict(template.__globals__)
    env.update(bindings)
    fn = types.FunctionType(template.__code__, env, name, template.__defaults__)
    fn.__qualname__ = name
    fn.__doc__ = template.__doc__
    return decorator(fn)


_ENGINE = Path(__file__).resolve().parent
#: the engine sources a specialised kernel inlines (templates, math, RNG, GEMM binding, presets)
_INLINED = ("dense.py", "mathfn.py", "ieee32.py", "rng.py", "blas.py", "jit.py")


def source_digest(act) -> str:
    """12 hex digits of SHA-256 over every source a kernel of ``act`` is compiled from.

    Numba's disk cache checks only the file of the function it caches, so a kernel cached
    under a fixed name would keep running after an edit to an inlined function. The digest
    covers the engine files the kernels inline (every ``mathfn*.py`` and ``ieee32.py`` included) and the
    activation's own source text (its table module, or the code generated from its formula),
    so any edit gives the kernel a new name, hence a fresh compile.
    """
    h = hashlib.sha256(_engine_digest().encode())
    h.update(act.name.encode() + b"\0" + act.source.encode())
    return h.hexdigest()[:12]


@functools.cache
def _engine_digest() -> str:
    """SHA-256 of the engine files kernels inline, read once per process (as the modules are)."""
    h = hashlib.sha256()
    for name in sorted({*_INLINED, *(p.name for p in _ENGINE.glob("mathfn*.py"))}):
        path = _ENGINE / name
        if path.is_file():
            h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _prune_stale(prefix: str, keep: str) -> None:
    """Delete cache files of ``prefix`` kernels compiled from other sources (best effort)."""
    for path in (_ENGINE / "__pycache__").glob(f"dense.{prefix}_*"):
        if keep not in path.name:
            try:
                path.unlink()
            except OSError:
                pass


_KERNELS: dict[tuple[str, str], tuple] = {}


def kernels_for(act, dropout: bool = False):
    """(forward, backward) parallel kernels specialised for one activation table entry, and
    for dropout (the rate is read from ``c``: see the module docstring).

    Named ``forward_<name>_<digest>`` / ``backward_<name>_<digest>`` (``<name>_dropout``
    with dropout; see `source_digest`) and cached on disk under those names.
    """
    digest = source_digest(act)
    dropout = bool(dropout)
    key = (act.name, digest, dropout)
    if key not in _KERNELS:
        bind = {"ACT_FORWARD": act.forward, "ACT_BACKWARD": act.backward,
                "ACT_PARAM_GRAD": act.param_grad or _zero_grad,
                "ACT_RANDOM": act.random, "ACT_LEARNABLE": act.learnable is not None,
                "DROPOUT": dropout, "DROP_INDEX": len(act.constants(act.defaults))}
        name = f"{act.name}_dropout" if dropout else act.name
        tag = f"{name}_{digest}"
        epi_f = _specialise(_epilogue_forward, kernel, f"epilogue_forward_{tag}", bind)
        epi_b = _specialise(_epilogue_backward, kernel, f"epilogue_backward_{tag}", bind)
        fwd = _specialise(_forward, parallel, f"forward_{tag}", {"EPILOGUE_FORWARD": epi_f})
        bwd = _specialise(_backward, parallel, f"backward_{tag}", {"EPILOGUE_BACKWARD": epi_b})
        for kind in ("forward", "backward", "epilogue_forward", "epilogue_backward"):
            _prune_stale(f"{kind}_{name}", digest)
        _KERNELS[key] = (fwd, bwd)
    return _KERNELS[key]
