"""Pilot tests of the dashboard with the deterministic fake trainer (tests/fake_trainer.py):
a whole run, Stop, Run again, bad input, divergence and worker errors shown in the UI."""


import pytest

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
        for key, tab in (("5", "log"), ("4", "runs"), ("3", "bench"), ("1", "train")):
            await pilot.press(key)
            assert tabs.active == tab
        charts = app.query_one("#charts")
        assert [p.display for p in charts.query("SeriesPlot")] == [True, False, False]
        await pilot.press("m")
        assert [p.display for p in charts.query("SeriesPlot")] == [False, True, False]
