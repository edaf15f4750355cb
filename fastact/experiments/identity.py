"""Run identity: a stable key for what a run computes, and a readable label of what varies.

`canonical` resolves a configuration (a `TrainConfig` dict, live or from ``config.json``) to
what actually determines the run: missing fields take `TrainConfig`'s defaults, the
activation's name is canonical and its parameters are resolved to the table's defaults
(``leaky_relu`` with ``{}`` is ``leaky_relu`` with ``{"negative_slope": 0.3}``), numbers get
one type (``lr=1e-3`` is ``lr=0.001``), settings that cannot matter are dropped (``momentum``
and ``nesterov`` unless the optimizer is SGD, ``prelu`` unless the activation is PReLU), and
the `IDENTITY_EXCLUDE` fields go (where files are written, thread counts: results are bitwise
the same for any thread count).

`run_key` is the first 16 hex digits of the SHA-256 of the canonical form as sorted JSON.

`settings` flattens a configuration into the vocabulary tables, ``--where`` and ``--group-by``
use: ``act``; each activation parameter by its option name with underscores
(``negative_slope``, ``rrelu_lower``: the ``--negative-slope`` flag's name); ``depth`` and
``width`` (the hidden layers' count and width, or ``width="512-256"`` when they differ); then
every other field. `varying` lists the settings that differ among configurations, `label`
writes one configuration as its activation followed by those settings:
``leaky_relu slope=0.2``, ``relu depth=3 seed=4`` (a parameter shows its short name).

Example:
    >>> a = {"act": "relu", "hidden": [512], "seed": 0}
    >>> b = {"act": "relu", "hidden": [512, 512, 512], "seed": 4}
    >>> varying([a, b])
    ['depth', 'seed']
    >>> label(b, varying([a, b]))
    'relu depth=3 seed=4'
    >>> run_key({**a, "threads": 2, "out": "x"}) == run_key({**a, "lr": 1e-3})
    True
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import fields

from fastact import activations
from fastact.errors import SettingsError
from fastact.training import TrainConfig

#: TrainConfig fields that do not change what a run computes: where it writes, how many threads
#: (results are bitwise identical for any count), where the data files are found (the data's
#: identity is its checksums, recorded beside each run), whether the best weights are written.
IDENTITY_EXCLUDE: frozenset[str] = frozenset({"out", "threads", "data_dir", "save_best"})

_FIELDS = {f.name: f for f in fields(TrainConfig)}
_DEFAULTS = TrainConfig().to_dict()
_FLOATS = {"lr", "momentum", "weight_decay", "val_split", "min_delta"}
_INTS = {"epochs", "batch_size", "seed", "early_stopping"}
_BOOLS = {"nesterov", "restore_best_weights"}
#: settings in the order tables and labels show them (activation parameters follow ``act``)
ORDER = ("act", "depth", "width", "epochs", "batch_size", "lr", "optimizer", "momentum", "nesterov",
         "weight_decay", "val_split", "dataset", "data", "dtype", "prelu", "early_stopping", "monitor", "min_delta",
         "restore_best_weights", "seed")


def _num(v, kind):
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    if kind is float:
        return float(v)
    return int(v) if float(v).is_integer() else v


def _params(act: str, params) -> dict:
    try:
        return activations.get(act).resolve(**dict(params or {}))
    except (SettingsError, TypeError):
        return dict(sorted((params or {}).items()))  # an invalid config still gets a key


def canonical(config: dict) -> dict:
    """What determines the run (module docstring): a plain, JSON-ready dict."""
    c = {**_DEFAULTS, **{k: v for k, v in dict(config).items() if k in _FIELDS}}
    try:
        c["act"] = activations.get(c["act"]).name
    except SettingsError:
        pass
    c["act_params"] = _params(c["act"], c.get("act_params"))
    c["hidden"] = [int(h) if isinstance(h, (int, float)) and not isinstance(h, bool) else h
                   for h in (c["hidden"] if isinstance(c["hidden"], (list, tuple)) else [c["hidden"]])]
    for k in _FLOATS:
        c[k] = _num(c[k], float)
    for k in _INTS:
        c[k] = _num(c[k], int)
    if isinstance(c["optimizer"], str):
        c["optimizer"] = c["optimizer"].lower()
    if c["optimizer"] != "sgd":  # Adam and AdamW take no momentum
        c.pop("momentum")
        c.pop("nesterov")
    if c["act"] != "prelu":
        c.pop("prelu")
    for k in IDENTITY_EXCLUDE:
        c.pop(k, None)
    return c


def run_key(config: dict) -> str:
    """16 hex digits naming what ``config`` computes (`canonical`), stable across versions and machines."""
    text = json.dumps(canonical(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def param_setting(act: str, param: str) -> str:
    """The setting name of an activation parameter: its option with underscores (``rrelu_lower``)."""
    return activations.get(act).option(param).replace("-", "_")


def short_name(setting: str) -> str:
    """How a label shows a setting: a parameter by its last word (``negative_slope`` -> ``slope``)."""
    for act in activations.ACTIVATIONS.values():
        for p in act.params:
            if param_setting(act.name, p.name) == setting:
                return p.name.rsplit("_", 1)[-1]
    return setting


def settings(config: dict) -> dict:
    """The flat settings of one configuration, in `ORDER` (parameters after ``act``), seed included."""
    c = canonical(config)
    out = {"act": c["act"]}
    act_ok = c["act"] in activations.ACTIVATIONS
    for name, value in c["act_params"].items():
        out[param_setting(c["act"], name) if act_ok else f"{c['act']}_{name}"] = value
    hidden = c["hidden"]
    out["depth"] = len(hidden)
    out["width"] = hidden[0] if hidden and all(h == hidden[0] for h in hidden) else "-".join(map(str, hidden))
    for k in ORDER[3:]:
        if k in c:
            out[k] = c[k]
    return out


def names(settings_list) -> list[str]:
    """Every setting name present in ``settings_list`` (flat dicts), in display order."""
    seen: dict[str, None] = {}
    for s in settings_list:
        for k in s:
            seen.setdefault(k, None)
    rank = {k: i for i, k in enumerate(ORDER)}
    params = [k for k in seen if k not in rank]
    return ["act", *params, *[k for k in ORDER[1:] if k in seen]] if "act" in seen else [*params, *seen]


def varying_settings(settings_list) -> list[str]:
    """The names whose value differs among the flat dicts that have them, in display order."""
    out = []
    for k in names(settings_list):
        values = {_hashable(s[k]) for s in settings_list if k in s}
        if len(values) > 1:
            out.append(k)
    return out


def varying(configs: list[dict]) -> list[str]:
    """The settings that differ among ``configs`` (seed included), in display order."""
    return varying_settings([settings(c) for c in configs])


def fmt(value) -> str:
    """A setting's value as labels and tables show it."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return "-".join(map(fmt, value))
    return str(value)


def label_settings(flat: dict, varying: list[str]) -> str:
    """The label of flat settings: the activation, then ``name=value`` for each varying setting it has."""
    parts = [str(flat["act"])] if "act" in flat else []
    parts += [f"{short_name(k)}={fmt(flat[k])}" for k in varying if k != "act" and k in flat]
    return " ".join(parts)


def label(config: dict, varying: list[str]) -> str:
    """``leaky_relu slope=0.2``, ``relu depth=3 seed=4``: the activation and what varies."""
    return label_settings(settings(config), varying)


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v
