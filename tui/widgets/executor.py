"""Where the Study and Sweep tabs run their points: ``--executor`` and ``--scheduler`` as two form
controls. ``serial`` (the default) runs them one after another in this process; ``dask`` on a Dask
cluster: the scheduler whose address is typed, or a LocalCluster on this machine when the field
is empty. The address field shows only while ``dask`` is chosen.

The executor is made in the tab's worker thread (`make`: a LocalCluster takes seconds to start, a
scheduler that does not answer takes Dask's connect timeout), through the same factory as the
command line (`fastact.experiments.tasks.make_executor`). A refusal names the setting it is about
(``SettingsError.field`` for a malformed address, ``ExecutorError.field`` for a scheduler that does
not answer or Dask not installed): `make` posts `ExecutorRefused` to the tab, whose handler calls
`mark` to flag that control and show the message under the tab's controls.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

from textual.message import Message
from textual.widgets import Select, Static

from fastact.errors import SettingsError
from fastact.experiments.tasks import EXECUTORS, ExecutorError, make_executor
from fastact_tui.messages import LogLine
from fastact_tui.widgets.fields import FieldInput

#: the library's field names these controls set (control id: ``<prefix>-<field>``)
CONTROLS = ("executor", "scheduler")


@dataclass
class ExecutorRefused(Message):
    """The executor did not start; ``field`` (one of `CONTROLS`) is the control to fix."""

    field: str
    text: str


def executor_controls(prefix: str):
    """The two controls, ids ``<prefix>-executor`` and ``<prefix>-scheduler`` (compose them in a row)."""
    yield Select([(n, n) for n in EXECUTORS], value="serial", allow_blank=False, id=f"{prefix}-executor",
                 classes="executor", compact=True, tooltip="where the points run (fastact's --executor)")
    field = FieldInput("", id=f"{prefix}-scheduler", classes="scheduler", compact=True,
                       placeholder="tcp://HOST:PORT (empty: LocalCluster)",
                       tooltip="a running Dask scheduler (--scheduler); empty: a LocalCluster on this machine",
                       validate_on=())  # Input's own validation would clear `mark`'s -invalid on blur
    field.display = False
    yield field


def show_scheduler(view, prefix: str) -> None:
    """The address field is there only for ``dask`` (call on the Select's Changed); a change clears a mark."""
    view.query_one(f"#{prefix}-scheduler", FieldInput).display = \
        view.query_one(f"#{prefix}-executor", Select).value != "serial"
    mark(view, prefix)


def chosen(view, prefix: str) -> tuple[str, str | None]:
    """(executor name, scheduler address or None) for a run starting now; clears the last refusal's mark."""
    mark(view, prefix)
    name = view.query_one(f"#{prefix}-executor", Select).value
    address = view.query_one(f"#{prefix}-scheduler", FieldInput).value.strip() or None
    if name == "dask" and address is None:
        spawnable()
    return name, (address if name != "serial" else None)


def spawnable() -> None:
    """Make sure multiprocessing's resource tracker runs, started with the real stderr.

    A LocalCluster spawns its worker processes, and the first spawn starts the tracker, passing
    it ``sys.stderr.fileno()``. Under Textual that is the app's print capture, whose fileno() is
    -1, so the spawn fails (``ValueError: bad value(s) in fds_to_keep``, "Nanny failed to
    start"). Called in the UI thread: nothing else writes to the terminal meanwhile."""
    from multiprocessing import resource_tracker

    with contextlib.ExitStack() as stack:
        real = sys.__stderr__ or stack.enter_context(open(os.devnull, "w"))
        stack.enter_context(contextlib.redirect_stderr(real))
        resource_tracker.ensure_running()


def mark(view, prefix: str, field: str | None = None, text: str = "") -> None:
    """Flag the control of ``field`` and show ``text`` in ``#<prefix>-error``; no field: clear
    (the message too, when it was a refusal's: another error shown there stays)."""
    controls = [view.query_one(f"#{prefix}-{f}") for f in CONTROLS]
    was_marked = any(c.has_class("-invalid") for c in controls)
    for f, control in zip(CONTROLS, controls):
        control.set_class(f == field, "-invalid")
    if field is not None or was_marked:
        error = view.query_one(f"#{prefix}-error", Static)
        error.update(text)
        error.set_class(field is not None, "shown")


def make(view, name: str, address: str | None):
    """The executor (call it in the worker thread); its log lines and a refusal go to ``view``."""
    try:
        return make_executor(name, **({} if name == "serial" else
                                      {"scheduler": address, "log": lambda text: view.post_message(LogLine(text))}))
    except (SettingsError, ExecutorError) as exc:
        field = getattr(exc, "field", None)
        if field in CONTROLS:
            view.post_message(ExecutorRefused(field, str(exc)))
        raise
