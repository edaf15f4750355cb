"""The Log tab: everything the workers report, timestamped; errors also go out as notifications."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

STYLES = {"info": "", "warning": "yellow", "error": "bold red"}


class LogPanel(RichLog):
    def __init__(self, **kw):
        super().__init__(wrap=True, markup=False, highlight=False, **kw)
        self.lines_text: list[str] = []

    def log_line(self, text: str, level: str = "info") -> None:
        self.lines_text.append(f"[{level}] {text}")
        stamp = Text(time.strftime("%H:%M:%S "), style="dim")
        self.write(stamp + Text(text, style=STYLES.get(level, "")))
