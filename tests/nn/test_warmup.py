"""`fastact.nn.warmup`: the kernels a set of runs needs, compiled in parallel processes into the
disk cache, then loaded; nothing is left for the first training step to compile.

The cold-cache case runs in a subprocess with ``NUMBA_CACHE_DIR`` pointed at an empty folder
(helpers inherit it), so it compiles for real; no assertion is about time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fastact.nn import warmup
from fastact.nn.warmup import Job

ROOT = Path(__file__).resolve().parents[2]


def test_jobs_are_what_runs_of_these_activations_use_largest_first():
    got = warmup.jobs(["relu", "RReLU", "relu"], "float32", "adamw")
    assert got == [Job("backward", "", "float32"), Job("forward", "", "float32"),
                   Job("epilogues", "relu", "float32"), Job("epilogues", "rrelu", "float32"),
                   Job("epilogues", "linear", "float32"), Job("loss", "", "float32"),
                   Job("rule", "adam", "float32")]
    assert warmup.jobs(["linear"], "float64", "sgd")[-1] == Job("rule", "sgd", "float64")


def test_runs_with_dropout_need_the_dropout_epilogues_of_their_hidden_activations_only():
    got = warmup.jobs(["relu", "sigmoid"], "float32", "sgd", dropout=True)
    assert [j for j in got if j.kind == "epilogues"] == [
        Job("epilogues", "relu", "float32", True), Job("epilogues", "sigmoid", "float32", True),
        Job("epilogues", "linear", "float32", False)]  # the output layer is never dropped
    assert str(got[2]) == "epilogues relu +dropout (float32)"


def test_a_dropout_job_prepares_the_epilogues_a_dropout_layer_runs():
    from fastact import activations
    from fastact.engine import dense
    from fastact.engine.jit import address
    from fastact.nn import Dense

    job = Job("epilogues", "tanh", "float32", True)
    warmup.run(job)
    assert warmup.cached(job)  # what the job compiled is in the disk cache under the names it probes
    layer = Dense(3, 2, "tanh", dropout=0.5)
    expected = dense.epilogues(activations.get("tanh"), "float32", True)
    assert (layer._epi_forward_at, layer._epi_backward_at) == tuple(address(k) for k in expected)


def test_jobs_name_a_bad_optimizer_or_dtype():
    with pytest.raises(ValueError, match="optimizer must be one of sgd, adam, adamw. Received: optimizer='rmsprop'"):
        warmup.jobs(["relu"], "float32", "rmsprop")
    with pytest.raises(ValueError, match="Received: dtype='float16'"):
        warmup.jobs(["relu"], "float16", "sgd")


def test_warm_cache_is_only_loaded():
    acts = ["relu", "leaky_relu"]
    warmup.prepare_kernels(acts, processes=1)
    report = warmup.prepare_kernels(acts)
    assert report.compiled == [] and report.processes == 1
    assert all(warmup.cached(j) for j in report.jobs)
    assert report.summary().startswith("kernels loaded from the cache")


COLD = """
import json, sys
import numpy as np
import fastact
from fastact.engine import dense, loss
from fastact.nn import warmup
report = warmup.prepare_kernels(["relu", "sigmoid"], processes=2)
before = [len(d.signatures) for d in dense.drivers()] + [len(loss.softmax_xent.signatures)]
m = fastact.MLP([4, 3, 2], "sigmoid")
m.train_step(np.ones((2, 4), np.float32), np.array([0, 1]), fastact.Adam(lr=0.1))
after = [len(d.signatures) for d in dense.drivers()] + [len(loss.softmax_xent.signatures)]
print(json.dumps({"jobs": len(report.jobs), "compiled": len(report.compiled), "processes": report.processes,
                  "helpers_failed": report.helpers_failed,
                  "cached": all(warmup.cached(j) for j in report.jobs), "before": before, "after": after,
                  "summary": report.summary()}))
"""


def run_cold(cache: Path) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    p = subprocess.run([sys.executable, "-c", COLD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_cold_cache_compiles_in_parallel_and_leaves_nothing_for_the_first_step(tmp_path):
    first = run_cold(tmp_path)
    assert first["jobs"] == first["compiled"] == 7  # 2 drivers, 3 epilogue pairs, loss, rule
    assert first["processes"] == min(2, os.cpu_count() or 1, warmup.max_threads())
    assert first["helpers_failed"] == 0
    assert first["cached"]
    # The drivers and the loss were compiled for exactly the types a training step passes.
    assert first["before"] == first["after"] == [1, 1, 1]
    assert "7 of 7 compiled" in first["summary"]
    second = run_cold(tmp_path)
    assert second["compiled"] == 0 and second["cached"] and second["after"] == [1, 1, 1]
