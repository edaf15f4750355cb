"""`fit`: the Keras-style shortcut into the training loop.

    >>> result = fastact.fit(ds, act="rrelu", epochs=3, out=None)     # doctest: +SKIP
    >>> result.model.predict(ds.x_test[:5])                           # doctest: +SKIP
    array([9, 2, 1, 1, 6])

Like Keras's ``Model.fit``, it prints by default (``verbose=1``: a progress bar per epoch and
one line per epoch, exactly what ``fastact train`` prints), ``verbose=2`` prints the epoch
lines only (no bar: for logs and notebooks), ``verbose=0`` nothing.
"""

from __future__ import annotations

import difflib
import threading

from fastact.errors import SettingsError
from fastact.training.config import TrainConfig
from fastact.training.loop import load_for, train
from fastact.training.records import Callbacks, RunResult

#: ``verbose`` values: Keras's, ``"auto"`` meaning 1
VERBOSITY = (0, 1, 2, "auto")


def fit(dataset=None, callbacks: Callbacks | list[Callbacks] | None = None, cancel: threading.Event | None = None,
        *, verbose: int | str = "auto", console=None, **settings) -> RunResult:
    """Train one MLP: ``fit(ds, act="relu", hidden=(256,), epochs=3)`` is ``train(TrainConfig(...), ds)``.

    Args:
        dataset: a loaded `fastact.Dataset` (``fastact.Dataset.from_arrays(x, y)`` for your own
            arrays), a dataset name (``"fashion-mnist"``), an ``.npz`` path (`fastact.load_npz`),
            or None for the one ``settings`` name (``dataset=``, ``data_dir=``, ``data_file=``;
            default ``"auto"``).
        callbacks: a `Callbacks` or a list of them, called in this thread.
        cancel: as for `fastact.training.train`.
        verbose: 0 silent, 1 (or ``"auto"``, the default) a progress bar and a line per epoch,
            2 the lines only.
        console: the `rich.console.Console` to print to (default: stdout).
        **settings: `TrainConfig` fields (``hidden`` may be one int: ``hidden=256``). Files are
            written under ``out`` (default ``"runs"``); ``out=None`` writes none.

    Returns:
        The `RunResult`: ``history`` (an `EpochRecord` per epoch), ``test_acc``/``test_loss``,
        ``status`` and ``model``, the trained `fastact.MLP` (also when ``out=None``).

    Raises:
        SettingsError: a setting breaks its rule (``epochs must be a positive integer. Received: epochs=0``).
        TypeError: a keyword that is not a setting, or a ``dataset`` of the wrong kind.
    """
    if verbose not in VERBOSITY or isinstance(verbose, bool):
        raise SettingsError("verbose", verbose, "0 (silent), 1 or 'auto' (progress bar and epoch lines) "
                                                "or 2 (epoch lines only)")
    verbose = 1 if verbose == "auto" else verbose
    if isinstance(dataset, str):  # a name, or your own .npz file
        settings["data_file" if dataset.endswith(".npz") else "dataset"], dataset = dataset, None
    elif dataset is not None and not all(hasattr(dataset, k) for k in ("x_train", "y_train", "x_test", "n_classes")):
        raise TypeError(f"dataset must be a fastact.Dataset (fastact.load_dataset(...)), a dataset name or None. "
                        f"Received: dataset of type {type(dataset).__name__}")
    config = TrainConfig(**_settings(settings))
    config.validate()  # before loading any data: a bad setting fails at once
    hooks = list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks] if callbacks else []
    if verbose:
        from fastact.training.progress import ConsoleProgress, dataset_line

        progress = ConsoleProgress(console, bar=verbose == 1)
        if dataset is None:
            dataset = load_for(config, progress=True)
        progress.say(dataset_line(dataset.description, len(dataset.y_train), len(dataset.y_val),
                                  len(dataset.y_test)), markup=False)
        progress.preparing(config)
        hooks.insert(0, progress)
    try:
        return train(config, dataset, _Fanout(hooks) if len(hooks) > 1 else (hooks or [None])[0], cancel)
    finally:
        if verbose:
            progress.close()


def _settings(settings: dict) -> dict:
    known = TrainConfig.field_names()
    for name in settings:
        if name not in known:
            near = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else f"; settings are {', '.join(known)}"
            raise TypeError(f"fit() got an unknown setting {name!r}{hint}")
    hidden = settings.get("hidden")
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        settings["hidden"] = (hidden,)
    elif isinstance(hidden, list):
        settings["hidden"] = tuple(hidden)
    return settings


class _Fanout(Callbacks):
    """Several `Callbacks`, called in order (Keras's list of callbacks)."""

    def __init__(self, hooks):
        self.hooks = hooks

    def on_run_start(self, config, info):
        for h in self.hooks:
            h.on_run_start(config, info)

    def on_batch(self, config, epoch, batch, n_batches, loss):
        for h in self.hooks:
            h.on_batch(config, epoch, batch, n_batches, loss)

    def on_epoch_end(self, config, record):
        for h in self.hooks:
            h.on_epoch_end(config, record)

    def on_run_end(self, result):
        for h in self.hooks:
            h.on_run_end(result)
