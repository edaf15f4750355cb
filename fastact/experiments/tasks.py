"""How a study's points run: the `StudyExecutor` interface, the point function a worker runs
(`run_task`), and the serial executor (the default).

An executor receives every `Task` at once and yields ``(task, outcome)`` pairs **as the points
finish, in any order**: ``outcome`` is the `RunResult` (carrying the model files in
``result.weights``; nothing is written by the worker) or the exception that stopped the point
from running at all. The runner (`fastact.experiments.runner`) alone writes the study's files,
so a remote executor only has to ship tasks out and results back. Trainer callbacks
(`fastact.training.Callbacks`) passed to ``submit`` should see each running point's events, in
the submitting process, if the executor can forward them; a set ``cancel`` event asks it to stop
soon, and points cut short come back with status ``"cancelled"`` (or not at all).

An executor may yield a task more than once (an attempt retried after a worker died): the
runner writes the last result over the first, so a point still exists once. A task it gives up
on should come back as an exception (the point is recorded as failed, with the message).

`EXECUTORS` maps the names ``--executor`` accepts to factories called with the interface's
options (``make_executor("dask", scheduler=...)``); another engine registers itself there
before the command line is built. ``"dask"`` (`fastact.experiments.distributed`) is registered
here and imports Dask only when made, so the choice exists without the optional extra and
making it without the extra is one `ExecutorError` naming it. An executor that holds resources
(a cluster, a connection) has ``close()``; `closing` calls it when there is one.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Protocol

from fastact.engine import threads as _threads
from fastact.errors import SettingsError
from fastact.training import Callbacks, RunResult, TrainConfig, data_key, load_for, train


@dataclass(frozen=True)
class Task:
    """One point to run: its key, label and configuration (``out=None``); picklable."""

    key: str
    label: str
    config: TrainConfig


class ExecutorError(ValueError):
    """An executor cannot start: its optional packages are missing, or its cluster does not answer.

    ``field`` is the setting to change (``"executor"``, ``"scheduler"``), for an interface to point
    at (the TUI marks that control); the message is a finished sentence, not a rule.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

    def __reduce__(self):
        return (type(self), (str(self), self.field))


class StudyExecutor(Protocol):
    name: str

    def submit(self, tasks: list[Task], callbacks: Callbacks | None = None,
               cancel: threading.Event | None = None) -> Iterator[tuple[Task, RunResult | BaseException]]: ...


_DATA: dict = {}


def worker_dataset(config: TrainConfig, keep: int = 1):
    """The split ``config`` needs, loaded once per process; at most ``keep`` splits are kept (the
    decoded files are cached by `fastact.data` anyway, so another split is a cheap re-split)."""
    key = data_key(config)
    if key not in _DATA:
        while len(_DATA) >= keep:
            _DATA.pop(next(iter(_DATA)))
        _DATA[key] = load_for(config, progress=False)
    return _DATA[key]


def run_task(task: Task, dataset=None, callbacks: Callbacks | None = None,
             cancel: threading.Event | None = None) -> RunResult:
    """What a worker runs for one point: train it, keep the weights in the result, write nothing."""
    ds = dataset if dataset is not None else worker_dataset(task.config)
    # The model object stays behind: the result crosses to the client (possibly another process or
    # machine), which writes the run from ``result.weights``.
    result = replace(train(task.config, ds, callbacks, cancel, keep_weights=True), model=None)
    # The GEMM tiling, so the results' bits, follow NUMBA_NUM_THREADS (not the threads used):
    # config.json records it wherever the point ran.
    result.meta["numba_num_threads"] = _threads.max_threads()
    return result


def failure(task: Task, exc: BaseException) -> RunResult:
    """The result recorded for a point that did not run: status ``failed``, the exception as message."""
    return RunResult(task.config, task.key, None, [], None, None, "failed", f"{type(exc).__name__}: {exc}", "")


class SerialExecutor:
    """Every point in this process, one after another, with all threads (the default).

    ``run(task, dataset, callbacks, cancel)`` and ``load(config)`` default to `run_task` and
    `worker_dataset`; an interface with its own trainer (the TUI's test double) passes others.
    """

    name = "serial"

    def __init__(self, run: Callable | None = None, load: Callable | None = None):
        self.run = run or run_task
        self.load = load or worker_dataset

    def submit(self, tasks, callbacks=None, cancel=None):
        for task in tasks:
            if cancel is not None and cancel.is_set():
                return
            try:
                ds = self.load(task.config)
            except Exception as exc:  # noqa: BLE001 (the point failed to start; the runner records why)
                yield task, exc
                continue
            yield task, self.run(task, ds, callbacks, cancel)

    def describe(self) -> str:
        return f"serial: one point at a time in this process, {_threads.max_threads()} kernel threads"

    def close(self) -> None:
        """Nothing to release."""


def _dask(**options) -> StudyExecutor:
    from fastact.experiments import distributed  # Dask itself is imported only now

    return distributed.make(**options)


#: ``--executor`` name -> factory (keyword options from the interface)
EXECUTORS: dict[str, Callable[..., StudyExecutor]] = {"serial": SerialExecutor, "dask": _dask}


def make_executor(name: str, **options) -> StudyExecutor:
    """The executor ``name`` (`EXECUTORS`); a `SettingsError` names the choices."""
    if name not in EXECUTORS:
        raise SettingsError("executor", name, f"one of {', '.join(EXECUTORS)}")
    return EXECUTORS[name](**options)


@contextlib.contextmanager
def closing(executor: StudyExecutor):
    """``with closing(make_executor(...)) as ex:``: its ``close()`` (if it has one) runs on the way out."""
    try:
        yield executor
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()
