"""float32 operations that Numba's fastmath cannot rewrite, for `fastact.engine.mathfn32`.

The kernels compile with ``fastmath=True``, which lets LLVM reassociate sums
and divide by a reciprocal estimate. Most of the time that is free speed;
these three spots need the operation exactly as written:

* ``fma(a, b, c)`` = a*b + c rounded once (``llvm.fma``). exp's reduction
  ``(x - n*L1) - n*L2`` was folded into ``x - n*(L1 + L2)``, one float32
  ln2: 4.4 ulp at x = 87 instead of 1.
* ``div(a, b)``: a correctly rounded quotient. With ``arcp`` LLVM divides by
  ``vrcpps`` + one Newton step: 1/2 came out 0.49999997 (sigmoid(0) != 0.5)
  and denormal reciprocals are flushed to 0.
* ``add(a, b)``: a sum LLVM may not merge with its operands' sums; softplus
  ``x + log1p(...)`` was regrouped with log1p's ``+ ln2`` (2.8 ulp, not 1.7).

Each is an intrinsic whose instruction carries its own fast-math flags
(``nnan ninf nsz contract``: no ``reassoc``, no ``arcp``); Numba's fastmath
pass only adds flags to instructions that have none, so these stay. The
pure-Python versions (``NUMBA_DISABLE_JIT=1``) compute the same in NumPy
float32 (fma through the float64 product of two float32, which is exact).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

f32 = np.float32

_FLAGS = ("nnan", "ninf", "nsz", "contract")


def _float32(*args) -> bool:
    return all(t == types.float32 for t in args)


def fma(a, b, c):
    """a * b + c rounded once."""
    return f32(float(a) * float(b) + float(c))


def div(a, b):
    """a / b, correctly rounded."""
    return f32(a) / f32(b)


def add(a, b):
    """a + b, not regrouped with the sums around it."""
    return f32(a) + f32(b)


@intrinsic
def _fma(typingctx, a, b, c):
    if not _float32(a, b, c):
        return None

    def codegen(context, builder, signature, args):
        ty = args[0].type
        return builder.call(builder.module.declare_intrinsic("llvm.fma", [ty], ir.FunctionType(ty, [ty] * 3)), args)

    return a(a, b, c), codegen


@intrinsic
def _div(typingctx, a, b):
    if not _float32(a, b):
        return None

    def codegen(context, builder, signature, args):
        return builder.fdiv(*args, flags=_FLAGS)

    return a(a, b), codegen


@intrinsic
def _add(typingctx, a, b):
    if not _float32(a, b):
        return None

    def codegen(context, builder, signature, args):
        return builder.fadd(*args, flags=_FLAGS)

    return a(a, b), codegen


@overload(fma, inline="always")
def _fma_typed(a, b, c):
    return lambda a, b, c: _fma(a, b, c)


@overload(div, inline="always")
def _div_typed(a, b):
    return lambda a, b: _div(a, b)


@overload(add, inline="always")
def _add_typed(a, b):
    return lambda a, b: _add(a, b)
