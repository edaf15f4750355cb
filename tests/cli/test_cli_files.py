"""File-system faults: an output path that cannot be written is refused up front (exit 2, nothing
written); a write that fails mid-run keeps the last complete epoch's files valid, marks the run
failed with the reason, leaves no temporary file and exits 1, never with a traceback; files get
the permissions the umask gives.

Faults are injected (an OSError from the run's metrics file or its summary) so the tests run
everywhere; where the test may mount file systems (root), a real read-only and a real full
file system (small tmpfs mounts, always unmounted) are used too, and those tests are skipped
elsewhere, saying why.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from fastact import fsio
from fastact.training import runs

from clirun import run_cli

TEMPORARY = ("model.tmp.npz", "summary.json.tmp", "config.json.tmp")


@pytest.fixture(scope="module")
def data_dir(idx_data):
    return idx_data(200, 50, shape=(10, 10))


def train(capsys, data_dir, out, *extra):
    return run_cli(capsys, "train", "--act", "relu", "--hidden", "8", "--epochs", "3", "--batch-size", "64",
                   "--data-dir", data_dir, "--out", str(out), "--quiet", *extra)


def one_line(err: str, command: str = "train") -> str:
    assert err.count("\n") == 1 and err.startswith(f"fastact {command}: error: ") and "Traceback" not in err, err
    return err.strip()[len(f"fastact {command}: error: "):]


@contextlib.contextmanager
def mounted_tmpfs(path: Path, options: str):
    """A tmpfs at ``path`` (``options`` as for mount -o); skips the test where this process cannot mount one."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the injected-error tests cover the same paths)")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({p.stderr.strip() or p.returncode})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


# -- refused up front ------------------------------------------------------------------------------------

def test_out_pointing_at_a_file(capsys, data_dir, tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("mine\n")
    code, out, err = train(capsys, data_dir, target)
    assert code == 2 and out == ""
    assert one_line(err) == (f"--out must be a directory fastact can write run folders into ({target} is a file, "
                             f"not a directory). Received: out={str(target)!r}")
    assert target.read_text() == "mine\n"


def test_out_below_a_file(capsys, data_dir, tmp_path):
    (tmp_path / "f").write_text("")
    code, _, err = train(capsys, data_dir, tmp_path / "f" / "runs")
    assert code == 2 and f"({tmp_path / 'f'} is a file, not a directory)" in one_line(err)


def test_out_that_cannot_be_created_is_refused_naming_why(capsys, data_dir, tmp_path, monkeypatch):
    def denied(*a, **kw):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(fsio.tempfile, "mkstemp", denied)
    code, out, err = train(capsys, data_dir, tmp_path / "new" / "runs")
    assert code == 2 and out == ""
    assert one_line(err) == (f"--out must be a directory fastact can write run folders into ({tmp_path} is not "
                             f"writable (Permission denied)). Received: out={str(tmp_path / 'new' / 'runs')!r}")
    assert list(tmp_path.iterdir()) == []


def test_out_on_a_read_only_file_system(capsys, data_dir, tmp_path):
    with mounted_tmpfs(tmp_path / "ro", "ro,size=64k") as ro:
        for out in (ro, ro / "missing" / "runs"):
            code, _, err = train(capsys, data_dir, out)
            assert code == 2
            assert f"({ro} is not writable (Read-only file system))" in one_line(err), err


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions (the read-only mount test "
                                              "and the injected-error test cover this path)")
def test_out_without_write_permission(capsys, data_dir, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        code, _, err = train(capsys, data_dir, locked / "runs")
    finally:
        locked.chmod(0o755)
    assert code == 2 and f"({locked} is not writable (Permission denied))" in one_line(err)


# -- failing mid-run -------------------------------------------------------------------------------------

class _FailingFile:
    """Stands in for the run's metrics file: the ``fail_at``-th line reaches the disk only in part."""

    def __init__(self, f, fail_at: int):
        self.f, self.fail_at, self.n = f, fail_at, 0

    def write(self, data):
        self.n += 1
        if self.n == self.fail_at:
            self.f.write(bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.f.write(data)

    def fileno(self):
        return self.f.fileno()

    def close(self):
        self.f.close()


def only_run(out: Path) -> Path:
    (d,) = out.iterdir()
    leftovers = [p.name for p in d.iterdir() if p.name in TEMPORARY or p.name.endswith(".tmp")]
    assert leftovers == []
    return d


def test_a_failing_metrics_write_keeps_the_last_complete_epoch(capsys, data_dir, tmp_path, monkeypatch):
    real = runs.RunWriter.__init__

    def init(self, *a, **kw):
        real(self, *a, **kw)
        self._metrics = _FailingFile(self._metrics, fail_at=2)

    monkeypatch.setattr(runs.RunWriter, "__init__", init)
    code, out, err = train(capsys, data_dir, tmp_path)
    assert code == 1 and "Traceback" not in err
    d = only_run(tmp_path)
    reason = f"could not write {d / 'metrics.jsonl'}: No space left on device"
    assert f"relu seed=0: failed ({reason})" in " ".join(out.split())
    lines = (d / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1]  # the half line was cut off again
    s = json.loads((d / "summary.json").read_text())
    assert (s["status"], s["message"], s["epochs_completed"]) == ("failed", reason, 1)
    assert runs.load_run(d)["status"] == "failed"


def test_when_even_the_summary_cannot_be_written_it_keeps_its_last_state(capsys, data_dir, tmp_path, monkeypatch):
    real = runs.RunWriter.write_summary
    calls = {"n": 0}

    def write_summary(self, data):
        calls["n"] += 1
        if calls["n"] > 2:  # the start and epoch 1 are written, nothing after
            raise OSError(errno.ENOSPC, "No space left on device", str(self.dir / runs.SUMMARY))
        real(self, data)

    monkeypatch.setattr(runs.RunWriter, "write_summary", write_summary)
    code, out, err = train(capsys, data_dir, tmp_path)
    assert code == 1 and "Traceback" not in err
    d = only_run(tmp_path)
    said = " ".join(out.split())
    full = f"{d / 'summary.json'}: No space left on device"
    assert (f"relu seed=0: failed (could not write {full}; summary.json could not be updated ({full}) and still shows "
            "the last state it could be written with)") in said
    s = json.loads((d / "summary.json").read_text())
    assert (s["status"], s["epochs_completed"]) == ("running", 1)
    assert runs.load_run(d)["status"] == "interrupted"


def test_a_full_disk_mid_run(capsys, data_dir, tmp_path):
    # 100 inputs x 2000 hidden: the run's small files fit in 256 KiB, its 800 KiB model does not.
    with mounted_tmpfs(tmp_path / "small", "size=256k") as disk:
        code, out, err = train(capsys, data_dir, disk, "--hidden", "2000")
        assert code == 1 and "Traceback" not in err, err
        d = only_run(disk)
        said = " ".join(out.split())
        assert f"relu seed=0: failed (could not write {d / 'model.npz'}: No space left on device)" in said
        s = json.loads((d / "summary.json").read_text())
        assert s["status"] == "failed" and s["epochs_completed"] == 3 and "No space left on device" in s["message"]
        assert len((d / "metrics.jsonl").read_text().splitlines()) == 3
        assert not (d / "model.npz").exists()


# -- permissions -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_files_get_the_permissions_the_umask_gives(capsys, data_dir, tmp_path, umask):
    from fastact.data import write_idx

    old = os.umask(umask)
    try:
        code, _, err = train(capsys, data_dir, tmp_path / "runs")
        idx = write_idx(tmp_path / "labels-idx1-ubyte", __import__("numpy").arange(5, dtype="uint8"))
    finally:
        os.umask(old)
    assert code == 0, err
    (d,) = (tmp_path / "runs").iterdir()
    modes = {p.name: p.stat().st_mode & 0o777 for p in d.iterdir()}
    assert {"config.json", "metrics.jsonl", "summary.json", "model.npz"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o666 & ~umask)
    assert idx.stat().st_mode & 0o777 == 0o666 & ~umask


def test_report_csv_that_cannot_be_written_is_refused_before_reading(capsys, data_dir, tmp_path):
    assert train(capsys, data_dir, tmp_path / "runs")[0] == 0
    (tmp_path / "f").write_text("")
    for target, why in ((tmp_path, f"; {tmp_path} is a directory"),
                        (tmp_path / "f" / "all.csv", f" ({tmp_path / 'f'} is a file, not a directory)")):
        code, out, err = run_cli(capsys, "report", str(tmp_path / "runs"), "--csv", str(target))
        assert code == 2 and out == ""
        message = one_line(err, "report")
        assert message.startswith("--csv must be a file") and why in message, message
