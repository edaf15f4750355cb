"""`compile_formula`: a formula text in, a `CompiledFormula` (kernel functions and metadata) out.

Steps, each timed in ``CompiledFormula.timings`` (seconds):

1. ``parse``: names, defaults and rules validated; the text parsed by the
   whitelisted grammar (`fastact.formula.grammar`); z and every parameter
   must be used.
2. ``derive``: SymPy derivatives d/dz and d/d(learnable), tidied.
3. ``codegen``: the module text of forward/backward/param_grad, hashed.
4. ``load``: the module written to the formula cache (if new) and imported.
5. ``check``: derivatives against central differences (an error if they
   disagree), values at z = -1e4, 0, 1e4 (a one-line warning if not finite or
   beyond float32).

Numba compiles the scalar functions only when a kernel that inlines them is
compiled: that time belongs to the kernel (name it with `kernel_tag`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastact.formula import checks
from fastact.formula import tree as t
from fastact.formula.errors import FormulaError, show
from fastact.formula.evaluate import LIBM, evaluate
from fastact.formula.grammar import parse
from fastact.formula.params import FormulaParam, declare

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)


@dataclass(frozen=True, eq=False)
class CompiledFormula:
    """A defined formula activation: the three Numba scalar functions and what describes them.

    ``forward(z, alpha, c, u)``, ``backward(z, y, alpha, c, u)`` and (with a learnable
    parameter) ``param_grad(z, y, alpha, c, u)``; see `fastact.formula.codegen`.
    ``pack(values)`` gives the ``(alpha, c)`` to call them with.
    """

    name: str
    text: str
    canonical: str
    params: tuple[FormulaParam, ...]
    learnable: str | None
    uses_u: bool
    forward: Callable
    backward: Callable
    param_grad: Callable | None
    source: str
    source_hash: str
    path: Path
    derivative: str
    param_derivative: str | None
    timings: dict
    fd_points: int
    warning: str | None
    tree: object = field(repr=False)
    derivation: object = field(repr=False)

    def __repr__(self) -> str:
        return (f"CompiledFormula(name={self.name!r}, formula={self.canonical!r}, params={self.defaults!r}, "
                f"learnable={self.learnable!r}, uses_u={self.uses_u}, hash={self.source_hash[:16]!r})")

    @property
    def spec(self) -> dict:
        """Plain data that rebuilds this definition: ``compile_formula(**f.spec)``.

        What a saved model, a study file or a worker process should carry (the compiled
        functions live in a module only this process has imported).
        """
        rules = {p.name: p.check.text for p in self.params if p.check.text}
        return {"name": self.name, "text": self.text, "params": self.defaults, "learnable": self.learnable,
                "rules": rules}

    # ---- parameters ---------------------------------------------------------------------------
    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def constant_names(self) -> tuple[str, ...]:
        """The constant (not learnable) parameters, in the order of ``c``."""
        return tuple(p.name for p in self.params if not p.learnable)

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    @property
    def random(self) -> bool:
        """True when the formula uses u (the kernels draw it per element while training)."""
        return self.uses_u

    @property
    def compile_seconds(self) -> float:
        return sum(self.timings.values())

    @property
    def kernel_tag(self) -> str:
        """A name part for kernels specialised on this formula: distinct for distinct generated code."""
        return f"formula_{self.source_hash[:16]}"

    def resolve(self, **overrides) -> dict[str, float]:
        """Defaults updated with ``overrides``, each checked against its rule; ValueError names the bad value."""
        valid = {p.name: p for p in self.params}
        out = self.defaults
        for key, value in overrides.items():
            if value is None:
                continue
            if key not in valid:
                raise FormulaError(f"{self.name} has no parameter {key!r}. Received: {key}={value!r}. "
                                   f"Valid: {', '.join(valid) or 'none'}")
            value = float(value)
            if not valid[key].check(value):
                raise FormulaError(f"{self.name}: {key} must be {valid[key].rule}. Received: {key}={value!r}")
            out[key] = value
        return out

    def pack(self, values: dict | None = None) -> tuple[float, tuple[float, ...]]:
        """(alpha, c) for the scalar functions: the learnable value (0.0 if none), the constants (or (0.0,))."""
        v = self.resolve(**(values or {}))
        alpha = v[self.learnable] if self.learnable else 0.0
        return alpha, tuple(v[n] for n in self.constant_names) or (0.0,)

    # ---- slow references (NumPy/SciPy, float64) -------------------------------------------------
    def _env(self, alpha, c, u) -> dict:
        env = dict(zip(self.constant_names, (float(x) for x in c)))
        if self.learnable:
            env[self.learnable] = float(alpha)
        env["u"] = float(u)
        return env

    def reference_forward(self, z, alpha, c, u) -> float:
        """The formula evaluated from its tree with NumPy/SciPy functions (independent of the generated code)."""
        return float(evaluate(self.tree, {**self._env(alpha, c, u), "z": float(z)}, LIBM))

    def _reference(self, expr, z, alpha, c, u) -> float:
        from fastact.formula import symbolic

        syms = self.derivation.symbols
        env = {syms[k]: v for k, v in self._env(alpha, c, u).items()}
        env[syms["z"]] = float(z)
        return float(symbolic.evaluate(expr, env))

    def reference_backward(self, z, y, alpha, c, u) -> float:
        """d/dz from the SymPy derivative in z (not the y-substituted one), evaluated with NumPy/SciPy."""
        return self._reference(self.derivation.dz, z, alpha, c, u)

    def reference_param_grad(self, z, y, alpha, c, u) -> float:
        if self.derivation.dparam is None:
            raise FormulaError(f"{self.name} has no learnable parameter")
        return self._reference(self.derivation.dparam, z, alpha, c, u)


_CACHE: dict[tuple, CompiledFormula] = {}
_LOCK = threading.Lock()


def _key(name, text, params, rules, learnable, cache_dir) -> tuple:
    def items(d):
        return tuple(sorted((str(k), repr(v)) for k, v in d.items())) if isinstance(d, dict) else repr(d)

    return (name, text, items(params or {}), tuple((params or {}).keys()) if isinstance(params, dict) else (),
            items(rules or {}), repr(learnable), str(cache_dir))


def compile_formula(name: str, text: str, params: dict | None = None, *, learnable: str | None = None,
                    rules: dict | None = None, cache_dir: Path | str | None = None) -> CompiledFormula:
    """Define an activation from a formula in the pre-activation ``z``.

    >>> f = compile_formula("hswish", "z * clip(z + 3, 0, 6) / 6")
    >>> f.forward(1.0, 0.0, (0.0,), 0.5), f.backward(1.0, f.forward(1.0, 0.0, (0.0,), 0.5), 0.0, (0.0,), 0.5)
    (0.6666666666666666, 0.8333333333333333)

    Args:
      name: the activation's name, a lowercase identifier (``[a-z][a-z0-9_]*``, up to 32).
      text: the formula (see `fastact.formula.grammar`).
      params: parameter name -> default, in the order ``c`` carries them.
      learnable: the one parameter trained per unit (or shared), or None.
      rules: parameter name -> rule string (see `fastact.formula.params`).
      cache_dir: where generated modules go (default: `fastact.formula.cache.default_dir`).

    Raises `FormulaError` (a ValueError) with a one-line message; warns `FormulaWarning` once
    if the formula is not finite (or beyond float32) at z = -1e4, 0 or 1e4.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise FormulaError(f"invalid activation name {show(name)}. Valid: lowercase identifiers "
                           "[a-z][a-z0-9_]* of up to 32 characters")
    key = _key(name, text, params, rules, learnable, cache_dir)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _compile(name, text, params, learnable, rules, cache_dir)
        return _CACHE[key]


def _prefixed(name: str, exc: FormulaError) -> FormulaError:
    return FormulaError(f"{name}: {exc}")


def _compile(name, text, params, learnable, rules, cache_dir) -> CompiledFormula:
    timings = {}
    start = time.perf_counter()
    try:
        declared = declare(params, rules, learnable)
        names = tuple(p.name for p in declared)
        learn = next((p.name for p in declared if p.learnable), None)
        root = parse(text, names)
        checks.require_names(root, names, learn)
        timings["parse"] = time.perf_counter() - start

        # SymPy and the generator load on the first definition that parses: importing fastact stays fast.
        from fastact.formula import cache, codegen, symbolic

        start = time.perf_counter()
        derivation = symbolic.derive(root, names, learn)
        timings["derive"] = time.perf_counter() - start

        start = time.perf_counter()
        source = codegen.module_source(root, derivation, names, learn)
        timings["codegen"] = time.perf_counter() - start
    except FormulaError as exc:
        raise _prefixed(name, exc) from None

    start = time.perf_counter()
    module, path, digest = cache.load(source, cache_dir)
    timings["load"] = time.perf_counter() - start

    start = time.perf_counter()
    py = {fn: getattr(getattr(module, fn, None), "py_func", getattr(module, fn, None))
          for fn in ("forward", "backward", "param_grad")}
    defaults = {p.name: p.default for p in declared}
    consts = tuple(p.name for p in declared if not p.learnable)
    uses_u = "u" in t.names(root)
    n_points = checks.check_derivatives(name, root, py["forward"], py["backward"], py["param_grad"], defaults,
                                        consts, learn, uses_u)
    warning = checks.check_finite(name, root, py["forward"], py["backward"], py["param_grad"], defaults, consts,
                                  learn, uses_u, stacklevel=4)
    timings["check"] = time.perf_counter() - start

    return CompiledFormula(
        name=name, text=text, canonical=t.unparse(root), params=declared, learnable=learn, uses_u=uses_u,
        forward=module.forward, backward=module.backward, param_grad=getattr(module, "param_grad", None),
        source=source, source_hash=digest, path=path, derivative=str(derivation.dz),
        param_derivative=None if derivation.dparam is None else str(derivation.dparam), timings=timings,
        fd_points=n_points, warning=warning, tree=root, derivation=derivation,
    )
