"""Benchmarks: fastact against plain NumPy and PyTorch eager, measured in one run.

Three operations, each generated for every entry of `fastact.activations.ACTIVATIONS`:

* ``forward``:  ``y = act(x @ w + b)``. fastact: the fused `Dense.forward(x, training=True)`;
  NumPy: ``x @ w + b`` then the activation as separate array ops (``scipy.special`` for
  ``erf``/``expit``, as a NumPy user would); torch: ``F.linear`` + the torch activation, with
  autograd recording (weights require grad), as in training.
* ``backward``: from ``dy``: ``dz = dy * act'(z)``, ``dw = x.T @ dz``, ``db = sum dz``,
  ``dx = dz @ w.T`` (and ``dalpha`` for PReLU). fastact: `Dense.backward(dy)`; torch: autograd
  ``y.backward(dy)`` on the retained graph, with ``x`` requiring grad so ``dx`` is computed too.
* ``step``: one SGD training step of the MLP ``[n_in, n_out, 10]`` (forward, softmax
  cross-entropy, backward, update). fastact: `MLP.train_step`; NumPy: a twin written with array
  ops; torch: ``nn.Sequential(Linear, act, Linear)``, ``F.cross_entropy``, ``zero_grad``,
  ``backward``, ``step``.

Every peer starts from fastact's initial weights, so outputs can be compared (`Case.outputs`);
RReLU's slopes are drawn by each implementation's own generator when timed (NumPy: one
``Generator.random`` call, stored for backward, as torch stores its noise tensor), and taken
from fastact's counter stream when ``exact_noise=True`` so the numbers can be checked.

Timing (as benchdnn and pytest-benchmark do it): warm-up calls first (fastact's JIT compile,
the peers' allocator and thread pools), then rounds timed with `time.perf_counter` until both
``min_rounds`` and ``max_time`` are reached; the median and inter-quartile range are reported.
Every implementation is pinned to the same thread count: `fastact.set_num_threads`,
threadpoolctl on NumPy's BLAS (not SciPy's, which fastact's kernels call single-threaded per
tile), `torch.set_num_threads`. torch is imported only when the torch peer is asked for.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import platform
import statistics
import threading
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import scipy.special as sp

import fastact
from fastact import activations
from fastact.engine import threads as engine_threads
from fastact.engine.rng import stream_key

IMPLS = ("fastact", "numpy", "torch")
OPS = ("forward", "backward", "step")
N_CLASSES = 10
SGD_LR = 0.01
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@dataclass
class BenchResult:
    """One timed case. ``median_s``/``iqr_s`` are NaN and ``note`` says why when it could not run."""

    impl: str
    op: str
    act: str
    batch: int
    n_in: int
    n_out: int
    median_s: float
    iqr_s: float
    rounds: int
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


# ---- NumPy peer: each activation as separate array operations ------------------------------
# fwd(z, p, u) -> y and grad(z, y, p, u) -> dy/dz; `p` holds the resolved parameters (and
# PReLU's `alpha`), `u` the uniform noise for RReLU. Constants are cast to z's dtype so that
# float32 stays float32 (an upcast would make the peer look slower than it need be).
def _c(z, v):
    return z.dtype.type(v)


def _softplus(z, p, u):
    bz = z * _c(z, p["beta"])
    return np.where(bz > p["threshold"], z, np.logaddexp(_c(z, 0), bz) / _c(z, p["beta"]))


def _gelu_tanh_t(z):
    return np.tanh(_c(z, 0.7978845608028654) * (z + _c(z, 0.044715) * z * z * z))


def _gelu_tanh_d(z, y, p, u):
    t = _gelu_tanh_t(z)
    return (_c(z, 0.5) * (1 + t) + _c(z, 0.5) * z * (1 - t * t) * _c(z, 0.7978845608028654)
            * (1 + _c(z, 3 * 0.044715) * z * z))


def _mish_d(z, y, p, u):
    t = np.tanh(np.logaddexp(_c(z, 0), z))
    return t + z * (1 - t * t) * sp.expit(z)


def _silu_d(z, y, p, u):
    s = sp.expit(z)
    return s * (1 + z * (1 - s))


_SELU_A, _SELU_S = 1.6732632423543772, 1.0507009873554805

NUMPY_ACTS: dict[str, tuple[Callable, Callable]] = {
    "linear": (lambda z, p, u: z, lambda z, y, p, u: np.ones_like(z)),
    "softplus": (_softplus, lambda z, y, p, u: np.where(z * _c(z, p["beta"]) > p["threshold"], _c(z, 1),
                                                        sp.expit(z * _c(z, p["beta"])))),
    "sigmoid": (lambda z, p, u: sp.expit(z), lambda z, y, p, u: y * (1 - y)),
    "relu": (lambda z, p, u: np.maximum(z, 0), lambda z, y, p, u: (z > 0).astype(z.dtype)),
    "leaky_relu": (lambda z, p, u: np.where(z > 0, z, z * _c(z, p["negative_slope"])),
                   lambda z, y, p, u: np.where(z > 0, _c(z, 1), _c(z, p["negative_slope"]))),
    "prelu": (lambda z, p, u: np.where(z > 0, z, z * p["prelu_alpha"]),
              lambda z, y, p, u: np.where(z > 0, _c(z, 1), p["prelu_alpha"])),
    "rrelu": (lambda z, p, u: np.where(z > 0, z, z * u), lambda z, y, p, u: np.where(z > 0, _c(z, 1), u)),
    "tanh": (lambda z, p, u: np.tanh(z), lambda z, y, p, u: 1 - y * y),
    "elu": (lambda z, p, u: np.where(z > 0, z, _c(z, p["alpha"]) * np.expm1(z)),
            lambda z, y, p, u: np.where(z > 0, _c(z, 1), _c(z, p["alpha"]) * np.exp(z))),
    "selu": (lambda z, p, u: _c(z, _SELU_S) * np.where(z > 0, z, _c(z, _SELU_A) * np.expm1(z)),
             lambda z, y, p, u: _c(z, _SELU_S) * np.where(z > 0, _c(z, 1), _c(z, _SELU_A) * np.exp(z))),
    "gelu": (lambda z, p, u: _c(z, 0.5) * z * (1 + sp.erf(z * _c(z, 0.7071067811865476))),
             lambda z, y, p, u: (_c(z, 0.5) * (1 + sp.erf(z * _c(z, 0.7071067811865476)))
                                 + z * _c(z, 0.3989422804014327) * np.exp(-_c(z, 0.5) * z * z))),
    "gelu_tanh": (lambda z, p, u: _c(z, 0.5) * z * (1 + _gelu_tanh_t(z)), _gelu_tanh_d),
    "silu": (lambda z, p, u: z * sp.expit(z), _silu_d),
    "mish": (lambda z, p, u: z * np.tanh(np.logaddexp(_c(z, 0), z)), _mish_d),
}


# ---- torch peer: builders of an nn.Module per activation (torch imported lazily) -----------
def _torch_fn(make: Callable) -> Callable:
    """Builder wrapping ``make(torch, F, params) -> (z -> y)`` as an nn.Module."""

    def build(params: dict, n_out: int):
        import torch
        import torch.nn.functional as F

        fn = make(torch, F, params)

        class Act(torch.nn.Module):
            def forward(self, z):
                return fn(z)

        return Act()

    return build


def _torch_prelu(params: dict, n_out: int):
    import torch

    return torch.nn.PReLU(num_parameters=params.get("n_alpha", n_out), init=params["init"])


TORCH_ACTS: dict[str, Callable] = {
    "linear": _torch_fn(lambda t, F, p: lambda z: z),
    "softplus": _torch_fn(lambda t, F, p: lambda z: F.softplus(z, beta=p["beta"], threshold=p["threshold"])),
    "sigmoid": _torch_fn(lambda t, F, p: t.sigmoid),
    "relu": _torch_fn(lambda t, F, p: F.relu),
    "leaky_relu": _torch_fn(lambda t, F, p: lambda z: F.leaky_relu(z, negative_slope=p["negative_slope"])),
    "prelu": _torch_prelu,
    "rrelu": _torch_fn(lambda t, F, p: lambda z: F.rrelu(z, p["lower"], p["upper"], training=True)),
    "tanh": _torch_fn(lambda t, F, p: t.tanh),
    "elu": _torch_fn(lambda t, F, p: lambda z: F.elu(z, alpha=p["alpha"])),
    "selu": _torch_fn(lambda t, F, p: F.selu),
    "gelu": _torch_fn(lambda t, F, p: lambda z: F.gelu(z, approximate="none")),
    "gelu_tanh": _torch_fn(lambda t, F, p: lambda z: F.gelu(z, approximate="tanh")),
    "silu": _torch_fn(lambda t, F, p: F.silu),
    "mish": _torch_fn(lambda t, F, p: F.mish),
}


def _torch_fixed_slopes(slopes: np.ndarray):
    """RReLU with given per-element slopes (agreement checks only: fastact's exact noise)."""
    import torch

    r = torch.from_numpy(slopes)

    class FixedRReLU(torch.nn.Module):
        def forward(self, z):
            return torch.where(z > 0, z, z * r)

    return FixedRReLU()


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def available_impls() -> list[str]:
    """``["fastact", "numpy"]``, plus ``"torch"`` when it can be imported."""
    return ["fastact", "numpy"] + (["torch"] if torch_available() else [])


def missing(impl: str, act: str) -> str:
    """Why ``impl`` cannot run ``act`` ("" when it can)."""
    table = {"numpy": NUMPY_ACTS, "torch": TORCH_ACTS}.get(impl)
    if table is not None and act not in table:
        return f"{impl} peer has no mapping for activation {act!r}"
    return ""


# ---- RReLU noise --------------------------------------------------------------------------
def _mix64(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def counter_uniform(seed: int, step: int, layer: int, shape: tuple[int, int]) -> np.ndarray:
    """fastact's RReLU stream (`fastact.engine.rng`) for one layer, vectorised: U[0,1) float64."""
    key = np.uint64(stream_key(seed, step, layer))
    idx = np.arange(shape[0] * shape[1], dtype=np.uint64) + np.uint64(1)
    with np.errstate(over="ignore"):
        bits = _mix64(key + idx * _GOLDEN) >> np.uint64(11)
    return (bits.astype(np.float64) * (1.0 / 9007199254740992.0)).reshape(shape)


def rrelu_slopes(params: dict, u: np.ndarray, dtype) -> np.ndarray:
    """Per-element negative slopes ``lower + (upper - lower) * u``."""
    return (params["lower"] + (params["upper"] - params["lower"]) * u).astype(dtype)


# ---- cases: one (impl, op, act, batch, shape), built from fastact's initial weights ---------
class Case:
    """``fn()`` runs the operation once; ``outputs()`` returns its results as NumPy arrays."""

    fn: Callable[[], object]

    def outputs(self) -> dict[str, np.ndarray]:  # pragma: no cover - overridden
        raise NotImplementedError


def _inputs(batch: int, n_in: int, n_out: int, seed: int):
    rng = np.random.default_rng(seed + 1)
    x = rng.random((batch, n_in), dtype=np.float32)  # MNIST-like pixels in [0, 1)
    dy = rng.standard_normal((batch, n_out), dtype=np.float32)
    labels = rng.integers(0, N_CLASSES, batch).astype(np.int64)
    return x, dy, labels


def _params_of(act: str, layer) -> dict:
    p = dict(layer.act_params)
    if layer.alpha is not None:
        p["prelu_alpha"] = layer.alpha.copy()  # not "alpha": ELU's parameter has that name
        p["n_alpha"] = layer.alpha.size
    return p


class _FastactCase(Case):
    def __init__(self, op, act, batch, n_in, n_out, seed, act_params):
        self.x, self.dy, self.labels = _inputs(batch, n_in, n_out, seed)
        if op == "step":
            self.model = fastact.MLP([n_in, n_out, N_CLASSES], act, seed=seed, **act_params)
            self.opt = fastact.SGD(lr=SGD_LR)
            self.loss = math.nan

            def step():
                total, _ = self.model.train_step(self.x, self.labels, self.opt)
                self.loss = total / batch

            self.fn = step
        else:
            self.layer = fastact.Dense(n_in, n_out, act, rng=np.random.default_rng(seed), seed=seed, **act_params)
            if op == "forward":
                self.fn = lambda: self.layer.forward(self.x, training=True)
            else:
                self.layer.forward(self.x, training=True)

                def backward():
                    self.dx = self.layer.backward(self.dy)

                self.fn = backward
        self.op = op

    def outputs(self):
        if self.op == "forward":
            return {"y": self.layer.output.copy()}
        if self.op == "backward":
            out = {"dx": self.dx.copy(), "dw": self.layer.dw.copy(),
                   "db": self.layer.db.copy()}
            if self.layer.dalpha is not None:
                out["dalpha"] = self.layer.dalpha.copy()
            return out
        out = {"loss": np.array(self.loss)}
        for i, layer in enumerate(self.model.layers):
            out[f"w{i}"], out[f"b{i}"] = layer.w.copy(), layer.b.copy()
            if layer.alpha is not None:
                out[f"alpha{i}"] = layer.alpha.copy()
        return out


def _reference(op, act, n_in, n_out, seed, act_params):
    """fastact's initial weights (and resolved parameters) for the peers to start from."""
    if op == "step":
        m = fastact.MLP([n_in, n_out, N_CLASSES], act, seed=seed, **act_params)
        return [(lyr.w.copy(), lyr.b.copy()) for lyr in m.layers], _params_of(act, m.layers[0])
    layer = fastact.Dense(n_in, n_out, act, rng=np.random.default_rng(seed), seed=seed, **act_params)
    return [(layer.w.copy(), layer.b.copy())], _params_of(act, layer)


def _log_softmax_xent(logits, labels):
    """(mean loss, d mean loss / d logits) with the max subtracted first."""
    s = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(s)
    total = e.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = float(np.mean(np.log(total[:, 0]) - s[np.arange(n), labels]))
    g = e / total
    g[np.arange(n), labels] -= 1
    return loss, g / logits.dtype.type(n)


class _NumpyCase(Case):
    def __init__(self, op, act, batch, n_in, n_out, seed, act_params, exact_noise):
        self.x, self.dy, self.labels = _inputs(batch, n_in, n_out, seed)
        layers, self.p = _reference(op, act, n_in, n_out, seed, act_params)
        self.fwd, self.grad = NUMPY_ACTS[act]
        self.random = activations.get(act).random
        self.exact, self.seed, self.op, self.batch, self.n_out = exact_noise, seed, op, batch, n_out
        self.rng = np.random.default_rng(seed + 2)
        self.steps = 0
        self.u = None
        self.w, self.b = layers[0]
        if op == "step":
            self.w2, self.b2 = layers[1]
            self.fn = self._step
        elif op == "forward":
            self.fn = self._forward
        else:
            self._forward()
            self.fn = self._backward

    def _noise(self, step):
        if not self.random:
            return None
        shape = (self.batch, self.n_out)
        if self.exact:
            return rrelu_slopes(self.p, counter_uniform(self.seed, step, 0, shape), np.float32)
        u = self.rng.random(shape, dtype=np.float32)
        lo, hi = np.float32(self.p["lower"]), np.float32(self.p["upper"])
        return lo + (hi - lo) * u

    def _forward(self):
        self.u = self._noise(0)
        self.z = self.x @ self.w + self.b
        self.y = self.fwd(self.z, self.p, self.u)
        return self.y

    def _backward(self):
        dz = self.dy * self.grad(self.z, self.y, self.p, self.u)
        self.dw = self.x.T @ dz
        self.db = dz.sum(axis=0)
        self.dx = dz @ self.w.T
        if "prelu_alpha" in self.p:
            self.dalpha = (self.dy * np.where(self.z > 0, 0, self.z)).sum(axis=0)
        return self.dx

    def _step(self):
        u = self._noise(self.steps)
        z = self.x @ self.w + self.b
        h = self.fwd(z, self.p, u)
        logits = h @ self.w2 + self.b2
        self.loss, g = _log_softmax_xent(logits, self.labels)
        dw2, db2 = h.T @ g, g.sum(axis=0)
        dh = g @ self.w2.T
        dz = dh * self.grad(z, h, self.p, u)
        dw, db = self.x.T @ dz, dz.sum(axis=0)
        lr = np.float32(SGD_LR)
        if "prelu_alpha" in self.p:
            dalpha = (dh * np.where(z > 0, 0, z)).sum(axis=0)
            if self.p["prelu_alpha"].size == 1:
                dalpha = dalpha.sum(keepdims=True)
            self.p["prelu_alpha"] -= lr * dalpha
        self.w -= lr * dw
        self.b -= lr * db
        self.w2 -= lr * dw2
        self.b2 -= lr * db2
        self.steps += 1

    def outputs(self):
        if self.op == "forward":
            return {"y": self.y}
        if self.op == "backward":
            out = {"dx": self.dx, "dw": self.dw, "db": self.db}
            if "prelu_alpha" in self.p:
                out["dalpha"] = self.dalpha
            return out
        out = {"loss": np.array(self.loss), "w0": self.w, "b0": self.b, "w1": self.w2, "b1": self.b2}
        if "prelu_alpha" in self.p:
            out["alpha0"] = self.p["prelu_alpha"]
        return out


class _TorchCase(Case):
    def __init__(self, op, act, batch, n_in, n_out, seed, act_params, exact_noise):
        import torch
        import torch.nn.functional as F

        x, dy, labels = _inputs(batch, n_in, n_out, seed)
        layers, p = _reference(op, act, n_in, n_out, seed, act_params)
        self.op, self.has_alpha = op, "prelu_alpha" in p
        slopes = None
        if activations.get(act).random and exact_noise:
            slopes = rrelu_slopes(p, counter_uniform(seed, 0, 0, (batch, n_out)), np.float32)

        def linear(w, b):
            lin = torch.nn.Linear(w.shape[0], w.shape[1])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w.T.copy()))
                lin.bias.copy_(torch.from_numpy(b))
            return lin

        self.act = _torch_fixed_slopes(slopes) if slopes is not None else TORCH_ACTS[act](p, n_out)
        self.lin = linear(*layers[0])
        self.x = torch.from_numpy(x)
        if op == "step":
            self.model = torch.nn.Sequential(self.lin, self.act, linear(*layers[1]))
            self.labels = torch.from_numpy(labels)
            self.opt = torch.optim.SGD(self.model.parameters(), lr=SGD_LR)

            def step():
                self.opt.zero_grad(set_to_none=True)
                self.loss = F.cross_entropy(self.model(self.x), self.labels)
                self.loss.backward()
                self.opt.step()

            self.fn = step
        elif op == "forward":
            self.fn = lambda: self.act(self.lin(self.x))
        else:
            self.x.requires_grad_(True)
            self.dy = torch.from_numpy(dy)
            self.y = self.act(self.lin(self.x))
            params = [self.x, *self.lin.parameters(), *self.act.parameters()]

            def backward():
                for t in params:
                    t.grad = None
                self.y.backward(self.dy, retain_graph=True)

            self.fn = backward

    def outputs(self):
        np_ = lambda t: t.detach().numpy().copy()  # noqa: E731
        if self.op == "forward":
            return {"y": np_(self.fn())}
        if self.op == "backward":
            out = {"dx": np_(self.x.grad), "dw": np_(self.lin.weight.grad).T, "db": np_(self.lin.bias.grad)}
            if self.has_alpha:
                out["dalpha"] = np_(self.act.weight.grad)
            return out
        lin0, lin1 = self.model[0], self.model[2]
        out = {"loss": np.array(self.loss.item()), "w0": np_(lin0.weight).T, "b0": np_(lin0.bias),
               "w1": np_(lin1.weight).T, "b1": np_(lin1.bias)}
        if self.has_alpha:
            out["alpha0"] = np_(self.act.weight)
        return out


def make_case(impl: str, op: str, act: str, batch: int = 128, shape: tuple[int, int] = (784, 512),
              seed: int = 0, exact_noise: bool = False, **act_params) -> Case:
    """Build one benchmark case; every impl starts from fastact's initial weights for ``seed``."""
    act = activations.get(act).name
    _check_choice("impl", impl, IMPLS)
    _check_choice("op", op, OPS)
    if why := missing(impl, act):
        raise ValueError(why)
    n_in, n_out = (int(s) for s in shape)
    if impl == "fastact":
        return _FastactCase(op, act, batch, n_in, n_out, seed, act_params)
    if impl == "numpy":
        return _NumpyCase(op, act, batch, n_in, n_out, seed, act_params, exact_noise)
    return _TorchCase(op, act, batch, n_in, n_out, seed, act_params, exact_noise)


def agreement(impl: str, op: str, act: str, batch: int = 128, shape: tuple[int, int] = (784, 512),
              seed: int = 0, **act_params) -> dict[str, float]:
    """Largest error of each of ``impl``'s outputs against fastact's, after one call each.

    Errors are ``max |peer - fastact| / max |fastact|`` per output (RReLU uses fastact's exact
    slopes), the check benchdnn runs before it times: a ratio only means something if both
    sides computed the same numbers.
    """
    outs = []
    for who in ("fastact", impl):
        case = make_case(who, op, act, batch, shape, seed, exact_noise=True, **act_params)
        case.fn()
        outs.append(case.outputs())
    ref, peer = outs
    return {k: float(np.max(np.abs(np.asarray(peer[k], np.float64) - v)) / max(float(np.max(np.abs(v))), 1e-30))
            for k, v in ref.items()}


def _check_choice(name, value, valid):
    if value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(valid)}. Received: {name}={value!r}")


# ---- threads ------------------------------------------------------------------------------
@contextlib.contextmanager
def pinned_threads(n: int | None = None, torch_too: bool = False):
    """Pin fastact, NumPy's BLAS and (if asked) torch to ``n`` threads (None: all cores)."""
    from threadpoolctl import ThreadpoolController

    n = engine_threads.set_num_threads(n)
    ctl = ThreadpoolController()
    numpy_blas = [lib for lib in ctl.lib_controllers
                  if lib.user_api == "blas" and "numpy" in lib.filepath]
    before = [lib.num_threads for lib in numpy_blas]
    for lib in numpy_blas:
        lib.set_num_threads(n)
    torch_before = None
    if torch_too:
        import torch

        torch_before = torch.get_num_threads()
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        for lib, k in zip(numpy_blas, before):
            lib.set_num_threads(k)
        if torch_before is not None:
            import torch

            torch.set_num_threads(torch_before)


# ---- timing -------------------------------------------------------------------------------
def time_rounds(fn: Callable, min_rounds: int = 5, max_time: float = 0.5, warmup: int = 3,
                cancel: threading.Event | None = None) -> list[float]:
    """Seconds per call: warm-up, then rounds until ``min_rounds`` and ``max_time`` are both reached.

    Warm-up is ``warmup`` untimed calls and at least a fifth of ``max_time`` (oneDNN and
    the BLAS thread pools settle over the first several calls, not the first one).
    """
    start = time.perf_counter()
    k = 0
    while k < warmup or time.perf_counter() - start < 0.2 * max_time:
        fn()
        k += 1
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_rounds or time.perf_counter() - start < max_time:
        if cancel is not None and cancel.is_set():
            break
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def summarize(times: list[float]) -> tuple[float, float]:
    """(median, inter-quartile range) of ``times``."""
    if not times:
        return math.nan, math.nan
    q1, q3 = np.percentile(times, [25, 75])
    return float(statistics.median(times)), float(q3 - q1)


def _resolve_acts(acts) -> list[str]:
    if isinstance(acts, str):
        acts = [acts]
    out = []
    for a in acts:
        if a in ("seed", "extra", "every", "all"):
            out += activations.names("every" if a == "all" else a)
        else:
            out.append(activations.get(a).name)
    return list(dict.fromkeys(out))


def _plan(acts, batches, ops, impls, shape):
    """Validated (op, act, batch, impl) cases in run order, the impls and the shape."""
    acts = _resolve_acts(acts)
    impls = list(impls) if impls is not None else available_impls()
    for i in impls:
        _check_choice("impl", i, IMPLS)
    if "torch" in impls and not torch_available():
        raise ValueError("impl 'torch' requested but torch is not installed. Received: impls="
                         f"{impls!r}; available: {', '.join(available_impls())}")
    for o in ops:
        _check_choice("op", o, OPS)
    for b in batches:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
            raise ValueError(f"batch sizes must be positive integers. Received: batches={batches!r}")
    if len(shape) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in shape):
        raise ValueError(f"shape must be two positive sizes (n_in, n_out). Received: shape={tuple(shape)!r}")
    plan = [(op, a, int(b), i) for op in ops for a in acts for b in batches for i in impls]
    return plan, impls, (int(shape[0]), int(shape[1]))


def run(acts, batches=(128,), ops=OPS, impls=None, shape=(784, 512), min_rounds=5, max_time=0.5,
        progress: Callable | None = None, cancel: threading.Event | None = None,
        threads: int | None = None) -> list[BenchResult]:
    """Time every (op, act, batch, impl); ``progress(done, total, result)`` after each case.

    A peer that cannot run an activation yields a result with NaN times and a ``note``.
    Cancelling (``cancel.set()``) stops after the current round; results so far are returned.
    """
    plan, impls, (n_in, n_out) = _plan(acts, batches, ops, impls, shape)
    results: list[BenchResult] = []
    with pinned_threads(threads, torch_too="torch" in impls):
        for k, (op, act, batch, impl) in enumerate(plan):
            if cancel is not None and cancel.is_set():
                break
            note = missing(impl, act)
            if note:
                res = BenchResult(impl, op, act, batch, n_in, n_out, math.nan, math.nan, 0, note)
            else:
                case = make_case(impl, op, act, batch, (n_in, n_out))
                med, iqr = summarize(times := time_rounds(case.fn, min_rounds, max_time, cancel=cancel))
                res = BenchResult(impl, op, act, batch, n_in, n_out, med, iqr, len(times))
            results.append(res)
            if progress is not None:
                progress(k + 1, len(plan), res)
    return results


# ---- the report ---------------------------------------------------------------------------
def step_flops(batch: int, n_in: int, n_out: int, n_classes: int = N_CLASSES) -> int:
    """Multiply-add FLOPs of one training step (2 per FMA); the input layer computes no dx."""
    forward = 2 * batch * (n_in * n_out + n_out * n_classes)
    backward = 2 * batch * (2 * n_out * n_classes + n_in * n_out)
    return forward + backward


def op_flops(op: str, batch: int, n_in: int, n_out: int) -> int:
    """Multiply-add FLOPs of one call of ``op``: the GEMMs only (element-wise work is not counted)."""
    _check_choice("op", op, OPS)
    if op == "step":
        return step_flops(batch, n_in, n_out)
    gemms = 1 if op == "forward" else 2  # backward: dw = x.T @ dz and dx = dz @ w.T
    return 2 * batch * n_in * n_out * gemms


def ratio_table(results: list[BenchResult]) -> list[dict]:
    """One row per (op, act, batch, shape): each impl's median in ms and peer / fastact ratios."""
    rows: dict[tuple, dict] = {}
    for r in results:
        key = (r.op, r.act, r.batch, r.n_in, r.n_out)
        row = rows.setdefault(key, {"op": r.op, "act": r.act, "batch": r.batch, "n_in": r.n_in,
                                    "n_out": r.n_out, "fastact_ms": None, "numpy_ms": None,
                                    "torch_ms": None, "notes": []})
        ms = r.median_s * 1e3 if math.isfinite(r.median_s) else None
        row[f"{r.impl}_ms"] = ms
        if r.note:
            row["notes"].append(r.note)
    for row in rows.values():
        for peer in ("numpy", "torch"):
            f, p = row["fastact_ms"], row[f"{peer}_ms"]
            row[f"{peer}_ratio"] = p / f if f and p else None
    return list(rows.values())


def _cpuinfo() -> dict:
    info = {"model": platform.processor() or platform.machine(), "mhz": None, "flags": set(), "vendor": "",
            "family": None}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, val = line.partition(":")
                key, val = key.strip(), val.strip()
                if key == "model name":
                    info["model"] = val
                elif key == "cpu MHz" and info["mhz"] is None:
                    info["mhz"] = float(val)
                elif key == "flags":
                    info["flags"] = set(val.split())
                elif key == "vendor_id":
                    info["vendor"] = val
                elif key == "cpu family" and info["family"] is None:
                    info["family"] = int(val)
    except OSError:
        pass
    return info


def fma_peak(threads: int | None = None, measure: bool = False) -> dict:
    """The machine's fp32 FMA peak: ``cores x GHz x FMA units x lanes x 2`` FLOP/s.

    GHz is /proc/cpuinfo's "cpu MHz" (under a hypervisor, the nominal clock; turbo is not
    counted). Lanes come from the CPU flags: 16 with AVX-512, except AMD Zen 4 (family 25),
    which runs 512-bit FMAs on 256-bit units (8 lanes); 8 with AVX2/FMA; 4 otherwise.
    Two FMA units per core are assumed (every AVX2-class server core since Haswell / Zen 2).
    ``measure=True`` also times a single-threaded NumPy sgemm (2048^3) and scales it by the
    thread count: the "measured BLAS peak".
    """
    cpu = _cpuinfo()
    n = threads or engine_threads.max_threads()
    flags = cpu["flags"]
    zen4 = cpu["vendor"] == "AuthenticAMD" and cpu["family"] == 25
    lanes = 16 if "avx512f" in flags and not zen4 else 8 if ("avx2" in flags or "fma" in flags) else 4
    ghz = (cpu["mhz"] or 0.0) / 1e3
    out = {"gflops": n * ghz * 2 * lanes * 2, "cores": n, "ghz": ghz, "fma_units": 2, "lanes": lanes,
           "how": f"{n} cores x {ghz:.2f} GHz (/proc/cpuinfo) x 2 FMA units (assumed) x {lanes} fp32 lanes"
                  f" ({'AVX-512 on 256-bit units (Zen 4)' if zen4 else 'from CPU flags'}) x 2 FLOP/FMA"}
    out["nominal_gflops"] = out["gflops"]
    if measure:
        out["measured_gflops"] = measure_blas_peak() * n
        out["measured_how"] = f"single-threaded NumPy sgemm 2048^3, median of 5, x {n} threads"
        # Turbo can beat the nominal clock: the share is taken of whichever is higher.
        out["gflops"] = max(out["gflops"], out["measured_gflops"])
        out["basis"] = "measured" if out["gflops"] == out["measured_gflops"] else "nominal"
    return out


def measure_blas_peak(size: int = 2048) -> float:
    """GFLOP/s of one thread of NumPy's sgemm."""
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    c = np.empty_like(a)
    with threadpool_limits(1, user_api="blas"):
        times = time_rounds(lambda: np.matmul(a, a, out=c), min_rounds=5, max_time=0.0, warmup=1)
    return 2 * size ** 3 / statistics.median(times) / 1e9


def environment(torch: bool | None = None) -> dict:
    """Everything that decides the numbers: CPU, every BLAS and its threads, numba, torch."""
    from threadpoolctl import threadpool_info

    cpu = _cpuinfo()
    blas = []
    for lib in threadpool_info():
        path = lib.get("filepath", "")
        user = "numpy" if "numpy" in path else "fastact kernels (scipy)" if "scipy" in path else \
            "torch" if "torch" in path else os.path.basename(path)
        blas.append({"library": lib.get("internal_api"), "user_api": lib.get("user_api"),
                     "version": lib.get("version"), "architecture": lib.get("architecture"),
                     "threads": lib.get("num_threads"), "threading_layer": lib.get("threading_layer"),
                     "used_by": user, "filepath": path})
    env = {
        "cpu": {"model": cpu["model"], "mhz": cpu["mhz"], "logical_cpus": os.cpu_count(),
                "simd": sorted(f for f in cpu["flags"] if f in ("avx2", "fma", "avx512f", "avx512_bf16"))},
        "python": platform.python_version(), "numpy": np.__version__,
        "fastact": {"version": fastact.__version__, "numba_threads": fastact.get_num_threads(),
                    "numba_max_threads": engine_threads.max_threads(),
                    "threading_layer": engine_threads.threading_layer()},
        "blas": blas,
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                               "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")},
        "torch": None,
    }
    try:
        from fastact.engine.blas import backend_info

        env["fastact"]["kernel_blas"] = backend_info()
    except Exception as exc:  # the kernels' BLAS is informational here
        env["fastact"]["kernel_blas"] = {"error": str(exc)}
    if torch is None:
        torch = torch_available()
    if torch:
        import torch as t

        env["torch"] = {"version": t.__version__, "threads": t.get_num_threads(),
                        "interop_threads": t.get_num_interop_threads(),
                        "mkl": t.backends.mkl.is_available(), "mkldnn": t.backends.mkldnn.is_available(),
                        "mkldnn_enabled": t.backends.mkldnn.enabled,
                        "cpu_capability": t.backends.cpu.get_cpu_capability()}
    return env


# ---- the CLI ------------------------------------------------------------------------------
def _csv(kind, what):
    def parse(text):
        try:
            return [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {what}. Received: {text!r}") from None

    parse.__name__ = what
    return parse


def add_arguments(parser) -> None:
    """Options of ``fastact bench``."""
    parser.add_argument("--act", type=_csv(str, "names"), default=["seed"],
                        help="activations, comma-separated, or seed/extra/every (default: seed)")
    parser.add_argument("--batch", type=_csv(int, "integers"), default=[128], help="batch sizes, comma-separated (128)")
    parser.add_argument("--ops", type=_csv(str, "names"), default=list(OPS), help="forward,backward,step")
    parser.add_argument("--impls", type=_csv(str, "names"), default=None,
                        help=f"implementations (default: {','.join(available_impls())})")
    parser.add_argument("--shape", type=_csv(int, "integers"), default=[784, 512], help="n_in,n_out (784,512)")
    parser.add_argument("--threads", type=int, default=None, help="threads for every impl (all cores)")
    parser.add_argument("--min-rounds", type=int, default=5)
    parser.add_argument("--max-time", type=float, default=0.5, help="seconds per case (0.5)")
    parser.add_argument("--json", metavar="PATH", default=None, help="also write results + environment")


def render_table(rows: list[dict], title: str = "fastact benchmarks (median ms; ratio = peer / fastact)",
                 peak: dict | None = None):
    """A rich Table of `ratio_table` rows, with fastact's share of ``peak`` (GEMM FLOPs) if given."""
    from rich.table import Table

    table = Table(title=title)
    for col in ("op", "act", "batch", "shape", "fastact", "numpy", "torch", "numpy/fa", "torch/fa"):
        table.add_column(col, justify="left" if col in ("op", "act") else "right")
    if peak:
        table.add_column("% peak", justify="right")
    fmt = lambda v, d=3: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    for r in rows:
        cells = [r["op"], r["act"], str(r["batch"]), f"{r['n_in']}x{r['n_out']}", fmt(r["fastact_ms"]),
                 fmt(r["numpy_ms"]), fmt(r["torch_ms"]), fmt(r["numpy_ratio"], 2), fmt(r["torch_ratio"], 2)]
        if peak:
            share = None
            if r["fastact_ms"]:
                share = 100 * op_flops(r["op"], r["batch"], r["n_in"], r["n_out"]) / (r["fastact_ms"] * 1e-3) \
                    / (peak["gflops"] * 1e9)
            cells.append(fmt(share, 1))
        table.add_row(*cells)
    return table


def run_cli(args) -> int:
    """``fastact bench``: run, print the table, optionally write JSON. Returns the exit code.

    Bad arguments raise ValueError naming the value (``fastact``'s CLI prints it as one line, exit 2).
    """
    import json

    from rich.console import Console
    from rich.progress import Progress

    console = Console()
    _plan(args.act, args.batch, args.ops, args.impls, args.shape)  # bad arguments fail before the bar shows
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("benchmarking", total=None)

        def progress(done, total, res):
            bar.update(task, completed=done, total=total, description=f"{res.impl} {res.op} {res.act} b{res.batch}")

        results = run(args.act, args.batch, args.ops, args.impls, tuple(args.shape), args.min_rounds,
                      args.max_time, progress=progress, threads=args.threads)
    rows = ratio_table(results)
    peak = fma_peak(args.threads)
    console.print(render_table(rows, peak=peak))
    console.print(f"peak: {peak['gflops']:.0f} GFLOP/s = {peak['how']}")
    for r in results:
        if r.note:
            console.print(f"[yellow]skipped[/yellow] {r.impl} {r.act}: {r.note}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": [r.to_dict() for r in results], "table": rows, "peak": peak,
                       "environment": environment("torch" in (args.impls or available_impls()))}, fh, indent=2)
        console.print(f"wrote {args.json}")
    return 0


# ---- one epoch end to end -----------------------------------------------------------------
def epoch_data(n: int = 60_000, n_in: int = 784, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped generated data: pixels in [0, 1), labels from a random linear teacher."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, n_in), dtype=np.float32)
    teacher = rng.standard_normal((n_in, N_CLASSES), dtype=np.float32)
    return x, np.argmax(x @ teacher, axis=1).astype(np.int64)


def epoch_runner(impl: str, x: np.ndarray, y: np.ndarray, act: str = "relu", batch: int = 128,
                 hidden: int = 512, lr: float = 1e-3, seed: int = 0) -> Callable[[], float]:
    """A function training one epoch (shuffle, gather each batch, Adam step); returns the mean loss.

    fastact: `MLP.train_step` over ``x[perm[i:i + batch]]``; torch: the textbook loop
    (``randperm``, index, ``zero_grad``, ``cross_entropy``, ``backward``, ``step``).
    Both start from fastact's initial weights.
    """
    _check_choice("impl", impl, ("fastact", "torch"))
    n = x.shape[0]
    model = fastact.MLP([x.shape[1], hidden, N_CLASSES], act, seed=seed)
    if impl == "fastact":
        opt = fastact.Adam(lr=lr)
        rng = np.random.default_rng(seed)

        def epoch():
            perm = rng.permutation(n)
            total = 0.0
            for i in range(0, n, batch):
                idx = perm[i:i + batch]
                total += model.train_step(x[idx], y[idx], opt)[0]
            return total / n

        return epoch
    import torch
    import torch.nn.functional as F

    p = _params_of(act, model.layers[0])
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), TORCH_ACTS[act](p, hidden),
                              torch.nn.Linear(hidden, N_CLASSES))
    with torch.no_grad():
        for lin, layer in ((net[0], model.layers[0]), (net[2], model.layers[1])):
            lin.weight.copy_(torch.from_numpy(layer.w.T.copy()))
            lin.bias.copy_(torch.from_numpy(layer.b))
    opt_t = torch.optim.Adam(net.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)

    def epoch_t():
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt_t.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(xt[idx]), yt[idx])
            loss.backward()
            opt_t.step()
            total += loss.item() * len(idx)
        return total / n

    return epoch_t


def trainer_epochs(x: np.ndarray, y: np.ndarray, act: str = "relu", batch: int = 128, epochs: int = 2,
                   n_val: int = 6_000, seed: int = 0, threads: int | None = None) -> list:
    """`fastact.trainer.train` on ``x, y`` (plus ``n_val`` generated validation rows): its `EpochRecord` s.

    This is the end-to-end path users run (prefetching, per-batch callbacks, validation after
    each epoch, Adam at lr 1e-3); ``n / samples_per_s`` of a record is its training time.
    """
    from fastact.data import Dataset
    from fastact.trainer import TrainConfig, train

    xv, yv = epoch_data(n_val + 1_000, x.shape[1], seed + 1)
    ds = Dataset(name="generated", source="fastact.benchmarks.epoch_data",
                 description=f"{len(x):,} generated MNIST-shaped samples (benchmark)", checksums={},
                 x_train=x, y_train=y, x_val=xv[:n_val], y_val=yv[:n_val], x_test=xv[n_val:], y_test=yv[n_val:],
                 n_classes=N_CLASSES, image_shape=(28, 28) if x.shape[1] == 784 else (1, x.shape[1]),
                 classes=tuple(str(i) for i in range(N_CLASSES)), val_split=0.0, seed=seed, dtype="float32")
    config = TrainConfig(act=act, hidden=(512,), epochs=epochs, batch_size=batch, seed=seed, out=None,
                         threads=threads)
    result = train(config, dataset=ds)
    if result.status != "completed":
        raise RuntimeError(f"trainer run {result.status}: {result.message}")
    return result.history


# ---- peak memory of a short training run ---------------------------------------------------
def _rss_kb() -> tuple[int, int]:
    """(current, peak) resident set size in KiB from /proc/self/status (Linux)."""
    vals = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, val = line.split(":")
                vals[key] = int(val.split()[0])
    return vals["VmRSS"], vals["VmHWM"]


def _memory_child(impl: str, act: str, batch: int, steps: int, n_in: int, hidden: int) -> None:
    """Runs in its own process: prints the resident-memory growth of ``steps`` SGD steps.

    Imports, data, the model and a warm-up on a tiny model (the JIT's cached code, torch's
    thread pools) come before the baseline, so the figure is what training itself holds:
    workspaces, gradients, saved activations, RReLU's noise when one is stored. The peak is
    Linux's VmHWM, reset at the baseline through /proc/self/clear_refs (``ru_maxrss`` would
    also count what the process held before ``exec``, i.e. the forking parent's pages).
    """
    import json
    import sys
    import tracemalloc

    small = make_case(impl, "step", act, batch=4, shape=(8, 6))
    small.fn()
    case = make_case(impl, "step", act, batch=batch, shape=(n_in, hidden))
    tracemalloc.start()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM to the current RSS
    base, _ = _rss_kb()
    for _ in range(steps):
        case.fn()
    _, peak = _rss_kb()
    traced = tracemalloc.get_traced_memory()[1]
    json.dump({"impl": impl, "act": act, "batch": batch, "steps": steps, "baseline_mb": base / 1024,
               "peak_mb": peak / 1024, "above_baseline_mb": (peak - base) / 1024,
               "numpy_traced_peak_mb": traced / 2**20 if impl != "torch" else None}, sys.stdout)


def peak_memory(impl: str, act: str, batch: int = 1024, steps: int = 20, shape=(784, 512),
                threads: int | None = None) -> dict:
    """`_memory_child` in a fresh interpreter (RSS is per process); returns its report."""
    import json
    import subprocess
    import sys

    _check_choice("impl", impl, ("fastact", "numpy", "torch"))
    act = activations.get(act).name
    n = threads or engine_threads.max_threads()
    code = (f"import fastact, fastact.benchmarks as b\nwith b.pinned_threads({n}, torch_too={impl == 'torch'}):\n"
            f"    b._memory_child({impl!r}, {act!r}, {int(batch)}, {int(steps)}, {int(shape[0])}, {int(shape[1])})")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"memory probe {impl}/{act} failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
