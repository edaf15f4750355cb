"""What a run prints while it trains: a progress bar per epoch and one line per epoch.

`ConsoleProgress` is the one implementation: ``fastact train`` and ``fastact sweep`` print
through it, and so does ``fastact.fit(..., verbose=1)`` (``verbose=2``: the epoch lines
without the bar, Keras's convention). `label_of` and `epoch_line` are the wording both use.
"""

from __future__ import annotations

import math
from dataclasses import asdict, is_dataclass

from fastact.training.records import Callbacks


def label_of(config: dict) -> str:
    """``relu``, ``leaky_relu(negative_slope=0.1)``."""
    params = config.get("act_params") or {}
    inner = ", ".join(f"{k}={v:g}" for k, v in sorted(params.items()))
    return f"{config.get('act', '?')}({inner})" if inner else str(config.get("act", "?"))


def _pct(v) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{100 * v:.2f}%"


def epoch_line(label: str, record, epochs: int) -> str:
    """``relu  epoch 3/10  loss 0.3121  acc 88.52%  val_loss 0.3312  val_acc 88.10%  4.1s  14,300 samples/s``."""
    r = asdict(record) if is_dataclass(record) else record
    return (f"{label:<12} epoch {r['epoch']:>{len(str(epochs))}}/{epochs}  loss {r['train_loss']:.4f}  "
            f"acc {_pct(r['train_acc'])}  val_loss {r['val_loss']:.4f}  val_acc {_pct(r['val_acc'])}  "
            f"{r['seconds']:.1f}s  {r['samples_per_s']:,.0f} samples/s")


def dataset_line(description: str, n_train: int, n_val: int, n_test: int) -> str:
    """``dataset: mnist from ~/.cache/fastact/mnist (54,000 train / 6,000 val / 10,000 test)``."""
    return f"dataset: {description} ({n_train:,} train / {n_val:,} val / {n_test:,} test)"


class ConsoleProgress(Callbacks):
    """Prints a run to a rich ``console``: a line when it starts, a transient bar per epoch, a line per epoch.

    Args:
        console: a `rich.console.Console` (stdout if None).
        bar: show the per-epoch progress bar (off: the epoch lines only).
        label: config dict -> the name printed before each line (`label_of`).

    Prose lines are printed with ``soft_wrap`` when the console is not a terminal, so a
    line written to a file is never broken in the middle.
    """

    def __init__(self, console=None, bar: bool = True, label=label_of):
        if console is None:
            from rich.console import Console

            console = Console()
        self.console, self.bar, self.label = console, bar, label
        self.progress = None
        self.task = None
        self.status = None

    def say(self, text: str, markup: bool = True) -> None:
        self.console.print(text, soft_wrap=not self.console.is_terminal, markup=markup)

    def preparing(self, config) -> None:
        """A spinner until the run starts: the first run of an activation compiles its kernels (seconds)."""
        if not self.console.is_terminal:
            return
        self.status = self.console.status(f"{self._label(config)}: loading or compiling the kernels")
        self.status.start()

    def on_run_start(self, config, info):
        self.close()
        where = f" -> {info['run_dir']}" if info.get("run_dir") else ""
        ready = info.get("compile_seconds")
        kernels = f" (kernels ready in {ready:.1f}s)" if ready is not None else ""
        self.say(f"[bold]{self._label(config)}[/bold] seed {config.seed}{where}{kernels}")
        if self.bar and self.console.is_terminal:  # in a file a bar is noise (rich leaves a blank line)
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn(),
                                     console=self.console, transient=True)
            self.progress.start()

    def _label(self, config):
        return self.label(config.to_dict())

    def on_batch(self, config, epoch, batch, n_batches, loss):
        if self.progress is None:
            return
        if self.task is None:
            self.task = self.progress.add_task(f"epoch {epoch}/{config.epochs}", total=n_batches, loss=loss)
        self.progress.update(self.task, completed=batch, loss=loss)

    def on_epoch_end(self, config, record):
        if self.progress is not None and self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        self.say(epoch_line(self._label(config), record, config.epochs), markup=False)

    def close(self) -> None:
        """Stop the spinner and the bar if they are still live (a run that raised)."""
        if self.status is not None:
            self.status.stop()
            self.status = None
        if self.progress is not None:
            self.progress.stop()
            self.progress, self.task = None, None

    def on_run_end(self, result):
        self.close()
        if result.status != "completed":
            from rich.markup import escape

            self.say(f"[yellow]{result.status}[/yellow]: {escape(result.message)}")
