"""fastact.training.runs: the files a run leaves, a checkpoint round trip, interrupted runs, reading back."""

from __future__ import annotations

import json

import numpy as np
import pytest

import fastact
from fastact.data import load_dataset
from fastact.training import Callbacks, TrainConfig, train
from fastact.training import runs as results


@pytest.fixture(scope="module")
def ds(idx_data):
    return load_dataset(data_dir=idx_data(300, 100, shape=(10, 10)), download=False, progress=False)


def cfg(out, **kw):
    return TrainConfig(**{**dict(hidden=(16,), epochs=2, batch_size=32, out=out and str(out)), **kw})


def test_a_completed_run_writes_every_file(tmp_path, ds):
    r = train(cfg(tmp_path, act="prelu"), ds)
    d = tmp_path / r.run_id
    assert r.run_dir == str(d)
    assert sorted(p.name for p in d.iterdir()) == ["config.json", "metrics.jsonl", "model.best.npz", "model.npz",
                                               "summary.json"]
    conf = json.loads((d / "config.json").read_text())
    assert TrainConfig.from_dict(conf) == r.config and conf["act"] == "prelu"
    assert conf["data"]["name"] == "custom" and conf["data"]["n_train"] == 270
    assert set(conf["data"]["checksums"]) == {p.split("/")[-1] for p in conf["data"]["files"].values()}
    assert conf["threads_used"] >= 1 and "library" in conf["blas"] and conf["versions"]["numpy"] == np.__version__
    lines = (d / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in lines] == [vars(h) for h in r.history]
    s = json.loads((d / "summary.json").read_text())
    assert s["status"] == "completed" and s["test_acc"] == r.test_acc and s["epochs_completed"] == 2
    assert s["best_val_acc"] == max(h.val_acc for h in r.history)


def test_checkpoint_round_trip_gives_the_same_predictions_and_test_accuracy(tmp_path, ds):
    r = train(cfg(tmp_path, act="leaky_relu", act_params={"negative_slope": 0.05}), ds)
    m = fastact.MLP.load(tmp_path / r.run_id / "model.npz")
    assert m.act == "leaky_relu" and m.act_params["negative_slope"] == 0.05 and m.sizes == [100, 16, 10]
    assert m.evaluate(ds.x_test, ds.y_test) == pytest.approx((r.test_loss, r.test_acc))


def test_no_out_writes_nothing(tmp_path, ds, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = train(cfg(None), ds)
    assert r.run_dir is None and list(tmp_path.iterdir()) == []


class InterruptAt(Callbacks):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch(self, config, epoch, batch, n_batches, loss):
        if epoch == self.epoch and batch == 2:
            raise KeyboardInterrupt


def test_ctrl_c_leaves_valid_files_for_completed_epochs_and_reraises(tmp_path, ds):
    ended = []

    class Cb(InterruptAt):
        def on_run_end(self, result):
            ended.append(result)

    with pytest.raises(KeyboardInterrupt):
        train(cfg(tmp_path, epochs=3), ds, Cb(2))
    (d,) = tmp_path.iterdir()
    assert len(results.read_metrics(d / "metrics.jsonl")) == 1
    s = json.loads((d / "summary.json").read_text())
    assert s["status"] == "cancelled" and "interrupted (Ctrl-C) after 1 of 3 epochs" in s["message"]
    assert ended[0].status == "cancelled" and len(ended[0].history) == 1
    fastact.MLP.load(d / "model.npz")  # the weights at the stop are loadable
    run = results.load_run(d)
    assert run["status"] == "cancelled" and len(run["history"]) == 1


def test_a_hard_kill_reads_back_as_interrupted(tmp_path, ds):
    r = train(cfg(tmp_path, epochs=2), ds)
    d = tmp_path / r.run_id
    s = json.loads((d / "summary.json").read_text())
    (d / "summary.json").write_text(json.dumps({**s, "status": "running"}))
    with open(d / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 3, "train_lo')  # killed mid-write
    run = results.load_run(d)
    assert run["status"] == "interrupted" and [h["epoch"] for h in run["history"]] == [1, 2]


def test_non_finite_values_are_written_as_null(tmp_path, ds):
    r = train(cfg(tmp_path, act="linear", optimizer="sgd", lr=1e30), ds)
    s = json.loads((tmp_path / r.run_id / "summary.json").read_text())  # strict JSON: no NaN tokens
    assert s["status"] == "diverged" and s["test_acc"] is None
    assert results._clean({"a": [float("nan"), 1.0, float("inf")]}) == {"a": [None, 1.0, None]}


def test_find_runs_walks_roots_in_start_order_and_rejects_missing_paths(tmp_path, ds):
    ids = [train(cfg(tmp_path / "root", epochs=1, seed=s), ds).run_id for s in (3, 1, 2)]
    assert [p.name for p in results.find_runs([tmp_path / "root"])] == ids
    assert results.find_runs([tmp_path / "root" / ids[1]])[0].name == ids[1]
    with pytest.raises(FileNotFoundError, match="Received: "):
        results.find_runs([tmp_path / "nope"])
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        results.load_run(tmp_path)


def test_run_ids_are_unique_and_readable():
    ids = {results.make_run_id("relu", 4) for _ in range(50)}
    assert len(ids) == 50 and all("-relu-s4-" in i for i in ids)
