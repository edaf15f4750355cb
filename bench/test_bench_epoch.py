"""One epoch end to end on 60,000 generated MNIST-shaped samples: fastact vs a torch loop.

Both loops shuffle, gather each batch of 128 and take an Adam step (the trainer's
defaults), starting from the same weights; a short warm-up run on 1,024 samples comes first.
"""

import pytest

from fastact import benchmarks

N, BATCH = 60_000, 128


@pytest.fixture(scope="module")
def data():
    return benchmarks.epoch_data(N)


@pytest.mark.parametrize("impl", ("fastact", "torch"))
@pytest.mark.parametrize("act", ("relu", "rrelu"))
def test_epoch(measure, record, data, act, impl):
    if impl == "torch":
        pytest.importorskip("torch")
    x, y = data
    benchmarks.epoch_runner(impl, x[:1024], y[:1024], act=act, batch=BATCH)()
    epoch = benchmarks.epoch_runner(impl, x, y, act=act, batch=BATCH)
    losses = []
    res = measure(lambda: losses.append(epoch()), impl=impl, op="epoch", act=act, batch=BATCH,
                  shape=(784, 512), kind=None, rounds=2)
    assert all(loss == loss for loss in losses), f"NaN loss: {losses}"
    assert losses[-1] < losses[0], f"the loss did not fall over two epochs: {losses}"
    if res is not None:
        record("epoch", {"impl": impl, "act": act, "seconds": res.median_s, "samples_per_s": N / res.median_s,
                         "epochs_timed": res.rounds, "final_loss": losses[-1]})


@pytest.mark.parametrize("act", ("relu", "rrelu"))
def test_epoch_trainer(benchmark, record, threads, data, act):
    """The same epoch through `fastact.trainer.train` (prefetch, callbacks, validation)."""
    x, y = data
    benchmarks.trainer_epochs(x[:1024], y[:1024], act, BATCH, epochs=1, n_val=256, threads=threads)
    history = []
    benchmark.group = f"epoch {act} b{BATCH} 784x512"
    benchmark.pedantic(lambda: history.extend(benchmarks.trainer_epochs(x, y, act, BATCH, epochs=2,
                                                                        threads=threads)),
                       rounds=1, iterations=1)
    assert len(history) == 2 and history[-1].train_loss < history[0].train_loss
    last = history[-1]
    benchmark.extra_info.update({"impl": "fastact trainer", "epoch_seconds_with_validation": last.seconds,
                                 "samples_per_s": last.samples_per_s})
    record("epoch", {"impl": "fastact trainer", "act": act, "seconds": N / last.samples_per_s,
                     "samples_per_s": last.samples_per_s, "epochs_timed": 1, "final_loss": last.train_loss,
                     "seconds_with_validation": last.seconds})
