"""Form controls that keep the keyboard predictable.

`FieldInput`: a text field that takes only the characters its value can hold. Any other key
is not typed but goes on to the app's shortcuts, so ``s`` in Epochs stops the run (it never
becomes ``20s``) and ``q`` quits. In a free-text field (Dataset, Data dir, the benchmark's
activations) letters are text: there the footer shows ``ctrl+r`` / ``ctrl+s`` / ``ctrl+q``,
which work everywhere. Escape leaves a field.

`ActChecklist`: the activation checklist with the state as text, ``[x] relu`` / ``[ ] tanh``,
not only as a colour.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.strip import Strip
from textual.widgets import Input, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

#: what each kind of field can hold
INTEGER = "0123456789"
NUMBER = INTEGER + ".eE+-"
INTEGERS = INTEGER + " ,"  # a list of integers: hidden sizes, batch sizes
VALUES = NUMBER + ":, "  # sweep values: numbers and start:stop:step ranges


class FieldInput(Input):
    """An Input for ``accepts`` characters only (None: any printable character)."""

    BINDINGS = [Binding("escape", "leave", "Leave field")]

    def __init__(self, value: str = "", *, accepts: str | None = None, **kw):
        super().__init__(value, **kw)
        self.accepts = accepts

    def holds(self, character: str | None) -> bool:
        return character is not None and (self.accepts is None or character in self.accepts)

    def check_consume_key(self, key: str, character: str | None) -> bool:
        # What Textual asks to decide which app bindings stay active (and shown) while this has focus.
        return super().check_consume_key(key, character) and self.holds(character)

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable and not self.holds(event.character):
            # Not typed, not stopped: the key bubbles up to the app's bindings. prevent_default
            # keeps Input's own handler (which types every printable key) from running.
            event.prevent_default()

    def action_leave(self) -> None:
        """Focus the panel around the field (the settings list), or nothing."""
        for node in self.ancestors:
            if getattr(node, "can_focus", False) and getattr(node, "focusable", False):
                node.focus()
                return
        self.screen.set_focus(None)


class ActChecklist(SelectionList):
    """A SelectionList whose boxes read ``[x]`` or ``[ ]`` (bold when ticked)."""

    BINDINGS = [Binding("space", "select", "Tick")]

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return line  # below the last option: the base drew no box
        # The base puts the box first: left edge, inner glyph, right edge and a space. Replace
        # those four cells with four characters, keeping the inner glyph's click target (meta).
        box, rest = list(line)[:4], list(line)[4:]
        ticked = option.value in self.selected
        base = rest[0].style if rest and rest[0].style is not None else Style()
        meta = box[1].style.meta if box[1].style is not None else None
        mark = Segment("[x] " if ticked else "[ ] ", base + Style(bold=ticked, meta=meta))
        return Strip([mark, *rest])
