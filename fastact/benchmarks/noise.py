"""RReLU noise: fastact's counter stream, vectorised, so peers can use the exact same slopes."""

from __future__ import annotations

import numpy as np

from fastact.engine.rng import stream_key

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


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
