"""Weight initialisers (fan_in = rows of ``w``, fan_out = columns).

* ``he_normal``:      N(0, 2 / fan_in)                 (He et al. 2015; ReLU family)
* ``he_uniform``:     U(-sqrt(6 / fan_in), +sqrt(6 / fan_in))
* ``glorot_normal``:  N(0, 2 / (fan_in + fan_out))     (Glorot & Bengio 2010; saturating)
* ``glorot_uniform``: U(-sqrt(6 / (fan_in + fan_out)), +...)
* ``lecun_normal``:   N(0, 1 / fan_in)                 (SELU's self-normalising init)

An activation's table entry names its family (``"he"``, ``"glorot"``,
``"lecun"``); `for_activation` maps it to that family's default, Keras's and
PyTorch's usual choices: ``he_normal``, ``glorot_uniform``, ``lecun_normal``.
"""

from __future__ import annotations

import math

import numpy as np

from fastact.errors import SettingsError

INITIALIZERS = ("he_normal", "he_uniform", "glorot_normal", "glorot_uniform", "lecun_normal")
_FAMILY_DEFAULT = {"he": "he_normal", "glorot": "glorot_uniform", "lecun": "lecun_normal"}


def for_activation(family: str) -> str:
    return _FAMILY_DEFAULT[family]


def initialize(name: str, fan_in: int, fan_out: int, rng: np.random.Generator, dtype) -> np.ndarray:
    """A (fan_in, fan_out) weight matrix drawn by initialiser ``name``."""
    if name not in INITIALIZERS:
        raise SettingsError("initializer", name, f"one of {', '.join(INITIALIZERS)}")
    family, dist = name.rsplit("_", 1)
    var = {"he": 2.0 / fan_in, "glorot": 2.0 / (fan_in + fan_out), "lecun": 1.0 / fan_in}[family]
    if dist == "normal":
        w = rng.standard_normal((fan_in, fan_out)) * math.sqrt(var)
    else:
        limit = math.sqrt(3.0 * var)
        w = rng.uniform(-limit, limit, (fan_in, fan_out))
    return np.ascontiguousarray(w, dtype=dtype)
