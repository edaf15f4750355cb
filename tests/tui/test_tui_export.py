"""The dashboard exports its charts as PNG and SVG through fastact's figure code (`e`, or the command
palette), in a worker thread, and says where the files went."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from fastact.experiments.figures import curves, palette
from fastact_tui import cli, export
from fastact_tui.app import FastactApp

import fake_trainer
import tui_path  # noqa: F401  (registers fastact_tui from tui/)
from figcheck import png_info, svg_size_pt
from pilot import wait_for


def make_app(tmp_path, *argv):
    app = FastactApp(cli.parse(["--out", "", *argv]), trainer=fake_trainer)
    app.figures_dir = tmp_path / "figs"
    return app


def log_of(app):
    return app.query_one("#log-panel").lines_text


async def run_to_done(pilot, app):
    await pilot.press("r")
    await wait_for(pilot, lambda: app.status["state"] == "done")


async def test_e_writes_the_train_charts_as_png_and_svg(tmp_path):
    app = make_app(tmp_path, "--act", "relu", "sigmoid", "--epochs", "3")
    async with app.run_test(size=(100, 30)) as pilot:
        await run_to_done(pilot, app)
        await pilot.press("e")
        await wait_for(pilot, lambda: any("charts written" in line for line in log_of(app)), what="export")
        written = sorted(p.name for p in (tmp_path / "figs").iterdir())
        assert len(written) == 2 and written[0].startswith("tui-train-") and written[0].endswith(".png")
        png = next((tmp_path / "figs").glob("*.png"))
        info = png_info(png)
        assert info["width"] > 1000 and info["height"] > 400
        assert svg_size_pt(png.with_suffix(".svg"))[0] == pytest.approx(info["width"] * 72 / 150, abs=0.5)
        line = next(line for line in log_of(app) if "charts written" in line)
        assert str(png) in line and any(str(png) in n.message for n in app._notifications)


async def test_the_exported_data_is_what_the_charts_hold(tmp_path):
    app = make_app(tmp_path, "--act", "relu", "sigmoid", "--epochs", "3")
    async with app.run_test(size=(100, 30)) as pilot:
        await run_to_done(pilot, app)
        snap = export.snapshot(app)
    assert list(snap.train) == ["train_acc", "val_acc", "train_loss"] and not snap.sweep
    data = curves.series_data(snap.train, "t")
    (row,) = data.panels
    for panel, col in zip(row, (0, 1)):
        for s in panel.series:
            expected = [100 * fake_trainer.curve(s.label, 0, e)[col] for e in (1, 2, 3)]
            np.testing.assert_allclose(s.mean, expected)
            np.testing.assert_allclose(s.x, [1, 2, 3])
            assert s.color == palette.color(s.label)  # the dashboard's lines and the figure's share a colour
    assert row[2].ylabel == "training loss (nats)" and not row[2].percent


async def test_the_export_runs_in_a_worker_thread(tmp_path, monkeypatch):
    threads = []

    def write(snap, outdir, stamp=None):
        threads.append(threading.current_thread())
        return [outdir / "x.png"]

    monkeypatch.setattr(export, "write", write)
    app = make_app(tmp_path, "--act", "relu", "--epochs", "2")
    async with app.run_test(size=(100, 30)) as pilot:
        await run_to_done(pilot, app)
        await pilot.press("e")
        await wait_for(pilot, lambda: any("charts written" in line for line in log_of(app)))
    assert threads and threads[0] is not threading.main_thread()


async def test_the_command_palette_offers_the_export(tmp_path):
    app = make_app(tmp_path, "--act", "relu", "--epochs", "2")
    async with app.run_test(size=(100, 30)) as pilot:
        assert "Export charts" in [c.title for c in app.get_system_commands(app.screen)]
        await run_to_done(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "Export charts":
            await pilot.press("space" if ch == " " else ch)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("charts written" in line for line in log_of(app)), what="palette export")
    assert len(list((tmp_path / "figs").glob("tui-train-*.svg"))) == 1


async def test_nothing_to_export_says_so_and_writes_nothing(tmp_path):
    app = make_app(tmp_path, "--act", "relu")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert any("Nothing to export" in n.message for n in app._notifications)
    assert not (tmp_path / "figs").exists()


async def test_a_failed_export_is_reported_not_raised(tmp_path, monkeypatch):
    def write(snap, outdir, stamp=None):
        raise OSError("disk full")

    monkeypatch.setattr(export, "write", write)
    app = make_app(tmp_path, "--act", "relu", "--epochs", "2")
    async with app.run_test(size=(100, 30)) as pilot:
        await run_to_done(pilot, app)
        await pilot.press("e")
        await wait_for(pilot, lambda: any("export failed" in line for line in log_of(app)))
        assert any("OSError: disk full" in n.message for n in app._notifications)


async def test_a_sweep_is_exported_beside_the_train_charts(tmp_path):
    app = make_app(tmp_path, "--act", "relu", "--epochs", "2")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        app.query_one("#sweep-values").value = "0 0.1 0.3"
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        snap = export.snapshot(app)
        await pilot.press("e")
        await wait_for(pilot, lambda: any("charts written" in line for line in log_of(app)))
    assert snap.sweep["leaky_relu val"] == ([0.0, 0.1, 0.3], [100 * fake_trainer.curve("leaky_relu", 0, 2)[1]] * 3)
    data = curves.series_data({"final_acc": snap.sweep}, "t", xlabel=snap.sweep_xlabel)
    train, val = data.panels[0][0].series
    assert (train.variant, val.variant) == (0, 1) and train.color == val.color == palette.color("leaky_relu")
    assert data.panels[0][0].xlabel == "leaky-slope"
    assert len(list((tmp_path / "figs").glob("tui-sweep-*.png"))) == 1


async def test_the_study_tabs_curves_are_exported(tmp_path):
    spec = 'name = "small"\nseeds = [0, 1]\n[base]\nepochs = 2\n[[parts]]\nname = "acts"\nact = ["relu", "tanh"]\n'
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.press("3")
        app.query_one("#study-spec").text = spec
        app.query_one("#study-out").value = str(tmp_path / "st")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.status["state"] == "done", timeout=30)
        shown = {k: (list(x), list(y)) for k, (x, y) in app.query_one("#study-plot").series.items()}
        snap = export.snapshot(app)
        await pilot.press("e")
        await wait_for(pilot, lambda: any("charts written" in line for line in log_of(app)))
    assert snap.study == shown and set(shown) == {"relu", "tanh"} and snap.study_part == "acts"
    for label, (xs, ys) in shown.items():  # the mean over the two seeds of the fake trainer's curve
        assert ys == pytest.approx([100 * (fake_trainer.curve(label, 0, e)[1] + fake_trainer.curve(label, 1, e)[1]) / 2
                                    for e in xs])
    assert len(list((tmp_path / "figs").glob("tui-study-*.png"))) == 1


async def test_the_train_figures_title_states_the_protocol(tmp_path):
    app = make_app(tmp_path, "--act", "relu", "sigmoid", "--epochs", "3", "--batch-size", "64")
    async with app.run_test(size=(100, 30)) as pilot:
        await run_to_done(pilot, app)
        snap = export.snapshot(app)
    # The fake trainer's results carry no data record: the architecture falls back to 784 inputs.
    assert snap.protocol == "784-512-10 MLP, Adam lr 1e-3, batch 64, 3 epochs, 10% validation, 1 seed, auto"
