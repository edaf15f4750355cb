"""MLP.predict / predict_proba: against an independent NumPy forward pass, against `evaluate`,
batched, in both dtypes, and one clear error per bad input."""

from __future__ import annotations

import numpy as np
import pytest

from fastact.nn import MLP

import naive


def reference_logits(model: MLP, x) -> np.ndarray:
    """The network in float64 NumPy from its weights: relu hidden layers, a linear output."""
    h = np.asarray(x, np.float64)
    for layer in model.layers[:-1]:
        h = naive.relu(h @ layer.w.astype(np.float64) + layer.b.astype(np.float64))
    last = model.layers[-1]
    return h @ last.w.astype(np.float64) + last.b.astype(np.float64)


def softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    return rng.normal(size=(301, 12)), rng.integers(0, 5, 301)


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-5), ("float64", 1e-12)])
def test_predict_proba_matches_a_numpy_forward_pass(data, dtype, tol):
    x, _ = data
    model = MLP([12, 16, 9, 5], "relu", dtype, seed=1)
    p = model.predict_proba(x)
    assert p.dtype == np.float64 and p.shape == (301, 5)
    np.testing.assert_allclose(p, softmax(reference_logits(model, x)), rtol=tol, atol=tol)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    assert np.array_equal(model.predict(x), np.argmax(reference_logits(model, x), axis=1))


def test_predict_agrees_with_evaluate(data):
    x, y = data
    model = MLP([12, 16, 5], "rrelu", seed=2)  # RReLU: both use the evaluation-mode midpoint slope
    loss, acc = model.evaluate(x, y)
    pred = model.predict(x)
    assert pred.dtype == np.int64 and pred.shape == (301,)
    assert np.mean(pred == y) == acc
    p = model.predict_proba(x)
    assert np.mean(-np.log(p[np.arange(len(y)), y])) == pytest.approx(loss, rel=1e-5)
    assert np.array_equal(np.argmax(p, axis=1), pred)


@pytest.mark.parametrize("batch_size", [1, 7, 300, 301, 5000])
def test_batching_does_not_change_the_answer(data, batch_size):
    x, _ = data
    model = MLP([12, 16, 5], "relu", "float64", seed=4)
    np.testing.assert_array_equal(model.predict(x, batch_size=batch_size), model.predict(x))
    np.testing.assert_allclose(model.predict_proba(x, batch_size=batch_size), model.predict_proba(x),
                               rtol=1e-15, atol=1e-15)


def test_array_likes_and_empty_input():
    model = MLP([3, 4, 2], seed=0)
    assert model.predict([[0.0, 1.0, 2.0]]).tolist() == model.predict(np.array([[0, 1, 2]], np.int64)).tolist()
    assert model.predict(np.zeros((0, 3))).shape == (0,)
    assert model.predict_proba(np.zeros((0, 3))).shape == (0, 2)


BAD = [
    (np.zeros(3), "expected x of shape (batch, 3); for one sample pass x[None]. Received: shape=(3,)"),
    (np.zeros((2, 4)), "expected x of shape (batch, 3). Received: shape=(2, 4)"),
    (np.zeros((2, 3, 1)), "expected x of shape (batch, 3). Received: shape=(2, 3, 1)"),
    ([["a", "b", "c"]], "x must hold numbers. Received: dtype=<U1"),
]


@pytest.mark.parametrize("x,message", BAD, ids=[m.split(".")[0] for _, m in BAD])
@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_bad_input_is_one_line_naming_it(x, message, method):
    model = MLP([3, 4, 2], seed=0)
    with pytest.raises(ValueError) as err:
        getattr(model, method)(x)
    assert str(err.value) == message


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=f"^batch_size must be a positive integer. Received: batch_size={batch_size}"):
        MLP([3, 4, 2]).predict(np.zeros((2, 3)), batch_size=batch_size)
