"""One SGD training step of the 784-512-10 MLP: fastact vs a NumPy twin vs torch eager.

Forward, softmax cross-entropy, backward and a plain SGD update, for every activation.
"""

import pytest

from fastact import activations, benchmarks

ACTS = activations.names("every")


@pytest.mark.parametrize("impl", benchmarks.IMPLS)
@pytest.mark.parametrize("batch", (128, 1024), ids=lambda b: f"b{b}")
@pytest.mark.parametrize("act", ACTS)
def test_step(bench_case, act, batch, impl):
    res = bench_case(impl, "step", act, batch, (784, 512))
    assert res is None or res.median_s > 0
