"""RReLU's random slopes: range, distribution, evaluation midpoint, reproducibility.

Slopes are read back through the public layer (`naive.probe_slopes`: w = 0,
b = -1, so y = -slope), so these tests hold for any generator that meets the
contract, not just the current SplitMix64 one.

Statistical tests use fixed seeds (deterministic) and 5-sigma bounds, so they
fail only if the distribution is wrong, never by chance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import fastact
from fastact.engine import rng

import naive

SHAPE = (256, 512)  # 131072 slopes


@pytest.mark.parametrize("lower, upper", [(1.0 / 8, 1.0 / 3), (0.0, 1.0), (0.3, 0.31)])
def test_training_slopes_are_uniform_on_lower_upper(lower, upper):
    r = naive.probe_slopes(SHAPE, "float64", seed=3, step=1, lower=lower, upper=upper)
    n = r.size
    assert r.min() >= lower and r.max() <= upper
    width = upper - lower
    # U(l, u): mean (l+u)/2, variance w^2/12; the sample variance's own variance
    # is (mu4 - sigma^4)/n with mu4 = w^4/80.
    mean_sd = width / math.sqrt(12 * n)
    assert abs(r.mean() - (lower + upper) / 2) < 5 * mean_sd
    var_sd = width**2 * math.sqrt((1 / 80 - 1 / 144) / n)
    assert abs(r.var() - width**2 / 12) < 5 * var_sd
    # Shape of the distribution, not just two moments.
    assert stats.kstest((r.ravel() - lower) / width, "uniform").pvalue > 1e-4


def test_slopes_are_uncorrelated_across_neighbours_steps_and_layers():
    a = naive.probe_slopes(SHAPE, seed=0, step=0, index=0).ravel()
    b = naive.probe_slopes(SHAPE, seed=0, step=1, index=0).ravel()
    c = naive.probe_slopes(SHAPE, seed=0, step=0, index=1).ravel()
    d = naive.probe_slopes(SHAPE, seed=1, step=0, index=0).ravel()
    bound = 5 / math.sqrt(a.size)  # 5 sigma of a correlation of independent samples
    for mine, other in ((a[:-1], a[1:]), (a, b), (a, c), (a, d)):
        assert abs(np.corrcoef(mine, other)[0, 1]) < bound
    # Column j of every row: no per-unit bias (rows share a unit, not a slope).
    col_means = naive.probe_slopes(SHAPE, seed=0, step=2).mean(axis=0)
    assert col_means.std() < 2 * (1 / 3 - 1 / 8) / math.sqrt(12 * SHAPE[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_evaluation_uses_the_midpoint(dtype):
    r = naive.probe_slopes((7, 9), dtype, step=4, training=False, lower=0.1, upper=0.4)
    np.testing.assert_allclose(r, 0.25, rtol=1e-7 if dtype == "float32" else 1e-15)


def test_same_seed_and_step_reproduce_bitwise():
    a = naive.probe_slopes((33, 65), seed=9, step=12, index=2)
    b = naive.probe_slopes((33, 65), seed=9, step=12, index=2)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("change", [{"step": 13}, {"seed": 10}, {"index": 3}])
def test_other_step_seed_or_layer_gives_other_slopes(change):
    base = dict(seed=9, step=12, index=2)
    a = naive.probe_slopes((33, 65), **base)
    b = naive.probe_slopes((33, 65), **{**base, **change})
    # Independent U draws coincide with probability ~0: essentially all must differ.
    assert np.mean(a != b) > 0.999


def test_slope_of_an_element_does_not_depend_on_the_batch_it_is_in():
    # Element (i, j) of a batch of 10 and of a batch of 200: same coordinates, same slope.
    small = naive.probe_slopes((10, 70), seed=5, step=2)
    large = naive.probe_slopes((200, 70), seed=5, step=2)
    assert np.array_equal(small, large[:10])


def test_backward_reuses_the_forward_slopes():
    # dx of an identity layer is slope * dy on the negative side: the same slopes as y / z.
    x = -np.linspace(0.5, 2.0, 40).reshape(5, 8)
    layer = naive.identity_dense("rrelu", 8, "float64", seed=2)
    y = layer.forward(x, training=True, step=6).copy()
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(dx, y / x, rtol=1e-14)


def test_training_step_of_the_optimizer_keys_the_slopes():
    # MLP.train_step draws hidden layer 0's slopes at (model seed, layer 0, optimizer.steps).
    model = fastact.MLP([4, 64, 3], "rrelu", dtype="float64", seed=7)
    opt = fastact.SGD(lr=1e-12)  # weights move by ~1e-12: z stays -4 to 1e-10
    x = -np.ones((8, 4))
    model.layers[0].w[...] = 1.0  # z = -4 everywhere in the hidden layer
    for step in range(3):
        assert opt.steps == step
        model.train_step(x, np.zeros(8, np.int64), opt)
        slopes = model.layers[0].output / -4.0
        expected = naive.probe_slopes((8, 64), seed=7, index=0, step=step)
        np.testing.assert_allclose(slopes, expected, rtol=1e-9)


def test_uniform_is_a_pure_function_in_0_1():
    key = rng.stream_key(1, 2, 3)
    u = np.array([rng.uniform(key, i) for i in range(2000)])
    again = np.array([rng.uniform(rng.stream_key(1, 2, 3), i) for i in range(2000)])
    assert np.array_equal(u, again)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert len(np.unique(u)) == u.size
