"""Peak memory of a short training run: fastact RReLU vs fastact ReLU vs torch's RReLU and ReLU,
and fastact ReLU with dropout 0.5.

fastact regenerates RReLU's slopes and dropout's mask in backward from counter-based streams, so
neither holds more than plain ReLU; torch's RReLU keeps a noise tensor the size of the activations.
Each run is its own process (RSS is per process); 20 SGD steps of 784-512-10 at batch 1024.
"""

import pytest

from fastact import benchmarks

BATCH, STEPS = 1024, 20
#: what one stored mask of the hidden layer would take (1024 x 512 bytes): dropout must stay below it
MASK_MB = BATCH * 512 / 2**20
MEASURED: dict = {}


@pytest.mark.parametrize("impl, act, dropout", [("fastact", "relu", 0.0), ("fastact", "rrelu", 0.0),
                                                ("fastact", "relu", 0.5), ("torch", "relu", 0.0),
                                                ("torch", "rrelu", 0.0)])
def test_peak_memory(benchmark, record, threads, impl, act, dropout):
    if impl == "torch":
        pytest.importorskip("torch")
    result = {}
    benchmark.group = "memory"
    benchmark.pedantic(lambda: result.update(benchmarks.peak_memory(impl, act, BATCH, STEPS, threads=threads,
                                                                    dropout=dropout)),
                       rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    assert result["above_baseline_mb"] >= 0 and result["peak_mb"] >= result["baseline_mb"]
    record("memory", result)
    MEASURED[(impl, act, dropout)] = result


def test_dropout_holds_no_more_than_the_plain_layer():
    plain, dropped = MEASURED.get(("fastact", "relu", 0.0)), MEASURED.get(("fastact", "relu", 0.5))
    if plain is None or dropped is None:
        pytest.skip("runs after the memory cases (pytest bench/test_bench_memory.py --benchmark)")
    # No allocation at all per step (tracemalloc sees NumPy's), and the resident peak within less
    # than one stored mask of the plain layer's.
    assert dropped["numpy_traced_peak_mb"] == pytest.approx(plain["numpy_traced_peak_mb"], abs=0.01)
    assert abs(dropped["above_baseline_mb"] - plain["above_baseline_mb"]) < MASK_MB
