"""The machine: CPU, FMA peak (nominal and measured), every BLAS and its threads, torch."""

from __future__ import annotations

import os
import platform
import statistics

import numpy as np

# `torch_available` is looked up on the package at call time, so patching
# `benchmarks.torch_available` (as the tests do) reaches this module too.
from fastact import benchmarks as _package
from fastact._version import __version__
from fastact.benchmarks.timing import time_rounds
from fastact.engine import threads as engine_threads


def _cpuinfo() -> dict:
    info = {"model": platform.processor() or platform.machine(), "mhz": None, "flags": set(), "vendor": "",
            "family": None}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, val = line.partition(":")
                key, val = key.strip(), val.strip()
                if key == "model name":
                    info["model"] = val
                elif key == "cpu MHz" and info["mhz"] is None:
                    info["mhz"] = float(val)
                elif key == "flags":
                    info["flags"] = set(val.split())
                elif key == "vendor_id":
                    info["vendor"] = val
                elif key == "cpu family" and info["family"] is None:
                    info["family"] = int(val)
    except OSError:
        pass
    return info


def fma_peak(threads: int | None = None, measure: bool = False) -> dict:
    """The machine's fp32 FMA peak: ``cores x GHz x FMA units x lanes x 2`` FLOP/s.

    GHz is /proc/cpuinfo's "cpu MHz" (under a hypervisor, the nominal clock; turbo is not
    counted). Lanes come from the CPU flags: 16 with AVX-512, except AMD Zen 4 (family 25),
    which runs 512-bit FMAs on 256-bit units (8 lanes); 8 with AVX2/FMA; 4 otherwise.
    Two FMA units per core are assumed (every AVX2-class server core since Haswell / Zen 2).
    ``measure=True`` also times a single-threaded NumPy sgemm (2048^3) and scales it by the
    thread count: the "measured BLAS peak".
    """
    cpu = _cpuinfo()
    n = threads or engine_threads.max_threads()
    flags = cpu["flags"]
    zen4 = cpu["vendor"] == "AuthenticAMD" and cpu["family"] == 25
    lanes = 16 if "avx512f" in flags and not zen4 else 8 if ("avx2" in flags or "fma" in flags) else 4
    ghz = (cpu["mhz"] or 0.0) / 1e3
    out = {"gflops": n * ghz * 2 * lanes * 2, "cores": n, "ghz": ghz, "fma_units": 2, "lanes": lanes,
           "how": f"{n} cores x {ghz:.2f} GHz (/proc/cpuinfo) x 2 FMA units (assumed) x {lanes} fp32 lanes"
                  f" ({'AVX-512 on 256-bit units (Zen 4)' if zen4 else 'from CPU flags'}) x 2 FLOP/FMA"}
    out["nominal_gflops"] = out["gflops"]
    if measure:
        out["measured_gflops"] = measure_blas_peak() * n
        out["measured_how"] = f"single-threaded NumPy sgemm 2048^3, median of 5, x {n} threads"
        # Turbo can beat the nominal clock: the share is taken of whichever is higher.
        out["gflops"] = max(out["gflops"], out["measured_gflops"])
        out["basis"] = "measured" if out["gflops"] == out["measured_gflops"] else "nominal"
    return out


def measure_blas_peak(size: int = 2048) -> float:
    """GFLOP/s of one thread of NumPy's sgemm."""
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    c = np.empty_like(a)
    with threadpool_limits(1, user_api="blas"):
        times = time_rounds(lambda: np.matmul(a, a, out=c), min_rounds=5, max_time=0.0, warmup=1)
    return 2 * size ** 3 / statistics.median(times) / 1e9


def environment(torch: bool | None = None) -> dict:
    """Everything that decides the numbers: CPU, every BLAS and its threads, numba, torch."""
    from threadpoolctl import threadpool_info

    cpu = _cpuinfo()
    blas = []
    for lib in threadpool_info():
        path = lib.get("filepath", "")
        user = "numpy" if "numpy" in path else "fastact kernels (scipy)" if "scipy" in path else \
            "torch" if "torch" in path else os.path.basename(path)
        blas.append({"library": lib.get("internal_api"), "user_api": lib.get("user_api"),
                     "version": lib.get("version"), "architecture": lib.get("architecture"),
                     "threads": lib.get("num_threads"), "threading_layer": lib.get("threading_layer"),
                     "used_by": user, "filepath": path})
    env = {
        "cpu": {"model": cpu["model"], "mhz": cpu["mhz"], "logical_cpus": os.cpu_count(),
                "simd": sorted(f for f in cpu["flags"] if f in ("avx2", "fma", "avx512f", "avx512_bf16"))},
        "python": platform.python_version(), "numpy": np.__version__,
        "fastact": {"version": __version__, "numba_threads": engine_threads.get_num_threads(),
                    "numba_max_threads": engine_threads.max_threads(),
                    "threading_layer": engine_threads.threading_layer()},
        "blas": blas,
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                               "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")},
        "torch": None,
    }
    try:
        from fastact.engine.blas import backend_info

        env["fastact"]["kernel_blas"] = backend_info()
    except Exception as exc:  # the kernels' BLAS is informational here
        env["fastact"]["kernel_blas"] = {"error": str(exc)}
    if torch is None:
        torch = _package.torch_available()
    if torch:
        import torch as t

        env["torch"] = {"version": t.__version__, "threads": t.get_num_threads(),
                        "interop_threads": t.get_num_interop_threads(),
                        "mkl": t.backends.mkl.is_available(), "mkldnn": t.backends.mkldnn.is_available(),
                        "mkldnn_enabled": t.backends.mkldnn.enabled,
                        "cpu_capability": t.backends.cpu.get_cpu_capability()}
    return env
