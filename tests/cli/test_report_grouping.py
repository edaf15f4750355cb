"""``fastact report`` on a plain runs/ folder of mixed configurations: groups never merge
different configurations, --where, --group-by, --baseline, CSV columns, capped legends,
and sweeps of like with like."""

from __future__ import annotations

import contextlib
import csv
import io

import pytest

from fastact import activations, cli

from clirun import run_cli


def rows_of(out: str) -> list[list[str]]:
    """Table rows, with the lines of a cell that wrapped (a long label, when piped at 120 columns)
    joined back into it: a continuation line has the row's count cell empty."""
    rows: list[list[str]] = []
    for line in out.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if rows and not cells[1]:
            rows[-1] = [" ".join(filter(None, (a, b))) for a, b in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    return rows


@pytest.fixture(scope="module")
def filled(idx_data, tmp_path_factory):
    data, root = idx_data(150, 40, shape=(6, 6)), tmp_path_factory.mktemp("runs")
    common = ["--batch-size", "16", "--lr", "0.01", "--data-dir", data, "--out", str(root), "--quiet", "--no-save-best"]

    def train(*argv):
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(["train", *argv, *common]) == 0

    train("--act", "relu", "--hidden", "8", "--epochs", "2", "--seeds", "2")
    train("--act", "relu", "--hidden", "8", "--epochs", "3", "--seeds", "2")
    train("--act", "relu", "--hidden", "8", "8", "--epochs", "2", "--seeds", "2")
    train("--act", "leaky_relu", "--hidden", "8", "--epochs", "2", "--negative-slope", "0.1")
    train("--act", "leaky_relu", "--hidden", "8", "--epochs", "2", "--negative-slope", "0.5")
    train("--act", "every", "--hidden", "4", "--epochs", "1")
    return root


def test_groups_never_merge_different_configurations(capsys, filled):
    code, out, err = run_cli(capsys, "report", str(filled), "--no-charts")
    assert code == 0, err
    rows = {r[0]: r[1] for r in rows_of(out)}
    # the three relu configurations of 2 seeds each stay apart, labelled by what differs
    assert rows["relu depth=1 width=8 epochs=2"] == "2" and rows["relu depth=1 width=8 epochs=3"] == "2"
    assert rows["relu depth=2 width=8 epochs=2"] == "2"
    assert rows["leaky_relu slope=0.1 depth=1 width=8 epochs=2"] == "1"
    assert len(rows) == 3 + 2 + len(activations.names("every"))


def test_where_group_by_and_baseline(capsys, filled):
    code, out, _ = run_cli(capsys, "report", str(filled), "--no-charts", "--where", "act=relu,epochs=2")
    assert code == 0 and [r[0] for r in rows_of(out)] == ["relu depth=1", "relu depth=2"]
    code, out, _ = run_cli(capsys, "report", str(filled), "--no-charts", "--group-by", "act", "--where",
                           "act=relu,width=8")
    (row,) = rows_of(out)
    assert row[0] == "relu (mixed: depth, epochs)" and row[1] == "6"
    code, out, err = run_cli(capsys, "report", str(filled), "--no-charts", "--where", "act=relu,width=8",
                             "--baseline", "relu depth=1 epochs=2")
    assert code == 0, err
    assert "Paired by seed against relu depth=1 epochs=2 (test_acc)" in out
    verdicts = [r[-1] for r in rows_of(out) if len(r) == 8 and r[1] == "relu depth=1 epochs=2"]
    assert len(verdicts) == 2


def test_bad_where_and_group_by_are_one_line(capsys, filled):
    code, _, err = run_cli(capsys, "report", str(filled), "--where", "colour=red")
    assert code == 2 and err.startswith("fastact report: error: --where must be a setting: one of act, ")
    code, _, err = run_cli(capsys, "report", str(filled), "--group-by", "nope")
    assert code == 2 and "--group-by must be a setting" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "report", str(filled), "--where", "act")
    assert code == 2 and "--where must be name=value pairs" in err


def test_csv_has_a_column_for_every_setting_and_metric(capsys, filled, tmp_path):
    code, _, _ = run_cli(capsys, "report", str(filled), "--no-charts", "--csv", str(tmp_path / "r.csv"),
                         "--csv-rows", "run", "--where", "act=relu|leaky_relu")
    assert code == 0
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert len(rows) == 6 + 2 + 2  # relu 3 x 2 seeds, the two slopes, and relu and leaky_relu of "every"
    for col in ("act", "negative_slope", "depth", "width", "epochs", "lr", "batch_size", "seed", "final_train_acc",
                "best_val_acc", "best_val_epoch", "test_acc", "best_test_acc", "seconds", "group"):
        assert col in rows[0], col
    assert {r["negative_slope"] for r in rows if r["act"] == "leaky_relu"} == {"0.1", "0.3", "0.5"}  # 0.3: default
    assert {r["negative_slope"] for r in rows if r["act"] == "relu"} == {""}
    code, _, _ = run_cli(capsys, "report", str(filled), "--no-charts", "--csv", str(tmp_path / "e.csv"))
    epochs = list(csv.DictReader(open(tmp_path / "e.csv")))
    assert {"epoch", "train_acc", "val_acc", "depth", "epochs", "test_acc"} <= set(epochs[0])


def test_many_series_are_capped_and_the_chart_says_so(capsys, filled):
    code, out, _ = run_cli(capsys, "report", str(filled))
    assert code == 0
    n = 3 + 2 + len(activations.names("every"))
    assert out.count(f"showing the first 10 of {n} configurations (narrow with --where or --group-by)") == 2


def test_a_slope_sweep_shows_only_leaky_relu(capsys, filled):
    code, out, _ = run_cli(capsys, "report", str(filled), "--sweep", "leaky-slope", "--no-charts")
    assert code == 0
    rows = rows_of(out)
    assert {r[0] for r in rows} == {"leaky_relu width=8 epochs=2", "leaky_relu width=4 epochs=1"}
    assert sorted(r[1] for r in rows) == ["0.1", "0.3", "0.5"]
