"""`TrainConfig`: every setting of one training run, and the one place its rules live.

`TrainConfig.problems` checks every field and returns one `fastact.errors.SettingsError`
per broken rule (field, received value, rule); `validate` raises the first. Interfaces word
them in their own vocabulary: the CLI as ``--epochs ...``, the TUI by marking the field.
Activation parameters are checked by the activation table itself
(`fastact.activations.Activation.resolve`), so a rule is never written twice.

Example:
    >>> TrainConfig(epochs=0).problems()[0].render()
    'epochs must be a positive integer. Received: epochs=0'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from fastact import activations
from fastact.engine import threads as _threads
from fastact.errors import SettingsError
from fastact.nn import DTYPES, OPTIMIZERS, PRELU_MODES

#: the largest float32 (a setting beyond it cannot be represented in a float32 run)
_F32_MAX = float(np.finfo(np.float32).max)
SEED_LIMIT = 2**63
#: what the best epoch and early stopping watch (Keras's names); "val_loss" is minimised
MONITORS = ("val_accuracy", "val_loss")
#: the most seeds one command or form repeats a configuration with
MAX_SEEDS = 1000


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)


def check_seeds(n) -> int:
    """``n`` repeats of a configuration (``--seeds``): an integer in 1..`MAX_SEEDS`."""
    if not _is_int(n) or not 1 <= n <= MAX_SEEDS:
        raise SettingsError("seeds", n, f"an integer in 1..{MAX_SEEDS}")
    return int(n)


@dataclass
class TrainConfig:
    """Every setting of one training run (what ``fastact train`` flags set).

    ``act_params`` holds the activation's parameters by name (``{"negative_slope": 0.1}``);
    unset ones take the table's defaults. ``out=None`` writes no files.

    The best epoch and early stopping follow Keras's ``EarlyStopping``: after each epoch the
    ``monitor``ed validation metric (``val_loss``, lower is better, or ``val_accuracy``) is an
    improvement when it beats the best so far by more than ``min_delta``; the best epoch is the
    last improvement (the first epoch always is one). ``early_stopping=P`` (the patience) ends
    the run once ``P`` epochs in a row brought no improvement (``P=0``: at the first one); None
    trains every epoch. The best epoch's weights are kept in memory (and written as
    ``model.best.npz`` when ``save_best``), their test metrics reported as ``best_test_*``;
    ``restore_best_weights`` makes them the run's final model (``model.npz``, ``test_*``), as
    Keras 3 does at the end of training. Unlike Keras, ``monitor`` defaults to ``val_accuracy``:
    the experiment's metric, and the epoch ``best_val_acc`` reports.
    """

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
    data_file: str | None = None  # an .npz of x_train, y_train (and x_test, y_test): fastact.data.load_npz
    threads: int | None = None
    dtype: str = "float32"
    act_params: dict = field(default_factory=dict)
    prelu: str = "unit"
    early_stopping: int | None = None
    monitor: str = "val_accuracy"
    min_delta: float = 0.0
    restore_best_weights: bool = False
    save_best: bool = True
    out: str | None = "runs"

    def problems(self) -> list[SettingsError]:
        """Every broken rule, in field order (empty when the config is valid)."""
        out: list[SettingsError] = []

        def need(ok: bool, name: str, rule: str, others=None) -> None:
            if not ok:
                out.append(SettingsError(name, getattr(self, name), rule, others))

        act = None
        try:
            act = activations.get(self.act)
        except SettingsError:
            need(False, "act", f"one of {', '.join(activations.names('every'))}")
        hidden = self.hidden if isinstance(self.hidden, (tuple, list)) else ()
        need(bool(hidden) and all(_is_int(h) and h >= 1 for h in hidden), "hidden",
             "one or more positive integers (layer widths)")
        need(_is_int(self.epochs) and self.epochs >= 1, "epochs", "a positive integer")
        need(_is_int(self.batch_size) and self.batch_size >= 1, "batch_size", "a positive integer")
        need(_is_num(self.lr) and 0 < self.lr <= _F32_MAX, "lr", "a positive number")
        optimizer = self.optimizer.lower() if isinstance(self.optimizer, str) else None
        need(optimizer in OPTIMIZERS, "optimizer", f"one of {', '.join(OPTIMIZERS)}")
        need(_is_num(self.momentum) and 0 <= self.momentum < 1, "momentum", "in [0, 1)")
        need(not self.nesterov or (optimizer == "sgd" and _is_num(self.momentum) and self.momentum > 0),
             "nesterov", "used with {optimizer} sgd and {momentum} > 0",
             {"optimizer": ("optimizer", self.optimizer), "momentum": ("momentum", self.momentum)})
        need(_is_num(self.weight_decay) and 0 <= self.weight_decay <= _F32_MAX, "weight_decay", "a number >= 0")
        need(_is_int(self.seed) and 0 <= self.seed < SEED_LIMIT, "seed", "an integer in [0, 2**63)")
        need(_is_num(self.val_split) and 0 <= self.val_split < 1, "val_split", "in [0, 1)")
        top = _threads.max_threads()
        need(self.threads is None or (_is_int(self.threads) and 1 <= self.threads <= top), "threads",
             f"an integer in 1..{top} (or unset: all cores)")
        need(self.dtype in DTYPES, "dtype", f"one of {', '.join(DTYPES)}")
        need(self.prelu in PRELU_MODES, "prelu", f"one of {', '.join(PRELU_MODES)}")
        need(self.early_stopping is None or (_is_int(self.early_stopping) and self.early_stopping >= 0),
             "early_stopping", "an integer >= 0 (the patience in epochs), or unset: train every epoch")
        need(self.early_stopping is None or (_is_num(self.val_split) and self.val_split > 0), "early_stopping",
             "used with {val_split} > 0 (it watches the validation metrics)",
             {"val_split": ("val_split", self.val_split)})
        need(self.monitor in MONITORS, "monitor", f"one of {', '.join(MONITORS)}")
        need(_is_num(self.min_delta) and self.min_delta >= 0, "min_delta", "a number >= 0")
        need(isinstance(self.restore_best_weights, bool), "restore_best_weights", "True or False")
        need(isinstance(self.save_best, bool), "save_best", "True or False")
        need(isinstance(self.dataset, str) and bool(self.dataset), "dataset", "a dataset name or 'auto'")
        need(self.data_dir is None or Path(self.data_dir).is_dir(), "data_dir", "an existing directory")
        if self.data_file is not None:
            need(isinstance(self.data_file, str) and Path(self.data_file).is_file(), "data_file",
                 "an existing .npz file (keys x_train, y_train, optionally x_test, y_test)")
            need(self.data_dir is None, "data_file", "used without {data_dir} (each names the whole dataset)",
                 {"data_dir": ("data_dir", self.data_dir)})
            need(self.dataset == "auto", "data_file", "used with {dataset} auto (the file is the dataset)",
                 {"dataset": ("dataset", self.dataset)})
        need(self.out is None or (isinstance(self.out, str) and bool(self.out.strip())), "out",
             "a directory path (or None: write no files)")
        if not isinstance(self.act_params, dict):
            need(False, "act_params", "a dict of the activation's parameters")
        elif act is not None:
            out += self._param_problems(act)
        return out

    def _param_problems(self, act) -> list[SettingsError]:
        try:
            params = act.resolve(**self.act_params)
        except SettingsError as exc:
            return [exc]
        if self.dtype == "float32":
            big = [k for k, v in params.items() if abs(v) > _F32_MAX]
            return [SettingsError(f"{act.name}.{k}", params[k], "within float32's range (|x| <= 3.4e38)")
                    for k in big]
        return []

    def validate(self) -> None:
        """Raise the first of `problems` (a `SettingsError`, which is a ValueError)."""
        found = self.problems()
        if found:
            raise found[0]

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

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]
