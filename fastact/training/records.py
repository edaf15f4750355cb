"""What a run reports: `EpochRecord` per epoch, `RunResult` at the end, and the `Callbacks`
hooks through which interfaces (CLI progress, TUI messages) follow a run as it trains."""

from __future__ import annotations

from dataclasses import dataclass

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
    """A finished run: its config, identity, per-epoch history, test metrics and status."""

    config: "object"  # fastact.training.config.TrainConfig
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

    def on_kernels_ready(self, report): ...  # before the runs: `fastact.nn.warmup.Report` per dtype/optimizer
    def on_run_start(self, config, info: dict): ...
    def on_batch(self, config, epoch: int, batch: int, n_batches: int, loss: float): ...
    def on_epoch_end(self, config, record: EpochRecord): ...
    def on_run_end(self, result: RunResult): ...
