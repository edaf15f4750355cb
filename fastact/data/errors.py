"""The one exception the data layer raises.

Every problem with a dataset file, a download or a loading argument surfaces
as :class:`DatasetError`. It subclasses :class:`ValueError` so callers that
already catch bad values keep working, and its message always names the file
(or argument) and what is wrong with it, never a NumPy or zlib traceback.
Its subclasses say more: :class:`DownloadError` (every mirror failed) and
:class:`DatasetMemoryError` (data that would not fit the memory budget, also a
:class:`fastact.resources.ResourceError`, so one ``except`` catches budget
refusals from every layer).
"""

from __future__ import annotations

import os

from fastact.resources import ResourceError


class DatasetError(ValueError):
    """A dataset file, location, download or argument is unusable; the message says which and why."""


class DownloadError(DatasetError):
    """No mirror served a file intact; ``failures`` holds one ``"host: reason"`` per mirror tried."""

    def __init__(self, message: str, failures: list[str]):
        super().__init__(message)
        self.failures = failures


def file_error(path: str | os.PathLike, problem: str) -> DatasetError:
    """``DatasetError("<path>: <problem>")``, the uniform shape of a per-file error."""
    return DatasetError(f"{os.fspath(path)}: {problem}")


class DatasetMemoryError(DatasetError, ResourceError):
    """Data would not fit in the memory budget (:mod:`fastact.resources`); also a ``ResourceError``."""
