"""Elementary functions per element: float32 vs float64 vs a float32 array through the float64 code.

One thread, one plain njit loop ``out[i] = f(x[i])`` over 1M elements (the kernels' flags), for
every function in `fastact.engine.mathfn` and three variants:

* ``float64``: float64 arrays, the float64 code;
* ``f32_via_f64``: float32 arrays whose elements are promoted to float64 first (what a float32
  run did before mathfn dispatched on the type, and still does where a Python float literal
  promotes ``z``), the result rounded back to float32;
* ``float32``: float32 arrays, the float32 code.

pytest-benchmark groups the three per function, so its table shows the ratios directly; the
median ns per element is in each case's ``extra_info``.
"""

import numba
import numpy as np
import pytest

from fastact.engine import mathfn, mathfn64

NAMES = ("exp", "expm1", "sigmoid", "tanh", "log1p_unit", "softplus", "erf")
N = 1_000_000
ROUNDS = 25


def _loop(f, promote):
    # The kernels' flags (fastact.engine.jit) without the disk cache: these loops are throwaway.
    if promote:
        @numba.njit(nogil=True, fastmath=True, error_model="numpy")
        def run(x, out):
            for i in range(x.size):
                out[i] = f(np.float64(x[i]))
    else:
        @numba.njit(nogil=True, fastmath=True, error_model="numpy")
        def run(x, out):
            for i in range(x.size):
                out[i] = f(x[i])
    return run


def _inputs(name, dtype):
    x = np.random.default_rng(0).normal(0.0, 4.0, N)
    return (np.abs(x) % 1.0 if name == "log1p_unit" else x).astype(dtype)


@pytest.mark.parametrize("variant", ("float64", "f32_via_f64", "float32"))
@pytest.mark.parametrize("name", NAMES)
def test_elementwise(benchmark, name, variant):
    dtype = np.float64 if variant == "float64" else np.float32
    f = getattr(mathfn64 if variant == "f32_via_f64" else mathfn, name)
    run = _loop(f, promote=variant == "f32_via_f64")
    x = _inputs(name, dtype)
    out = np.empty_like(x)
    run(x, out)  # compile
    benchmark.group = f"mathfn {name}"
    benchmark.extra_info.update({"name": name, "variant": variant, "elements": N})
    benchmark.pedantic(run, args=(x, out), rounds=ROUNDS, iterations=1, warmup_rounds=2)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["ns_per_element"] = stats.stats.median / N * 1e9
    assert out.dtype == dtype and np.all(np.isfinite(out))
