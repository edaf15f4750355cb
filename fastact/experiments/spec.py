"""Study specs: a study is data, a TOML file of a base configuration and grids ("parts").

```toml
name = "mine"
seeds = [0, 1, 2]                  # or a count: seeds = 3 (0, 1, 2)
[base]                             # any TrainConfig setting (not out, threads, data_dir: flags)
epochs = 5
hidden = [256]
[[parts]]
name = "acts"
act = ["relu", "tanh"]             # names, "all" (the seed's seven) or "every"
baseline = { act = "relu" }        # what `compare` tests the others against
[[parts]]
name = "slope"
negative_slope = "0:0.5:0.1"       # an activation parameter implies its activation
[[parts]]
name = "depth"
act = "all"
depth = [1, 2, 3]                  # depth/width build `hidden` (width: base's first width)
baseline = { depth = 1 }
within = ["act"]                   # one baseline per activation
[quick]                            # --quick overrides
seeds = [0]
base.epochs = 2
parts.depth.depth = [1, 2]
```

A part is the product of its axes (each a list of values, a ``"start:stop:step"`` string for
numbers, or one value) times the seeds; an activation parameter axis multiplies only the
configurations of its activation. Points of different parts with the same run key
(`fastact.experiments.identity.run_key`) are one point, run once. Every field is checked
(TrainConfig's rules and the spec's own); a bad one raises `SpecError` naming the spec field,
``parts[1].negative_slope`` (parts count from 0), ``base.epochs``, ``quick.base.epochs``.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from fastact import activations
from fastact.errors import SettingsError
from fastact.experiments import identity
from fastact.experiments.builtins import BUILTINS
from fastact.experiments.grouping import _matches
from fastact.experiments.sweep import parse_values
from fastact.training import TrainConfig
from fastact.training.config import MAX_SEEDS, SEED_LIMIT

TOP_KEYS = ("name", "description", "seeds", "base", "parts", "quick")
PART_KEYS = ("name", "title", "seeds", "baseline", "within")
#: machine-specific settings: given on the command line, never in a spec
FLAGS_ONLY = {"out": "--out", "threads": "--threads", "data_dir": "--data-dir"}
#: the most points one spec may expand to
MAX_POINTS = 20_000


class SpecError(SettingsError):
    """A bad field of a study spec; ``field`` is its path in the spec (``parts[1].negative_slope``)."""


def param_settings() -> dict[str, tuple[str, str]]:
    """setting name -> (activation, parameter), e.g. ``negative_slope`` -> (``leaky_relu``, ``negative_slope``)."""
    return {identity.param_setting(a.name, p.name): (a.name, p.name)
            for a in activations.ACTIVATIONS.values() for p in a.params}


def settable() -> list[str]:
    fixed = [f for f in TrainConfig.field_names() if f not in (*FLAGS_ONLY, "act_params", "seed")]
    return [*fixed, "depth", "width", *param_settings()]


@dataclass(frozen=True)
class Part:
    """One grid: ``axes`` maps a setting to its values (one value is a one-element list)."""

    name: str
    index: int
    axes: dict
    seeds: tuple[int, ...]
    title: str = ""
    baseline: dict | None = None
    within: tuple[str, ...] = ()


@dataclass
class Point:
    """One run of the study: its key, configuration (``out=None``), label and the parts it is in."""

    key: str
    config: TrainConfig
    parts: list[str] = field(default_factory=list)
    label: str = ""


@dataclass
class StudySpec:
    name: str
    description: str
    base: dict
    seeds: tuple[int, ...]
    parts: list[Part]
    text: str
    source: str
    quick: bool = False
    origin: dict = field(default_factory=dict)  # (section, key) -> the spec path that set it

    def with_base(self, given_as: str, **settings) -> "StudySpec":
        """A copy with ``settings`` in its base (``--dataset``), checked again; errors name ``given_as``."""
        origin = {**self.origin, **{("base", k): given_as for k in settings}}
        spec = replace(self, base={**self.base, **settings}, origin=origin)
        _check_points(spec)
        return spec

    def path(self, section: str, key: str) -> str:
        return self.origin.get((section, key), f"{section}.{key}")

    def points(self, dataset: str | None = None, **machine) -> list[Point]:
        """Every point, in spec order, each key once.

        ``dataset`` replaces ``"auto"`` (the name of the dataset it resolved to); ``machine`` sets
        fields that do not change a run's key (``data_dir``, ``threads``: `identity.IDENTITY_EXCLUDE`).
        """
        bad = set(machine) - identity.IDENTITY_EXCLUDE
        if bad:
            raise ValueError(f"only {', '.join(sorted(identity.IDENTITY_EXCLUDE))} can be set per machine. "
                             f"Received: {', '.join(sorted(bad))}")
        out: dict[str, Point] = {}
        for part in self.parts:
            for cfg in _part_configs(self, part):
                if dataset and cfg.dataset == "auto":
                    cfg = replace(cfg, dataset=dataset)
                cfg = replace(cfg, **machine)
                key = identity.run_key(cfg.to_dict())
                p = out.setdefault(key, Point(key, cfg))
                if part.name not in p.parts:
                    p.parts.append(part.name)
        points = list(out.values())
        v = identity.varying([p.config.to_dict() for p in points])
        for p in points:
            p.label = identity.label(p.config.to_dict(), v)
        return points


# ---- values -------------------------------------------------------------------------------------
def _list(path: str, value, kind: str) -> list:
    """An axis as a list: lists as they are, ``"a:b:s"`` text for numbers, else one value."""
    if kind == "number" and isinstance(value, str):
        try:
            return parse_values(value)
        except SettingsError as exc:
            raise SpecError(path, value, exc.rule) from None
    if kind == "hidden":
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            return value
        return [value]
    if isinstance(value, list):
        if not value:
            raise SpecError(path, value, "at least one value")
        return value
    return [value]


def _kind(setting: str) -> str:
    if setting == "hidden":
        return "hidden"
    if setting == "act":
        return "act"
    if setting in param_settings() or setting in ("depth", "width"):
        return "number"
    default = getattr(TrainConfig(), setting, None)
    if isinstance(default, bool):
        return "bool"
    return "number" if isinstance(default, (int, float)) or setting == "early_stopping" else "text"


def _acts(path: str, value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        raise SpecError(path, value, "activation names, 'all' or 'every'")
    try:
        return activations.expand(items)
    except SettingsError as exc:
        raise SpecError(path, exc.value, f"one of {', '.join([*activations.names('every'), 'all', 'every'])}") from None


def _check_key(path: str, key: str, allowed) -> None:
    if key in FLAGS_ONLY:
        raise SpecError(path, key, f"set on the command line ({FLAGS_ONLY[key]}), not in a spec")
    if key not in allowed:
        raise SpecError(path, key, f"one of {', '.join(allowed)}")


def _int_list(path: str, value) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_SEEDS:
            raise SpecError(path, value, f"a count in 1..{MAX_SEEDS} or a list of seeds")
        return tuple(range(value))
    ok = isinstance(value, list) and 1 <= len(value) <= MAX_SEEDS and all(
        isinstance(s, int) and not isinstance(s, bool) and 0 <= s < SEED_LIMIT for s in value)
    if not ok or len(set(value)) != len(value):
        raise SpecError(path, value, f"a count in 1..{MAX_SEEDS} or a list of distinct integers in [0, 2**63)")
    return tuple(value)


# ---- parsing ------------------------------------------------------------------------------------
def load_spec(name_or_path: str, quick: bool = False) -> StudySpec:
    """A built-in study by name, or a spec file.

    Raises:
        SpecError: no such study or file, bad TOML, or a bad field (named by its path).
    """
    if name_or_path in BUILTINS:
        return parse_spec(BUILTINS[name_or_path], f"built-in study {name_or_path!r}", quick)
    p = Path(name_or_path)
    if not p.is_file():
        raise SpecError("study", name_or_path, f"a built-in study ({', '.join(BUILTINS)}) or a .toml spec file")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("study", name_or_path, f"a readable UTF-8 file ({exc})") from None
    return parse_spec(text, str(p), quick)


def parse_spec(text: str, source: str = "<spec>", quick: bool = False) -> StudySpec:
    """Parse and check a spec (module docstring); ``quick`` applies its ``[quick]`` table."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError("spec", source, f"valid TOML ({exc})") from None
    for k in raw:
        _check_key(k, k, TOP_KEYS)
    origin: dict = {}
    if quick:
        raw = _apply_quick(raw, origin)
    name = raw.get("name", Path(source).stem if source.endswith(".toml") else "study")
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise SpecError("name", name, "a non-empty name without '/'")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SpecError("description", description, "text")
    seeds = _int_list(origin.get(("", "seeds"), "seeds"), raw.get("seeds", 1))
    base = raw.get("base", {})
    if not isinstance(base, dict):
        raise SpecError("base", base, "a table of settings ([base])")
    for k, v in base.items():
        _check_key(origin.get(("base", k), f"base.{k}"), k, ["act", "hidden", *settable()])
        if isinstance(v, list) and k != "hidden":
            raise SpecError(origin.get(("base", k), f"base.{k}"), v, "one value (grids go in [[parts]])")
    parts_raw = raw.get("parts")
    if not isinstance(parts_raw, list) or not parts_raw or not all(isinstance(p, dict) for p in parts_raw):
        raise SpecError("parts", parts_raw, "one or more [[parts]] tables")
    parts = [_part(i, p, seeds, origin) for i, p in enumerate(parts_raw)]
    names = [p.name for p in parts]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise SpecError(f"parts[{i}].name", n, "unique among the parts")
    spec = StudySpec(name.strip(), description, dict(base), seeds, parts, text, source, quick, origin)
    _check_points(spec)
    return spec


def _apply_quick(raw: dict, origin: dict) -> dict:
    q = raw.get("quick", {})
    if not isinstance(q, dict):
        raise SpecError("quick", q, "a table ([quick])")
    raw = {**raw, "base": dict(raw.get("base", {})), "parts": [dict(p) for p in raw.get("parts", [])
                                                                  if isinstance(p, dict)]}
    for k, v in q.items():
        _check_key(f"quick.{k}", k, ("seeds", "base", "parts"))
        if k == "seeds":
            raw["seeds"], origin[("", "seeds")] = v, "quick.seeds"
        elif not isinstance(v, dict):
            raise SpecError(f"quick.{k}", v, "a table")
        elif k == "base":
            for bk, bv in v.items():
                raw["base"][bk], origin[("base", bk)] = bv, f"quick.base.{bk}"
        else:
            by_name = {p.get("name"): (i, p) for i, p in enumerate(raw["parts"])}
            for pname, over in v.items():
                if pname not in by_name:
                    raise SpecError(f"quick.parts.{pname}", pname,
                                    f"the name of a part ({', '.join(map(str, by_name))})")
                if not isinstance(over, dict):
                    raise SpecError(f"quick.parts.{pname}", over, "a table of axes")
                i, p = by_name[pname]
                for ak, av in over.items():
                    p[ak], origin[(f"parts[{i}]", ak)] = av, f"quick.parts.{pname}.{ak}"
    return raw


def _part(i: int, raw: dict, seeds, origin) -> Part:
    where = f"parts[{i}]"
    path = lambda k: origin.get((where, k), f"{where}.{k}")  # noqa: E731
    name = raw.get("name", f"part{i}")
    if not isinstance(name, str) or not name.strip():
        raise SpecError(path("name"), name, "a non-empty name")
    title = raw.get("title", "")
    axes = {}
    for k, v in raw.items():
        if k in PART_KEYS:
            continue
        _check_key(path(k), k, [*PART_KEYS, "act", "hidden", *settable()])
        kind = _kind(k)
        axes[k] = _acts(path(k), v) if kind == "act" else _list(path(k), v, kind)
    if "hidden" in axes and ("depth" in axes or "width" in axes):
        raise SpecError(path("hidden"), raw["hidden"], "given alone (or use depth and width, not both)")
    params = param_settings()
    implied = {params[k][0] for k in axes if k in params}
    if "act" not in axes and implied:
        if len(implied) > 1:
            raise SpecError(where, sorted(implied), "parameters of one activation, or an 'act' axis")
        axes = {"act": sorted(implied), **axes}
    for k in axes:
        if k in params and params[k][0] not in axes.get("act", []):
            raise SpecError(path(k), raw[k], f"a parameter of an activation in {where}.act "
                                              f"({k} is {params[k][0]}'s, act has {', '.join(axes['act'])})")
    part_seeds = _int_list(path("seeds"), raw["seeds"]) if "seeds" in raw else seeds
    baseline = raw.get("baseline")
    if baseline is not None and (not isinstance(baseline, dict) or not baseline):
        raise SpecError(path("baseline"), baseline, "a table of settings, e.g. { act = \"relu\" }")
    for k in baseline or {}:
        _check_key(f"{path('baseline')}.{k}", k, ["act", *settable()])
    within = raw.get("within", [])
    if not isinstance(within, list) or not all(isinstance(w, str) for w in within):
        raise SpecError(path("within"), within, "a list of settings, e.g. [\"act\"]")
    for w in within:
        _check_key(f"{path('within')}", w, ["act", *settable()])
    return Part(name.strip(), i, axes, part_seeds, str(title), baseline, tuple(within))


# ---- points -------------------------------------------------------------------------------------
def _config(spec: StudySpec, part: Part, act: str, combo: dict, seed: int) -> tuple[TrainConfig, dict]:
    """The config of one grid point, and where each of its fields came from (for errors)."""
    params = param_settings()
    d, act_params, src = {}, {}, {"act": f"parts[{part.index}]" if "act" in part.axes else "base"}
    settings = [("base", k, v) for k, v in spec.base.items()] + [(f"parts[{part.index}]", k, v)
                                                                  for k, v in combo.items()]
    depth = width = None
    for section, k, v in settings:
        if k in params:
            if params[k][0] == act:
                act_params[params[k][1]] = v
                src[f"{act}.{params[k][1]}"] = spec.path(section, k)
        elif k == "depth":
            depth = v
            src["hidden"] = spec.path(section, k)
        elif k == "width":
            width = v
            src["hidden"] = spec.path(section, k)
        elif k != "act":
            d[k] = tuple(v) if k == "hidden" and isinstance(v, list) else v
            src[k] = spec.path(section, k)
    hidden = d.get("hidden", TrainConfig().hidden)
    if depth is not None or width is not None:
        for k, v in (("depth", depth), ("width", width)):
            if v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool)
                                      and float(v).is_integer() and v >= 1):
                raise SpecError(src["hidden"], v, f"a positive integer ({k})")
        w = int(width) if width is not None else (hidden[0] if hidden else 512)
        d["hidden"] = (w,) * int(depth if depth is not None else len(hidden))
    for k in ("epochs", "batch_size", "early_stopping"):
        if isinstance(d.get(k), float) and d[k].is_integer():
            d[k] = int(d[k])
    cfg = TrainConfig(**{**d, "act": act, "act_params": act_params, "seed": seed, "out": None})
    return cfg, src


def _raise_for(cfg: TrainConfig, src: dict) -> None:
    problems = cfg.problems()
    if not problems:
        return
    exc = problems[0]

    def path(f: str) -> str:
        if f in src:
            return src[f]
        if "." in f:  # an activation parameter left at its default: name it as a spec would set it
            act, param = f.split(".", 1)
            try:
                return f"base.{identity.param_setting(act, param)}"
            except SettingsError:
                pass
        return f"base.{f}"

    others = {k: (path(f), v) for k, (f, v) in exc.others.items()}
    raise SpecError(path(exc.field), exc.value, exc.rule, others)


def _part_configs(spec: StudySpec, part: Part):
    params = param_settings()
    acts = part.axes.get("act") or [spec.base.get("act", TrainConfig().act)]
    for act in acts:
        axes = [(k, v) for k, v in part.axes.items() if k != "act" and (k not in params or params[k][0] == act)]
        for values in itertools.product(*(v for _, v in axes)):
            combo = dict(zip((k for k, _ in axes), values))
            for seed in part.seeds:
                cfg, src = _config(spec, part, act, combo, seed)
                _raise_for(cfg, src)
                yield cfg


def _check_points(spec: StudySpec) -> None:
    total = 0
    for part in spec.parts:
        configs = []
        for cfg in _part_configs(spec, part):
            configs.append(cfg)
            total += 1
            if total > MAX_POINTS:
                raise SpecError("parts", f"more than {MAX_POINTS:,} runs", f"at most {MAX_POINTS:,} runs per study")
        if part.baseline:
            _check_baseline(part, configs)


def _check_baseline(part: Part, configs: list[TrainConfig]) -> None:
    """The baseline must pick exactly one configuration (seeds apart) of the part, in each
    partition of the ``within`` settings."""
    partitions: dict = {}
    for c in configs:
        flat = identity.settings(c.to_dict())
        flat.pop("seed")
        partitions.setdefault(tuple(flat.get(w) for w in part.within), {})[tuple(sorted(flat.items()))] = flat
    for values, members in partitions.items():
        hits = [f for f in members.values() if _matches(f, part.baseline)]
        if len(hits) != 1:
            scope = (" for " + ", ".join(f"{w}={identity.fmt(v)}" for w, v in zip(part.within, values))
                     if part.within else "")
            raise SpecError(f"parts[{part.index}].baseline", part.baseline,
                            f"settings matching exactly one configuration of the part{scope} (matched {len(hits)})")
