"""fastact.experiments.runner (in process, real training on tiny generated data): the study
directory, resume without duplicates, results streaming back out of order, failures and
retries, divergence, cancelled points, the lock and the data check; analysis of the result."""

from __future__ import annotations

import csv
import json
import threading

import pytest

from fastact.data import load_dataset
from fastact.errors import SettingsError
from fastact.experiments import analysis, tasks
from fastact.experiments.runner import StudyError, StudyEvents, _locked, run_study
from fastact.experiments.spec import parse_spec
from fastact.experiments.tasks import SerialExecutor

SPEC = '''
name = "tiny"
seeds = [0, 1, 2]
[base]
hidden = [8]
epochs = 2
batch_size = 32
lr = 0.01
[[parts]]
name = "acts"
act = ["relu", "tanh"]
baseline = { act = "relu" }
[[parts]]
name = "depth"
act = ["relu", "tanh"]
depth = [1, 2]
baseline = { depth = 1 }
within = ["act"]
'''


@pytest.fixture(scope="module")
def ds(idx_data):
    return load_dataset(data_dir=idx_data(200, 50, shape=(6, 6)), download=False, progress=False)


@pytest.fixture
def spec():
    return parse_spec(SPEC, "tiny.toml")


class Recording:
    """A serial executor that records what it was asked to run and can yield in reverse order."""

    name = "recording"

    def __init__(self, ds, reverse=False, fail=(), cancel_at=None):
        self.inner = SerialExecutor(load=lambda c: ds)
        self.reverse, self.fail, self.cancel_at, self.asked = reverse, set(fail), cancel_at, []

    def submit(self, tasks, callbacks=None, cancel=None):
        self.asked.append([t.label for t in tasks])
        done = []
        for task, outcome in self.inner.submit(tasks, callbacks, cancel):
            if task.label in self.fail:
                outcome = RuntimeError("worker lost")
            if task.label == self.cancel_at:
                outcome.status = "cancelled"
            done.append((task, outcome))
            if not self.reverse:
                yield done.pop()
        yield from reversed(done)


def dirs(out):
    return sorted(p.name for p in (out / "runs").iterdir())


def test_a_study_runs_every_point_once_and_a_rerun_runs_nothing(tmp_path, spec, ds):
    ex = Recording(ds)
    run = run_study(spec, tmp_path, ex, ds)
    keys = [p.key for p in run.points]
    assert len(keys) == 6 + 12 - 6 and dirs(tmp_path) == sorted(keys)
    assert run.summary() == "12 points: 12 done, 0 failed, 0 left"
    # seed by seed: all of seed 0 first (one validation split in memory at a time)
    assert [lab.rsplit("seed=", 1)[1] for lab in ex.asked[0]] == ["0"] * 4 + ["1"] * 4 + ["2"] * 4
    state = json.loads((tmp_path / "study.json").read_text())
    assert state["done"] == 12 and state["left"] == 0 and state["running"] == []
    assert [p["key"] for p in state["points"]] == keys
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert [r["key"] for r in rows] == keys and {r["status"] for r in rows} == {"completed"}
    assert {"act", "depth", "width", "epochs", "lr", "seed", "test_acc", "best_val_acc", "best_test_acc",
            "parts"} <= set(rows[0])
    assert (tmp_path / "spec.toml").read_text() == SPEC
    before = {k: (tmp_path / "runs" / k / "summary.json").stat().st_mtime_ns for k in keys}
    again = Recording(ds)
    run_study(spec, tmp_path, again, ds)
    assert again.asked == [[]]
    assert before == {k: (tmp_path / "runs" / k / "summary.json").stat().st_mtime_ns for k in keys}


def test_results_streaming_back_out_of_order_land_in_their_own_directories(tmp_path, spec, ds):
    run = run_study(spec, tmp_path, Recording(ds, reverse=True), ds)
    for p in run.points:
        s = json.loads((tmp_path / "runs" / p.key / "summary.json").read_text())
        assert (s["config"]["act"], s["config"]["hidden"], s["config"]["seed"]) == \
            (p.config.act, list(p.config.hidden), p.config.seed)


def test_failed_points_are_kept_with_the_reason_and_rerun_only_when_asked(tmp_path, spec, ds):
    bad = "relu depth=2 seed=1"
    run = run_study(spec, tmp_path, Recording(ds, fail={bad}), ds)
    assert run.count("failed") == 1 and "1 failed" in run.summary()
    key = next(p.key for p in run.points if p.label == bad)
    s = json.loads((tmp_path / "runs" / key / "summary.json").read_text())
    assert s["status"] == "failed" and s["message"] == "RuntimeError: worker lost"
    ex = Recording(ds)
    run_study(spec, tmp_path, ex, ds)
    assert ex.asked == [[]]
    run = run_study(spec, tmp_path, ex, ds, retry_failed=True)
    assert ex.asked[-1] == [bad] and run.count("failed") == 0 and dirs(tmp_path).count(key) == 1


def test_cancelled_points_are_not_written_and_run_next_time(tmp_path, spec, ds):
    cut = "tanh depth=1 seed=0"
    run = run_study(spec, tmp_path, Recording(ds, cancel_at=cut), ds)
    assert run.left == 1 and run.count("completed") == 11
    assert len(dirs(tmp_path)) == 11
    ex = Recording(ds)
    run_study(spec, tmp_path, ex, ds)
    assert ex.asked == [[cut]] and len(dirs(tmp_path)) == 12


def test_a_diverged_point_is_a_result_unless_asked_again(tmp_path, ds):
    spec = parse_spec('[base]\noptimizer = "sgd"\nlr = 1e30\nhidden = [8]\nepochs = 2\n[[parts]]\nact = "linear"\n')
    run = run_study(spec, tmp_path, Recording(ds), ds)
    assert run.count("diverged") == 1 and run.summary() == "1 points: 1 done (1 diverged), 0 failed, 0 left"
    ex = Recording(ds)
    run_study(spec, tmp_path, ex, ds)
    assert ex.asked == [[]]
    run_study(spec, tmp_path, ex, ds, retry_diverged=True)
    assert ex.asked[-1] == ["linear"]


def test_cancel_stops_before_the_next_point_and_events_arrive(tmp_path, spec, ds):
    cancel = threading.Event()

    class Stop(StudyEvents):
        def __init__(self):
            self.seen = []

        def on_point_start(self, study, point):
            self.seen.append(("start", point.label))

        def on_point_end(self, study, point, result):
            self.seen.append(("end", point.label, result.status))
            cancel.set()

    ev = Stop()
    run = run_study(spec, tmp_path, SerialExecutor(load=lambda c: ds), ds, events=ev, cancel=cancel)
    first = run.points[0].label
    assert ev.seen == [("start", first), ("end", first, "completed")] and run.left == 11


def test_a_changed_spec_reuses_its_points_and_other_data_is_refused(tmp_path, spec, ds, idx_data):
    run_study(parse_spec(SPEC.replace("[0, 1, 2]", "[0]"), "tiny.toml"), tmp_path, Recording(ds), ds)
    ex = Recording(ds)
    run = run_study(spec, tmp_path, ex, ds)
    assert len(ex.asked[0]) == 8 and run.count("completed") == 12  # seeds 1 and 2 only
    other = load_dataset(data_dir=idx_data(210, 50, shape=(6, 6)), download=False, progress=False)
    with pytest.raises(StudyError, match="holds a study run on custom:"):
        run_study(spec, tmp_path, Recording(other), other)


def test_one_runner_per_directory(tmp_path, spec, ds):
    (tmp_path / "runs").mkdir()
    with _locked(tmp_path):
        with pytest.raises(StudyError, match="another fastact study is running in"):
            run_study(spec, tmp_path, Recording(ds), ds)


def test_partial_directories_of_a_killed_write_are_cleaned(tmp_path, spec, ds):
    (tmp_path / "runs" / ".tmp-abc-000000").mkdir(parents=True)
    (tmp_path / "runs" / ".tmp-abc-000000" / "config.json").write_text("{")
    run = run_study(spec, tmp_path, Recording(ds), ds)
    assert dirs(tmp_path) == sorted(p.key for p in run.points)


def test_analysis_groups_each_part_and_compares_within_activations(tmp_path, spec, ds):
    run_study(spec, tmp_path, Recording(ds), ds)
    study = analysis.load_study(tmp_path)
    acts, depth = study.spec.parts
    groups = analysis.part_groups(study, acts)
    assert [g.label for g in groups] == ["relu", "tanh"] and [len(g.runs) for g in groups] == [3, 3]
    comps = analysis.part_comparisons(acts, groups, "test_acc")
    assert [(c.group, c.baseline, c.n_pairs) for c in comps] == [("tanh", "relu", 3)]
    dgroups = analysis.part_groups(study, depth)
    assert [g.label for g in dgroups] == ["relu depth=1", "tanh depth=1", "relu depth=2", "tanh depth=2"]
    dcomps = analysis.part_comparisons(depth, dgroups, "test_acc")
    assert [(c.group, c.baseline) for c in dcomps] == [("relu depth=2", "relu depth=1"),
                                                       ("tanh depth=2", "tanh depth=1")]
    for c in dcomps:  # one Holm correction over both activations' comparisons
        assert c.significant == (c.holm_p < 0.05) and (c.verdict == "within noise") == (not c.significant)
    assert analysis.statement(dcomps[0]).startswith("relu depth=2 vs relu depth=1: test acc ")


def test_executors_are_registered_by_name_and_a_retried_point_still_exists_once(tmp_path, spec, ds):
    with pytest.raises(SettingsError, match="executor must be one of serial, dask. Received: executor='ray'"):
        tasks.make_executor("ray")

    class Twice(Recording):
        """Yields the first point twice, as an engine that retried it would."""

        def submit(self, tasks_, callbacks=None, cancel=None):
            for i, pair in enumerate(super().submit(tasks_, callbacks, cancel)):
                yield pair
                if i == 0:
                    yield pair

    tasks.EXECUTORS["twice"] = lambda **kw: Twice(ds, **kw)
    try:
        run = run_study(spec, tmp_path, tasks.make_executor("twice"), ds)
    finally:
        del tasks.EXECUTORS["twice"]
    assert dirs(tmp_path) == sorted(p.key for p in run.points) and run.count("completed") == 12


@pytest.mark.parametrize("damage, problem", [
    ("{", "not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ("[]", "holds a JSON array, expected an object"),
    ('{"status": 7}', "status is 7, expected a string"),
])
def test_a_malformed_run_folder_is_named_and_its_point_runs_again(tmp_path, spec, ds, damage, problem):
    run_study(spec, tmp_path, Recording(ds), ds)
    key = run_study(spec, tmp_path, Recording(ds), ds).points[0].key
    summary = tmp_path / "runs" / key / "summary.json"
    summary.write_text(damage)
    assert analysis.load_study(tmp_path).run.skipped == [f"{summary}: {problem}"]  # readers skip it, named
    again = Recording(ds)
    run = run_study(spec, tmp_path, again, ds)
    assert run.skipped == [f"{summary}: {problem}"]
    assert len(again.asked[0]) == 1  # that point alone runs again
    assert json.loads(summary.read_text())["status"] == "completed"
    assert analysis.load_study(tmp_path).run.skipped == []
