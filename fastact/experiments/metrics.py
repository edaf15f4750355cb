"""What each run measured, live (`RunResult`) or saved (`fastact.training.runs.load_run`), as
one plain dict (`normalize`) and as the per-run metrics every table, CSV and statistic uses
(`run_metrics`, named in `METRICS`).

Accuracies are fractions in [0, 1]. ``best_val_acc``/``best_val_epoch`` are the highest
validation accuracy and its first epoch; ``best_epoch`` is the run's monitored best epoch
(``config.monitor``, Keras's ``EarlyStopping`` rule) whose weights are ``model.best.npz`` and
whose test metrics are ``best_test_*``; ``test_*`` are the final model's (the last epoch, or the
best with ``restore_best_weights``). ``gap`` is final train minus final validation accuracy
(overfitting). A metric a run does not have (a diverged run's test accuracy, anything
non-finite) is None.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, is_dataclass

from fastact.training.stopping import BestEpoch


@dataclass(frozen=True)
class Metric:
    title: str
    higher_is_better: bool | None  # None: neither (a count)
    percent: bool = False


METRICS: dict[str, Metric] = {
    "final_train_acc": Metric("final train acc", True, True),
    "final_val_acc": Metric("final val acc", True, True),
    "best_val_acc": Metric("best val acc", True, True),
    "best_val_epoch": Metric("best val epoch", None),
    "test_acc": Metric("test acc", True, True),
    "best_test_acc": Metric("test acc at best epoch", True, True),
    "best_epoch": Metric("best epoch", None),
    "final_train_loss": Metric("final train loss", False),
    "final_val_loss": Metric("final val loss", False),
    "test_loss": Metric("test loss", False),
    "gap": Metric("train - val acc", False, True),
    "epochs_run": Metric("epochs run", None),
    "seconds": Metric("run seconds", False),
    "seconds_per_epoch": Metric("s/epoch", False),
}


def _finite(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def data_identity(data: dict | None, name: str | None = None) -> str | None:
    """``name:8 hex`` naming the data a run trained on, from ``config.json``'s ``data``.

    Files whose checksums matched the registry's (status ``ok``) are that dataset wherever they
    live; other files (a ``--data-dir`` of one's own) are named by their paths too, since only
    statuses, not digests, are recorded. Both include the file sizes (rows, image shape,
    classes). The name alone when nothing is recorded.
    """
    data = data or {}
    name = data.get("name") or name
    if not data:
        return name
    statuses = data.get("checksums") or {}
    basis = {"rows": [int(data.get("n_train", 0)) + int(data.get("n_val", 0)), data.get("n_test")],
             "shape": data.get("image_shape"), "classes": data.get("n_classes")}
    if not statuses or any(v != "ok" for v in statuses.values()):
        basis["files"] = sorted((data.get("files") or {}).values())
    digest = hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:8]
    return f"{name}:{digest}"


def normalize(run) -> dict:
    """A run as a plain dict: ``id, dir, config, history (dicts), status, message, test_*, best_*,
    stopped_epoch, seconds, dataset, data`` (``data``: `data_identity`)."""
    if isinstance(run, dict) and "history" in run and "summary" not in run and "test_acc" in run:
        return run  # already normalized
    if is_dataclass(run):
        return {"id": run.run_id, "dir": run.run_dir, "config": run.config.to_dict(),
                "history": [asdict(r) for r in run.history], "status": run.status, "message": run.message,
                "test_acc": run.test_acc, "test_loss": run.test_loss, "best_test_acc": run.best_test_acc,
                "best_test_loss": run.best_test_loss, "best_epoch": run.best_epoch,
                "stopped_epoch": run.stopped_epoch, "seconds": run.seconds, "dataset": run.dataset,
                "data": data_identity(run.meta.get("data"), run.dataset)}
    s = run.get("summary", {})
    meta = run.get("meta") or {}
    return {"id": run["id"], "dir": run.get("dir"), "config": run["config"], "history": run["history"],
            "status": run["status"], "message": s.get("message", ""), "test_acc": s.get("test_acc"),
            "test_loss": s.get("test_loss"), "best_test_acc": s.get("best_test_acc"),
            "best_test_loss": s.get("best_test_loss"), "best_epoch": s.get("best_epoch"),
            "stopped_epoch": s.get("stopped_epoch"), "seconds": s.get("seconds"),
            "dataset": s.get("dataset") or (meta.get("data") or {}).get("name"),
            "data": data_identity(meta.get("data"), s.get("dataset"))}


def _best_epoch(r: dict):
    if r.get("best_epoch") is not None:
        return r["best_epoch"]
    c = r["config"]
    rule = BestEpoch(c.get("monitor", "val_accuracy"), c.get("min_delta", 0.0))
    for h in r["history"]:
        rule.update(h["epoch"], h["val_loss" if rule.monitor == "val_loss" else "val_acc"] or math.nan)
    return rule.best_epoch


def run_metrics(run) -> dict:
    """Every metric of `METRICS` for one run (None where it has none)."""
    r = normalize(run)
    h = r["history"]
    last = h[-1] if h else {}
    vals = [(x["val_acc"], x["epoch"]) for x in h if _finite(x.get("val_acc")) is not None]
    best = max(vals, key=lambda t: (t[0], -t[1])) if vals else (None, None)
    train, val = _finite(last.get("train_acc")), _finite(last.get("val_acc"))
    secs = [x["seconds"] for x in h if _finite(x.get("seconds")) is not None]
    out = {"final_train_acc": train, "final_val_acc": val, "best_val_acc": best[0], "best_val_epoch": best[1],
           "test_acc": _finite(r.get("test_acc")), "best_test_acc": _finite(r.get("best_test_acc")),
           "best_epoch": _best_epoch(r), "final_train_loss": _finite(last.get("train_loss")),
           "final_val_loss": _finite(last.get("val_loss")), "test_loss": _finite(r.get("test_loss")),
           "gap": None if train is None or val is None else train - val, "epochs_run": len(h),
           "seconds": _finite(r.get("seconds")), "seconds_per_epoch": sum(secs) / len(secs) if secs else None}
    return out
