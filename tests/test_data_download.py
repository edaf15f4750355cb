"""fastact.data.download against a local HTTP server: verified, atomic, mirror after mirror."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import socket
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
