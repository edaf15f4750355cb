"""Peak memory of a short training run: fastact RReLU vs fastact ReLU vs torch's RReLU and ReLU.

fastact regenerates RReLU's slopes in backward from a counter-based stream, so it should
hold no more than ReLU; torch's RReLU keeps a noise tensor the size of the activations.
Each run is its own process (RSS is per process); 20 SGD steps of 784-512-10 at batch 1024.
"""

import pytest

from fastact import benchmarks

BATCH, STEPS = 1024, 20


@pytest.mark.parametrize("impl, act", [("fastact", "relu"), ("fastact", "rrelu"), ("torch", "relu"),
                                       ("torch", "rrelu")])
def test_peak_memory(benchmark, record, threads, impl, act):
    if impl == "torch":
        pytest.importorskip("torch")
    result = {}
    benchmark.group = "memory"
    benchmark.pedantic(lambda: result.update(benchmarks.peak_memory(impl, act, BATCH, STEPS, threads=threads)),
                       rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    assert result["above_baseline_mb"] >= 0 and result["peak_mb"] >= result["baseline_mb"]
    record("memory", result)
