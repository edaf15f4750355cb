"""fastact.training (loop, prefetch, config): learning, reproducibility, divergence, cancellation, validation."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from fastact.data import load_dataset
from fastact.engine.threads import get_num_threads, max_threads, set_num_threads
from fastact.errors import SettingsError
from fastact.training import Callbacks, EpochRecord, RunResult, TrainConfig, train, train_many
from fastact.training.prefetch import Prefetcher


@pytest.fixture(scope="module")
def data_dir(idx_data):
    return idx_data(600, 200, shape=(12, 12))


@pytest.fixture(scope="module")
def ds(data_dir):
    return load_dataset(data_dir=data_dir, download=False, progress=False)


def cfg(data_dir, **kw):
    base = dict(hidden=(32,), epochs=2, batch_size=32, data_dir=data_dir, out=None)
    return TrainConfig(**{**base, **kw})


class Recorder(Callbacks):
    def __init__(self):
        self.events = []

    def on_run_start(self, config, info):
        self.events.append(("start", info))

    def on_batch(self, config, epoch, batch, n_batches, loss):
        self.events.append(("batch", epoch, batch, n_batches, loss))

    def on_epoch_end(self, config, record):
        self.events.append(("epoch", record))

    def on_run_end(self, result):
        self.events.append(("end", result))


# ---- prefetch ----------------------------------------------------------------------------
@pytest.mark.parametrize("n,batch", [(10, 3), (9, 3), (5, 8), (1, 1)])
def test_prefetch_yields_the_permuted_rows_in_order(n, batch):
    rng = np.random.default_rng(n)
    x, y = rng.random((n, 4)).astype(np.float32), rng.integers(0, 9, n)
    perm = rng.permutation(n)
    with Prefetcher(x, y, perm, batch) as batches:
        got = [(xb.copy(), yb.copy()) for xb, yb in batches]
    assert len(got) == -(-n // batch)
    np.testing.assert_array_equal(np.concatenate([g[0] for g in got]), x[perm])  # reference: fancy indexing
    np.testing.assert_array_equal(np.concatenate([g[1] for g in got]), y[perm])


def test_prefetch_close_mid_epoch_stops_the_thread():
    x, y = np.zeros((100, 2)), np.zeros(100, np.int64)
    p = Prefetcher(x, y, np.arange(100), 10)
    next(iter(p))
    p.close()
    assert not p._thread.is_alive()


# ---- learning and records ----------------------------------------------------------------
def test_learns_well_above_chance_and_reports_every_epoch(data_dir, ds):
    rec = Recorder()
    r = train(cfg(data_dir, epochs=3), ds, rec)
    assert isinstance(r, RunResult) and r.status == "completed" and r.run_dir is None
    assert [h.epoch for h in r.history] == [1, 2, 3]
    assert r.test_acc > 0.6 and r.history[-1].val_acc > 0.6  # chance is 0.1
    assert r.history[-1].train_loss < r.history[0].train_loss
    start = rec.events[0][1]
    assert start["n_train"] == 540 and start["n_val"] == 60 and start["n_test"] == 200
    assert start["batches_per_epoch"] == 17 and start["threads"] == get_num_threads()
    assert set(start) >= {"run_id", "run_dir", "dataset", "dataset_name", "blas"}
    batches = [e for e in rec.events if e[0] == "batch"]
    assert len(batches) == 3 * 17 and batches[-1][1:4] == (3, 17, 17)
    assert [e[1] for e in rec.events if e[0] == "epoch"] == r.history
    assert rec.events[-1] == ("end", r)


def test_epoch_metrics_match_an_independent_evaluation(data_dir, ds):
    """val_* are the model's accuracy on the validation rows; test_* on the test rows (reference: argmax)."""
    import fastact

    r = train(cfg(data_dir, epochs=1, out=None), ds)
    m = fastact.MLP([144, 32, 10], "relu", seed=0)
    opt = fastact.nn.optim.get("adam", 1e-3)
    perm = np.random.default_rng((0, 1)).permutation(len(ds.y_train))
    for i in range(0, len(perm), 32):
        m.train_step(ds.x_train[perm[i:i + 32]], ds.y_train[perm[i:i + 32]], opt)
    acc = float(np.mean(m.predict_logits(ds.x_val).argmax(1) == ds.y_val))
    assert r.history[0].val_acc == pytest.approx(acc)
    assert r.test_acc == pytest.approx(float(np.mean(m.predict_logits(ds.x_test).argmax(1) == ds.y_test)))


def test_loads_the_dataset_from_the_config_when_none_given(data_dir):
    r = train(cfg(data_dir, epochs=1))
    assert r.status == "completed" and r.dataset == "custom"


@pytest.mark.skipif(max_threads() < 2, reason="needs 2 threads")
@pytest.mark.parametrize("act", ["rrelu", "prelu"])
def test_identical_metrics_whatever_the_thread_count(data_dir, ds, act):
    def run(threads):
        r = train(cfg(data_dir, act=act, hidden=(48, 24), threads=threads), ds)
        return [(h.train_loss, h.train_acc, h.val_loss, h.val_acc) for h in r.history], r.test_loss

    try:
        assert run(1) == run(2)
    finally:
        set_num_threads(None)


def test_same_seed_same_run_other_seed_other_run(data_dir, ds):
    a, b, c = (train(cfg(data_dir, epochs=1, seed=s), ds) for s in (0, 0, 1))
    assert a.history[0].train_loss == b.history[0].train_loss
    assert a.history[0].train_loss != c.history[0].train_loss


# ---- divergence, cancellation, failures --------------------------------------------------
def test_divergence_stops_that_run_and_the_others_continue(data_dir, ds):
    bad = cfg(data_dir, act="linear", optimizer="sgd", lr=1e30)
    results = train_many([bad, cfg(data_dir, epochs=1)], ds)
    assert [r.status for r in results] == ["diverged", "completed"]
    assert "diverged" in results[0].message and "epoch 1" in results[0].message
    assert results[0].test_acc is None


def test_cancel_stops_within_one_batch(data_dir, ds):
    cancel = threading.Event()

    class CancelAt(Recorder):
        def on_batch(self, config, epoch, batch, n_batches, loss):
            super().on_batch(config, epoch, batch, n_batches, loss)
            if epoch == 2 and batch == 3:
                cancel.set()

    rec = CancelAt()
    r = train(cfg(data_dir, epochs=3), ds, rec, cancel)
    assert r.status == "cancelled" and "epoch 2, batch 4" in r.message
    assert len(r.history) == 1 and r.test_acc is None
    assert [e[1:3] for e in rec.events if e[0] == "batch"][-1] == (2, 3)
    assert train_many([cfg(data_dir)], ds, cancel=cancel) == []


def test_a_run_in_a_worker_thread(data_dir, ds):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", train(cfg(data_dir, epochs=1, threads=1), ds)))
    t.start()
    t.join()
    assert out["r"].status == "completed" and out["r"].history[0].val_acc > 0.1


def test_an_error_during_training_fails_that_run_only(data_dir, ds):
    class Boom(Callbacks):
        def on_epoch_end(self, config, record):
            if config.act == "sigmoid":
                raise RuntimeError("disk full")

    rs = train_many([cfg(data_dir, act="sigmoid", epochs=1), cfg(data_dir, epochs=1)], ds, Boom())
    assert [r.status for r in rs] == ["failed", "completed"]
    assert rs[0].message == "RuntimeError: disk full"


# ---- config ------------------------------------------------------------------------------
def test_config_round_trips_through_a_dict():
    c = TrainConfig(act="leaky_relu", hidden=(64, 32), act_params={"negative_slope": 0.1}, threads=1)
    d = c.to_dict()
    assert d["hidden"] == [64, 32]
    assert TrainConfig.from_dict({**d, "unknown_future_key": 1}) == c


@pytest.mark.parametrize("kw,field,message", [
    ({"epochs": 0}, "epochs", "epochs must be a positive integer. Received: epochs=0"),
    ({"batch_size": -3}, "batch_size", "batch_size must be a positive integer. Received: batch_size=-3"),
    ({"lr": 0.0}, "lr", "lr must be a positive number. Received: lr=0.0"),
    ({"lr": float("nan")}, "lr", "lr must be a positive number. Received: lr=nan"),
    ({"act": "swish2"}, "act", "act must be one of linear, softplus"),
    ({"hidden": (512, 0)}, "hidden",
     "hidden must be one or more positive integers (layer widths). Received: hidden=(512, 0)"),
    ({"hidden": ()}, "hidden", "hidden must be"),
    ({"act": "leaky_relu", "act_params": {"negative_slope": -1.0}}, "leaky_relu.negative_slope",
     "leaky_relu.negative_slope must be >= 0. Received: negative_slope=-1.0"),
    ({"act": "rrelu", "act_params": {"lower": 0.5, "upper": 0.1}}, "rrelu.lower",
     "rrelu.lower must be <= rrelu.upper. Received: lower=0.5, upper=0.1"),
    ({"act": "rrelu", "act_params": {"lower": 0.5}}, "rrelu.lower", "Received: lower=0.5, upper=0.333"),
    ({"act": "relu", "act_params": {"negative_slope": 0.1}}, "relu.negative_slope",
     "relu.negative_slope must be a parameter of relu (which has none). Received: negative_slope=0.1"),
    ({"act": "elu", "act_params": {"alpha": 1e39}}, "elu.alpha",
     "elu.alpha must be within float32's range (|x| <= 3.4e38). Received: alpha=1e+39"),
    ({"data_dir": "/no/such/dir"}, "data_dir",
     "data_dir must be an existing directory. Received: data_dir='/no/such/dir'"),
    ({"optimizer": "rmsprop"}, "optimizer", "optimizer must be one of sgd, adam, adamw. Received: optimizer='rmsprop'"),
    ({"val_split": 1.0}, "val_split", "val_split must be in [0, 1). Received: val_split=1.0"),
    ({"threads": 0}, "threads", "threads must be an integer in 1.."),
    ({"dtype": "float16"}, "dtype", "dtype must be one of float32, float64. Received: dtype='float16'"),
    ({"prelu": "channel"}, "prelu", "prelu must be one of unit, shared. Received: prelu='channel'"),
    ({"seed": -1}, "seed", "seed must be an integer in [0, 2**63). Received: seed=-1"),
    ({"seed": 2**63}, "seed", "seed must be an integer in [0, 2**63). Received: seed=9223372036854775808"),
    ({"nesterov": True}, "nesterov", "nesterov must be used with optimizer sgd and momentum > 0"),
    ({"out": ""}, "out", "out must be a directory path (or None: write no files). Received: out=''"),
])
def test_validate_names_the_field_and_the_value(kw, field, message):
    with pytest.raises(SettingsError) as e:
        TrainConfig(**kw).validate()
    assert e.value.field == field
    assert message in str(e.value) and "\n" not in str(e.value)


def test_problems_lists_every_broken_rule_in_field_order():
    found = TrainConfig(epochs=0, lr=-1.0, prelu="channel").problems()
    assert [p.field for p in found] == ["epochs", "lr", "prelu"]
    assert TrainConfig().problems() == []


def test_train_many_validates_everything_before_the_first_run(data_dir, ds):
    rec = Recorder()
    with pytest.raises(SettingsError, match="^epochs must be"):
        train_many([cfg(data_dir), cfg(data_dir, epochs=0)], ds, rec)
    assert rec.events == []


def test_contract_field_names():
    assert [f.name for f in dataclasses.fields(EpochRecord)] == [
        "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds", "samples_per_s"]
    assert [f.name for f in dataclasses.fields(RunResult)] == [
        "config", "run_id", "run_dir", "history", "test_loss", "test_acc", "status", "message", "dataset",
        "seconds", "best_epoch", "best_test_loss", "best_test_acc", "stopped_epoch", "meta", "weights", "model"]
