"""``--define`` on ``fastact train`` and ``fastact sweep``: defined activations get ``--act`` names, parameter
flags and sweep targets like the built-ins', their runs record the formula, and bad or hostile
definitions are one line, exit 2, with nothing evaluated."""

from __future__ import annotations

import json
import os
import re

import pytest

from fastact import activations
from fastact.nn import MLP

from clirun import run_cli

SWISH = "swishb = z * sigmoid(beta * z); beta = 1.0 > 0 learnable"
HSWISH = "hswish=z*clip(z+3,0,6)/6"


@pytest.fixture(scope="module")
def data_dir(idx_data):
    return idx_data(300, 60, shape=(8, 8))


def small(data_dir, out):
    return ["--hidden", "12", "--epochs", "1", "--batch-size", "32", "--data-dir", data_dir, "--out", str(out),
            "--quiet"]


def test_train_a_defined_activation_with_its_parameter_flag(capsys, data_dir, tmp_path):
    code, out, err = run_cli(capsys, "train", "--define", SWISH, "--define", HSWISH, "--act", "swishb", "hswish",
                             "relu", "--swishb-beta", "1.5", "--learnable", "shared", *small(data_dir, tmp_path))
    assert code == 0, err
    assert "defined: swishb: y = z * sigmoid(beta * z); beta = 1 > 0, learnable" in out
    assert "defined: hswish: y = z*clip(z+3,0,6)/6" in out
    runs = {json.loads((d / "config.json").read_text())["act"]: d for d in tmp_path.iterdir()}
    assert set(runs) == {"swishb", "hswish", "relu"}
    cfg = json.loads((runs["swishb"] / "config.json").read_text())
    assert cfg["define"] == {"name": "swishb", "formula": "z * sigmoid(beta * z)", "params": {"beta": 1.0},
                             "learnable": "beta", "rules": {"beta": "> 0"}, "init": "he"}
    assert cfg["act_params"] == {"beta": 1.5} and cfg["prelu"] == "shared"
    assert cfg["formula"] == "y = z * sigmoid(beta * z)" and cfg["formula_seconds"] >= 0
    assert cfg["model"]["define"] == cfg["define"]
    assert json.loads((runs["swishb"] / "summary.json").read_text())["config"]["define"] == cfg["define"]
    assert json.loads((runs["relu"] / "config.json").read_text())["define"] is None
    activations.ACTIVATIONS.pop("swishb")  # as in a fresh process: the model file defines it again
    model = MLP.load(runs["swishb"] / "model.npz")
    assert model.layers[0].alpha.shape == (1,) and activations.get("swishb").spec == cfg["define"]

    code, out, _ = run_cli(capsys, "report", str(tmp_path), "--no-charts")
    assert code == 0 and "defined: swishb: y = z * sigmoid(beta * z); beta = 1 > 0, learnable" in out
    assert "│ swishb " in out and "│ hswish " in out


def test_the_run_header_reports_the_formulas_compile_time(capsys, data_dir, tmp_path):
    argv = small(data_dir, tmp_path)
    argv.remove("--quiet")
    code, out, err = run_cli(capsys, "train", "--define", HSWISH, "--act", "hswish", *argv)
    assert code == 0, err
    text = " ".join(out.split())  # the console wraps at 120 columns
    assert re.search(r"hswish seed 0 -> \S+ \(kernels ready in \d+\.\ds; formula derived and generated in "
                     r"\d+\.\d\ds\)", text), text


def test_a_sweep_of_a_defined_parameter_in_worker_processes(capsys, data_dir, tmp_path):
    # A LocalCluster's worker processes have only the configs: each carries the definition, defined again there.
    code, out, err = run_cli(capsys, "sweep", "swishb-beta", "--values", "0.5,2", "--define", SWISH,
                             "--executor", "dask", "--workers", "2", *small(data_dir, tmp_path))
    assert code == 0, err
    assert "dask: starting a LocalCluster of 2 worker processes on this machine" in out, out
    assert "Sweep of swishb-beta" in out
    cfgs = [json.loads((d / "config.json").read_text()) for d in tmp_path.iterdir()]
    assert sorted(c["act_params"]["beta"] for c in cfgs) == [0.5, 2.0]
    assert all(c["act"] == "swishb" and c["define"]["formula"] == "z * sigmoid(beta * z)" for c in cfgs)


MARK = "/tmp/fastact-define-must-not-exist"


@pytest.mark.parametrize("argv, message", [
    (["--define", "z * sigmoid(z)"], "--define: expected NAME = FORMULA"),
    (["--define", "relu = max(z, 0)"], "--define: 'relu' is a built-in activation; choose another name"),
    (["--define", "h = z * bta; beta = 1"], "--define: h: unknown name 'bta' at position 5. Valid: names z, u, pi, "
                                            "beta"),
    (["--define", "h = z; beta = 1"], "--define: h: parameter 'beta' is declared but not used"),
    (["--define", "h = 3 * u"], "--define: h: formula '3 * u' does not use z"),
    (["--define", "h = z * b; b = 0 > 0"], "--define: h: default of 'b' must be > 0. Received: b=0.0"),
    (["--define", "h = z", "--define", "h = 2 * z"], "--define: 'h' is already defined as 'z'"),
    (["--define", "batch = z * size; size = 1"], "--define: batch's parameter size would be the flag --batch-size, "
                                                 "which fastact train already has"),
    (["--define", "negative = z * slope; slope = 1"], "--define: negative: parameter option 'negative-slope' is "
                                                      "already leaky_relu's"),
    (["--act", "hswish"], "argument --act: invalid choice: 'hswish' (choose from linear"),
    (["--define", HSWISH, "--define", SWISH, "--swishb-beta", "2", "--act", "hswish"],
     "--swishb-beta is a parameter of swishb, which --act does not train"),
    (["--define", SWISH, "--act", "swishb", "--swishb-beta", "-1"], "--swishb-beta must be > 0. "
                                                                    "Received: swishb_beta=-1.0"),
    # hostile formulas: refused by the whitelisted parser, nothing evaluated
    (["--define", f"h = __import__('os').system('touch {MARK}')"], "name '__import__' starts with '_'"),
    (["--define", "h = z.__class__"], "attribute access is not part of the formula language"),
    (["--define", f"h = open('{MARK}', 'w')"], "'open' is not a known function"),
    (["--define", "h = (lambda: z)()"], "unknown name 'lambda'"),
    (["--define", "h = z ** 10 ** 10"], "exponent '10 ** 10' is too large"),
    (["--define", "h = " + "(" * 100 + "z" + ")" * 100], "nesting deeper than 32 levels"),
    (["--define", "h = z; b = 1; " + "; ".join(f"p{i} = 1" for i in range(20))], "at most 16 parameter clauses"),
    (["--define", "h = z\x1b]0;pwned\x07"], "a definition is printable ASCII text. Received: '\\x1b'"),
])
def test_bad_definitions_are_one_line_exit_2(capsys, tmp_path, argv, message):
    code, out, err = run_cli(capsys, "train", *argv, "--epochs", "1", "--out", str(tmp_path))
    assert code == 2 and err.startswith("fastact train: error: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir()) and not os.path.exists(MARK)


def test_defines_reach_fastact_sweep_targets(capsys, tmp_path):
    code, _, err = run_cli(capsys, "sweep", "hswish-k", "--values", "1", "--out", str(tmp_path))
    assert code == 2 and "argument TARGET: invalid choice: 'hswish-k'" in err
    code, _, err = run_cli(capsys, "sweep", "nonesuch", "--define", "hswish = z * k; k = 1", "--values", "1")
    assert code == 2 and "hswish-k" in err  # listed among the valid targets


def test_help_documents_the_syntax(capsys):
    code, out, _ = run_cli(capsys, "train", "--help")
    assert code == 0 and "NAME = FORMULA [; PARAM = DEFAULT [RULE] [learnable]]" in " ".join(out.split())
    assert "--learnable" in out


STUDY = '''
name = "defined"
seeds = [0]
[define]
hswish = "z * clip(z + 3, 0, 6) / 6"
[base]
hidden = [8]
epochs = 1
batch_size = 32
[[parts]]
name = "acts"
act = ["relu", "hswish", "swishb"]
'''


def test_a_study_spec_defines_its_activations_and_study_takes_define_too(capsys, data_dir, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(STUDY)
    out_dir = tmp_path / "st"
    code, out, err = run_cli(capsys, "study", str(spec), "--define", SWISH, "--data-dir", data_dir,
                             "--out", str(out_dir), "--quiet")
    assert code == 0, err
    text = " ".join(out.split())
    assert "defined: hswish: y = z * clip(z + 3, 0, 6) / 6" in text and "defined: swishb: y = z * sigmoid" in text
    assert "3 points: 3 done, 0 failed, 0 left" in text
    acts = {json.loads(p.read_text())["act"] for p in (out_dir / "runs").glob("*/config.json")}
    assert acts == {"relu", "hswish", "swishb"}


@pytest.mark.parametrize("define, message", [
    ('h = "__import__(\'os\').system(\'touch ' + MARK + '\')"', "s.toml: define.h must be a valid definition (h: name "
                                                            "'__import__' starts with '_'"),
    ('h = "exec(z)"', "s.toml: define.h must be a valid definition (h: 'exec' is not a known function"),
    ('h = "z ** 9 ** 9"', "exponent '9 ** 9' is too large"),
])
def test_a_hostile_formula_in_a_study_spec_is_one_line_exit_2(capsys, tmp_path, define, message):
    spec = tmp_path / "s.toml"
    spec.write_text(f'[define]\n{define}\n[[parts]]\nact = "relu"\n')
    code, out, err = run_cli(capsys, "study", str(spec), "--out", str(tmp_path / "o"))
    assert code == 2 and out == "" and err.startswith("fastact study: error: ") and message in err, err
    assert err.count("\n") == 1 and not (tmp_path / "o").exists() and not os.path.exists(MARK)


def test_report_sweeps_a_defined_parameter_of_saved_runs_in_a_fresh_process(capsys, data_dir, tmp_path):
    code, _, err = run_cli(capsys, "sweep", "swishb-beta", "--values", "0.5,2", "--define", SWISH,
                           *small(data_dir, tmp_path))
    assert code == 0, err
    activations.ACTIVATIONS.pop("swishb")  # as a later `fastact report` process: only the files know it
    code, out, err = run_cli(capsys, "report", str(tmp_path), "--sweep", "swishb-beta", "--no-charts")
    assert code == 0 and "Sweep of swishb-beta" in out, err
    code, _, err = run_cli(capsys, "report", str(tmp_path), "--sweep", "nonesuch")
    assert code == 2 and "--sweep must be one of" in err and "swishb-beta" in err


def test_bench_takes_define_too(capsys):
    code, out, err = run_cli(capsys, "bench", "--define", HSWISH, "--act", "hswish", "--ops", "forward", "--impls",
                             "fastact,numpy", "--batch", "8", "--shape", "16,8", "--max-time", "0.01",
                             "--min-rounds", "1")
    assert code == 0, err
    assert "│ forward │ hswish │" in out and "skipped numpy hswish: numpy peer has no mapping for activation" in out
