"""Grouping that never lies: runs are averaged only with runs of the same configuration.

By default a group is every run whose full configuration (`fastact.experiments.identity.canonical`)
is the same except for the seed, trained on the same data (name and file checksums): a 10-epoch
run never joins 2-epoch ones, ReLU at depth 3 never joins depth 1. ``by=["act", "depth"]`` groups
by those settings alone, on request; the settings that then differ inside a group are listed in
`Group.mixed`, so a table can say so. ``where`` keeps the runs whose settings match
(``{"act": "relu", "depth": 3}``; values may be text as typed, ``"relu|tanh"`` for either).

Labels come from `fastact.experiments.identity.label_settings` over the settings that differ
between the groups: ``relu depth=3``, ``leaky_relu slope=0.2``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

from fastact import activations
from fastact.errors import SettingsError
from fastact.experiments import identity
from fastact.experiments.metrics import normalize, run_metrics
from fastact.experiments.stats import Stat, describe


@dataclass
class Group:
    """Runs of one configuration (seeds apart). ``settings``: what they share, seed excluded."""

    key: str
    label: str
    settings: dict
    runs: list[dict]
    mixed: list[str] = field(default_factory=list)

    def values(self, metric: str) -> list[float]:
        """The metric of every run that has it, in run order."""
        return [v for v in (run_metrics(r)[metric] for r in self.runs) if v is not None]

    def stat(self, metric: str) -> Stat:
        """Mean, sample std (ddof=1) and 95% interval of the metric over the group's runs."""
        return describe(self.values(metric))

    @property
    def seeds(self) -> list:
        return [r["config"].get("seed") for r in self.runs]

    @property
    def statuses(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.runs:
            out[r["status"]] = out.get(r["status"], 0) + 1
        return out


def flat_settings(run: dict) -> dict:
    """A normalized run's settings (`identity.settings`) plus ``data`` (its data identity)."""
    s = identity.settings(run["config"])
    if run.get("data") is not None:
        s["data"] = run["data"]
    return s


def known_settings(flats=()) -> list[str]:
    """Every name ``where``/``by`` accept: the configuration fields, every activation parameter, data."""
    params = [identity.param_setting(a.name, p.name) for a in activations.ACTIVATIONS.values() for p in a.params]
    return identity.names([*flats, {k: None for k in (*identity.ORDER, *params)}])


def parse_where(text: str) -> dict[str, str]:
    """``"act=relu,depth=3"`` -> ``{"act": "relu", "depth": "3"}``.

    Raises:
        SettingsError: (field ``where``) anything but ``name=value`` pairs separated by commas.
    """
    out = {}
    for part in (text or "").split(","):
        name, eq, value = part.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise SettingsError("where", text, "name=value pairs separated by commas, e.g. act=relu,depth=3")
        out[name.strip().replace("-", "_")] = value.strip()
    return out


def _eq(actual, wanted) -> bool:
    if isinstance(wanted, str):
        w = wanted.strip()
        if isinstance(actual, bool):
            return w.lower() in ("true", "1", "yes", "on") if actual else w.lower() in ("false", "0", "no", "off")
        if actual is None:
            return w.lower() in ("none", "null", "")
        if isinstance(actual, (int, float)):
            try:
                return math.isclose(float(w), float(actual), rel_tol=1e-9, abs_tol=1e-12)
            except ValueError:
                return False
        try:
            w = activations.get(w).name
        except SettingsError:
            pass
        return str(actual).lower() == w.lower()
    if isinstance(actual, (int, float)) and isinstance(wanted, (int, float)) and not isinstance(wanted, bool):
        return math.isclose(float(wanted), float(actual), rel_tol=1e-9, abs_tol=1e-12)
    return actual == wanted


def _matches(flat: dict, where: dict) -> bool:
    for name, wanted in where.items():
        if name not in flat:
            return False
        options = wanted.split("|") if isinstance(wanted, str) else [wanted]
        if not any(_eq(flat[name], w) for w in options):
            return False
    return True


def _check_names(names, flats, field_name: str) -> None:
    valid = known_settings(flats)
    for n in names:
        if n not in valid:
            raise SettingsError(field_name, n, f"a setting: one of {', '.join(valid)}")


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def group_runs(runs, by: list[str] | None = None, where: dict | None = None) -> list[Group]:
    """Runs (`RunResult` s or `fastact.training.runs.load_run` dicts) grouped (module docstring).

    Groups come in the order their first run appears; each run appears in exactly one group.

    Raises:
        SettingsError: ``where`` or ``by`` names no setting (field ``where`` / ``group_by``).
    """
    rs = [normalize(r) for r in runs]
    flats = [flat_settings(r) for r in rs]
    where = {k.replace("-", "_"): v for k, v in (where or {}).items()}
    _check_names(where, flats, "where")
    if by is not None:
        by = [b.replace("-", "_") for b in by]
        _check_names(by, flats, "group_by")
    keyed: dict[str, tuple[list[dict], list[dict]]] = {}
    for r, flat in zip(rs, flats):
        if not _matches(flat, where):
            continue
        if by is None:
            key = _digest([identity.run_key({**r["config"], "seed": 0}), r.get("data")])
        else:
            key = _digest([[b, flat.get(b)] for b in by])
        members, member_flats = keyed.setdefault(key, ([], []))
        members.append(r)
        member_flats.append(flat)
    groups = []
    for key, (members, member_flats) in keyed.items():
        inside = [k for k in identity.varying_settings(member_flats) if k != "seed"]
        shared = {k: v for k, v in member_flats[0].items()
                  if k != "seed" and k not in inside and all(k in f for f in member_flats)}
        groups.append(Group(key, "", shared, members, inside))
    _label(groups)
    return groups


def _label(groups: list[Group]) -> None:
    between = identity.varying_settings([g.settings for g in groups])
    for g in groups:
        g.label = identity.label_settings(g.settings, between) or "all runs"
    seen: dict[str, int] = {}
    for g in groups:
        seen[g.label] = seen.get(g.label, 0) + 1
    for g in groups:
        if seen[g.label] > 1:  # only when `by` leaves groups that share every shown setting
            g.label = f"{g.label} [{g.key[:6]}]"
