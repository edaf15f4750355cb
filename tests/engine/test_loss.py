"""Fused softmax cross-entropy (`fastact.engine.loss`) against `tests/naive.py`.

Tolerances: float64 rtol 1e-12 (atol 1e-15 on gradients of O(1/B));
float32 logits rtol 1e-6 / atol 1e-6 on per-row losses of O(1) (the kernel
accumulates in float64, so only the logits' rounding is left).
"""

from __future__ import annotations

import numpy as np
import pytest

import fastact
from fastact.engine.loss import softmax_xent

import naive

TOL = {"float64": dict(rtol=1e-12, atol=1e-15), "float32": dict(rtol=1e-6, atol=1e-6)}


def engine_xent(logits, labels, want_grad=True):
    n, c = logits.shape
    dlogits = np.zeros_like(logits)
    row_loss = np.zeros(n, np.float64)
    row_ok = np.zeros(n, np.int8)
    softmax_xent(logits, labels, 1.0 / n, dlogits, row_loss, row_ok, want_grad)
    return row_loss, dlogits.astype(np.float64), row_ok.astype(bool)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n, c", [(1, 1), (1, 10), (7, 2), (64, 10), (65, 37)])
def test_matches_reference(n, c, dtype):
    rng = np.random.default_rng(n * c)
    logits = rng.normal(0, 3, (n, c)).astype(dtype)
    labels = rng.integers(0, c, n)
    loss, grad, ok = engine_xent(logits, labels)
    ref_loss, ref_grad, ref_ok = naive.softmax_xent(logits.astype(np.float64), labels)
    np.testing.assert_allclose(loss, ref_loss, **TOL[dtype])
    np.testing.assert_allclose(grad, ref_grad, **TOL[dtype])
    assert np.array_equal(ok, ref_ok)


def test_gradient_matches_central_differences():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    _, grad, _ = engine_xent(logits, labels)
    h = 1e-6
    fd = np.empty_like(logits)
    for idx in np.ndindex(logits.shape):
        up, down = logits.copy(), logits.copy()
        up[idx] += h
        down[idx] -= h
        fd[idx] = (engine_xent(up, labels)[0].mean() - engine_xent(down, labels)[0].mean()) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stable_for_logits_of_1e4(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [-1e4, 1e4, 1e4]], dtype)
    labels = np.array([1, 2, 0, 0])
    loss, grad, _ = engine_xent(logits, labels)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()
    # By hand: 2e4; log 3; log 2; 2e4 + log 2.
    np.testing.assert_allclose(loss, [2e4, np.log(3), np.log(2), 2e4 + np.log(2)], rtol=1e-12)
    np.testing.assert_allclose(grad * 4, [[1, -1, 0], [1 / 3, 1 / 3, -2 / 3], [-0.5, 0.5, 0], [-1, 0.5, 0.5]],
                               atol=1e-12)


@pytest.mark.parametrize("scale", [1e4, 1e17, 1e30])
def test_loss_keeps_its_log_term_for_huge_equal_logits(scale):
    # loss = log(sum exp(s - m)) + (m - s_t): with s_t == m the bracket is exactly 0,
    # so the loss is log(C) at any scale; (log(...) + m) - s_t rounds it away.
    logits = np.full((2, 3), scale)
    loss, _, _ = engine_xent(logits, np.array([0, 2]))
    np.testing.assert_allclose(loss, np.log(3), rtol=1e-12)


def test_correct_count_breaks_ties_like_argmax():
    # Ties go to the first maximum, as np.argmax (and torch.argmax) do.
    logits = np.array([[2.0, 2.0, 1.0], [2.0, 2.0, 1.0], [0.0, 0.0, 0.0]])
    _, _, ok = engine_xent(logits, np.array([0, 1, 0]))
    assert ok.tolist() == [True, False, True]


def test_loss_only_leaves_gradient_untouched():
    logits = np.random.default_rng(1).normal(size=(4, 3))
    n = 4
    dlogits = np.full((4, 3), 7.0)
    row_loss = np.zeros(n)
    softmax_xent(logits, np.array([0, 1, 2, 0]), 1.0 / n, dlogits, row_loss, np.zeros(n, np.int8), False)
    assert (dlogits == 7.0).all()
    np.testing.assert_allclose(row_loss, naive.softmax_xent(logits, np.array([0, 1, 2, 0]))[0], rtol=1e-12)


def test_model_loss_sums_rows_and_fills_mean_gradient():
    model = fastact.MLP([3, 4], dtype="float64")
    logits = np.random.default_rng(2).normal(size=(9, 4))
    labels = np.arange(9) % 4
    total, correct = model.loss(logits, labels, want_grad=True)
    ref_loss, ref_grad, ref_ok = naive.softmax_xent(logits, labels)
    assert total == pytest.approx(ref_loss.sum(), rel=1e-12)
    assert correct == ref_ok.sum()
    np.testing.assert_allclose(model._dlogits[:9], ref_grad, rtol=1e-12, atol=1e-15)


# ---- labels the loss cannot index ----------------------------------------------------------
# The kernel indexes logits[i, label] unchecked, so the model must reject such
# labels at the edge (the first row is used so an unchecked write stays in the buffer).
@pytest.mark.parametrize("bad", [3, -1])
def test_train_step_rejects_out_of_range_labels(bad):
    model = fastact.MLP([4, 5, 3], dtype="float64")
    before = [p.value.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=f"Received: .*{bad}"):
        model.train_step(np.ones((2, 4)), np.array([bad, 0]), fastact.SGD(lr=0.1))
    for p, b in zip(model.parameters(), before):
        assert np.array_equal(p.value, b)


@pytest.mark.parametrize("bad", [3, -1])
def test_evaluate_rejects_out_of_range_labels(bad):
    model = fastact.MLP([4, 5, 3], dtype="float64")
    with pytest.raises(ValueError, match=f"Received: .*{bad}"):
        model.evaluate(np.ones((2, 4)), np.array([bad, 0]))


def test_evaluate_rejects_label_count_mismatch():
    model = fastact.MLP([4, 5, 3], dtype="float64")
    with pytest.raises(ValueError, match="Received: shape=\\(3,\\)"):
        model.evaluate(np.ones((2, 4)), np.array([0, 1, 2]))


def test_float_labels_raise_value_error():
    model = fastact.MLP([4, 5, 3], dtype="float64")
    with pytest.raises(ValueError, match="Received: .*float"):
        model.train_step(np.ones((2, 4)), np.array([0.0, 1.0]), fastact.SGD(lr=0.1))
