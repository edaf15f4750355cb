"""Malformed run folders, generated at test time from a real run: every reader skips them with one
line naming the file, and goes on.

Each case is read in a sandboxed child (tests/sandbox.py: 1 GiB of address space, a time
limit), so a regression (reading a 3 GiB file whole, recursing on a nested document) fails
the test instead of exhausting the machine; each asserts its one line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fastact.data import load_dataset
from fastact.training import TrainConfig, train
from fastact.training import runs as saved

from sandbox import run_limited, verdict

LOAD = """
from fastact.training import runs
def run(P):
    r = runs.load_run(P["dir"])
    return [len(r["history"]), r["status"]]
"""


@pytest.fixture(scope="module")
def good_run(tmp_path_factory, idx_data):
    ds = load_dataset(data_dir=idx_data(120, 40, shape=(4, 4)), download=False, progress=False)
    root = tmp_path_factory.mktemp("good")
    r = train(TrainConfig(hidden=(4,), epochs=2, batch_size=32, out=str(root)), ds)
    return Path(r.run_dir)


def copy_of(good_run: Path, tmp_path: Path, name="run") -> Path:
    d = tmp_path / "root" / name
    shutil.copytree(good_run, d)
    return d


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_a_good_run_and_a_cut_off_last_epoch_line_load(good_run, tmp_path):
    d = copy_of(good_run, tmp_path)
    assert verdict(LOAD, {"dir": str(d)}) == {"ok": [2, "completed"]}
    with open(d / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 3, "train_lo')  # a hard kill mid-write: no newline, not a record
    assert verdict(LOAD, {"dir": str(d)}) == {"ok": [2, "completed"]}


def _set(key, value):
    return lambda data: data.__setitem__(key, value)


SUMMARY_CASES = [
    ("bad-json", lambda p: p.write_text("{"),
     "not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ("a-list", lambda p: p.write_text("[1, 2]"), "holds a JSON array, expected an object"),
    ("history-text", lambda p: edit_json(p, _set("history", "lots")),
     "history is 'lots', expected a list of epoch records"),
    ("status", lambda p: edit_json(p, _set("status", "exploded")),
     "status is 'exploded', expected one of completed, cancelled, diverged, failed, running"),
    ("test-acc", lambda p: edit_json(p, _set("test_acc", "high")), "test_acc is 'high', expected a number or null"),
    ("huge-id", lambda p: edit_json(p, _set("run_id", "x" * 20_000)),
     "run_id is 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..., expected a string"),
    ("config-type", lambda p: edit_json(p, lambda d: d["config"].__setitem__("epochs", "ten")),
     "config.epochs is 'ten', expected an integer"),
    ("record-type", lambda p: edit_json(p, lambda d: d["history"][0].__setitem__("epoch", "1")),
     "history[0]: epoch is '1', expected an integer"),
    ("not-utf8", lambda p: p.write_bytes(b"\xff\xfe{}"), "not UTF-8 text (byte 0)"),
    ("huge-int", lambda p: p.write_text('{"epochs": ' + "9" * 5000 + "}"),
     "not valid JSON (Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; "
     "use sys.set_int_max_str_digits() to increase the limit)"),
    ("deep", lambda p: p.write_text("[" * 200_000), "not valid JSON (maximum recursion depth exceeded while "
                                                    "decoding a JSON array from a unicode string)"),
]


@pytest.mark.parametrize("name, damage, problem", SUMMARY_CASES, ids=[c[0] for c in SUMMARY_CASES])
def test_a_malformed_summary_is_refused_naming_it(good_run, tmp_path, name, damage, problem):
    d = copy_of(good_run, tmp_path)
    damage(d / "summary.json")
    out = verdict(LOAD, {"dir": str(d)})
    assert out == {"error": "MalformedRun", "message": f"{d / 'summary.json'}: {problem}"}


def test_a_summary_of_gigabytes_is_not_read(good_run, tmp_path):
    d = copy_of(good_run, tmp_path)
    with open(d / "summary.json", "r+b") as f:
        f.truncate(3 << 30)  # sparse: takes no disk
    out = verdict(LOAD, {"dir": str(d)})
    assert out["message"] == f"{d / 'summary.json'}: 3.00 GiB, more than the 64.0 MiB a run file may have"


CONFIG_CASES = [
    ("act-params", _set("act_params", [1, 2]), "act_params is [1, 2], expected an object of numbers"),
    ("hidden", _set("hidden", [0]), "hidden is [0], expected a list of positive integers"),
    ("data-dir", _set("data_dir", 7), "data_dir is 7, expected a string or null"),
    ("nesterov", _set("nesterov", "yes"), "nesterov is 'yes', expected true or false"),
]


@pytest.mark.parametrize("name, change, problem", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_a_config_with_wrong_types_is_refused_naming_it(good_run, tmp_path, name, change, problem):
    d = copy_of(good_run, tmp_path)
    edit_json(d / "config.json", change)
    assert verdict(LOAD, {"dir": str(d)})["message"] == f"{d / 'config.json'}: {problem}"


METRICS_CASES = [
    ("garbage", lambda lines: [lines[0], "{garbage", *lines[1:]],
     "line 2 is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ("fields", lambda lines: ['{"epoch": 1}', *lines[1:]],
     "line 1 has no train_loss, train_acc, val_loss, val_acc, seconds, samples_per_s"),
    ("array", lambda lines: ["[1]", *lines[1:]], "line 1 is a JSON array, expected an epoch record (an object)"),
    ("value", lambda lines: [lines[0].replace('"train_acc": ', '"train_acc": "x", "y": '), *lines[1:]],
     "line 1: train_acc is 'x', expected a number or null"),
]


@pytest.mark.parametrize("name, change, problem", METRICS_CASES, ids=[c[0] for c in METRICS_CASES])
def test_malformed_metrics_are_refused_naming_the_line(good_run, tmp_path, name, change, problem):
    d = copy_of(good_run, tmp_path)
    lines = (d / "metrics.jsonl").read_text().splitlines()
    (d / "metrics.jsonl").write_text("\n".join(change(lines)) + "\n")
    assert verdict(LOAD, {"dir": str(d)})["message"] == f"{d / 'metrics.jsonl'}: {problem}"


def test_missing_files_fall_back_to_what_is_there(good_run, tmp_path):
    d = copy_of(good_run, tmp_path)
    (d / "metrics.jsonl").unlink()
    (d / "metrics.jsonl").mkdir()  # not a file: the summary's history is used
    assert verdict(LOAD, {"dir": str(d)}) == {"ok": [2, "completed"]}
    (d / "summary.json").unlink()  # a run killed before its first summary: config only
    assert verdict(LOAD, {"dir": str(d)}) == {"ok": [0, "interrupted"]}
    (d / "config.json").unlink()
    out = verdict(LOAD, {"dir": str(d)})
    assert out == {"error": "FileNotFoundError",
                   "message": f"not a run directory (no config.json or summary.json). Received: {d}"}


def test_load_runs_skips_and_goes_on(good_run, tmp_path):
    good = copy_of(good_run, tmp_path, "a-good")
    bad = copy_of(good_run, tmp_path, "b-bad")
    (bad / "summary.json").write_text("{")
    runs, skipped = saved.load_runs(saved.find_runs([tmp_path / "root"]))
    assert [r["dir"] for r in runs] == [str(good)]
    assert skipped == [f"{bad / 'summary.json'}: not valid JSON (Expecting property name enclosed in double "
                       "quotes: line 1 column 2 (char 1))"]


def report(tmp_path, *argv):
    code = f"import sys\nfrom fastact._entry import run\nsys.exit(run('fastact.cli:main', {list(argv)!r}))\n"
    return run_limited(code, timeout_s=120, env={"FASTACT_MEMORY_BUDGET": None})


def test_report_skips_malformed_runs_with_a_warning_each(good_run, tmp_path):
    copy_of(good_run, tmp_path, "a-good")
    bad = {name: copy_of(good_run, tmp_path, name) for name in ("b-json", "c-types", "d-huge")}
    (bad["b-json"] / "summary.json").write_text("{")
    edit_json(bad["c-types"] / "config.json", _set("hidden", "wide"))
    with open(bad["d-huge"] / "metrics.jsonl", "r+b") as f:
        f.truncate(2 << 30)
    result = report(tmp_path, "report", str(tmp_path / "root"), "--no-charts", "--csv", str(tmp_path / "all.csv"))
    assert result.returncode == 0, result.describe()
    assert sorted(result.stderr.splitlines()) == [  # in the order the runs started; sorted here
        f"fastact report: warning: skipped {bad['b-json'] / 'summary.json'}: not valid JSON (Expecting property "
        "name enclosed in double quotes: line 1 column 2 (char 1))",
        f"fastact report: warning: skipped {bad['c-types'] / 'config.json'}: hidden is 'wide', expected a list of "
        "positive integers",
        f"fastact report: warning: skipped {bad['d-huge'] / 'metrics.jsonl'}: 2.00 GiB, more than the 64.0 MiB a "
        "run file may have",
    ]
    assert f"1 run(s) from {tmp_path / 'root'} (3 skipped)" in result.stdout
    assert len((tmp_path / "all.csv").read_text().splitlines()) == 1 + 2  # header + the good run's 2 epochs


def test_report_with_only_malformed_runs_exits_2(good_run, tmp_path):
    d = copy_of(good_run, tmp_path)
    (d / "summary.json").write_text("[]")
    result = report(tmp_path, "report", str(tmp_path / "root"))
    assert result.returncode == 2, result.describe()
    assert result.stderr.splitlines() == [
        f"fastact report: warning: skipped {d / 'summary.json'}: holds a JSON array, expected an object",
        f"fastact report: error: DIR holds no readable runs (1 skipped). Received: {tmp_path / 'root'}",
    ]


def test_report_as_a_sweep_skips_runs_without_the_swept_setting(good_run, tmp_path, capsys):
    from clirun import run_cli

    copy_of(good_run, tmp_path, "a-good")
    bare = tmp_path / "root" / "b-bare"
    bare.mkdir()
    (bare / "summary.json").write_text('{"status": "completed"}')  # valid, but holds no settings
    code, out, err = run_cli(capsys, "report", str(tmp_path / "root"), "--sweep", "depth", "--no-charts")
    assert code == 0, err
    assert err == (f"fastact report: warning: skipped {bare}: its config holds no depth value to draw the sweep "
                   "against\n")
    assert "Sweep of depth" in out
