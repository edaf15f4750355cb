"""The dashboard's keyboard, as a user meets it: shortcut keys typed in every text field of every
tab, Escape, what the footer shows there; the checklist's marks as text; the accuracy axis after
one epoch; Stop mid-run; the dataset logged once per load; the benchmark fields' list syntax."""

import re

import pytest
from test_tui_snapshots import FakeBench
from textual.widgets import Input

from fastact_tui import cli, worker
from fastact_tui.app import FastactApp
from fastact_tui.widgets.fields import FieldInput

import fake_trainer
import tui_path  # noqa: F401  (registers fastact_tui from tui/)
from pilot import wait_for


def make_app(*argv, **kw):
    return FastactApp(cli.parse(["--out", "", *argv]), trainer=fake_trainer, benchmarks=FakeBench(), **kw)


def tab_of(widget) -> str:
    return next(a.id for a in widget.ancestors if a.__class__.__name__ == "TabPane")


def shown(app) -> dict[str, str]:
    """The footer's keys -> what they say (what Textual's Footer draws)."""
    return {k: b.binding.description for k, b in app.screen.active_bindings.items() if b.binding.show}


async def test_every_field_takes_only_what_it_can_hold():
    app = make_app("--act", "relu", "rrelu", "--epochs", "5")
    async with app.run_test(size=(120, 40)) as pilot:
        fields = list(app.query(FieldInput))
        assert {f.id for f in fields} >= {"f-hidden", "f-epochs", "f-batch_size", "f-lr", "f-seed", "f-seeds",
                                          "f-threads", "f-dataset", "f-data_dir", "p-rrelu-lower", "sweep-values",
                                          "study-out", "bench-acts", "bench-batch"}
        assert not [w.id for w in app.query(Input) if not isinstance(w, FieldInput)]  # no plain Input left
        for field in sorted(fields, key=tab_of):
            if app.query_one("#tabs").active != tab_of(field):
                app.query_one("#tabs").active = tab_of(field)
                await pilot.pause()
            field.focus()
            field.value = ""
            await pilot.pause()
            typed = "so2.:"  # shortcuts (Stop, Sort, a tab), then characters only some fields hold
            await pilot.press(*typed)
            expected = "".join(c for c in typed if field.accepts is None or c in field.accepts)
            assert field.value == expected, field.id
            assert app.status["state"] == "idle"  # "r" was never pressed; "q" is tested on its own


async def test_a_shortcut_key_in_a_number_field_is_the_shortcut(monkeypatch):
    monkeypatch.setattr(fake_trainer, "DELAY", 0.01)
    app = make_app("--act", "relu", "tanh", "--epochs", "50")
    async with app.run_test(size=(100, 30)) as pilot:
        epochs = app.query_one("#f-epochs")
        epochs.focus()
        await pilot.press("end")
        await pilot.press("r")  # Run, from inside Epochs
        table = app.query_one("#results")
        await wait_for(pilot, lambda: table.rows_by_label["relu"]["epoch"] >= 1)
        await pilot.press("s")  # Stop: the "20s"
        await wait_for(pilot, lambda: app.status["state"] == "stopped")
        assert epochs.value == "50" and app.focused is epochs
        await pilot.press("m")  # the chart cycles, nothing typed
        assert app.query_one("#plot-val").has_class("current") and epochs.value == "50"
        await pilot.press("o")
        assert table.sort_key == "val" and epochs.value == "50"
        await pilot.press("3")  # a digit is an epoch count here: typed, the tab stays
        assert epochs.value == "503" and app.query_one("#tabs").active == "train"


async def test_q_in_a_number_field_quits():
    app = make_app("--act", "relu", "--epochs", "2")
    async with app.run_test(size=(100, 30)) as pilot:
        app.query_one("#f-epochs").focus()
        await pilot.press("end", "q")  # the "2q"
        await pilot.pause()
        assert app.query_one("#f-epochs").value == "2"
        assert app.return_code == 0  # exit() ran (None until then)


async def test_letters_are_text_in_free_text_fields_and_ctrl_keys_act(monkeypatch):
    monkeypatch.setattr(fake_trainer, "DELAY", 0.01)
    app = make_app("--act", "relu", "--epochs", "50")
    async with app.run_test(size=(100, 30)) as pilot:
        dataset = app.query_one("#f-dataset")
        dataset.focus()
        dataset.value = ""
        await pilot.press(*"fashion-mnist")
        assert dataset.value == "fashion-mnist" and app.status["state"] == "idle"
        footer = shown(app)
        assert {"ctrl+r": "Run", "ctrl+s": "Stop", "ctrl+q": "Quit", "escape": "Leave field"}.items() <= footer.items()
        assert not {"r", "s", "q", "m", "o"} & footer.keys()  # they would type, so they are not offered
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.status["state"] == "running")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.status["state"] == "stopped")
        assert dataset.value == "fashion-mnist"


async def test_escape_leaves_a_field_and_the_footer_says_so():
    app = make_app("--act", "relu")
    async with app.run_test(size=(100, 30)) as pilot:
        app.query_one("#f-epochs").focus()
        await pilot.pause()
        footer = shown(app)
        assert {"escape": "Leave field", "r": "Run", "s": "Stop", "q": "Quit", "tab": "Next panel"}.items() \
            <= footer.items()
        await pilot.press("escape")
        assert app.focused is app.query_one("#settings")  # back on the panel, not lost
        footer = shown(app)
        assert "escape" not in footer and {"1", "2", "3", "4", "5", "6"} <= footer.keys()
        await pilot.press("2")
        assert app.query_one("#tabs").active == "sweep"
        app.query_one("#sweep-values").focus()
        await pilot.press("escape", "4")
        assert app.focused is None and app.query_one("#tabs").active == "bench"


async def test_every_key_is_in_the_footer_somewhere():
    """Idle on the Train tab: the footer lists Run, Stop, Quit, Chart, Sort, the panel key, the tabs."""
    app = make_app("--act", "relu")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        footer = shown(app)
        assert footer == {"tab": "Next panel", "r": "Run", "s": "Stop", "q": "Quit", "m": "Chart", "o": "Sort",
                          "1": "train", "2": "sweep", "3": "study", "4": "bench", "5": "runs", "6": "log"}
        stop = app.screen.active_bindings["s"]
        assert not stop.enabled and app.screen.active_bindings["r"].enabled  # nothing to stop: greyed out
        app.query_one("#f-epochs").value = ""
        await pilot.pause()
        assert not app.screen.active_bindings["r"].enabled  # a field has an error: nothing would run
        app.query_one("#f-epochs").value = "3"
        await pilot.pause()
        await pilot.press("6")
        assert {"m", "o"}.isdisjoint(shown(app)) and not app.screen.active_bindings["r"].enabled
        app.query_one("#f-acts").focus()
        await pilot.press("1")
        assert shown(app)["space"] == "Tick"


async def test_ticked_and_unticked_activations_read_differently():
    app = make_app("--act", "relu", "rrelu")
    async with app.run_test(size=(100, 30)) as pilot:
        checklist = app.query_one("#f-acts")

        def rows():
            return [checklist.render_line(y).text.rstrip() for y in range(checklist.option_count)]

        assert [r for r in rows() if r.startswith("[x]")] == ["[x] relu", "[x] rrelu"]
        assert "[ ] tanh" in rows() and len([r for r in rows() if r.startswith("[ ]")]) == 12
        checklist.focus()
        checklist.highlighted = [r[4:] for r in rows()].index("tanh")
        await pilot.press("space")
        assert "[x] tanh" in rows() and app.query_one("#settings").ticked() == ["relu", "rrelu", "tanh"]


def y_ticks(plot) -> list[float]:
    text = plot.render().plain
    return [float(m) for m in re.findall(r"^\s*(-?[\d.]+)\s*┤", text, flags=re.M)]


@pytest.mark.parametrize("accuracy", [0.41, 0.999, 0.003])
async def test_accuracy_axes_stay_within_0_and_100_after_one_epoch(monkeypatch, accuracy):
    monkeypatch.setattr(fake_trainer, "curve", lambda act, seed, epoch: (accuracy, accuracy))
    app = make_app("--act", "relu", "--epochs", "1")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done", settle=True)
        for metric in ("train", "val"):
            plot = app.query_one("#charts").plot(metric)
            lo, hi = plot.y_range()
            assert 0 <= lo < 100 * accuracy < hi <= 100
            ticks = y_ticks(plot)
            assert len(ticks) >= 2 and all(0 <= t <= 100 for t in ticks), ticks


async def test_stop_marks_the_rest_not_run_and_empties_the_bar(monkeypatch):
    monkeypatch.setattr(fake_trainer, "DELAY", 0.01)
    app = make_app("--act", "relu", "tanh", "elu", "--epochs", "50")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        table, bar = app.query_one("#results"), app.query_one("#progress")
        await wait_for(pilot, lambda: table.rows_by_label["relu"]["epoch"] >= 1 and bar.progress > 0)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status["state"] == "stopped")
        statuses = {k: r["status"] for k, r in table.rows_by_label.items()}
        assert statuses == {"relu": "cancelled", "tanh": "not run", "elu": "not run"}
        assert bar.progress == 0 and str(app.query_one("#progress-label").render()) == "stopped"
        cells = [table.get_row(k)[-1] for k in ("relu", "tanh", "elu")]
        assert cells == ["cancelled", "not run", "not run"]


async def test_the_log_names_the_dataset_once_per_load(monkeypatch):
    monkeypatch.setattr(worker, "_DATASETS", {})
    fake_trainer.LOADS.clear()
    app = make_app("--act", "relu", "tanh", "sigmoid", "--epochs", "1")
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one("#log-panel").lines_text

        def described():
            return [line for line in log if fake_trainer.FakeDataset.description in line]

        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        assert described() == [f"[info] dataset: {fake_trainer.FakeDataset.description}"]
        started = [line for line in log if ": started " in line]
        assert len(started) == 3 and all("512 train / 64 val" in line for line in started)
        assert log.index(described()[0]) < log.index(started[0])
        await pilot.press("r")  # the same data again: already loaded, not described again
        await wait_for(pilot, lambda: app.status["state"] == "done" and len(fake_trainer.LOADS) == 1
                       and sum(": started " in line for line in log) == 6)
        assert len(described()) == 1
        app.query_one("#f-seed").value = "7"  # another split: a new load, described once
        await pilot.pause()
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done" and sum(": started " in x for x in log) == 9)
        assert len(described()) == 2 and len(fake_trainer.LOADS) == 2


class NoTorchBench(FakeBench):
    @staticmethod
    def available_impls():
        return ["fastact", "numpy"]


async def test_benchmark_fields_take_the_cli_lists_and_absent_peers_have_no_columns():
    app = FastactApp(cli.parse(["--out", ""]), trainer=fake_trainer, benchmarks=NoTorchBench())
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.press("4")
        app.query_one("#bench-acts").value = "relu, rrelu"
        app.query_one("#bench-batch").value = "4,8"
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status["state"] == "done", settle=True)
        table = app.query_one("#bench-table")
        assert [str(c.label) for c in table.columns.values()] == ["op", "act", "batch", "fastact ms", "numpy ms",
                                                                   "numpy/fastact"]
        rows = {tuple(table.get_row_at(i)[:3]) for i in range(table.row_count)}
        assert rows == {(op, act, b) for op in ("forward", "backward", "step") for act in ("relu", "rrelu")
                        for b in ("4", "8")}
        app.query_one("#bench-acts").value = "relu swish"
        await pilot.press("r")
        await pilot.pause()
        assert "invalid choice: 'swish'" in str(app.query_one("#bench-label").render())


async def test_the_sweep_field_takes_what_fastact_sweep_takes():
    app = make_app("--act", "relu", "--epochs", "1")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        values = app.query_one("#sweep-values")
        values.focus()
        values.value = ""
        await pilot.press(*"0:1:0.25, 2")
        assert values.value == "0:1:0.25, 2"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.status["state"] == "done")
        xs, _ = app.query_one("#sweep-plot").series["leaky_relu val"]
        assert xs == [0, 0.25, 0.5, 0.75, 1.0, 2.0]
