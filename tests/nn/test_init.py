"""Initialisers (`fastact.nn.init`): each distribution's variance and range, the family each
activation asks for, and bad names."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fastact import activations
from fastact.nn import init

FAN_IN, FAN_OUT = 400, 300
VAR = {"he": 2 / FAN_IN, "glorot": 2 / (FAN_IN + FAN_OUT), "lecun": 1 / FAN_IN}


@pytest.mark.parametrize("name", init.INITIALIZERS)
def test_variance_and_support(name):
    w = init.initialize(name, FAN_IN, FAN_OUT, np.random.default_rng(0), np.float64)
    family, dist = name.rsplit("_", 1)
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float64 and w.flags.c_contiguous
    # 120,000 draws: the sample variance is within 2% of the target with overwhelming probability.
    assert w.var() == pytest.approx(VAR[family], rel=0.02)
    assert abs(w.mean()) < 4 * math.sqrt(VAR[family] / w.size)
    if dist == "uniform":
        assert np.abs(w).max() <= math.sqrt(3 * VAR[family])


def test_same_rng_same_weights_and_dtype():
    a = init.initialize("he_normal", 5, 4, np.random.default_rng(7), np.float32)
    b = init.initialize("he_normal", 5, 4, np.random.default_rng(7), np.float32)
    assert a.dtype == np.float32 and np.array_equal(a, b)


def test_every_activation_names_a_known_family():
    for act in activations.ACTIVATIONS.values():
        assert init.for_activation(act.init) in init.INITIALIZERS
    assert init.for_activation("he") == "he_normal" and init.for_activation("glorot") == "glorot_uniform"


def test_unknown_initializer_names_the_value():
    with pytest.raises(ValueError, match="initializer must be one of he_normal, .*Received: initializer='ortho'"):
        init.initialize("ortho", 2, 2, np.random.default_rng(0), np.float64)
