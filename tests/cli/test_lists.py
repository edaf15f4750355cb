"""One list syntax on every subcommand: space-separated, comma-separated and ``a, b`` give the
same values; a bad item or an unknown flag is one line naming the subcommand; output written
to a file reads whole (tables not shortened, prose lines not broken, absent peers omitted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fastact import activations, cli

from clirun import run_cli
from idxgen import write_idx_dataset

ROOT = Path(__file__).resolve().parents[2]


def parsed(*argv):
    parser = cli.build_parser(argv[0])
    args, extra = parser.parse_known_args(list(argv))
    assert extra == []
    return args


def forms(*values):
    """The three ways to write a list: ``a b``, ``a,b`` and ``a, b``."""
    return [list(values), [",".join(values)], [f"{v}," for v in values[:-1]] + [values[-1]]]


LISTS = [  # (subcommand and required arguments, flag, values typed, what the flag holds)
    (["train"], "--act", ("relu", "rrelu"), ["relu", "rrelu"]),
    (["train"], "--act", ("relu", "all"), ["relu", *[n for n in activations.names("seed") if n != "relu"]]),
    (["train"], "--hidden", ("256", "128"), [256, 128]),
    (["train"], "--hidden", ("64", "64"), [64, 64]),  # two layers of 64: a list, not a set
    (["sweep", "depth", "--values", "1"], "--act", ("tanh", "elu"), ["tanh", "elu"]),
    (["sweep", "depth", "--values", "1"], "--hidden", ("32", "16"), [32, 16]),
    (["sweep", "lr", "--act", "relu"], "--values", ("0.001", "0.01"), ["0.001", "0.01"]),
    (["bench"], "--act", ("relu", "rrelu"), ["relu", "rrelu"]),
    (["bench"], "--act", ("extra",), activations.names("extra")),
    (["bench"], "--batch", ("128", "1024"), [128, 1024]),
    (["bench"], "--ops", ("forward", "step"), ["forward", "step"]),
    (["bench"], "--impls", ("fastact", "numpy"), ["fastact", "numpy"]),
    (["bench"], "--shape", ("784", "512"), [784, 512]),
]


@pytest.mark.parametrize("head,flag,values,expected", LISTS, ids=[f"{h[0]} {f} {' '.join(v)}" for h, f, v, _ in LISTS])
def test_every_list_flag_takes_spaces_and_commas(head, flag, values, expected):
    for typed in forms(*values):
        args = parsed(*head, flag, *typed)
        got = getattr(args, flag[2:].replace("-", "_"))
        if flag == "--values":  # kept as typed; the library's parse_values reads both separators
            from fastact.experiments.sweep import parse_values

            assert parse_values(" ".join(got)) == [float(v) for v in expected], typed
        else:
            assert got == expected, typed


def test_sweep_values_ranges_in_either_syntax():
    from fastact.experiments.sweep import parse_values

    for typed in (["0:1:0.25"], ["0", "0.5:1:0.25"], ["0,0.5:1:0.25"], ["0,", "0.5:1:0.25"]):
        assert parse_values(" ".join(parsed("sweep", "leaky-slope", "--values", *typed).values)) == \
            [0, 0.25, 0.5, 0.75, 1.0] if typed == ["0:1:0.25"] else [0, 0.5, 0.75, 1.0]


ERRORS = [
    (["train", "--act", "relu", "swish2"], "fastact train: error: argument --act: invalid choice: 'swish2'"),
    (["train", "--hidden", "64,x"], "fastact train: error: argument --hidden: invalid int value: 'x'"),
    (["train", "--act", ","], "fastact train: error: argument --act: expected at least one activation"),
    (["train", "--frobnicate"], "fastact train: error: unrecognized arguments: --frobnicate"),
    (["sweep", "depth", "--values", "1", "--act", "relu,swish2"],
     "fastact sweep: error: argument --act: invalid choice"),
    (["sweep", "depth", "--values", "1", "two"], "fastact sweep: error: --values must be numbers or start:stop:step"),
    (["sweep", "depth", "--values", "1", "--quiet", "x"], "fastact sweep: error: unrecognized arguments: x"),
    (["sweep", "depth"], "fastact sweep: error: the following arguments are required: --values"),
    (["report", "runs", "--frobnicate"], "fastact report: error: unrecognized arguments: --frobnicate"),
    (["bench", "--act", "relu", "swish2"], "fastact bench: error: argument --act: invalid choice: 'swish2' (choose "
                                           "from linear, softplus"),
    (["bench", "--batch", "128", "big"], "fastact bench: error: argument --batch: invalid batch size value: 'big'"),
    (["bench", "--ops", "forward,sideways"], "fastact bench: error: argument --ops: invalid choice: 'sideways' "
                                             "(choose from forward, backward, step)"),
    (["bench", "--impls", "fastact", "jax"], "fastact bench: error: argument --impls: invalid choice: 'jax'"),
    (["bench", "--frobnicate"], "fastact bench: error: unrecognized arguments: --frobnicate"),
]


@pytest.mark.parametrize("argv,message", ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_errors_are_one_line_naming_the_subcommand(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1, err


@pytest.fixture(scope="module")
def long_data_dir(tmp_path_factory):
    # a long path, so the dataset line is longer than the 120 columns rich assumes for a file
    d = tmp_path_factory.mktemp("idx") / ("a_directory_with_a_long_name_" * 3)
    d.mkdir()
    write_idx_dataset(d, n_train=300, n_test=100, shape=(6, 6))
    return str(d)


def test_train_sweep_and_report_run_with_either_syntax(capsys, long_data_dir, tmp_path):
    common = ["--epochs", "1", "--batch-size", "64", "--data-dir", long_data_dir, "--quiet"]
    code, out, err = run_cli(capsys, "train", "--act", "relu,", "sigmoid", "--hidden", "8,", "4", *common,
                             "--out", str(tmp_path / "a"))
    assert code == 0, err
    rows = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    assert rows == ["relu", "sigmoid"]  # in the order typed
    code, out, err = run_cli(capsys, "sweep", "width", "--values", "4", "8,", "16", "--act", "tanh", *common,
                             "--out", str(tmp_path / "b"))
    assert code == 0, err
    assert [line.split("│")[2].strip() for line in out.splitlines() if line.startswith("│")] == ["4", "8", "16"]
    code, out, err = run_cli(capsys, "report", str(tmp_path / "a"), str(tmp_path / "b"), "--no-charts")
    assert code == 0 and "5 run(s)" in out, err


def test_bench_with_either_syntax(capsys):
    tiny = ["--shape", "8", "4", "--min-rounds", "1", "--max-time", "0"]
    for argv in (["--act", "relu", "rrelu", "--batch", "4", "8", "--ops", "forward", "step", "--impls", "fastact"],
                 ["--act", "relu,rrelu", "--batch", "4,8", "--ops", "forward,step", "--impls", "fastact"],
                 ["--act", "relu,", "rrelu", "--batch", "4,", "8", "--ops", "forward,", "step", "--impls", "fastact"]):
        code, out, err = run_cli(capsys, "bench", *argv, *tiny)
        assert code == 0, err
        rows = [[c.strip() for c in line.split("│")[1:4]] for line in out.splitlines() if line.startswith("│")]
        assert rows == [[op, act, str(b)] for op in ("forward", "step") for act in ("relu", "rrelu") for b in (4, 8)]


def test_bench_without_torch_has_no_torch_columns(capsys, monkeypatch):
    import fastact.benchmarks

    monkeypatch.setattr(fastact.benchmarks, "torch_available", lambda: False)
    code, out, err = run_cli(capsys, "bench", "--act", "every", "--batch", "4", "--shape", "8", "4", "--min-rounds",
                             "1", "--max-time", "0")
    assert code == 0, err
    header = next(line for line in out.splitlines() if line.startswith("┃ op"))
    assert [c.strip() for c in header.split("┃")[1:-1]] == ["op", "act", "fastact", "numpy", "numpy/fa", "% peak"]
    assert "torch" not in out.replace("torch/", "") and "…" not in out
    assert "fastact benchmarks at batch 4, 8x4" in out
    acts = [line.split("│")[2].strip() for line in out.splitlines() if line.startswith("│")]
    assert acts == activations.names("every") * 3  # every name whole: not shortened to "leaky_r…"


def test_output_written_to_a_file_reads_whole(long_data_dir, tmp_path):
    """A real process with stdout to a file: no line broken mid-sentence, no cell shortened."""
    path = tmp_path / "out.txt"
    with open(path, "w") as fh:
        p = subprocess.run([sys.executable, "-m", "fastact", "train", "--act", "relu", "leaky_relu",
                            "--negative-slope", "0.125", "--epochs", "1", "--hidden", "8", "--data-dir",
                            long_data_dir, "--out", str(tmp_path / "runs")], stdout=fh, stderr=subprocess.PIPE,
                           text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = path.read_text().splitlines()
    assert lines[0].startswith(f"dataset: custom from {long_data_dir} (") and lines[0].endswith(")")
    assert len(lines[0]) > 120 and lines[1].startswith("         300 train".replace("300", "270"))
    assert "…" not in path.read_text() and "\n\n\n" not in path.read_text()
    assert any(line.startswith("│ leaky_relu ") for line in lines)  # labelled by what differs between the runs
    saved = next(line for line in lines if line.startswith("saved under "))
    assert saved.endswith("redraws this)")


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    y = (x[:, 0] > 0).astype(np.int64)
    path = tmp_path_factory.mktemp("npz") / "own.npz"
    np.savez(path, x_train=x[:240], y_train=y[:240], x_test=x[240:], y_test=y[240:])
    return str(path)


def test_train_and_sweep_take_a_data_file(capsys, npz):
    code, out, err = run_cli(capsys, "train", "--data-file", npz, "--act", "relu,tanh", "--epochs", "1",
                             "--hidden", "8", "--no-save", "--quiet")
    assert code == 0, err
    assert out.splitlines()[0] == f"dataset: own from {npz} (240 training rows of 5 features, 60 test rows)"
    assert [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")] == ["relu", "tanh"]
    code, out, err = run_cli(capsys, "sweep", "width", "--values", "4", "8", "--data-file", npz, "--epochs", "1",
                             "--no-save", "--quiet")
    assert code == 0, err
    assert [line.split("│")[2].strip() for line in out.splitlines() if line.startswith("│")] == ["4", "8"]


def test_data_file_errors_are_one_line(capsys, npz, tmp_path):
    import numpy as np

    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=np.zeros((4, 2)), y_train=np.zeros(4, np.int64), extra=np.zeros(1))
    for argv, message in (
            (["--data-file", str(tmp_path / "none.npz")], "fastact train: error: --data-file must be an existing "
                                                          f".npz file (keys x_train, y_train, optionally x_test, "
                                                          f"y_test). Received: data_file='{tmp_path}/none.npz'"),
            (["--data-file", npz, "--data-dir", str(tmp_path)], "fastact train: error: --data-file must be used "
                                                                "without --data-dir"),
            (["--data-file", npz, "--dataset", "mnist"], "fastact train: error: --data-file must be used with "
                                                         "--dataset auto"),
            (["--data-file", str(bad)], f"fastact train: error: --data-file: {bad}: unexpected key(s) 'extra'")):
        code, out, err = run_cli(capsys, "train", *argv, "--no-save")
        assert code == 2 and out == "" and err.startswith(message) and err.count("\n") == 1, err
