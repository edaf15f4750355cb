"""Which figures a set of runs calls for, and the groups each one draws.

Runs are grouped by configuration (`fastact.experiments.grouping.group_runs`: never two
configurations in one group). The settings that differ between groups (`varying`) decide:

* the **centre**: each varying setting's most common value among the groups that have it (ties:
  the first seen). For the seed study that is one hidden layer and Leaky ReLU's default slope,
  the point its three parts (curves, slope sweep, depth study) share;
* **curves** (figure 1) and **spread** (figure 4): the groups at the centre in every setting but
  the activation, one line per activation;
* a **sweep** (figure 2, or figure 3 when the setting is ``depth``) for each numeric setting
  with at least two values among the groups at the centre in every *other* setting (one line
  per activation that has two or more of its values), and its spread (faceted by the value);
* a **heatmap** (figure 5) for each pair of varying settings whose groups (all others at the
  centre) fill a grid: at least two rows with at least two cells each;
* the **activations** (figure 6): the ones the runs used, from the activation table.

This reads the seed study's parts back out of its runs alone, and it works the same on any
``runs/`` folder: a plain comparison of activations is just its curves and spread.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from fastact import activations
from fastact.experiments import identity


@dataclass
class Planned:
    """One figure to draw: its kind (``curves``, ``sweep``, ``depth``, ``spread``, ``heatmap``,
    ``activations``), a file name, the groups it draws and the setting(s) it is about."""

    kind: str
    name: str
    groups: list
    settings: tuple[str, ...] = ()
    acts: list[str] = field(default_factory=list)


def _h(v):
    return tuple(v) if isinstance(v, list) else v


def _numeric(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def varying(groups) -> list[str]:
    """The settings that differ between ``groups`` (the seed is never one: groups exclude it)."""
    return [k for k in identity.varying_settings([g.settings for g in groups]) if k not in ("seed", "data")]


def centre(groups, names) -> dict:
    """Each setting's most common value among the groups that have it (ties: the first seen)."""
    out = {}
    for k in names:
        counts = Counter(_h(g.settings[k]) for g in groups if k in g.settings)
        if counts:
            out[k] = max(counts, key=lambda v: (counts[v], -list(counts).index(v)))
    return out


def at_centre(groups, mid: dict, free) -> list:
    """The groups that sit at the centre in every setting except those in ``free`` (a group
    without a setting, e.g. ReLU and Leaky ReLU's slope, is at the centre for it)."""
    free = set(free)
    return [g for g in groups
            if all(k in free or k not in g.settings or _h(g.settings[k]) == v for k, v in mid.items())]


def _fills_grid(groups, a: str, b: str) -> bool:
    rows: dict = {}
    for g in groups:
        if a in g.settings and b in g.settings:
            rows.setdefault(_h(g.settings[a]), set()).add(_h(g.settings[b]))
    return sum(1 for cells in rows.values() if len(cells) >= 2) >= 2


def relabel(part: list) -> list:
    """Copies of ``part``'s groups labelled by what varies *within* it (``relu``, not ``relu depth=1``
    in a figure where every line has one hidden layer)."""
    between = varying(part)
    return [replace(g, label=identity.label_settings(g.settings, between) or g.label) for g in part]


def slug(name: str) -> str:
    return name.replace("_", "-")


def plan(groups) -> list[Planned]:
    """The figures ``groups`` call for (module docstring), in the order a report shows them."""
    groups = list(groups)
    names = varying(groups)
    mid = centre(groups, names)
    axes = [k for k in names if k != "act"]
    out: list[Planned] = []
    base = at_centre(groups, mid, {"act"})
    if base:
        base = relabel(base)
        out.append(Planned("curves", "curves", base))
    sweeps, spreads = [], [Planned("spread", "spread", base)] if base else []
    for k in axes:
        part = [g for g in at_centre(groups, mid, {"act", k}) if k in g.settings]
        values = {_h(g.settings[k]) for g in part}
        if len(values) < 2 or not all(_numeric(v) for v in values):
            continue
        per_line = Counter(g.settings.get("act") for g in part)
        part = [g for g in part if per_line[g.settings.get("act")] >= 2]  # a line needs two points
        if not part:
            continue
        part = relabel(part)
        kind = "depth" if k == "depth" else "sweep"
        sweeps.append(Planned(kind, "depth" if kind == "depth" else f"sweep-{slug(k)}", part, (k,)))
        spreads.append(Planned("spread", f"spread-{slug(k)}", part, (k,)))
    out += sweeps
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            part = [g for g in at_centre(groups, mid, {a, b}) if a in g.settings and b in g.settings]
            if _fills_grid(part, a, b):
                out.append(Planned("heatmap", f"heatmap-{slug(a)}-{slug(b)}", relabel(part), (a, b)))
    out += spreads
    acts = [n for n in activations.ACTIVATIONS if any(g.settings.get("act") == n for g in groups)]
    if acts:
        out.append(Planned("activations", "activations", [], (), acts))
    return out
