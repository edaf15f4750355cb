"""``fastact train`` flags a study needs: early stopping (Keras's names), the best-epoch weights."""

from __future__ import annotations

import json

import pytest

from clirun import run_cli


@pytest.fixture(scope="module")
def noise(idx_data):
    return idx_data(300, 100, shape=(8, 8), separable=False)  # the validation loss soon rises


def test_early_stopping_on_the_validation_loss(capsys, tmp_path, noise):
    code, out, err = run_cli(capsys, "train", "--act", "relu", "--hidden", "32", "--epochs", "12", "--batch-size", "16",
                             "--lr", "0.01", "--data-dir", noise, "--out", str(tmp_path), "--early-stopping", "1",
                             "--monitor", "val_loss", "--restore-best-weights")
    assert code == 0, err
    (d,) = tmp_path.iterdir()
    s = json.loads((d / "summary.json").read_text())
    c = json.loads((d / "config.json").read_text())
    assert (c["early_stopping"], c["monitor"], c["restore_best_weights"], c["save_best"]) == (1, "val_loss", True, True)
    assert s["stopped_epoch"] == s["epochs_completed"] < 12 and s["test_acc"] == s["best_test_acc"]
    assert f"stopped early at epoch {s['stopped_epoch']} of 12: val_loss did not improve for 1 epochs" in \
        " ".join(out.split())
    assert (d / "model.best.npz").is_file()


def test_no_save_best(capsys, tmp_path, noise):
    code, _, err = run_cli(capsys, "train", "--act", "relu", "--hidden", "8", "--epochs", "2", "--data-dir", noise,
                           "--out", str(tmp_path), "--no-save-best", "--quiet")
    assert code == 0, err
    (d,) = tmp_path.iterdir()
    assert not (d / "model.best.npz").exists() and (d / "model.npz").is_file()


@pytest.mark.parametrize("flags,message", [
    (["--early-stopping", "-1"], "--early-stopping must be an integer >= 0 (the patience in epochs)"),
    (["--early-stopping", "2", "--val-split", "0"],
     "--early-stopping must be used with --val-split > 0 (it watches the validation metrics). "
     "Received: early_stopping=2, val_split=0.0"),
    (["--min-delta", "-0.5"], "--min-delta must be a number >= 0. Received: min_delta=-0.5"),
    (["--monitor", "loss"], "argument --monitor: invalid choice: 'loss' (choose from 'val_accuracy', 'val_loss')"),
])
def test_bad_stopping_flags_are_one_line(capsys, noise, flags, message):
    code, _, err = run_cli(capsys, "train", "--data-dir", noise, "--no-save", *flags)
    assert code == 2 and message in err and err.count("\n") == 1
