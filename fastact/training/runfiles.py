"""Reading a run folder back without trusting it.

A folder under a results root may be half written, edited by hand, from another program or
crafted. Every reader (`fastact report`, the TUI's Runs tab, resuming a study) goes through
`fastact.training.runs.load_run`, which reads the files with these functions: each file is
size-checked before it is read (`MAX_FILE_BYTES`), must parse as what fastact writes (a JSON
object; one JSON object per line of ``metrics.jsonl``), and every field a reader uses must have
its type: a `TrainConfig` field its type, an epoch record numbers, a summary's status one of the
statuses. Anything else raises `MalformedRun`, one line naming the file and what is wrong, so a
reader can skip that run with a warning and go on.

The one imperfection a healthy run can show is tolerated: the last line of ``metrics.jsonl``
cut off without its newline (the process was killed hard mid-write).
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path

from fastact.resources import format_bytes
from fastact.training.config import TrainConfig

#: the largest run file read (a 100,000-epoch run's summary, the largest fastact writes, is ~30 MB)
MAX_FILE_BYTES = 64 << 20
#: the longest text of a field that is displayed (ids, names, statuses, messages)
MAX_TEXT = 10_000
#: every status a summary may hold ("running": the process was killed before it finished)
SUMMARY_STATUSES = ("completed", "cancelled", "diverged", "failed", "running")
EPOCH_FIELDS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds", "samples_per_s")

_NUM, _INT, _STR, _BOOL = "a number", "an integer", "a string", "true or false"
_ANNOTATIONS = {"str": _STR, "int": _INT, "float": _NUM, "bool": _BOOL,
                "tuple[int, ...]": "a list of positive integers", "dict": "an object"}
#: fields whose annotation says less than what fastact writes there (``define``'s content is checked
#: when it is defined: `fastact.training.config.TrainConfig.problems`)
_NARROWER = {"act_params": "an object of numbers"}


def _config_types() -> dict[str, tuple[str, bool]]:
    """`TrainConfig` field -> (what it must be, may it be null), from the dataclass's own annotations, so
    a field added there is checked here too."""
    out = {}
    for f in fields(TrainConfig):
        kind, _, none = str(f.type).partition(" | ")
        if kind in _ANNOTATIONS:
            out[f.name] = (_NARROWER.get(f.name, _ANNOTATIONS[kind]), none == "None")
    return out


CONFIG_TYPES = _config_types()
SUMMARY_TYPES = {
    "run_id": (_STR, False), "status": (_STR, False), "message": (_STR, False), "act": (_STR, False),
    "dataset": (_STR, True), "config": ("an object", False), "epochs_completed": (_INT, False),
    "epochs": (_INT, False), "final_train_acc": (_NUM, True), "final_val_acc": (_NUM, True),
    "best_val_acc": (_NUM, True), "best_val_epoch": (_INT, True), "best_epoch": (_INT, True),
    "best_test_loss": (_NUM, True), "best_test_acc": (_NUM, True), "stopped_epoch": (_INT, True),
    "test_loss": (_NUM, True), "test_acc": (_NUM, True), "seconds": (_NUM, True), "seconds_per_epoch": (_NUM, True),
    "history": ("a list of epoch records", False), "updated": (_STR, True),
}


class MalformedRun(ValueError):
    """A run file that is not what fastact writes; the message is one line naming the file."""


def _problem(path, what: str) -> MalformedRun:
    return MalformedRun(f"{path}: {what}")


def _read_text(path: Path) -> str:
    try:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            raise _problem(path, f"{format_bytes(size)}, more than the {format_bytes(MAX_FILE_BYTES)} a run file "
                                 "may have")
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _problem(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _problem(path, f"not UTF-8 text (byte {exc.start})") from None


def _loads(text: str, path, where: str = ""):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError: JSONDecodeError, ints beyond 4300 digits
        raise _problem(path, f"{where}not valid JSON ({str(exc).splitlines()[0][:200]})") from None


def read_json(path) -> dict:
    """The JSON object in ``path`` (``config.json``, ``summary.json``)."""
    data = _loads(_read_text(Path(path)), path)
    if not isinstance(data, dict):
        raise _problem(path, f"holds a JSON {_json_type(data)}, expected an object")
    return data


def read_metrics(path) -> list[dict]:
    """The epoch records of ``metrics.jsonl``, each checked; a last line cut off mid-write is dropped."""
    text = _read_text(Path(path))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.pop()  # no newline after it: the write was cut off (a hard kill); it is not a record
    rows = []
    for i, line in enumerate(lines, 1):
        row = _loads(line, path, f"line {i} is ")
        check_record(path, row, f"line {i}")
        rows.append(row)
    return rows


def _ok(value, what: str) -> bool:
    if what == _NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if what == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if what == _STR:
        return isinstance(value, str) and len(value) <= MAX_TEXT
    if what == _BOOL:
        return isinstance(value, bool)
    if what == "a list of positive integers":
        return isinstance(value, list) and 0 < len(value) <= 1000 and all(_ok(v, _INT) and v >= 1 for v in value)
    if what == "an object of numbers":
        return isinstance(value, dict) and all(isinstance(k, str) and len(k) <= 100 and _ok(v, _NUM)
                                               for k, v in value.items())
    return isinstance(value, dict) if what == "an object" else isinstance(value, list)


def _check_fields(path, data: dict, types: dict, where: str) -> None:
    for key, (what, nullable) in types.items():
        if key not in data or (nullable and data[key] is None):
            continue
        if not _ok(data[key], what):
            shown = repr(data[key])
            shown = shown if len(shown) <= 60 else f"{shown[:57]}..."
            raise _problem(path, f"{where}{key} is {shown}, expected {what}"
                                 + (" or null" if nullable else ""))


def check_record(path, row, where: str) -> None:
    """An epoch record: an object holding every `EPOCH_FIELDS` entry, numbers (or null), ``epoch`` an integer."""
    if not isinstance(row, dict):
        raise _problem(path, f"{where} is a JSON {_json_type(row)}, expected an epoch record (an object)")
    missing = [k for k in EPOCH_FIELDS if k not in row]
    if missing:
        raise _problem(path, f"{where} has no {', '.join(missing)}")
    _check_fields(path, row, {"epoch": (_INT, False), **{k: (_NUM, True) for k in EPOCH_FIELDS[1:]}}, f"{where}: ")


def check_config(path, config: dict, where: str = "") -> None:
    """The `TrainConfig` fields of ``config`` have their types."""
    _check_fields(path, config, CONFIG_TYPES, where)


def check_summary(path, summary: dict) -> None:
    """A ``summary.json``: its fields' types, a known status, its config and every history record."""
    _check_fields(path, summary, SUMMARY_TYPES, "")
    if "status" in summary and summary["status"] not in SUMMARY_STATUSES:
        raise _problem(path, f"status is {summary['status'][:60]!r}, expected one of {', '.join(SUMMARY_STATUSES)}")
    if isinstance(summary.get("config"), dict):
        check_config(path, summary["config"], "config.")
    for i, row in enumerate(summary.get("history") or (), 1):
        check_record(path, row, f"history[{i - 1}]")


def _json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value),
                                                                                                    "number")
