"""Run Python code in a subprocess under hard memory, disk and time limits.

A test for hostile input must fail, not take the machine down, when the code
under test regresses (decompresses a bomb whole, allocates what a header
claims, writes an endless body to disk). :func:`run_limited` runs the code in
a fresh interpreter with

* ``RLIMIT_AS`` = ``mem_bytes`` (address space: an oversized allocation
  raises ``MemoryError`` in the child instead of swapping the host),
* ``RLIMIT_FSIZE`` = ``file_bytes`` (a runaway write fails with ``EFBIG``;
  Python ignores ``SIGXFSZ``),
* ``RLIMIT_CPU`` a little above ``timeout_s``, and a wall-clock ``timeout_s``
  after which the child's whole process group is killed,

and returns a :class:`Result` whose :meth:`Result.describe` says everything a
failing assertion needs (exit status or signal, time, peak memory, output).

Measured on the development VM: ``import fastact.data`` (which imports NumPy
and Numba) needs about 440 MiB of address space, and fails below 450 MiB, so
the default limit of 1 GiB leaves about 580 MiB for the work itself; the
child's default memory budget (:mod:`fastact.resources`: half of what is left
under ``RLIMIT_AS``) is then about 290 MiB.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass

DEFAULT_MEM = 1 << 30
DEFAULT_FILE = 256 << 20
_PEAK = "[sandbox] peak_rss_kib="
# Runs first in the child, before anything large is imported: set the limits (in the child itself rather
# than in a preexec_fn, which is unsafe when the test process has threads, e.g. HTTP servers), and report
# the peak resident size however the code ends.
_PROLOGUE = """\
import atexit as _atexit, resource as _resource, sys as _sys
_resource.setrlimit(_resource.RLIMIT_AS, ({mem}, {mem}))
_resource.setrlimit(_resource.RLIMIT_FSIZE, ({file}, {file}))
_resource.setrlimit(_resource.RLIMIT_CPU, ({cpu}, {cpu} + 1))
def _peak():  # VmHWM, not ru_maxrss: Linux carries the forking parent's high-water mark into ru_maxrss
    with open("/proc/self/status") as f:
        kib = next((line.split()[1] for line in f if line.startswith("VmHWM:")), "0")
    print({peak!r} + kib, file=_sys.stderr, flush=True)
_atexit.register(_peak)
"""


@dataclass(frozen=True)
class Result:
    """What the limited child did. ``returncode`` is negative for a signal, None if it was killed at timeout."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    elapsed_s: float
    peak_rss_bytes: int | None
    mem_bytes: int
    timeout_s: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def last_line(self) -> str:
        """The last non-empty line of stdout (where test snippets print their verdict)."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def describe(self) -> str:
        """A multi-line report for an assertion message."""
        if self.timed_out:
            status = f"killed after the {self.timeout_s:g} s wall-clock limit"
        elif self.returncode is not None and self.returncode < 0:
            status = f"killed by {signal.Signals(-self.returncode).name}"
        else:
            status = f"exit status {self.returncode}"
        peak = f"{self.peak_rss_bytes / 2**20:.0f} MiB" if self.peak_rss_bytes is not None else "unknown"
        return (f"sandboxed child: {status} in {self.elapsed_s:.1f} s, peak RSS {peak} "
                f"(limit {self.mem_bytes / 2**20:.0f} MiB address space)\n"
                f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}")


def run_limited(python_code: str, mem_bytes: int = DEFAULT_MEM, timeout_s: float = 60.0,
                file_bytes: int = DEFAULT_FILE, env: dict[str, str] | None = None, cwd=None) -> Result:
    """Run ``python_code`` (dedented) with this interpreter under the limits above; never raises for
    what the child does. ``env`` entries are added to (or, with value None, removed from) the
    current environment."""
    child_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            child_env.pop(key, None)
        else:
            child_env[key] = value

    prologue = _PROLOGUE.format(mem=int(mem_bytes), file=int(file_bytes), cpu=int(timeout_s) + 5, peak=_PEAK)
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", prologue + textwrap.dedent(python_code)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env, cwd=cwd,
                            start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)  # the child's own session: only what it started
        out, err = proc.communicate()
    elapsed = time.monotonic() - start
    peak = None
    kept = []
    for line in err.splitlines(keepends=True):
        if line.startswith(_PEAK):
            peak = int(line[len(_PEAK):]) * 1024
        else:
            kept.append(line)
    return Result(None if timed_out else proc.returncode, out, "".join(kept), timed_out, elapsed, peak,
                  mem_bytes, timeout_s)


_VERDICT = """
import json as _json
try:
    _out = run(P)
except Exception as _exc:  # the verdict names any error; the test asserts which one
    print(_json.dumps({"error": type(_exc).__name__, "message": str(_exc)}))
else:
    print(_json.dumps({"ok": _out}))
"""


def verdict(body: str, params: dict | None = None, *, mem_bytes: int = DEFAULT_MEM, timeout_s: float = 60.0,
            env: dict[str, str | None] | None = None, cwd=None) -> dict:
    """Run ``body`` (which defines ``run(P)``) under the limits; return ``{"ok": result}`` or
    ``{"error": type name, "message": str}``. A child that did not finish with a verdict line (a
    crash, a signal, the time limit) fails the calling test with its report; so does an error
    message of more than one line."""
    import json

    import pytest

    base = {"FASTACT_MEMORY_BUDGET": None}
    code = f"import json\nP = json.loads({json.dumps(params or {})!r})\n{textwrap.dedent(body)}\n{_VERDICT}"
    result = run_limited(code, mem_bytes=mem_bytes, timeout_s=timeout_s, env={**base, **(env or {})}, cwd=cwd)
    if not result.ok:
        pytest.fail(result.describe())
    try:
        out = json.loads(result.last_line())
    except json.JSONDecodeError:
        pytest.fail(f"no verdict line\n{result.describe()}")
    if "\n" in out.get("message", ""):
        pytest.fail(f"the error is not one line: {out['message']!r}")
    return out
