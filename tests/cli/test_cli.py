"""fastact.cli: end to end on generated IDX files, every bad-input case, Ctrl-C, the bench wiring."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fastact import activations, cli

from clirun import run_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data_dir(idx_data):
    return idx_data(400, 100, shape=(10, 10))


run = run_cli


def small(data_dir, out):
    return ["--hidden", "16", "--epochs", "2", "--batch-size", "32", "--lr", "0.01", "--data-dir", data_dir,
            "--out", str(out)]


def test_train_end_to_end(capsys, data_dir, tmp_path):
    code, out, err = run(capsys, "train", "--act", "relu", "sigmoid", *small(data_dir, tmp_path))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("dataset: custom from " + data_dir)
    assert any(line.startswith("threads: ") for line in lines[:4])
    assert sum(" epoch 2/2 " in line for line in lines) == 2
    for text in ("Results", "best val acc", "Training accuracy", "Validation accuracy", "relu", "sigmoid"):
        assert text in out
    runs = sorted(tmp_path.iterdir())
    assert len(runs) == 2
    for d in runs:
        s = json.loads((d / "summary.json").read_text())
        assert s["status"] == "completed" and s["test_acc"] > 0.3
        assert len((d / "metrics.jsonl").read_text().splitlines()) == 2


def test_python_dash_m_fastact_train_runs_the_same_command(data_dir, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-m", "fastact.train", "--act", "relu", "--epochs", "1", "--quiet",
                        "--hidden", "8", "--data-dir", data_dir, "--out", str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "dataset: custom" in p.stdout and "Results" in p.stdout and "Training accuracy" not in p.stdout


def test_seeds_give_mean_and_std_and_act_all_is_the_seed_seven(capsys, data_dir, tmp_path):
    code, out, _ = run(capsys, "train", "--act", "all", "--seeds", "2", "--quiet", "--no-save",
                       "--hidden", "8", "--epochs", "1", "--batch-size", "64", "--data-dir", data_dir)
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert [r.split("│")[1].strip() for r in rows] == activations.names("seed")
    assert all(r.split("│")[2].strip() == "2" for r in rows)
    assert "+-" in out


def test_activation_flags_reach_only_the_activations_that_have_them(data_dir, tmp_path):
    from fastact.cli.options import configs_from_args

    args = cli.build_parser().parse_args(["train", "--act", "relu", "leaky_relu", "rrelu", "--negative-slope",
                                          "0.01", "--rrelu-lower", "0.1", "--data-dir", data_dir])
    params = {c.act: c.act_params for c in configs_from_args(args)}
    assert params == {"relu": {}, "leaky_relu": {"negative_slope": 0.01}, "rrelu": {"lower": 0.1}}


def test_divergence_is_reported_and_the_next_activation_still_runs(capsys, data_dir, tmp_path):
    code, out, _ = run(capsys, "train", "--act", "linear", "relu", *small(data_dir, tmp_path),
                       "--optimizer", "sgd", "--lr", "1e30")
    assert code == 1  # every run diverged: the command did not produce a result
    out = " ".join(out.split())  # rich wraps long lines
    assert "linear seed=0: diverged (loss became" in out and "try a smaller learning rate" in out
    statuses = sorted(json.loads((d / "summary.json").read_text())["status"] for d in tmp_path.iterdir())
    assert statuses == ["diverged", "diverged"]  # the second activation still ran after the first diverged


BAD = [
    (["--act", "swish2"], "argument --act: invalid choice: 'swish2' (choose from linear, softplus"),
    (["--act", "relu,swish2"], "argument --act: invalid choice: 'swish2' (choose from linear, softplus"),
    (["--epochs", "0"], "--epochs must be a positive integer. Received: epochs=0"),
    (["--epochs", "-2"], "--epochs must be a positive integer. Received: epochs=-2"),
    (["--batch-size", "0"], "--batch-size must be a positive integer. Received: batch_size=0"),
    (["--lr", "0"], "--lr must be a positive number. Received: lr=0.0"),
    (["--lr", "-0.1"], "--lr must be a positive number. Received: lr=-0.1"),
    (["--act", "leaky_relu", "--negative-slope", "-0.5"],
     "--negative-slope must be >= 0. Received: negative_slope=-0.5"),
    (["--act", "rrelu", "--rrelu-lower", "0.4", "--rrelu-upper", "0.2"],
     "--rrelu-lower must be <= --rrelu-upper. Received: rrelu_lower=0.4, rrelu_upper=0.2"),
    (["--hidden", "0"], "--hidden must be one or more positive integers (layer widths). Received: hidden=(0,)"),
    (["--hidden", "64", "0"], "Received: hidden=(64, 0)"),
    (["--data-dir", "/no/such/dir"], "--data-dir must be an existing directory. Received: data_dir='/no/such/dir'"),
    (["--seeds", "0"], "--seeds must be an integer in 1..1000. Received: seeds=0"),
    (["--act", "relu", "--negative-slope", "0.1"], "--negative-slope is a parameter of leaky_relu, which --act does"),
    (["--seed", str(2**63)], "--seed must be an integer in [0, 2**63). Received: seed=9223372036854775808"),
    (["--out", ""], "--out must be a directory path"),
    (["--dataset", "cifar"], "unknown dataset"),
    (["--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_naming_the_flag_exit_2(capsys, tmp_path, argv, message):
    code, out, err = run(capsys, "train", "--out", str(tmp_path), *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("fastact train: error: ") and message in err
    assert "Traceback" not in err and out == ""
    assert list(tmp_path.iterdir()) == []


def test_bad_input_from_a_real_process_has_no_traceback():
    p = subprocess.run([sys.executable, "-m", "fastact", "train", "--act", "relu", "--negative-slope", "-1",
                        "--act", "leaky_relu"], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert p.returncode == 2 and p.stderr.strip().count("\n") == 0 and "--negative-slope" in p.stderr


def test_ctrl_c_exits_130_and_marks_the_run(capsys, data_dir, tmp_path, monkeypatch):
    from fastact.nn import MLP

    calls = {"n": 0}
    real = MLP.train_step

    def interrupted(self, *a):
        calls["n"] += 1
        if calls["n"] == 15:  # epoch 2 of 13 batches
            raise KeyboardInterrupt
        return real(self, *a)

    monkeypatch.setattr(MLP, "train_step", interrupted)
    code, out, _ = run(capsys, "train", "--act", "relu", "sigmoid", *small(data_dir, tmp_path))
    assert code == 130 and "interrupted" in out
    (d,) = tmp_path.iterdir()  # the second activation never started
    s = json.loads((d / "summary.json").read_text())
    assert s["status"] == "cancelled" and s["epochs_completed"] == 1


def test_report_redraws_saved_runs_and_exports_csv(capsys, data_dir, tmp_path):
    assert run(capsys, "train", "--act", "relu", "tanh", *small(data_dir, tmp_path / "runs"))[0] == 0
    code, out, err = run(capsys, "report", str(tmp_path / "runs"), "--csv", str(tmp_path / "all.csv"))
    assert code == 0, err
    assert "2 run(s)" in out and "Saved runs" in out and "Validation accuracy" in out
    rows = list(csv.DictReader(open(tmp_path / "all.csv")))
    assert len(rows) == 4 and {r["act"] for r in rows} == {"relu", "tanh"}
    code, _, err = run(capsys, "report", str(tmp_path / "missing"))
    assert code == 2 and err.startswith("fastact report: error: DIR: no such directory")


def test_bench_is_wired_to_fastact_benchmarks(capsys):
    code, out, _ = run(capsys, "bench", "--help")
    assert code == 0 and "--impls" in out
    code, out, err = run(capsys, "bench", "--act", "relu", "--batch", "4", "--shape", "8,4", "--ops", "forward",
                         "--impls", "fastact", "--min-rounds", "1", "--max-time", "0.01")
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("│ forward")]
    assert len(rows) == 1 and "│ relu" in rows[0]


def test_no_command_is_a_usage_error(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "required: COMMAND" in err


def test_a_real_sigint_stops_at_once_with_valid_files(data_dir, tmp_path):
    """One Ctrl-C (SIGINT to the process) mid-run: exit 130, completed epochs on disk, run marked cancelled."""
    import signal

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen([sys.executable, "-m", "fastact", "train", "--act", "relu", "--epochs", "100000",
                          "--hidden", "8", "--data-dir", data_dir, "--out", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    import threading

    watchdog = threading.Timer(90, p.kill)  # never hang the suite if the epoch lines do not appear
    watchdog.start()
    try:
        seen = 0
        for line in p.stdout:
            seen += "/100000  loss" in line
            if seen == 2:
                break
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        watchdog.cancel()
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in out
    (d,) = tmp_path.iterdir()
    s = json.loads((d / "summary.json").read_text())
    assert s["status"] == "cancelled" and s["epochs_completed"] >= 2
    lines = (d / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == s["epochs_completed"] and all(json.loads(x)["epoch"] for x in lines)


def test_commands_import_only_their_own_module():
    code = ("import sys; from fastact import cli\n"
            "try:\n    cli.main(['report', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('fastact.benchmarks' in sys.modules, 'fastact.cli.train' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.stdout.splitlines()[-1] == "False False", p.stderr


def test_train_prepares_every_runs_kernels_first_and_says_so(capsys, data_dir, tmp_path, monkeypatch):
    from fastact.nn import warmup
    from fastact.training import loop

    calls = []

    def fake(acts, dtype, optimizer, dropout=False):
        calls.append((list(acts), dtype, optimizer, dropout))
        todo = warmup.jobs(acts, dtype, optimizer, dropout)
        return warmup.Report(3.25, todo, todo[:4], 2)

    monkeypatch.setattr(loop, "prepare_kernels", fake)
    code, out, err = run(capsys, "train", "--act", "relu", "sigmoid", "--optimizer", "sgd", *small(data_dir, tmp_path))
    assert code == 0, err
    assert calls == [(["relu", "sigmoid"], "float32", "sgd", False)]  # one call for both runs, before the first
    line = next(x for x in out.splitlines() if x.startswith("kernels ready"))
    assert line == "kernels ready in 3.2s (4 of 7 compiled, 2 processes)"  # 2 drivers, 3 epilogues, loss, rule
    assert out.index(line) < out.index("relu seed 0")
