"""The training loop: `TrainConfig` in, `RunResult` (a per-epoch history) out.

One epoch, for ``n`` training rows and batch size ``B``:

* rows are visited in the order ``perm_e = default_rng((seed, e)).permutation(n)``,
  a function of the seed and the epoch only, so results do not depend on the
  thread count (the kernels reduce in a fixed order too);
* ``ceil(n / B)`` steps of `MLP.train_step` (the last batch may be short); the
  next batch is gathered by `fastact.training.prefetch.Prefetcher` while one computes;
* ``train_loss``/``train_acc`` are the means over the epoch's batches as they
  were trained (Keras's ``history["loss"]``/``["accuracy"]``), ``val_*`` come
  from `MLP.evaluate` after the epoch; ``seconds`` is the epoch's wall time
  including validation, ``samples_per_s = n / training seconds``.

After each epoch the best epoch and early stopping follow Keras's ``EarlyStopping``
(`fastact.training.stopping`); the best epoch's weights are kept and evaluated on the test
set at the end. A non-finite batch loss stops the run as ``"diverged"``; a set ``cancel`` event
stops it before the next batch as ``"cancelled"``; Ctrl-C marks it cancelled,
writes its files and re-raises. Files: `fastact.training.runs`.
"""

from __future__ import annotations

import io
import math
import threading
import time

import numpy as np

from fastact import activations, fsio
from fastact.data import load_dataset, load_npz
from fastact.engine import threads as _threads
from fastact.engine.blas import backend_info, backend_name
from fastact.nn import MLP, optim, warm_up
from fastact.nn.warmup import prepare_kernels
from fastact.training import runs
from fastact.training.config import TrainConfig
from fastact.training.memory import check_runs
from fastact.training.prefetch import Prefetcher
from fastact.training.records import Callbacks, EpochRecord, RunResult
from fastact.training.stopping import BestEpoch


def load_for(config: TrainConfig, progress: bool = True):
    """The dataset ``config`` names (its ``data_file``, else ``dataset``/``data_dir``), split with
    its ``val_split`` and ``seed``."""
    if config.data_file is not None:
        return load_npz(config.data_file, val_split=config.val_split, seed=config.seed, dtype=config.dtype)
    return load_dataset(config.dataset, config.data_dir, config.val_split, config.seed, config.dtype,
                        progress=progress)


def data_key(config: TrainConfig) -> tuple:
    """Configs with the same key train on the same split: load it once for all of them."""
    return (config.dataset, config.data_dir, config.data_file, config.val_split, config.seed, config.dtype)


class _Stop(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def train(config: TrainConfig, dataset=None, callbacks: Callbacks | None = None,
          cancel: threading.Event | None = None, keep_weights: bool = False) -> RunResult:
    """Train one MLP as ``config`` says and return its history and test metrics.

    Args:
        config: the run's settings (validated here: `fastact.errors.SettingsError` names the field;
            `fastact.nn.MemoryBudgetError` when the run would not fit the memory budget).
        dataset: a loaded `fastact.data.Dataset`; else loaded from ``config``.
        callbacks: progress hooks, called in this thread.
        cancel: checked before every batch; once set the run ends as ``"cancelled"``.
        keep_weights: also return the ``model.npz`` (and ``model.best.npz``) file contents in
            ``result.weights``, for a caller that writes the run's files itself.

    Returns:
        A `RunResult`; problems during training give status ``"diverged"`` or
        ``"failed"`` rather than an exception. KeyboardInterrupt is re-raised
        after the run's files are written.
    """
    config.validate()
    cb = callbacks or Callbacks()
    ds = dataset if dataset is not None else load_for(config)
    check_runs([config], ds)  # before the run directory exists: a refusal writes nothing
    start = time.perf_counter()
    n_threads = _threads.set_num_threads(config.threads)  # per calling thread in Numba
    run_id = runs.make_run_id(activations.get(config.act).name, config.seed)
    writer, failure = None, ""
    try:
        writer = runs.RunWriter(config.out, run_id) if config.out is not None else None
    except OSError as exc:
        failure = f"could not create the run directory: {fsio.describe(exc)}"
    result = RunResult(config, run_id, str(writer.dir) if writer else None, [], None, None,
                       "completed", "", ds.name)
    try:
        if failure:
            raise _Stop("failed", failure)
        _run(config, ds, cb, cancel, writer, result, n_threads, keep_weights)
    except _Stop as stop:
        result.status, result.message = stop.status, stop.message
    except KeyboardInterrupt:
        result.status = "cancelled"
        result.message = f"interrupted (Ctrl-C) after {len(result.history)} of {config.epochs} epochs"
        _finish(result, writer, cb, start)
        raise
    except OSError as exc:  # a file of the run could not be written (full disk, read-only, quota)
        result.status, result.message = "failed", f"could not write {fsio.describe(exc)}"
    except Exception as exc:  # noqa: BLE001 (reported in the result; train_many carries on)
        result.status, result.message = "failed", f"{type(exc).__name__}: {exc}"
    _finish(result, writer, cb, start)
    return result


def _finish(result: RunResult, writer, cb, start: float) -> None:
    if not result.message and result.status == "completed":
        result.message = f"{len(result.history)} epochs"
    result.seconds = time.perf_counter() - start
    if writer is not None:
        try:
            writer.write_summary(runs.summarize(result))
        except OSError as exc:
            writer.problems.append(f"{runs.SUMMARY} could not be updated ({fsio.describe(exc)}) and still "
                                   f"shows the last state it could be written with")
        writer.close()
        if writer.problems:
            result.message = "; ".join([result.message, *writer.problems])
    cb.on_run_end(result)


def _snapshot(model) -> list[np.ndarray]:
    return [p.value.copy() for p in model.parameters()]


def _restore(model, state: list[np.ndarray]) -> None:
    for p, v in zip(model.parameters(), state):
        p.value[...] = v


def _model_bytes(model) -> bytes:
    buf = io.BytesIO()
    model.save(buf)
    return buf.getvalue()


def _run(config, ds, cb, cancel, writer, result, n_threads, keep_weights) -> None:
    act = activations.get(config.act)
    dtype = np.dtype(config.dtype)
    x_train, x_val, x_test = (np.ascontiguousarray(x, dtype) for x in (ds.x_train, ds.x_val, ds.x_test))
    n = len(x_train)
    if n == 0:
        raise ValueError(f"the training split is empty. Received: n_train={n}")
    sizes = [ds.input_dim, *config.hidden, ds.n_classes]
    model = MLP(sizes, act.name, config.dtype, config.seed, config.prelu, dropout=config.dropout,
                **config.act_params)
    result.model = model
    opt = optim.get(config.optimizer, config.lr, config.weight_decay, config.momentum, config.nesterov)
    n_batches = -(-n // config.batch_size)
    blas = backend_name()
    # Compile (first run of this activation and dtype) or load the cached kernels now, so the
    # first epoch's time is the engine's and the compile time is reported on its own.
    compile_seconds = warm_up(act.name, config.dtype, config.optimizer, config.dropout, **config.act_params)
    # A defined activation's parse/derive/codegen/check, done once per process when it was defined.
    formula_seconds = act.definition.compile_seconds if act.definition is not None else None
    info = {"run_id": result.run_id, "run_dir": result.run_dir, "dataset": ds.description,
            "dataset_name": ds.name, "n_train": n, "n_val": len(x_val), "n_test": len(x_test),
            "threads": n_threads, "batches_per_epoch": n_batches, "blas": blas,
            "compile_seconds": compile_seconds, "formula_seconds": formula_seconds}
    result.meta = {"model": model.config(), "data": ds.to_config(), "threads_used": n_threads,
                   "threading_layer": _threads.threading_layer(), "blas": backend_info(),
                   "compile_seconds": round(compile_seconds, 3),
                   **({"formula": act.formula, "formula_seconds": round(formula_seconds, 3)}
                      if formula_seconds is not None else {}),
                   "versions": runs.versions(), "started": runs.now_iso()}
    if writer is not None:
        # Settings at the top level (what readers such as the TUI's Runs tab look up), then the context.
        writer.write_config(runs.config_record(result))
        writer.write_summary({**runs.summarize(result), "status": "running"})
    cb.on_run_start(config, info)
    rule = BestEpoch(config.monitor, config.min_delta, config.early_stopping)
    best_state = None
    try:
        for epoch in range(1, config.epochs + 1):
            record = _epoch(model, opt, config, x_train, ds.y_train, x_val, ds.y_val, epoch, n_batches, cb, cancel)
            if writer is not None:
                writer.append_epoch(record)  # first: an epoch that could not be written is not reported done
            result.history.append(record)
            improved, stop = rule.update(epoch, rule.value_of(record))
            if improved:
                best_state, result.best_epoch = _snapshot(model), epoch
            if stop:
                result.stopped_epoch = epoch
                result.message = f"stopped early at epoch {epoch} of {config.epochs}: {rule.reason()}"
            if writer is not None:
                writer.write_summary({**runs.summarize(result), "status": "running"})
            cb.on_epoch_end(config, record)
            if stop:
                break
        result.test_loss, result.test_acc = model.evaluate(x_test, ds.y_test)
    except (_Stop, KeyboardInterrupt) as stop:
        if writer is not None and (isinstance(stop, KeyboardInterrupt) or stop.status == "cancelled"):
            try:
                writer.save_model(model)  # the weights as they were when stopped; summary says so
            except OSError as exc:  # the stop is what is reported; the lost model is noted in its message
                writer.problems.append(f"the model could not be saved ({fsio.describe(exc)})")
        raise
    best_bytes = _best_weights(model, config, result, best_state, x_test, ds.y_test, writer, keep_weights)
    if writer is not None:
        writer.save_model(model)
        if best_bytes is not None:
            writer.write_file(runs.BEST_MODEL, best_bytes)
    if keep_weights:
        result.weights = {runs.MODEL: _model_bytes(model), **({runs.BEST_MODEL: best_bytes} if best_bytes else {})}


def _best_weights(model, config, result, best_state, x_test, y_test, writer, keep_weights) -> bytes | None:
    """Evaluate the best epoch's weights on the test set; leave the model as the final one
    (the last epoch's weights, or the best with ``restore_best_weights``). Returns the
    ``model.best.npz`` contents when they are to be written or kept."""
    if best_state is None:
        return None
    want = config.save_best and (writer is not None or keep_weights)
    if result.best_epoch == len(result.history):  # the last epoch was the best: the same weights
        result.best_test_loss, result.best_test_acc = result.test_loss, result.test_acc
        return _model_bytes(model) if want else None
    last = None if config.restore_best_weights else _snapshot(model)
    _restore(model, best_state)
    result.best_test_loss, result.best_test_acc = model.evaluate(x_test, y_test)
    data = _model_bytes(model) if want else None
    if config.restore_best_weights:
        result.test_loss, result.test_acc = result.best_test_loss, result.best_test_acc
    else:
        _restore(model, last)
    return data


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
                            f"{config.act} diverged at lr={config.lr}; try a smaller learning rate")
            total_loss += loss
            correct += ok
            cb.on_batch(config, epoch, b, n_batches, loss / len(yb))
    train_s = time.perf_counter() - t0
    val_loss, val_acc = model.evaluate(x_val, y_val) if len(x_val) else (math.nan, math.nan)
    seconds = time.perf_counter() - t0
    return EpochRecord(epoch, total_loss / len(x), correct / len(x), val_loss, val_acc, seconds, len(x) / train_s)


def prepare_kernels_for(configs, callbacks=None) -> list:
    """Compile (in parallel processes, `fastact.nn.warmup`) or load the kernels of every config first.

    One `fastact.nn.warmup.Report` per (dtype, optimizer), each also passed to
    ``callbacks.on_kernels_ready`` when the callbacks have it.
    """
    groups: dict[tuple, list[str]] = {}
    for c in configs:
        groups.setdefault((c.dtype, c.optimizer, c.dropout > 0), []).append(c.act)
    reports = [prepare_kernels(acts, dtype, opt, dropout=drop) for (dtype, opt, drop), acts in groups.items()]
    hook = getattr(callbacks, "on_kernels_ready", None)
    for r in reports if hook else ():
        hook(r)
    return reports


def train_many(configs, dataset=None, callbacks: Callbacks | None = None,
               cancel: threading.Event | None = None) -> list[RunResult]:
    """Train ``configs`` one after another; a diverged or failed run does not stop the others.

    Every config is validated, its memory checked and every kernel prepared (`prepare_kernels_for`)
    before the first run starts. Without ``dataset``
    each distinct `data_key` (dataset, data_dir, data_file, val_split, seed, dtype) is loaded once.
    Stops early (returning the results so far) once ``cancel`` is set.
    """
    configs = list(configs)
    for c in configs:
        c.validate()
    check_runs(configs, dataset)  # every run's memory, before the first starts (or any data is downloaded)
    prepare_kernels_for(configs, callbacks)
    cache, out = {}, []
    for c in configs:
        if cancel is not None and cancel.is_set():
            break
        ds = dataset
        if ds is None:
            key = data_key(c)
            if key not in cache:
                cache[key] = load_for(c)
            ds = cache[key]
        out.append(train(c, ds, callbacks, cancel))
    return out
