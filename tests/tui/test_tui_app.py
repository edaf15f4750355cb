"""Pilot tests of the dashboard with the deterministic fake trainer (tests/fake_trainer.py):
a whole run, Stop, Run again, bad input, divergence and worker errors shown in the UI; the
Study tab (run, resume, each part's table and curves); the Runs tab's setting columns."""


import numpy as np
import pytest

from fastact.training import EpochRecord, RunResult, TrainConfig
from fastact.training import runs as saved
from fastact_tui import cli
from fastact_tui.app import FastactApp

import fake_trainer
import tui_path  # noqa: F401  (registers fastact_tui from tui/)
from pilot import wait_for


def make_app(*argv, trainer=fake_trainer, **kw):
    return FastactApp(cli.parse(["--out", "", *argv]), trainer=trainer, **kw)



async def test_whole_run_fills_charts_and_table():
    app = make_app("--act", "relu", "sigmoid", "--epochs", "3")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        charts = app.query_one("#charts")
        for metric in ("train", "val", "loss"):
            assert list(charts.plot(metric).series) == ["sigmoid", "relu"]  # table order
        xs, ys = charts.plot("val").series["relu"]
        assert xs == [1, 2, 3]
        assert ys == pytest.approx([100 * fake_trainer.curve("relu", 0, e)[1] for e in (1, 2, 3)])
        rows = app.query_one("#results").rows_by_label
        assert rows["sigmoid"]["epoch"] == 3 and rows["sigmoid"]["status"] == "completed"
        assert rows["relu"]["test"] == pytest.approx(fake_trainer.curve("relu", 0, 3)[1] - 0.005)
        assert app.query_one("#results").row_count == 2
        assert "synthetic" in app.sub_title and "done" in app.sub_title


async def test_stop_keeps_records_and_run_again_starts_clean(monkeypatch):
    monkeypatch.setattr(fake_trainer, "DELAY", 0.01)
    app = make_app("--act", "relu", "tanh", "--epochs", "50")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        table = app.query_one("#results")
        await wait_for(pilot, lambda: table.rows_by_label["relu"]["epoch"] >= 2)
        assert app.query_one("#run").disabled and not app.query_one("#stop").disabled
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status["state"] == "stopped")
        kept = table.rows_by_label["relu"]
        assert kept["status"] == "cancelled" and 2 <= kept["epoch"] < 50
        assert table.rows_by_label["tanh"]["status"] == "not run"  # the next run never started
        assert len(app.query_one("#charts").plot("val").series["relu"][0]) == kept["epoch"]
        assert not app.query_one("#run").disabled
        monkeypatch.setattr(fake_trainer, "DELAY", 0.0)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        assert {r["status"] for r in table.rows_by_label.values()} == {"completed"}
        assert table.rows_by_label["relu"]["epoch"] == 50
        assert app.query_one("#charts").plot("val").series["relu"][0][0] == 1  # reset, not appended


async def test_invalid_input_shown_next_to_field_and_run_disabled():
    app = make_app("--act", "rrelu", "--epochs", "5")
    async with app.run_test(size=(80, 24)) as pilot:
        assert not app.query_one("#run").disabled
        app.query_one("#f-epochs").value = "ab"
        await pilot.pause()
        err = app.query_one("#e-epochs")
        assert err.has_class("shown") and "Received: epochs='ab'" in str(err.render())
        assert app.query_one("#f-epochs").has_class("-invalid")
        assert app.query_one("#run").disabled
        await pilot.press("r")  # the key is refused too
        await pilot.pause()
        assert app.status["state"] == "idle"
        app.query_one("#f-epochs").value = "5"
        app.query_one("#p-rrelu-lower").value = "0.9"
        await pilot.pause()
        assert not app.query_one("#e-epochs").has_class("shown")
        assert "lower must be <= rrelu.upper" in str(app.query_one("#e-p-rrelu-lower").render())
        assert app.query_one("#p-rrelu-lower").has_class("-invalid")
        assert app.query_one("#run").disabled
        app.query_one("#p-rrelu-lower").value = ""
        app.query_one("#f-acts").deselect_all()
        await pilot.pause()
        assert "tick at least one activation" in str(app.query_one("#e-acts").render())
        assert app.query_one("#run").disabled


async def test_diverged_run_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(fake_trainer, "diverge_linear", True)
    app = make_app("--act", "linear", "relu", "--epochs", "3")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        rows = app.query_one("#results").rows_by_label
        assert rows["linear"]["status"] == "diverged" and rows["relu"]["status"] == "completed"
        log = app.query_one("#log-panel").lines_text
        assert any(line.startswith("[warning] linear: diverged (loss became nan") for line in log)
        assert any("diverged" in n.message for n in app._notifications)


class _BrokenTrainer:
    """The real trainer's shape, failing the way a missing dataset does."""

    TrainConfig = fake_trainer.TrainConfig
    Callbacks = fake_trainer.Callbacks

    @staticmethod
    def train_many(configs, dataset=None, callbacks=None, cancel=None):
        from fastact.data import DatasetError

        raise DatasetError("no MNIST-format files found in /nowhere. Received: data_dir='/nowhere'")


async def test_worker_error_is_shown_in_the_ui():
    app = make_app("--act", "relu", "--epochs", "1", trainer=_BrokenTrainer)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "error")
        log = app.query_one("#log-panel").lines_text
        assert log[-1].startswith("[error] DatasetError: no MNIST-format files found in /nowhere")
        assert any("DatasetError" in n.message for n in app._notifications)
        assert not app.query_one("#run").disabled


async def test_sweep_plots_final_accuracy_against_slope():
    app = make_app("--act", "relu", "--epochs", "2")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        app.query_one("#sweep-values").value = "0 0.1 0.3"
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        xs, ys = app.query_one("#sweep-plot").series["leaky_relu val"]
        assert xs == [0.0, 0.1, 0.3]
        assert ys == pytest.approx([100 * fake_trainer.curve("leaky_relu", 0, 2)[1]] * 3)
        assert app.query_one("#sweep-table").row_count == 3


async def test_tab_keys_and_chart_cycle_at_80x24():
    app = make_app("--act", "relu")
    async with app.run_test(size=(80, 24)) as pilot:
        tabs = app.query_one("#tabs")
        for key, tab in (("6", "log"), ("5", "runs"), ("4", "bench"), ("3", "study"), ("1", "train")):
            await pilot.press(key)
            assert tabs.active == tab
        charts = app.query_one("#charts")
        assert [p.display for p in charts.query("SeriesPlot")] == [True, False, False]
        await pilot.press("m")
        assert [p.display for p in charts.query("SeriesPlot")] == [False, True, False]


SMALL_STUDY = '''name = "small"
seeds = [0, 1]
[base]
epochs = 3
[[parts]]
name = "acts"
act = ["relu", "sigmoid", "tanh"]
baseline = { act = "relu" }
[[parts]]
name = "depth"
act = "relu"
depth = [1, 2]
'''


async def test_study_tab_runs_a_spec_resumes_and_shows_each_part(tmp_path):
    app = make_app("--epochs", "3")
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.press("3")
        assert app.query_one("#tabs").active == "study"
        app.query_one("#study-spec").text = SMALL_STUDY
        app.query_one("#study-out").value = str(tmp_path / "st")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        assert app.query_one("#study-progress").render().plain == "8 points: 8 done, 0 failed, 0 left"
        table = app.query_one("#study-table")
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["relu", "sigmoid", "tanh"]
        assert [table.get_row_at(i)[1] for i in range(table.row_count)] == ["2", "2", "2"]
        relu = [fake_trainer.curve("relu", s, 3)[1] - 0.005 for s in (0, 1)]
        assert table.get_row_at(0)[2] == f"{100 * np.mean(relu):.2f} +- {100 * np.std(relu, ddof=1):.2f}%"
        xs, ys = app.query_one("#study-plot").series["relu"]
        assert xs == [1, 2, 3]
        assert ys == pytest.approx([100 * np.mean([fake_trainer.curve("relu", s, e)[1] for s in (0, 1)])
                                    for e in (1, 2, 3)])
        app.query_one("#study-part").value = "depth"
        await pilot.pause()
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["relu depth=1", "relu depth=2"]
        runs = sorted(p.name for p in (tmp_path / "st" / "runs").iterdir())
        assert len(runs) == 3 * 2 + 2  # relu depth=1 is the acts part's relu: run once
        await pilot.press("ctrl+r")  # again: every point is done, nothing runs
        await wait_for(pilot, lambda: app.status["state"] == "done" and not app.query_one("#study-view").running)
        assert sorted(p.name for p in (tmp_path / "st" / "runs").iterdir()) == runs
        assert any("study small" in line and "8 done" in line for line in app.query_one("#log-panel").lines_text)


async def test_study_tab_reports_a_bad_spec_in_one_line(tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.press("3")
        app.query_one("#study-spec").text = "[[parts]]\nact = \"swish\"\n"
        await pilot.press("ctrl+r")
        await pilot.pause()
        error = app.query_one("#study-error")
        assert str(error.render()).startswith("parts[0].act must be one of linear") and error.has_class("shown")
        assert not app.query_one("#study-view").running


async def test_runs_tab_shows_the_varying_settings_as_columns(tmp_path):
    for depth in (1, 2, 3):
        cfg = TrainConfig(act="relu", hidden=(16,) * depth, epochs=2, out=None)
        h = [EpochRecord(e, 1.0, 0.5, 1.0, 0.4 + 0.1 * depth, 1.0, 1.0) for e in (1, 2)]
        saved.write_run(tmp_path, f"d{depth}", RunResult(cfg, "", None, h, 0.3, 0.5, "completed", "", "x"))
    app = make_app(runs_root=str(tmp_path))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("5")
        table = app.query_one("#runs-table")
        assert [c.label.plain for c in table.columns.values()] == ["run", "label", "act", "depth", "seed", "epochs",
                                                                   "best val", "test acc", "status"]
        rows = {table.get_row_at(i)[0]: table.get_row_at(i) for i in range(table.row_count)}
        assert rows["d2"][1:4] == ["relu depth=2 seed=0", "relu", "2"]
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert all(name.startswith("relu depth=") for name in app.query_one("#runs-plot").series)
