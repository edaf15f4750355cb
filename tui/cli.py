"""`fastact-tui` arguments: the `fastact train` options, used to pre-fill the form.

    fastact-tui --act relu prelu rrelu --epochs 5 --negative-slope 0.1

Values are not validated here beyond their type: they land in the form, where a bad one is
shown next to its field like anything the user types.
"""

from __future__ import annotations

import argparse

from fastact import activations
from fastact.trainer import param_flag


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fastact-tui", description="Textual dashboard for fastact: "
                                "compare activation functions live, sweep, benchmark, browse runs.")
    p.add_argument("--act", nargs="+", metavar="NAME", help="activations to tick "
                   f"(choices: {', '.join(activations.names())}; default: the seven of the classic experiment)")
    p.add_argument("--hidden", nargs="+", type=str, metavar="N", help="hidden layer sizes (default: 512)")
    p.add_argument("--epochs", type=str, help="epochs per run (default: 10)")
    p.add_argument("--batch-size", type=str, help="mini-batch size (default: 128)")
    p.add_argument("--lr", type=str, help="learning rate (default: 1e-3)")
    p.add_argument("--optimizer", choices=("adam", "adamw", "sgd"), help="optimizer (default: adam)")
    p.add_argument("--momentum", type=float, default=0.0, help="SGD momentum")
    p.add_argument("--nesterov", action="store_true", help="Nesterov momentum (SGD)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 / decoupled weight decay")
    p.add_argument("--seed", type=str, help="first seed (default: 0)")
    p.add_argument("--seeds", type=str, help="number of seeds per activation (default: 1)")
    p.add_argument("--val-split", type=float, default=0.1, help="fraction of train held out (default: 0.1)")
    p.add_argument("--dataset", type=str, help="dataset name (default: auto)")
    p.add_argument("--data-dir", type=str, help="directory holding the IDX files")
    p.add_argument("--threads", type=str, help="kernel threads (default: all cores)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--prelu", choices=("unit", "shared"), help="PReLU slope per unit or shared")
    p.add_argument("--out", type=str, default="runs", help="results directory (default: runs; '' saves nothing)")
    for a in activations.ACTIVATIONS.values():
        for prm in a.params:
            flag = _param_flag(a.name, prm.name)
            p.add_argument(flag, type=str, dest=f"param__{a.name}__{prm.name}", metavar="X",
                           help=f"{a.name} {prm.name} (default: {prm.default:g})")
    return p


def _param_flag(act: str, param: str) -> str:
    return param_flag(act, param)  # the trainer's spelling: --negative-slope, --rrelu-lower, --elu-alpha


def parse(argv=None) -> dict:
    """Form pre-fill: field id -> text, plus ``acts``, ``params`` and ``base`` (pass-through config)."""
    parser = build_parser()
    ns = parser.parse_args(argv)
    if ns.act:
        try:
            ns.act = [activations.get(a).name for a in ns.act]
        except ValueError as exc:
            parser.error(str(exc))
    fields = {}
    for key in ("epochs", "batch_size", "lr", "optimizer", "seed", "seeds", "dataset", "data_dir",
                "threads", "prelu"):
        value = getattr(ns, key)
        if value is not None:
            fields[key] = str(value)
    if ns.hidden:
        fields["hidden"] = " ".join(ns.hidden)
    params = {}
    for key, value in vars(ns).items():
        if key.startswith("param__") and value is not None:
            _, act, name = key.split("__")
            params[(act, name)] = value
    base = {"momentum": ns.momentum, "nesterov": ns.nesterov, "weight_decay": ns.weight_decay,
            "val_split": ns.val_split, "dtype": ns.dtype, "out": ns.out or None}
    return {"fields": fields, "acts": ns.act, "params": params, "base": base}
