"""Definition-time checks: z and parameters used, derivatives vs central differences, overflow warnings."""

from __future__ import annotations

import warnings

import pytest
import sympy as sp

from fastact.formula import (
    FormulaError,
    FormulaWarning,
    checks,
    compile_formula,
    compiled,
    symbolic,
)
from fastact.formula.grammar import parse

from formula_cases import formula_cache  # noqa: F401  (autouse fixture)


@pytest.fixture
def fresh(monkeypatch):
    """No reuse of earlier definitions (the checks run again)."""
    monkeypatch.setattr(compiled, "_CACHE", {})


def test_formula_without_z_is_refused():
    with pytest.raises(FormulaError, match=r"^noz: formula '2 \* u \+ 1' does not use z, the pre-activation\. "
                                           r"Valid: an expression in z, e\.g\. 'z \* sigmoid\(z\)'$"):
        compile_formula("noz", "2 * u + 1")


def test_unused_parameter_is_refused():
    with pytest.raises(FormulaError, match=r"^unused: parameter 'gamma' is declared but not used in the formula\. "
                                           r"Valid: use it, or leave it out of params \(used: beta, z\)$"):
        compile_formula("unused", "beta * z", {"beta": 1.0, "gamma": 2.0})


# ---- the finite-difference check ---------------------------------------------------------------------
def _skewed(real, which, factor):
    def derive(root, names, learnable):
        d = real(root, names, learnable)
        changes = {which: getattr(d, which) * factor}
        return symbolic.Derivation(**{**d.__dict__, **changes})
    return derive


def test_a_wrong_derivative_is_caught(monkeypatch, fresh):
    monkeypatch.setattr(symbolic, "derive", _skewed(symbolic.derive, "dz_y", sp.Rational(1001, 1000)))
    with pytest.raises(FormulaError, match=r"^internal error: fdwrong's generated d/dz is \S+ but central differences "
                                           r"give \S+ at z=-7\.31; please report this formula$"):
        compile_formula("fdwrong", "z * sigmoid(z)")


def test_a_wrong_parameter_gradient_is_caught(monkeypatch, fresh):
    monkeypatch.setattr(symbolic, "derive", _skewed(symbolic.derive, "dparam_y", sp.Rational(999, 1000)))
    with pytest.raises(FormulaError, match=r"^internal error: fdwrong2's generated d/dalpha is \S+ but central "
                                           r"differences give \S+ at z=-7\.31, alpha=0\.25; please report"):
        compile_formula("fdwrong2", "where(z > 0, z, alpha * z)", {"alpha": 0.25}, learnable="alpha")


def test_correct_derivatives_pass_at_every_point(fresh):
    f = compile_formula("fdok", "z * tanh(softplus(z))")
    assert f.fd_points == len(checks.FD_POINTS)
    r = compile_formula("fdu", "where(z > 0, z, (lo + (hi - lo) * u) * z)", {"lo": 0.1, "hi": 0.3})
    assert r.fd_points == len(checks.FD_POINTS) * len(checks.FD_U)


def test_points_at_a_kink_are_skipped(fresh):
    kinked = checks.FD_POINTS[10]
    f = compile_formula("fdkink", f"where(z > {kinked}, 2 * z, z)")
    assert f.fd_points == len(checks.FD_POINTS) - 1


def test_kink_pairs_cover_every_switch():
    root = parse("where(z > 1, abs(z), max(z, 2)) + clip(z, 0, 3) + sqrt(z) + log(z) + log1p(z) + 1 / z + z ** 0.5"
                 " + z ** 2")
    assert len(checks.kink_pairs(root)) == 10  # >, abs, max, clip x2, sqrt, log, log1p, /, ** 0.5 (not ** 2)
    pairs = checks.kink_pairs(parse("max(z, 1)"))
    assert checks.smooth_at(pairs, {"z": 2.0, "u": 0.5}, [{"z": 1.5}])
    assert not checks.smooth_at(pairs, {"z": 1.001, "u": 0.5}, [{"z": 0.999}])
    assert not checks.smooth_at(pairs, {"z": 1.0, "u": 0.5}, [])


# ---- the overflow warning -------------------------------------------------------------------------
def test_exp_overflows_float32_at_1e4(fresh):
    with pytest.warns(FormulaWarning) as record:
        f = compile_formula("growth", "exp(z)")
    assert len(record) == 1
    msg = str(record[0].message)
    assert msg == "formula 'growth': 'exp(z)' is 1.01e+304, beyond float32's largest value 3.4e+38 at z=10000"
    assert f.warning == msg and record[0].filename == __file__


def test_the_innermost_culprit_is_named(fresh):
    with pytest.warns(FormulaWarning, match=r"^formula 'inner': 'exp\(z \* z\)' is 1\.01e\+304, beyond float32's "
                                            r"largest value 3\.4e\+38 at z=-10000$"):
        compile_formula("inner", "log(1 + exp(z * z)) + z")


def test_not_a_number_is_named(fresh):
    with pytest.warns(FormulaWarning, match=r"^formula 'domain': 'log\(z\)' is nan at z=-10000$"):
        compile_formula("domain", "z * log(z)")
    with pytest.warns(FormulaWarning, match=r"^formula 'pole': '1 / z' is inf at z=0$"):
        compile_formula("pole", "1 / z")


def test_an_overflowing_derivative_is_named(fresh):
    with pytest.warns(FormulaWarning, match=r"^formula 'edge': its derivative d/dz is inf at z=-10000$"):
        compile_formula("edge", "sqrt(z + 10000)")


def test_parameters_and_u_are_part_of_the_place(fresh):
    with pytest.warns(FormulaWarning, match=r"^formula 'scaled': 'exp\(k \* z\)' is \S+, beyond float32's largest "
                                            r"value 3\.4e\+38 at z=10000, k=0\.01, u=0$"):
        compile_formula("scaled", "exp(k * z) * where(u > 0.9, 1, 0) + z", {"k": 0.01})


def test_a_where_branch_that_is_not_taken_does_not_warn(fresh):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = compile_formula("elu_like", "where(z > 0, z, expm1(z))")
        g = compile_formula("softplus_like", "where(z > 20, z, log1p(exp(z)))")
    assert f.warning is None and g.warning is None


def test_clamped_but_finite_values_inside_float32_do_not_warn(fresh):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = compile_formula("tails", "z * sigmoid(z) + tanh(z) + softplus(z) + erf(z) + exp(-z * z)")
    assert f.warning is None
