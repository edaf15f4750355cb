"""A run's memory, checked against the budget before its data is loaded or its model built.

A run of `TrainConfig` ``c`` on data of ``d`` features, ``k`` classes and ``n`` training rows
holds the network `fastact.nn.memory.estimate_memory` describes, for
``sizes = [d, *c.hidden, k]``, trained at batch ``B = min(c.batch_size, n)`` (a batch is
never longer than the rows) and evaluated in batches of ``min(1024, rows evaluated)``, plus

* the prefetcher's two batch buffers, ``2 * B * (d * s + 8)`` bytes;
* the epoch's row order, drawn as int64 and kept as intp: ``16 * n``;
* the dataset's arrays, ``rows * (d * s + 8)``, when they are not in memory yet;
* three copies of the weights at the end of a run: the best epoch's snapshot, the final weights
  set aside while the best are evaluated, and a model file built in memory
  (`fastact.training.loop`).

`check_runs` runs that check for every configuration of a command *before* anything starts:
with a loaded `Dataset` its shape is exact (and its arrays are already resident); without
one, a named dataset's shape is known from the registry, so ``--hidden 1000000`` is refused
before MNIST is even downloaded. A refusal is a `fastact.nn.memory.MemoryBudgetError`
naming the setting to change (``hidden``, ``batch_size`` or ``dataset``: `check_run`),
so the CLI says ``--hidden ...`` and the TUI marks the Hidden sizes field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fastact.data.registry import DATASETS, PAYLOAD_BYTES
from fastact.nn.memory import EVAL_BATCH, MemoryEstimate, check_memory, describe_network, estimate_memory
from fastact.resources import memory_budget
from fastact.training.config import TrainConfig

#: copies of the weights a run holds at its end (module docstring)
WEIGHT_COPIES = 3
_FIX = {"hidden": "use fewer or narrower hidden layers", "batch_size": "use a smaller batch size",
        "dataset": "use a smaller dataset or float32"}


@dataclass(frozen=True)
class DataShape:
    """What a run's data looks like: features, classes, rows trained on and evaluated, and whether
    the arrays are already in memory (then they are not counted again)."""

    input_dim: int
    n_classes: int
    n_train: int
    n_eval: int
    n_rows: int
    resident: bool


def dataset_shape(ds) -> DataShape:
    """The shape of a loaded `fastact.data.Dataset`."""
    n_val, n_test = len(ds.y_val), len(ds.y_test)
    return DataShape(ds.input_dim, ds.n_classes, len(ds.y_train), max(n_val, n_test),
                     len(ds.y_train) + n_val + n_test, resident=True)


def named_shape(config: TrainConfig) -> DataShape | None:
    """The shape of the named dataset ``config`` will load (every named one is MNIST-sized), or None
    when it is not known before loading (a ``data_dir`` of unknown files, a ``data_file``)."""
    if config.data_dir is not None or config.data_file is not None \
            or (config.dataset != "auto" and config.dataset not in DATASETS):
        return None
    n_file = PAYLOAD_BYTES["train_labels"] - 8  # IDX label files: an 8-byte header, one byte per row
    n_test = PAYLOAD_BYTES["test_labels"] - 8
    features = (PAYLOAD_BYTES["train_images"] - 16) // n_file
    n_val = int(n_file * config.val_split)
    n_classes = max(spec.n_classes for spec in DATASETS.values())
    return DataShape(features, n_classes, n_file - n_val, max(n_val, n_test), n_file + n_test, resident=False)


def estimate_run(config: TrainConfig, shape: DataShape) -> tuple[MemoryEstimate, list[int], int]:
    """(the estimate, the network's sizes, the effective batch) of one run (module docstring)."""
    sizes = [shape.input_dim, *config.hidden, shape.n_classes]
    batch = min(config.batch_size, shape.n_train) if shape.n_train else config.batch_size
    est = estimate_memory(sizes, batch, config.dtype, config.optimizer, config.act, config.prelu,
                          eval_batch=min(EVAL_BATCH, shape.n_eval))
    s = np.dtype(config.dtype).itemsize
    row = shape.input_dim * s + 8
    extra = 2 * batch * row + 16 * shape.n_train + (0 if shape.resident else shape.n_rows * row)
    return est.plus_data(extra).plus_copies(WEIGHT_COPIES), sizes, batch


def check_run(config: TrainConfig, shape: DataShape) -> MemoryEstimate:
    """The run's estimate if it fits the budget; else `MemoryBudgetError` naming the setting to change.

    That is the batch size when the run would fit at batch 1, else the dataset when its arrays
    are what push it over, else the hidden layers (the network does not fit at any batch: its
    evaluation workspace alone grows with the widths).
    """
    est, sizes, batch = estimate_run(config, shape)
    budget = memory_budget().n_bytes
    if est.total <= budget:
        return est
    at_one = estimate_run(replace(config, batch_size=1), shape)[0]
    data = 0 if shape.resident else shape.n_rows * (shape.input_dim * np.dtype(config.dtype).itemsize + 8)
    field = "batch_size" if at_one.total <= budget else "dataset" if at_one.total - data <= budget else "hidden"
    what = f"{describe_network(sizes, config.dtype)} trained with {config.optimizer} at batch {batch}"
    return check_memory(est, what, field, getattr(config, field), _FIX[field])


def check_runs(configs, dataset=None) -> None:
    """`check_run` for every configuration (with ``dataset``'s shape, else the named dataset's).

    Configurations that differ only in the seed share one check; one whose data shape is not
    known yet (a ``data_dir``, a ``data_file``) is checked once its data is loaded (`fastact.training.train`).
    """
    seen = set()
    for c in configs:
        key = (c.act, tuple(c.hidden), c.batch_size, c.dtype, c.optimizer, c.prelu, c.dataset, c.data_dir,
               c.data_file, c.val_split)
        if key in seen:
            continue
        seen.add(key)
        shape = dataset_shape(dataset) if dataset is not None else named_shape(c)
        if shape is not None:
            check_run(c, shape)
