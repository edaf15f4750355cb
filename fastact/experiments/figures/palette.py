"""One colour per activation, the same in every figure, the report and the TUI's charts.

No matplotlib here: the TUI imports this at start-up. Colours are keyed by the activation's
table name, never by the order a chart happens to draw its series, so ReLU is the same orange in
the accuracy curves, the depth study, the heatmap's legend and the dashboard.

The seed experiment's seven take Tableau-10 colours (distinguishable on dark and light
backgrounds, and for the common colour-vision deficiencies better than matplotlib's old
defaults); ``linear``, the baseline every claim is measured against, is the neutral grey. The
other built-ins take the remaining Tableau-10 colours, then Tableau-20b's darker ones, in table
order. A name outside the table (a user-defined activation) gets a colour from a stable hash of
its name, so it too is the same in every figure.

Example:
    >>> color("relu"), rgb("relu")
    ('#ff7f0e', (255, 127, 14))
    >>> act_of("leaky_relu/s2"), act_of("relu train"), act_of("leaky_relu(negative_slope=0.1)")
    ('leaky_relu', 'relu', 'leaky_relu')
"""

from __future__ import annotations

import re
import zlib

from fastact import activations

#: the seed seven, by name (Tableau-10)
SEED = {"linear": "#7f7f7f", "softplus": "#9467bd", "sigmoid": "#1f77b4", "relu": "#ff7f0e",
        "leaky_relu": "#2ca02c", "prelu": "#8c564b", "rrelu": "#d62728"}
#: for every other activation, in table order: the rest of Tableau-10, then Tableau-20b
MORE = ("#17becf", "#bcbd22", "#e377c2", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
        "#5254a3", "#8ca252", "#bd9e39", "#ad494a", "#a55194")
#: a label that names no activation (a metric line, a parameter value)
NEUTRAL = "#4d4d4d"

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _table() -> dict[str, str]:
    others = [n for n in activations.ACTIVATIONS if n not in SEED]
    return {**SEED, **{n: MORE[i] for i, n in enumerate(others) if i < len(MORE)}}


def color(act: str) -> str:
    """``#rrggbb`` of activation ``act`` (a table name; any other name: a stable hashed pick)."""
    table = _table()
    if act in table:
        return table[act]
    return MORE[zlib.crc32(str(act).encode()) % len(MORE)]


def rgb(act: str) -> tuple[int, int, int]:
    """``color(act)`` as an ``(r, g, b)`` tuple of 0..255 (what plotext takes)."""
    h = color(act).lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def act_of(label: str) -> str | None:
    """The activation a series label starts with (``relu/s1``, ``relu train``, ``leaky_relu slope=0.2``,
    ``leaky_relu(negative_slope=0.1)``), or None when it names none."""
    m = _WORD.match(str(label).strip())
    if not m:
        return None
    word = m.group(0).lower()
    return word if word in activations.ACTIVATIONS else None


def color_for_label(label: str) -> str:
    """The colour of the activation ``label`` names (`act_of`), else `NEUTRAL`."""
    act = act_of(label)
    return color(act) if act else NEUTRAL
