"""`fastact.engine.mathfn` against float64 references: every error bound its docstring states.

The functions run where the kernels run them: inlined into a small njit loop
over an array, compiled with the kernels' flags (fastmath, numpy error
model), plus the interpreted path (``NUMBA_DISABLE_JIT=1``) in a subprocess.

* float64: relative error against NumPy/SciPy (libm-accurate, < 1e-16) on
  dense grids over the clamped range, log-uniform magnitudes down to 1e-300,
  and the edges of every range.
* float32: error in float32 ulps of the float64 reference evaluated at the
  same float32 input, where ulp(y) = 2^(e - 23) for |y| in [2^e, 2^(e+1)),
  e >= -126 (2^-149 for denormals). Inputs: every 512th (log1p_unit) or
  2048th float32 bit pattern of both signs, denormals and the largest finite
  values included, plus a dense grid on [-10, 10].
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from scipy import special

from fastact.engine import ieee32, mathfn64
from fastact.engine import mathfn as fm

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["exp", "expm1", "sigmoid", "tanh", "log1p_unit", "softplus", "erf"]
REFERENCE = {
    "exp": np.exp, "expm1": special.expm1, "sigmoid": special.expit, "tanh": np.tanh,
    "log1p_unit": special.log1p, "softplus": lambda x: np.logaddexp(0.0, x), "erf": special.erf,
}
#: Where each bound holds (beyond, exp's argument is clamped): float64, float32.
DOMAIN = {
    "float64": {"exp": (-700, 700), "expm1": (-700, 700), "sigmoid": (-700, np.inf), "softplus": (-700, np.inf),
                "log1p_unit": (0, 1)},
    "float32": {"exp": (-87, 87), "expm1": (-87, 87), "sigmoid": (-87, np.inf), "softplus": (-87, np.inf),
                "log1p_unit": (0, 1)},
}
#: The module docstring's table: float64 relative error, float32 ulps.
REL64 = {"exp": 4e-14, "expm1": 4e-14, "sigmoid": 3e-14, "tanh": 3e-14, "log1p_unit": 6e-16, "softplus": 4e-14,
         "erf": 2.5e-15}
ULP32 = {"exp": 1.5, "expm1": 2.0, "sigmoid": 2.5, "tanh": 3.0, "log1p_unit": 1.5, "softplus": 2.0, "erf": 1.5}


def _loop(f):
    # The kernels' flags (fastact.engine.jit), without the disk cache.
    @numba.njit(nogil=True, fastmath=True, error_model="numpy")
    def run(x, out):
        for i in range(x.size):
            out[i] = f(x[i])

    return run


LOOPS = {name: _loop(getattr(fm, name)) for name in NAMES}


def compiled(name, x):
    out = np.empty_like(x)
    LOOPS[name](x, out)
    return out


def ulps(y, ref):
    """|y - ref| in float32 ulps of ref (see the module docstring)."""
    e = np.frexp(ref)[1] - 1
    return np.abs(np.asarray(y, np.float64) - ref) / np.ldexp(1.0, np.maximum(e, -126) - 23)


def rel_err(y, ref):
    return np.abs(y - ref) / np.maximum(np.abs(ref), 1e-300)


def in_domain(name, x, dtype):
    lo, hi = DOMAIN[dtype].get(name, (-np.inf, np.inf))
    return (x >= lo) & (x <= hi)


def within(name, x, dtype):
    return x[in_domain(name, x, dtype)]


def grid64(name):
    if name == "log1p_unit":
        return np.concatenate([np.linspace(0.0, 1.0, 1_000_001), np.geomspace(1e-300, 1.0, 10_000)])
    rng = np.random.default_rng(1)
    mags = np.exp(rng.uniform(math.log(1e-300), math.log(700.0), 500_000))
    return np.concatenate([np.linspace(-700, 700, 1_000_001), np.linspace(-10, 10, 1_000_001),
                           mags, -mags, [0.0, -0.0, 700.0, -700.0]])


def grid32(name):
    if name == "log1p_unit":
        return np.arange(0, 0x3F800001, 512, dtype=np.int64).astype(np.int32).view(np.float32)
    bits = np.arange(0, 0x7F800000, 2048, dtype=np.int64).astype(np.int32).view(np.float32)
    largest = np.finfo(np.float32).max
    return np.concatenate([bits, -bits, np.linspace(-10, 10, 1_000_001, dtype=np.float32),
                           np.float32([largest, -largest, 87, -87])])


# ---- float64 --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_float64_relative_error(name):
    x = within(name, grid64(name), "float64")
    err = rel_err(compiled(name, x), REFERENCE[name](x))
    worst = int(np.argmax(err))
    assert err[worst] <= REL64[name], f"{name}: {err[worst]:.3g} at x={x[worst]!r}"


def test_float64_exp_within_30_is_within_the_taylor_truncation():
    # Beyond |x| ~ 30 the error grows as |x| * 4.6e-17: fastmath folds the two-part ln2 of the
    # reduction into one constant (mathfn64's docstring); inside, the degree-11 Taylor bound rules.
    x = np.linspace(-30, 30, 1_000_001)
    assert rel_err(compiled("exp", x), np.exp(x)).max() < 1e-14


def test_float64_expm1_keeps_relative_accuracy_near_zero():
    tiny = np.geomspace(1e-300, 1e-3, 20_000)
    x = np.concatenate([tiny, -tiny, np.linspace(-1e-6, 1e-6, 20_001)])
    x = x[x != 0]
    assert rel_err(compiled("expm1", x), special.expm1(x)).max() < 6e-16
    assert compiled("expm1", np.array([0.0]))[0] == 0.0


@pytest.mark.parametrize("lo, hi, bound", [(0.0, 0.84375, 1e-15), (0.84375, 2.5, 2.5e-15), (2.5, 6.0, 2.5e-15)])
def test_float64_erf_on_each_range(lo, hi, bound):
    x = np.linspace(lo, hi, 200_001)[:-1]
    x = np.concatenate([x, -x])
    assert rel_err(compiled("erf", x), special.erf(x)).max() < bound


@pytest.mark.parametrize("edge", [0.84375, 2.5, 6.0])
def test_float64_erf_is_continuous_across_range_boundaries(edge):
    x = np.array([np.nextafter(edge, 0.0), edge, np.nextafter(edge, 10.0), edge - 1e-9, edge + 1e-9])
    x = np.concatenate([x, -x])
    got = compiled("erf", x)
    assert rel_err(got, np.array([math.erf(v) for v in x])).max() < 2.5e-15


def test_float64_erf_is_exactly_one_beyond_six():
    x = np.array([6.0, 6.5, 27.0, 1e4, 1e300])
    assert np.array_equal(compiled("erf", x), np.ones(5))
    assert np.array_equal(compiled("erf", -x), -np.ones(5))


def test_float64_tails_are_finite_and_clamped():
    big = np.array([700.0, 1e4, 1e300])
    e = compiled("exp", np.concatenate([-big, big]))
    assert np.all(e[:3] == e[0]) and np.all(e[3:] == e[3])
    assert e[0] == pytest.approx(math.exp(-700), rel=4e-14) and e[3] == pytest.approx(math.exp(700), rel=4e-14)
    assert compiled("expm1", np.array([-1e4]))[0] == -1.0
    s = compiled("sigmoid", np.array([-1e4, 1e4]))
    assert s[1] == 1.0 and 0.0 < s[0] == pytest.approx(math.exp(-700), rel=4e-14)
    assert np.array_equal(compiled("tanh", np.array([-1e4, -700.0, 700.0, 1e4])), [-1.0, -1.0, 1.0, 1.0])
    p = compiled("softplus", np.array([-1e4, 1e4]))
    assert p[1] == 1e4 and 0.0 < p[0] == pytest.approx(math.exp(-700), rel=4e-14)
    assert np.array_equal(compiled("erf", np.array([-1e4, 1e4])), [-1.0, 1.0])


def test_float64_log1p_unit_ends():
    got = compiled("log1p_unit", np.array([0.0, 1e-300, math.sqrt(2.0) - 1.0, 1.0]))
    assert got[0] == 0.0 and got[1] == 1e-300
    np.testing.assert_allclose(got[2:], [math.log(math.sqrt(2.0)), math.log(2.0)], rtol=6e-16)


@pytest.mark.parametrize("name", NAMES)
def test_float64_dispatch_is_mathfn64_bitwise(name):
    # The public name adds nothing to float64: same code as mathfn64's, so the same bits.
    x = grid64(name)[::7]
    direct = np.empty_like(x)
    _loop(getattr(mathfn64, name))(x, direct)
    assert np.array_equal(compiled(name, x), direct)


# ---- float32 --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_float32_error_in_ulps(name):
    x = within(name, grid32(name), "float32")
    y = compiled(name, x)
    assert y.dtype == np.float32
    err = ulps(y, REFERENCE[name](x.astype(np.float64)))
    worst = int(np.argmax(err))
    assert err[worst] <= ULP32[name], f"{name}: {err[worst]:.3f} ulp at x={x[worst]!r}"


@pytest.mark.parametrize("lo, hi", [(0.0, 0.84375), (0.84375, 4.0), (4.0, 3e38)])
def test_float32_erf_on_each_range(lo, hi):
    x = np.concatenate([np.linspace(lo, min(hi, 8.0), 100_001, dtype=np.float32), np.float32([hi])])
    x = np.concatenate([x, -x])
    assert ulps(compiled("erf", x), special.erf(x.astype(np.float64))).max() <= ULP32["erf"]


def test_float32_erf_is_exactly_one_from_four():
    x = np.float32([4.0, 4.5, 1e4, 3e38])
    assert np.array_equal(compiled("erf", x), np.ones(4, np.float32))
    assert np.array_equal(compiled("erf", -x), -np.ones(4, np.float32))


def test_float32_tails_are_finite_normal_and_clamped():
    tiny = np.finfo(np.float32).tiny  # smallest normal float32
    big = np.float32([87.0, 1e4, 3e38])
    e = compiled("exp", np.concatenate([-big, big]))
    assert np.all(e[:3] == e[0]) and np.all(e[3:] == e[3]) and np.all(np.isfinite(e))
    assert e[0] >= tiny and ulps(e[[0, 3]], np.exp([-87.0, 87.0])).max() <= ULP32["exp"]
    assert compiled("expm1", np.float32([-1e4]))[0] == np.float32(-1.0)
    s = compiled("sigmoid", np.float32([-3e38, -1e4, -87.0, 1e4, 3e38]))
    assert np.all(s[:3] == s[2]) and s[2] >= tiny and np.all(s[3:] == 1)
    t = compiled("tanh", np.float32([-3e38, -1e4, -44.0, 44.0, 1e4, 3e38]))
    assert np.array_equal(t, np.float32([-1, -1, -1, 1, 1, 1]))
    p = compiled("softplus", np.float32([-3e38, -1e4, 1e4, 3e38]))
    assert p[0] == p[1] >= tiny and p[2] == np.float32(1e4) and p[3] == np.float32(3e38)


def test_float32_signed_zero_and_denormals():
    sub = np.float32([1.4e-45, 1e-42, 1e-40, 1.1e-38])  # denormals up to just below the smallest normal
    x = np.concatenate([np.float32([0.0, -0.0]), sub, -sub])
    x64 = x.astype(np.float64)
    assert np.all(compiled("exp", x) == 1) and np.all(compiled("sigmoid", x) == 0.5)
    for name in ("expm1", "tanh", "erf"):
        assert ulps(compiled(name, x), REFERENCE[name](x64)).max() <= ULP32[name], name
    assert np.all(compiled("softplus", x) == np.float32(math.log(2.0)))
    assert np.array_equal(compiled("log1p_unit", np.float32([0.0, 1.4e-45, 1e-40])), np.float32([0.0, 1.4e-45, 1e-40]))


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out_and_float64_in_float64_out(name):
    f = getattr(fm, name)
    wrapper = numba.njit(lambda x: f(x))
    wrapper(np.float32(0.5))
    wrapper(0.5)
    returns = {sig.args[0]: sig.return_type for sig in wrapper.nopython_signatures}
    assert returns == {numba.float32: numba.float32, numba.float64: numba.float64}
    # Called from Python: a float32 argument gives an np.float32, not a boxed Python float.
    assert type(f(np.float32(0.5))) is np.float32 and type(f(0.5)) is float


def _nopython_ir(dispatcher, sig):
    """The LLVM IR of the compiled function body (without Numba's Python-object wrappers)."""
    ir = dispatcher.inspect_llvm(sig)
    blocks = ir.split("\ndefine ")[1:]
    bodies = [b for b in blocks if not any(w in b.split("(")[0] for w in ("cpython", "cfunc."))]
    return "\n".join(bodies)


@pytest.mark.parametrize("name", NAMES)
def test_float32_code_never_touches_float64(name):
    f = getattr(fm, name)
    wrapper = numba.njit(lambda x: f(x), fastmath=True, error_model="numpy")
    wrapper(np.float32(0.25))
    ir = _nopython_ir(wrapper, (numba.float32,))
    assert ir and " double" not in ir, f"{name}: float64 arithmetic in the float32 path"


INV_SQRT_2 = 0.7071067811865476


def test_same_keeps_float32_flowing_into_the_functions():
    @numba.njit(fastmath=True, error_model="numpy")
    def phi(z):  # the pattern an activation uses: a float64 constant cast to z's precision
        return fm.same(z, 0.5) * (fm.same(z, 1.0) + fm.erf(z * fm.same(z, INV_SQRT_2)))

    assert phi(np.float32(0.3)) == pytest.approx(0.5 * (1 + math.erf(0.3 * INV_SQRT_2)), rel=1e-6)
    assert phi(0.3) == pytest.approx(0.5 * (1 + math.erf(0.3 * INV_SQRT_2)), rel=1e-15)
    returns = {sig.args[0]: sig.return_type for sig in phi.nopython_signatures}
    assert returns == {numba.float32: numba.float32, numba.float64: numba.float64}
    assert " double" not in _nopython_ir(phi, (numba.float32,))


def test_same_casts_like_the_argument():
    cast = numba.njit(lambda z, v: fm.same(z, v))
    assert cast(np.float32(1), 0.1) == np.float32(0.1) and cast(np.float32(1), 0.1) != 0.1
    assert cast(1.0, 0.1) == 0.1 and cast(1.0, 3) == 3.0
    returns = {sig.args: sig.return_type for sig in cast.nopython_signatures}
    assert returns[(numba.float32, numba.float64)] == numba.float32
    assert returns[(numba.float64, numba.float64)] == numba.float64
    assert type(fm.same(np.float32(1), 0.1)) is np.float32 and fm.same(np.float32(1), 0.1) == np.float32(0.1)
    assert fm.same(1.0, 0.1) == 0.1


def test_fma_rounds_once():
    # (1 + 2^-23)^2 = 1 + 2^-22 + 2^-46: a separate multiply would round the 2^-46 away.
    a = np.float32(1 + 2.0**-23)
    c = np.float32(-(1 + 2.0**-22))
    fused = numba.njit(lambda a, b, c: ieee32.fma(a, b, c), fastmath=True)
    assert fused(a, a, c) == np.float32(2.0**-46)
    assert ieee32.fma(a, a, c) == np.float32(2.0**-46)


def test_div_is_correctly_rounded_in_vectorised_fastmath_loops():
    @numba.njit(fastmath=True, error_model="numpy")
    def quotients(a, b, out):
        for i in range(a.size):
            out[i] = ieee32.div(a[i], b[i])

    rng = np.random.default_rng(3)
    a = rng.uniform(-4, 4, 4096).astype(np.float32)
    b = rng.uniform(0.5, 8, 4096).astype(np.float32)
    a[:64], b[:64] = 1, 2
    out = np.empty_like(a)
    quotients(a, b, out)
    assert np.array_equal(out, a / b)  # NumPy's float32 division is IEEE


# ---- the interpreted path -------------------------------------------------------------------------
SCRIPT = """
import sys
import numpy as np, numba
from fastact.engine import mathfn as fm
assert numba.config.DISABLE_JIT
x = np.load(sys.argv[1])
out = {}
for name in x.files:
    for dt in ("float32", "float64"):
        xs = x[name].astype(dt)
        ys = [getattr(fm, name)(v) for v in xs]
        ok = [type(y) is np.float32 if dt == "float32" else isinstance(y, float) for y in ys]
        assert all(ok), (name, dt, {type(y) for y in ys})
        out[name + "_" + dt] = np.array(ys, dtype=dt)
np.savez(sys.argv[2], **out)
"""


def test_interpreted_path_meets_the_same_bounds(tmp_path):
    rng = np.random.default_rng(5)
    x = {name: (rng.uniform(0, 1, 400) if name == "log1p_unit" else
                np.concatenate([rng.normal(0, 5, 300), [-1e4, -80.0, -1e-40, 0.0, 1e-40, 3.0, 80.0, 1e4]]))
         for name in NAMES}
    np.savez(tmp_path / "x.npz", **x)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-W", "ignore::RuntimeWarning", "-c", SCRIPT,
                           str(tmp_path / "x.npz"), str(tmp_path / "y.npz")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = np.load(tmp_path / "y.npz")
    for name in NAMES:
        x32 = x[name].astype(np.float32).astype(np.float64)
        keep = in_domain(name, x32, "float32")
        assert ulps(got[name + "_float32"][keep], REFERENCE[name](x32[keep])).max() <= ULP32[name], name
        keep = in_domain(name, x[name], "float64")
        assert rel_err(got[name + "_float64"][keep], REFERENCE[name](x[name][keep])).max() <= REL64[name], name
