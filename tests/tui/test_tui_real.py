"""The dashboard driving the real `fastact.training` on small generated IDX datasets: a whole
run with result files, Stop and Run again, quitting mid-run, a missing dataset, and the key
latency while a run trains in the worker thread."""

import asyncio
import json
import statistics
import time

import pytest

from fastact.training import runs as results
from fastact_tui import cli
from fastact_tui.app import FastactApp

import tui_path  # noqa: F401  (registers fastact_tui from tui/)
from idxgen import isolate_data_env, write_idx_dataset
from pilot import wait_for as _wait_for


@pytest.fixture
def data(tmp_path, monkeypatch):
    isolate_data_env(monkeypatch, tmp_path)
    monkeypatch.setenv("FASTACT_OFFLINE", "1")
    d = tmp_path / "idx"
    write_idx_dataset(d, n_train=600, n_test=100)
    return d


async def wait_for(pilot, cond, timeout=60.0):
    """The real trainer compiles kernels and trains: allow a loaded machine a minute."""
    await _wait_for(pilot, cond, timeout)


def make_app(data_dir, out, *argv):
    return FastactApp(cli.parse(["--data-dir", str(data_dir), "--out", str(out), "--hidden", "32",
                                 "--batch-size", "64", *argv]))



def summaries(out):
    return {r["config"]["act"]: r for r in map(results.load_run, results.find_runs([out]))}


async def test_real_run_writes_results_and_runs_tab_replots(data, tmp_path):
    out = tmp_path / "runs"
    app = make_app(data, out, "--act", "relu", "prelu", "--epochs", "2")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        table = app.query_one("#results").rows_by_label
        assert [table[a]["status"] for a in ("relu", "prelu")] == ["completed", "completed"]
        saved = summaries(out)
        for act in ("relu", "prelu"):
            xs, ys = app.query_one("#charts").plot("val").series[act]
            assert xs == [1, 2]
            assert ys == pytest.approx([100 * h["val_acc"] for h in saved[act]["history"]])
            assert table[act]["test"] == pytest.approx(saved[act]["summary"]["test_acc"])
        assert app.status["dataset"] == "custom"  # generated files match no known dataset: named by the trainer
        await pilot.press("5")
        runs = app.query_one("#runs-table")
        assert runs.row_count == 2
        runs.focus()
        await pilot.press("enter")
        await pilot.pause()
        plot = app.query_one("#runs-plot")
        assert len(plot.series) == 2 and all(len(xs) == 2 for xs, _ in plot.series.values())


async def test_real_run_on_your_own_npz(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    y = (x[:, 0] > 0).astype(np.int64)
    path = tmp_path / "own.npz"
    np.savez(path, x_train=x[:240], y_train=y[:240], x_test=x[240:], y_test=y[240:])
    app = FastactApp(cli.parse(["--data-file", str(path), "--no-save", "--hidden", "8", "--act", "relu", "tanh",
                                "--epochs", "2"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        rows = app.query_one("#results").rows_by_label
        assert [rows[a]["status"] for a in ("relu", "tanh")] == ["completed", "completed"]
        assert app.status["dataset"] == "own"
        log = app.query_one("#log-panel").lines_text
        assert f"[info] loading dataset from {path}" in log
        assert [line for line in log if "5 features" in line] == [
            f"[info] dataset: own from {path} (240 training rows of 5 features, 60 test rows)"]


async def test_real_stop_keeps_files_and_run_again_works(data, tmp_path):
    out = tmp_path / "runs"
    app = make_app(data, out, "--act", "relu", "--epochs", "400")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        table = app.query_one("#results")
        await wait_for(pilot, lambda: table.rows_by_label["relu"]["epoch"] >= 2)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status["state"] == "stopped")
        (run,) = summaries(out).values()
        assert run["status"] == "cancelled"
        assert len(run["history"]) == table.rows_by_label["relu"]["epoch"] < 400
        app.query_one("#f-epochs").value = "1"
        await pilot.pause()
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        assert table.rows_by_label["relu"]["status"] == "completed"
        assert sorted(r["status"] for r in map(results.load_run, results.find_runs([out]))) == \
            ["cancelled", "completed"]


async def test_quit_during_run_leaves_valid_files(data, tmp_path):
    out = tmp_path / "runs"
    app = make_app(data, out, "--act", "sigmoid", "--epochs", "400")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.query_one("#results").rows_by_label["sigmoid"]["epoch"] >= 1)
        await pilot.press("q")
        await wait_for(pilot, lambda: app._exit_renderables is not None or not app.is_running, timeout=30)
    (run_dir,) = results.find_runs([out])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "cancelled" and summary["epochs_completed"] >= 1
    assert (run_dir / "model.npz").is_file()


async def test_missing_dataset_is_shown_not_raised(tmp_path, monkeypatch):
    isolate_data_env(monkeypatch, tmp_path)
    monkeypatch.setenv("FASTACT_OFFLINE", "1")
    empty = tmp_path / "empty"
    empty.mkdir()
    app = make_app(empty, tmp_path / "runs", "--act", "relu", "--epochs", "1", "--dataset", "mnist")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "error")
        log = app.query_one("#log-panel").lines_text
        await wait_for(pilot, lambda: any(line.startswith("[error] DatasetError") for line in log))
        assert any("DatasetError" in n.message for n in app._notifications)


async def test_data_dir_that_does_not_exist_is_a_form_error(tmp_path):
    app = make_app(tmp_path / "nowhere", tmp_path / "runs", "--act", "relu")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "data_dir must be an existing directory" in str(app.query_one("#e-data_dir").render())
        assert app.query_one("#run").disabled


async def test_key_press_handled_within_100ms_while_training(tmp_path, monkeypatch):
    isolate_data_env(monkeypatch, tmp_path)
    d = tmp_path / "idx"
    write_idx_dataset(d, n_train=8000, n_test=500)
    # Far more epochs than the measurement needs (Stop ends the run), so it is still training
    # however fast the machine is.
    app = make_app(d, "", "--act", "relu", "--epochs", "100000", "--batch-size", "128")
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#f-hidden").value = "512"
        await pilot.press("r")
        table = app.query_one("#results")
        await wait_for(pilot, lambda: table.rows_by_label["relu"]["epoch"] >= 1)  # past the JIT warm-up
        tabs, delays = app.query_one("#tabs"), []
        for key, tab in [("6", "log"), ("1", "train")] * 4:
            # `pilot.press` itself returns only once the app is idle, which a live run never is:
            # time from the key event to the tab switch instead.
            t0 = time.perf_counter()
            press = asyncio.create_task(pilot.press(key))
            while tabs.active != tab and time.perf_counter() - t0 < 5:
                await asyncio.sleep(0.002)
            delays.append(time.perf_counter() - t0)
            await press
            await asyncio.sleep(0.05)
        assert app.status["state"] == "running", delays  # the measurement happened during training
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status["state"] == "stopped")
    assert statistics.median(delays) < 0.1, delays
