"""One epoch end to end on 60,000 generated MNIST-shaped samples: fastact vs a torch loop, the
trainer vs the bare step loop, and both under contention.

Every loop shuffles, gathers each batch of 128 and takes an Adam step (the trainer's defaults),
starting from the same weights. Each timed epoch is the first epoch of a fresh model (built
untimed): a model trained on keeps changing speed (PyTorch's Adam moments go subnormal after a
few epochs and its steps slow down), so every round times the same work.
"""

import statistics

import numpy as np
import pytest

from fastact import benchmarks
from fastact.benchmarks.contention import competing_process

N, BATCH = 60_000, 128
ROUNDS = 3


@pytest.fixture(scope="module")
def data():
    return benchmarks.epoch_data(N)


def _spread(times):
    q1, q3 = np.percentile(times, [25, 75])
    return float((q3 - q1) / statistics.median(times))


def _epoch_times(impl, x, y, act, rounds, busy=False):
    """Seconds of ``rounds`` first epochs of fresh models, and their mean losses."""
    times, losses = [], []
    for _ in range(rounds):
        epoch = benchmarks.epoch_runner(impl, x, y, act=act, batch=BATCH)
        if busy:
            with competing_process():
                t = benchmarks.timed(epoch)
        else:
            t = benchmarks.timed(epoch)
        times.append(t[0])
        losses.append(t[1])
    return times, losses


def _warm(impl, x, y, act):
    benchmarks.epoch_runner(impl, x[:1024], y[:1024], act=act, batch=BATCH)()


@pytest.mark.parametrize("impl", ("fastact", "torch"))
@pytest.mark.parametrize("act", ("relu", "rrelu"))
def test_epoch(benchmark, record, threads, data, act, impl):
    if impl == "torch":
        pytest.importorskip("torch")
    x, y = data
    _warm(impl, x, y, act)
    out = {}
    benchmark.group = f"epoch {act} b{BATCH} 784x512"
    benchmark.pedantic(lambda: out.update(zip(("times", "losses"), _epoch_times(impl, x, y, act, ROUNDS))),
                       rounds=1, iterations=1)
    times, losses = out["times"], out["losses"]
    assert all(np.isfinite(losses)) and max(losses) < np.log(10), f"an epoch did not learn: {losses}"
    benchmark.extra_info.update({"impl": impl, "epoch_seconds": times})
    record("epoch", {"impl": impl, "act": act, "seconds": statistics.median(times), "spread": _spread(times),
                     "samples_per_s": N / statistics.median(times), "epochs_timed": len(times),
                     "final_loss": losses[-1]})


@pytest.mark.parametrize("act", ("relu", "rrelu"))
def test_trainer_overhead(benchmark, record, threads, data, act):
    """`fastact.training.train` (prefetch thread, per-batch callbacks, validation of 6,000 rows)
    against the bare `train_step` loop over the same data, alternating, fresh models each round."""
    x, y = data
    _warm("fastact", x, y, act)
    benchmarks.trainer_epochs(x[:1024], y[:1024], act, BATCH, epochs=1, n_val=256, threads=threads)
    bare, trainer, with_val = [], [], []

    def rounds():
        for _ in range(ROUNDS):
            bare.append(_epoch_times("fastact", x, y, act, 1)[0][0])
            last = benchmarks.trainer_epochs(x, y, act, BATCH, epochs=1, threads=threads)[-1]
            trainer.append(N / last.samples_per_s)
            with_val.append(last.seconds)

    benchmark.group = f"trainer {act} b{BATCH} 784x512"
    benchmark.pedantic(rounds, rounds=1, iterations=1)
    med = statistics.median
    row = {"act": act, "bare_s": med(bare), "trainer_s": med(trainer), "trainer_with_validation_s": med(with_val),
           "overhead": med(trainer) / med(bare) - 1, "overhead_with_validation": med(with_val) / med(bare) - 1,
           "spread": max(_spread(bare), _spread(trainer))}
    benchmark.extra_info.update(row)
    record("trainer", row)


@pytest.mark.parametrize("impl", ("fastact", "torch"))
def test_epoch_under_contention(benchmark, record, threads, data, impl):
    """A relu epoch alone and with one competing CPU-bound process, alternating."""
    if impl == "torch":
        pytest.importorskip("torch")
    x, y = data
    _warm(impl, x, y, "relu")
    quiet, busy = [], []

    def rounds():
        for _ in range(ROUNDS):
            quiet.append(_epoch_times(impl, x, y, "relu", 1)[0][0])
            busy.append(_epoch_times(impl, x, y, "relu", 1, busy=True)[0][0])

    benchmark.group = "contention relu"
    benchmark.pedantic(rounds, rounds=1, iterations=1)
    med = statistics.median
    row = {"impl": impl, "act": "relu", "quiet_s": med(quiet), "busy_s": med(busy), "slowdown": med(busy) / med(quiet),
           "spread": max(_spread(quiet), _spread(busy))}
    benchmark.extra_info.update(row)
    record("contention", row)
