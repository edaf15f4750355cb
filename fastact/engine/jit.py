"""The one place that holds fastact's Numba presets.

Every kernel module imports its decorators from here, so the flags that decide
speed and safety are set once:

* ``cache=True``: compiled code is written next to the module, so a second
  process starts in about a second instead of recompiling.
* ``nogil=True``: kernels release the GIL so a UI thread stays responsive.
* ``fastmath=True``: lets LLVM reassociate and vectorise the element-wise
  epilogues (no NaN/Inf *inputs* are assumed; divergence is caught at the loss).
* ``error_model="numpy"``: Python's error model inserts zero-division checks
  that stop vectorisation (a sigmoid epilogue measured 6.7 vs 0.6 ns/element).

`compiled` kernels (fixed signature, C-callable) are what the parallel drivers receive as
arguments; `specialise` makes one from a template by binding its globals; `fixed_tuple` turns
a small array into a tuple of a compile-time length (constants read once, before a loop).
"""

from __future__ import annotations

import types

import numba
import numpy as np

_BASE = dict(cache=True, nogil=True, fastmath=True, error_model="numpy")

#: scalar helpers, inlined into the kernels that call them
scalar = numba.njit(inline="always", **_BASE)
#: serial kernels (small work, or called from inside a parallel region)
kernel = numba.njit(**_BASE)
#: parallel kernels (prange over rows or tiles)
parallel = numba.njit(parallel=True, **_BASE)

#: parallel kernels whose rounding order matters (the loss): no fastmath, so
#: LLVM cannot reassociate log(sum) + (m - s_t) into (log(sum) + m) - s_t
parallel_exact = numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")

prange = numba.prange
DISABLE_JIT = bool(numba.config.DISABLE_JIT)


def compiled(sig, fastmath=True):
    """A kernel with a fixed signature ``sig``, compiled now and callable through a function pointer.

    The parallel drivers take such kernels (activation epilogues, optimizer rules) as arguments
    of type ``FunctionType(sig)``, so one compiled driver serves every activation and every
    optimizer: only the small serial kernel is compiled per activation, never the parallel
    region around it (which cost 3-7 s per activation to compile). Cached on disk by name.
    ``fastmath`` is Numba's: True, or a set of LLVM flags.
    """
    if DISABLE_JIT:
        return lambda fn: fn
    return numba.cfunc(sig, cache=True, fastmath=fastmath, error_model="numpy")


def array(dtype, ndim: int):
    """The Numba type of a C-contiguous ``ndim``-D array of ``dtype`` (NumPy's or Numba's)."""
    base = dtype if isinstance(dtype, numba.types.Type) else numba.from_dtype(np.dtype(dtype))
    return numba.types.Array(base, ndim, "C")


def rebind(template, name: str, bindings: dict):
    """``template`` with its module globals updated by ``bindings``, renamed ``name`` (not compiled).

    Numba treats globals as compile-time constants, so a bound scalar function is inlined and a
    bound flag folds its branches away. The new qualname keeps each variant's disk cache apart.
    """
    env = dict(template.__globals__)
    env.update(bindings)
    fn = types.FunctionType(template.__code__, env, name, template.__defaults__)
    fn.__qualname__ = name
    fn.__doc__ = template.__doc__
    return fn


def specialise(template, decorator, name: str, bindings: dict):
    """`rebind`, then ``decorator`` (a preset of this module)."""
    return decorator(rebind(template, name, bindings))


def address(kernel):
    """What a driver takes for a `compiled` kernel: its C address (the function itself without the JIT).

    An address is an integer, which Numba's dispatcher types in C; a kernel object as an argument
    cost 5-20 us per call to type and unbox, several times per training step.
    """
    return kernel if DISABLE_JIT else kernel.address


def function_at(signature_of):
    """``call = function_at(signature_of)``, then in a kernel ``call(addr, like)(...)``: the
    `compiled` kernel at `address` ``addr`` of signature ``signature_of(like.dtype)``.

    ``like`` is any array of the dtype the signature is for (the drivers are compiled per dtype).
    """
    if DISABLE_JIT:
        return lambda addr, like: addr

    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic
    def call(typingctx, addr, like):
        fnty = numba.types.FunctionType(signature_of(like.dtype))

        def codegen(context, builder, sig, args):
            fn = cgutils.create_struct_proxy(fnty)(context, builder)
            fn.c_addr = builder.inttoptr(args[0], cgutils.voidptr_t)
            fn.py_addr = cgutils.get_null_value(cgutils.voidptr_t)  # no Python object behind it
            fn.jit_addr = cgutils.get_null_value(cgutils.voidptr_t)  # so the C address is called
            return fn._getvalue()

        return fnty(addr, like), codegen

    return call


if DISABLE_JIT:

    def fixed_tuple(values, n):
        return tuple(values[:n])

else:
    from numba.np.unsafe.ndarray import to_fixed_tuple as fixed_tuple  # noqa: F401 (re-exported)
