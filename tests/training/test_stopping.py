"""Early stopping and the best epoch's weights: the rule against hand-computed histories and a
transcription of Keras's ``EarlyStopping.on_epoch_end``; the weights of ``model.best.npz`` against
a run trained for exactly the best epoch's number of epochs; run time and ``write_run``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import fastact
from fastact.data import load_dataset
from fastact.errors import SettingsError
from fastact.training import TrainConfig, train
from fastact.training import runs as saved
from fastact.training.stopping import BestEpoch


def run_rule(values, monitor="val_loss", min_delta=0.0, patience=None):
    """(epochs trained, best epoch) when the rule sees ``values`` one epoch at a time."""
    rule = BestEpoch(monitor, min_delta, patience)
    for e, v in enumerate(values, 1):
        _, stop = rule.update(e, v)
        if stop:
            return e, rule.best_epoch
    return len(values), rule.best_epoch


@pytest.mark.parametrize("values,monitor,min_delta,patience,expected", [
    # loss falls, then rises twice: patience 2 stops at the second rise (epoch 5), best epoch 3
    ([0.9, 0.7, 0.6, 0.65, 0.61], "val_loss", 0.0, 2, (5, 3)),
    # patience 0 behaves as 1 (Keras counts the epoch before checking): stops at the first non-improvement
    ([0.9, 0.7, 0.8, 0.5], "val_loss", 0.0, 0, (3, 2)),
    ([0.9, 0.7, 0.8, 0.5], "val_loss", 0.0, 1, (3, 2)),
    # an improvement resets the wait: 0.7 (2), 0.8, 0.5 (4), 0.6, 0.55, stop at 6 with patience 2
    ([0.9, 0.7, 0.8, 0.5, 0.6, 0.55, 0.1], "val_loss", 0.0, 2, (6, 4)),
    # min_delta 0.05: 0.88 is not 0.05 better than 0.9, nor is 0.86 -> stop at 3; best stays epoch 1
    ([0.9, 0.88, 0.86, 0.5], "val_loss", 0.05, 2, (3, 1)),
    # accuracy is maximised; a tie is no improvement (the first epoch of the best value stays best)
    ([0.5, 0.8, 0.8, 0.79, 0.9], "val_accuracy", 0.0, 3, (5, 5)),
    ([0.5, 0.8, 0.8, 0.79, 0.7], "val_accuracy", 0.0, 3, (5, 2)),
    # no early stopping: every epoch, the best is tracked
    ([0.5, 0.8, 0.8, 0.79, 0.7], "val_accuracy", 0.0, None, (5, 2)),
    # a non-finite value never improves and counts toward the patience
    ([0.5, math.nan, math.nan], "val_loss", 0.0, 2, (3, 1)),
    ([math.nan, math.nan], "val_accuracy", 0.0, None, (2, None)),
])
def test_rule_against_hand_computed_histories(values, monitor, min_delta, patience, expected):
    assert run_rule(values, monitor, min_delta, patience) == expected


def keras_on_epoch_end(values, patience, min_delta, higher):
    """A line-by-line transcription of Keras 3's EarlyStopping.on_epoch_end (0-based epochs,
    baseline=None, start_from_epoch=0): (epochs trained, best epoch) 1-based."""
    best, best_epoch, wait = (-math.inf if higher else math.inf), 0, 0
    op = (lambda a, b: a > b) if higher else (lambda a, b: a < b)
    delta = min_delta if higher else -min_delta
    for epoch, current in enumerate(values):
        wait += 1
        if op(current - delta, best):
            best, best_epoch, wait = current, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return epoch + 1, best_epoch + 1
    return len(values), best_epoch + 1


def test_rule_matches_keras_on_random_histories():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(2, 15))
        values = list(np.round(rng.random(n), 2))  # rounding makes ties common
        patience = int(rng.integers(0, 4))
        min_delta = float(rng.choice([0.0, 0.01, 0.1]))
        for monitor, higher in (("val_accuracy", True), ("val_loss", False)):
            assert run_rule(values, monitor, min_delta, patience) == \
                keras_on_epoch_end(values, patience, min_delta, higher), (values, patience, min_delta, monitor)


# ---- in training ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def noise(idx_data):
    """Labels independent of the pixels: the validation loss rises once the network memorises."""
    d = idx_data(300, 100, shape=(8, 8), separable=False)
    return load_dataset(data_dir=d, download=False, progress=False)


def cfg(tmp_path, **kw):
    base = dict(hidden=(32,), epochs=6, batch_size=16, lr=0.01, monitor="val_loss", out=str(tmp_path))
    return TrainConfig(**{**base, **kw})


def weights(path) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files if k != "config"}


def test_best_weights_file_is_the_model_at_the_best_epoch(tmp_path, noise):
    long = train(cfg(tmp_path / "long"), noise)
    losses = [h.val_loss for h in long.history]
    assert long.best_epoch == int(np.argmin(losses)) + 1
    assert long.best_epoch < len(long.history)  # this data overfits: the swap below is exercised
    d = tmp_path / "long" / long.run_id
    # Training is a function of (config, data) and epoch e's shuffle of (seed, e) only, so a run of
    # best_epoch epochs ends with exactly the weights the long run had after that epoch.
    short = train(cfg(tmp_path / "short", epochs=long.best_epoch), noise)
    w_best, w_short = weights(d / "model.best.npz"), weights(tmp_path / "short" / short.run_id / "model.npz")
    assert w_best.keys() == w_short.keys()
    for k in w_best:
        np.testing.assert_array_equal(w_best[k], w_short[k])
    assert long.best_test_acc == short.test_acc and long.best_test_loss == short.test_loss
    m = fastact.MLP.load(d / "model.npz")  # the last epoch's weights stay the final model
    assert m.evaluate(noise.x_test, noise.y_test) == pytest.approx((long.test_loss, long.test_acc))
    s = json.loads((d / "summary.json").read_text())
    assert s["best_epoch"] == long.best_epoch and s["best_test_acc"] == long.best_test_acc
    assert s["seconds"] == long.seconds > 0 and s["stopped_epoch"] is None


def test_early_stopping_ends_the_run_and_can_restore_the_best(tmp_path, noise):
    full = train(cfg(tmp_path, epochs=12, out=None), noise)
    expected = keras_on_epoch_end([h.val_loss for h in full.history], 1, 0.0, higher=False)
    r = train(cfg(tmp_path, epochs=12, early_stopping=1, restore_best_weights=True), noise)
    assert (len(r.history), r.best_epoch) == expected and expected[0] < 12
    assert r.stopped_epoch == expected[0] and r.status == "completed" and "stopped early" in r.message
    assert [h.val_loss for h in r.history] == [h.val_loss for h in full.history[:expected[0]]]
    assert (r.test_loss, r.test_acc) == (r.best_test_loss, r.best_test_acc)
    d = tmp_path / r.run_id
    a, b = weights(d / "model.npz"), weights(d / "model.best.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_save_best_false_keeps_the_metrics_but_writes_no_file(tmp_path, noise):
    r = train(cfg(tmp_path, epochs=3, save_best=False), noise)
    assert not (tmp_path / r.run_id / "model.best.npz").exists() and r.best_test_acc is not None


def test_write_run_writes_what_a_live_run_writes(tmp_path, noise):
    live = train(cfg(tmp_path / "live", epochs=3), noise)
    remote = train(cfg(tmp_path, epochs=3, out=None), noise, keep_weights=True)
    assert set(remote.weights) == {"model.npz", "model.best.npz"}
    d = saved.write_run(tmp_path / "root", "abc123", remote)
    assert d == tmp_path / "root" / "abc123" and remote.run_dir == str(d)
    names = sorted(p.name for p in d.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "live" / live.run_id).iterdir())
    back, ref = saved.load_run(d), saved.load_run(tmp_path / "live" / live.run_id)
    untimed = lambda h: [{k: v for k, v in r.items() if k not in ("seconds", "samples_per_s")} for r in h]  # noqa: E731
    assert untimed(back["history"]) == untimed(ref["history"]) and back["status"] == "completed"
    assert back["summary"]["best_test_acc"] == ref["summary"]["best_test_acc"]
    for f in ("model.npz", "model.best.npz"):
        assert weights(d / f).keys() == weights(tmp_path / "live" / live.run_id / f).keys()
        assert all(np.array_equal(weights(d / f)[k], weights(tmp_path / "live" / live.run_id / f)[k])
                   for k in weights(d / f))
    # rewriting replaces the directory whole and leaves no temporary directory behind
    remote.status = "failed"
    saved.write_run(tmp_path / "root", "abc123", remote)
    assert saved.load_run(d)["status"] == "failed"
    assert sorted(p.name for p in (tmp_path / "root").iterdir()) == ["abc123"]


def test_find_runs_skips_directories_being_written(tmp_path, noise):
    r = train(cfg(tmp_path, epochs=1, out=None), noise)
    saved.write_run(tmp_path, "done", r)
    (tmp_path / ".tmp-half-0a0b0c").mkdir()
    (tmp_path / ".tmp-half-0a0b0c" / "config.json").write_text("{}")
    assert saved.find_runs([tmp_path]) == [tmp_path / "done"]
    assert saved.clean_partial(tmp_path) == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["done"]


@pytest.mark.parametrize("kw,field,message", [
    ({"early_stopping": -1}, "early_stopping", "early_stopping must be an integer >= 0"),
    ({"early_stopping": 2, "val_split": 0.0}, "early_stopping",
     "early_stopping must be used with val_split > 0 (it watches the validation metrics). "
     "Received: early_stopping=2, val_split=0.0"),
    ({"monitor": "loss"}, "monitor", "monitor must be one of val_accuracy, val_loss. Received: monitor='loss'"),
    ({"min_delta": -0.1}, "min_delta", "min_delta must be a number >= 0. Received: min_delta=-0.1"),
    ({"restore_best_weights": 1}, "restore_best_weights", "restore_best_weights must be True or False"),
])
def test_stopping_settings_are_validated(kw, field, message):
    with pytest.raises(SettingsError) as e:
        TrainConfig(**kw).validate()
    assert e.value.field == field and message in str(e.value)
