"""The dashboard under hostile input: malformed run folders at start-up, sizes too large for the
memory budget in a field, big grids; and large work kept out of the UI thread."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from fastact.training import TrainConfig
from fastact.training import runs as saved
from fastact_tui import cli, form
from fastact_tui.app import FastactApp
from fastact_tui.widgets import sweep as sweep_widget
from fastact_tui.widgets.settings import DEFAULTS

import fake_trainer
import tui_path  # noqa: F401  (registers fastact_tui from tui/)
from pilot import wait_for


def make_app(*argv, **kw):
    return FastactApp(cli.parse(["--out", "", *argv]), trainer=fake_trainer, **kw)


def a_run(root: Path, name: str, act="relu") -> Path:
    """A run folder as fastact writes one (two epochs), without training."""
    d = root / name
    d.mkdir(parents=True)
    config = TrainConfig(act=act, epochs=2).to_dict()
    history = [{"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5 + e / 10, "val_loss": 1.1 / e,
                "val_acc": 0.45 + e / 10, "seconds": 0.1, "samples_per_s": 1000.0} for e in (1, 2)]
    (d / "config.json").write_text(json.dumps({**config, "run_id": name}))
    (d / "metrics.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    (d / "summary.json").write_text(json.dumps({"run_id": name, "status": "completed", "message": "2 epochs",
                                                "act": act, "config": config, "history": history,
                                                "test_acc": 0.6, "epochs_completed": 2, "epochs": 2}))
    return d


def runs_root(tmp_path) -> tuple[Path, dict[str, Path]]:
    root = tmp_path / "runs"
    a_run(root, "20260101-000000-relu-s0-aaaa")
    bad = {"json": a_run(root, "20260101-000001-relu-s0-bbbb"), "list": a_run(root, "20260101-000002-relu-s0-cccc"),
           "types": a_run(root, "20260101-000003-relu-s0-dddd"), "markup": a_run(root, "20260101-000004-[bold]-eeee")}
    (bad["json"] / "summary.json").write_text('{"run_id": ')
    (bad["list"] / "summary.json").write_text("[]")
    summary = json.loads((bad["types"] / "summary.json").read_text())
    summary["history"] = [{"epoch": "one"}]
    (bad["types"] / "summary.json").write_text(json.dumps(summary))
    return root, bad


async def test_malformed_runs_at_start_up_are_skipped_with_a_warning_each(tmp_path):
    root, bad = runs_root(tmp_path)
    app = make_app(runs_root=str(root))
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one("RunsView")
        await wait_for(pilot, lambda: bool(view.runs), what="the start-up scan")
        # the good run and the one whose id holds markup (shown as text, not parsed)
        assert sorted(view.runs) == ["20260101-000000-relu-s0-aaaa", "20260101-000004-[bold]-eeee"]
        assert app.query_one("#runs-table").row_count == 2
        warnings = [line for line in app.query_one("LogPanel").lines_text if line.startswith("[warning]")]
        assert sorted(warnings) == sorted([
            f"[warning] Runs tab: skipped {bad['json'] / 'summary.json'}: not valid JSON (Expecting value: line 1 "
            "column 12 (char 11))",
            f"[warning] Runs tab: skipped {bad['list'] / 'summary.json'}: holds a JSON array, expected an object",
            f"[warning] Runs tab: skipped {bad['types'] / 'summary.json'}: history[0] has no train_loss, train_acc, "
            "val_loss, val_acc, seconds, samples_per_s",
        ])
        assert "(3 skipped: see Log)" in str(app.query_one("#runs-root").render())
        await pilot.press("4")
        await pilot.press("q")
    assert app.return_code == 0  # it ended as asked, not on an error


async def test_the_runs_scan_runs_in_a_worker_thread(tmp_path, monkeypatch):
    root, _ = runs_root(tmp_path)
    threads = []
    real = saved.load_runs

    def load_runs(dirs):
        threads.append(threading.current_thread())
        return real(dirs)

    monkeypatch.setattr(saved, "load_runs", load_runs)
    app = make_app(runs_root=str(root))
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one("RunsView")
        await wait_for(pilot, lambda: bool(view.runs), what="the start-up scan")
        assert threads and all(t is not threading.main_thread() for t in threads)


def build(**values):
    return form.build({**DEFAULTS, **values}, ["relu"], {}, {"out": None})


def test_a_hidden_size_too_large_for_memory_is_refused_in_its_field():
    res = build(hidden="1000000")
    assert not res.ok and list(res.errors) == ["hidden"]
    assert res.errors["hidden"].startswith("hidden must be within the memory budget: an MLP 784-1000000-10 float32 "
                                           "trained with adam at batch 128 (")
    assert res.errors["hidden"].endswith("Received: hidden=(1000000,)")


def test_checking_the_form_costs_the_same_for_one_seed_or_a_thousand(monkeypatch):
    calls = {"n": 0}
    real = TrainConfig.problems

    def problems(self):
        calls["n"] += 1
        return real(self)

    monkeypatch.setattr(TrainConfig, "problems", problems)
    res = form.build({**DEFAULTS, "seeds": "1000"}, ["relu", "tanh", "sigmoid"], {}, {"out": None})
    assert res.ok and len(res.configs) == 3000
    assert calls["n"] == 6  # the first and the last seed of each activation
    assert [c.seed for c in res.configs[:3]] == [0, 1, 2] and res.configs[-1].seed == 999


async def test_a_sweep_too_large_for_memory_is_refused_and_built_off_the_ui_thread(monkeypatch):
    threads = []
    real = sweep_widget.build_configs

    def build_configs(*a):
        threads.append(threading.current_thread())
        return real(*a)

    monkeypatch.setattr(sweep_widget, "build_configs", build_configs)
    app = make_app("--act", "relu", "--epochs", "1")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        app.query_one("#sweep-kind").value = "width"
        await pilot.pause()
        app.query_one("#sweep-values").value = "64 10000000"
        app.query_one("SweepView").start()
        error = app.query_one("#sweep-error")
        await wait_for(pilot, lambda: "memory budget" in str(error.render()), what="the refusal")
        assert str(error.render()).startswith("values must be within the memory budget: an MLP 784-10000000-10 ")
        assert str(error.render()).endswith("Received: values=10000000.0")
        assert app.status["state"] == "idle" and not app.query_one("#sweep-run").disabled
        assert threads and all(t is not threading.main_thread() for t in threads)


async def test_a_benchmark_batch_too_large_for_memory_is_refused():
    batch = "100000000"
    app = make_app("--act", "relu")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3")
        app.query_one("#bench-batch").value = batch
        app.query_one("BenchView").start()
        await pilot.pause()
        label = str(app.query_one("#bench-label").render())
        assert label.startswith(f"batch {batch}: the numpy step case (batch {batch}, shape 784x512) needs an "
                                "estimated ")
        assert "use a smaller batch, or raise the budget with --memory-budget SIZE" in label
        assert not app.query_one("BenchView").running


def test_fastact_tui_takes_the_memory_budget_and_refuses_a_bad_one(capsys):
    assert cli.parse(["--memory-budget", "75%"])["memory_budget"] == "75%"
    with pytest.raises(SystemExit) as info:
        cli.parse(["--memory-budget", "lots"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("fastact-tui: error: argument --memory-budget: must be a positive size") and \
        err.count("\n") == 1
