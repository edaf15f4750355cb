"""What generated formula code imports besides `fastact.engine.mathfn`.

``like(z, v)`` is ``v`` converted to ``z``'s float type. A number literal in
Numba code is a float64, and float32 * float64 is float64, so a generated
``0.5 * z`` would push a float32 kernel into float64 arithmetic; every
constant, parameter, ``u`` and ``y`` is therefore read through ``like(z, .)``.
For float64 ``z`` it is the identity. Compiled, the conversion of a constant
folds away.
"""

from __future__ import annotations

from numba import types
from numba.extending import overload


def like(z, v):
    """``v`` as the float type of ``z`` (interpreted: ``type(z)(v)``)."""
    return type(z)(v)


@overload(like, inline="always")
def _like(z, v):
    if isinstance(z, types.Float):
        ty = z

        def impl(z, v):
            return ty(v)

        return impl
    return None
