"""Shared test setup: the helper modules beside this file are importable (``idxgen``, ``naive``,
``clirun``, ``sandbox``) from every test folder, and the fixtures used across folders live here.

Test folders mirror the packages (``tests/engine`` tests ``fastact/engine`` ...); module names
stay unique across folders because pytest imports them by basename.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from idxgen import write_idx_dataset  # noqa: E402

#: The engine tests that also run as plain Python (``NUMBA_DISABLE_JIT=1``, tests/engine/test_nojit.py),
#: chosen by test name and parameter values (never by generated ids, which change when a
#: parametrisation does): small shapes covering relu, softplus, gelu, prelu and rrelu, dropout, the
#: loss, both optimizers, one whole training step, the RNG and the GEMM binding.
NOJIT = {
    "test_activations.py::test_forward_and_derivative_match_reference": [{"name": "relu", "dtype": "float64"}],
    "test_activations.py::test_derivative_matches_central_differences": [{"name": "softplus"}, {"name": "rrelu"}],
    "test_activations.py::test_prelu_slope_gradient_matches_central_differences": [{"shared": True}],
    "test_dense.py::test_gradients_match_central_differences": [{"name": "prelu"}, {"name": "rrelu"},
                                                                 {"name": "gelu"}],
    "test_loss.py::test_matches_reference": [{"n": 7, "c": 2, "dtype": "float64"}],
    "test_loss.py::test_stable_for_logits_of_1e4": [{"dtype": "float64"}],
    "test_optim.py::test_five_steps_match_reference": [
        {"kind": "sgd", "kw": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1), "dtype": "float64"},
        {"kind": "adamw", "kw": dict(lr=1e-2, weight_decay=0.1), "dtype": "float32"}],
    "test_model.py::test_train_step_matches_naive_mlp": [{"act": "rrelu", "opt_kind": "adam"},
                                                          {"act": "prelu", "opt_kind": "sgd"}],
    "test_dropout.py::test_forward_and_backward_match_numpy_given_the_mask": [{"name": "rrelu", "dtype": "float64"}],
    "test_rng.py::test_evaluation_uses_the_midpoint": [{"dtype": "float64"}],
    "test_rng.py::test_same_seed_and_step_reproduce_bitwise": [{}],
    "test_blas.py::test_gemm_on_tile_views_leaves_the_rest_untouched": [{"ta": False, "tb": True,
                                                                          "dtype": "float64"}],
}


def pytest_configure(config):
    config.addinivalue_line("markers", "nojit: also run with NUMBA_DISABLE_JIT=1 (tests/engine/test_nojit.py)")


def _nojit_case(item) -> bool:
    cases = NOJIT.get(f"{Path(str(item.fspath)).name}::{getattr(item, 'originalname', item.name)}", ())
    params = getattr(getattr(item, "callspec", None), "params", {})
    return any(all(k in params and params[k] == v for k, v in case.items()) for case in cases)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _nojit_case(item):
            item.add_marker(pytest.mark.nojit)


@pytest.fixture(scope="session", autouse=True)
def _formula_cache_dir(tmp_path_factory):
    """Generated formula modules go to this session's temporary directory, not ~/.cache (also for the
    CLI processes tests start, which inherit the environment)."""
    import os

    path = tmp_path_factory.getbasetemp() / "formulas"
    old = os.environ.get("FASTACT_FORMULA_CACHE")
    os.environ["FASTACT_FORMULA_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("FASTACT_FORMULA_CACHE", None)
    else:
        os.environ["FASTACT_FORMULA_CACHE"] = old


@pytest.fixture(autouse=True)
def _activation_table():
    """Every test starts and ends with the same activation table: what one defines (a formula, a
    ``--define``) is gone before the next, so lists generated from the table stay the built-ins'."""
    from fastact import activations

    saved = dict(activations.ACTIVATIONS)
    yield
    activations.ACTIVATIONS.clear()
    activations.ACTIVATIONS.update(saved)


@pytest.fixture(scope="session")
def idx_data(tmp_path_factory):
    """Factory ``idx_data(n_train, n_test, shape=..., **kw) -> str``: a directory holding the four
    MNIST-format files of a small learnable dataset (`idxgen.write_idx_dataset`), written once per
    set of arguments and shared by every test that asks for the same one."""
    made: dict[tuple, str] = {}

    def make(n_train: int = 600, n_test: int = 100, shape=(28, 28), **kw) -> str:
        key = (n_train, n_test, tuple(shape), tuple(sorted(kw.items())))
        if key not in made:
            d = tmp_path_factory.mktemp("idx")
            write_idx_dataset(d, n_train=n_train, n_test=n_test, shape=shape, **kw)
            made[key] = str(d)
        return made[key]

    return make


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory):
    """A real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1
    (`daskcluster.cluster`), started once for the session and killed at its end. The workers'
    working directory holds nothing, so a relative data path that resolves here does not there."""
    from daskcluster import cluster

    root = tmp_path_factory.mktemp("dask")
    (root / "worker-cwd").mkdir()
    with cluster(root / "logs", workers=2, cwd=root / "worker-cwd") as c:
        yield c
