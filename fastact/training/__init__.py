"""Training: `TrainConfig` (settings and their rules), the loop (`train`, `train_many`, `fit`),
the prefetching batch gatherer and the run directories it writes.

Modules: `config` (TrainConfig, validation), `records` (EpochRecord, RunResult, Callbacks),
`loop` (train, train_many, load_for), `api` (fit), `progress` (ConsoleProgress: the bar and
epoch lines the CLI and ``fit(verbose=1)`` print), `prefetch` (Prefetcher), `runs` (run
directories: write and read back).
"""

from fastact.training.api import fit
from fastact.training.config import TrainConfig
from fastact.training.loop import data_key, load_for, prepare_kernels_for, train, train_many
from fastact.training.records import STATUSES, Callbacks, EpochRecord, RunResult

__all__ = ["STATUSES", "Callbacks", "EpochRecord", "RunResult", "TrainConfig", "data_key", "fit", "load_for",
           "prepare_kernels_for", "train", "train_many"]
