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

# The labels and epoch lines are the training layer's, so `fastact.fit(verbose=1)` prints what the CLI does.
from fastact.training.progress import epoch_line, label_of  # noqa: F401  (re-exported)

EPOCH_FIELDS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds", "samples_per_s")


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


def _column(table: Table, title: str, text: bool) -> None:
    # Numbers never wrap or shorten (``12.0...``); names fold when the console is narrower than the table.
    if text:
        table.add_column(title, overflow="fold")
    else:
        table.add_column(title, justify="right", no_wrap=True)


def summary_table(runs, title: str = "Results") -> Table:
    """Activation x final train acc, best val acc, test acc, s/epoch, status (mean +- std over seeds)."""
    table = Table(title=title)
    for col in ("activation", "runs", "final train acc", "best val acc", "test acc", "s/epoch", "status"):
        _column(table, col, text=col in ("activation", "status"))
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
        _column(table, col, text=col in ("series", "status"))
    for series, by_value in points.items():
        for value, rs in sorted(by_value.items()):
            cells = [fmt_pct(*mean_std(f(r) for r in rs)) for f in
                     (lambda r: _final(r, "train_acc"), lambda r: _final(r, "val_acc"), lambda r: r["test_acc"])]
            table.add_row(series, f"{value:g}", str(len(rs)), *cells, ", ".join(sorted({r["status"] for r in rs})))
    return table
