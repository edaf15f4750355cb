"""A report as a list of blocks, rendered twice: as Markdown (`markdown.render`) and as one
self-contained HTML page (`html.render`). Writing the content once keeps the two in step.

Inline text may use ``**bold**`` and ```code``` (both renderers understand exactly these two).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    #: per column: "l" or "r" (default: the first column left, the rest right)
    align: str = ""

    def alignment(self) -> str:
        return self.align or "l" + "r" * (len(self.header) - 1)


@dataclass
class Code:
    text: str
    lang: str = ""


@dataclass
class Figure:
    """A written figure (`fastact.experiments.figures.writers.Written`) and its caption."""

    written: object
    caption: str = ""


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)
