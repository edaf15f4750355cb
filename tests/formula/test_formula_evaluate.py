"""Plain-float evaluation of formula trees: NumPy/SciPy reference table, kernel table, IEEE rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from fastact.formula import tree as t
from fastact.formula.evaluate import KERNEL, LIBM, evaluate
from fastact.formula.grammar import parse


@pytest.mark.parametrize("text, expected", [
    ("z * sigmoid(z)", 1.5 * special.expit(1.5)),
    ("softplus(z)", np.logaddexp(0.0, 1.5)),
    ("erf(z) + tanh(z) + log1p(z) + expm1(z)", math.erf(1.5) + math.tanh(1.5) + math.log1p(1.5) + math.expm1(1.5)),
    ("clip(z, 0, 1) + min(z, 1) + max(z, 2) + abs(-z)", 1.0 + 1.0 + 2.0 + 1.5),
    ("where(z > 1 & not z > 2, beta, 0) * pi", 3.0 * math.pi),
    ("z ** 2 / 4 - 1", 1.5 ** 2 / 4 - 1),
])
def test_reference_values(text, expected):
    assert evaluate(parse(text, ("beta",)), {"z": 1.5, "u": 0.5, "beta": 3.0}, LIBM) == pytest.approx(expected,
                                                                                                     rel=1e-15)


def test_ieee_rules_instead_of_exceptions():
    assert evaluate(parse("1 / z"), {"z": 0.0}, LIBM) == math.inf
    assert math.isnan(evaluate(parse("log(z)"), {"z": -1.0}, LIBM))
    assert math.isnan(evaluate(parse("z ** (1 / 3)"), {"z": -8.0}, LIBM))
    assert evaluate(parse("10 ** z"), {"z": 400.0}, LIBM) == math.inf


def test_kernel_table_clamps_exp_like_the_kernels():
    root = parse("exp(z)")
    assert evaluate(root, {"z": 1e4}, LIBM) == math.inf
    assert evaluate(root, {"z": 1e4}, KERNEL) == pytest.approx(math.exp(700.0), rel=1e-13)


def test_visit_sees_children_first_and_only_the_taken_branch():
    seen = []
    evaluate(parse("where(z > 0, exp(z), log(z))"), {"z": 2.0}, LIBM, lambda node, v: seen.append(t.unparse(node)))
    assert seen == ["z", "0", "z", "exp(z)", "where(z > 0, exp(z), log(z))"]
