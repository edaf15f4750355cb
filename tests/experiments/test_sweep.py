"""fastact.experiments.sweep and .executors: value syntax, targets, executors, the sweep command."""

from __future__ import annotations

import json

import pytest

from fastact import activations
from fastact.experiments import executors, sweep
from fastact.training import TrainConfig

from clirun import run_cli


@pytest.fixture(scope="module")
def data_dir(idx_data):
    return idx_data(300, 60, shape=(8, 8))


@pytest.mark.parametrize("text,values", [
    ("0,0.1,0.5", [0.0, 0.1, 0.5]),
    ("0:1:0.25", [0.0, 0.25, 0.5, 0.75, 1.0]),
    ("0:1:0.1", [round(0.1 * i, 12) for i in range(11)]),
    ("1:5:1", [1.0, 2.0, 3.0, 4.0, 5.0]),
    ("0.05, 0:0.2:0.1", [0.05, 0.0, 0.1, 0.2]),
    ("0:0.3:0.2", [0.0, 0.2]),  # stop included only when reached
])
def test_parse_values(text, values):
    assert sweep.parse_values(text) == pytest.approx(values)


@pytest.mark.parametrize("text", ["", "a,b", "0:1", "1:0:0.1", "0:1:0", "0:1:-1"])
def test_parse_values_rejects_with_the_flag_and_value(text):
    with pytest.raises(ValueError, match=r"^values must be .*Received: values="):
        sweep.parse_values(text)


def test_every_activation_parameter_is_a_target():
    names = sweep.targets()
    assert {"leaky-slope", "depth", "width", "lr", "negative-slope", "rrelu-lower", "rrelu-upper"} <= set(names)
    for act in activations.ACTIVATIONS.values():
        for p in act.params:
            t = names[act.option(p.name)]
            c = t.apply(TrainConfig(), 0.7)
            assert c.act == act.name and c.act_params == {p.name: 0.7}
            assert t.value_of(c.to_dict()) == 0.7


def test_build_configs_leaky_slope_and_depth():
    bases = [TrainConfig(act="relu", seed=s, hidden=(64, 32)) for s in (0, 1)]
    cs = sweep.build_configs(sweep.targets()["leaky-slope"], [0.0, 0.5], bases)
    assert [(c.act, c.seed, c.act_params["negative_slope"]) for c in cs] == [
        ("leaky_relu", 0, 0.0), ("leaky_relu", 0, 0.5), ("leaky_relu", 1, 0.0), ("leaky_relu", 1, 0.5)]
    cs = sweep.build_configs(sweep.targets()["depth"], [1, 3], bases[:1])
    assert [c.hidden for c in cs] == [(64,), (64, 64, 64)]
    with pytest.raises(ValueError, match="values must be integers in 1..999 for depth. Received: values=1.5"):
        sweep.build_configs(sweep.targets()["depth"], [1.5], bases)
    with pytest.raises(ValueError, match=r"leaky_relu.negative_slope must be >= 0"):
        sweep.build_configs(sweep.targets()["leaky-slope"], [-0.1], bases)


def test_executors_return_results_in_input_order():
    items = [3, -1, 2, -7]
    assert list(executors.SerialExecutor().map(abs, items)) == [3, 1, 2, 7]
    assert list(executors.ProcessExecutor(2).map(abs, items)) == [3, 1, 2, 7]


def test_choose_executor_rule():
    big = [TrainConfig(hidden=(512,))] * 8
    small = [TrainConfig(hidden=(32,))] * 8
    assert isinstance(executors.choose_executor(big, "auto"), executors.SerialExecutor)
    assert isinstance(executors.choose_executor(small[:1], "auto"), executors.SerialExecutor)
    chosen = executors.choose_executor(small, "auto")
    cores = executors._threads.max_threads()
    assert isinstance(chosen, executors.SerialExecutor) if cores == 1 else chosen.workers == min(cores, 8)
    assert executors.choose_executor(big, "3").workers == 3
    top = 4 * cores
    for bad in ("0", str(top + 1)):
        with pytest.raises(ValueError, match=rf"workers must be an integer in 1\.\.{top} \(4 per core\) or 'auto'. "
                                             rf"Received: workers='{bad}'"):
            executors.choose_executor(big, bad)


run = run_cli


def test_leaky_slope_sweep_with_seeds_end_to_end(capsys, data_dir, tmp_path):
    code, out, err = run(capsys, "sweep", "leaky-slope", "--values", "0:0.5:0.5", "--seeds", "2", "--hidden", "8",
                         "--epochs", "1", "--batch-size", "64", "--data-dir", data_dir, "--out", str(tmp_path))
    assert code == 0, err
    assert "sweep leaky-slope over 0, 0.5: 4 runs, serial" in out
    assert "Final training accuracy against leaky-slope" in out and "Final validation accuracy" in out
    rows = [line.split("│")[1:4] for line in out.splitlines() if line.startswith("│")]
    assert [[c.strip() for c in r] for r in rows] == [["leaky_relu", "0", "2"], ["leaky_relu", "0.5", "2"]]
    slopes = sorted(json.loads((d / "config.json").read_text())["act_params"]["negative_slope"]
                    for d in tmp_path.iterdir())
    assert slopes == [0.0, 0.0, 0.5, 0.5]
    code, out, _ = run(capsys, "report", str(tmp_path), "--sweep", "leaky-slope", "--no-charts")
    assert code == 0 and "Sweep of leaky-slope" in out


def test_depth_sweep_in_worker_processes(capsys, data_dir, tmp_path):
    code, out, err = run(capsys, "sweep", "depth", "--values", "1,2", "--hidden", "8", "--epochs", "1",
                         "--workers", "2", "--quiet", "--data-dir", data_dir, "--out", str(tmp_path))
    assert code == 0, err
    assert "2 processes" in out and "Sweep of depth" in out
    depths = sorted(len(json.loads((d / "config.json").read_text())["hidden"]) for d in tmp_path.iterdir())
    assert depths == [1, 2]


@pytest.mark.parametrize("argv,message", [
    (["leaky-slope", "--values", "x"], "--values must be numbers"),
    (["leaky-slope", "--values", "-1"], "--negative-slope must be >= 0. Received: negative_slope=-1.0"),
    (["depth", "--values", "0"], "--values must be integers in 1..999 for depth. Received: values=0.0"),
    (["slope", "--values", "1"], "argument TARGET: invalid choice: 'slope'"),
    (["depth", "--values", "1", "--epochs", "0"], "--epochs must be a positive integer. Received: epochs=0"),
])
def test_bad_sweeps_are_one_line_exit_2(capsys, tmp_path, argv, message):
    code, out, err = run(capsys, "sweep", *argv, "--out", str(tmp_path))
    assert code == 2 and err.startswith("fastact sweep: error: ") and message in err and err.count("\n") == 1
