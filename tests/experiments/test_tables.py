"""fastact.experiments.tables and .charts: aggregates against NumPy, tables, CSV, charts (no training here)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from rich.console import Console

from fastact.experiments import charts, tables
from fastact.training import EpochRecord, RunResult, TrainConfig


def fake_run(act, seed, accs, test_acc=0.5, status="completed", **params):
    """A RunResult with ``train_acc = acc``, ``val_acc = acc - 0.1`` per epoch."""
    history = [EpochRecord(e, 1.0 / e, a, 1.2 / e, a - 0.1, 2.0, 1000.0) for e, a in enumerate(accs, 1)]
    cfg = TrainConfig(act=act, seed=seed, act_params=params, out=None)
    return RunResult(cfg, f"id-{act}-{seed}", None, history, 0.3, test_acc, status, "", "synthetic")


RUNS = [fake_run("relu", 0, [0.5, 0.8], 0.75), fake_run("relu", 1, [0.6, 0.9], 0.85),
        fake_run("sigmoid", 0, [0.3, 0.6], 0.55)]


def text_of(table) -> str:
    console = Console(width=150, record=True)
    console.print(table)
    return console.export_text()


def test_mean_std_is_the_sample_std_and_skips_missing():
    vals = [0.1, 0.4, 0.35, float("nan"), None]
    assert tables.mean_std(vals) == pytest.approx((np.mean([0.1, 0.4, 0.35]), np.std([0.1, 0.4, 0.35], ddof=1)))
    assert tables.mean_std([0.5]) == (0.5, 0.0)
    assert tables.mean_std([None]) == (None, None)


def test_summary_table_groups_seeds_with_mean_and_std():
    text = text_of(tables.summary_table(RUNS))
    relu = next(line for line in text.splitlines() if " relu " in line)
    # final train acc: 0.8, 0.9 -> 85.00 +- 7.07 (sample std); best val: 0.7, 0.8; test: 0.75, 0.85
    assert "85.00 +- 7.07%" in relu and "75.00 +- 7.07%" in relu and "80.00 +- 7.07%" in relu and " 2 " in relu
    # the test accuracy's 95% t interval: 0.8 +- t(0.975, 1) * 0.0707 / sqrt(2)
    # (the table clips it to [0, 100], where an accuracy lives)
    half = 12.706204736174707 * np.std([0.75, 0.85], ddof=1) / np.sqrt(2)
    assert f"[{max(0.0, 100 * (0.8 - half)):.1f}, {min(100.0, 100 * (0.8 + half)):.1f}]" in relu
    sigmoid = next(line for line in text.splitlines() if " sigmoid " in line)
    assert "60.00%" in sigmoid and "+-" not in sigmoid and "2.00" in sigmoid


def test_labels_show_explicit_parameters():
    assert tables.label_of(fake_run("leaky_relu", 0, [0.5], negative_slope=0.1).config.to_dict()) == \
        "leaky_relu(negative_slope=0.1)"
    assert tables.label_of({"act": "relu", "act_params": {}}) == "relu"


def test_problems_lists_runs_that_did_not_complete():
    bad = fake_run("linear", 2, [0.4], None, "diverged")
    bad.message = "loss became nan"
    assert tables.problems([*RUNS, bad]) == ["linear seed=2: diverged (loss became nan)"]


def test_epoch_series_averages_over_seeds_in_percent():
    series = charts.epoch_series(RUNS, "val_acc")
    assert series["relu"][0] == [1, 2]
    np.testing.assert_allclose(series["relu"][1], [100 * np.mean([0.4, 0.5]), 100 * np.mean([0.7, 0.8])])


def test_saved_and_live_runs_normalize_alike(tmp_path):
    saved = {"id": "x", "dir": str(tmp_path), "config": RUNS[0].config.to_dict(), "status": "completed",
             "history": [vars(h) for h in RUNS[0].history], "summary": {"test_acc": 0.75, "message": ""}}
    live = tables.normalize(RUNS[0])
    assert {k: live[k] for k in ("config", "history", "test_acc", "status")} == \
        {k: tables.normalize(saved)[k] for k in ("config", "history", "test_acc", "status")}


def test_csv_has_one_row_per_run_and_epoch(tmp_path):
    n = tables.write_csv(RUNS, tmp_path / "r.csv")
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert n == len(rows) == 6
    assert [float(r["train_acc"]) for r in rows] == [a for r in RUNS for a in (h.train_acc for h in r.history)]
    assert rows[0]["run_id"] == "id-relu-0" and rows[0]["test_acc"] == "0.75"


def test_epoch_line_reads_like_keras():
    line = tables.epoch_line("relu", RUNS[0].history[1], 10)
    assert line.split() == ["relu", "epoch", "2/10", "loss", "0.5000", "acc", "80.00%", "val_loss", "0.6000",
                            "val_acc", "70.00%", "2.0s", "1,000", "samples/s"]


def test_accuracy_charts_have_one_line_per_activation():
    train_chart, val_chart = charts.accuracy_charts(RUNS, color=False)
    assert "Training accuracy" in train_chart and "Validation accuracy" in val_chart
    for chart in (train_chart, val_chart):
        assert "relu" in chart and "sigmoid" in chart and "\x1b[" not in chart and "epoch" in chart


def test_sweep_points_table_and_chart_with_error_bars():
    runs = [fake_run("leaky_relu", s, [0.5, a], negative_slope=v)
            for v, accs in ((0.0, (0.7, 0.8)), (0.3, (0.9, 0.9))) for s, a in enumerate(accs)]
    points = tables.sweep_points([*runs, *RUNS], "negative_slope")  # relu and sigmoid have no slope
    assert list(points) == ["leaky_relu"]
    assert {v: len(rs) for v, rs in points["leaky_relu"].items()} == {0.0: 2, 0.3: 2}
    text = text_of(tables.sweep_table(points, "leaky-slope", "Sweep"))
    assert "75.00 +- 7.07%" in text and "90.00%" in text
    train_chart, _ = charts.sweep_charts(points, "leaky-slope", color=False)
    assert "Final training accuracy against leaky-slope" in train_chart and "0.3" in train_chart


def test_charts_skip_missing_points_instead_of_failing():
    chart = charts.curves_chart({"a": ([1, 2, 3], [None, 50.0, float("nan")])}, "t", color=False)
    assert "t" in chart
    chart = charts.sweep_chart({"a": ([0, 1], [None, None], [0, 0])}, "x", "empty", color=False)
    assert "empty" in chart
