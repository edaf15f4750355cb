"""Fused dense + activation kernels, forward and backward, with the optimizer update fused in.

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
    db = sum_rows dz               (per-row-tile partials, reduced in tile order)
    dalpha = sum_rows dy * dy/dalpha  (a learnable parameter; per unit, or summed if shared)
    dx = dz @ w.T                  (phase B, per block of input units k0:k1: dx[:, k0:k1])
    dw = x.T @ dz                  (phase B, same block: dw[k0:k1])

With ``fuse`` the optimizer's update is applied to each ``dw`` block right after its GEMM,
while it is in cache, and to ``b`` and ``alpha`` right after their reductions
(`fastact.engine.optim`: the same rule kernels the separate update runs, so both give the
same numbers). A block's ``dx`` reads only its own rows of ``w``, which only its own update
writes, so fusing needs no barrier: phase B stays one parallel region.

Because the tiling depends only on the shapes and every reduction runs in a
fixed order, results are bitwise identical for any number of threads.
RReLU's slopes are regenerated in backward from the same counter-based stream
(`fastact.engine.rng`), so no noise tensor is ever stored.

Dropout (inverted, rate ``p``, training only) is part of the epilogues: forward writes
``y = act(z) * keep / (1 - p)``, backward ``dz = dy * act'(z) * keep / (1 - p)``, the mask
``keep = u >= p`` drawn from the layer's dropout stream (`fastact.engine.rng.dropout_key`) in
both, so it is never stored either. Its epilogues are a separate specialisation (the bound flag
``DROPOUT``, like ``ACT_RANDOM``), so a layer without dropout runs code without a trace of it;
``p`` travels as the last element of ``c`` (index ``DROP_INDEX``, after the activation's
constants), so the epilogues' signatures, hence the drivers, are the same with and without.

Two kinds of compiled code:

* the parallel *drivers* (`drivers`): GEMM tiles, reductions, the calls; one compile per
  dtype for every activation and optimizer;
* the serial *epilogues* (`epilogues`), specialised per activation: `fastact.engine.jit.rebind`
  binds the templates' ``ACT_*`` globals to one table entry's scalar functions, so Numba inlines
  the formula into the loop and LLVM vectorises it (a call left in the element loop, as
  first-class scalar functions or a runtime ``code`` switch gave, measured 5-15x slower for ELU,
  SiLU, Softplus). An epilogue is `fastact.engine.jit.compiled` with a fixed signature and
  reaches the driver as an argument (its address): one indirect call per tile.

The optimizer rule reaches the backward driver the same way (`fastact.engine.optim.rule`). A
further epilogue option is one more bound flag of `epilogue_bindings` (as dropout is) and/or
runtime argument in the two templates and `epilogue_signatures`, which the drivers pass through;
a bound flag compiles the epilogues once more per activation, a new argument the drivers once
more per dtype.

Every kernel is cached on disk under a name carrying a digest of every source it inlines
(``epilogue_forward_relu_<digest>``, ``forward_<digest>``), so editing a formula or
``mathfn`` recompiles.

Argument names follow the table's vocabulary: ``alpha`` (N,) holds each unit's
learnable parameter (read only when the entry has one), ``c`` the entry's constant
parameters (an array in the model's dtype, read into a tuple once per tile), ``key`` the RNG
stream of this (seed, step, layer) (`fastact.engine.rng`).
"""

from __future__ import annotations

import functools
import hashlib
import re
import warnings
from pathlib import Path

import numpy as np
from numba import types
from numba.core.errors import NumbaIRAssumptionWarning

from fastact.engine.blas import gemm
from fastact.engine.jit import (
    array,
    compiled,
    fixed_tuple,
    function_at,
    kernel,
    parallel,
    prange,
    rebind,
    scalar,
    specialise,
)
from fastact.engine.mathfn import same
from fastact.engine.rng import dropout_key, uniform

# Template globals, rebound per activation by `epilogues`.
ACT_FORWARD = ACT_BACKWARD = ACT_PARAM_GRAD = None
ACT_RANDOM = ACT_LEARNABLE = False
ACT_N_CONST = 1
DROPOUT = False
DROP_INDEX = 1  # where ``c`` holds the dropout rate: after the activation's constants

#: Rows per tile of the element-wise backward pass (its partial sums).
EPI_ROWS = 64


def n_row_tiles(batch: int) -> int:
    """Number of per-row-tile partial-sum rows the backward pass needs."""
    return max(1, -(-batch // EPI_ROWS))


@kernel
def grid(m, n, parts):
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


# ---- epilogues (templates, specialised per activation) ----------------------------------------
def _epilogue_forward(z, y, b, alpha, c, key, training, r0, r1, c0, c1):
    # Full C-contiguous arrays plus index ranges (not tile views): unit stride
    # is then known at compile time and the inner loop vectorises. `z` is only
    # read (an in-place update measured unvectorised), so it keeps x @ w
    # without the bias; backward adds the bias again. Indices are unsigned: Numba wraps a
    # negative signed index around (a select per access), which turned every load and store
    # of this loop into a gather/scatter once it was compiled on its own.
    # Branches on the bound flags themselves (not on a variable holding one): Numba prunes them
    # before typing, so an activation without randomness never compiles the RNG.
    n_cols = np.uint64(z.shape[1])
    cc = fixed_tuple(c, ACT_N_CONST)
    if DROPOUT:
        p = c[DROP_INDEX]
        scale = same(p, 1.0) / (same(p, 1.0) - p)
        dkey = dropout_key(key)
    for i in range(np.uint64(max(r0, 0)), np.uint64(max(r1, 0))):
        base = i * n_cols
        for j in range(np.uint64(max(c0, 0)), np.uint64(max(c1, 0))):
            zz = z[i, j] + b[j]
            if ACT_RANDOM:
                u = same(zz, uniform(key, base + j)) if training else same(zz, 0.5)
            else:
                u = same(zz, 0.5)
            if ACT_LEARNABLE:
                al = alpha[j]
            else:
                al = same(zz, 0.0)
            v = ACT_FORWARD(zz, al, cc, u)
            if DROPOUT:
                if training:
                    v = v * scale if uniform(dkey, base + j) >= p else same(v, 0.0)
            y[i, j] = v


def _epilogue_backward(dy, z, b, y, dz, alpha, c, key, training, r0, r1, db_part, da_part):
    n_cols = np.uint64(dz.shape[1])  # unsigned indices, flag branches: see _epilogue_forward
    cc = fixed_tuple(c, ACT_N_CONST)
    if DROPOUT:
        p = c[DROP_INDEX]
        scale = same(p, 1.0) / (same(p, 1.0) - p)
        dkey = dropout_key(key)
    for j in range(n_cols):
        db_part[j] = 0.0
        da_part[j] = 0.0
    for i in range(np.uint64(max(r0, 0)), np.uint64(max(r1, 0))):
        base = i * n_cols
        for j in range(n_cols):
            zz = z[i, j] + b[j]
            if ACT_RANDOM:
                u = same(zz, uniform(key, base + j)) if training else same(zz, 0.5)
            else:
                u = same(zz, 0.5)
            if ACT_LEARNABLE:
                al = alpha[j]
            else:
                al = same(zz, 0.0)
            ya = y[i, j]
            d = dy[i, j]
            if DROPOUT:
                if training:
                    # y holds the dropped output: a derivative read from y (sigmoid's) needs act(z)
                    # itself (recomputed; dead code, removed, for derivatives that do not read y)
                    ya = ACT_FORWARD(zz, al, cc, u)
                    d = d * scale if uniform(dkey, base + j) >= p else same(d, 0.0)
            g = d * ACT_BACKWARD(zz, ya, al, cc, u)
            dz[i, j] = g
            db_part[j] += g
            if ACT_LEARNABLE:
                da_part[j] += d * ACT_PARAM_GRAD(zz, ya, al, cc, u)


def epilogue_signatures(dtype):
    """(forward, backward) signatures of the epilogues for ``dtype``: what the drivers call."""
    a1, a2 = array(dtype, 1), array(dtype, 2)
    i64 = types.int64
    fwd = types.void(a2, a2, a1, a1, a1, types.uint64, types.boolean, i64, i64, i64, i64)
    bwd = types.void(a2, a2, a1, a2, a2, a1, a1, types.uint64, types.boolean, i64, i64, a1, a1)
    return fwd, bwd


# ---- drivers (one compile per dtype) ----------------------------------------------------------
def rule_signature(dtype):
    a1, a2, i64 = array(dtype, 1), array(dtype, 2), types.int64
    return types.void(a2, a2, a2, a2, a1, i64, i64, i64, i64)  # = fastact.engine.optim.signature


_forward_epilogue = function_at(lambda dt: epilogue_signatures(dt)[0])
_backward_epilogue = function_at(lambda dt: epilogue_signatures(dt)[1])
_update_rule = function_at(rule_signature)


def _forward(x, w, b, alpha, c, key, training, z, y, parts, epilogue_at):
    """z <- x @ w; y <- act(z + b) by the epilogue at address ``epilogue_at``. Writes into ``z`` and ``y`` (B, N)."""
    epilogue = _forward_epilogue(epilogue_at, z)
    n_rows, n_cols = z.shape
    ntr, ntc, tm, tn = grid(n_rows, n_cols, parts)
    for t in prange(ntr * ntc):
        r0 = (t // ntc) * tm
        c0 = (t % ntc) * tn
        r1 = min(r0 + tm, n_rows)
        c1 = min(c0 + tn, n_cols)
        gemm(x[r0:r1], w[:, c0:c1], z[r0:r1, c0:c1])
        epilogue(z, y, b, alpha, c, key, training, r0, r1, c0, c1)


def _backward(x, w, b, dy, z, y, alpha, c, key, training, dz, dx, dw, db, dalpha, db_parts, da_parts,
              need_dx, parts, epilogue_at, fuse, update_at, hps, state, alpha_param):
    """Gradients of a fused dense layer, and with ``fuse`` the optimizer step; see the module docstring.

    ``db_parts``/``da_parts`` are (`n_row_tiles`, N) scratch; ``dx`` is skipped unless
    ``need_dx`` (the first layer has no use for it). ``dalpha`` has N entries (per unit),
    1 (shared: the sum over units) or none (no learnable parameter). With ``fuse``,
    ``update`` is an optimizer rule (`fastact.engine.optim`), ``hps`` the (w, b, alpha)
    hyperparameter rows, ``state`` the (w, b, alpha) x (m, v) buffers shaped (K, N), (1, N),
    (1, n_alpha), and ``alpha_param`` the learnable parameter as (1, n_alpha). The epilogue and
    the rule come as addresses (`fastact.engine.jit.address`).
    """
    epilogue = _backward_epilogue(epilogue_at, dz)
    update = _update_rule(update_at, dz)
    n_rows, n_cols = dz.shape
    n_in = x.shape[1]
    nte = (n_rows + EPI_ROWS - 1) // EPI_ROWS
    for t in prange(nte):
        r0 = t * EPI_ROWS
        r1 = min(r0 + EPI_ROWS, n_rows)
        epilogue(dy, z, b, y, dz, alpha, c, key, training, r0, r1, db_parts[t], da_parts[t])
    # Fixed-order reduction of the per-row-tile partial sums (small: serial).
    n_alpha = dalpha.shape[0]
    shared = 0.0
    for j in range(n_cols):
        sb = 0.0
        sa = 0.0
        for p in range(nte):
            sb += db_parts[p, j]
            sa += da_parts[p, j]
        db[j] = sb
        if n_alpha == n_cols:
            dalpha[j] = sa
        shared += sa
    if n_alpha == 1 and n_cols > 1:
        dalpha[0] = shared
    if fuse:
        update(b.reshape((1, n_cols)), db.reshape((1, n_cols)), state[2], state[3], hps[1], 0, 1, 0, n_cols)
        update(alpha_param, dalpha.reshape((1, n_alpha)), state[4], state[5], hps[2], 0, 1, 0, n_alpha)
    # Phase B, one task per block of input units k0:k1 (rows of w): dx[:, k0:k1] reads only
    # w[k0:k1], which only this task's update writes, so the fused update needs no barrier.
    nk = min(parts, n_in)
    kb = (n_in + nk - 1) // nk
    for t in prange(nk):
        k0 = t * kb
        k1 = min(k0 + kb, n_in)
        if need_dx:
            gemm(dz, w[k0:k1], dx[:, k0:k1], False, True)
        gemm(x[:, k0:k1], dz, dw[k0:k1], True, False)
        if fuse:
            update(w, dw, state[0], state[1], hps[0], k0, k1, 0, n_cols)


# ---- naming, caching ------------------------------------------------------------------------------
_ENGINE = Path(__file__).resolve().parent
#: the engine sources a kernel inlines (templates, math, RNG, GEMM binding, optimizer rules, presets)
_INLINED = ("dense.py", "optim.py", "mathfn.py", "ieee32.py", "rng.py", "blas.py", "jit.py")


def source_digest(act) -> str:
    """12 hex digits of SHA-256 over every source a kernel of ``act`` is compiled from.

    Numba's disk cache checks only the file of the function it caches, so a kernel cached
    under a fixed name would keep running after an edit to an inlined function. The digest
    covers the engine files the kernels inline (every ``mathfn*.py`` and ``ieee32.py`` included) and the
    activation's own source text (its table module, or the code generated from its formula),
    so any edit gives the kernel a new name, hence a fresh compile.
    """
    h = hashlib.sha256(engine_digest().encode())
    h.update(act.name.encode() + b"\0" + act.source.encode())
    return h.hexdigest()[:12]


@functools.cache
def engine_digest() -> str:
    """SHA-256 of the engine files kernels inline, read once per process (as the modules are)."""
    h = hashlib.sha256()
    for name in sorted({*_INLINED, *(p.name for p in _ENGINE.glob("mathfn*.py"))}):
        path = _ENGINE / name
        if path.is_file():
            h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def prune_stale(module: str, prefix: str, keep: str) -> None:
    """Delete cache files of ``<module>.<prefix>_<digest>`` kernels with a digest other than ``keep``.

    The pattern is exact (``gelu``'s prune must not touch ``gelu_tanh``'s files). Best effort.
    """
    pattern = re.compile(rf"{re.escape(module)}\.{re.escape(prefix)}_([0-9a-f]{{12}})-\d+\.py\d+(\.\d+)?\.nb[ic]")
    for path in (_ENGINE / "__pycache__").glob(f"{module}.{prefix}_*"):
        found = pattern.fullmatch(path.name)
        if found and found.group(1) != keep:
            try:
                path.unlink()
            except OSError:
                pass


@functools.cache
def drivers():
    """The (forward, backward) parallel drivers, named ``forward_<digest>``/``backward_<digest>``.

    Compiled on first call, once per dtype, for every activation and optimizer.
    """
    tag = engine_digest()[:12]
    fwd = specialise(_forward, parallel, f"forward_{tag}", {})
    bwd = specialise(_backward, parallel, f"backward_{tag}", {})
    for kind in ("forward", "backward"):
        prune_stale("dense", kind, tag)
    return fwd, bwd


@scalar
def _zero_grad(z, y, alpha, c, u):
    return 0.0


_EPILOGUES: dict[tuple[str, str, str], tuple] = {}


def epilogue_bindings(act, dropout: bool = False) -> dict:
    """The template globals that make the epilogues ``act``'s (with dropout: see the module docstring)."""
    n_const = len(act.constants(act.defaults))
    return {"ACT_FORWARD": act.forward, "ACT_BACKWARD": act.backward,
            "ACT_PARAM_GRAD": act.param_grad or _zero_grad, "ACT_RANDOM": act.random,
            "ACT_LEARNABLE": act.learnable is not None, "ACT_N_CONST": n_const,
            "DROPOUT": bool(dropout), "DROP_INDEX": n_const}


def epilogue_name(act, dropout: bool = False) -> str:
    """``relu``, or ``relu_dropout`` for the dropout specialisation: the part of a cache name before the digest."""
    return f"{act.name}_dropout" if dropout else act.name


def epilogue_functions(act, dropout: bool = False):
    """(forward, backward) epilogue templates bound to ``act``, not compiled yet, and their digest."""
    digest = source_digest(act)
    tag = f"{epilogue_name(act, dropout)}_{digest}"
    bind = epilogue_bindings(act, dropout)
    return (rebind(_epilogue_forward, f"epilogue_forward_{tag}", bind),
            rebind(_epilogue_backward, f"epilogue_backward_{tag}", bind)), digest


def epilogues(act, dtype=np.float32, dropout: bool = False):
    """(forward, backward) epilogues of one activation table entry in ``dtype``, compiled or loaded,
    the dropout specialisation with ``dropout`` (the rate is read from ``c``).

    Named ``epilogue_forward_<name>_<digest>`` / ``epilogue_backward_<name>_<digest>`` (``<name>``
    from `epilogue_name`, the digest from `source_digest`) and cached on disk under those names;
    only the dtypes a run uses compile.
    """
    dt = np.dtype(dtype).name
    name = epilogue_name(act, dropout)
    (fwd, bwd), digest = epilogue_functions(act, dropout)
    key = (name, digest, dt)
    if key not in _EPILOGUES:
        sig_f, sig_b = epilogue_signatures(dt)
        if not any(k[:2] == key[:2] for k in _EPILOGUES):
            for kind in ("epilogue_forward", "epilogue_backward"):
                prune_stale("dense", f"{kind}_{name}", digest)
        with warnings.catch_warnings():
            # Numba's SSA pass calls a variable of an inlined float32 elementary function "not in
            # scope" when an activation is inlined twice into one epilogue (a learnable parameter's
            # gradient beside the derivative; dropout's act(z) recomputed in backward): a pedantic
            # check of Numba's own IR at compile time, not a fault in the code (every such kernel is
            # tested against a reference).
            warnings.simplefilter("ignore", NumbaIRAssumptionWarning)
            _EPILOGUES[key] = (compiled(sig_f)(fwd), compiled(sig_b)(bwd))
    return _EPILOGUES[key]


def driver_signatures(dtype):
    """The (forward, backward) argument types `fastact.nn.Dense` calls the drivers with in ``dtype``.

    Compiling these ahead (`fastact.nn.warmup`) is what a first call would compile.
    """
    a1, a2 = array(dtype, 1), array(dtype, 2)
    u64, bool_, i64 = types.uint64, types.boolean, types.int64
    fwd = (a2, a2, a1, a1, a1, u64, bool_, a2, a2, i64, i64)
    bwd = (a2, a2, a1, a2, a2, a2, a1, a1, u64, bool_, a2, a2, a2, a1, a1, a2, a2, bool_, i64, i64, bool_, i64,
           types.UniTuple(a1, 3), types.UniTuple(a2, 6), a2)
    return fwd, bwd
