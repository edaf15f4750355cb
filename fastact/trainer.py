"""The training loop: `TrainConfig` in, `RunResult` (a per-epoch history) out.

One epoch, for ``n`` training rows and batch size ``B``:

* rows are visited in the order ``perm_e = default_rng((seed, e)).permutation(n)``,
  a function of the seed and the epoch only, so results do not depend on the
  thread count (the kernels reduce in a fixed order too);
* ``ceil(n / B)`` steps of `MLP.train_step` (the last batch may be short); the
  next batch is gathered by `fastact.prefetch.Prefetcher` while one computes;
* ``train_loss``/``train_acc`` are the means over the epoch's batches as they
  were trained (Keras's ``history["loss"]``/``["accuracy"]``), ``val_*`` come
  from `MLP.evaluate` after the epoch; ``seconds`` is the epoch's wall time
  including validation, ``samples_per_s = n / training seconds``.

A non-finite batch loss stops the run as ``"diverged"``; a set ``cancel`` event
stops it before the next batch as ``"cancelled"``; Ctrl-C marks it cancelled,
writes its files and re-raises. Files: `fastact.results`.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from fastact import activations, optim, results
from fastact.engine import threads as _threads
from fastact.model import MLP, warm_up
from fastact.prefetch import Prefetcher

STATUSES = ("completed", "cancelled", "diverged", "failed")
DTYPES = ("float32", "float64")
PRELU_MODES = ("unit", "shared")
#: activation parameter -> the CLI flag that sets it, where the issue names it; others: --<act>-<param>
_NAMED_FLAGS = {("leaky_relu", "negative_slope"): "--negative-slope",
                ("rrelu", "lower"): "--rrelu-lower", ("rrelu", "upper"): "--rrelu-upper"}


def param_flag(act: str, param: str) -> str:
    """The CLI flag of an activation parameter: ``--negative-slope``, ``--rrelu-lower``, ``--elu-alpha`` ..."""
    return _NAMED_FLAGS.get((act, param), f"--{act}-{param}".replace("_", "-"))


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass
class TrainConfig:
    """Every setting of one training run (what ``fastact train`` flags set)."""

    act: str = "relu"
    hidden: tuple[int, ...] = (512,)
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    seed: int = 0
    val_split: float = 0.1
    dataset: str = "auto"
    data_dir: str | None = None
    threads: int | None = None
    dtype: str = "float32"
    act_params: dict = field(default_factory=dict)
    prelu: str = "unit"
    out: str | None = "runs"

    def validate(self) -> None:
        """Raise ValueError naming the CLI flag and the bad value, e.g.
        ``--epochs must be a positive integer. Received: epochs=0``."""
        def bad(flag, rule, key, value):
            raise ValueError(f"{flag} must be {rule}. Received: {key}={value!r}")

        try:
            act = activations.get(self.act) if isinstance(self.act, str) else None
        except ValueError:
            act = None
        if act is None:
            bad("--act", f"one of {', '.join(activations.names('every'))}", "act", self.act)
        hidden = self.hidden if isinstance(self.hidden, (tuple, list)) else None
        if not hidden or not all(_is_int(h) and h >= 1 for h in hidden):
            bad("--hidden", "one or more positive integers (layer widths)", "hidden", self.hidden)
        for key, flag in (("epochs", "--epochs"), ("batch_size", "--batch-size")):
            v = getattr(self, key)
            if not _is_int(v) or v < 1:
                bad(flag, "a positive integer", key, v)
        if not _is_num(self.lr) or self.lr <= 0:
            bad("--lr", "a positive number", "lr", self.lr)
        if not isinstance(self.optimizer, str) or self.optimizer.lower() not in optim.OPTIMIZERS:
            bad("--optimizer", f"one of {', '.join(optim.OPTIMIZERS)}", "optimizer", self.optimizer)
        if not _is_num(self.momentum) or not 0 <= self.momentum < 1:
            bad("--momentum", "in [0, 1)", "momentum", self.momentum)
        if self.nesterov and (self.optimizer.lower() != "sgd" or self.momentum == 0):
            bad("--nesterov", "used with --optimizer sgd and --momentum > 0", "nesterov", self.nesterov)
        if not _is_num(self.weight_decay) or self.weight_decay < 0:
            bad("--weight-decay", "a number >= 0", "weight_decay", self.weight_decay)
        if not _is_int(self.seed) or self.seed < 0:
            bad("--seed", "a non-negative integer", "seed", self.seed)
        if not _is_num(self.val_split) or not 0 <= self.val_split < 1:
            bad("--val-split", "in [0, 1)", "val_split", self.val_split)
        if self.threads is not None and (not _is_int(self.threads) or not 1 <= self.threads <= _threads.max_threads()):
            bad("--threads", f"an integer in 1..{_threads.max_threads()} (or unset: all cores)", "threads", self.threads)
        if self.dtype not in DTYPES:
            bad("--dtype", f"one of {', '.join(DTYPES)}", "dtype", self.dtype)
        if self.prelu not in PRELU_MODES:
            bad("--prelu", f"one of {', '.join(PRELU_MODES)}", "prelu", self.prelu)
        if not isinstance(self.dataset, str) or not self.dataset:
            bad("--dataset", "a dataset name or 'auto'", "dataset", self.dataset)
        if self.data_dir is not None and not Path(self.data_dir).is_dir():
            bad("--data-dir", "an existing directory", "data_dir", self.data_dir)
        self._validate_params(act)

    def _validate_params(self, act) -> None:
        if not isinstance(self.act_params, dict):
            raise ValueError(f"act_params must be a dict. Received: act_params={self.act_params!r}")
        valid = {p.name: p for p in act.params}
        for key, value in self.act_params.items():
            if key not in valid:
                raise ValueError(f"{act.name} has no parameter {key!r} (valid: {', '.join(valid) or 'none'}). "
                                 f"Received: {key}={value!r}")
            p = valid[key]
            if not _is_num(value) or not p.check(float(value)):
                key_name = param_flag(act.name, key)[2:].replace("-", "_")
                raise ValueError(f"{param_flag(act.name, key)} must be {p.rule}. Received: {key_name}={value!r}")
        merged = {**act.defaults, **{k: float(v) for k, v in self.act_params.items()}}
        if act.name == "rrelu" and merged["lower"] > merged["upper"]:
            raise ValueError("--rrelu-lower must be <= --rrelu-upper. "
                             f"Received: rrelu_lower={merged['lower']!r}, rrelu_upper={merged['upper']!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Inverse of `to_dict`; keys this version does not know are ignored."""
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if "hidden" in kw:
            kw["hidden"] = tuple(kw["hidden"])
        kw["act_params"] = dict(kw.get("act_params") or {})
        return cls(**kw)


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    seconds: float
    samples_per_s: float


@dataclass
class RunResult:
    config: TrainConfig
    run_id: str
    run_dir: str | None
    history: list[EpochRecord]
    test_loss: float | None
    test_acc: float | None
    status: str  # one of STATUSES
    message: str
    dataset: str


class Callbacks:
    """No-op base; override what you need. Called from the training thread."""

    def on_run_start(self, config, info: dict): ...
    def on_batch(self, config, epoch: int, batch: int, n_batches: int, loss: float): ...
    def on_epoch_end(self, config, record: EpochRecord): ...
    def on_run_end(self, result: RunResult): ...


def load_for(config: TrainConfig, progress: bool = True):
    """The dataset ``config`` names, split with its ``val_split`` and ``seed``."""
    from fastact.data import load_dataset

    return load_dataset(config.dataset, config.data_dir, config.val_split, config.seed, config.dtype,
                        progress=progress)


class _Stop(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def train(config: TrainConfig, dataset=None, callbacks: Callbacks | None = None,
          cancel: threading.Event | None = None) -> RunResult:
    """Train one MLP as ``config`` says and return its history and test metrics.

    Args:
        config: the run's settings (validated here: ValueError names the flag).
        dataset: a loaded `fastact.data.Dataset`; else loaded from ``config``.
        callbacks: progress hooks, called in this thread.
        cancel: checked before every batch; once set the run ends as ``"cancelled"``.

    Returns:
        A `RunResult`; problems during training give status ``"diverged"`` or
        ``"failed"`` rather than an exception. KeyboardInterrupt is re-raised
        after the run's files are written.
    """
    config.validate()
    cb = callbacks or Callbacks()
    ds = dataset if dataset is not None else load_for(config)
    n_threads = _threads.set_num_threads(config.threads)  # per calling thread in Numba
    run_id = results.make_run_id(activations.get(config.act).name, config.seed)
    writer = results.RunWriter(config.out, run_id) if config.out is not None else None
    if writer is not None:
        run_id = writer.dir.name
    result = RunResult(config, run_id, str(writer.dir) if writer else None, [], None, None,
                       "completed", "", ds.name)
    try:
        _run(config, ds, cb, cancel, writer, result, n_threads)
    except _Stop as stop:
        result.status, result.message = stop.status, stop.message
    except KeyboardInterrupt:
        result.status = "cancelled"
        result.message = f"interrupted (Ctrl-C) after {len(result.history)} of {config.epochs} epochs"
        _finish(result, writer, cb)
        raise
    except Exception as exc:  # noqa: BLE001 (reported in the result; train_many carries on)
        result.status, result.message = "failed", f"{type(exc).__name__}: {exc}"
    _finish(result, writer, cb)
    return result


def _finish(result: RunResult, writer, cb) -> None:
    if not result.message and result.status == "completed":
        result.message = f"{len(result.history)} epochs"
    if writer is not None:
        writer.write_summary(results.summarize(result))
        writer.close()
    cb.on_run_end(result)


def _run(config, ds, cb, cancel, writer, result, n_threads) -> None:
    act = activations.get(config.act)
    dtype = np.dtype(config.dtype)
    x_train, x_val, x_test = (np.ascontiguousarray(x, dtype) for x in (ds.x_train, ds.x_val, ds.x_test))
    n = len(x_train)
    if n == 0:
        raise ValueError(f"the training split is empty. Received: n_train={n}")
    sizes = [ds.input_dim, *config.hidden, ds.n_classes]
    model = MLP(sizes, act.name, config.dtype, config.seed, config.prelu, **config.act_params)
    opt = optim.get(config.optimizer, config.lr, config.weight_decay, config.momentum, config.nesterov)
    n_batches = -(-n // config.batch_size)
    blas = _blas_name()
    # Compile (first run of this activation and dtype) or load the cached kernels now, so the
    # first epoch's time is the engine's and the compile time is reported on its own.
    compile_seconds = warm_up(act.name, config.dtype, **config.act_params)
    info = {"run_id": result.run_id, "run_dir": result.run_dir, "dataset": ds.description,
            "dataset_name": ds.name, "n_train": n, "n_val": len(x_val), "n_test": len(x_test),
            "threads": n_threads, "batches_per_epoch": n_batches, "blas": blas,
            "compile_seconds": compile_seconds}
    if writer is not None:
        # Settings at the top level (what readers such as the TUI's Runs tab look up), then the context.
        writer.write_config({**config.to_dict(), "run_id": result.run_id, "model": model.config(),
                             "data": ds.to_config(), "threads_used": n_threads,
                             "threading_layer": _threads.threading_layer(), "blas": _blas_info(),
                             "compile_seconds": round(compile_seconds, 3),
                             "versions": results.versions(), "started": results.now_iso()})
        writer.write_summary({**results.summarize(result), "status": "running"})
    cb.on_run_start(config, info)
    try:
        for epoch in range(1, config.epochs + 1):
            record = _epoch(model, opt, config, x_train, ds.y_train, x_val, ds.y_val, epoch, n_batches, cb, cancel)
            result.history.append(record)
            if writer is not None:
                writer.append_epoch(record)
                writer.write_summary({**results.summarize(result), "status": "running"})
            cb.on_epoch_end(config, record)
        result.test_loss, result.test_acc = model.evaluate(x_test, ds.y_test)
        if writer is not None:
            writer.save_model(model)
    except (_Stop, KeyboardInterrupt) as stop:
        if writer is not None and (isinstance(stop, KeyboardInterrupt) or stop.status == "cancelled"):
            writer.save_model(model)  # the weights as they were when stopped; summary says so
        raise


def _epoch(model, opt, config, x, y, x_val, y_val, epoch, n_batches, cb, cancel) -> EpochRecord:
    t0 = time.perf_counter()
    perm = np.random.default_rng((config.seed, epoch)).permutation(len(x))
    total_loss, correct = 0.0, 0
    with Prefetcher(x, y, perm, config.batch_size) as batches:
        for b, (xb, yb) in enumerate(batches, 1):
            if cancel is not None and cancel.is_set():
                raise _Stop("cancelled", f"cancelled during epoch {epoch}, batch {b} of {n_batches}")
            loss, ok = model.train_step(xb, yb, opt)
            if not math.isfinite(loss):
                raise _Stop("diverged", f"loss became {loss} at epoch {epoch}, batch {b}: "
                            f"{config.act} diverged at lr={config.lr}; try a smaller --lr")
            total_loss += loss
            correct += ok
            cb.on_batch(config, epoch, b, n_batches, loss / len(yb))
    train_s = time.perf_counter() - t0
    val_loss, val_acc = model.evaluate(x_val, y_val) if len(x_val) else (math.nan, math.nan)
    seconds = time.perf_counter() - t0
    return EpochRecord(epoch, total_loss / len(x), correct / len(x), val_loss, val_acc, seconds, len(x) / train_s)


def _blas_info() -> dict:
    try:
        from fastact.engine.blas import backend_info

        return backend_info()
    except Exception as exc:  # noqa: BLE001 (informational only)
        return {"library": "unknown", "error": str(exc)}


def _blas_name() -> str:
    b = _blas_info()
    return " ".join(str(b[k]) for k in ("library", "version", "architecture") if b.get(k))


def train_many(configs, dataset=None, callbacks: Callbacks | None = None,
               cancel: threading.Event | None = None) -> list[RunResult]:
    """Train ``configs`` one after another; a diverged or failed run does not stop the others.

    Every config is validated before the first run starts. Without ``dataset``
    each distinct (dataset, data_dir, val_split, seed, dtype) is loaded once.
    Stops early (returning the results so far) once ``cancel`` is set.
    """
    configs = list(configs)
    for c in configs:
        c.validate()
    cache, out = {}, []
    for c in configs:
        if cancel is not None and cancel.is_set():
            break
        ds = dataset
        if ds is None:
            key = (c.dataset, c.data_dir, c.val_split, c.seed, c.dtype)
            if key not in cache:
                cache[key] = load_for(c)
            ds = cache[key]
        out.append(train(c, ds, callbacks, cancel))
    return out


def fit(dataset=None, callbacks: Callbacks | None = None, cancel: threading.Event | None = None,
        **settings) -> RunResult:
    """Keras-style shortcut: ``fit(act="relu", hidden=(256,), epochs=3)`` is ``train(TrainConfig(...))``."""
    if "hidden" in settings:
        settings["hidden"] = tuple(settings["hidden"])
    return train(TrainConfig(**settings), dataset, callbacks, cancel)
