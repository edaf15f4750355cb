"""fastact.experiments.grouping: a property test that grouping never merges different
configurations (random mixtures of live and saved runs), then ``where``, ``by`` and labels."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastact.errors import SettingsError
from fastact.experiments.grouping import group_runs, parse_where
from fastact.training import EpochRecord, RunResult, TrainConfig

# What the generator chooses, with the test's own notion of identity: Leaky ReLU's default slope
# is 0.3 (written or not), momentum matters only to SGD, unverified data is named by its files.
CHOICE = st.fixed_dictionaries({
    "act": st.sampled_from(["relu", "leaky_relu", "tanh"]),
    "slope": st.sampled_from([None, 0.3, 0.0, 0.2]),
    "depth": st.integers(1, 3),
    "epochs": st.sampled_from([2, 10]),
    "lr": st.sampled_from([1e-3, 0.001, 1e-2]),
    "optimizer": st.sampled_from(["adam", "sgd"]),
    "momentum": st.sampled_from([0.0, 0.9]),
    "seed": st.integers(0, 3),
    "threads": st.sampled_from([None, 1, 2]),
    "data": st.sampled_from(["a", "b"]),
    "saved": st.booleans(),
})


def expected_identity(c) -> tuple:
    slope = (0.3 if c["slope"] is None else c["slope"]) if c["act"] == "leaky_relu" else None
    return (c["act"], slope, c["depth"], c["epochs"], float(c["lr"]), c["optimizer"],
            c["momentum"] if c["optimizer"] == "sgd" else None, c["data"])


def make(i: int, c: dict):
    params = {"negative_slope": c["slope"]} if c["act"] == "leaky_relu" and c["slope"] is not None else {}
    cfg = TrainConfig(act=c["act"], act_params=params, hidden=(16,) * c["depth"], epochs=c["epochs"], lr=c["lr"],
                      optimizer=c["optimizer"], momentum=c["momentum"], seed=c["seed"], threads=c["threads"],
                      out=None)
    h = [EpochRecord(e, 1.0, 0.5, 1.0, 0.4, 1.0, 1.0) for e in range(1, 3)]
    data = {"name": "custom", "checksums": {"train-images.gz": "unverified"},
            "files": {"train_images": f"/data/{c['data']}/train-images.gz"}, "n_train": 90, "n_val": 10}
    r = RunResult(cfg, f"run{i}", None, h, 0.3, 0.5, "completed", "", "custom", meta={"data": data})
    if not c["saved"]:
        return r
    return {"id": r.run_id, "dir": None, "config": cfg.to_dict(), "meta": {**cfg.to_dict(), "data": data},
            "history": [vars(x) for x in h], "status": "completed", "summary": {"test_acc": 0.5, "dataset": "custom"}}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CHOICE, min_size=1, max_size=25))
def test_grouping_never_merges_different_configurations(choices):
    runs = [make(i, c) for i, c in enumerate(choices)]
    ident = {f"run{i}": expected_identity(c) for i, c in enumerate(choices)}
    groups = group_runs(runs)
    ids = [r["id"] for g in groups for r in g.runs]
    assert sorted(ids) == sorted(ident)  # every run in exactly one group
    for g in groups:
        assert len({ident[r["id"]] for r in g.runs}) == 1  # never two configurations in a group
        assert g.mixed == []
    assert len({ident[g.runs[0]["id"]] for g in groups}) == len(groups)  # one group per configuration
    assert len({g.label for g in groups}) == len(groups)  # labels tell them apart


@settings(max_examples=60, deadline=None)
@given(st.lists(CHOICE, min_size=1, max_size=20), st.sampled_from(["relu", "tanh|relu"]), st.integers(1, 3))
def test_where_keeps_exactly_the_matching_runs(choices, act, depth):
    runs = [make(i, c) for i, c in enumerate(choices)]
    kept = {r["id"] for g in group_runs(runs, where={"act": act, "depth": str(depth)}) for r in g.runs}
    assert kept == {f"run{i}" for i, c in enumerate(choices) if c["act"] in act.split("|") and c["depth"] == depth}


@settings(max_examples=60, deadline=None)
@given(st.lists(CHOICE, min_size=2, max_size=20))
def test_group_by_merges_on_request_and_says_what_is_mixed(choices):
    runs = [make(i, c) for i, c in enumerate(choices)]
    for g in group_runs(runs, by=["act"]):
        members = [choices[int(r["id"][3:])] for r in g.runs]
        assert len({m["act"] for m in members}) == 1 and g.label.startswith(members[0]["act"])
        assert ("depth" in g.mixed) == (len({m["depth"] for m in members}) > 1)
        assert ("epochs" in g.mixed) == (len({m["epochs"] for m in members}) > 1)
        assert "seed" not in g.mixed


def fake(act, seed, hidden=(16,), epochs=2, **params):
    cfg = TrainConfig(act=act, seed=seed, hidden=hidden, epochs=epochs, act_params=params, out=None)
    return RunResult(cfg, f"{act}{seed}{hidden}{epochs}{params}", None, [], None, None, "completed", "", "x")


def test_labels_show_what_differs_between_groups():
    runs = [fake("relu", s, (16,) * d) for d in (1, 3) for s in (0, 1)] + [fake("tanh", 0)]
    groups = group_runs(runs)
    assert [g.label for g in groups] == ["relu depth=1", "relu depth=3", "tanh depth=1"]
    assert [len(g.runs) for g in groups] == [2, 2, 1] and groups[1].settings["depth"] == 3
    assert "seed" not in groups[0].settings
    slopes = group_runs([fake("leaky_relu", 0, negative_slope=a) for a in (0.0, 0.5)])
    assert [g.label for g in slopes] == ["leaky_relu slope=0", "leaky_relu slope=0.5"]
    assert [g.label for g in group_runs([fake("relu", 0), fake("relu", 1)])] == ["relu"]
    # an epochs mix is never averaged: two groups, told apart
    assert [g.label for g in group_runs([fake("rrelu", 0, epochs=10), fake("rrelu", 1, epochs=2)])] == \
        ["rrelu epochs=10", "rrelu epochs=2"]


def test_where_and_by_reject_unknown_settings():
    with pytest.raises(SettingsError, match="where must be a setting: one of act, "):
        group_runs([fake("relu", 0)], where={"colour": "red"})
    with pytest.raises(SettingsError, match="group_by must be a setting"):
        group_runs([fake("relu", 0)], by=["nope"])
    assert parse_where("act=relu, depth=3") == {"act": "relu", "depth": "3"}
    assert parse_where("negative-slope=0.1") == {"negative_slope": "0.1"}
    with pytest.raises(SettingsError, match="where must be name=value pairs"):
        parse_where("act")
