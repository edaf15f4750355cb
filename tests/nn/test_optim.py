"""Optimizers (`fastact.nn.optim`) against the update rules in `tests/naive.py`.

Five steps with fresh random gradients each step, on a decayed and an
undecayed parameter. Tolerances: float64 rtol 1e-12 (atol 1e-14);
float32 rtol 1e-5 (atol 1e-6): the kernels run in the parameter's dtype.
"""

from __future__ import annotations

import numpy as np
import pytest

from fastact.nn import optim
from fastact.nn.optim import SGD, Adam, Parameter

import naive

TOL = {"float64": dict(rtol=1e-12, atol=1e-14), "float32": dict(rtol=1e-5, atol=1e-6)}

CASES = [
    ("sgd", dict(lr=0.1)),
    ("sgd", dict(lr=0.05, weight_decay=0.01)),
    ("sgd", dict(lr=0.05, momentum=0.9)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("adam", dict(lr=1e-3)),
    ("adam", dict(lr=1e-2, weight_decay=0.1)),
    ("adam", dict(lr=1e-2, beta1=0.5, beta2=0.9, eps=1e-6)),
    ("adamw", dict(lr=1e-2, weight_decay=0.1)),
]


def build(kind, kw):
    if kind == "sgd":
        return SGD(**kw), lambda p, g, s: naive.sgd_step(p, g, s, **kw)
    decoupled = kind == "adamw"
    return Adam(decoupled=decoupled, **kw), lambda p, g, s: naive.adam_step(p, g, s, decoupled=decoupled, **kw)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind, kw", CASES)
def test_five_steps_match_reference(kind, kw, dtype):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(7, 3)).astype(dtype)
    b = rng.normal(size=3).astype(dtype)
    dw, db = np.zeros_like(w), np.zeros_like(b)
    params = [Parameter("w", w, dw, decay=True), Parameter("b", b, db, decay=False)]
    opt, ref_step = build(kind, kw)
    ref_w, ref_b = w.astype(np.float64), b.astype(np.float64)
    state_w, state_b = {}, {}
    for step in range(1, 6):
        dw[...] = rng.normal(size=dw.shape)
        db[...] = rng.normal(size=db.shape)
        opt.step(params)
        assert opt.steps == step
        ref_w = ref_step(ref_w, dw.astype(np.float64), state_w)
        # The bias is excluded from weight decay: its reference runs with wd = 0.
        kw_b = {**kw, "weight_decay": 0.0}
        _, ref_step_b = build(kind, kw_b)
        ref_b = ref_step_b(ref_b, db.astype(np.float64), state_b)
        np.testing.assert_allclose(w, ref_w, **TOL[dtype], err_msg=f"w after step {step}")
        np.testing.assert_allclose(b, ref_b, **TOL[dtype], err_msg=f"b after step {step}")


def test_weight_decay_acts_only_on_decayed_parameters():
    # With a zero gradient, SGD + wd shrinks p by (1 - lr wd); an excluded parameter stays put.
    p = np.ones(4)
    q = np.ones(4)
    params = [Parameter("w", p, np.zeros(4), True), Parameter("alpha", q, np.zeros(4), False)]
    SGD(lr=0.5, weight_decay=0.1).step(params)
    np.testing.assert_allclose(p, 0.95, rtol=1e-15)
    assert (q == 1.0).all()


def test_adam_first_step_moves_each_coordinate_by_lr():
    # Bias correction makes step 1's update lr * g / (|g| + eps) = lr * sign(g).
    p = np.zeros(5)
    g = np.array([3.0, -0.2, 0.1, -50.0, 7.0])
    Adam(lr=0.01).step([Parameter("w", p, g)])
    np.testing.assert_allclose(p, -0.01 * np.sign(g), rtol=1e-6)


def test_state_is_kept_per_parameter():
    a, b = np.zeros(3), np.zeros(3)
    ga, gb = np.ones(3), -np.ones(3)
    opt = SGD(lr=1.0, momentum=0.5)
    for _ in range(3):
        opt.step([Parameter("a", a, ga), Parameter("b", b, gb)])
    # v: 1, 1.5, 1.75 -> p = -(1 + 1.5 + 1.75)
    np.testing.assert_allclose(a, -4.25, rtol=1e-15)
    np.testing.assert_allclose(b, 4.25, rtol=1e-15)


@pytest.mark.parametrize("name, cls, decoupled", [("sgd", SGD, None), ("adam", Adam, False),
                                                   ("ADAMW", Adam, True)])
def test_get_builds_by_name(name, cls, decoupled):
    opt = optim.get(name, lr=0.1, weight_decay=0.01)
    assert isinstance(opt, cls) and opt.lr == 0.1 and opt.weight_decay == 0.01
    if decoupled is not None:
        assert opt.decoupled is decoupled


@pytest.mark.parametrize("make, bad", [
    (lambda: SGD(lr=0.0), "lr=0.0"),
    (lambda: SGD(lr=-1), "lr=-1"),
    (lambda: SGD(lr=float("nan")), "lr=nan"),
    (lambda: SGD(lr=0.1, momentum=1.0), "momentum=1.0"),
    (lambda: SGD(lr=0.1, nesterov=True), "momentum=0"),
    (lambda: SGD(lr=0.1, weight_decay=-0.1), "weight_decay=-0.1"),
    (lambda: Adam(lr=0.1, beta1=1.0), "beta1=1.0"),
    (lambda: Adam(lr=0.1, beta2=-0.5), "beta2=-0.5"),
    (lambda: Adam(lr=0.1, eps=0.0), "eps=0.0"),
    (lambda: optim.get("rmsprop", lr=0.1), "rmsprop"),
])
def test_bad_arguments_name_the_value(make, bad):
    with pytest.raises(ValueError, match="Received: .*" + bad) as info:
        make()
    if "rmsprop" in bad:
        assert "adamw" in str(info.value)


@pytest.mark.parametrize("lr", [np.float32(0.1), np.float64(0.1), np.int64(1)])
def test_numpy_scalar_hyperparameters_are_accepted(lr):
    # A learning rate from a NumPy sweep (np.linspace, np.logspace) is a positive number.
    opt = SGD(lr=lr)
    assert opt.lr == pytest.approx(float(lr))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_state_never_goes_subnormal(dtype):
    # A dead unit's momentum decays as mu^t through the subnormal range, where arithmetic takes
    # the CPU's slow path: state below the smallest normal number is stored as 0 instead.
    tiny = np.finfo(dtype).tiny
    p, g = np.zeros(2, dtype), np.array([4 * tiny, 1.0], dtype)
    sgd = SGD(lr=1e-3, momentum=0.5)
    param = Parameter("w", p, g)
    sgd.step([param])
    g[...] = 0.0
    (m, _), = sgd._state.values()
    sgd.step([param])
    sgd.step([param])
    np.testing.assert_array_equal(m[0], np.array([tiny, 0.25], dtype))  # 4 tiny -> 2 tiny -> tiny
    sgd.step([param])
    np.testing.assert_array_equal(m[0], np.array([0.0, 0.125], dtype))  # tiny / 2 would be subnormal
    # Adam's second moment (1 - beta2) g^2 of a tiny gradient is subnormal from the first step.
    adam = Adam(lr=1e-3)
    q, gq = np.zeros(2, dtype), np.array([np.sqrt(tiny) / 4, 1.0], dtype)
    adam.step([Parameter("w", q, gq)])
    (am, av), = adam._state.values()
    assert av[0, 0] == 0.0 and av[0, 1] > 0 and am[0, 0] != 0
    for a in (am, av):
        assert not ((a != 0) & (np.abs(a) < tiny)).any()
