"""fastact.experiments.distributed: a study through a real ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1 (the `dask_cluster` fixture) and through a LocalCluster, against the same
study run serially in this process: identical metrics and weights, every epoch's record at the
client, every point exactly once when a worker is killed mid-point, failed with the reason when
its workers keep dying, resumed after the client stopped, the data shipped when the workers cannot
load it themselves, one line (not a hang) when no scheduler answers, and an address that is not
one refused before anything connects, naming it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import threading
import time
from collections import Counter

import numpy as np
import pytest

from fastact.data import load_dataset
from fastact.engine import threads
from fastact.errors import SettingsError
from fastact.experiments.distributed.executor import DaskExecutor, check_address
from fastact.experiments.runner import StudyEvents, run_study
from fastact.experiments.spec import parse_spec
from fastact.experiments.tasks import ExecutorError, SerialExecutor

from daskcluster import HoldFirst, KillSelf, free_port, wait_for_workers

SPEC = '''
name = "tiny"
seeds = [0, 1]
[base]
hidden = [8]
epochs = 2
batch_size = 32
lr = 0.01
[[parts]]
name = "acts"
act = ["relu", "tanh", "sigmoid"]
'''
TIMINGS = ("seconds", "samples_per_s")


@pytest.fixture(scope="module")
def data(idx_data):
    return idx_data(200, 50, shape=(6, 6))


@pytest.fixture(scope="module")
def ds(data):
    return load_dataset(data_dir=data, download=False, progress=False)


@pytest.fixture(scope="module")
def spec():
    return parse_spec(SPEC, "tiny.toml")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, spec, ds, data):
    """The study run serially in this process: what every executor must reproduce."""
    out = tmp_path_factory.mktemp("serial")
    run_study(spec, out, SerialExecutor(), ds, machine={"data_dir": data})
    return measured(out)


def measured(out) -> dict:
    """key -> (status, history without timings, test and best-epoch metrics, weights) per run directory."""
    got = {}
    for d in sorted((out / "runs").iterdir()):
        s = json.loads((d / "summary.json").read_text())
        history = [{k: v for k, v in h.items() if k not in TIMINGS} for h in s["history"]]
        lines = (d / "metrics.jsonl").read_text().splitlines()
        weights = None
        if (d / "model.npz").is_file():
            with np.load(d / "model.npz") as z:
                weights = {k: z[k].tobytes() for k in z.files}
        got[d.name] = (s["status"], history, len(lines), s["test_loss"], s["test_acc"], s["best_epoch"],
                       s["best_test_loss"], s["best_test_acc"], weights)
    return got


def config_of(out, key) -> dict:
    return json.loads((out / "runs" / key / "config.json").read_text())


class Seen(StudyEvents):
    """Every trainer event that reached the client, by point label."""

    def __init__(self):
        self.starts, self.epochs = [], Counter()

    def label(self, config):
        return f"{config.act} seed={config.seed}"

    def on_run_start(self, config, info):
        self.starts.append((self.label(config), info))

    def on_epoch_end(self, config, record):
        self.epochs[self.label(config)] += 1


def test_a_study_on_a_scheduler_and_two_workers_is_bitwise_the_serial_one(dask_cluster, reference, spec, ds, data,
                                                                            tmp_path, monkeypatch):
    (tmp_path / "data").symlink_to(data)  # a relative path that resolves here, not in the workers' directory
    monkeypatch.chdir(tmp_path)
    lines, seen = [], Seen()
    with DaskExecutor(scheduler=dask_cluster.address, log=lines.append) as ex:
        run = run_study(spec, tmp_path / "study", ex, ds, events=seen, machine={"data_dir": "data"})
    assert run.summary() == "6 points: 6 done, 0 failed, 0 left"
    assert measured(tmp_path / "study") == reference
    # every epoch record of every point reached the client while it trained, once
    assert seen.epochs == Counter({p.label: 2 for p in run.points}) and len(seen.starts) == 6
    workers = set(dask_cluster.client.nthreads())
    for p in run.points:
        cfg = config_of(tmp_path / "study", p.key)
        assert cfg["worker"] in workers and cfg["numba_num_threads"] == threads.max_threads()
        assert cfg["data_dir"] == "data" and cfg["threads"] is None  # the settings as the study gave them
    shipped = [line for line in lines if line.startswith("data: ")]
    assert len(shipped) == 1 and re.fullmatch(
        r"data: custom shipped once to each worker \(\d+\.\d+ KiB of files\); tcp://127\.0\.0\.1:\d+ cannot load "
        r"it itself: DatasetError: data_dir='data' is not a directory \(and 1 more\)", shipped[0]), shipped
    assert f"dask: NUMBA_NUM_THREADS={threads.max_threads()} as in this process: each point is bitwise the " \
           f"serial run's" in lines


def test_a_worker_killed_mid_point_has_the_point_run_again_elsewhere_exactly_once(dask_cluster, reference, spec,
                                                                                   ds, data, tmp_path):
    held = "tanh seed=0"
    lines, killed = [], []

    class Killer(Seen):
        def on_run_start(self, config, info):
            super().on_run_start(config, info)
            if info.get("held"):  # the first attempt waits in `HoldFirst` until this kill
                os.kill(info["pid"], signal.SIGKILL)
                killed.append(info["pid"])

    seen = Killer()
    try:
        with DaskExecutor(scheduler=dask_cluster.address, log=lines.append,
                          run=HoldFirst(held, str(tmp_path))) as ex:
            run = run_study(spec, tmp_path / "study", ex, ds, events=seen, machine={"data_dir": data})
    finally:
        wait_for_workers(dask_cluster.client, 2)  # the nanny restarts the killed one for the next tests
    assert run.summary() == "6 points: 6 done, 0 failed, 0 left"
    assert sorted(p.name for p in (tmp_path / "study" / "runs").iterdir()) == sorted(p.key for p in run.points)
    assert measured(tmp_path / "study") == reference  # the killed attempt left nothing behind
    attempts = [info for label, info in seen.starts if label == held]
    assert len(killed) == 1 and [a.get("held", False) for a in attempts] == [True, False]
    assert attempts[0]["pid"] == killed[0] != attempts[1]["pid"]
    assert any(line.startswith(f"{held}: running again on tcp://127.0.0.1:") and
               line.endswith(f"(the attempt on {attempts[0]['worker']} was lost)") for line in lines), lines


def test_a_study_the_client_stopped_resumes_where_it_was(dask_cluster, reference, spec, ds, data, tmp_path):
    cancel = threading.Event()

    class StopAfterOne(StudyEvents):
        def on_point_end(self, study, point, result):
            cancel.set()

    out = tmp_path / "study"
    with DaskExecutor(scheduler=dask_cluster.address) as ex:
        first = run_study(spec, out, ex, ds, events=StopAfterOne(), cancel=cancel, machine={"data_dir": data})
    done = {p.name: (p / "summary.json").stat().st_mtime_ns for p in (out / "runs").iterdir()}
    assert 1 <= len(done) < 6 and first.left == 6 - len(done)
    seen = Seen()
    with DaskExecutor(scheduler=dask_cluster.address) as ex:
        run = run_study(spec, out, ex, ds, events=seen, machine={"data_dir": data})
    assert run.summary() == "6 points: 6 done, 0 failed, 0 left"
    assert {p.name: (p / "summary.json").stat().st_mtime_ns for p in (out / "runs").iterdir() if p.name in done} \
        == done  # the finished points were not run again
    assert sorted(label for label, _ in seen.starts) == sorted(p.label for p in run.points if p.key not in done)
    assert measured(out) == reference


def test_a_local_cluster_matches_serial_and_a_point_whose_workers_keep_dying_fails_with_the_reason(
        reference, spec, ds, data, tmp_path):
    doomed = "sigmoid seed=1"
    lines = []
    with DaskExecutor(workers=2, retries=1, log=lines.append, run=KillSelf(doomed)) as ex:
        assert ex.describe() == "dask: a LocalCluster of 2 worker processes on this machine, " \
                                f"{max(1, threads.max_threads() // 2)} kernel thread" \
                                f"{'s' if threads.max_threads() >= 4 else ''} each"
        run = run_study(spec, tmp_path, ex, ds, machine={"data_dir": data})
    assert run.summary() == "6 points: 5 done, 1 failed, 0 left"
    key = next(p.key for p in run.points if p.label == doomed)
    s = json.loads((tmp_path / "runs" / key / "summary.json").read_text())
    assert s["status"] == "failed" and re.fullmatch(
        r"WorkerLost: its worker died running it, 2 times \(last on tcp://127\.0\.0\.1:\d+\); Dask gave up on it "
        r"\(distributed\.scheduler\.allowed-failures=1\)", s["message"]), s["message"]
    got = measured(tmp_path)
    assert {k: v for k, v in got.items() if k != key} == {k: v for k, v in reference.items() if k != key}
    assert "data: each worker loads custom itself (the same files as here: t10k-images-idx3-ubyte.gz, " \
           "t10k-labels-idx1-ubyte.gz, train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz)" in lines


def _silent_server():
    """A port that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    held = []
    threading.Thread(target=lambda: held.append(srv.accept()), daemon=True).start()
    return srv, held


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_a_scheduler_that_does_not_answer_is_one_line_within_the_timeout(kind):
    srv, held = _silent_server() if kind == "silent" else (None, [])
    port = srv.getsockname()[1] if srv else free_port()
    start = time.monotonic()
    try:
        with pytest.raises(ExecutorError) as err:
            DaskExecutor(scheduler=f"tcp://127.0.0.1:{port}", timeout=1)
    finally:
        if srv:
            srv.close()
    assert time.monotonic() - start < 30  # bounded: the timeout, not a hang
    why = "connection refused" if kind == "refused" else "no answer"
    assert str(err.value) == (f"no Dask scheduler answered at tcp://127.0.0.1:{port} within 1s ({why}); start one "
                              f"(dask scheduler) or give no scheduler address for a LocalCluster on this machine")
    assert err.value.field == "scheduler"  # the setting an interface points at


@pytest.mark.parametrize("address,why", [
    ("tcp://127.0.0.1", "missing port number in address '127.0.0.1'"),
    ("http://host:8786", "unknown address scheme 'http' (known schemes: ['inproc', 'tcp', 'tls', 'ucx', 'ws', "
                         "'wss'])"),
    ("tcp://host:port", "invalid literal for int() with base 10: 'port'"),
    ("tcp://host:0", "port 0 is outside 1-65535"),
    ("tcp://:8786", "no host"),
])
def test_an_address_that_is_not_one_is_a_settings_error_naming_it(address, why):
    with pytest.raises(SettingsError) as err:
        DaskExecutor(scheduler=address)  # refused before connecting: no timeout to wait for
    assert (err.value.field, err.value.value) == ("scheduler", address)
    assert str(err.value) == f"scheduler must be a Dask scheduler's address, tcp://HOST:PORT ({why}). " \
                             f"Received: scheduler={address!r}"


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://host.example:1", "ws://h:65535",
                                     "tcp://[::1]:8786"])
def test_an_address_is_returned_as_given(address):
    assert check_address(address) == address


def test_a_worker_address_is_not_a_scheduler(dask_cluster):
    address = sorted(dask_cluster.client.nthreads())[0]
    with pytest.raises(ExecutorError, match=f"^{re.escape(address)} is a Dask Worker, not a scheduler: give the "
                                            f"scheduler's address$"):
        DaskExecutor(scheduler=address, timeout=5)


@pytest.mark.parametrize("kw,message", [
    ({"workers": 0}, "workers must be a positive integer. Received: workers=0"),
    ({"retries": -1}, "retries must be a non-negative integer. Received: retries=-1"),
    ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"},
     "workers sizes a LocalCluster; a scheduler's workers are its own. Received: workers=2, "
     "scheduler='tcp://127.0.0.1:1'"),
])
def test_bad_options_name_the_value(kw, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        DaskExecutor(**kw)


DEFINED_SPEC = '''
name = "defined"
seeds = [0]
[define]
hswish = "z * clip(z + 3, 0, 6) / 6"
[base]
hidden = [8]
epochs = 2
batch_size = 32
lr = 0.01
dropout = 0.25
optimizer = "sgd"
[[parts]]
name = "acts"
act = ["hswish", "relu"]
'''


def test_a_defined_activation_with_dropout_trains_on_workers_that_never_saw_its_definition(
        dask_cluster, ds, data, tmp_path):
    # The workers are processes of their own, started before this test defined anything: each defines
    # `hswish` from the definition the points' configs carry, then prepares its dropout epilogues.
    spec = parse_spec(DEFINED_SPEC, "defined.toml")
    run_study(spec, tmp_path / "serial", SerialExecutor(), ds, machine={"data_dir": data})
    with DaskExecutor(scheduler=dask_cluster.address, log=lambda line: None) as ex:
        run = run_study(spec, tmp_path / "dask", ex, ds, machine={"data_dir": data})
    assert run.summary() == "2 points: 2 done, 0 failed, 0 left"
    assert measured(tmp_path / "dask") == measured(tmp_path / "serial")
    key = next(p.key for p in run.points if p.config.act == "hswish")
    cfg = config_of(tmp_path / "dask", key)
    assert cfg["define"]["formula"] == "z * clip(z + 3, 0, 6) / 6" and cfg["dropout"] == 0.25
    assert cfg["worker"] in set(dask_cluster.client.nthreads())


def test_workers_that_all_fail_to_get_ready_are_one_line_naming_the_reason(dask_cluster, ds, data, tmp_path,
                                                                            monkeypatch):
    from fastact.experiments.distributed import executor as dask_executor

    def refuse(sources, kernels):
        raise RuntimeError("no kernels here")

    monkeypatch.setattr(dask_executor.worker, "prepare", refuse)  # shipped to the workers by value
    spec = parse_spec(SPEC, "tiny.toml")
    with DaskExecutor(scheduler=dask_cluster.address, log=lambda line: None) as ex:
        with pytest.raises(ExecutorError) as err:
            run_study(spec, tmp_path / "study", ex, ds, machine={"data_dir": data})
    assert re.fullmatch(r"no Dask worker could get ready for these points \(2 tried; tcp://127\.0\.0\.1:\d+: "
                        r"RuntimeError: no kernels here\)", str(err.value)), str(err.value)
