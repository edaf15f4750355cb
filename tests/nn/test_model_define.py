"""A model of a defined activation: its file carries the definition, `MLP.load` rebuilds it through the
whitelisted parser, and a hostile formula in a model file is refused in one line without running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastact import activations
from fastact.nn import MLP

ROOT = Path(__file__).resolve().parents[2]
SPEC = {"name": "swishb", "formula": "z * sigmoid(beta * z)", "params": {"beta": 1.0}, "learnable": "beta",
        "rules": {"beta": "> 0"}, "init": "he"}


def trained(tmp_path, mode="unit"):
    activations.define(**SPEC)
    model = MLP([6, 5, 3], "swishb", "float64", seed=2, prelu=mode, beta=0.8)
    model.layers[0].alpha[...] += np.linspace(0, 0.3, model.layers[0].alpha.size)
    path = tmp_path / "m.npz"
    model.save(path)
    return model, path


def test_the_config_carries_the_definition(tmp_path):
    model, _ = trained(tmp_path)
    assert model.config()["define"] == SPEC and model.config()["act_params"] == {"beta": 0.8}
    assert "define" not in MLP([6, 5, 3], "relu").config()


@pytest.mark.parametrize("mode", ["unit", "shared"])
def test_load_in_a_fresh_process_rebuilds_the_activation(tmp_path, mode):
    model, path = trained(tmp_path, mode)
    x = np.random.default_rng(0).normal(size=(4, 6))
    np.save(tmp_path / "x.npy", x)
    code = ("import sys, numpy as np\nfrom fastact import MLP, activations\n"
            "assert 'swishb' not in activations.ACTIVATIONS\n"
            f"m = MLP.load({str(path)!r})\n"
            "print(activations.get('swishb').formula, m.prelu)\n"
            f"np.save({str(tmp_path / 'y.npy')!r}, m.predict_logits(np.load({str(tmp_path / 'x.npy')!r})))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.split("\n")[0] == f"y = z * sigmoid(beta * z) {mode}"
    assert np.array_equal(np.load(tmp_path / "y.npy"), model.predict_logits(x))


def test_load_in_this_process_is_the_same_model(tmp_path):
    model, path = trained(tmp_path)
    loaded = MLP.load(path)
    assert loaded.config() == model.config()
    assert all(np.array_equal(a.value, b.value) for a, b in zip(loaded.parameters(), model.parameters()))


def rewrite(path: Path, out: Path, **changes) -> Path:
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    cfg = json.loads(str(arrays.pop("config")))
    for key, value in changes.items():
        if key.startswith("define_"):
            cfg["define"][key[7:]] = value
        else:
            cfg[key] = value
    np.savez(out, config=np.array(json.dumps(cfg)), **arrays)
    return out


HOSTILE = [
    ("__import__('os').system('touch {marker}')", "name '__import__' starts with '_'"),
    ("z.__class__.__mro__", "attribute access is not part of the formula language"),
    ("exec('open(\"{marker}\", \"w\")')", "'exec' is not a known function"),
    ("(lambda: 0)()", "unknown name 'lambda'"),
    ("z ** 9 ** 9 ** 9", "exponent '9 ** 9' is too large"),
    ("(" * 500 + "z" + ")" * 500, "nesting deeper than 32 levels"),
    ("z * [beta][0]", "indexing is not part of the formula language"),
]


@pytest.mark.parametrize("formula, message", HOSTILE, ids=[h[1][:24] for h in HOSTILE])
def test_a_hostile_formula_in_a_model_file_is_refused_in_one_line(tmp_path, formula, message):
    _, path = trained(tmp_path)
    activations.ACTIVATIONS.pop("swishb")
    marker = tmp_path / "ran"
    bad = rewrite(path, tmp_path / "bad.npz", define_formula=formula.format(marker=marker))
    with pytest.raises(ValueError) as err:
        MLP.load(bad)
    text = str(err.value)
    assert text.startswith(f"{bad}: its activation cannot be defined: swishb: ") and message in text
    assert "\n" not in text and not marker.exists() and "swishb" not in activations.ACTIVATIONS


@pytest.mark.parametrize("changes, message", [
    (dict(define="z * 2"), "its config's 'define' is not the definition of its activation 'swishb'"),
    (dict(define_name="other"), "is not the definition of its activation"),
    (dict(define_code="print(1)"), "a definition is a mapping of name, formula, params, learnable, rules, init"),
    (dict(define_params={"beta": "1; import os"}), "parameter 'beta' needs a number as default"),
    (dict(define_params={"__class__": 1.0}, define_rules={}, define_learnable=None),
     "invalid parameter name '__class__'"),
    (dict(define_rules={"beta": "> __import__('os')"}), "unknown rule"),
    (dict(define_init="os.system"), "init must be one of he, glorot, lecun"),
    (dict(define_name="relu", act="relu"), "'relu' is a built-in activation"),
])
def test_a_bad_definition_in_a_model_file_names_the_file(tmp_path, changes, message):
    _, path = trained(tmp_path)
    activations.ACTIVATIONS.pop("swishb")
    bad = rewrite(path, tmp_path / "bad.npz", **changes)
    with pytest.raises(ValueError) as err:
        MLP.load(bad)
    assert str(err.value).startswith(str(bad)) and message in str(err.value) and "\n" not in str(err.value)


def test_a_model_file_cannot_redefine_a_name_this_process_defines_differently(tmp_path):
    _, path = trained(tmp_path)
    activations.define("swishb", "z * sigmoid(2 * beta * z)", {"beta": 1.0}, learnable="beta", replace=True)
    with pytest.raises(ValueError, match=r"m.npz: its activation cannot be defined: 'swishb' is already defined"):
        MLP.load(path)
