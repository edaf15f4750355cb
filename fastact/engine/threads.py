"""Threads: who runs in parallel, and how many.

Choices, measured on the 2-core development machine (see docs/ARCHITECTURE.md):

* Numba's threading layer is a thread-safe one, TBB (PyPI's ``tbb``, loaded by
  path: `preload_tbb`) first, then OpenMP: the default ``workqueue`` layer is not thread-safe and
  deadlocks when a UI worker thread and the main thread both launch parallel
  kernels. On a quiet machine TBB and OpenMP ran a training step equally fast
  (784-512-10, batch 128: 1.47-1.50 vs 1.58-1.59 ms; batch 1024: 10.5-11.3 vs
  11.3-11.4 ms); with another process busy, GNU OpenMP's spinning threads
  made steps up to 10x slower, TBB's degraded gracefully.
* SciPy's OpenBLAS, which the kernels call per tile, is pinned to one thread.
  Parallelism comes from ``prange`` over tiles; OpenBLAS's own pthreads
  spinning against Numba's threads made steps up to 4x slower.
  NumPy's separate OpenBLAS is left alone.

``set_num_threads`` is per calling thread in Numba, so a trainer running in a
worker thread calls it again from there (`fastact.training.loop` does). SciPy's BLAS
is pinned the first time a layer is built (`pin_kernel_blas`, from `fastact.nn.Dense`),
whatever the entry point.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import numba

# No OMP_WAIT_POLICY here: it is process-wide, and PASSIVE made PyTorch's own
# OpenMP steps 1.7x slower in the same process (an unfair benchmark peer).

_TBB_SONAME = "libtbb.so.12"


def _tbb_candidates() -> list[Path]:
    """Where PyPI's ``tbb`` wheel put ``libtbb.so.12``: its recorded files, then ``<prefix>/lib``."""
    found = []
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        dist = distribution("tbb")
        found += [Path(dist.locate_file(f)).resolve() for f in dist.files or () if f.name == _TBB_SONAME]
    except (ImportError, PackageNotFoundError):
        pass
    found += [Path(p) / "lib" / _TBB_SONAME for p in dict.fromkeys((sys.prefix, sys.base_prefix))]
    return [p for p in found if p.is_file()]


def preload_tbb() -> str | None:
    """Load the wheel's TBB into the process so Numba's TBB layer can start.

    The ``tbb`` wheel installs ``libtbb.so.12`` into the environment's ``lib/``, which the
    dynamic loader does not search, so Numba's ``tbbpool`` extension failed to load and every
    run fell back to OpenMP. Loading the library by path first (``RTLD_GLOBAL``) satisfies the
    extension's dependency by its soname. Returns the path loaded, or None (no wheel, not Linux,
    or already loadable by the system's search path).
    """
    if not sys.platform.startswith("linux"):
        return None
    for path in _tbb_candidates():
        try:
            ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            return str(path)
        except OSError:
            continue
    return None


TBB_LIBRARY = None
if "NUMBA_THREADING_LAYER" not in os.environ:
    TBB_LIBRARY = preload_tbb()
    # "default" walks this list; workqueue (unsafe) is reached only if neither
    # the `tbb` dependency nor libgomp can load, and `threading_layer()` says so.
    numba.config.THREADING_LAYER_PRIORITY = ["tbb", "omp", "workqueue"]
    numba.config.THREADING_LAYER = "default"

_pinned = False


def pin_kernel_blas() -> None:
    """Limit the BLAS the kernels call (SciPy's) to one thread, once."""
    global _pinned
    if _pinned:
        return
    from threadpoolctl import ThreadpoolController

    ctl = ThreadpoolController()
    for lib in ctl.lib_controllers:
        if lib.user_api == "blas" and "scipy" in lib.filepath and "numpy" not in lib.filepath:
            lib.set_num_threads(1)
    _pinned = True


def max_threads() -> int:
    """Threads Numba was started with (NUMBA_NUM_THREADS, default: all cores)."""
    return int(numba.config.NUMBA_NUM_THREADS)


def set_num_threads(n: int | None) -> int:
    """Use ``n`` threads in this thread's kernels (None: all). Returns the number set."""
    top = max_threads()
    if n is None:
        n = top
    if isinstance(n, bool) or not isinstance(n, (int,)) or n < 1:
        raise ValueError(f"threads must be a positive integer. Received: threads={n!r}")
    if n > top:
        raise ValueError(f"threads must be <= {top} (NUMBA_NUM_THREADS). Received: threads={n!r}")
    numba.set_num_threads(n)
    pin_kernel_blas()
    return n


def get_num_threads() -> int:
    return numba.get_num_threads()


def threading_layer() -> str:
    """The layer in use once a parallel kernel has run, else the configured one."""
    try:
        return numba.threading_layer()
    except ValueError:
        return str(numba.config.THREADING_LAYER)
