"""The definition field: type ``name = formula; param = default rule learnable`` and press enter.

Syntax errors show under the field as you type (the formula's whitelisted parser only: no
SymPy, no code). Enter compiles the formula in a worker thread (SymPy derivatives, code
generation, checks: ~0.1-1 s) and posts `DefineField.Compiled`; the settings panel then adds
the activation to the table on the UI thread (a cache hit by then) and to the checklist.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from fastact import activations
from fastact.formula import SYNTAX, FormulaError, FormulaWarning, check_syntax, compile_formula, parse_definition
from fastact_tui.widgets.fields import FieldInput

PLACEHOLDER = "name = formula; p = 1.0 > 0"


def check(text: str) -> dict:
    """The definition ``text`` parsed and its formula checked (`check_syntax`); `FormulaError` otherwise."""
    spec = parse_definition(text)
    check_syntax(spec["name"], spec["formula"], spec["params"], learnable=spec["learnable"], rules=spec["rules"])
    if spec["init"] not in activations.INITS:
        raise FormulaError(f"{spec['name']}: init must be one of {', '.join(activations.INITS)}. "
                           f"Received: init={spec['init']!r}")
    taken = activations.ACTIVATIONS.get(spec["name"])
    if taken is not None and taken.definition is None:
        raise FormulaError(f"{spec['name']!r} is a built-in activation; choose another name")
    return spec


def note(act: activations.Activation) -> str:
    """``hswish: y = z * clip(z + 3, 0, 6) / 6`` (plus its parameters)."""
    params = ", ".join(f"{p.name}={p.default:g}" + (" learnable" if p.name == act.learnable else "")
                       for p in act.params)
    return f"{act.name}: {act.formula}" + (f" ({params})" if params else "")


class DefineField(Vertical):
    """An input for one definition, its error line and the list of what is defined."""

    @dataclass
    class Compiled(Message):
        """A definition compiled in the worker: ``spec`` to `fastact.activations.define` (replace=True)."""

        spec: dict
        seconds: float
        warning: str | None = None  # where it overflows, if it does (shown, never printed over the UI)

    def compose(self) -> ComposeResult:
        yield Label("Define an activation", classes="section")
        yield FieldInput("", id="f-define", placeholder=PLACEHOLDER, compact=True, tooltip=SYNTAX)
        yield Static("", id="e-define", classes="error")
        yield Static(self.defined_text(), id="define-note")

    def defined_text(self) -> str:
        return "\n".join(note(a) for a in activations.ACTIVATIONS.values() if a.definition is not None)

    def show(self, error: str = "") -> None:
        err = self.query_one("#e-define", Static)
        err.update(error)
        err.set_class(bool(error), "shown")
        self.query_one("#f-define", Input).set_class(bool(error), "-invalid")

    def refresh_note(self) -> None:
        self.query_one("#define-note", Static).update(self.defined_text())

    @on(Input.Changed, "#f-define")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()  # not a training setting: the form is not re-validated
        text = event.value.strip()
        try:
            if text:
                check(text)
        except FormulaError as exc:
            self.show(str(exc))
            return
        self.show()

    @on(Input.Submitted, "#f-define")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()  # enter here defines; it does not start a run
        text = event.value.strip()
        if not text:
            return
        try:
            spec = check(text)
        except FormulaError as exc:
            self.show(str(exc))
            return
        self.show()
        self.query_one("#define-note", Static).update(f"compiling {spec['name']} …")
        self._compile(spec)

    @work(thread=True, group="define", exclusive=True, exit_on_error=False)
    def _compile(self, spec: dict) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FormulaWarning)  # kept as f.warning, shown in the UI
                f = compile_formula(spec["name"], spec["formula"], spec["params"], learnable=spec["learnable"],
                                    rules=spec["rules"])
        except FormulaError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.post_message(self.Compiled(spec, f.compile_seconds, f.warning))

    def _failed(self, message: str) -> None:
        self.show(message)
        self.refresh_note()
