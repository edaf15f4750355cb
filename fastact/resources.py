"""The memory budget: one check, before anything big is allocated, decompressed or downloaded.

Every size fastact reads from outside (an IDX header, a gzip stream, label
values, a model config, a run file, a flag) is turned into an estimate of the
bytes it would make the process allocate, and that estimate is compared with
the budget *before* the allocation::

    check_allocation("training images uint8 (60000, 28, 28)", 47_040_000,
                     setting="train-images-idx3-ubyte.gz")

The budget is, first match wins:

1. the value given to :func:`set_memory_budget` (the CLI's ``--memory-budget``);
2. ``$FASTACT_MEMORY_BUDGET``;
3. :data:`DEFAULT_FRACTION` (50%) of :func:`available_memory`, measured at the
   time of the check, so it shrinks as the process grows.

A size is bytes, or a number with a unit ``K``, ``M``, ``G``, ``T``, ``P``
(powers of 1024, optionally followed by ``B`` or ``iB``: ``8G`` = ``8GiB`` =
``8GB`` = 8 * 2**30 bytes), or a percentage of available memory (``75%``).

:func:`available_memory` is the smallest of what the kernel says can still be
had: ``MemAvailable`` from ``/proc/meminfo`` (else ``os.sysconf``), the cgroup
memory limit minus its usage, and the ``RLIMIT_AS``/``RLIMIT_DATA`` soft limits
minus the process's current address space/data size. The last one matters for a
process run under ``ulimit -v``: there address space, not RAM, runs out first.

Refusals are :class:`ResourceError` (a :class:`ValueError`), one line naming the
setting responsible, the estimate, the budget and how to raise it. Layers that
have their own error type pass ``error=`` a subclass of both (the data layer
raises one that is also a ``DatasetError``).

This module imports nothing from fastact: every layer may use it.
"""

from __future__ import annotations

import math
import os
import re
import resource
from dataclasses import dataclass

ENV_BUDGET = "FASTACT_MEMORY_BUDGET"
#: the CLI option that sets the budget (named in messages)
OPTION = "--memory-budget"
#: fraction of available memory used as the budget when nothing else is set
DEFAULT_FRACTION = 0.5
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGTP]?)(?:I?B)?\s*$", re.IGNORECASE)
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$")
#: cgroup limits at or above this mean "no limit" (v1 reports 2**63 rounded down to a page)
_NO_LIMIT = 1 << 60
_HOW_TO_RAISE = f"raise the budget with {OPTION} SIZE or {ENV_BUDGET}=SIZE (e.g. 16G, or 90%)"

_override: tuple[int, str] | None = None


class ResourceError(ValueError):
    """An estimated allocation exceeds the memory budget, or a size setting is malformed."""


@dataclass(frozen=True)
class Budget:
    """The budget in bytes, and where it came from (for messages), e.g. ``"50% of 9.8 GiB available"``."""

    n_bytes: int
    source: str


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units with 3 significant digits: ``512 B``, ``1.50 KiB``, ``47.0 MiB``, ``8.00 GiB``."""
    n = float(n)
    if not math.isfinite(n):
        return f"{n} B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            break
        n /= 1024
    if unit == "B":
        return f"{int(n)} B"
    return f"{n:.{2 if abs(n) < 10 else 1 if abs(n) < 100 else 0}f} {unit}"


def parse_size(text: str | int, what: str = ENV_BUDGET) -> int:
    """Bytes meant by ``text`` (see the module docstring); ``what`` names the setting in the error.

    ``parse_size("8G") == 8 * 2**30``; ``parse_size("50%")`` is half of :func:`available_memory` now.

    Raises:
        ResourceError: not a size, or zero.
    """
    if isinstance(text, bool):
        raise ResourceError(f"{what} must be a size in bytes; received: {what}={text!r}")
    if isinstance(text, int):
        n = text
    else:
        size, percent = _SIZE.match(str(text)), _PERCENT.match(str(text))
        if size:
            n = int(float(size.group(1)) * _UNITS[size.group(2).upper()])
        elif percent and 0 < float(percent.group(1)) <= 100:
            n = int(available_memory() * float(percent.group(1)) / 100)
        else:
            n = -1
    if n <= 0:
        raise ResourceError(f"{what} must be a positive size: bytes, or a number with K/M/G/T (powers of 1024), "
                            f"or a percentage of available memory up to 100%, e.g. 8G or 75%; "
                            f"received: {what}={text!r}")
    return n


def available_memory() -> int:
    """Bytes this process can still allocate: the smallest of RAM, cgroup and rlimit headroom (module docstring)."""
    return _available()[0]


def _available() -> tuple[int, str]:
    candidates = [(_meminfo_available(), "available")]
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < _NO_LIMIT:
            candidates.append((limit - usage, "available in the cgroup's memory limit"))
    status = _proc_status()
    for limit_id, field, name in ((resource.RLIMIT_AS, "VmSize", "address-space limit (ulimit -v)"),
                                  (resource.RLIMIT_DATA, "VmData", "data-size limit (ulimit -d)")):
        soft = resource.getrlimit(limit_id)[0]
        if soft != resource.RLIM_INFINITY and field in status:
            candidates.append((soft - status[field], f"left under the {name}"))
    n, why = min(candidates, key=lambda c: c[0])
    return max(n, 0), why


def _meminfo_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return _NO_LIMIT  # no way to tell: only an explicit budget limits


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            text = f.read().strip()
        return int(text) if text != "max" else None
    except (OSError, ValueError):
        return None


def _proc_status() -> dict[str, int]:
    """``VmSize``/``VmData`` of this process in bytes (empty off Linux)."""
    out = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmSize", "VmData"):
                    out[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return out


def set_memory_budget(value: int | str | None, source: str | None = None) -> None:
    """Set the process-wide budget to ``value`` (bytes or a size string like ``"8G"``/``"75%"``); None resets.

    ``source`` is how messages name where the budget came from, e.g.
    ``"--memory-budget 8G"`` (default: ``"set_memory_budget(<value>)"``). A
    percentage is converted to bytes now, not re-evaluated at each check.

    Raises:
        ResourceError: ``value`` is not a positive size.
    """
    global _override
    if value is None:
        _override = None
        return
    n = parse_size(value, what=source or "memory budget")
    _override = (n, source or f"set_memory_budget({value!r})")


def memory_budget() -> Budget:
    """The budget in force now (see the module docstring for the order of precedence).

    Raises:
        ResourceError: ``$FASTACT_MEMORY_BUDGET`` is set but is not a size.
    """
    if _override is not None:
        return Budget(*_override)
    env = os.environ.get(ENV_BUDGET, "").strip()
    if env:
        return Budget(parse_size(env, ENV_BUDGET), f"{ENV_BUDGET}={env}")
    n, why = _available()
    return Budget(int(n * DEFAULT_FRACTION), f"{DEFAULT_FRACTION:.0%} of {format_bytes(n)} {why}")


def check_allocation(what: str, n_bytes: int, setting: str | None = None, fix: str | None = None, *,
                     error: type[ResourceError] = ResourceError) -> int:
    """Return ``n_bytes`` if it fits in the budget, else raise one line saying why and how to fix it.

    Args:
        what: the thing to be allocated, as a noun phrase ("training images uint8
            (60000, 28, 28)", "Adam state for hidden=(4096, 4096)").
        n_bytes: the estimate; any non-negative int (exact Python ints, so a
            header claiming 2**32 x 2**32 items does not overflow).
        setting: what the size came from, leading the message: a file path, or a
            setting as the user typed it (``"batch_size=10000000"``).
        fix: what to change instead of the budget ("use fewer hidden units").
        error: the exception class raised, a subclass of :class:`ResourceError`.

    The message reads::

        <setting>: <what> needs an estimated 3.00 GiB, more than the memory budget of
        1.20 GiB (50% of 2.40 GiB available); <fix>, or raise the budget with
        --memory-budget SIZE or FASTACT_MEMORY_BUDGET=SIZE (e.g. 16G, or 90%)

    Raises:
        error: ``n_bytes`` exceeds :func:`memory_budget`, or the budget setting is malformed.
    """
    try:
        budget = memory_budget()
    except ResourceError as exc:
        raise error(str(exc)) from None
    if n_bytes <= budget.n_bytes:
        return n_bytes
    prefix = f"{setting}: " if setting else ""
    raise error(f"{prefix}{what} needs an estimated {format_bytes(n_bytes)}, more than the memory budget of "
                f"{format_bytes(budget.n_bytes)} ({budget.source}); {fix + ', or ' if fix else ''}{_HOW_TO_RAISE}")


def out_of_memory(what: str, n_bytes: int, setting: str | None = None, *,
                  error: type[ResourceError] = ResourceError) -> ResourceError:
    """The one-line error for an allocation the budget allowed but the system refused (``MemoryError``).

    Use as ``except MemoryError: raise out_of_memory(...) from None``.
    """
    prefix = f"{setting}: " if setting else ""
    n, why = _available()
    return error(f"{prefix}out of memory allocating {format_bytes(n_bytes)} for {what} "
                 f"({format_bytes(n)} {why}); lower {ENV_BUDGET} or {OPTION} so it is refused up front")


def array_bytes(shape, itemsize: int) -> int:
    """Exact bytes of an array of ``shape`` with ``itemsize``-byte items (Python ints: no overflow)."""
    return itemsize * math.prod(int(s) for s in shape)
