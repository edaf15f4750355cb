"""`render(doc, figures_rel)`: the report as GitHub-flavoured Markdown; figures are linked as
files (``figures/curves.png``, its SVG beside it), relative to the report."""

from __future__ import annotations

import os
from pathlib import Path

from fastact.experiments.report.document import Bullets, Code, Document, Figure, Heading, Para, Table


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(t: Table) -> list[str]:
    rule = {"l": ":---", "r": "---:"}
    lines = ["| " + " | ".join(map(_cell, t.header)) + " |",
             "| " + " | ".join(rule[a] for a in t.alignment()) + " |"]
    lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in t.rows]
    return lines


def _rel(path, base: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), base.resolve())).as_posix()


def render(doc: Document, base) -> str:
    """Markdown text of ``doc``; figure paths are written relative to ``base`` (the report's folder)."""
    base = Path(base)
    out = [f"# {doc.title}", ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += [f"{'#' * b.level} {b.text}", ""]
        elif isinstance(b, Para):
            out += [b.text, ""]
        elif isinstance(b, Bullets):
            out += [f"- {item}" for item in b.items] + [""]
        elif isinstance(b, Table):
            out += _table(b) + [""]
        elif isinstance(b, Code):
            out += [f"```{b.lang}", b.text.rstrip("\n"), "```", ""]
        elif isinstance(b, Figure):
            w = b.written
            out += [f"![{w.title or w.name}]({_rel(w.png, base)})", "",
                    f"{b.caption or w.caption} ([SVG]({_rel(w.svg, base)}))", ""]
        else:
            raise TypeError(f"not a report block: {type(b).__name__}")
    return "\n".join(out).rstrip("\n") + "\n"
