"""`fastact.engine.blas.gemm` (BLAS called from inside kernels) against NumPy's matmul.

The kernels hand gemm *tiles*: views into larger arrays whose row stride is
not their width, with either operand transposed. Tolerance relative to the
magnitude of the sums: |c - ref| <= rtol * (|a| |b|) + atol with
float64 rtol 1e-13, float32 rtol 1e-6 * max(1, k / 16) (atol 1e-30).
"""

from __future__ import annotations

import numpy as np
import pytest

from fastact.engine import blas
from fastact.engine.threads import threading_layer

DTYPES = ["float32", "float64"]


def check(c, a, b, ta, tb, alpha=1.0, beta=0.0, c0=None):
    a64 = np.asarray(a, np.float64)
    b64 = np.asarray(b, np.float64)
    opa = a64.T if ta else a64
    opb = b64.T if tb else b64
    ref = alpha * (opa @ opb)
    mag = abs(alpha) * (np.abs(opa) @ np.abs(opb))
    if c0 is not None:
        ref = ref + beta * c0
        mag = mag + abs(beta) * np.abs(c0)
    k = opa.shape[1]
    rtol = 1e-13 if c.dtype == np.float64 else 1e-6 * max(1.0, k / 16)
    err = np.abs(c.astype(np.float64) - ref)
    assert (err <= rtol * mag + 1e-30).all(), f"max err {err.max():.3g}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("m, n, k", [(1, 1, 1), (1, 7, 3), (5, 1, 9), (63, 65, 17), (64, 257, 255)])
def test_gemm_on_contiguous_operands(m, n, k, ta, tb, dtype):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    a = rng.normal(size=(k, m) if ta else (m, k)).astype(dtype)
    b = rng.normal(size=(n, k) if tb else (k, n)).astype(dtype)
    c = np.full((m, n), np.nan, dtype)  # beta = 0 must overwrite, not scale, what was there
    blas.gemm(a, b, c, ta, tb)
    check(c, a, b, ta, tb)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta, tb", [(False, False), (True, False), (False, True)])
def test_gemm_on_tile_views_leaves_the_rest_untouched(ta, tb, dtype):
    # The three products the dense kernels run: z = x w, dw = x^T dz, dx = dz w^T, on tiles.
    rng = np.random.default_rng(7)
    big_a = rng.normal(size=(40, 50)).astype(dtype)
    big_b = rng.normal(size=(60, 70)).astype(dtype)
    big_c = rng.normal(size=(45, 80)).astype(dtype)
    before = big_c.copy()
    m, n, k = 13, 21, 17
    a = big_a[3:3 + (k if ta else m), 5:5 + (m if ta else k)]
    b = big_b[2:2 + (n if tb else k), 9:9 + (k if tb else n)]
    c = big_c[4:4 + m, 30:30 + n]
    blas.gemm(a, b, c, ta, tb)
    check(c, a, b, ta, tb)
    outside = np.ones(big_c.shape, bool)
    outside[4:4 + m, 30:30 + n] = False
    assert np.array_equal(big_c[outside], before[outside])


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_alpha_and_beta(dtype):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 4)).astype(dtype)
    b = rng.normal(size=(4, 5)).astype(dtype)
    c0 = rng.normal(size=(6, 5)).astype(dtype)
    c = c0.copy()
    blas.gemm(a, b, c, False, False, -0.5, 2.0)
    check(c, a, b, False, False, -0.5, 2.0, c0.astype(np.float64))


def test_gemm_with_empty_output_is_a_no_op():
    a = np.ones((0, 3))
    b = np.ones((3, 4))
    c = np.ones((0, 4))
    blas.gemm(a, b, c)
    assert c.shape == (0, 4)


def test_backend_info_names_the_blas_the_kernels_call():
    info = blas.backend_info()
    assert info["via"] == "scipy.linalg.cython_blas"
    assert info["library"] != "unknown", info
    assert "scipy" in info["filepath"]


def test_threading_layer_is_thread_safe():
    # workqueue deadlocks when two Python threads launch parallel kernels (the TUI does).
    import fastact

    fastact.Dense(2, 2).forward(np.ones((1, 2), np.float32))
    assert threading_layer() in ("tbb", "omp")
