"""The TUI's definition field: syntax errors inline as you type, enter defines the activation, which
joins the checklist with its parameter fields and trains like a built-in (fake trainer)."""

from __future__ import annotations

from fastact import activations
from fastact_tui import cli
from fastact_tui.app import FastactApp

import fake_trainer
import tui_path  # noqa: F401  (registers fastact_tui from tui/)
from pilot import wait_for


def make_app(*argv):
    return FastactApp(cli.parse(["--out", "", *argv]), trainer=fake_trainer)


def options(app) -> list[str]:
    acts = app.query_one("#f-acts")
    return [acts.get_option_at_index(i).value for i in range(acts.option_count)]


async def test_errors_inline_then_enter_defines_ticks_and_trains():
    app = make_app("--act", "relu", "--epochs", "2")
    async with app.run_test(size=(100, 40)) as pilot:
        field = app.query_one("#f-define")
        field.value = "swishb = z * sigmoid(bta * z); beta = 1.0 > 0 learnable"
        await pilot.pause()
        err = app.query_one("#e-define")
        assert err.has_class("shown") and field.has_class("-invalid")
        assert "swishb: unknown name 'bta' at position 13. Valid: names z, u, pi, beta" in str(err.render())
        assert not app.query_one("#run").disabled  # not a training setting: Run is unaffected

        field.value = "swishb = z * sigmoid(beta * z); beta = 1.0 > 0 learnable"
        await pilot.pause()
        assert not err.has_class("shown")
        field.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "swishb" in options(app), what="the definition to be added")
        assert app.status["state"] == "idle"  # enter in this field defines; it does not start a run
        assert "swishb" in app.query_one("#f-acts").selected and field.value == ""
        assert "swishb: y = z * sigmoid(beta * z) (beta=1 learnable)" in str(app.query_one("#define-note").render())
        assert activations.get("swishb").learnable == "beta"

        app.query_one("#p-swishb-beta").value = "-1"
        await pilot.pause()
        assert "swishb.beta must be > 0. Received: beta=-1.0" in str(app.query_one("#e-p-swishb-beta").render())
        app.query_one("#p-swishb-beta").value = "2"
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        rows = app.query_one("#results").rows_by_label
        assert rows["swishb"]["status"] == "completed" and rows["relu"]["status"] == "completed"


async def test_a_definition_that_compiles_wrong_is_shown_and_adds_nothing():
    app = make_app("--act", "relu")
    async with app.run_test(size=(100, 40)) as pilot:
        field = app.query_one("#f-define")
        for text, message in [("relu = max(z, 0)", "'relu' is a built-in activation"),
                              ("h = __import__('os')", "name '__import__' starts with '_'"),
                              ("h = z; init = xavier", "h: init must be one of he, glorot, lecun")]:
            field.value = text
            field.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert message in str(app.query_one("#e-define").render()), text
        assert options(app) == activations.names("every") and activations.names("custom") == []


async def test_redefining_replaces_the_parameter_fields():
    app = make_app("--define", "hs = z * clip(z + k, 0, 6) / 6; k = 3", "--act", "hs")
    async with app.run_test(size=(100, 40)) as pilot:
        assert "hs" in app.query_one("#f-acts").selected and app.query("#p-hs-k")
        assert "hs: y = z * clip(z + k, 0, 6) / 6 (k=3)" in str(app.query_one("#define-note").render())
        field = app.query_one("#f-define")
        field.value = "hs = z * clip(z + 3, 0, m) / m; m = 6"
        field.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.query("#p-hs-m")), what="the new parameter field")
        assert not app.query("#p-hs-k") and options(app).count("hs") == 1
        assert activations.get("hs").formula == "y = z * clip(z + 3, 0, m) / m"
        assert not app.query_one("#run").disabled


async def test_the_runs_tab_shows_a_defined_activations_formula(tmp_path):
    import json

    from fastact.training import TrainConfig

    spec = {"name": "hs", "formula": "z * clip(z + 3, 0, 6) / 6", "params": {}, "learnable": None, "rules": {},
            "init": "he"}
    for name, cfg in (("20260101-000000-hs-s0-aaaa", TrainConfig(act="hs", define=spec, epochs=1)),
                      ("20260101-000001-relu-s0-bbbb", TrainConfig(act="relu", epochs=1))):
        d = tmp_path / name
        d.mkdir()
        history = [{"epoch": 1, "train_loss": 1.0, "train_acc": 0.5, "val_loss": 1.0, "val_acc": 0.5,
                    "seconds": 1.0, "samples_per_s": 10.0}]
        (d / "config.json").write_text(json.dumps(cfg.to_dict()))
        (d / "summary.json").write_text(json.dumps({"run_id": name, "status": "completed", "history": history,
                                                    "test_acc": 0.5}))
    app = FastactApp(cli.parse(["--out", ""]), trainer=fake_trainer, runs_root=str(tmp_path))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        table = app.query_one("#runs-table")
        columns = [str(c.label) for c in table.columns.values()]
        assert columns[:4] == ["run", "label", "act", "formula"]
        rows = {str(table.get_row_at(i)[2]): str(table.get_row_at(i)[3]) for i in range(table.row_count)}
        assert rows == {"hs": "y = z * clip(z + 3, 0, 6) / 6", "relu": "—"}
