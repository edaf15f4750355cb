"""Every flag's range, memory refusals, exit codes: each bad value is one line, exit 2, nothing written.

Flags whose check needs no memory run in-process. Sizes that would allocate gigabytes if the
check regressed (``--hidden 1000000``, ``bench --batch 100000000``) run the real command in a
sandboxed child (tests/sandbox.py: 1 GiB of address space), so a regression fails the test
instead of exhausting the machine.
"""

from __future__ import annotations

import json

import pytest

from fastact.resources import format_bytes
from fastact.training import TrainConfig
from fastact.training.memory import DataShape, estimate_run

from clirun import run_cli
from sandbox import run_limited

RAISE = "raise the budget with --memory-budget SIZE or FASTACT_MEMORY_BUDGET=SIZE (e.g. 16G, or 90%)"


@pytest.fixture(scope="module")
def data_dir(idx_data):
    return idx_data(200, 50, shape=(10, 10))


TRAIN = [
    (["--epochs", str(10**12)], "--epochs must be an integer in 1..100,000. Received: epochs=1000000000000"),
    (["--batch-size", str(10**12)],
     "--batch-size must be an integer in 1..16,777,216. Received: batch_size=1000000000000"),
    (["--hidden", *["4"] * 1000], "--hidden must be at most 999 layer widths. Received: hidden=(4, 4,"),
    (["--lr", "inf"], "--lr must be a positive number. Received: lr=inf"),
    (["--lr", "nan"], "--lr must be a positive number. Received: lr=nan"),
    (["--lr", "1e39"], "--lr must be within float32's range (|x| <= 3.4e38). Received: lr=1e+39"),
    (["--momentum", "1", "--optimizer", "sgd"], "--momentum must be in [0, 1). Received: momentum=1.0"),
    (["--momentum", "nan"], "--momentum must be in [0, 1). Received: momentum=nan"),
    (["--weight-decay", "-1"], "--weight-decay must be a number >= 0. Received: weight_decay=-1.0"),
    (["--weight-decay", "inf"], "--weight-decay must be a number >= 0. Received: weight_decay=inf"),
    (["--val-split", "nan"], "--val-split must be in [0, 1). Received: val_split=nan"),
    (["--val-split", "1"], "--val-split must be in [0, 1). Received: val_split=1.0"),
    (["--threads", "0"], "--threads must be an integer in 1.."),
    (["--threads", "100000"], "--threads must be an integer in 1.."),
    (["--seed", "-1"], "--seed must be an integer in [0, 2**63). Received: seed=-1"),
    (["--seeds", "1001"], "--seeds must be an integer in 1..1000. Received: seeds=1001"),
    (["--dataset", ""], "--dataset must be a dataset name or 'auto'. Received: dataset=''"),
    (["--act", "leaky_relu", "--negative-slope", "inf"],
     "--negative-slope must be finite and >= 0. Received: negative_slope=inf"),
    (["--act", "elu", "--elu-alpha", "nan"], "--elu-alpha must be finite and >= 0. Received: elu_alpha=nan"),
    (["--memory-budget", "lots"], "argument --memory-budget: must be a positive size: bytes, or a number with "
                                  "K/M/G/T (powers of 1024), or a percentage of available memory up to 100%, "
                                  "e.g. 8G or 75%; received: --memory-budget='lots'"),
    (["--memory-budget", "0"], "argument --memory-budget: must be a positive size"),
    (["--memory-budget", "150%"], "argument --memory-budget: must be a positive size"),
]


@pytest.mark.parametrize("argv, message", TRAIN, ids=[" ".join(a)[:40] for a, _ in TRAIN])
def test_train_flags_are_checked_where_they_are_parsed(capsys, tmp_path, argv, message):
    code, out, err = run_cli(capsys, "train", "--out", str(tmp_path / "runs"), *argv)
    assert code == 2 and out == ""
    assert err.startswith("fastact train: error: ") and err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []


SWEEP = [
    (["depth", "--values", "1e9"], "--values must be integers in 1..999 for depth. Received: values=1000000000.0"),
    (["leaky-slope", "--values", "0:1:0.001", "--seeds", "1000"],
     "--values must be at most 100,000 runs with the other settings (this sweep has 1,001 values x 1,000 seeds "
     "and activations). Received: values='1,001 values'"),
    (["lr", "--values", "1", "--workers", "100000"], "argument --workers: must be an integer in 1.."),
    (["lr", "--values", "1", "--workers", "many"], "argument --workers: must be an integer in 1.."),
    (["lr", "--values", "inf"], "--values must be numbers or start:stop:step ranges"),
]


@pytest.mark.parametrize("argv, message", SWEEP, ids=[" ".join(a)[:40] for a, _ in SWEEP])
def test_sweep_flags_are_checked_where_they_are_parsed(capsys, tmp_path, argv, message):
    code, out, err = run_cli(capsys, "sweep", "--out", str(tmp_path / "runs"), *argv)
    assert code == 2 and out == ""
    assert err.startswith("fastact sweep: error: ") and err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []


BENCH = [
    (["--min-rounds", "0"], "argument --min-rounds: must be an integer in 1..100,000. Received: '0'"),
    (["--min-rounds", str(10**9)], "argument --min-rounds: must be an integer in 1..100,000. Received: '1000000000'"),
    (["--max-time", "nan"], "argument --max-time: must be seconds in [0, 600]. Received: 'nan'"),
    (["--max-time", "inf"], "argument --max-time: must be seconds in [0, 600]. Received: 'inf'"),
    (["--max-time", "-1"], "argument --max-time: must be seconds in [0, 600]. Received: '-1'"),
    (["--threads", "0"], "argument --threads: must be an integer in 1.."),
    (["--batch", "0"], "argument --batch: invalid batch size value: '0'"),
    (["--shape", "8"], "shape must be two positive sizes (n_in, n_out). Received: shape=(8,)"),
    (["--act", "nope"], "argument --act: invalid choice: 'nope'"),
]


@pytest.mark.parametrize("argv, message", BENCH, ids=[" ".join(a)[:40] for a, _ in BENCH])
def test_bench_flags_are_checked_where_they_are_parsed(capsys, tmp_path, argv, message):
    code, out, err = run_cli(capsys, "bench", "--json", str(tmp_path / "b.json"), *argv)
    assert code == 2 and out == ""
    assert err.startswith("fastact bench: error: ") and err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_bench_json_that_cannot_be_written_is_refused_before_benchmarking(capsys, tmp_path):
    code, out, err = run_cli(capsys, "bench", "--act", "relu", "--batch", "2", "--shape", "4,3", "--json",
                             str(tmp_path))
    assert code == 2 and out == ""
    assert err == f"fastact bench: error: --json must be a file path; {tmp_path} is a directory. " \
                  f"Received: json={str(tmp_path)!r}\n"


# -- memory, in the sandbox ------------------------------------------------------------------------------

def fastact(tmp_path, *argv, env=None):
    """The real ``fastact`` command (its entry point) in a sandboxed child, offline, with empty data caches."""
    base = {"FASTACT_MEMORY_BUDGET": None, "FASTACT_OFFLINE": "1", "FASTACT_DATA_DIR": None,
            "XDG_CACHE_HOME": str(tmp_path / "cache"), "FASTACT_SYSTEM_DATA_DIR": str(tmp_path / "system")}
    code = f"import sys\nfrom fastact._entry import run\nsys.exit(run('fastact.cli:main', {list(argv)!r}))\n"
    return run_limited(code, timeout_s=120, env={**base, **(env or {})})


def refused(result, command: str) -> str:
    assert result.returncode == 2 and not result.timed_out, result.describe()
    assert result.stdout == "" and "Traceback" not in result.stderr, result.describe()
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"fastact {command}: error: "), result.describe()
    return lines[0][len(f"fastact {command}: error: "):]


def test_hidden_1000000_is_refused_before_the_dataset_is_even_looked_up(tmp_path):
    message = refused(fastact(tmp_path, "train", "--hidden", "1000000", "--out", str(tmp_path / "runs")), "train")
    assert message.startswith("--hidden must be within the memory budget: an MLP 784-1000000-10 float32 trained "
                              "with adam at batch 128 (weights 2.97 GiB + gradients 2.97 GiB + optimizer state ")
    assert message.endswith(f"; use fewer or narrower hidden layers, or {RAISE}. Received: hidden=(1000000,)")
    assert not (tmp_path / "runs").exists() and not (tmp_path / "cache").exists()


def test_memory_budget_flag_sets_the_budget_and_is_named(tmp_path, data_dir):
    out = tmp_path / "runs"
    message = refused(fastact(tmp_path, "train", "--hidden", "50000", "--data-dir", data_dir, "--out", str(out),
                              "--memory-budget", "64M"), "train")
    est = estimate_run(TrainConfig(hidden=(50000,)), DataShape(100, 10, 180, 50, 250, resident=True))[0]
    assert message.startswith(f"--hidden must be within the memory budget: an MLP 100-50000-10 float32 trained "
                              f"with adam at batch 128 ({est.describe()}) needs an estimated "
                              f"{format_bytes(est.total)}, ")
    assert "more than the memory budget of 64.0 MiB (--memory-budget 64M); use fewer or narrower hidden layers" \
        in message
    assert not out.exists()


def test_a_batch_too_large_for_the_budget_names_the_batch_size(tmp_path, data_dir):
    # 200 training rows (180 after the validation split): the run fits at batch 1, not at batch 180.
    shape = DataShape(100, 10, 180, 50, 250, resident=True)
    at = {b: estimate_run(TrainConfig(hidden=(20000,), batch_size=b), shape)[0].total for b in (1, 180)}
    assert at[1] < 100 << 20 < at[180]
    message = refused(fastact(tmp_path, "train", "--hidden", "20000", "--batch-size", "180", "--data-dir",
                              data_dir, "--out", str(tmp_path / "runs"), "--memory-budget", "100M"), "train")
    assert message.startswith("--batch-size must be within the memory budget: an MLP 100-20000-10 float32 trained "
                              "with adam at batch 180 (")
    assert message.endswith(f"needs an estimated {format_bytes(at[180])}, more than the memory budget of 100 MiB "
                            f"(--memory-budget 100M); use a smaller batch size, or {RAISE}. Received: batch_size=180")


def test_a_width_sweep_too_large_names_its_values(tmp_path):
    message = refused(fastact(tmp_path, "sweep", "width", "--values", "64,10000000", "--out",
                              str(tmp_path / "runs")), "sweep")
    assert message.startswith("--values must be within the memory budget: an MLP 784-10000000-10 float32 trained ")
    assert message.endswith("Received: values=10000000.0")


@pytest.mark.parametrize("argv, setting, fix", [
    (["--batch", "100000000"], "--batch 100000000", "use a smaller --batch"),
    (["--shape", "100000,100000"], "--shape 100000,100000", "use a smaller --shape"),
])
def test_bench_cases_too_large_for_the_budget(tmp_path, argv, setting, fix):
    message = refused(fastact(tmp_path, "bench", "--act", "relu", "--impls", "fastact", *argv), "bench")
    assert message.startswith(f"{setting}: the fastact step case (batch ")
    assert f"; {fix}, or {RAISE}" in message


# -- exit codes ------------------------------------------------------------------------------------------

def test_one_diverged_run_among_completed_ones_exits_0(capsys, data_dir, tmp_path):
    code, out, err = run_cli(capsys, "sweep", "lr", "--values", "0.01,1e30", "--act", "linear", "--optimizer",
                             "sgd", "--hidden", "8", "--epochs", "1", "--data-dir", data_dir, "--out", str(tmp_path),
                             "--quiet")
    assert code == 0, err
    statuses = sorted(json.loads((d / "summary.json").read_text())["status"] for d in tmp_path.iterdir())
    assert statuses == ["completed", "diverged"]


def test_every_sweep_point_diverged_exits_1(capsys, data_dir, tmp_path):
    code, out, _ = run_cli(capsys, "sweep", "lr", "--values", "1e30,1e31", "--act", "linear", "--optimizer", "sgd",
                           "--hidden", "8", "--epochs", "1", "--data-dir", data_dir, "--out", str(tmp_path), "--quiet")
    assert code == 1
    assert "diverged" in out
