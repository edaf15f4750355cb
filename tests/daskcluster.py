"""A real Dask cluster for tests: ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1,
and point functions that misbehave on purpose (`HoldFirst`, `KillSelf`).

`cluster` starts the processes in their own process groups (free port, every wait bounded) and
kills the groups on the way out, whatever happened; the scheduler also stops itself after
`IDLE` of inactivity and the workers after `DEATH` without a scheduler, should a test runner
itself be killed. The workers run with this process's NUMBA_NUM_THREADS (the GEMM tiling) and
``tests/`` on their path, so they can import this module's point functions.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastact.engine import threads
from fastact.experiments.tasks import run_task

HERE = Path(__file__).resolve().parent
IDLE, DEATH, START = "600s", "60s", 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    address: str
    client: object
    procs: list = field(default_factory=list)
    logs: Path | None = None

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.logs.glob("*.log")))


def _spawn(argv, logs: Path, name: str, cwd, env) -> subprocess.Popen:
    out = open(logs / f"{name}.log", "wb")
    try:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        out.close()


def kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


@contextlib.contextmanager
def cluster(logs: Path, workers: int = 2, cwd=None, env: dict | None = None):
    """A scheduler and ``workers`` nanny-managed workers (one thread each); yields a `Cluster`."""
    from distributed import Client

    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads.max_threads()),
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]), **(env or {})}
    c = Cluster(address, None, [], logs)
    try:
        c.procs.append(_spawn([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--no-dashboard", "--idle-timeout", IDLE], logs, "scheduler",
                              cwd, env))
        for i in range(workers):
            c.procs.append(_spawn([sys.executable, "-m", "distributed.cli.dask_worker", address, "--host", "127.0.0.1",
                                   "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--memory-limit", "0",
                                   "--death-timeout", DEATH, "--local-directory", str(logs / f"w{i}")],
                                  logs, f"worker{i}", cwd, env))
        c.client = Client(address, timeout=START, set_as_default=False)
        c.client.wait_for_workers(workers, timeout=START)
        yield c
    finally:
        if c.client is not None:
            with contextlib.suppress(Exception):
                c.client.close()
        for p in reversed(c.procs):
            kill_group(p)


def wait_for_workers(client, n: int, timeout: float = START) -> None:
    """Until the scheduler has ``n`` workers (a nanny restarting one takes a few seconds)."""
    client.wait_for_workers(n, timeout=timeout)


# ---- point functions run on the workers (`DaskExecutor(run=...)`) ------------------------------
@dataclass(frozen=True)
class HoldFirst:
    """The first attempt of the point labelled ``label`` reports its start and waits (at most
    ``wait`` seconds) to be killed; every other attempt, and every other point, trains as usual.
    ``marks`` is a directory shared with the test, where the first attempt leaves its mark."""

    label: str
    marks: str
    wait: float = 60.0

    def __call__(self, task, dataset, callbacks, cancel):
        mark = Path(self.marks) / task.key
        if task.label == self.label and not mark.exists():
            mark.write_text(str(os.getpid()))
            callbacks.on_run_start(task.config, {"held": True})
            deadline = time.monotonic() + self.wait
            while time.monotonic() < deadline:
                time.sleep(0.05)
            raise RuntimeError(f"the held attempt was not killed within {self.wait:g}s")
        return run_task(task, dataset, callbacks, cancel)


@dataclass(frozen=True)
class KillSelf:
    """The point labelled ``label`` kills its worker process every time it starts; others train."""

    label: str

    def __call__(self, task, dataset, callbacks, cancel):
        if task.label == self.label:
            os.kill(os.getpid(), signal.SIGKILL)
        return run_task(task, dataset, callbacks, cancel)
