"""What a run reports: `EpochRecord` per epoch, `RunResult` at the end, and the `Callbacks`
hooks through which interfaces (CLI progress, TUI messages) follow a run as it trains."""

from __future__ import annotations

from dataclasses import dataclass, field

#: how a run can end; a run killed hard is read back as "interrupted" (`fastact.training.runs`)
STATUSES = ("completed", "cancelled", "diverged", "failed")


@dataclass
class EpochRecord:
    """One finished epoch: the means over its batches as trained (Keras's ``history``), then
    the validation metrics, the epoch's wall time and the training throughput."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    seconds: float
    samples_per_s: float


@dataclass
class RunResult:
    """A finished run: its config, identity, per-epoch history, test metrics and status.

    ``test_*`` are the final model's (the last epoch's weights, or the best epoch's with
    ``restore_best_weights``); ``best_test_*`` are those of the best epoch's weights
    (`fastact.training.stopping`: by ``config.monitor``), ``best_epoch`` its number.
    ``stopped_epoch`` is set when early stopping ended the run. ``seconds`` is the run's wall
    time (kernel warm-up, every epoch, the test evaluations; not loading the dataset).
    ``meta`` is what ``config.json`` records besides the settings (model, data, threads,
    versions, ...). ``weights`` holds the ``model.npz`` / ``model.best.npz`` file contents when
    `fastact.training.train` was asked to keep them (``keep_weights``): a run trained
    elsewhere is written by whoever receives it (`fastact.training.runs.write_run`).
    ``model`` is the trained `fastact.MLP` as it was when the run ended (None if it was never
    built, or once the result has crossed a process boundary).
    """

    config: "object"  # fastact.training.config.TrainConfig
    run_id: str
    run_dir: str | None
    history: list[EpochRecord]
    test_loss: float | None
    test_acc: float | None
    status: str  # one of STATUSES
    message: str
    dataset: str
    seconds: float | None = None
    best_epoch: int | None = None
    best_test_loss: float | None = None
    best_test_acc: float | None = None
    stopped_epoch: int | None = None
    meta: dict = field(default_factory=dict)
    weights: dict | None = None
    model: "object" = None  # fastact.nn.MLP


class Callbacks:
    """No-op base; override what you need. Called from the training thread."""

    def on_kernels_ready(self, report): ...  # before the runs: `fastact.nn.warmup.Report` per dtype/optimizer
    def on_run_start(self, config, info: dict): ...
    def on_batch(self, config, epoch: int, batch: int, n_batches: int, loss: float): ...
    def on_epoch_end(self, config, record: EpochRecord): ...
    def on_run_end(self, result: RunResult): ...
