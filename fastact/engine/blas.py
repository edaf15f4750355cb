"""Row-major GEMM callable from inside Numba kernels, on any strided 2-D view.

Numba's own ``np.dot`` needs contiguous operands and allocates its result, so
the fused kernels call BLAS directly: the ``sgemm``/``dgemm`` that SciPy
exports through ``scipy.linalg.cython_blas`` (the OpenBLAS SciPy ships),
bound as C function pointers. Scalar arguments are passed by address from
stack slots of the calling kernel, so they stay alive for the whole call.

Each kernel tile calls GEMM single-threaded (see `fastact.engine.threads`):
parallelism comes from Numba's ``prange`` over a fixed tiling, which keeps
results bitwise independent of the thread count and avoids OpenBLAS's
threads spinning against Numba's.
"""

from __future__ import annotations

import ctypes

import llvmlite.binding
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from scipy.linalg import cython_blas

from fastact.engine.jit import DISABLE_JIT, scalar


def _capsule_address(name: str) -> int:
    capsule = cython_blas.__pyx_capi__[name]
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    get_ptr = ctypes.pythonapi.PyCapsule_GetPointer
    get_ptr.restype = ctypes.c_void_p
    get_ptr.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return get_ptr(capsule, get_name(capsule))


# Registered as named symbols (not ctypes pointers) so kernels that call them
# can be cached on disk: the cached code refers to the name, resolved at load.
llvmlite.binding.add_symbol("fastact_sgemm", _capsule_address("sgemm"))
llvmlite.binding.add_symbol("fastact_dgemm", _capsule_address("dgemm"))
_SIG = types.void(*([types.voidptr] * 13))
_sgemm = types.ExternalFunction("fastact_sgemm", _SIG)
_dgemm = types.ExternalFunction("fastact_dgemm", _SIG)

_N = np.int8(ord("N"))
_T = np.int8(ord("T"))


@intrinsic
def _addr(typingctx, value):
    """Address of a stack copy of ``value`` (lives until the caller returns)."""

    def codegen(context, builder, sig, args):
        slot = cgutils.alloca_once_value(builder, args[0])
        return builder.bitcast(slot, cgutils.voidptr_t)

    return types.voidptr(value), codegen


@intrinsic
def _data(typingctx, arr):
    """Raw data pointer of an array (any layout)."""

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.bitcast(ary.data, cgutils.voidptr_t)

    return types.voidptr(arr), codegen


@scalar
def _ld(a):
    # Leading dimension in elements of a row-major view with unit column stride.
    return np.int32(max(a.strides[0] // a.itemsize, max(a.shape[1], 1)))


if DISABLE_JIT:

    def gemm(a, b, c, trans_a=False, trans_b=False, alpha=1.0, beta=0.0):
        """c <- alpha * op(a) @ op(b) + beta * c (pure-NumPy path when JIT is off)."""
        aa = a.T if trans_a else a
        bb = b.T if trans_b else b
        c[...] = alpha * (aa @ bb) + (beta * c if beta != 0.0 else 0.0)

else:

    @scalar
    def gemm(a, b, c, trans_a=False, trans_b=False, alpha=1.0, beta=0.0):
        """c <- alpha * op(a) @ op(b) + beta * c for row-major views with unit column stride.

        Row-major C = A B is column-major C^T = B^T A^T, so the operands swap.
        """
        m = np.int32(c.shape[0])
        n = np.int32(c.shape[1])
        k = np.int32(a.shape[0] if trans_a else a.shape[1])
        if m == 0 or n == 0:
            return
        ta = _T if trans_a else _N
        tb = _T if trans_b else _N
        lda = _ld(a)
        ldb = _ld(b)
        ldc = _ld(c)
        if c.itemsize == 4:
            _sgemm(_addr(tb), _addr(ta), _addr(n), _addr(m), _addr(k), _addr(np.float32(alpha)),
                   _data(b), _addr(ldb), _data(a), _addr(lda), _addr(np.float32(beta)), _data(c), _addr(ldc))
        else:
            _dgemm(_addr(tb), _addr(ta), _addr(n), _addr(m), _addr(k), _addr(np.float64(alpha)),
                   _data(b), _addr(ldb), _data(a), _addr(lda), _addr(np.float64(beta)), _data(c), _addr(ldc))


def backend_info() -> dict:
    """Which BLAS the kernels call, for run configs and benchmark reports."""
    from threadpoolctl import threadpool_info

    for lib in threadpool_info():
        if lib.get("user_api") == "blas" and "scipy" in lib.get("filepath", "") and "numpy" not in lib["filepath"]:
            return {"library": lib.get("internal_api"), "version": lib.get("version"),
                    "architecture": lib.get("architecture"), "filepath": lib.get("filepath"),
                    "via": "scipy.linalg.cython_blas"}
    return {"library": "unknown", "via": "scipy.linalg.cython_blas"}


def backend_name() -> str:
    """``"openblas 0.3.30 Haswell"``: `backend_info` in one line (``"unknown"`` if it cannot be read)."""
    try:
        info = backend_info()
    except Exception:  # noqa: BLE001 (informational only: never fail a run over it)
        return "unknown"
    return " ".join(str(info[k]) for k in ("library", "version", "architecture") if info.get(k)) or "unknown"
