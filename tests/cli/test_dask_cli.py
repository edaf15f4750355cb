"""``--executor dask`` on the command line: a study on the Dask test cluster (`dask_cluster`) end to
end, the client killed mid-study and resumed with every point exactly once, the option rules,
and the one-line error naming the extra when Dask is not installed (a subprocess in which a
meta-path finder refuses to import it)."""

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
TINY = '''
name = "tiny"
seeds = [0, 1]
[base]
hidden = [8]
epochs = 2
[[parts]]
name = "acts"
act = ["relu", "tanh"]
baseline = { act = "relu" }
'''
SLOW = TINY.replace("epochs = 2", "epochs = 120\nbatch_size = 4").replace("hidden = [8]", "hidden = [64]")


@pytest.fixture(scope="module")
def data(idx_data):
    return idx_data(120, 40, shape=(6, 6))


def write(tmp_path, text, name="s.toml") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_a_study_on_the_cluster_end_to_end_and_again(capsys, tmp_path, data, dask_cluster):
    spec, out_dir = write(tmp_path, TINY), tmp_path / "st"
    argv = ("study", spec, "--scheduler", dask_cluster.address, "--data-dir", data, "--out", str(out_dir), "--quiet")
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    lines = out.splitlines()
    assert f"dask: the scheduler at {dask_cluster.address}" in lines
    assert "dask: 2 workers ready (on " in out and "data: each worker loads custom itself" in out
    assert sum(line.startswith("[") and "/4] " in line for line in lines) == 4
    assert "4 points: 4 done, 0 failed, 0 left; results: " in out
    rows = list(csv.DictReader(open(out_dir / "results.csv")))
    assert sorted(r["key"] for r in rows) == sorted(p.key for p in load_spec(spec).points())
    code, out, _ = run_cli(capsys, *argv)  # resumed: nothing left to run, nothing sent to the cluster
    assert code == 0 and "/4] " not in out and "4 points: 4 done, 0 failed, 0 left" in out


@pytest.mark.parametrize("argv,message", [
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
     "--workers sizes a LocalCluster; the cluster at --scheduler has its own workers. Received: workers=2, "
     "scheduler='tcp://127.0.0.1:1'"),
    (["--workers", "0"], f"argument --workers: must be an integer in 1..{4 * (os.cpu_count() or 1)}. Received: '0'"),
    (["--executor", "ray"], "argument --executor: invalid choice: 'ray' (choose from 'serial', 'dask')"),
    (["--scheduler", "tcp://127.0.0.1"], "--scheduler must be a Dask scheduler's address, tcp://HOST:PORT (missing "
                                         "port number in address '127.0.0.1'). Received: scheduler='tcp://127.0.0.1'"),
])
def test_executor_options_are_one_line_and_exit_2(capsys, tmp_path, data, argv, message):
    code, out, err = run_cli(capsys, "study", write(tmp_path, TINY), "--data-dir", data, "--out", str(tmp_path / "o"),
                             *argv)
    assert code == 2 and err == f"fastact study: error: {message}\n"


BLOCK = '''
import importlib.abc, sys
HIDDEN = tuple(sys.argv.pop(1).split(","))
class NoDask(importlib.abc.MetaPathFinder):
    """These packages are not installed, as far as this process can tell."""
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoDask())
from fastact.cli import main
sys.exit(main(sys.argv[1:]))
'''


@pytest.mark.parametrize("command,hidden", [("study", "dask,distributed"), ("sweep", "dask,distributed"),
                                            ("study", "distributed")])  # dask alone installed: still the extra
def test_without_the_extra_dask_is_one_line_naming_it(tmp_path, data, command, hidden):
    args = ([write(tmp_path, TINY)] if command == "study" else ["depth", "--values", "1"]) + \
        ["--executor", "dask", "--data-dir", data, "--out", str(tmp_path / "o")]
    p = subprocess.run([sys.executable, "-c", BLOCK, hidden, command, *args], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert p.stderr == (f"fastact {command}: error: the dask executor needs the optional Dask packages: pip install "
                        f"\"fastact[dask]\" (import failed: No module named '{hidden.split(',')[0]}')\n")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("summary.json"))


def _state(out_dir) -> dict:
    try:
        return json.loads((out_dir / "study.json").read_text())
    except (OSError, ValueError):
        return {}


def test_a_client_killed_mid_study_resumes_with_every_point_exactly_once(tmp_path, data, dask_cluster):
    spec, out_dir = write(tmp_path, SLOW), tmp_path / "st"
    argv = [sys.executable, "-m", "fastact", "study", spec, "--scheduler", dask_cluster.address, "--out", str(out_dir),
            "--data-dir", data, "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        end = time.monotonic() + 120
        while not (_state(out_dir).get("done", 0) >= 1 and _state(out_dir).get("running")):
            assert time.monotonic() < end and p.poll() is None, "no point finished with another in flight"
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    runs = out_dir / "runs"
    before = {d.name: (d / "summary.json").stat().st_mtime_ns for d in runs.iterdir() if not d.name.startswith(".")}
    assert 1 <= len(before) < 4
    again = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr
    keys = [pt.key for pt in load_spec(spec).points()]
    assert sorted(d.name for d in runs.iterdir()) == sorted(keys)  # nothing missing, no leftovers
    assert {k: (runs / k / "summary.json").stat().st_mtime_ns for k in before} == before  # not run again
    assert again.stdout.count("/4] ") == 4 - len(before)
