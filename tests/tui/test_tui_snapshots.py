"""Snapshots (pytest-textual-snapshot) of the main screens, with deterministic data: the
fake trainer's closed-form curves and fixed benchmark timings. Update with
``pytest tests/test_tui_snapshots.py --snapshot-update`` after an intended visual change."""


import pytest

import fastact
from fastact import benchmarks as real_bench
from fastact_tui import cli
from fastact_tui.app import FastactApp

import fake_trainer
import tui_path  # noqa: F401  (registers fastact_tui from tui/)
from pilot import wait_for


class FakeBench:
    """`fastact.benchmarks` with fixed timings: medians in ms chosen per impl and activation."""

    BenchResult = real_bench.BenchResult
    ratio_table = staticmethod(real_bench.ratio_table)

    @staticmethod
    def available_impls():
        return ["fastact", "numpy", "torch"]

    @classmethod
    def run(cls, acts, batches=(128,), ops=("forward",), impls=None, progress=None, cancel=None, **kw):
        plan = [(o, a, b, i) for o in ops for a in acts for b in batches for i in cls.available_impls()]
        out = []
        for k, (o, a, b, i) in enumerate(plan):
            base = {"forward": 0.2, "backward": 0.5, "step": 1.1}[o] * (1 + 0.1 * len(a))
            med = base * {"fastact": 1.0, "numpy": 2.5, "torch": 1.6}[i] / 1e3
            out.append(real_bench.BenchResult(i, o, a, b, 784, 512, med, med / 10, 5))
            if progress:
                progress(k + 1, len(plan), out[-1])
        return out


@pytest.fixture(autouse=True)
def fixed_env(monkeypatch):
    monkeypatch.setattr(fastact, "get_num_threads", lambda: 2)


def make_app(*argv):
    return FastactApp(cli.parse(["--out", "", *argv]), trainer=fake_trainer, benchmarks=FakeBench())



ARGS = ("--act", "sigmoid", "relu", "leaky_relu", "rrelu", "--epochs", "6")


def test_train_done_80x24(snap_compare):
    async def run(pilot):
        await pilot.press("r")
        await wait_for(pilot, lambda: pilot.app.status["state"] == "done", settle=True)
    assert snap_compare(make_app(*ARGS), run_before=run, terminal_size=(80, 24))


def test_train_mid_run_wide(snap_compare, monkeypatch):
    monkeypatch.setattr(fake_trainer, "HOLD", ("rrelu", 4, 2))
    fake_trainer.RELEASE.clear()

    async def run(pilot):
        await pilot.press("r")
        await wait_for(pilot, lambda: pilot.app.query_one("#results").rows_by_label["rrelu"]["epoch"] == 3, settle=True)
        await wait_for(pilot, lambda: pilot.app.query_one("#progress").progress == 2, settle=True)
    try:
        assert snap_compare(make_app(*ARGS), run_before=run, terminal_size=(140, 40))
    finally:
        fake_trainer.RELEASE.set()


def test_invalid_input_80x24(snap_compare):
    async def run(pilot):
        pilot.app.query_one("#f-epochs").value = "ten"
        await pilot.pause()
    assert snap_compare(make_app("--act", "relu"), run_before=run, terminal_size=(80, 24))


def test_sweep_light_theme(snap_compare):
    async def run(pilot):
        pilot.app.theme = "textual-light"
        await pilot.press("2")
        await pilot.press("r")
        await wait_for(pilot, lambda: pilot.app.status["state"] == "done", settle=True)
    assert snap_compare(make_app("--epochs", "3"), run_before=run, terminal_size=(100, 30))


def test_benchmarks(snap_compare):
    async def run(pilot):
        await pilot.press("4")
        await pilot.press("r")
        await wait_for(pilot, lambda: pilot.app.status["state"] == "done", settle=True)
    assert snap_compare(make_app(), run_before=run, terminal_size=(120, 32))


def test_study_done(snap_compare, tmp_path):
    spec = "name = \"small\"\nseeds = [0, 1]\n[base]\nepochs = 3\n[[parts]]\nname = \"acts\"\nact = \"all\"\n"

    async def run(pilot):
        await pilot.press("3")
        pilot.app.query_one("#study-spec").text = spec
        pilot.app.query_one("#study-out").value = str(tmp_path / "st")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: pilot.app.status["state"] == "done", settle=True)
        pilot.app.query_one("#study-out").value = "studies/small"  # the temporary path differs per run
        await pilot.pause()
    assert snap_compare(make_app(), run_before=run, terminal_size=(120, 32))
