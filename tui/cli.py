"""`fastact-tui` arguments: exactly the `fastact train` options, used to pre-fill the form.

    fastact-tui --act relu prelu rrelu --epochs 5 --negative-slope 0.1

The options come from `fastact.cli.options.add_run_arguments`, so the CLI and the dashboard
can never drift apart; a value the form would reject is rejected here the way `fastact train`
does.
"""

from __future__ import annotations

import argparse

from fastact import activations
from fastact.cli import Parser
from fastact.cli.options import act_names, add_run_arguments, param_dest
from fastact_tui.form import FIELDS


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="fastact-tui", description="Textual dashboard for fastact: compare activation "
               "functions live, sweep, benchmark, browse runs. Options pre-fill the form.")
    add_run_arguments(p)
    return p


def parse(argv=None) -> dict:
    """Form pre-fill: field id -> text, plus ``acts``, ``params`` and ``base`` (pass-through config)."""
    ns = build_parser().parse_args(argv)
    fields = {key: "" if getattr(ns, key) is None else str(getattr(ns, key)) for key in FIELDS}
    fields["hidden"] = " ".join(str(h) for h in ns.hidden)
    params = {(a.name, prm.name): f"{getattr(ns, param_dest(a.name, prm.name)):g}"
              for a in activations.ACTIVATIONS.values() for prm in a.params
              if getattr(ns, param_dest(a.name, prm.name)) is not None}
    base = {"momentum": ns.momentum, "nesterov": ns.nesterov, "weight_decay": ns.weight_decay,
            "val_split": ns.val_split, "dtype": ns.dtype, "early_stopping": ns.early_stopping, "monitor": ns.monitor,
            "min_delta": ns.min_delta, "restore_best_weights": ns.restore_best_weights,
            "save_best": not ns.no_save_best, "out": None if ns.no_save or not ns.out else ns.out}
    return {"fields": fields, "acts": act_names(ns), "params": params, "base": base}
