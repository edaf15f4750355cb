"""The formula grammar: what parses, what is refused (in one line, naming the spot), and that nothing runs."""

from __future__ import annotations

import builtins
import re

import pytest

from fastact.formula import FormulaError, compile_formula
from fastact.formula import tree as t
from fastact.formula.grammar import FUNCTIONS, LIMITS, parse, tokenize

from formula_cases import formula_cache  # noqa: F401  (autouse fixture)

FUNCS = ", ".join(FUNCTIONS)
CHARS = "Valid: digits, letters, _, whitespace and + - * / ** ( ) , < <= > >= & |"


def error(text, params=()):
    with pytest.raises(FormulaError) as info:
        parse(text, params)
    msg = str(info.value)
    assert "\n" not in msg and "\r" not in msg
    return msg


# ---- what parses -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, canonical", [
    ("z*clip(z+3,0,6)/6", "z * clip(z + 3, 0, 6) / 6"),
    ("-z**2", "-z ** 2"),
    ("(-z)**2", "(-z) ** 2"),
    ("2**-z", "2 ** (-z)"),
    ("z**z**2", "z ** z ** 2"),
    ("(z**z)**2", "(z ** z) ** 2"),
    ("z - (z - 1)", "z - (z - 1)"),
    ("z / (2 * z)", "z / (2 * z)"),
    ("where(0 < z < 1 & not z > 0.5 | z < -2, z, 0)", "where(0 < z and z < 1 and not z > 0.5 or z < -2, z, 0)"),
    ("where((z > 0) and (z < 1), z, 0)", "where(z > 0 and z < 1, z, 0)"),
    (" 1.5e-3 * z + .5 + 5. ", "0.0015 * z + 0.5 + 5"),
    ("pi * z", "pi * z"),
    ("+z", "z"),
])
def test_canonical_text(text, canonical):
    assert t.unparse(parse(text)) == canonical
    assert t.unparse(parse(canonical)) == canonical  # canonical text parses back to itself


def test_precedence_and_associativity():
    root = parse("1 - 2 - z")
    assert isinstance(root, t.BinOp) and root.op == "-" and isinstance(root.left, t.BinOp)  # (1 - 2) - z
    root = parse("2 ** 3 ** z")
    assert root.op == "**" and isinstance(root.right, t.BinOp)  # 2 ** (3 ** z)
    root = parse("-z ** 2")
    assert isinstance(root, t.Neg) and root.arg.op == "**"  # -(z ** 2), as in Python
    cond = parse("where(z > 0 & z < 1 | z > 5, z, 0)").args[0]
    assert cond.op == "or" and cond.left.op == "and"  # & binds tighter than |, both looser than comparisons


def test_literals_are_exact_fractions():
    root = parse("0.044715 * z")
    assert root.left.value.numerator == 8943 and root.left.value.denominator == 200000


def test_parameters_and_every_function_parse():
    text = "where(beta > 0, exp(z) + log(z) + log1p(z) + expm1(z) + sqrt(z) + abs(z) + tanh(z) + sigmoid(z)" \
           " + softplus(z) + erf(z) + min(z, 1) + max(z, 1) + clip(z, 0, beta), u)"
    assert {n.fn for n in t.walk(parse(text, ("beta",))) if isinstance(n, t.Call)} == set(FUNCTIONS)


# ---- errors name the spot and list what is valid --------------------------------------------------
def test_unknown_name_lists_valid_names_and_functions():
    assert error("bta * z", ("beta",)) == (
        f"unknown name 'bta' at position 1. Valid: names z, u, pi, beta; functions {FUNCS}")


def test_syntax_error_names_the_position():
    assert error("z * (z + 3") == "expected ')' to close the '(' at position 5 but found the end of the formula " \
                                  "at position 11. Valid: ')'"
    assert error("z +* 2").startswith("expected a number, a name or '(' but found '*' at position 4. Valid: a number")
    assert error("2z").startswith("unexpected 'z' at position 2. Valid: an operator")
    assert error("z ^ 2") == f"unsupported '^' (use ** for powers) at position 3. {CHARS}"


@pytest.mark.parametrize("text, start", [
    ("max(z)", "max takes 2 arguments, got 1 at position 1. Valid: max(a, b)"),
    ("clip(z, 0)", "clip takes 3 arguments, got 2 at position 1. Valid: clip(x, low, high)"),
    ("exp(z, 1)", "exp takes 1 argument, got 2 at position 1. Valid: exp(x)"),
    ("exp", "function 'exp' needs its arguments: exp(x) at position 1."),
    ("z(1)", "'z' is not a function at position 1."),
    ("z > 0", "a condition cannot be the whole formula"),
    ("where(z, 1, 0)", "where's first argument needs a condition, found a number at position 7."),
    ("exp(z > 0)", "a condition cannot be an argument of exp at position 7."),
    ("(z > 0) * z", "a condition cannot be multiplied (*) at position 4."),
    ("where(z > 0 and 1, z, 0)", "'and' needs a condition, found a number at position 17."),
    ("z and z", "'and' needs a condition, found a number at position 1."),
    ("1e13 * z", "number '1e13' is out of range at position 1. Valid: numbers of magnitude 1e-30 to 1e+12, or 0"),
    ("1e-31 * z", "number '1e-31' is out of range at position 1."),
    ("", "formula is empty."),
])
def test_structural_errors(text, start):
    assert error(text).startswith(start)


# ---- hostile input: refused in one line, nothing evaluated --------------------------------------
HOSTILE = [
    ("z.__class__", f"unsupported '.' (attribute access is not part of the formula language) at position 2. {CHARS}"),
    ("__class__", (f"name '__class__' starts with '_' (no such names exist here) at position 1. Valid: names z, u, pi; "
                  f"functions {FUNCS}")),
    ("__import__('os').system('true')",
     f"name '__import__' starts with '_' (no such names exist here) at position 1. Valid: functions {FUNCS}"),
    ("open('/etc/passwd')", f"'open' is not a known function at position 1. Valid: functions {FUNCS}"),
    ("fastact_sentinel()", f"'fastact_sentinel' is not a known function at position 1. Valid: functions {FUNCS}"),
    ("eval('1')", f"'eval' is not a known function at position 1. Valid: functions {FUNCS}"),
    ("lambda: z", f"unknown name 'lambda' at position 1. Valid: names z, u, pi; functions {FUNCS}"),
    ("[z for z in (1, 2)]", f"unsupported '[' (indexing is not part of the formula language) at position 1. {CHARS}"),
    ("z if z > 0 else 0", ("unexpected 'if' at position 3. Valid: an operator (+ - * / ** < <= > >= and or), ')' or "
                          "',' between terms (write 2*z, not 2z)")),
    ("'z'", f"unexpected character \"'\" at position 1. {CHARS}"),
    ("z[0]", f"unsupported '[' (indexing is not part of the formula language) at position 2. {CHARS}"),
    ("{'a': z}", f"unsupported '{{' (not an operator of the formula language) at position 1. {CHARS}"),
    ("z; import os", f"unsupported ';' (not an operator of the formula language) at position 2. {CHARS}"),
    ("z ** 1e9", ("exponent '1000000000' is too large at position 3. Valid: constant exponents from -16 to 16, "
                 "or exponents that involve z, u or a parameter")),
    ("9**9**9", ("exponent '9 ** 9' is too large at position 2. Valid: constant exponents from -16 to 16, or "
                "exponents that involve z, u or a parameter")),
    ("z ** 17", "exponent '17' is too large at position 3."),
    ("((z ** 16) ** 16) ** 16", "nested powers reach z**256 at position 12. Valid: total powers up to 64"),
    ("((1e12 * z) ** 16) ** 4", ("constant '((1000000000000 * z) ** 16) ** 4' is too large at position 20. "
                                "Valid: exact constants of up to 400 digits")),
    ("1e99999999999 * z", "number '1e99999999999' is out of range at position 1."),
    ("(" * 10_000 + "z" + ")" * 10_000, "formula is 20001 characters long. Valid: up to 2000 characters"),
    ("(" * 40 + "z" + ")" * 40, "nesting deeper than 32 levels at position 33. Valid: shallower formulas"),
    ("-" * 100 + "z", "nesting deeper than 32 levels at position 32. Valid: shallower formulas"),
    ("z + " * 250_000 + "z", "formula is 1000001 characters long. Valid: up to 2000 characters"),
    ("+".join(["z"] * 400), "formula has more than 300 nodes at position 300. Valid: shorter formulas"),
    ("z\n+ __x", "name '__x' starts with '_' (no such names exist here) at position 5."),
    ("z\x00", f"unexpected character '\\x00' at position 2. {CHARS}"),
]


@pytest.fixture
def no_evaluation(monkeypatch):
    """Calls of eval/exec/compile, of a sentinel builtin, and imports, recorded while a test runs.

    The recorders pass calls on (pytest itself compiles source to report a failure).
    """
    calls = []

    def recorder(name, real=None):
        def f(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs) if real else None
        return f

    real_import = builtins.__import__

    def recording_import(name, *args, **kwargs):
        calls.append(("import", name))
        return real_import(name, *args, **kwargs)

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, recorder(name, getattr(builtins, name)))
    monkeypatch.setattr(builtins, "__import__", recording_import)
    monkeypatch.setattr(builtins, "fastact_sentinel", recorder("fastact_sentinel"), raising=False)
    return calls


@pytest.mark.parametrize("text, message", HOSTILE, ids=[re.sub(r"\W", "_", h[0][:24]) for h in HOSTILE])
def test_hostile_formulas_are_refused_in_one_line_without_evaluating(text, message, no_evaluation):
    with pytest.raises(FormulaError) as info:
        compile_formula("hostile", text)
    calls = list(no_evaluation)
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 400
    assert msg.startswith("hostile: " + message), msg
    assert [c for c in calls if not isinstance(c, tuple)] == [], calls  # no eval, exec, compile, sentinel
    assert not {c[1] for c in calls if isinstance(c, tuple)} & {"os", "subprocess", "sympy", "numba"}, calls


def test_a_hostile_formula_in_a_valid_one_is_not_run_either(no_evaluation):
    with pytest.raises(FormulaError, match=r"^hostile: 'fastact_sentinel' is not a known function at position 9\."):
        compile_formula("hostile", "z + exp(fastact_sentinel(z))")
    assert "fastact_sentinel" not in no_evaluation


def test_the_recorders_would_see_an_evaluation(no_evaluation):
    # The check above is only worth something if evaluating the text would be recorded.
    eval("fastact_sentinel()")
    assert [c for c in no_evaluation if not isinstance(c, tuple)] == ["eval", "fastact_sentinel"]


def test_limits_are_where_the_documentation_says():
    assert LIMITS["length"] == 2000 and LIMITS["depth"] == 32 and LIMITS["exponent"] == 16
    parse("(" * 31 + "z" + ")" * 31)  # 31 parentheses + the top level: 32 levels
    parse("z ** 16 + z ** -16 + z ** 0.5")
    parse("(z ** 8) ** 8")
    parse("z" + " + z" * 149)  # 299 nodes


def test_tokens_keep_positions():
    assert tokenize("z **2") == [("name", "z", 1), ("op", "**", 3), ("num", "2", 5), ("end", "", 6)]
