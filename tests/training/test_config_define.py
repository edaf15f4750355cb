"""`TrainConfig.define`: a config of a defined activation carries its definition, so a saved run or a
worker process rebuilds it; what a bad one breaks is named like any other setting."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from fastact import activations
from fastact.errors import SettingsError
from fastact.training import TrainConfig, train
from fastact.training import runs as saved

SPEC = {"name": "hswish", "formula": "z * clip(z + k, 0, 6) / 6", "params": {"k": 3.0}, "learnable": None,
        "rules": {"k": "> 0"}, "init": "he"}


def test_filled_in_from_the_table_and_kept_consistent_by_replace():
    activations.define(**SPEC)
    c = TrainConfig(act="hswish")
    assert c.define == SPEC and TrainConfig(act="HSwish").define == SPEC
    assert replace(c, act="relu").define is None
    assert replace(TrainConfig(act="relu"), act="hswish").define == SPEC
    assert TrainConfig().define is None and TrainConfig(act="nonesuch").define is None


def test_a_config_from_a_dict_defines_its_activation_in_a_process_that_lacks_it():
    activations.define(**SPEC)
    d = TrainConfig(act="hswish", act_params={"k": 2.5}).to_dict()
    activations.ACTIVATIONS.pop("hswish")
    c = TrainConfig.from_dict(json.loads(json.dumps(d)))
    assert c.define == SPEC and c.problems() == []
    assert activations.get("hswish").spec == SPEC and activations.get("hswish").resolve(k=2.5) == {"k": 2.5}


@pytest.mark.parametrize("define, rule", [
    ({**SPEC, "formula": "z * kk"}, "define must be a valid definition (hswish: unknown name 'kk' at position 5"),
    ({**SPEC, "params": {"k": -1.0}}, "define must be a valid definition (hswish: default of 'k' must be > 0"),
    ({**SPEC, "extra": 1}, "define must be a valid definition (a definition is a mapping of name, formula, params, "
                           "learnable, rules, init (name and formula required)"),
    ("z * 2", "define must be a valid definition (a definition is a mapping of"),
])
def test_a_bad_definition_is_a_settings_error_on_define(define, rule):
    found = TrainConfig(act="hswish", define=define).problems()
    assert found[0].field == "define" and str(found[0]).startswith(rule), str(found[0])
    assert "\n" not in str(found[0])
    assert found[1].field == "act"  # and so the activation is unknown


def test_a_definition_conflicting_with_this_process_is_named():
    activations.define(**{**SPEC, "formula": "z * clip(z + k, 0, 6) / 7"})
    with pytest.raises(SettingsError, match=r"^define must be a valid definition \('hswish' is already defined"):
        TrainConfig(act="hswish", define=SPEC).validate()


def test_run_files_record_the_definition_and_the_formula(idx_data, tmp_path):
    activations.define(**SPEC)
    result = train(TrainConfig(act="hswish", hidden=(8,), epochs=1, data_dir=idx_data(200, 50, shape=(6, 6)),
                               out=str(tmp_path)))
    assert result.status == "completed", result.message
    run = saved.load_run(result.run_dir)
    assert run["config"]["define"] == SPEC and run["summary"]["config"]["define"] == SPEC
    assert run["meta"]["formula"] == "y = z * clip(z + k, 0, 6) / 6" and run["meta"]["formula_seconds"] >= 0
    assert run["meta"]["model"]["define"] == SPEC
