"""The protocol line every figure's title states: what was trained, how, on what.

    784-512-10 MLP, Adam lr 1e-3, batch 128, 10 epochs, 10% validation, 5 seeds, Fashion-MNIST

A setting that differs between the runs is named as varying (``784-512x{1..5}-10``, ``lr varies``)
rather than silently taken from the first run.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastact.experiments.figures.style import fmt_value

DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "kmnist": "KMNIST", "emnist": "EMNIST"}


def meta_of(run: dict) -> dict:
    """The run's whole ``config.json`` (model sizes, data and checksums, versions, threads): the
    ``meta`` of `fastact.training.runs.load_run`, else read from the run's folder, else ``{}``."""
    if run.get("meta"):
        return run["meta"]
    d = run.get("dir")
    path = Path(d) / "config.json" if d else None
    if path is not None and path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}
    return {}


def dataset_name(runs) -> str:
    """The dataset the runs used, as people write it (``Fashion-MNIST``); ``a, b`` when they differ."""
    names = []
    for r in runs:
        data = meta_of(r).get("data") or {}
        name = data.get("name") or r["config"].get("dataset", "?")
        names.append(DATASET_NAMES.get(str(name).lower(), str(name)))
    return ", ".join(dict.fromkeys(names)) or "?"


def _one(values, fmt=str, varies: str = "varies"):
    distinct = list(dict.fromkeys(map(_hashable, values)))
    return fmt(distinct[0]) if len(distinct) == 1 else varies


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


def architecture(runs) -> str:
    """``784-512-10``; ``784-512x{1..5}-10`` when only the depth varies; ``784-(hidden varies)-10``."""
    metas = [meta_of(r) for r in runs]
    sizes = [m.get("model", {}).get("sizes") for m in metas]
    n_in = _one([s[0] if s else m.get("data", {}).get("input_dim", 784) for s, m in zip(sizes, metas)], str, "?")
    n_out = _one([s[-1] if s else m.get("data", {}).get("n_classes", 10) for s, m in zip(sizes, metas)], str, "?")
    hidden = [tuple(r["config"].get("hidden") or ()) for r in runs]
    distinct = sorted(set(hidden), key=lambda h: (len(h), h))
    if len(distinct) == 1:
        mid = "-".join(map(str, distinct[0]))
    elif len({w for h in distinct for w in h}) == 1:
        depths = sorted({len(h) for h in distinct})
        mid = f"{distinct[0][0]}x{{{depths[0]}..{depths[-1]}}}" if depths == list(range(depths[0], depths[-1] + 1)) \
            else f"{distinct[0][0]}x{{{','.join(map(str, depths))}}}"
    else:
        mid = "(hidden varies)"
    return f"{n_in}-{mid}-{n_out}" if mid else f"{n_in}-{n_out}"


def optimizer(runs) -> str:
    cfgs = [r["config"] for r in runs]
    name = _one([c.get("optimizer", "adam") for c in cfgs], lambda v: {"adam": "Adam", "adamw": "AdamW",
                                                                       "sgd": "SGD"}.get(v, v), "optimizer varies")
    lr = _one([c.get("lr") for c in cfgs], lambda v: f"lr {fmt_value(v)}", "lr varies")
    extra = []
    if any(c.get("momentum") for c in cfgs):
        extra.append(_one([c.get("momentum") for c in cfgs], lambda v: f"momentum {fmt_value(v)}", "momentum varies"))
    if any(c.get("weight_decay") for c in cfgs):
        extra.append(_one([c.get("weight_decay") for c in cfgs], lambda v: f"wd {fmt_value(v)}", "wd varies"))
    return " ".join([name, lr, *extra])


def seeds(groups) -> str:
    """``5 seeds``, or ``2-5 seeds`` when configurations were repeated unevenly."""
    counts = sorted({len({r["config"].get("seed") for r in g.runs}) for g in groups} or {0})
    n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"{n} seed{'s' if counts[-1] != 1 else ''}"


def protocol(groups, runs=None) -> str:
    """The protocol line of ``groups`` (objects with ``.runs``); ``runs`` defaults to all their runs.
    Without groups (one line per run, as the TUI draws), the seeds are counted over ``runs``."""
    runs = runs if runs is not None else [r for g in groups for r in g.runs]
    if not runs:
        return "no runs"
    cfgs = [r["config"] for r in runs]
    epochs = _one([c.get("epochs") for c in cfgs], lambda v: f"{v} epochs", "epochs vary")
    if any(c.get("early_stopping") is not None for c in cfgs):
        patience = _one([c.get("early_stopping") for c in cfgs], str, "varying")
        monitor = _one([c.get("monitor", "val_accuracy") for c in cfgs], str, "varying")
        epochs = f"up to {epochs}, early stopping (patience {patience} on {monitor})"
    val = _one([c.get("val_split") for c in cfgs], lambda v: f"{100 * v:g}% validation", "validation split varies")
    batch = _one([c.get("batch_size") for c in cfgs], lambda v: f"batch {v}", "batch varies")
    if not groups:
        n = len({c.get("seed") for c in cfgs})
        repeats = f"{n} seed{'s' if n != 1 else ''}"
    else:
        repeats = seeds(groups)
    return ", ".join([f"{architecture(runs)} MLP", optimizer(runs), batch, epochs, val, repeats,
                      dataset_name(runs)])
