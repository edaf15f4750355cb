"""The peers' activations: a NumPy table of separate array ops, torch `nn.Module` builders
(torch imported lazily), and which peer can run what."""

from __future__ import annotations

import importlib.util
from typing import Callable

import numpy as np
import scipy.special as sp

# `torch_available` is looked up on the package at call time, so patching
# `benchmarks.torch_available` (as the tests do) reaches this module too.
from fastact import benchmarks as _package


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
    return ["fastact", "numpy"] + (["torch"] if _package.torch_available() else [])


def missing(impl: str, act: str) -> str:
    """Why ``impl`` cannot run ``act`` ("" when it can)."""
    table = {"numpy": NUMPY_ACTS, "torch": TORCH_ACTS}.get(impl)
    if table is not None and act not in table:
        return f"{impl} peer has no mapping for activation {act!r}"
    return ""
