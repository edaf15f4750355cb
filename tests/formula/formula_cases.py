"""Shared pieces of the formula tests: the built-ins written as formulas, a cache fixture, njit loops.

``BUILTIN_FORMULAS`` maps a built-in activation to the formula that should
reproduce it, with its parameters and how the table's ``(z, alpha, c, u)`` scalars
take them (``adapt``: parameter values -> (alpha, c), as `Activation.constants` packs them).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from fastact.formula import compile_formula

BUILTIN_FORMULAS = {
    "relu": {"text": "max(z, 0)", "params": {}, "adapt": lambda p: (0.0, (0.0,))},
    "leaky_relu": {"text": "where(z > 0, z, negative_slope * z)", "params": {"negative_slope": 0.3},
                   "adapt": lambda p: (0.0, (p["negative_slope"],))},
    "prelu": {"text": "where(z > 0, z, alpha * z)", "params": {"alpha": 0.25}, "learnable": "alpha",
              "adapt": lambda p: (p["alpha"], (0.0,))},
    "rrelu": {"text": "where(z > 0, z, (lower + (upper - lower) * u) * z)", "params": {"lower": 0.125, "upper": 1 / 3},
              "adapt": lambda p: (0.0, (p["lower"], p["upper"]))},
    "silu": {"text": "z * sigmoid(z)", "params": {}, "adapt": lambda p: (0.0, (0.0,))},
    "softplus": {"text": "where(beta * z > threshold, z, softplus(beta * z) / beta)",
                 "params": {"beta": 1.0, "threshold": 20.0}, "rules": {"beta": "> 0", "threshold": "> 0"},
                 "adapt": lambda p: (0.0, (p["beta"], p["threshold"]))},
    "gelu_tanh": {"text": "0.5 * z * (1 + tanh(sqrt(2 / pi) * (z + 0.044715 * z ** 3)))", "params": {},
                  "adapt": lambda p: (0.0, (0.0,))},
}


@pytest.fixture(autouse=True)
def formula_cache(tmp_path_factory, monkeypatch):
    """Generated modules go to this session's temporary directory, not ~/.cache."""
    path = tmp_path_factory.getbasetemp() / "formulas"
    monkeypatch.setenv("FASTACT_FORMULA_CACHE", str(path))
    return path


def define(name: str, **overrides):
    case = BUILTIN_FORMULAS[name]
    return compile_formula(f"formula_{name}", case["text"], case["params"], learnable=case.get("learnable"),
                           rules=case.get("rules"), **overrides)


def loop(f, n_in: int):
    """An njit loop applying scalar ``f`` element-wise: ``run(z, y, alpha, c, u, out)``.

    ``n_in`` is 4 for forward-shaped functions (z, alpha, c, u) and 5 for (z, y, alpha, c, u).
    """
    if n_in == 4:
        @numba.njit
        def run(z, y, alpha, c, u, out):
            for i in range(z.size):
                out[i] = f(z[i], alpha, c, u[i])
    else:
        @numba.njit
        def run(z, y, alpha, c, u, out):
            for i in range(z.size):
                out[i] = f(z[i], y[i], alpha, c, u[i])
    return run


def apply(f, n_in, z, y, alpha, c, u):
    out = np.empty_like(z)
    loop(f, n_in)(z, y, alpha, c, u, out)
    return out
