"""float64 elementary functions, branch-free so LLVM vectorises them.

Called through `fastact.engine.mathfn`, which picks these for float64
arguments and `fastact.engine.mathfn32` for float32 ones. libm's ``exp`` and
``log1p`` stay scalar inside Numba loops (about 4 ns per element here); these
vectorise (about 0.5 ns per element) at float64 accuracy:

    exp(x)   = 2**n * exp(r),   n = round(x / ln2),  r = x - n*ln2,  |r| <= ln2/2
    exp(r)   ~ degree-11 Taylor polynomial (truncation < 1e-14 relative)
    expm1(x) = (2**n - 1) + 2**n * (exp(r) - 1), exact at n = 0 (no cancellation)

    log1p(t) = e*ln2 + 2 atanh(s),  for t in [0, inf):
               e = 0, s = t / (2 + t)        when t <= sqrt2 - 1
               e = 1, s = (t - 1) / (t + 3)  otherwise (log((1+t)/2) + ln2), |s| <= 0.172
    2 atanh(s) ~ 2 (s + s^3/3 + ... + s^21/21)  (truncation < 1e-16 relative)

    erf(x)   = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))   for |x| < 0.84375 (17 terms)
             = 1 - exp(-x^2) g(x)                               for |x| < 6, where
    g(x)     = erfc(x) exp(x^2) is smooth: degree-18 Chebyshev fits on [0.84375, 2.5] and
               [2.5, 6] (fitted to libm's erfc; max relative error 2e-15 and 1.1e-14)
             = 1                                                beyond (erfc(6) = 2e-17)

``2**n`` is built from its IEEE-754 bits. Inputs are clamped to [-700, 700],
so the results stay finite (exp(-1e4) returns ~1e-304 instead of 0).

Under the kernels' fastmath, LLVM folds the reduction's two-part ln2
(``(x - n*_LN2_HI) - n*_LN2_LO``) into one constant, so exp's error grows
with |x|: 9.4e-15 relative up to |x| = 30 (the Taylor truncation), 3.2e-14
at the clamp (8.8e-15 without ``reassoc``). Kept as it is: changing it
would change every float64 result; `fastact.engine.mathfn32` uses an fma.
The measured errors are listed in `fastact.engine.mathfn` and checked by
``tests/test_mathfn.py``.
"""

from __future__ import annotations

import math

import numpy as np

from fastact.engine.jit import scalar

_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10
_INV_LN2 = 1.4426950408889634
_CLAMP = 700.0


@scalar
def _expm1_parts(x):
    """Return (2**n, exp(r) - 1) with x = n*ln2 + r."""
    x = min(max(x, -_CLAMP), _CLAMP)
    n = math.floor(x * _INV_LN2 + 0.5)
    r = (x - n * _LN2_HI) - n * _LN2_LO
    q = r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (
        1.0 / 120 + r * (1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (
            1.0 / 362880 + r * (1.0 / 3628800 + r * (1.0 / 39916800)))))))))))
    two_n = np.int64((np.int64(n) + 1023) << 52).view(np.float64)
    return two_n, q


@scalar
def exp(x):
    """exp(x) for float64 x, clamped to [-700, 700]."""
    s, q = _expm1_parts(x)
    return s + s * q


@scalar
def expm1(x):
    """exp(x) - 1 without cancellation near 0."""
    s, q = _expm1_parts(x)
    return (s - 1.0) + s * q


@scalar
def sigmoid(x):
    """1 / (1 + exp(-x)); the clamp in exp keeps both tails finite."""
    return 1.0 / (1.0 + exp(-x))


@scalar
def tanh(x):
    """tanh(x) = sign(x) * (1 - 2 / (exp(2|x|) + 1)), computed via expm1:
    t = expm1(2|x|),  tanh(|x|) = t / (t + 2), accurate near 0 too."""
    t = expm1(2.0 * abs(x))
    y = t / (t + 2.0)
    return y if x >= 0 else -y


@scalar
def log1p_unit(t):
    """log(1 + t) for t in [0, 1], branch-free (both s computed, one selected)."""
    lo = t <= 0.41421356237309503
    s = t / (2.0 + t) if lo else (t - 1.0) / (t + 3.0)
    s2 = s * s
    p = 1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 * (
        1.0 / 13 + s2 * (1.0 / 15 + s2 * (1.0 / 17 + s2 * (1.0 / 19 + s2 * (1.0 / 21))))))))))
    return 2.0 * s * p + (0.0 if lo else _LN2_HI + _LN2_LO)


@scalar
def softplus(x):
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), stable for all x."""
    return max(x, 0.0) + log1p_unit(exp(-abs(x)))


_ERF_TAYLOR = np.array([2.0 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(17)])
_ERFC_NEAR = np.array([
    0.3184194471082225, -0.12764549693948696, 0.023500937628318484, -0.004033270177345933,
    0.0006519102226491032, -9.999437147143226e-05, 1.4640595212594405e-05, -2.0556633362749978e-06,
    2.7783975102747643e-07, -3.626153896174954e-08, 4.582001874217155e-09, -5.618278285997195e-10,
    6.697920115085694e-11, -7.776935900911493e-12, 8.807853061969576e-13, -9.74236332071754e-14,
    1.049822598599677e-14, -1.0967379490548268e-15, 3.669555444133808e-17,
])
_ERFC_FAR = np.array([
    0.14016047004976137, -0.05677604943259734, 0.011209463278240399, -0.002161116617095473,
    0.00040747765264847314, -7.523771561693302e-05, 1.3620051895507968e-05, -2.4198114237671295e-06,
    4.2232281346756274e-07, -7.246499553240362e-08, 1.2233728863100505e-08, -2.033447298576728e-09,
    3.3298258887879564e-10, -5.374936653970993e-11, 8.556927775450777e-12, -1.344216959663857e-12,
    2.084622829852461e-13, -3.1925494365387036e-14, 4.8198482940477265e-15,
])


@scalar
def _chebyshev(c, t):
    """sum_k c[k] T_k(t) by Clenshaw's recurrence."""
    b1 = 0.0
    b2 = 0.0
    for k in range(len(c) - 1, 0, -1):
        b1, b2 = 2.0 * t * b1 - b2 + c[k], b1
    return t * b1 - b2 + c[0]


@scalar
def erf(x):
    """erf(x), branch-free (every range computed, one selected) so it vectorises."""
    ax = abs(x)
    x2 = ax * ax
    p = 0.0
    for k in range(len(_ERF_TAYLOR) - 1, -1, -1):
        p = p * x2 + _ERF_TAYLOR[k]
    near = _chebyshev(_ERFC_NEAR, (2.0 * min(max(ax, 0.84375), 2.5) - 3.34375) / 1.65625)
    far = _chebyshev(_ERFC_FAR, (2.0 * min(max(ax, 2.5), 6.0) - 8.5) / 3.5)
    erfc = exp(-x2) * (near if ax < 2.5 else far)
    r = ax * p if ax < 0.84375 else (1.0 - erfc if ax < 6.0 else 1.0)
    return r if x >= 0 else -r
