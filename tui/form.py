"""Form text -> trainer configs, with one error message per field (no widgets here).

Every message names the bad value, as the CLI does: ``epochs must be a positive integer.
Received: epochs='ab'``. Activation parameters are checked by the activation table itself
(`Activation.resolve`), so the TUI and the engine can never disagree about what is valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastact import activations

OPTIMIZERS = ("adam", "adamw", "sgd")
PRELU_MODES = ("unit", "shared")
# form field id -> the CLI flag that `TrainConfig.validate()` names in its messages
FLAGS = {"hidden": "--hidden", "epochs": "--epochs", "batch_size": "--batch-size", "lr": "--lr",
         "optimizer": "--optimizer", "seed": "--seed", "seeds": "--seeds", "threads": "--threads",
         "dataset": "--dataset", "data_dir": "--data-dir", "prelu": "--prelu"}


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


def _int(errors, key, text, low, blank_ok=False):
    text = text.strip()
    if blank_ok and not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low:
        rule = "a positive integer" if low == 1 else f"an integer >= {low}"
        errors[key] = f"{key} must be {rule}" + (" or blank" if blank_ok else "") + f". Received: {key}={text!r}"
    return value


def _float(errors, key, text, positive=False):
    try:
        value = float(text.strip())
    except ValueError:
        errors[key] = f"{key} must be a number. Received: {key}={text.strip()!r}"
        return None
    if positive and not value > 0:
        errors[key] = f"{key} must be > 0. Received: {key}={text.strip()!r}"
    return value


def parse_hidden(errors, text):
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        errors["hidden"] = ("hidden sizes must be positive integers separated by spaces or commas. "
                            f"Received: hidden={text.strip()!r}")
    return sizes


def config_key(config) -> tuple:
    return (config.act, config.seed, tuple(config.hidden), tuple(sorted(config.act_params.items())))


def build(trainer, values: dict[str, str], acts: list[str], params: dict[tuple[str, str], str],
          base: dict | None = None) -> FormResult:
    """Parse the form: one config per (activation, seed), labels to show them under."""
    res, errors = FormResult(), {}
    if not acts:
        errors["acts"] = "tick at least one activation. Received: act=[]"
    common = dict(base or {})
    common["hidden"] = parse_hidden(errors, values["hidden"])
    common["epochs"] = _int(errors, "epochs", values["epochs"], 1)
    common["batch_size"] = _int(errors, "batch_size", values["batch_size"], 1)
    common["lr"] = _float(errors, "lr", values["lr"], positive=True)
    common["optimizer"] = values["optimizer"]
    common["prelu"] = values["prelu"]
    seed = _int(errors, "seed", values["seed"], 0)
    n_seeds = _int(errors, "seeds", values["seeds"], 1)
    common["threads"] = _int(errors, "threads", values["threads"], 1, blank_ok=True)
    common["dataset"] = values["dataset"].strip() or "auto"
    common["data_dir"] = values["data_dir"].strip() or None
    act_params = {}
    for act in acts:
        given = {}
        for name, p in param_fields():
            if name == act and params.get((act, p.name), "").strip():
                given[p.name] = _float(errors, f"p-{act}-{p.name}", params[(act, p.name)])
        if not any(k.startswith(f"p-{act}-") for k in errors):
            try:
                activations.get(act).resolve(**given)
            except ValueError as exc:
                errors[f"params-{act}"] = str(exc)
        act_params[act] = given
    if errors:
        res.errors = errors
        return res
    for act in acts:
        for s in range(seed, seed + n_seeds):
            cfg = trainer.TrainConfig(**common, act=act, seed=s, act_params=dict(act_params[act]))
            try:
                cfg.validate()
            except ValueError as exc:
                key = next((k for k, flag in FLAGS.items() if flag in str(exc)), "general")
                res.errors.setdefault(key, str(exc))
                return res
            res.configs.append(cfg)
            res.labels.append(act if n_seeds == 1 else f"{act}/s{s}")
    return res
