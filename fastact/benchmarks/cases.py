"""Building a case for any implementation, and checking a peer computes what fastact computes."""

from __future__ import annotations

import numpy as np

from fastact import activations
from fastact.benchmarks.config import IMPLS, OPS, _check_choice
from fastact.benchmarks.peer_cases import _NumpyCase, _TorchCase
from fastact.benchmarks.peers import missing
from fastact.benchmarks.reference import Case, _FastactCase


def make_case(impl: str, op: str, act: str, batch: int = 128, shape: tuple[int, int] = (784, 512),
              seed: int = 0, exact_noise: bool = False, dropout: float = 0.0, **act_params) -> Case:
    """Build one benchmark case; every impl starts from fastact's initial weights for ``seed``.

    ``dropout``: fastact's fused dropout on the hidden layer (the peers have no such case).
    """
    act = activations.get(act).name
    _check_choice("impl", impl, IMPLS)
    _check_choice("op", op, OPS)
    if dropout and impl != "fastact":
        raise ValueError(f"only fastact's cases take dropout. Received: impl={impl!r}, dropout={dropout!r}")
    if why := missing(impl, act):
        raise ValueError(why)
    n_in, n_out = (int(s) for s in shape)
    if impl == "fastact":
        return _FastactCase(op, act, batch, n_in, n_out, seed, act_params, dropout)
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
