"""A deterministic stand-in for `fastact.training` that follows its contract exactly.

Used by the TUI snapshot tests (numbers must not depend on timing or BLAS) and by pilot
tests that need a run to be slow or to diverge on demand. Accuracy curves are a closed-form
function of the activation name, the seed and the epoch, so every test sees the same values.
"""

from __future__ import annotations

import threading
import time
import zlib

# The data types are the real trainer's: only the training itself is faked.
from fastact.training import Callbacks, EpochRecord, RunResult, TrainConfig  # noqa: F401

N_BATCHES = 4
DELAY = 0.0          # seconds slept per batch; pilot tests raise it to keep a run in flight
DIVERGE = {"linear"}  # activations that "diverge" when `diverge_linear` is set
diverge_linear = False
HOLD: tuple[str, int, int] | None = None  # (act, epoch, batch): pause there until RELEASE is set
RELEASE = threading.Event()


def curve(act: str, seed: int, epoch: int) -> tuple[float, float]:
    """(train_acc, val_acc) at ``epoch``: a saturating curve whose ceiling depends on the name."""
    h = zlib.crc32(f"{act}:{seed}".encode()) % 1000 / 1000.0
    ceiling = 0.80 + 0.18 * h
    train = ceiling * (1 - 0.5 ** epoch)
    return train, train - 0.01 - 0.02 * h


def _run(config, callbacks, cancel, index):
    cb = callbacks or Callbacks()
    config.validate()
    run_id = f"fake-{index:02d}-{config.act}"
    info = {"run_id": run_id, "run_dir": None, "dataset": "synthetic (fake trainer)",
            "dataset_name": "synthetic", "n_train": 512, "n_val": 64, "n_test": 64,
            "threads": 2, "batches_per_epoch": N_BATCHES, "blas": "none"}
    cb.on_run_start(config, info)
    history, status, message = [], "completed", ""
    for epoch in range(1, config.epochs + 1):
        for batch in range(1, N_BATCHES + 1):
            if cancel is not None and cancel.is_set():
                status, message = "cancelled", f"stopped during epoch {epoch}"
                break
            if DELAY:
                time.sleep(DELAY)
            loss = 2.3 * 0.7 ** (epoch - 1 + batch / N_BATCHES)
            if diverge_linear and config.act in DIVERGE and epoch == 2:
                status, message = "diverged", f"loss became nan at epoch {epoch}, batch {batch}"
                break
            if HOLD == (config.act, epoch, batch):
                time.sleep(0.1)  # past the UI's per-batch throttle, so this batch is shown
            cb.on_batch(config, epoch, batch, N_BATCHES, loss)
            if HOLD == (config.act, epoch, batch):
                # a snapshot of a run in flight; never wait forever, the app may be gone
                RELEASE.wait(5.0)
        if status != "completed":
            break
        train, val = curve(config.act, config.seed, epoch)
        rec = EpochRecord(epoch, 2.3 * 0.7 ** epoch, train, 2.4 * 0.7 ** epoch, val, 0.5, 1024.0)
        history.append(rec)
        cb.on_epoch_end(config, rec)
    test_acc = history[-1].val_acc - 0.005 if history and status == "completed" else None
    result = RunResult(config, run_id, None, history, None if test_acc is None else 0.3, test_acc,
                       status, message, "synthetic")
    cb.on_run_end(result)
    return result


def train(config, dataset=None, callbacks=None, cancel: threading.Event | None = None):
    return _run(config, callbacks, cancel, 0)


def train_many(configs, dataset=None, callbacks=None, cancel=None):
    results = []
    for i, c in enumerate(configs):
        if cancel is not None and cancel.is_set():
            break
        results.append(_run(c, callbacks, cancel, i))
    return results


class FakeDataset:
    name, description = "synthetic", "synthetic (fake trainer): 512 train / 64 val / 64 test"


LOADS: list = []  # the configs a dataset was loaded for


def load_for(config, progress: bool = True):
    """What the real `load_for` does for the TUI: one load per (dataset, split, seed, dtype)."""
    LOADS.append(config)
    return FakeDataset()
