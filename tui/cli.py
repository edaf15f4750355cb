"""`fastact-tui` arguments: exactly the `fastact train` options, used to pre-fill the form.

    fastact-tui --act relu prelu rrelu --epochs 5 --negative-slope 0.1

The options come from `fastact.train.add_arguments`, so the CLI and the dashboard can never
drift apart; a value the form would reject is rejected here the way `fastact train` does.
"""

from __future__ import annotations

import argparse
import importlib

from fastact import activations
from fastact.cli import Parser
from fastact.trainer import param_flag

# by module path: `fastact.train` the attribute is the training function, not this module
train = importlib.import_module("fastact.train")

FIELDS = ("epochs", "batch_size", "lr", "optimizer", "seed", "seeds", "dataset", "data_dir", "threads", "prelu")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="fastact-tui", description="Textual dashboard for fastact: compare activation "
               "functions live, sweep, benchmark, browse runs. Options pre-fill the form.")
    train.add_arguments(p)
    return p


def _param_dests(parser) -> dict[tuple[str, str], str]:
    by_flag = {a.option_strings[0]: a.dest for a in parser._actions if a.option_strings}
    return {(a.name, prm.name): by_flag[param_flag(a.name, prm.name)]
            for a in activations.ACTIVATIONS.values() for prm in a.params}


def parse(argv=None) -> dict:
    """Form pre-fill: field id -> text, plus ``acts``, ``params`` and ``base`` (pass-through config)."""
    parser = build_parser()
    ns = parser.parse_args(argv)
    fields = {key: "" if getattr(ns, key) is None else str(getattr(ns, key)) for key in FIELDS}
    fields["hidden"] = " ".join(str(h) for h in ns.hidden)
    params = {key: f"{getattr(ns, dest):g}" for key, dest in _param_dests(parser).items()
              if getattr(ns, dest) is not None}
    base = {"momentum": ns.momentum, "nesterov": ns.nesterov, "weight_decay": ns.weight_decay,
            "val_split": ns.val_split, "dtype": ns.dtype, "out": None if ns.no_save or not ns.out else ns.out}
    return {"fields": fields, "acts": train.act_names(ns.act), "params": params, "base": base}
