"""`DaskExecutor`: a study's (or a sweep's) points on a Dask cluster, the client writing every run.

Where the points run: a scheduler address (``scheduler=``, else ``$DASK_SCHEDULER_ADDRESS``)
connects to a running cluster; without one a `distributed.LocalCluster` of ``workers`` processes
starts on this machine (default: one per core), each running one point at a time (Dask
``threads_per_worker=1``) with ``cores // workers`` kernel threads, so workers x threads = cores.

Bitwise: the GEMM tiling follows NUMBA_NUM_THREADS, never the threads a point uses
(docs/ARCHITECTURE.md). A LocalCluster's workers are started with this process's
NUMBA_NUM_THREADS (set in the environment before each worker process is spawned: Numba reads it
once, at import), so their points are bitwise the ones a serial run here gives; a remote worker
uses its own, which every run records (``config.json``: ``numba_num_threads``), and a worker
whose count differs from this process's is named before the points start.

`submit`, in order:

1. waits for at least one worker; on each worker present, one `worker.prepare` task probes the
   data (`shipping`) and loads or compiles the kernels of the points' activations, so each
   worker process has them before its first point (a worker that joins later, such as one a
   nanny restarted, loads them in its first point, as any process does);
2. if any worker cannot load the data itself, scatters the files once to every worker
   (``broadcast=True``) and says so; otherwise says the workers load it themselves;
3. keeps one point per worker thread in flight, in the order given (the runner's: seed by
   seed), handing out the next as one ends (``retries`` for an exception). The rest wait here,
   not on the workers: the scheduler charges a worker's death to every task the worker holds,
   so a queue on the workers would count one dying worker against innocent points;
4. subscribes to the study's event topic and, while points train, forwards their events to the
   callbacks in the calling thread (`worker.Relay`);
5. yields ``(task, RunResult | exception)`` as futures complete (`distributed.as_completed`),
   each result after its point's last event; events of a point already yielded are dropped.

Faults: a worker that dies mid-point has the point rescheduled by the scheduler on another
worker; once workers died running it more than the scheduler's
``distributed.scheduler.allowed-failures`` times (a LocalCluster's is ``retries``), Dask gives up
(`distributed.KilledWorker`) and the point comes back as a `WorkerLost` exception, which the
runner records as failed with that message. Nothing of a killed attempt reaches the results:
workers write nothing, the client writes a point once its result arrives. A set ``cancel``
event (or the generator closed early, as Ctrl-C does) cancels the points not started and sets
the study's Dask `Event`, which running points check about once a second and stop at
(status ``cancelled``, not written): the next run resumes them.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import socket
import threading
import time
import uuid
from pathlib import Path

import dask
from dask.utils import parse_timedelta
from distributed import Client, Event, KilledWorker, LocalCluster, as_completed
from distributed.comm import connect, registry
from distributed.comm.addressing import get_address_host_port, parse_address

from fastact.engine import threads as _threads
from fastact.errors import SettingsError
from fastact.experiments.distributed import shipping, worker
from fastact.experiments.tasks import ExecutorError, Task, worker_dataset
from fastact.resources import format_bytes
from fastact.training import Callbacks, EpochRecord, RunResult


class WorkerLost(RuntimeError):
    """The workers that ran a point died running it, as often as the scheduler allows."""


async def _identity(address: str, seconds: float) -> dict:
    """What the server at ``address`` says it is (``{"type": "Scheduler", ...}`` for a scheduler)."""
    comm = await connect(address, timeout=seconds)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def _reachable(address: str, seconds: float) -> str | None:
    """Why nothing listens at a ``tcp://`` ``address`` ("connection refused", "no answer", the
    resolver's reason), or None when a TCP connection opens (or the scheme is not TCP)."""
    scheme, _ = parse_address(address)
    if scheme != "tcp":
        return None
    host, port = get_address_host_port(address)
    try:
        socket.create_connection((host, port), timeout=seconds).close()
    except ConnectionRefusedError:
        return "connection refused"
    except (TimeoutError, socket.timeout):
        return "no answer"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def check_address(address: str) -> str:
    """``address`` if it reads as a scheduler's (``SCHEME://HOST:PORT`` of a network scheme Dask
    knows, or ``HOST:PORT`` for tcp); a `SettingsError` on ``scheduler`` saying why not."""
    try:
        scheme, _ = parse_address(address, strict=False)
        registry.get_backend(scheme)
        host, port = get_address_host_port(address, strict=False)
        if not host:
            raise ValueError("no host")
        if not 0 < port < 65536:
            raise ValueError(f"port {port} is outside 1-65535")
    except (ValueError, TypeError) as exc:
        why = (str(exc).splitlines() or [type(exc).__name__])[0].replace("{", "{{").replace("}", "}}")
        raise SettingsError("scheduler", address, f"a Dask scheduler's address, tcp://HOST:PORT ({why})") from None
    return address


def _allowed_failures(dask_scheduler=None) -> int:  # run on the scheduler (`Client.run_on_scheduler`)
    return int(dask_scheduler.allowed_failures)


def connect_timeout(timeout: float | None = None) -> float:
    """Seconds to wait for a scheduler: ``timeout``, else Dask's ``distributed.comm.timeouts.connect``."""
    return parse_timedelta(timeout if timeout is not None else dask.config.get("distributed.comm.timeouts.connect"),
                           "s")


class DaskExecutor:
    """Points on a Dask cluster (module docstring).

    Args:
        scheduler: ``tcp://HOST:PORT`` of a running scheduler (default: ``$DASK_SCHEDULER_ADDRESS``;
            neither: a LocalCluster).
        workers: a LocalCluster's worker processes (default: one per core).
        retries: more attempts a point gets after an exception (Dask's ``retries=``); a
            LocalCluster's scheduler also reschedules a point at most this many times after its
            worker died (an existing scheduler keeps its own ``allowed-failures``).
        timeout: seconds to wait for a scheduler to answer (default: Dask's
            ``distributed.comm.timeouts.connect``).
        log: called with one line of prose per thing worth saying (which cluster, the data, a
            point started again after its worker was lost).
        run: the function a worker runs per point, ``run(task, dataset, callbacks, cancel)``
            (default `fastact.experiments.tasks.run_task`); importable on the workers.
        client: an existing `distributed.Client` to use (not closed by `close`).

    Raises:
        SettingsError: ``scheduler`` is not an address (`check_address`).
        ExecutorError: no scheduler answered at the address within the timeout, or the server
            there is not a scheduler (``field="scheduler"``).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None, retries: int = 2,
                 timeout: float | None = None, log=None, run=None, client: Client | None = None):
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be a non-negative integer. Received: retries={retries!r}")
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a positive integer. Received: workers={workers!r}")
        self.log = log or (lambda text: None)
        self.retries, self.run, self.cluster, self.threads = retries, run, None, None
        self._own = client is None
        address = scheduler or dask.config.get("scheduler-address", None)
        if client is not None:
            self.client, self.where = client, f"the client's cluster at {client.scheduler.address}"
        elif address:
            if workers is not None:
                raise ValueError(f"workers sizes a LocalCluster; a scheduler's workers are its own. "
                                 f"Received: workers={workers}, scheduler={address!r}")
            self.client, self.where = self._connect(check_address(address), timeout), f"the scheduler at {address}"
        else:
            self.client = self._local(workers or _threads.max_threads())
            n = len(self.cluster.workers)
            self.where = (f"a LocalCluster of {n} worker process{'es' if n > 1 else ''} on this machine, "
                          f"{self.threads} kernel thread{'s' if self.threads > 1 else ''} each")

    def _connect(self, address: str, timeout: float | None) -> Client:
        seconds = connect_timeout(timeout)
        self.log(f"dask: connecting to the scheduler at {address} (waiting up to {seconds:g}s)")
        # Asked once under a deadline first: a Client connecting to a port that accepts but never
        # answers (not a Dask scheduler, a stuck one) waits past its own timeout.
        why = _reachable(address, seconds)
        try:
            if why is None:
                who = asyncio.run(asyncio.wait_for(_identity(address, seconds), seconds))
        except (OSError, asyncio.TimeoutError, TimeoutError):
            # Dask's connect gives up with an OSError or our deadline fires first, whichever the
            # machine's load decides: to a user both are the same fact.
            why = "no answer"
        except (ValueError, TypeError) as exc:
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if why is not None:
            raise ExecutorError(f"no Dask scheduler answered at {address} within {seconds:g}s ({why}); start "
                                f"one (dask scheduler) or give no scheduler address for a LocalCluster on "
                                f"this machine", field="scheduler") from None
        kind = who.get("type") if isinstance(who, dict) else type(who).__name__
        if kind != "Scheduler":
            raise ExecutorError(f"{address} is a Dask {kind}, not a scheduler: give the scheduler's address",
                                field="scheduler")
        return Client(address, timeout=seconds, set_as_default=False)

    def _local(self, n: int) -> Client:
        cores = _threads.max_threads()
        self.threads = max(1, cores // n)
        self.log(f"dask: starting a LocalCluster of {n} worker process{'es' if n > 1 else ''} on this machine")
        # Before spawning (not the nanny's `env`, applied after the child's imports): Numba reads
        # NUMBA_NUM_THREADS once, when the worker first imports it. Dask's own log lines (a worker
        # died, a task given up) stay quiet: `log` says what happened to each point instead.
        with dask.config.set({"distributed.scheduler.allowed-failures": self.retries,
                              "distributed.nanny.pre-spawn-environ.NUMBA_NUM_THREADS": str(cores)}):
            # On the loopback interface only: a cluster on this machine needs no port others can reach.
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                        dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL)
        return Client(self.cluster, set_as_default=False)

    def describe(self) -> str:
        return f"dask: {self.where}"

    def close(self) -> None:
        """Disconnect (and stop the LocalCluster this executor started)."""
        if not self._own:
            return
        for part in (self.client, self.cluster):
            if part is not None:
                try:
                    part.close()
                except Exception:  # noqa: BLE001 (closing a cluster that already went away)
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- running points ----------------------------------------------------------------------
    def submit(self, tasks: list[Task], callbacks: Callbacks | None = None, cancel: threading.Event | None = None):
        """Yield ``(task, RunResult | exception)`` as points finish (module docstring)."""
        if not tasks:
            return
        token = uuid.uuid4().hex[:12]
        topic, cancel_name = f"fastact-events-{token}", f"fastact-cancel-{token}"
        events: queue.Queue = queue.Queue()
        self.client.subscribe_topic(topic, events.put)
        running: dict = {}
        ready: dict = {}
        finished = False
        try:
            ready = self._prepare(tasks, token, cancel)
            if ready is None:
                return

            def send(task: Task):
                return self.client.submit(worker.run_point, task, ready[shipping.source_key(task.config)],
                                          self.threads, topic, cancel_name, self.run, pure=False,
                                          key=f"fastact-point-{task.key}-{token}", retries=self.retries)

            yield from self._collect(list(tasks), send, running, events, callbacks or Callbacks(), cancel)
            finished = True
        finally:
            self.client.unsubscribe_topic(topic)
            if not finished and running:
                Event(cancel_name, client=self.client).set()  # running points stop at their next look
            leftover = [*running, *(f for f in ready.values() if f is not None)]
            if leftover:
                self.client.cancel(leftover)

    def _workers(self, cancel) -> list[str] | None:
        said = False
        while True:
            found = sorted(self.client.nthreads())
            if found:
                return found
            if not said:
                self.log(f"dask: {self.where} has no workers yet; waiting (start one: dask worker ADDRESS)")
                said = True
            if cancel is not None and cancel.is_set():
                return None
            time.sleep(0.5)

    def _wait(self, futures: list, cancel) -> list | None:
        """Each future's result or exception; None once ``cancel`` is set."""
        while not all(f.done() for f in futures):
            if cancel is not None and cancel.is_set():
                self.client.cancel(futures)
                return None
            time.sleep(0.05)
        out = []
        for f in futures:
            try:
                out.append(f.result())
            except Exception as exc:  # noqa: BLE001 (reported per worker)
                out.append(exc)
        return out

    def _prepare(self, tasks: list[Task], token: str, cancel) -> dict | None:
        """Workers probed and warmed; source key -> the shipped files' future (None: loaded there)."""
        addrs = self._workers(cancel)
        if addrs is None:
            return None
        configs = {}
        for t in tasks:
            configs.setdefault(shipping.source_key(t.config), t.config)
        here = {k: worker_dataset(c) for k, c in configs.items()}
        sources = [(c, shipping.fingerprint(shipping.source_files(here[k], c))) for k, c in configs.items()]
        # One config per set of kernels (`worker.prepare`): it carries a defined activation's definition too.
        kernels = list({(t.config.act, t.config.dtype, t.config.optimizer, t.config.dropout > 0): t.config
                        for t in tasks}.values())
        preps = [self.client.submit(worker.prepare, sources, kernels, key=f"fastact-prepare-{token}-{i}",
                                    workers=[a], allow_other_workers=False, pure=False) for i, a in enumerate(addrs)]
        reports = self._wait(preps, cancel)
        if reports is None:
            return None
        good = [r for r in reports if isinstance(r, dict)]
        for a, r in zip(addrs, reports):
            if not isinstance(r, dict):
                self.log(f"dask: worker {a} could not get ready ({type(r).__name__}: {r}); its points go elsewhere")
        if not good:  # no worker to run anything on: one line with the first reason, not a study of failures
            bad = next(r for r in reports if not isinstance(r, dict))
            raise ExecutorError(f"no Dask worker could get ready for these points ({len(addrs)} tried; "
                                f"{addrs[0]}: {type(bad).__name__}: {str(bad).splitlines()[0] if str(bad) else ''})")
        self._say_workers(good)
        ready = {}
        for j, (key, config) in enumerate(configs.items()):
            ds = here[key]
            cannot = [(r["worker"], r["data"][j]) for r in good if r["data"][j] is not None]
            if good and not cannot:
                self.log(f"data: each worker loads {ds.name} itself (the same files as here: "
                         f"{', '.join(sorted(Path(p).name for p in shipping.source_files(ds, config).values()))})")
                ready[key] = None
                continue
            shipment = shipping.make_shipment(ds, config)
            ready[key] = self.client.scatter(shipment, broadcast=True, hash=False)
            why = f"{cannot[0][0]} cannot load it itself: {cannot[0][1]}" if cannot else "no worker reported"
            self.log(f"data: {ds.name} shipped once to each worker ({format_bytes(shipment.size)} of files); {why}"
                     + (f" (and {len(cannot) - 1} more)" if len(cannot) > 1 else ""))
        return ready

    def _say_workers(self, reports: list[dict]) -> None:
        mine = _threads.max_threads()
        try:
            allowed = self.client.run_on_scheduler(_allowed_failures)
        except Exception:  # noqa: BLE001 (a scheduler that refuses run_on_scheduler)
            allowed = None
        counts = sorted({r["numba_num_threads"] for r in reports})
        threads = self.threads or min(max(1, r["numba_num_threads"] // max(1, r["nthreads"])) for r in reports)
        ready = max((r["kernel_seconds"] for r in reports), default=0.0)
        self.log(f"dask: {len(reports)} worker{'s' if len(reports) != 1 else ''} ready "
                 f"(on {', '.join(sorted({r['host'] for r in reports}))}); a point uses {threads} kernel "
                 f"thread{'s' if threads > 1 else ''} of NUMBA_NUM_THREADS={'/'.join(map(str, counts))} "
                 f"({reports[0]['threading_layer'] if reports else '?'}); kernels ready in {ready:.1f}s")
        odd = [r for r in reports if r["numba_num_threads"] != mine]
        if odd:
            self.log(f"dask: {', '.join(r['worker'] for r in odd)} run with NUMBA_NUM_THREADS="
                     f"{odd[0]['numba_num_threads']}, this process with {mine}: their GEMM tiling differs, so their "
                     f"metrics may differ from a serial run here in the last bits (start the workers with "
                     f"NUMBA_NUM_THREADS={mine} for bitwise identity)")
        elif reports:
            self.log(f"dask: NUMBA_NUM_THREADS={mine} as in this process: each point is bitwise the serial run's")
        if allowed is not None:
            self.log(f"dask: a point whose worker dies runs again on another, at most {allowed} "
                     f"time{'s' if allowed != 1 else ''} (allowed-failures), then is recorded as failed")

    def _collect(self, pending: list[Task], send, running: dict, events: queue.Queue, cb: Callbacks, cancel):
        """Keep one point per worker thread in flight (in ``pending``'s order), yield each as it ends.

        Points wait here, not on the workers: a worker holds only the point it runs, so a worker
        that dies takes that point's attempt with it and no other (the scheduler counts a death
        against every task the worker held), and points go out in the runner's order."""
        by_key = {t.key: t for t in pending}
        done: set[str] = set()
        started: dict[str, str] = {}
        ac = as_completed([], loop=self.client.loop)
        pending.reverse()  # popped from the end
        room_at = 0.0
        while pending or running:
            if pending and time.monotonic() >= room_at:  # the cluster may have grown (or shrunk)
                room_at = time.monotonic() + 1.0
                room = max(1, sum(self.client.nthreads().values())) - len(running)
                while pending and room > 0:
                    task = pending.pop()
                    fut = send(task)
                    running[fut] = task
                    ac.add(fut)
                    room -= 1
            self._pump(events, cb, by_key, done, started, 0 if ac.has_ready() else 0.05)
            if cancel is not None and cancel.is_set():
                return
            for fut in ac.next_batch(block=False):
                self._pump(events, cb, by_key, done, started, 0)  # the point's last events first
                task = running.pop(fut)
                outcome = _outcome(fut)
                done.add(task.key)
                room_at = 0.0
                if isinstance(outcome, RunResult):
                    cb.on_run_end(outcome)
                yield task, outcome
                fut.release()

    def _pump(self, events: queue.Queue, cb, by_key, done, started, timeout: float) -> None:
        """Deliver the events waiting (the first one waited for up to ``timeout`` seconds)."""
        try:
            batch = [events.get(timeout=timeout) if timeout else events.get_nowait()]
        except queue.Empty:
            return
        while True:
            try:
                batch.append(events.get_nowait())
            except queue.Empty:
                break
        for _, msg in batch:
            task = by_key.get(msg.get("k"))
            if task is None or task.key in done:
                continue
            kind = msg.get("e")
            if kind == "start":
                where = msg["info"].get("worker", "?")
                if task.key in started:
                    self.log(f"{task.label}: running again on {where} (the attempt on {started[task.key]} was lost)")
                started[task.key] = where
                cb.on_run_start(task.config, msg["info"])
            elif kind == "batch":
                cb.on_batch(task.config, msg["epoch"], msg["batch"], msg["n"], msg["loss"])
            elif kind == "epoch":
                cb.on_epoch_end(task.config, EpochRecord(**msg["record"]))


def _outcome(fut):
    """A finished future's `RunResult`, or the exception that stopped it (`WorkerLost` for Dask's
    `KilledWorker`)."""
    try:
        return fut.result()
    except KilledWorker as exc:
        last = getattr(getattr(exc, "last_worker", None), "address", None) or "?"
        n = getattr(exc, "allowed_failures", None)
        times = f"{n + 1} times" if isinstance(n, int) else "repeatedly"
        return WorkerLost(f"its worker died running it, {times} (last on {last}); Dask gave up on it "
                          f"(distributed.scheduler.allowed-failures={n})")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 (a cancelled future, the task's own error: the point failed)
        return exc
