"""A study spec's ``[define]`` table: defined activations in grids like built-ins, the definition in every
point's config and key, a study directory that a fresh process resumes, bad or hostile ones named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fastact import activations
from fastact.data import load_dataset
from fastact.experiments import identity
from fastact.experiments.runner import run_study
from fastact.experiments.spec import SpecError, parse_spec
from fastact.experiments.tasks import SerialExecutor

ROOT = Path(__file__).resolve().parents[2]
SPEC = '''
name = "mine"
seeds = [0, 1]
[define]
hswish = "z * clip(z + 3, 0, 6) / 6"
swishb = "z * sigmoid(beta * z); beta = 1.0 > 0 learnable"
soft = { formula = "softplus(b * z) / b", params = { b = 2.0 }, rules = { b = "> 0" }, init = "glorot" }
[base]
hidden = [8]
epochs = 1
batch_size = 32
[[parts]]
name = "acts"
act = ["relu", "hswish", "soft"]
baseline = { act = "relu" }
[[parts]]
name = "beta"
swishb_beta = [0.5, 2]
'''


def test_defined_activations_and_their_parameters_make_grids():
    spec = parse_spec(SPEC, "mine.toml")
    assert activations.get("soft").spec == {"name": "soft", "formula": "softplus(b * z) / b", "params": {"b": 2.0},
                                            "learnable": None, "rules": {"b": "> 0"}, "init": "glorot"}
    points = spec.points()
    assert [(p.config.act, p.config.act_params) for p in points[::2]] == [
        ("relu", {}), ("hswish", {}), ("soft", {}), ("swishb", {"beta": 0.5}), ("swishb", {"beta": 2})]
    assert points[2].config.define == activations.get("hswish").spec and points[0].config.define is None
    assert [p.label for p in points[-2:]] == ["swishb beta=2 seed=0", "swishb beta=2 seed=1"]


def test_the_definition_is_part_of_the_run_key_and_an_absent_one_changes_no_key():
    activations.define("hswish", "z * clip(z + 3, 0, 6) / 6")
    base = {"act": "hswish", "hidden": [8], "seed": 0}
    a = identity.run_key({**base, "define": activations.get("hswish").spec})
    b = identity.run_key({**base, "define": {**activations.get("hswish").spec, "formula": "z * clip(z + 3, 0, 7) / 7"}})
    assert a != b
    relu = {"act": "relu", "hidden": [8], "seed": 0}
    assert identity.run_key(relu) == identity.run_key({**relu, "define": None})
    assert "define" not in identity.canonical(relu)


def test_a_learnable_defined_activation_keeps_its_prelu_mode_in_the_key():
    activations.define("swishb", "z * sigmoid(beta * z)", {"beta": 1.0}, learnable="beta")
    unit = {"act": "swishb", "define": activations.get("swishb").spec, "prelu": "unit"}
    assert identity.run_key(unit) != identity.run_key({**unit, "prelu": "shared"})
    activations.ACTIVATIONS.pop("swishb")  # a report in a process that never defined it: the same keys
    assert identity.run_key(unit) != identity.run_key({**unit, "prelu": "shared"})


@pytest.mark.parametrize("define, field, message", [
    ('h = "z * bta; beta = 1"', "define.h", "unknown name 'bta' at position 5"),
    ('h = "__import__(\'os\').system(\'x\')"', "define.h", "name '__import__' starts with '_'"),
    ('h = "z.__class__"', "define.h", "attribute access is not part of the formula language"),
    ('relu = "max(z, 0)"', "define.relu", "'relu' is a built-in activation"),
    ('h = { formula = "z * k", params = { k = 1.0 }, code = "x" }', "define.h.code",
     "must be one of formula, params, learnable, rules, init"),
    ('h = { formula = "z", init = "xavier" }', "define.h", "init must be one of he, glorot, lecun"),
    ('h = 3', "define.h", "must be a definition"),
])
def test_a_bad_definition_is_named_by_its_spec_field(define, field, message):
    text = f'[define]\n{define}\n[[parts]]\nact = "relu"\n'
    with pytest.raises(SpecError) as err:
        parse_spec(text, "bad.toml")
    assert err.value.field == field and message in str(err.value) and "\n" not in str(err.value)


def test_a_study_of_defined_activations_runs_and_a_fresh_process_resumes_it(idx_data, tmp_path):
    data = idx_data(120, 40, shape=(5, 5))
    ds = load_dataset(data_dir=data, download=False, progress=False)
    spec = parse_spec(SPEC, "mine.toml")
    run = run_study(spec, tmp_path, SerialExecutor(load=lambda c: ds), ds)
    assert run.count("completed") == len(spec.points()) == 10
    configs = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/config.json")]
    assert {c["define"]["name"] for c in configs if c["define"]} == {"hswish", "soft", "swishb"}
    code = ("from fastact.experiments.runner import open_study\nfrom fastact.experiments.spec import load_spec\n"
            f"spec = load_spec({str(tmp_path / 'spec.toml')!r})\n"
            f"run = open_study(spec, {str(tmp_path)!r}, dataset_name={run.dataset_name!r})\n"
            "print(run.summary())\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.strip() == "10 points: 10 done, 0 failed, 0 left", p.stdout  # the same keys: nothing left
