"""Tables, epoch lines and CSV for runs, live (`RunResult`) or saved (`fastact.training.runs.load_run`).

Runs are grouped by label (the activation, plus any parameter set explicitly),
and a group of several seeds shows ``mean +- std`` (population std over seeds,
``numpy.std`` with ``ddof=0``, so one seed shows no spread).
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, is_dataclass

import numpy as np
from rich.table import Table

EPOCH_FIELDS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds", "samples_per_s")


def label_of(config: dict) -> str:
    """``relu``, ``leaky_relu(negative_slope=0.1)``."""
    params = config.get("act_params") or {}
    inner = ", ".join(f"{k}={v:g}" for k, v in sorted(params.items()))
    return f"{config.get('act', '?')}({inner})" if inner else str(config.get("act", "?"))


def definitions(configs) -> list[str]:
    """One line per defined activation among ``configs`` (dicts), in order:
    ``swishb: y = z * sigmoid(beta * z); beta = 1 > 0, learnable``."""
    out, seen = [], set()
    for config in configs:
        spec = config.get("define") if isinstance(config, dict) else None
        if not isinstance(spec, dict) or spec.get("name") in seen:
            continue
        seen.add(spec.get("name"))
        rules = spec.get("rules") if isinstance(spec.get("rules"), dict) else {}
        params = spec.get("params") if isinstance(spec.get("params"), dict) else {}
        parts = [f"{_text(spec.get('name'))}: y = {_text(spec.get('formula'))}"]
        parts += [f"{_text(k)} = {v:g}" + (f" {_text(rules[k])}" if rules.get(k) else "")
                  + (", learnable" if k == spec.get("learnable") else "")
                  for k, v in params.items() if isinstance(v, (int, float))]
        if spec.get("init", "he") != "he":
            parts.append(f"init {_text(spec.get('init'))}")
        out.append("; ".join(parts))
    return out


def _text(value, limit: int = 200) -> str:
    """Text read from a run's files as it may be shown on a terminal: printable ASCII, else escaped; cut short."""
    s = value if isinstance(value, str) else repr(value)
    if not (s.isascii() and s.isprintable()):
        s = ascii(s)
    return s if len(s) <= limit else s[:limit - 3] + "..."


def normalize(run) -> dict:
    """A run as a plain dict: ``id, config, history (dicts), status, message, test_acc, test_loss``."""
    if is_dataclass(run):
        return {"id": run.run_id, "dir": run.run_dir, "config": run.config.to_dict(),
                "history": [asdict(r) for r in run.history], "status": run.status, "message": run.message,
                "test_acc": run.test_acc, "test_loss": run.test_loss}
    s = run.get("summary", {})
    return {"id": run["id"], "dir": run.get("dir"), "config": run["config"], "history": run["history"],
            "status": run["status"], "message": s.get("message", ""), "test_acc": s.get("test_acc"),
            "test_loss": s.get("test_loss")}


def group(runs, key=label_of) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in map(normalize, runs):
        out.setdefault(key(r["config"]), []).append(r)
    return out


def mean_std(values) -> tuple[float | None, float | None]:
    v = [x for x in values if x is not None and math.isfinite(x)]
    if not v:
        return None, None
    return float(np.mean(v)), float(np.std(v))


def fmt_pct(m, s=None) -> str:
    if m is None:
        return "-"
    return f"{100 * m:.2f}%" if not s else f"{100 * m:.2f} +- {100 * s:.2f}%"


def _final(r, key):
    return r["history"][-1][key] if r["history"] else None


def _best_val(r):
    v = [h["val_acc"] for h in r["history"] if h.get("val_acc") is not None and math.isfinite(h["val_acc"])]
    return max(v) if v else None


def _s_per_epoch(r):
    return sum(h["seconds"] for h in r["history"]) / len(r["history"]) if r["history"] else None


def summary_table(runs, title: str = "Results") -> Table:
    """Activation x final train acc, best val acc, test acc, s/epoch, status (mean +- std over seeds)."""
    table = Table(title=title)
    for col in ("activation", "runs", "final train acc", "best val acc", "test acc", "s/epoch", "status"):
        table.add_column(col, justify="left" if col in ("activation", "status") else "right")
    for label, rs in group(runs).items():
        cells = [fmt_pct(*mean_std(f(r) for r in rs)) for f in
                 (lambda r: _final(r, "train_acc"), _best_val, lambda r: r["test_acc"])]
        sec, _ = mean_std(_s_per_epoch(r) for r in rs)
        statuses = sorted({r["status"] for r in rs})
        table.add_row(label, str(len(rs)), *cells, "-" if sec is None else f"{sec:.2f}", ", ".join(statuses))
    return table


def problems(runs) -> list[str]:
    """One line per run that did not complete: ``linear s0: diverged (loss became nan ...)``."""
    return [f"{label_of(r['config'])} s{r['config'].get('seed')}: {r['status']} ({r['message']})"
            for r in map(normalize, runs) if r["status"] != "completed"]


def epoch_line(label: str, record, epochs: int) -> str:
    """``relu  epoch 3/10  loss 0.3121  acc 88.52%  val_loss 0.3312  val_acc 88.10%  4.1s  14,300 samples/s``."""
    r = asdict(record) if is_dataclass(record) else record
    return (f"{label:<12} epoch {r['epoch']:>{len(str(epochs))}}/{epochs}  loss {r['train_loss']:.4f}  "
            f"acc {fmt_pct(r['train_acc'])}  val_loss {r['val_loss']:.4f}  val_acc {fmt_pct(r['val_acc'])}  "
            f"{r['seconds']:.1f}s  {r['samples_per_s']:,.0f} samples/s")


def write_csv(runs, path) -> int:
    """One row per (run, epoch); returns the number of rows written."""
    n = 0
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run_id", "label", "act", "seed", "status", *EPOCH_FIELDS, "test_loss", "test_acc"])
        for r in map(normalize, runs):
            c = r["config"]
            for h in r["history"]:
                w.writerow([r["id"], label_of(c), c.get("act"), c.get("seed"), r["status"],
                            *(h.get(k) for k in EPOCH_FIELDS), r["test_loss"], r["test_acc"]])
                n += 1
    return n


# ---- sweeps --------------------------------------------------------------------------------
def sweep_points(runs, value_of, series_of) -> dict[str, dict[float, list[dict]]]:
    """series label -> swept value -> runs."""
    out: dict[str, dict[float, list[dict]]] = {}
    for r in map(normalize, runs):
        out.setdefault(series_of(r["config"]), {}).setdefault(value_of(r["config"]), []).append(r)
    return out


def sweep_table(points, name: str, title: str) -> Table:
    """Swept value x final train acc, final val acc, test acc (mean +- std over seeds)."""
    table = Table(title=title)
    for col in ("series", name, "runs", "final train acc", "final val acc", "test acc", "status"):
        table.add_column(col, justify="left" if col in ("series", "status") else "right")
    for series, by_value in points.items():
        for value, rs in sorted(by_value.items()):
            cells = [fmt_pct(*mean_std(f(r) for r in rs)) for f in
                     (lambda r: _final(r, "train_acc"), lambda r: _final(r, "val_acc"), lambda r: r["test_acc"])]
            table.add_row(series, f"{value:g}", str(len(rs)), *cells, ", ".join(sorted({r["status"] for r in rs})))
    return table
