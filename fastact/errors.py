"""The one structured error for a bad setting, raised by every layer of the library.

A `SettingsError` carries *which* setting (``field``), *what* was received (``value``) and the
*rule* it breaks, instead of a finished sentence, so each interface words it in its own
vocabulary while the rule itself is written once, where it is checked:

* the library: ``epochs must be a positive integer. Received: epochs=0``
* the CLI: ``--epochs must be a positive integer. Received: epochs=0``
* the TUI: the message under the Epochs field, and the field marked invalid.

Field names are the library's: a `TrainConfig` field (``"epochs"``, ``"batch_size"``) or
``"<activation>.<parameter>"`` for an activation parameter (``"rrelu.lower"``). A rule may name
other settings as ``{key}`` placeholders (``"<= {upper}"``), listed in ``others`` as
``key -> (field, value)``, so a cross-setting rule names each setting in the reader's words.

Example:
    >>> err = SettingsError("rrelu.lower", 0.5, "<= {upper}", others={"upper": ("rrelu.upper", 0.1)})
    >>> str(err)
    'rrelu.lower must be <= rrelu.upper. Received: lower=0.5, upper=0.1'
    >>> err.render(lambda f: "--" + f.replace(".", "-"), lambda f: f.replace(".", "_"))
    '--rrelu-lower must be <= --rrelu-upper. Received: rrelu_lower=0.5, rrelu_upper=0.1'
"""

from __future__ import annotations

from typing import Callable


def _same(field: str) -> str:
    return field


def _short(field: str) -> str:
    """``"rrelu.lower"`` -> ``"lower"``: the keyword a library caller passed."""
    return field.rsplit(".", 1)[-1]


class SettingsError(ValueError):
    """``field`` received ``value``, which breaks ``rule`` (see the module docstring)."""

    def __init__(self, field: str, value, rule: str, others: dict[str, tuple[str, object]] | None = None):
        self.field, self.value, self.rule = field, value, rule
        self.others = dict(others or {})
        super().__init__(self.render())

    @property
    def fields(self) -> list[str]:
        """Every setting the rule involves, ``field`` first."""
        return [self.field, *(f for f, _ in self.others.values())]

    def render(self, name: Callable[[str], str] = _same, key: Callable[[str], str] = _short) -> str:
        """The message with each field shown as ``name(field)`` in the text and ``key(field)`` after Received."""
        rule = self.rule.format(**{k: name(f) for k, (f, _) in self.others.items()})
        received = [(self.field, self.value), *self.others.values()]
        shown = ", ".join(f"{key(f)}={v!r}" for f, v in received)
        return f"{name(self.field)} must be {rule}. Received: {shown}"

    def __reduce__(self):  # picklable, so errors cross process (and Dask) boundaries intact
        return (type(self), (self.field, self.value, self.rule, self.others))
