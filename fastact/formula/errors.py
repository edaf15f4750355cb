"""The error and warning a formula definition raises.

Every message is one line: it names the bad token, name or value (with its
position in the formula, 1-based) and lists what is valid there. User text is
shown through :func:`show`, which quotes it, escapes control characters and
cuts it short, so a hostile formula cannot spill over lines.
"""

from __future__ import annotations


class FormulaError(ValueError):
    """A formula, parameter or rule that cannot be defined; the message says why in one line."""


class FormulaWarning(UserWarning):
    """A formula that is defined but overflows (or is not finite) somewhere it is checked."""


def show(text: object, limit: int = 40) -> str:
    """``repr`` of ``text`` cut to ``limit`` characters: safe to put in a one-line message."""
    s = text if isinstance(text, str) else str(text)
    if len(s) > limit:
        return repr(s[:limit]) + f"... ({len(s)} characters)"
    return repr(s)
