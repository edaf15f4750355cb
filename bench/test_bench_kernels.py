"""Fused dense + activation, forward and backward: fastact vs NumPy (unfused) vs torch eager.

Parametrised from the activation table: every activation x batch {128, 1024} x
shape {784 -> 512, 512 -> 512} x implementation.
"""

import pytest

from fastact import activations, benchmarks

ACTS = activations.names("every")
BATCHES = (128, 1024)
SHAPES = ((784, 512), (512, 512))


@pytest.mark.parametrize("impl", benchmarks.IMPLS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("batch", BATCHES, ids=lambda b: f"b{b}")
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("op", ("forward", "backward"))
def test_dense(bench_case, op, act, batch, shape, impl):
    res = bench_case(impl, op, act, batch, shape)
    assert res is None or res.median_s > 0
