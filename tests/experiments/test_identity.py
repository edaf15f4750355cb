"""fastact.experiments.identity: run keys resolve what a run computes; labels show what varies."""

from __future__ import annotations

import pytest

from fastact.experiments import identity
from fastact.training import TrainConfig


def key(**kw):
    return identity.run_key(TrainConfig(**kw).to_dict())


def test_key_ignores_where_and_how_many_threads_and_defaults_are_resolved():
    base = key(act="leaky_relu")
    assert key(act="leaky_relu", out="elsewhere", threads=1, save_best=False) == base
    assert key(act="Leaky-ReLU", act_params={"negative_slope": 0.3}) == base  # the table's default
    assert key(act="leaky_relu", lr=0.001, hidden=[512]) == base  # 1e-3, a list: the same run
    assert identity.run_key({"act": "leaky_relu"}) == base  # a config.json from an older version
    assert len(base) == 16 and int(base, 16) >= 0


@pytest.mark.parametrize("change", [
    {"act": "relu"}, {"act_params": {"negative_slope": 0.2}}, {"hidden": (512, 512)}, {"hidden": (256,)},
    {"epochs": 2}, {"batch_size": 64}, {"lr": 0.01}, {"optimizer": "adamw"}, {"weight_decay": 1e-4},
    {"seed": 1}, {"val_split": 0.2}, {"dataset": "mnist"}, {"dtype": "float64"}, {"early_stopping": 3},
    {"monitor": "val_loss"}, {"min_delta": 0.01}, {"restore_best_weights": True},
])
def test_every_setting_that_changes_the_run_changes_the_key(change):
    assert key(**{"act": "leaky_relu", **change}) != key(act="leaky_relu")


def test_settings_that_cannot_matter_do_not_change_the_key():
    assert key(optimizer="adam", momentum=0.9) == key(optimizer="adam")  # Adam takes no momentum
    assert key(optimizer="sgd", momentum=0.9) != key(optimizer="sgd")
    assert key(act="relu", prelu="shared") == key(act="relu")
    assert key(act="prelu", prelu="shared") != key(act="prelu")


def test_varying_and_labels():
    relu = [TrainConfig(act="relu", hidden=(512,) * d, seed=s).to_dict() for d in (1, 3) for s in (0, 4)]
    v = identity.varying(relu)
    assert v == ["depth", "seed"]
    assert identity.label(relu[3], v) == "relu depth=3 seed=4"
    slopes = [TrainConfig(act="leaky_relu", act_params={"negative_slope": a}).to_dict() for a in (0.0, 0.2)]
    assert identity.varying(slopes) == ["negative_slope"]
    assert identity.label(slopes[1], identity.varying(slopes)) == "leaky_relu slope=0.2"
    mixed = [*relu[:1], *slopes]
    assert identity.varying(mixed) == ["act", "negative_slope"]
    assert [identity.label(c, identity.varying(mixed)) for c in mixed] == \
        ["relu", "leaky_relu slope=0", "leaky_relu slope=0.2"]
    assert identity.label(relu[0], []) == "relu"


def test_settings_are_flat_and_name_parameters_as_the_flags_do():
    s = identity.settings(TrainConfig(act="rrelu", hidden=(64, 32), act_params={"lower": 0.1}).to_dict())
    assert list(s)[:5] == ["act", "rrelu_lower", "rrelu_upper", "depth", "width"]
    assert s["rrelu_lower"] == 0.1 and s["depth"] == 2 and s["width"] == "64-32"
    assert "out" not in s and "threads" not in s and s["seed"] == 0
