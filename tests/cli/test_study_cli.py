"""``fastact study``: bad specs and flags are one line and exit 2; --list and --dry-run; the
built-in seed study's --quick end to end on generated data; resume after a real SIGINT and a
SIGKILL mid-point (subprocesses, bounded by timeouts) with no point missing or run twice."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fastact.experiments.spec import load_spec

from clirun import run_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data(idx_data):
    return idx_data(120, 40, shape=(6, 6))


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("spec,extra,message", [
    ("[[parts]]\nact = \"relu\"\nnegative_slope = -1\n", [],
     "s.toml: parts[0].negative_slope must be a parameter of an activation in parts[0].act"),
    ("[[parts]]\nact = \"leaky_relu\"\nnegative_slope = [0.1, -1]\n", [],
     "s.toml: parts[0].negative_slope must be >= 0. Received: negative_slope=-1"),
    ("[base]\nepochs = 0\n[[parts]]\nact = \"relu\"\n", [], "s.toml: base.epochs must be a positive integer"),
    ("[[parts]\n", [], "spec must be valid TOML ("),
    ("[[parts]]\nact = \"relu\"\n", ["--threads", "0"], "--threads must be an integer in 1.."),
    ("[[parts]]\nact = \"relu\"\n", ["--data-dir", "/no/such/dir"], "--data-dir must be an existing directory"),
    ("[[parts]]\nact = \"relu\"\n", ["--executor", "ray"], "argument --executor: invalid choice: 'ray'"),
])
def test_bad_specs_and_flags_are_one_line_and_exit_2(capsys, tmp_path, spec, extra, message):
    code, out, err = run_cli(capsys, "study", write(tmp_path, spec), "--out", str(tmp_path / "o"), *extra)
    assert code == 2 and out == ""
    assert err.startswith("fastact study: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_no_study_or_an_unknown_one(capsys, tmp_path):
    code, _, err = run_cli(capsys, "study")
    assert code == 2 and "give a study: a built-in name (seed) or a SPEC.toml" in err
    code, _, err = run_cli(capsys, "study", "nope")
    assert code == 2 and err == ("fastact study: error: study must be a built-in study (seed) or a .toml spec "
                                 "file. Received: study='nope'\n")


def test_list_shows_the_builtins(capsys):
    code, out, _ = run_cli(capsys, "study", "--list")
    assert code == 0 and out.startswith("seed: the seven activations")
    assert "225 points (52 with --quick); parts: activations, slope, depth" in " ".join(out.split())


def test_dry_run_lists_the_points_estimates_and_writes_nothing(capsys, tmp_path, data):
    out_dir = tmp_path / "st"
    code, out, err = run_cli(capsys, "study", "seed", "--quick", "--dry-run", "--data-dir", data, "--out", str(out_dir))
    assert code == 0, err
    flat = " ".join(out.split())  # rich wraps a long path
    assert f"study seed (quick) in {out_dir}: 52 points: 0 done, 0 failed, 52 left" in flat
    for text in ("activations (14 points)", "slope (10 points)", "depth (42 points)", "leaky_relu slope=0.25",
                 "relu depth=3", "seeds 0,1", "52 points to run, about"):
        assert text in out
    assert not out_dir.exists()


def test_the_seed_study_quick_end_to_end(capsys, tmp_path, data):
    out_dir = tmp_path / "st"
    code, out, err = run_cli(capsys, "study", "seed", "--quick", "--data-dir", data, "--out", str(out_dir), "--quiet")
    assert code == 0, err
    points = load_spec("seed", quick=True).points()
    rows = list(csv.DictReader(open(out_dir / "results.csv")))
    assert len(rows) == len(points) == 52 and len({r["key"] for r in rows}) == 52
    assert sorted(p.name for p in (out_dir / "runs").iterdir()) == sorted(r["key"] for r in rows)
    assert sum(line.startswith("[") and "/52] " in line for line in out.splitlines()) == 52
    for title in ("activations: The seven activations", "slope: Leaky ReLU's negative slope",
                  "paired by seed against the baseline", "52 points: 52 done, 0 failed, 0 left"):
        assert title in out
    state = json.loads((out_dir / "study.json").read_text())
    assert (state["done"], state["left"], state["quick"]) == (52, 0, True)
    code, out, _ = run_cli(capsys, "study", "seed", "--quick", "--data-dir", data, "--out", str(out_dir), "--quiet")
    assert code == 0 and "52 points: 52 done, 0 failed, 0 left" in out and "/52] " not in out
    code, out, _ = run_cli(capsys, "report", str(out_dir), "--no-charts")  # a study folder, part by part
    assert code == 0 and "52 run(s)" in out and "depth: Depth: 1 to 5 hidden layers" in out
    assert "depth: paired by seed against the baseline" in out


# ---- resume after a real signal --------------------------------------------------------------
SLOW = '''
name = "slow"
seeds = [0, 1]
[base]
hidden = [64]
epochs = 120
batch_size = 4
[[parts]]
name = "acts"
act = ["relu", "tanh"]
'''


def start(spec, out_dir, data):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "fastact", "study", spec, "--out", str(out_dir), "--data-dir", data,
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=out_dir.parent)


def wait_until(cond, timeout=120.0, what="condition"):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"{what} not reached within {timeout:g} s"
        time.sleep(0.05)


def state(out_dir) -> dict:
    try:
        return json.loads((out_dir / "study.json").read_text())
    except (OSError, ValueError):
        return {}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_resume_after_a_signal_mid_point_runs_every_point_exactly_once(tmp_path, data, sig):
    spec, out_dir = write(tmp_path, SLOW), tmp_path / "st"
    p = start(spec, out_dir, data)
    try:
        # one point done and the next in flight (each takes about a second): the signal lands mid-point
        wait_until(lambda: state(out_dir).get("done", 0) >= 1 and state(out_dir).get("running"),
                   what="a point in flight")
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), err
    if sig == signal.SIGINT:
        assert "interrupted" in out and "runs again next time" in out
    runs = out_dir / "runs"
    done_before = {d.name: (d / "summary.json").stat().st_mtime_ns for d in runs.iterdir()
                   if not d.name.startswith(".")}
    assert 1 <= len(done_before) < 4
    for d in done_before:  # only complete run directories: a point in flight leaves nothing behind
        assert json.loads((runs / d / "summary.json").read_text())["status"] == "completed"
    p = start(spec, out_dir, data)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    keys = [pt.key for pt in load_spec(spec).points()]
    assert sorted(d.name for d in runs.iterdir()) == sorted(keys)  # nothing missing, no leftovers
    assert {k: (runs / k / "summary.json").stat().st_mtime_ns for k in done_before} == done_before  # not rerun
    assert out.count("/4] ") == 4 - len(done_before)
    rows = list(csv.DictReader(open(out_dir / "results.csv")))
    assert sorted(r["key"] for r in rows) == sorted(keys) and {r["status"] for r in rows} == {"completed"}
    assert state(out_dir)["done"] == 4 and state(out_dir)["running"] == []
