"""Form text -> trainer configs, with one error message per field (no widgets here).

The form only turns text into typed values (``epochs must be an integer. Received:
epochs='ab'``); every rule is the library's: `TrainConfig.problems` returns one
`fastact.errors.SettingsError` per broken rule, and `field_id` names the form field it marks
(activation parameters included: ``rrelu.lower`` -> ``p-rrelu-lower``). The TUI and the
engine can never disagree about what is valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastact import activations
from fastact.cli.options import parse_list, split_words
from fastact.errors import SettingsError
from fastact.training import TrainConfig
from fastact.training.config import check_seeds

#: the form's text fields and selects, by TrainConfig field name (plus ``seeds``)
FIELDS = ("hidden", "epochs", "batch_size", "lr", "optimizer", "seed", "seeds", "threads", "dataset", "data_dir",
          "data_file", "prelu")


def defaults() -> dict[str, str]:
    """Each field's initial text, from `TrainConfig`'s defaults (``seeds``: 1, ``threads``: blank = all)."""
    d = TrainConfig()
    text = {k: "" if getattr(d, k) is None else str(getattr(d, k)) for k in FIELDS if k != "seeds"}
    text["hidden"] = " ".join(str(h) for h in d.hidden)
    text["seeds"] = "1"
    return {k: text[k] for k in FIELDS}


@dataclass
class FormResult:
    configs: list = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # field id -> message

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.configs)


def param_fields() -> list[tuple[str, activations.Param]]:
    """(activation name, parameter) for every tunable parameter in the table, in table order."""
    return [(a.name, p) for a in activations.ACTIVATIONS.values() for p in a.params]


def param_id(act: str, param: str) -> str:
    return f"p-{act}-{param}"


def field_id(name: str) -> str:
    """The form field a library field is shown under (``general`` for settings the form lacks)."""
    if "." in name:
        act, param = name.split(".", 1)
        return param_id(act, param)
    return name if name in FIELDS else "general"


def _typed(errors: dict, key: str, text: str, kind, blank_ok: bool = False):
    text = text.strip()
    if blank_ok and not text:
        return None
    try:
        return kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        errors[key] = f"{key} must be {what}" + (" or blank" if blank_ok else "") + f". Received: {key}={text!r}"
        return None


def parse_hidden(errors: dict, text: str):
    """The command line's list syntax (`fastact.cli.options.parse_list`): ``512 256``, ``512,256``."""
    if not split_words(text):
        return ()  # TrainConfig's rule names it: "one or more positive integers"
    try:
        return tuple(parse_list(text, int, "int"))
    except ValueError:
        errors["hidden"] = ("hidden sizes must be integers separated by spaces or commas. "
                            f"Received: hidden={text.strip()!r}")
        return ()


def config_key(config) -> tuple:
    return (config.act, config.seed, tuple(config.hidden), tuple(sorted(config.act_params.items())))


def build(values: dict[str, str], acts: list[str], params: dict[tuple[str, str], str],
          base: dict | None = None) -> FormResult:
    """Parse the form: one config per (activation, seed), labels to show them under."""
    res, errors = FormResult(), {}
    if not acts:
        errors["acts"] = "tick at least one activation. Received: act=[]"
    common = dict(base or {})
    common["hidden"] = parse_hidden(errors, values["hidden"])
    for key in ("epochs", "batch_size"):
        common[key] = _typed(errors, key, values[key], int)
    common["lr"] = _typed(errors, "lr", values["lr"], float)
    common["threads"] = _typed(errors, "threads", values["threads"], int, blank_ok=True)
    common.update(optimizer=values["optimizer"], prelu=values["prelu"], dataset=values["dataset"].strip() or "auto",
                  data_dir=values["data_dir"].strip() or None, data_file=values["data_file"].strip() or None)
    seed = _typed(errors, "seed", values["seed"], int)
    n_seeds = _typed(errors, "seeds", values["seeds"], int)
    if n_seeds is not None:
        try:
            check_seeds(n_seeds)
        except SettingsError as exc:
            errors["seeds"] = str(exc)
    act_params = {act: {p.name: _typed(errors, param_id(act, p.name), params[(act, p.name)], float)
                        for a, p in param_fields() if a == act and params.get((act, p.name), "").strip()}
                  for act in acts}
    if errors:
        res.errors = errors
        return res
    for act in acts:
        for s in range(seed, seed + n_seeds):
            cfg = TrainConfig(**common, act=act, seed=s, act_params=dict(act_params[act]))
            for problem in cfg.problems():
                errors.setdefault(field_id(problem.field), str(problem))
            if errors:
                res.errors = errors
                return res
            res.configs.append(cfg)
            res.labels.append(act if n_seeds == 1 else f"{act}/s{s}")
    return res
