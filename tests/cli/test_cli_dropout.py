"""``--dropout P`` on ``fastact train`` and the ``dropout`` sweep target; its rule is the library's."""

from __future__ import annotations

import json

import pytest

from fastact.experiments import identity
from fastact.nn import MLP

from clirun import run_cli


@pytest.fixture(scope="module")
def data_dir(idx_data):
    return idx_data(300, 60, shape=(8, 8))


def small(data_dir, out):
    return ["--hidden", "16", "16", "--epochs", "3", "--batch-size", "32", "--lr", "0.01", "--data-dir", data_dir,
            "--out", str(out), "--quiet"]


def test_train_with_dropout_records_it_and_the_model_keeps_it(capsys, data_dir, tmp_path):
    code, out, err = run_cli(capsys, "train", "--act", "relu", "--dropout", "0.2", *small(data_dir, tmp_path))
    assert code == 0, err
    (run,) = tmp_path.iterdir()
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["dropout"] == 0.2 and cfg["model"]["dropout"] == 0.2
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["test_acc"] > 0.3  # chance is 0.1
    model = MLP.load(run / "model.npz")
    assert [layer.dropout for layer in model.layers] == [0.2, 0.2, 0.0]


@pytest.mark.parametrize("value, message", [("1", "--dropout must be in [0, 1). Received: dropout=1.0"),
                                            ("-0.5", "--dropout must be in [0, 1). Received: dropout=-0.5"),
                                            ("half", "argument --dropout: invalid float value: 'half'")])
def test_a_bad_rate_is_one_line_exit_2(capsys, tmp_path, value, message):
    code, _, err = run_cli(capsys, "train", "--dropout", value, "--out", str(tmp_path))
    assert code == 2 and message in err and err.count("\n") == 1 and not list(tmp_path.iterdir())


def test_a_dropout_sweep(capsys, data_dir, tmp_path):
    code, out, err = run_cli(capsys, "sweep", "dropout", "--values", "0,0.5", *small(data_dir, tmp_path))
    assert code == 0 and "Sweep of dropout" in out, err
    rates = sorted(json.loads((d / "config.json").read_text())["dropout"] for d in tmp_path.iterdir())
    assert rates == [0.0, 0.5]


def test_no_dropout_leaves_every_run_key_as_it_was_and_labels_say_when_it_varies():
    base = {"act": "relu", "hidden": [512], "seed": 0}
    assert identity.run_key({**base, "dropout": 0.0}) == identity.run_key(base)
    assert "dropout" not in identity.canonical(base)
    assert identity.run_key({**base, "dropout": 0.5}) != identity.run_key(base)
    v = identity.varying([base, {**base, "dropout": 0.5}])
    assert v == ["dropout"] and identity.label({**base, "dropout": 0.5}, v) == "relu dropout=0.5"
