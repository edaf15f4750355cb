"""The Study and Sweep tabs' executor choice, driving the real trainer on Dask: the test cluster
(`dask_cluster`: a scheduler and two workers on 127.0.0.1) and a LocalCluster the tab starts
itself. The scheduler field shows only for dask; the log says where the points run and how the
data got there; every run is written here; the live charts follow the remote runs epoch by
epoch; a bad or silent scheduler address is an error marked on the field, within the timeout."""

import json

import dask
import pytest

from fastact.training import runs as results
from fastact_tui import cli
from fastact_tui.app import FastactApp
from fastact_tui.widgets.study import StudyView
from fastact_tui.widgets.study_bridge import StudyBridge
from fastact_tui.widgets.sweep import SweepView

import tui_path  # noqa: F401  (registers fastact_tui from tui/)
from daskcluster import free_port
from pilot import wait_for

EPOCHS = 2
SPEC = (f'name = "tiny"\nseeds = [0]\n[base]\nepochs = {EPOCHS}\nhidden = [8]\n'
        '[[parts]]\nname = "acts"\nact = ["relu", "tanh"]\n')


def make_app(data, out):
    return FastactApp(cli.parse(["--data-dir", data, "--out", str(out), "--hidden", "8", "--epochs", str(EPOCHS),
                                 "--act", "relu"]))


def choose_dask(app, prefix, address) -> None:
    app.query_one(f"#{prefix}-executor").value = "dask"
    app.query_one(f"#{prefix}-scheduler").value = address


def spy_study_plot(monkeypatch) -> list[dict]:
    """Every state of the Study plot's ``(running)`` curves after a progress message was drawn;
    the bridge posts at every epoch (no throttle), so each epoch of each point is one state."""
    seen, drawn = [], StudyView.on_study_progress

    def record(view, msg):
        drawn(view, msg)
        seen.append({k: (list(xs), list(ys)) for k, (xs, ys) in view.query_one("#study-plot").series.items()
                     if k.endswith("(running)")})

    monkeypatch.setattr(StudyBridge, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(StudyView, "on_study_progress", record)
    return seen


async def run_study_tab(app, pilot, out, address) -> list[str]:
    await pilot.press("3")
    choose_dask(app, "study", address)
    app.query_one("#study-spec").text = SPEC
    app.query_one("#study-out").value = str(out)
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: app.status["state"] in ("done", "error"), timeout=180)
    log = app.query_one("#log-panel").lines_text
    assert app.status["state"] == "done", log
    assert app.query_one("#study-table").row_count == 2
    return log


def assert_live_study_curves(seen, plot) -> None:
    # Each point's curve grew one remote epoch at a time while it trained, then gave way to the
    # part's finished curve.
    assert sorted(plot.series) == ["relu", "tanh"]
    for act in ("relu", "tanh"):
        states = [s[f"{act} (running)"] for s in seen if f"{act} (running)" in s]
        grown = list(dict.fromkeys(tuple(xs) for xs, _ in states))
        assert grown == [tuple(range(1, e + 1)) for e in range(EPOCHS + 1)]  # (), (1,), (1, 2)
        xs, ys = plot.series[act]  # one seed: the finished curve is the run's own, in %
        assert xs == list(range(1, EPOCHS + 1)) and states[-1][1] == pytest.approx(ys, abs=1e-9)


async def test_the_study_tab_runs_a_study_on_a_dask_cluster_live(idx_data, tmp_path, dask_cluster, monkeypatch):
    seen = spy_study_plot(monkeypatch)
    app = make_app(idx_data(200, 50, shape=(6, 6)), tmp_path / "runs")
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.press("3")
        scheduler = app.query_one("#study-scheduler")
        assert not scheduler.display  # serial: nothing to address
        choose_dask(app, "study", "")
        await pilot.pause()
        assert scheduler.display
        log = await run_study_tab(app, pilot, tmp_path / "st", dask_cluster.address)
        assert f"[info] dask: the scheduler at {dask_cluster.address}" in log
        assert any(line.startswith("[info] data: each worker loads custom itself") for line in log), log
        assert_live_study_curves(seen, app.query_one("#study-plot"))
    saved = [json.loads((d / "config.json").read_text()) for d in (tmp_path / "st" / "runs").iterdir()]
    assert sorted(c["act"] for c in saved) == ["relu", "tanh"]
    assert {c["worker"] for c in saved} <= set(dask_cluster.client.nthreads())


async def test_the_study_tab_starts_a_local_cluster_when_no_address_is_given(idx_data, tmp_path, monkeypatch):
    seen = spy_study_plot(monkeypatch)
    app = make_app(idx_data(200, 50, shape=(6, 6)), tmp_path / "runs")
    with dask.config.set({"scheduler-address": None}):  # not a cluster of the environment's
        async with app.run_test(size=(120, 32)) as pilot:
            log = await run_study_tab(app, pilot, tmp_path / "st", "")
            assert "[info] dask: starting a LocalCluster of 2 worker processes on this machine" in log
            assert "[info] dask: a LocalCluster of 2 worker processes on this machine, 1 kernel thread each" in log
            assert_live_study_curves(seen, app.query_one("#study-plot"))
    hosts = {json.loads((d / "config.json").read_text())["worker"] for d in (tmp_path / "st" / "runs").iterdir()}
    assert all(h.startswith("tcp://127.0.0.1:") for h in hosts)


async def test_the_sweep_tab_runs_a_sweep_on_a_dask_cluster_live(idx_data, tmp_path, dask_cluster, monkeypatch):
    events, drawn, finished = [], SweepView.on_epoch_done, SweepView.on_run_finished

    def on_epoch(view, msg):
        drawn(view, msg)
        xs, _ = view.query_one("#sweep-plot").series["leaky_relu val"]
        events.append((msg.label, msg.record.epoch, xs.copy()))

    def on_end(view, msg):
        finished(view, msg)
        events.append((msg.label, "end", None))

    monkeypatch.setattr(SweepView, "on_epoch_done", on_epoch)
    monkeypatch.setattr(SweepView, "on_run_finished", on_end)
    out = tmp_path / "runs"
    app = make_app(idx_data(200, 50, shape=(6, 6)), out)
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.press("2")
        app.query_one("#sweep-values").value = "0 0.5"
        choose_dask(app, "sweep", dask_cluster.address)
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.status["state"] in ("done", "error"), timeout=180)
        log = app.query_one("#log-panel").lines_text
        assert app.status["state"] == "done", log
        assert f"[info] dask: the scheduler at {dask_cluster.address}" in log
        assert app.query_one("#sweep-table").row_count == 2
        plot = app.query_one("#sweep-plot")
        assert [plot.series[k][0] for k in ("leaky_relu train", "leaky_relu val")] == [[0.0, 0.5], [0.0, 0.5]]
    for label, x in (("0", 0.0), ("0.5", 0.5)):
        mine = [(e, xs) for lab, e, xs in events if lab == label]
        assert [e for e, _ in mine] == [*range(1, EPOCHS + 1), "end"]  # each remote epoch, then the end
        assert all(x in xs for e, xs in mine if e != "end")  # drawn at its value from the first epoch on
    saved = [results.load_run(d) for d in results.find_runs([out])]
    assert sorted(r["config"]["act_params"]["negative_slope"] for r in saved) == [0.0, 0.5]
    assert {r["meta"]["worker"] for r in saved} <= set(dask_cluster.client.nthreads())


@pytest.mark.parametrize("tab", ["study", "sweep"])
@pytest.mark.parametrize("kind", ["malformed", "refused"])
async def test_a_bad_scheduler_address_is_an_error_on_the_field(idx_data, tmp_path, tab, kind):
    port = free_port()  # nothing listens there
    address = "tcp://127.0.0.1" if kind == "malformed" else f"tcp://127.0.0.1:{port}"
    message = ("scheduler must be a Dask scheduler's address, tcp://HOST:PORT (missing port number in address "
               "'127.0.0.1'). Received: scheduler='tcp://127.0.0.1'" if kind == "malformed" else
               f"no Dask scheduler answered at {address} within 2s (connection refused); start one")
    app = make_app(idx_data(100, 20, shape=(6, 6)), tmp_path / "runs")
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        async with app.run_test(size=(120, 32)) as pilot:
            await pilot.press("3" if tab == "study" else "2")
            if tab == "study":
                app.query_one("#study-spec").text = SPEC
                app.query_one("#study-out").value = str(tmp_path / "st")
            choose_dask(app, tab, address)
            await pilot.pause()
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: app.status["state"] in ("done", "error"), timeout=30)  # not a hang
            field, error = app.query_one(f"#{tab}-scheduler"), app.query_one(f"#{tab}-error")
            assert app.status["state"] == "error"
            assert field.has_class("-invalid") and not app.query_one(f"#{tab}-executor").has_class("-invalid")
            assert error.has_class("shown") and str(error.render()).startswith(message)
            log = app.query_one("#log-panel").lines_text
            assert log[-1].startswith(f"[error] {'SettingsError' if kind == 'malformed' else 'ExecutorError'}: "
                                      f"{message}"), log
            field.value = "tcp://scheduler.example:8786"  # typing in the field clears the mark
            await pilot.pause()
            assert not field.has_class("-invalid") and not error.has_class("shown")
    assert not list(tmp_path.rglob("summary.json"))
