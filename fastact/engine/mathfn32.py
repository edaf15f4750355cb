"""float32 elementary functions at float32 accuracy, branch-free so LLVM vectorises them.

The algorithms of `fastact.engine.mathfn64` with lower-degree polynomials
and every constant a ``np.float32`` (a bare Python float is float64 in Numba
and promotes the whole expression), so a float32 argument is computed in
float32 throughout and a vector register holds twice the lanes:

    exp(x)   = 2**n * exp(r),  n = floor(x / ln2 + 1/2),  r = fma(-n, L2, fma(-n, L1, x))
               (L1 = float32(ln2), L2 = float32(ln2 - L1); the inner fma is exact)
    exp(r)-1 ~ r + r^2 P(r),   P of degree 4 (relative error of exp(r) - 1: 1.5e-8, |r| <= 0.35)
    expm1(x) = (2**n - 1) + 2**n * (exp(r) - 1), exact at n = 0 (no cancellation)

    log1p(t) = e*ln2 + log1p(f):  e = 0, f = t  if t <= sqrt2 - 1,  else e = 1, f = (t - 1) / 2
    log1p(f) = 2 atanh(s) = f - s (f - s^2 R(s^2)),  s = f / (2 + f),  |s| <= 0.1716  (as 2s = f - s f)
               R ~ (2 atanh(s)/s - 2) / s^2 of degree 2 (relative error 3e-7, which reaches
               the result scaled by s^2/3 <= 0.01)

    erf(x)   = x + x Y(x^2)        for |x| < 0.84375, Y ~ erf(x)/x - 1 of degree 5
               (relative error of erf 6.2e-9)
             = 1 - exp(-x^2) G(t)  for |x| < 4, t = (2|x| - 4.84375) / 3.15625 in [-1, 1],
               G ~ erfc(x) exp(x^2) of degree 9 in t (absolute error of erf 1.5e-9)
             = 1                   beyond (erfc(4) = 1.5e-8 is below half an ulp of 1)

    sigmoid(x) = 1 / (1 + exp(-x)),   tanh(x) = sign(x) t / (t + 2), t = expm1(2|x|),
    softplus(x) = max(x, 0) + log1p(exp(-|x|))

Writing log1p as ``f - s*(...)`` and erf as ``x + x*Y`` keeps the exact input
as the leading term, so the rounding inside the polynomial reaches the result
scaled down (log1p went from 3.6 to 0.8 ulp, erf from 2.4 to 1.0).

Fits: discrete minimax by linear programming over 4000 Chebyshev nodes,
against float64 references (Taylor sums for exp and atanh, SciPy's erf and
erfcx), coefficients rounded to float32 one at a time, lowest first, the
others refitted after each rounding.

Clamp: exp's argument is clamped to [-87, 87], so n stays in [-126, 126]
and 2**n is a normal float32, and 1/(1 + exp(87)) = 1.6e-38 (sigmoid, tanh)
is normal too: the vectorised reciprocal (``vrcpps``) flushes denormal
results to 0, and at a clamp of 88 tanh(43.7) came out 0. So exp(-1e4)
returns exp(-87) = 1.6e-38 instead of 0, exp(1e4) returns 6.1e37 instead
of inf, and sigmoid and softplus below -87 return 1.6e-38: every tail is
finite and normal.

``fma``, ``div`` and ``add`` (`fastact.engine.ieee32`) are the operations
the kernels' fastmath must not rewrite: exp's two-step reduction, the
quotients of sigmoid, tanh and log1p, and the final sums of expm1 (its
point is not to compute s*(1 + q) - 1) and softplus.
"""

from __future__ import annotations

import math

import numpy as np

from fastact.engine.ieee32 import add, div, fma
from fastact.engine.jit import scalar

f32 = np.float32

_ZERO, _HALF, _ONE, _TWO, _THREE = f32(0.0), f32(0.5), f32(1.0), f32(2.0), f32(3.0)
_LN2 = f32(math.log(2.0))
_LN2_LO = f32(math.log(2.0) - float(_LN2))
_INV_LN2 = f32(1.0 / math.log(2.0))
#: exp(87) = 6.1e37: its reciprocal (sigmoid, tanh) is still a normal float32.
_CLAMP = f32(87.0)
#: 2**n has the bits (n + 127) << 23; as a float product it is exact and converts in one instruction.
_EXP_BIAS, _MANTISSA = f32(127.0), f32(8388608.0)
_EXPM1_P = np.array([0.49999997, 0.16666542, 0.0416674316, 0.00836687349, 0.00138718577], dtype=np.float32)

_SQRT2_M1 = f32(math.sqrt(2.0) - 1.0)
_ATANH_R = np.array([0.666666865, 0.399890542, 0.29567343], dtype=np.float32)

_ERF_SPLIT, _ERF_ONE = f32(0.84375), f32(4.0)
_ERF_T_SCALE, _ERF_T_SHIFT = f32(2.0 / 3.15625), f32(4.84375 / 3.15625)
_ERF_NEAR = np.array([0.128379166, -0.376125932, 0.112829119, -0.0268095359, 0.00506188162, -0.000637496414],
                     dtype=np.float32)
_ERFCX_FAR = np.array([0.216770723, -0.123724811, 0.0669738352, -0.0346151441, 0.0178994592, -0.00680569187,
                       0.00373818493, -0.0053524971, -0.00400940841, -0.00249713077], dtype=np.float32)


@scalar
def _horner(c, t):
    """sum_k c[k] t^k (the loop has a constant trip count: LLVM unrolls it)."""
    p = c[len(c) - 1]
    for k in range(len(c) - 2, -1, -1):
        p = p * t + c[k]
    return p


@scalar
def _expm1_parts(x):
    """Return (2**n, exp(r) - 1) with x = n*ln2 + r, x clamped to [-87, 87]."""
    x = min(max(x, -_CLAMP), _CLAMP)
    n = np.floor(x * _INV_LN2 + _HALF)
    r = fma(-n, _LN2_LO, fma(-n, _LN2, x))
    q = r + r * r * _horner(_EXPM1_P, r)
    two_n = np.int32((n + _EXP_BIAS) * _MANTISSA).view(np.float32)
    return two_n, q


@scalar
def exp(x):
    """exp(x) for float32 x, clamped to [-87, 87]."""
    s, q = _expm1_parts(x)
    return s + s * q


@scalar
def expm1(x):
    """exp(x) - 1 without cancellation near 0."""
    s, q = _expm1_parts(x)
    return add(s - _ONE, s * q)


@scalar
def sigmoid(x):
    """1 / (1 + exp(-x)); the clamp in exp keeps both tails finite."""
    return div(_ONE, _ONE + exp(-x))


@scalar
def tanh(x):
    """sign(x) t / (t + 2) with t = expm1(2|x|), accurate near 0 too."""
    # |x| is capped where tanh is 1 already (t = exp(87)), so 2|x| cannot overflow.
    t = expm1(_TWO * min(abs(x), _HALF * _CLAMP))
    y = div(t, t + _TWO)
    return y if x >= _ZERO else -y


@scalar
def log1p_unit(t):
    """log(1 + t) for t in [0, 1], branch-free (both f computed, one selected)."""
    lo = t <= _SQRT2_M1
    f = t if lo else (t - _ONE) * _HALF
    s = div(f, _TWO + f)
    z = s * s
    # f itself is the leading term, so the rounding in s only reaches the small s (f - R) term.
    return (f - s * (f - z * _horner(_ATANH_R, z))) + (_ZERO if lo else _LN2)


@scalar
def softplus(x):
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), stable for all x."""
    return add(max(x, _ZERO), log1p_unit(exp(-abs(x))))


@scalar
def erf(x):
    """erf(x), branch-free (both ranges computed on clamped arguments, one selected)."""
    ax = abs(x)
    a = min(ax, _ERF_ONE)
    near = a + a * _horner(_ERF_NEAR, a * a)
    m = max(a, _ERF_SPLIT)
    far = _ONE - exp(-(m * m)) * _horner(_ERFCX_FAR, m * _ERF_T_SCALE - _ERF_T_SHIFT)
    r = near if ax < _ERF_SPLIT else (far if ax < _ERF_ONE else _ONE)
    return r if x >= _ZERO else -r
