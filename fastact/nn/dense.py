"""`Dense`: one fused dense + activation layer, its parameters and workspace.

The layer validates, owns state and preallocates every buffer the kernels
write (sized for the largest batch seen, reused as views for smaller ones), so
the training loop allocates nothing per batch. The arithmetic lives in
`fastact.engine.dense`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fastact import activations
from fastact.engine import dense
from fastact.engine import optim as engine_optim
from fastact.engine.jit import address
from fastact.engine.rng import keep_mask, stream_key
from fastact.engine.threads import max_threads, pin_kernel_blas
from fastact.errors import SettingsError
from fastact.nn.init import for_activation, initialize
from fastact.nn.memory import check_memory, estimate_memory
from fastact.nn.optim import Parameter, Update, as_matrix

#: the dtypes the kernels compute in, by the names users type
DTYPES = {"float32": np.float32, "float64": np.float64}
#: a learnable activation parameter: one value per unit, or one shared by the layer
PRELU_MODES = ("unit", "shared")


def resolve_dtype(dtype) -> type:
    try:
        key = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    except TypeError:
        key = None
    if key not in DTYPES:
        raise SettingsError("dtype", dtype, f"one of {', '.join(DTYPES)}")
    return DTYPES[key]


def check_dropout(value) -> float:
    """A dropout rate: a number in [0, 1) (`SettingsError` naming it otherwise)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not 0 <= value < 1:
        raise SettingsError("dropout", value, "in [0, 1)")
    return float(value)


def check_positive_int(field: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise SettingsError(field, value, "a positive integer")
    return int(value)


class Dense:
    """``y = act(x @ w + b)`` with ``w`` (n_in, n_out).

    Args:
        n_in, n_out: layer widths (>= 1).
        act: activation name (see `fastact.activations.names`).
        dtype: ``"float32"`` (default) or ``"float64"``.
        rng: generator for the initial weights.
        index: the layer's position, part of RReLU's random stream key.
        seed: RReLU's stream seed.
        prelu: ``"unit"`` (one slope per unit) or ``"shared"`` (one per layer): PReLU's slope,
            or any activation's learnable parameter.
        initializer: initialiser name; default from the activation's table entry.
        dropout: inverted dropout on the output while training, rate in [0, 1): ``y = act(z) *
            keep / (1 - p)``, ``keep`` regenerated in backward from the layer's dropout stream
            (`dropout_mask`), never stored; 0 compiles kernels without it.
        **act_params: the activation's parameters (``negative_slope=0.1``, ...).

    Example:
        >>> layer = Dense(4, 3, "relu", rng=np.random.default_rng(0))
        >>> layer.forward(np.ones((2, 4), np.float32)).shape
        (2, 3)
    """

    def __init__(self, n_in, n_out, act="relu", dtype="float32", rng=None, index=0, seed=0,
                 prelu="unit", initializer=None, dropout=0.0, **act_params):
        n_in, n_out = check_positive_int("n_in", n_in), check_positive_int("n_out", n_out)
        if prelu not in PRELU_MODES:
            raise SettingsError("prelu", prelu, f"one of {', '.join(PRELU_MODES)}")
        # Refused before the weights are drawn: a layer of 10**6 x 10**6 never reaches NumPy.
        dt = resolve_dtype(dtype)
        check_memory(estimate_memory([n_in, n_out], dtype=dt), f"a Dense layer {n_in} -> {n_out} {np.dtype(dt).name}",
                     "shape", (n_in, n_out), "use a smaller layer")
        self.dropout = check_dropout(dropout)
        self.act = activations.get(act)
        self.act_params = self.act.resolve(**act_params)
        self.dtype = resolve_dtype(dtype)
        pin_kernel_blas()  # one BLAS thread per kernel tile, whatever the entry point (see engine.threads)
        # One pair of parallel drivers for every layer; this activation's epilogues in this dtype.
        self._forward, self._backward = dense.drivers()
        epi_f, epi_b = dense.epilogues(self.act, self.dtype, self.dropout > 0)
        self._epi_forward_at, self._epi_backward_at = address(epi_f), address(epi_b)
        # GEMM tiles per product: fixed per process (not per call's thread
        # count), so results are bitwise the same for any set_num_threads.
        self._parts = max_threads()
        self.n_in, self.n_out, self.index, self.seed = int(n_in), int(n_out), int(index), int(seed)
        self.prelu = prelu
        rng = rng if rng is not None else np.random.default_rng(seed)
        self.initializer = initializer or for_activation(self.act.init)
        self.w = initialize(self.initializer, self.n_in, self.n_out, rng, self.dtype)
        self.b = np.zeros(self.n_out, self.dtype)
        # The kernels' constants `c`, in the layer's dtype so float32 arithmetic stays float32; the
        # dropout rate follows the activation's constants (engine.dense.DROP_INDEX).
        consts = self.act.constants(self.act_params) + ((self.dropout,) if self.dropout > 0 else ())
        self._c = np.array(consts, self.dtype)
        # `alpha`: the learnable parameter (PReLU's slope), per unit or shared; the kernels
        # read it per unit from `_alpha_units`, which a shared alpha is broadcast into.
        self.alpha = None
        if self.act.learnable is not None:
            a0 = self.act_params[self.act.learnable]
            self.alpha = np.full(self.n_out if prelu == "unit" else 1, a0, self.dtype)
        self._alpha_units = np.zeros(self.n_out, self.dtype)
        self.dw = np.zeros_like(self.w)
        self.db = np.zeros_like(self.b)
        self.dalpha = None if self.alpha is None else np.zeros_like(self.alpha)
        # What the kernels get for an absent alpha: empty arrays (nothing reduced or updated).
        empty1, empty2 = np.zeros(0, self.dtype), np.zeros((1, 0), self.dtype)
        self._dalpha_out = empty1 if self.dalpha is None else self.dalpha
        self._alpha_2d = empty2 if self.alpha is None else as_matrix(self.alpha)
        self._empty = (empty1, empty2)
        self._no_update = None  # (rule, hyperparameters, state) of a gradient-only backward, built on first use
        self._fused_args = None  # (ids of the last updates, their kernel arguments, the updates)
        self._capacity = 0
        self._x = None

    # -- parameters ---------------------------------------------------------
    def parameters(self) -> list[Parameter]:
        ps = [Parameter(f"dense{self.index}.w", self.w, self.dw, decay=True),
              Parameter(f"dense{self.index}.b", self.b, self.db, decay=False)]
        if self.alpha is not None:
            ps.append(Parameter(f"dense{self.index}.alpha", self.alpha, self.dalpha, decay=False))
        return ps

    def _sync_alpha(self) -> None:
        if self.alpha is not None:
            self._alpha_units[:] = self.alpha if self.alpha.size == self.n_out else self.alpha[0]

    # -- workspace ------------------------------------------------------------
    def _reserve(self, batch: int) -> None:
        if batch <= self._capacity:
            return
        est = estimate_memory([self.n_in, self.n_out], batch, self.dtype)
        check_memory(replace(est, weights=0, gradients=0, transient=0, overhead=0),
                     f"the workspace of a Dense layer {self.n_in} -> {self.n_out} at batch {batch}", "batch", batch,
                     "use a smaller batch")
        n, k, dt = self.n_out, self.n_in, self.dtype
        self._z = np.empty((batch, n), dt)
        self._y = np.empty((batch, n), dt)
        self._dz = np.empty((batch, n), dt)
        self._dx = np.empty((batch, k), dt)
        ntr = dense.n_row_tiles(batch)
        self._db_parts = np.empty((ntr, n), dt)
        self._da_parts = np.empty((ntr, n), dt)
        self._capacity = batch

    # -- compute ----------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False, step: int = 0) -> np.ndarray:
        """``act(x @ w + b)``; returns a view valid until the next call.

        ``step`` keys RReLU's per-element slopes while training (pass the
        optimizer step); evaluation uses the midpoint slope.
        """
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(f"expected input of shape (batch, {self.n_in}). Received: shape={x.shape}")
        if x.dtype != self.dtype:
            raise ValueError(f"expected {np.dtype(self.dtype).name} input. Received: dtype={x.dtype}")
        batch = x.shape[0]
        self._reserve(max(batch, 1))  # before any copy: the budget check comes first
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        self._sync_alpha()
        z, y = self._z[:batch], self._y[:batch]
        self._key = np.uint64(stream_key(self.seed, step, self.index))
        self._training = bool(training)
        self._forward(x, self.w, self.b, self._alpha_units, self._c, self._key, self._training,
                      z, y, self._parts, self._epi_forward_at)
        self._x = x
        return y

    def backward(self, dy: np.ndarray, need_dx: bool = True, update: list[Update] | None = None) -> np.ndarray | None:
        """Fill ``dw``, ``db`` (and ``dalpha``) from ``dy``; return ``dx`` if asked.

        ``update``: one `fastact.nn.optim.Update` per entry of `parameters` (from
        `fastact.nn.optim.Optimizer.updates`) to apply the optimizer step inside the kernel,
        tile by tile; the gradients are filled all the same.
        """
        if self._x is None:
            raise RuntimeError("backward() called before forward()")
        x = self._x
        batch = x.shape[0]
        if dy.shape != (batch, self.n_out):
            raise ValueError(f"expected dy of shape {(batch, self.n_out)}. Received: shape={dy.shape}")
        if dy.dtype != self.dtype:
            raise ValueError(f"expected {np.dtype(self.dtype).name} dy. Received: dtype={dy.dtype}")
        dy = np.ascontiguousarray(dy)
        dx = self._dx[:batch]
        if update is None:
            if self._no_update is None:
                e1, e2 = self._empty
                self._no_update = (address(engine_optim.rule("none", self.dtype)), (e1,) * 3, (e2,) * 6)
            rule, hps, state = self._no_update
        else:
            rule, hps, state = self._fused(update)
        self._backward(x, self.w, self.b, dy, self._z[:batch], self._y[:batch], self._alpha_units, self._c,
                       self._key, self._training, self._dz[:batch], dx, self.dw, self.db, self._dalpha_out,
                       self._db_parts, self._da_parts, bool(need_dx), self._parts, self._epi_backward_at,
                       update is not None, rule, hps, state, self._alpha_2d)
        return dx if need_dx else None

    def _fused(self, update: list[Update]):
        """(rule, hyperparameter rows, state buffers) for the kernel, from one `Update` per parameter.

        Optimizers hand the same `Update` objects every step: the arguments are built once per set.
        """
        key = tuple(map(id, update))
        if self._fused_args is not None and self._fused_args[0] == key:
            return self._fused_args[1]
        args = self._fused_arguments(update)
        self._fused_args = (key, args, update)  # holding `update` keeps the ids in `key` valid
        return args

    def _fused_arguments(self, update: list[Update]):
        n = 2 if self.alpha is None else 3
        if len(update) != n:
            raise ValueError(f"expected {n} updates (w, b{', alpha' if n == 3 else ''}). "
                             f"Received: {len(update)}")
        rule = update[0].rule
        if any(u.rule is not rule for u in update) or any(u.hp.dtype != self.dtype for u in update):
            raise ValueError(f"every update must use one rule in {np.dtype(self.dtype).name}. "
                             f"Received: {[(getattr(u.rule, '__name__', u.rule), u.hp.dtype.name) for u in update]}")
        ua = update[2] if n == 3 else self._no_update_alpha(update[1])
        return address(rule), (update[0].hp, update[1].hp, ua.hp), (update[0].m, update[0].v, update[1].m, update[1].v,
                                                            ua.m, ua.v)

    def _no_update_alpha(self, like: Update) -> Update:
        return Update(like.rule, like.hp, self._empty[1], self._empty[1])

    def dropout_mask(self, batch: int, step: int) -> np.ndarray:
        """The (batch, n_out) elements a training forward at ``step`` keeps (all, without dropout).

        ``keep[i, j] = u(i * n_out + j) >= p`` on the dropout stream of (seed, step, layer index):
        what the kernels draw in forward and again in backward (`fastact.engine.rng.keep_mask`).
        """
        out = np.ones((check_positive_int("batch", batch), self.n_out), np.bool_)
        if self.dropout > 0:
            keep_mask(np.uint64(stream_key(self.seed, step, self.index)), float(self.dtype(self.dropout)), out)
        return out

    @property
    def output(self) -> np.ndarray | None:
        return None if self._x is None else self._y[: self._x.shape[0]]
