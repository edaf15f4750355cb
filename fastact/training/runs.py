"""Run directories: what a training run leaves on disk, and reading it back.

``<root>/<run-id>/`` holds

* ``config.json``: every setting (the `TrainConfig` fields, top level), then
  ``run_id``, ``model``, ``data`` (name, files, checksum status), package
  ``versions``, ``threads_used``, ``threading_layer`` and the ``blas`` the kernels call;
* ``metrics.jsonl``: one JSON object per finished epoch, appended, flushed and
  fsync'ed as the epoch ends, so a crash never leaves a half line behind;
* ``summary.json``: status, message, final/best/test metrics and the whole
  history; rewritten atomically (temp file + rename) at the start, after each
  epoch and at the end. A run killed hard keeps ``status: "running"``, which
  `load_run` reports as ``"interrupted"``;
* ``model.npz``: the trained weights (`fastact.MLP.load`), written when the
  run completes or is cancelled;
* ``model.best.npz``: the best epoch's weights (``config.monitor``, see
  `fastact.training.stopping`), written when the run completes and ``save_best`` is set.

``summary.json`` holds ``best_val_acc`` and ``best_val_epoch`` (the highest validation
accuracy and its first epoch), ``best_epoch`` (the monitored best: the weights of
``model.best.npz``) with their ``best_test_acc``/``best_test_loss``, ``stopped_epoch`` (early
stopping), and ``seconds``, the run's wall time.

`write_run` writes the same files at once from a finished `RunResult` that carries its
weights (a run trained elsewhere, received by the client that owns the directory): into a
temporary directory renamed into place, so the run directory exists complete or not at all.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import secrets
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

from fastact._version import __version__
from fastact.training.config import TrainConfig

CONFIG, METRICS, SUMMARY, MODEL = "config.json", "metrics.jsonl", "summary.json", "model.npz"
BEST_MODEL = "model.best.npz"


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def make_run_id(act: str, seed: int) -> str:
    """``<UTC timestamp>-<act>-s<seed>-<4 hex>``: sorts by time, readable, unique."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{act}-s{seed}-{secrets.token_hex(2)}"


def versions() -> dict:
    import numba
    import numpy
    import scipy

    return {"fastact": __version__, "python": sys.version.split()[0], "numpy": numpy.__version__,
            "numba": numba.__version__, "scipy": scipy.__version__, "platform": platform.platform()}


def _clean(value):
    """JSON has no NaN/Infinity: non-finite floats become null (and strict parsers stay happy)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_json(path: Path, data: dict) -> None:
    """``data`` as JSON (non-finite floats as null), to a temporary file fsync'ed and renamed over ``path``."""
    _write_json(Path(path), data)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w") as f:
        json.dump(_clean(data), f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class RunWriter:
    """Creates ``root/run_id/`` and writes the files of one run as it goes."""

    def __init__(self, root, run_id: str):
        self.dir = Path(root) / run_id
        self.dir.mkdir(parents=True, exist_ok=False)
        self._metrics = open(self.dir / METRICS, "a")

    def write_config(self, data: dict) -> None:
        _write_json(self.dir / CONFIG, data)

    def append_epoch(self, record) -> None:
        self._metrics.write(json.dumps(_clean(asdict(record))) + "\n")
        self._metrics.flush()
        os.fsync(self._metrics.fileno())

    def write_summary(self, data: dict) -> None:
        _write_json(self.dir / SUMMARY, data)

    def save_model(self, model) -> None:
        tmp = self.dir / "model.tmp.npz"
        model.save(tmp)
        os.replace(tmp, self.dir / MODEL)

    def write_file(self, name: str, data: bytes) -> None:
        """``name`` in the run directory, written to a temporary file and renamed (never half a file)."""
        tmp = self.dir / (name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.dir / name)

    def close(self) -> None:
        self._metrics.close()


def config_record(result) -> dict:
    """The ``config.json`` content: every setting at the top level, then ``run_id`` and the context."""
    return {**result.config.to_dict(), "run_id": result.run_id, **result.meta}


def _best_val(h):
    finite = [r for r in h if math.isfinite(r.val_acc)]
    return max(finite, key=lambda r: r.val_acc) if finite else None


def summarize(result) -> dict:
    """The ``summary.json`` content for a `fastact.training.records.RunResult`."""
    h = result.history
    best = _best_val(h)
    return {
        "run_id": result.run_id, "status": result.status, "message": result.message,
        "act": result.config.act, "dataset": result.dataset, "config": result.config.to_dict(),
        "epochs_completed": len(h), "epochs": result.config.epochs,
        "final_train_acc": h[-1].train_acc if h else None, "final_val_acc": h[-1].val_acc if h else None,
        "best_val_acc": best.val_acc if best else None, "best_val_epoch": best.epoch if best else None,
        "best_epoch": result.best_epoch, "best_test_loss": result.best_test_loss,
        "best_test_acc": result.best_test_acc, "stopped_epoch": result.stopped_epoch,
        "test_loss": result.test_loss, "test_acc": result.test_acc,
        "seconds": result.seconds,
        "seconds_per_epoch": sum(r.seconds for r in h) / len(h) if h else None,
        "history": [asdict(r) for r in h], "updated": now_iso(),
    }


def write_run(root, name: str, result) -> Path:
    """Write ``root/name/`` from a finished ``result`` (with ``weights`` if it has them), atomically.

    The files go to ``root/.tmp-<name>-<hex>/``, which is renamed to ``root/name`` once complete;
    an existing ``root/name`` is replaced (moved aside first, then removed). A process killed
    meanwhile leaves at most a ``.tmp-``/``.old-`` directory (`clean_partial` removes them) and
    ``root/name`` either as it was or complete.

    Returns:
        The run directory; ``result.run_id`` and ``result.run_dir`` are updated to it.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / name
    tmp = root / f".tmp-{name}-{secrets.token_hex(3)}"
    result.run_id, result.run_dir = name, str(final)
    writer = RunWriter(root, tmp.name)
    try:
        writer.write_config(config_record(result))
        for record in result.history:
            writer.append_epoch(record)
        for fname, data in (result.weights or {}).items():
            writer.write_file(fname, data)
        writer.write_summary(summarize(result))
    finally:
        writer.close()
    _fsync_dir(tmp)
    if final.exists():
        old = root / f".old-{name}-{secrets.token_hex(3)}"
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)
    _fsync_dir(root)
    return final


def clean_partial(root) -> int:
    """Remove what `write_run` leaves when killed mid-write (``.tmp-*``, ``.old-*``); returns how many."""
    root = Path(root)
    gone = 0
    for d in list(root.glob(".tmp-*")) + list(root.glob(".old-*")):
        shutil.rmtree(d, ignore_errors=True)
        gone += 1
    return gone


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (the directory entry), where the OS allows opening a directory."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_metrics(path) -> list[dict]:
    """Epoch records of ``metrics.jsonl``; an incomplete last line (a hard kill mid-write) is skipped."""
    rows = []
    with open(path) as f:
        for line in f:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return rows


def load_run(run_dir) -> dict:
    """``{"id", "dir", "config", "summary", "history", "status"}`` of a saved run.

    Raises:
        FileNotFoundError: ``run_dir`` holds neither ``config.json`` nor ``summary.json``.
    """
    d = Path(run_dir)
    cfg_path, sum_path, met_path = d / CONFIG, d / SUMMARY, d / METRICS
    if not cfg_path.is_file() and not sum_path.is_file():
        raise FileNotFoundError(f"not a run directory (no {CONFIG} or {SUMMARY}). Received: {run_dir}")
    config = json.loads(cfg_path.read_text()) if cfg_path.is_file() else {}
    summary = json.loads(sum_path.read_text()) if sum_path.is_file() else {}
    history = read_metrics(met_path) if met_path.is_file() else summary.get("history", [])
    status = summary.get("status", "interrupted")
    if status == "running":
        status = "interrupted"
    known = set(TrainConfig.field_names())
    train_cfg = {k: v for k, v in config.items() if k in known} or summary.get("config") or {}
    return {"id": summary.get("run_id", d.name), "dir": str(d), "config": train_cfg, "meta": config,
            "summary": summary, "history": history, "status": status}


def find_runs(paths) -> list[Path]:
    """Run directories named by ``paths``: each is a run or a root searched recursively.

    Roots list their runs in the order they started (``config.json``'s modification time);
    `write_run`'s temporary directories are skipped.
    """
    found = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"no such directory. Received: {p}")
        if (p / CONFIG).is_file() or (p / SUMMARY).is_file():
            found.append(p)
            continue
        runs = {c.parent for c in p.rglob(CONFIG)} | {c.parent for c in p.rglob(SUMMARY)}
        # a run `write_run` is still writing (or was killed writing) is not a run yet
        runs = {r for r in runs if not _partial(r.relative_to(p))}
        found += sorted(runs, key=_started)
    return found


def _partial(rel: Path) -> bool:
    return any(part.startswith((".tmp-", ".old-")) for part in rel.parts)


def _started(run_dir: Path) -> tuple:
    f = run_dir / CONFIG if (run_dir / CONFIG).is_file() else run_dir / SUMMARY
    return f.stat().st_mtime_ns, run_dir.name
