"""``fastact report DIR --figures OUTDIR`` on runs really trained here: the figures' arrays are the
saved metrics (read back from metrics.jsonl independently), and the files are valid."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fastact.experiments.figures import build
from fastact.experiments.figures.plan import plan
from fastact.experiments.grouping import group_runs
from fastact.training import runs as saved

from clirun import run_cli
from figcheck import png_info, svg_size_pt


@pytest.fixture(scope="module")
def trained(tmp_path_factory, idx_data):
    data = idx_data(400, 100, shape=(10, 10))
    out = tmp_path_factory.mktemp("runs")
    from fastact import cli

    code = cli.main(["train", "--act", "relu", "sigmoid", "--seeds", "2", "--hidden", "16", "--epochs", "3",
                     "--batch-size", "32", "--lr", "0.01", "--data-dir", data, "--out", str(out), "--quiet"])
    assert code == 0
    return out


def test_report_figures_writes_every_figure_and_names_the_files(capsys, trained, tmp_path):
    code, out, err = run_cli(capsys, "report", str(trained), "--figures", str(tmp_path / "figs"), "--no-charts")
    assert code == 0, err
    names = ["curves", "spread", "activations"]
    for name in names:
        assert f"wrote {tmp_path / 'figs' / name}.png and {name}.svg" in out
        info = png_info(tmp_path / "figs" / f"{name}.png")
        w, h = svg_size_pt(tmp_path / "figs" / f"{name}.svg")
        assert (info["width"], info["height"]) == (round(w / 72 * 150), round(h / 72 * 150))
    assert not (trained / "report.md").exists()  # a plain runs folder gets figures, not a study report


def test_the_curves_are_the_saved_epochs(trained):
    runs = [saved.load_run(d) for d in saved.find_runs([trained])]
    curves = next(p for p in plan(group_runs(runs)) if p.kind == "curves")
    data = build.figure_data(curves)
    logged: dict[str, list] = {}
    for d in Path(trained).iterdir():
        act = json.loads((d / "config.json").read_text())["act"]
        logged.setdefault(act, []).append([json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()])
    for col, key in enumerate(("train_acc", "val_acc")):
        for s in data.panels[0][col].series:
            values = np.array([[e[key] for e in run] for run in logged[s.label]]) * 100
            np.testing.assert_allclose(s.mean, values.mean(axis=0))
            np.testing.assert_allclose(s.std, values.std(axis=0, ddof=1))
    assert "784" not in data.title and "100-16-" in data.title and "2 seeds" in data.title
