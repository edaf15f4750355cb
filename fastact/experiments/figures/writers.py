"""Writing a figure: ``<name>.png`` (150 dpi) and ``<name>.svg`` side by side, reproducibly.

The PNG is exactly ``figsize * DPI`` pixels (no ``bbox_inches="tight"``, which would crop it to
a data-dependent size; constrained layout keeps the labels inside instead). Both files carry no
timestamp, and the SVG uses fixed element ids (`style.RC`), so redrawing the same data writes
the same bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from fastact.experiments.figures.style import DPI, style_context


@dataclass
class Written:
    """One figure on disk: its two files, pixel size, and what the report says about it."""

    name: str
    title: str
    png: Path
    svg: Path
    size_px: tuple[int, int]
    caption: str = ""
    notes: list[str] = field(default_factory=list)


def pixel_size(fig) -> tuple[int, int]:
    """The PNG's ``(width, height)``: the figure size in inches times `DPI`, rounded."""
    w, h = fig.get_size_inches()
    return round(w * DPI), round(h * DPI)


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def save(fig, outdir, name: str, title: str = "", caption: str = "", notes=()) -> Written:
    """Write ``fig`` as ``outdir/name.png`` and ``outdir/name.svg`` (each replaced atomically)."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{name}.png", out / f"{name}.svg"
    with style_context():
        _atomic(png, lambda p: fig.savefig(p, format="png", dpi=DPI, metadata={"Software": None}))
        # The layout is solved; keep it for the SVG (solving constrained layout again doubled the time).
        fig.set_layout_engine("none")
        _atomic(svg, lambda p: fig.savefig(p, format="svg", metadata={"Date": None, "Creator": None}))
    return Written(name, title, png, svg, pixel_size(fig), caption, list(notes))
