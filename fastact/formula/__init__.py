"""Activations defined by a formula in the pre-activation ``z``.

>>> from fastact.formula import compile_formula
>>> hswish = compile_formula("hswish", "z * clip(z + 3, 0, 6) / 6")
>>> hswish.canonical
'z * clip(z + 3, 0, 6) / 6'

The formula is parsed by a whitelisted grammar (`grammar`: numbers, ``z``,
``u``, ``pi``, parameter names, ``+ - * / **``, comparisons inside ``where``,
and the functions exp, log, log1p, expm1, sqrt, abs, tanh, sigmoid, softplus,
erf, min, max, clip, where), never evaluated as Python. SymPy differentiates
it (`symbolic`, which also states the kink conventions: relu'(0) = 0), the
generator writes three Numba scalar functions (`codegen`) into a cache file
named by the hash of their text (`cache`), and definition-time checks compare
the derivatives with finite differences and look for overflow (`checks`).

Modules: `errors`, `tree`, `grammar`, `params`, `evaluate`, `symbolic`,
`codegen`, `runtime` (imported by generated code), `cache`, `checks`, `compiled`.
SymPy is imported on the first `compile_formula` call, not with this package.
"""

from fastact.formula.compiled import CompiledFormula, compile_formula
from fastact.formula.errors import FormulaError, FormulaWarning
from fastact.formula.grammar import FUNCTIONS, LIMITS, parse
from fastact.formula.params import FormulaParam, rule

__all__ = [
           "FUNCTIONS",
           "LIMITS",
           "CompiledFormula",
           "FormulaError",
           "FormulaParam",
           "FormulaWarning",
           "compile_formula",
           "parse",
           "rule",
]
