"""Vectorisable elementary functions for the kernels' epilogues, in the argument's precision.

``exp``, ``expm1``, ``sigmoid``, ``tanh``, ``log1p_unit`` (log(1 + t) for t
in [0, 1]), ``softplus`` (log(1 + exp(x))) and ``erf`` compute in float32
when their argument is float32 (`fastact.engine.mathfn32`) and in float64
otherwise (`fastact.engine.mathfn64`); each module's docstring states its
math. libm's versions stay scalar inside Numba loops; these are branch-free
so LLVM vectorises the epilogues.

The choice is made at compile time: each public name is a plain Python
function (which dispatches on ``isinstance(x, np.float32)``, so the
interpreted path under ``NUMBA_DISABLE_JIT=1`` computes the same thing)
with a `numba.extending.overload` that hands Numba the float32 or the
float64 implementation for the argument's type, inlined into the caller
(``inline="always"``, so the caller's fastmath flags apply and a
``cache=True`` kernel caches the inlined code).

Python float literals are float64, so ``z * 0.7071`` with a float32 ``z``
is float64 and would take the float64 path: ``same(z, v)`` casts ``v`` to
``z``'s precision, e.g. ``erf(z * same(z, _INV_SQRT_2))``.

Errors, measured by ``tests/test_mathfn.py`` in the kernels' fastmath code
(float64: relative error against NumPy/SciPy; float32: float32 ulps of the
float64 reference at the same input, over every 2048th float32 bit pattern
and a dense grid): the largest seen, and the bound the tests hold.

    function     float64 rel. error     float32 ulps    float32 clamp
    exp          3.2e-14  (4e-14)  *    1.03  (1.5)     [-87, 87]
    expm1        3.0e-14  (4e-14)  +    1.50  (2)       [-87, 87]
    sigmoid      2.3e-14  (3e-14)  *    2.14  (2.5)     x >= -87
    tanh         2.4e-14  (3e-14)  +    2.38  (3)       -
    log1p_unit   4.8e-16  (6e-16)       0.74  (1.5)     t in [0, 1]
    softplus     3.2e-14  (4e-14)  *    1.67  (2)       x >= -87
    erf          1.7e-15  (2.5e-15)     1.00  (1.5)     1 from |x| = 4

float64 clamps at [-700, 700] (erf is 1 from |x| = 6). * grows with |x|
under fastmath (see `fastact.engine.mathfn64`); exp is 9.4e-15 for
|x| <= 30. + largest at |r| = ln2/2, where exp(r)'s Taylor truncation
(6e-15) is taken relative to expm1(r) = 0.41. Beyond a clamp the functions
return their value at the clamp (exp(-1e4) = exp(-700) or exp(-87)), so
every tail is finite. The interpreted float32 path (IEEE arithmetic, no fma
contraction) stays within the same bounds (log1p_unit: 1.4 ulp).
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from fastact.engine import mathfn32, mathfn64

__all__ = ["erf", "exp", "expm1", "log1p_unit", "same", "sigmoid", "softplus", "tanh"]

_REAL = (types.Float, types.Integer)


def _public(name: str, doc: str):
    """The dispatching function ``name``: mathfn32's for float32 arguments, mathfn64's otherwise."""
    f32, f64 = getattr(mathfn32, name), getattr(mathfn64, name)

    def fn(x):
        # np.float32(...): a jitted function called from Python returns a Python float.
        return np.float32(f32(x)) if isinstance(x, np.float32) else f64(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    fn.__doc__ = doc

    @overload(fn, inline="always")
    def _typed(x):
        if x == types.float32:
            return lambda x: f32(x)
        if isinstance(x, _REAL):
            return lambda x: f64(x)
        return None

    return fn


exp = _public("exp", "exp(x); the argument is clamped (float64 [-700, 700], float32 [-87, 87]).")
expm1 = _public("expm1", "exp(x) - 1 without cancellation near 0; clamped as `exp`.")
sigmoid = _public("sigmoid", "1 / (1 + exp(-x)); finite in both tails.")
tanh = _public("tanh", "tanh(x) = sign(x) t / (t + 2), t = expm1(2|x|).")
log1p_unit = _public("log1p_unit", "log(1 + t) for t in [0, 1].")
softplus = _public("softplus", "log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), stable for all x.")
erf = _public("erf", "erf(x); exactly +-1 from |x| = 6 (float64) or 4 (float32).")


def same(z, v):
    """``v`` in ``z``'s precision: float32 if ``z`` is float32, else float64 (identity for float64 ``v``)."""
    return np.float32(v) if isinstance(z, np.float32) else np.float64(v)


@overload(same, inline="always")
def _same_typed(z, v):
    if not isinstance(v, _REAL):
        return None
    if z == types.float32:
        return lambda z, v: np.float32(v)
    if isinstance(z, _REAL):
        return lambda z, v: np.float64(v)
    return None
