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

import contextlib
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

from fastact import fsio
from fastact._version import __version__
from fastact.training import runfiles
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
    def dump(f):
        json.dump(_clean(data), f, indent=2)
        f.write("\n")

    with _naming(path):
        fsio.atomic_write(path, dump, tmp=path.with_suffix(path.suffix + ".tmp"))


@contextlib.contextmanager
def _naming(path: Path):
    """An OSError from writing ``path`` names it (a failed ``write``/``fsync`` carries no file name)."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        raise


class RunWriter:
    """Creates ``root/run_id/`` and writes the files of one run as it goes.

    Every write is all or nothing: ``config.json``, ``summary.json`` and ``model.npz`` are
    replaced atomically (the temporary file is removed when the write fails), and an epoch
    line that cannot be written whole is cut off again, so after a failure (a full disk) the
    files still hold the last complete epoch. Failures raise `OSError` naming the file.
    """

    def __init__(self, root, run_id: str):
        self.dir = Path(root) / run_id
        self.dir.mkdir(parents=True, exist_ok=False)
        try:
            with _naming(self.dir / METRICS):
                # Unbuffered: a line that failed to reach the disk must not sit in a buffer and be
                # flushed (half) at close, after it was cut off again.
                self._metrics = open(self.dir / METRICS, "ab", buffering=0)
        except OSError:
            with contextlib.suppress(OSError):
                self.dir.rmdir()
            raise
        #: what could not be written after the run had failed or stopped (reported in its message)
        self.problems: list[str] = []

    def write_config(self, data: dict) -> None:
        _write_json(self.dir / CONFIG, data)

    def append_epoch(self, record) -> None:
        line = memoryview((json.dumps(_clean(asdict(record))) + "\n").encode())
        start = os.fstat(self._metrics.fileno()).st_size
        try:
            with _naming(self.dir / METRICS):
                while line:  # a raw write may take only part of it
                    line = line[self._metrics.write(line):]
                os.fsync(self._metrics.fileno())
        except OSError:
            # Drop the part of the line that reached the file (truncating needs no free space).
            with contextlib.suppress(OSError):
                os.truncate(self.dir / METRICS, start)
            raise

    def write_summary(self, data: dict) -> None:
        _write_json(self.dir / SUMMARY, data)

    def save_model(self, model) -> None:
        with _naming(self.dir / MODEL):
            fsio.atomic_write(self.dir / MODEL, model.save, binary=True, tmp=self.dir / "model.tmp.npz")

    def write_file(self, name: str, data: bytes) -> None:
        """``name`` in the run directory, written to a temporary file and renamed (never half a file;
        the temporary file is removed when the write fails)."""
        with _naming(self.dir / name):
            fsio.atomic_write(self.dir / name, lambda f: f.write(data), binary=True, tmp=self.dir / (name + ".tmp"))

    def close(self) -> None:
        with contextlib.suppress(OSError):  # unbuffered: nothing is lost if closing fails
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
    """Epoch records of ``metrics.jsonl``; an incomplete last line (a hard kill mid-write) is skipped.

    Raises:
        fastact.training.runfiles.MalformedRun: any other line that is not an epoch record.
    """
    return runfiles.read_metrics(path)


def load_run(run_dir) -> dict:
    """``{"id", "dir", "config", "summary", "history", "status"}`` of a saved run.

    Every file is checked before it is used (`fastact.training.runfiles`).

    Raises:
        FileNotFoundError: ``run_dir`` holds neither ``config.json`` nor ``summary.json``.
        fastact.training.runfiles.MalformedRun: a file that is not what fastact writes (one line
            naming it): skip the run (`load_runs`).
    """
    d = Path(run_dir)
    cfg_path, sum_path, met_path = d / CONFIG, d / SUMMARY, d / METRICS
    if not cfg_path.is_file() and not sum_path.is_file():
        raise FileNotFoundError(f"not a run directory (no {CONFIG} or {SUMMARY}). Received: {run_dir}")
    config = runfiles.read_json(cfg_path) if cfg_path.is_file() else {}
    runfiles.check_config(cfg_path, config)
    summary = runfiles.read_json(sum_path) if sum_path.is_file() else {}
    runfiles.check_summary(sum_path, summary)
    history = read_metrics(met_path) if met_path.is_file() else summary.get("history", [])
    status = summary.get("status", "interrupted")
    if status == "running":
        status = "interrupted"
    known = set(TrainConfig.field_names())
    train_cfg = {k: v for k, v in config.items() if k in known} or summary.get("config") or {}
    return {"id": summary.get("run_id", d.name), "dir": str(d), "config": train_cfg, "meta": config,
            "summary": summary, "history": history, "status": status}


def load_runs(dirs) -> tuple[list[dict], list[str]]:
    """`load_run` of each of ``dirs``: the runs that could be read, and one line per run skipped
    (``<file>: <what is wrong>``), for the reader to warn about and go on."""
    loaded, skipped = [], []
    for d in dirs:
        try:
            loaded.append(load_run(d))
        except (runfiles.MalformedRun, FileNotFoundError) as exc:
            skipped.append(str(exc))
        except OSError as exc:  # the folder vanished or became unreadable while it was read
            skipped.append(f"{d}: cannot be read ({exc.strerror or exc})")
    return loaded, skipped


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
    try:
        return f.stat().st_mtime_ns, run_dir.name
    except OSError:  # removed while the root was searched: sorted first, then skipped when read
        return 0, run_dir.name
