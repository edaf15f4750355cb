"""fastact.data.download against a local HTTP server: verified, atomic, mirror after mirror."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fastact.data import DATASETS, DatasetError, load_dataset
from fastact.data import download as dl
from fastact.data.errors import DownloadError

from idxgen import isolate_data_env, write_idx_dataset


class _Handler(http.server.BaseHTTPRequestHandler):
    """``GET /<mode>/<file>``; modes: good, bad (wrong bytes), cut (Content-Length lies),
    cutnolen (no length, cut), missing (404), slow (stalls past the client timeout)."""

    files: dict[str, bytes] = {}
    log: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.log.append(self.path)
        mode, _, name = self.path.strip("/").partition("/")
        data = self.files.get(name)
        if data is None or mode == "missing":
            self.send_error(404)
            return
        if mode == "slow":
            time.sleep(1.0)
        if mode == "bad":
            data = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02ab", mtime=0)
        body = data[: len(data) // 2] if mode.startswith("cut") else data
        self.send_response(200)
        if mode != "cutnolen":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the "slow" mirror); that is the point

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    src = tmp_path_factory.mktemp("served")
    paths = write_idx_dataset(src, n_train=60, n_test=20)
    _Handler.files = {p.name: p.read_bytes() for p in paths.values()}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def spec(server):
    """The MNIST spec, but with the served files' digests and the local server as mirror."""
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in _Handler.files.items()}
    _Handler.log = []
    return dataclasses.replace(DATASETS["mnist"], sha256=sums, alt_sha256={}, mirrors=(f"{server}/good/",))


def _dead_mirror() -> str:
    with socket.socket() as s:  # a port that was free a moment ago: connection refused
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_good_mirror_downloads_and_verifies(spec, server, tmp_path):
    urls = dl.download_dataset(spec, tmp_path / "d", progress=False)
    assert urls == [f"{server}/good/{f}" for f in spec.files.values()]
    assert _leftovers(tmp_path / "d") == sorted(spec.files.values())
    for name, data in _Handler.files.items():
        assert (tmp_path / "d" / name).read_bytes() == data


def test_downloaded_files_get_the_permissions_the_umask_gives(spec, server, tmp_path):
    old = os.umask(0o022)
    try:
        dl.download_dataset(spec, tmp_path / "d", progress=False)
    finally:
        os.umask(old)
    # tempfile.mkstemp creates 0600 files; the rename must not carry that over
    assert {(tmp_path / "d" / f).stat().st_mode & 0o777 for f in spec.files.values()} == {0o644}


@pytest.mark.parametrize("mode, reason", [("bad", "checksum mismatch"), ("cut", "cut off after"),
                                          ("cutnolen", "checksum mismatch"), ("missing", "HTTP 404")])
def test_broken_mirror_leaves_nothing(spec, server, tmp_path, mode, reason):
    with pytest.raises(DownloadError, match=reason) as info:
        dl.download_dataset(spec, tmp_path / "d", mirrors=[f"{server}/{mode}"], progress=False)
    assert "train-images-idx3-ubyte.gz" in str(info.value) and "127.0.0.1" in str(info.value)
    assert _leftovers(tmp_path / "d") == []


def test_unverified_file_is_still_checked_structurally(spec, server, tmp_path):
    unknown = dataclasses.replace(spec, sha256=dict.fromkeys(spec.files.values()))
    with pytest.raises(DatasetError, match="gzip stream is truncated"):
        dl.download_dataset(unknown, tmp_path / "d", mirrors=[f"{server}/cutnolen/"], progress=False)
    assert _leftovers(tmp_path / "d") == []
    dl.download_dataset(unknown, tmp_path / "d", progress=False)
    assert len(_leftovers(tmp_path / "d")) == 4


def test_dead_mirror_then_good_one(spec, server, tmp_path):
    mirrors = [_dead_mirror(), f"{server}/missing/", f"{server}/good/"]
    urls = dl.download_dataset(spec, tmp_path / "d", mirrors=mirrors, progress=False)
    assert all(u.startswith(f"{server}/good/") for u in urls)
    assert len(_leftovers(tmp_path / "d")) == 4


def test_slow_mirror_times_out_quickly(spec, server, tmp_path):
    start = time.monotonic()
    urls = dl.download_dataset(spec, tmp_path / "d", mirrors=[f"{server}/slow/", f"{server}/good/"],
                               timeout=0.2, progress=False)
    assert time.monotonic() - start < 6 and urls[0].startswith(f"{server}/good/")


def test_complete_files_are_kept_and_corrupt_ones_replaced(spec, server, tmp_path):
    dl.download_dataset(spec, tmp_path / "d", progress=False)
    (tmp_path / "d" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    _Handler.log = []
    urls = dl.download_dataset(spec, tmp_path / "d", progress=False)
    assert urls == [f"{server}/good/t10k-labels-idx1-ubyte.gz"] and len(_Handler.log) == 1
    assert dl.download_dataset(spec, tmp_path / "d", progress=False) == []


def test_interrupted_download_leaves_no_partial_file(spec, tmp_path, monkeypatch):
    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(dl.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        dl.download_dataset(spec, tmp_path / "d", progress=False)
    assert _leftovers(tmp_path / "d") == []


def test_progress_bar_goes_to_stderr(spec, tmp_path, capsys):
    dl.download_dataset(spec, tmp_path / "d", progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "train-images-idx3-ubyte.gz" in err


def test_mirror_sources_in_order(spec, monkeypatch):
    monkeypatch.delenv(dl.ENV_MIRRORS, raising=False)
    assert dl.mirrors_for(spec) == spec.mirrors
    monkeypatch.setenv(dl.ENV_MIRRORS, "http://a/x, http://b/y/")
    assert dl.mirrors_for(spec) == ("http://a/x/", "http://b/y/")
    assert dl.mirrors_for(spec, ["http://c"]) == ("http://c/",)
    with pytest.raises(DatasetError, match="no mirrors"):
        dl.download_dataset(spec, "/nonexistent", mirrors=[])


def test_load_dataset_downloads_into_cache_once(spec, server, monkeypatch, tmp_path):
    dirs = isolate_data_env(monkeypatch, tmp_path)
    monkeypatch.setitem(DATASETS, "mnist", spec)
    monkeypatch.setenv(dl.ENV_MIRRORS, f"{_dead_mirror()},{server}/good/")
    ds = load_dataset(progress=False)
    assert ds.name == "mnist" and ds.source == str(dirs["cache"] / "mnist")
    assert ds.description.endswith(f"(downloaded from {server}/good/)")
    assert set(ds.checksums.values()) == {"ok"} and len(ds.y_train) + len(ds.y_val) == 60
    _Handler.log = []
    assert load_dataset(progress=False).description.endswith("(found in user cache)") and not _Handler.log


def test_auto_falls_back_when_mirrors_fail(spec, server, monkeypatch, tmp_path):
    dirs = isolate_data_env(monkeypatch, tmp_path)
    monkeypatch.setitem(DATASETS, "mnist", spec)
    write_idx_dataset(dirs["system"] / "fashion-mnist", n_train=30, n_test=10)
    ds = load_dataset(progress=False, mirrors=[f"{server}/bad/"])
    assert ds.name == "fashion-mnist"
    assert "(MNIST not on disk, download failed: 127.0.0.1:" in ds.description
    assert "checksum mismatch" in ds.description
    assert _leftovers(dirs["cache"] / "mnist") == []


def test_any_failure_moves_on_including_memory_errors(spec, server, tmp_path, monkeypatch):
    real, calls = dl.scan_idx, []

    def scan_once_out_of_memory(path, ndim=None, name=None):
        calls.append(path)
        if len(calls) == 1:
            raise MemoryError
        return real(path, ndim, name)

    monkeypatch.setattr(dl, "scan_idx", scan_once_out_of_memory)
    url = dl.fetch_file(spec, "t10k-labels-idx1-ubyte.gz", (f"{server}/good/", f"{server}/good/"), tmp_path)
    assert url == f"{server}/good/t10k-labels-idx1-ubyte.gz" and len(calls) == 2
    assert _leftovers(tmp_path) == ["t10k-labels-idx1-ubyte.gz"]


def test_only_failures_reported_when_every_mirror_fails(spec, server, tmp_path, monkeypatch):
    monkeypatch.setattr(dl, "scan_idx", lambda path, ndim=None, name=None: 1 / 0)
    with pytest.raises(DownloadError) as info:
        dl.fetch_file(spec, "t10k-labels-idx1-ubyte.gz", (f"{server}/good/",), tmp_path)
    port = server.rsplit(":", 1)[1]
    assert str(info.value) == ("could not download mnist's t10k-labels-idx1-ubyte.gz from any mirror: "
                               f"127.0.0.1:{port}: ZeroDivisionError: division by zero")
    assert _leftovers(tmp_path) == []


def _part(directory: Path, name: str, age_s: float) -> Path:
    part = directory / f".{name}.{len(list(directory.iterdir()))}x.part"
    part.write_bytes(b"partial")
    mtime = time.time() - age_s
    os.utime(part, (mtime, mtime))
    return part


def test_stale_part_files_are_removed_on_the_next_attempt(spec, server, tmp_path):
    name = "t10k-labels-idx1-ubyte.gz"
    stale = _part(tmp_path, name, dl.STALE_AFTER_S + 5)
    fresh = _part(tmp_path, name, 0)
    other = _part(tmp_path, "t10k-images-idx3-ubyte.gz", dl.STALE_AFTER_S + 5)
    dl.fetch_file(spec, name, (f"{server}/good/",), tmp_path)
    assert not stale.exists() and fresh.exists() and other.exists()
    assert (tmp_path / name).read_bytes() == _Handler.files[name]


def test_a_part_file_another_process_is_writing_is_left_alone(tmp_path):
    name = "t10k-labels-idx1-ubyte.gz"
    live = _part(tmp_path, name, dl.STALE_AFTER_S + 5)
    holder = subprocess.Popen(  # holds the lock as a concurrent download would, until told to stop
        [sys.executable, "-c", "import fcntl, sys; f = open(sys.argv[1], 'rb'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('locked', flush=True); sys.stdin.read()", str(live)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert dl.remove_stale_parts(tmp_path, name) == [] and live.exists()
    finally:
        holder.stdin.close()
        holder.wait(10)
    assert dl.remove_stale_parts(tmp_path, name) == [live] and not live.exists()


def test_download_in_progress_holds_its_lock(spec, server, tmp_path, monkeypatch):
    seen = []
    real_verify = dl._verify

    def verify_and_look(spec_, tmp, filename, digest):
        seen.append(dl.remove_stale_parts(tmp_path, filename, now=time.time() + 10 * dl.STALE_AFTER_S))
        return real_verify(spec_, tmp, filename, digest)

    monkeypatch.setattr(dl, "_verify", verify_and_look)
    dl.fetch_file(spec, "t10k-labels-idx1-ubyte.gz", (f"{server}/good/",), tmp_path)
    assert seen == [[]]  # even "old", our own live .part was not taken for stale


@pytest.mark.parametrize("value, setting", [(0, "deadline=0"), (-1.0, "deadline=-1.0"),
                                            (float("inf"), "deadline=inf"), ("5", "deadline='5'")])
def test_deadline_must_be_positive(value, setting):
    with pytest.raises(DatasetError, match=f"deadline must be a positive number of seconds; received: {setting}"):
        dl.deadline_for(value)


def test_deadline_from_the_environment(monkeypatch):
    monkeypatch.delenv(dl.ENV_DEADLINE, raising=False)
    assert dl.deadline_for() == dl.DEADLINE_S
    monkeypatch.setenv(dl.ENV_DEADLINE, "42")
    assert dl.deadline_for() == 42.0 and dl.deadline_for(3) == 3.0
    monkeypatch.setenv(dl.ENV_DEADLINE, "soon")
    with pytest.raises(DatasetError, match=r"\$FASTACT_DOWNLOAD_DEADLINE must be a positive number of seconds; "
                                           r"received: \$FASTACT_DOWNLOAD_DEADLINE='soon'"):
        dl.deadline_for()


def test_size_caps_cover_the_real_files():
    from fastact.data.registry import PAYLOAD_BYTES, gzip_bound

    spec = DATASETS["mnist"]
    served = {"train-images-idx3-ubyte.gz": 9_912_422, "train-labels-idx1-ubyte.gz": 28_881,  # bytes on the mirrors
              "t10k-images-idx3-ubyte.gz": 1_648_877, "t10k-labels-idx1-ubyte.gz": 4_542}
    for role, name in spec.files.items():
        assert served[name] < spec.size_cap(name) == gzip_bound(PAYLOAD_BYTES[role])
    payload = os.urandom(100_000)  # incompressible: the worst case for the bound
    deflated = len(gzip.compress(payload, compresslevel=9, mtime=0)) - 18  # minus gzip's header and trailer
    assert deflated <= gzip_bound(len(payload)) - (64 << 10)
