"""Hostile input, each case in a sandboxed child (tests/sandbox.py): bombs, lying headers, bad servers.

The corpus is generated at test time: gzip bombs (a few MB that expand to
8 GiB), IDX headers that claim sizes their files cannot hold, a labels file
with one huge label, and misbehaving HTTP servers on 127.0.0.1 (trickling,
stalling, endless, oversized). Every case runs under a 1 GiB address-space
limit, a 256 MiB file-size limit and a wall-clock limit, so a regression (say,
decompressing the bomb whole) ends the child with a MemoryError or a signal
and fails the test; each test asserts the specific one-line error.

Nothing here depends on timing: servers that trickle or stall do so until
the client gives up or the test ends, never for a tuned duration.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import ssl
import struct
import subprocess
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

from fastact.data import write_idx
from fastact.resources import format_bytes

from idxgen import write_idx_dataset
from sandbox import run_limited

TIMEOUT_S = 60.0
_VERDICT = """
import json as _json
from fastact.data import DatasetError as _DatasetError
try:
    _out = run(P)
except _DatasetError as _exc:
    print(_json.dumps({"error": type(_exc).__name__, "message": str(_exc)}))
else:
    print(_json.dumps({"ok": _out}))
"""


def _child(tmp_path: Path, body: str, params: dict, env: dict | None = None) -> dict:
    """Run ``body`` (defining ``run(P)``) sandboxed; return its verdict, failing with the child's report."""
    base_env = {"FASTACT_MEMORY_BUDGET": None, "FASTACT_MIRRORS": None, "FASTACT_DATA_DIR": None,
                "FASTACT_DOWNLOAD_DEADLINE": None, "FASTACT_OFFLINE": "1",
                "XDG_CACHE_HOME": str(tmp_path / "cache"), "FASTACT_SYSTEM_DATA_DIR": str(tmp_path / "system")}
    code = f"import json\nP = json.loads({json.dumps(params)!r})\n{body}\n{_VERDICT}"
    result = run_limited(code, timeout_s=TIMEOUT_S, env={**base_env, **(env or {})})
    assert result.ok, result.describe()
    try:
        verdict = json.loads(result.last_line())
    except json.JSONDecodeError:
        pytest.fail(f"no verdict line\n{result.describe()}")
    if "message" in verdict:
        assert "\n" not in verdict["message"], f"error is not one line: {verdict['message']!r}"
    return verdict


READ_IDX = """
from fastact.data import read_idx
def run(P):
    return list(read_idx(P["path"]).shape)
"""


def _header(code: int, shape) -> bytes:
    return bytes([0, 0, code, len(shape)]) + b"".join(int(s).to_bytes(4, "big") for s in shape)


def gzip_bomb(path: Path, header: bytes, n_chunks: int, chunk: int = 8 << 20, members: int = 1) -> Path:
    """``header`` followed by ``n_chunks * chunk`` zero bytes, gzipped in ``members`` members.

    Built without compressing gigabytes: after a full flush deflate restarts, so
    the compressed form of one zero chunk can be repeated. The trailer's CRC and
    length are left zero: a reader that stops at the declared size never gets
    there, and one that does not has already failed the test.
    """
    def member(prefix: bytes, chunks: int) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        first = c.compress(prefix) + c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
        repeat = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
        return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first + repeat * (chunks - 1) + c.flush()
                + struct.pack("<II", 0, 0))

    per_member = n_chunks // members
    body = member(header, per_member) + b"".join(member(b"", per_member) for _ in range(members - 1))
    path.write_bytes(body)
    return path


# -- files that claim or expand to huge sizes --------------------------------------------------

@pytest.mark.parametrize("members", [1, 16])
def test_gzip_bomb_stops_at_the_declared_size(tmp_path, members):
    bomb = gzip_bomb(tmp_path / "bomb-idx1-ubyte.gz", _header(0x08, [100]), n_chunks=1024, members=members)
    assert bomb.stat().st_size < 16 << 20  # 8 GiB of payload in a few MB
    verdict = _child(tmp_path, READ_IDX, {"path": str(bomb)})
    assert verdict["error"] == "DatasetError"
    assert verdict["message"] == (f"{bomb}: unexpected trailing bytes after the (100,) array: the payload is "
                                  "longer than the 108 bytes its header declares")


def test_gzip_bomb_declaring_its_true_size_is_refused_by_the_budget(tmp_path):
    shape = [1 << 16, 1 << 17]  # 8 GiB, and the bomb really expands that far
    bomb = gzip_bomb(tmp_path / "huge-idx2-ubyte.gz", _header(0x08, shape), n_chunks=1024)
    verdict = _child(tmp_path, READ_IDX, {"path": str(bomb)})
    assert verdict["error"] == "DatasetMemoryError"
    message = verdict["message"]
    assert message.startswith(f"{bomb}: the uint8 (65536, 131072) array its header declares needs an estimated "
                              "8.00 GiB, more than the memory budget of ")
    assert "left under the address-space limit (ulimit -v)" in message
    assert message.endswith("raise the budget with --memory-budget SIZE or FASTACT_MEMORY_BUDGET=SIZE "
                            "(e.g. 16G, or 90%)")


def test_allocation_the_budget_allows_but_the_system_refuses_is_one_line(tmp_path):
    shape = [1 << 15, 1 << 16]  # 2 GiB under a 1 GiB address-space limit, budget lifted
    bomb = gzip_bomb(tmp_path / "big-idx2-ubyte.gz", _header(0x08, shape), n_chunks=256)
    verdict = _child(tmp_path, READ_IDX, {"path": str(bomb)}, env={"FASTACT_MEMORY_BUDGET": "1P"})
    assert verdict["error"] == "DatasetMemoryError"
    assert verdict["message"].startswith(f"{bomb}: out of memory allocating 2.00 GiB for the uint8 (32768, 65536) "
                                         "array (")


@pytest.mark.parametrize("gz", [False, True])
def test_header_claiming_more_than_the_file_can_hold(tmp_path, gz):
    shape = [4_000_000_000, 28, 28]
    path = tmp_path / "liar-idx3-ubyte"
    payload = _header(0x08, shape) + bytes(784)
    path.write_bytes(zlib.compress(payload, wbits=31) if gz else payload)
    verdict = _child(tmp_path, READ_IDX, {"path": str(path)}, env={"FASTACT_MEMORY_BUDGET": "1P"})
    assert verdict["error"] == "DatasetError"
    declared = 4_000_000_000 * 784
    if gz:
        size = path.stat().st_size
        assert verdict["message"] == (
            f"{path}: header declares uint8 (4000000000, 28, 28) = 2.85 TiB of data, but a {size}-byte gzip file "
            f"can hold at most {format_bytes(size * 1032)} (deflate expands at most 1032:1): the header is "
            "corrupt or the file was cut off")
    else:
        assert verdict["message"] == (f"{path}: truncated: header declares uint8 (4000000000, 28, 28) = "
                                      f"{declared} data bytes, file holds 784")


def test_oversized_raw_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "padded-idx1-ubyte"
    path.write_bytes(_header(0x08, [10]) + bytes(10))
    with open(path, "r+b") as f:
        f.truncate(3 << 30)  # sparse: 3 GiB of trailing zeros that take no disk
    verdict = _child(tmp_path, READ_IDX, {"path": str(path)})
    assert verdict["message"] == f"{path}: {(3 << 30) - 18} unexpected trailing bytes after the (10,) array"


def test_truncated_gzip_of_a_large_array(tmp_path):
    full = zlib.compress(_header(0x08, [50_000]) + os.urandom(50_000), wbits=31)
    path = tmp_path / "cut-idx1-ubyte.gz"
    path.write_bytes(full[: len(full) // 3])
    verdict = _child(tmp_path, READ_IDX, {"path": str(path)})
    assert verdict["message"] == f"{path}: gzip stream is truncated (the file was cut off)"


LOAD_DIR = """
from fastact.data import load_dataset
def run(P):
    ds = load_dataset(data_dir=P["dir"], download=False, progress=False)
    return [ds.n_classes, len(ds.classes)]
"""


@pytest.mark.parametrize("where", ["train", "t10k"])
def test_one_huge_label_does_not_set_the_class_count(tmp_path, where):
    paths = write_idx_dataset(tmp_path / "d", n_train=60, n_test=20, shape=(4, 4))
    labels_path = tmp_path / "d" / f"{where}-labels-idx1-ubyte.gz"
    labels = np.arange(60 if where == "train" else 20, dtype=np.int32) % 10
    labels[7] = 2**31 - 1
    write_idx(labels_path, labels)
    assert paths  # the other three files stay valid
    verdict = _child(tmp_path, LOAD_DIR, {"dir": str(tmp_path / "d")})
    assert verdict["error"] == "DatasetError"
    assert verdict["message"] == (
        f"{labels_path}: label 2147483647 at index 7 implies 2147483648 classes, more than the 60 training labels "
        "(a class needs room for at least one training example); relabel the classes as 0..k-1 "
        "(e.g. np.unique(y, return_inverse=True)[1])")


# -- misbehaving servers --------------------------------------------------------------------------

class _Hostile(http.server.BaseHTTPRequestHandler):
    """``GET /<mode>/<file>``. Every mode runs until the client hangs up or the test ends (``stop``)."""

    files: dict[str, bytes] = {}
    bomb = b""
    stop = threading.Event()
    protocol_version = "HTTP/1.0"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        mode, _, name = self.path.strip("/").partition("/")
        data = self.files.get(name, b"")
        try:
            getattr(self, f"_{mode}")(data)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up: that is what these modes are for

    def _head(self, length: int | None):
        self.send_response(200)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()

    def _good(self, data):
        self._head(len(data))
        self.wfile.write(data)

    def _trickle(self, data):  # honest length, one byte at a time, forever slower than any deadline
        self._head(len(data))
        for byte in data:
            if self.stop.wait(0.05):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def _trickle_headers(self, data):  # a status line, then one header byte at a time
        self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
        while not self.stop.wait(0.05):
            self.wfile.write(b"a")
            self.wfile.flush()

    def _stall(self, data):  # headers, then silence
        self._head(len(data))
        self.stop.wait()

    def _endless(self, data):  # no length, zeros forever
        self._head(None)
        zeros = bytes(1 << 16)
        while not self.stop.is_set():
            self.wfile.write(zeros)

    def _huge_length(self, data):  # announces 5 GB
        self._head(5_000_000_000)
        self.wfile.write(data)

    def _long_length(self, data):  # announces more than it sends, then hangs up
        self._head(len(data) + 1000)
        self.wfile.write(data)

    def _bomb(self, data):  # a small .gz whose IDX payload runs on for 8 GiB past its header's size
        self._good(self.bomb)

    def _short_length(self, data):  # announces less than it sends
        self._head(len(data) // 2)
        self.wfile.write(data)

    def _extra(self, data):  # the right length, then garbage past it
        self._head(len(data))
        self.wfile.write(data + bytes(1 << 20))

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    src = tmp_path_factory.mktemp("served")
    paths = write_idx_dataset(src, n_train=60, n_test=20, shape=(4, 4))
    _Hostile.files = {p.name: p.read_bytes() for p in paths.values()}
    _Hostile.bomb = gzip_bomb(src / "bomb.gz", _header(0x08, [60, 4, 4]), n_chunks=1024).read_bytes()
    _Hostile.stop.clear()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    _Hostile.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


FETCH = """
import dataclasses
from pathlib import Path
from fastact.data import DATASETS, DownloadError
from fastact.data import download as dl
def run(P):
    spec = dataclasses.replace(DATASETS["mnist"], sha256=P["sha256"], alt_sha256={}, mirrors=(),
                               max_bytes={f: P["cap"] for f in P["sha256"]})
    dest = Path(P["dest"])
    dest.mkdir(parents=True, exist_ok=True)
    url = dl.fetch_file(spec, P["file"], tuple(P["mirrors"]), dest, timeout=P["timeout"], deadline=P["deadline"])
    assert (dest / P["file"]).read_bytes() == Path(P["expect"]).read_bytes()
    leftovers = sorted(p.name for p in dest.iterdir())
    return [url, leftovers]
"""
FILE = "train-images-idx3-ubyte.gz"


def _fetch(tmp_path, server, modes, cap=1 << 20, timeout=0.5, deadline=1.0, env=None, verified=True) -> dict:
    expect = tmp_path / "expected.gz"
    expect.write_bytes(_Hostile.files[FILE])
    sha = {name: hashlib.sha256(data).hexdigest() if verified else None for name, data in _Hostile.files.items()}
    params = {"sha256": sha, "cap": cap, "dest": str(tmp_path / "dest"), "file": FILE, "expect": str(expect),
              "mirrors": [f"{server}/{m}/" for m in modes], "timeout": timeout, "deadline": deadline}
    return _child(tmp_path, FETCH, params, env)


def _mirror_error(server, mode, reason) -> str:
    return f"could not download mnist's {FILE} from any mirror: 127.0.0.1:{server.rsplit(':', 1)[1]}: {reason}"


@pytest.mark.parametrize("mode", ["trickle", "trickle_headers"])
def test_trickling_server_fails_at_the_deadline(tmp_path, hostile_server, mode):
    verdict = _fetch(tmp_path, hostile_server, [mode])
    assert verdict["error"] == "DownloadError"
    of = f" of {len(_Hostile.files[FILE])}" if mode == "trickle" else ""
    expected = _mirror_error(hostile_server, mode, "did not finish within the 1 s deadline (")
    assert verdict["message"].startswith(expected)
    assert verdict["message"].endswith(f"{of} bytes received); on a slow link allow more with "
                                       "FASTACT_DOWNLOAD_DEADLINE=SECONDS")


def test_stalled_server_times_out(tmp_path, hostile_server):
    verdict = _fetch(tmp_path, hostile_server, ["stall"], deadline=60.0)
    assert verdict["message"] == _mirror_error(hostile_server, "stall", "timed out")


def test_endless_body_stops_at_the_cap(tmp_path, hostile_server):
    verdict = _fetch(tmp_path, hostile_server, ["endless"], deadline=60.0)
    assert verdict["message"] == _mirror_error(
        hostile_server, "endless", f"the server sent more than the 1.00 MiB {FILE} can be (stopped at 1.00 MiB)")


def test_announced_length_over_the_cap_is_refused_before_downloading(tmp_path, hostile_server):
    verdict = _fetch(tmp_path, hostile_server, ["huge_length"])
    assert verdict["message"] == _mirror_error(
        hostile_server, "huge_length",
        f"the server announces 4.66 GiB (5000000000 bytes), more than the 1.00 MiB {FILE} can be")


def test_short_content_length_fails_the_checksum(tmp_path, hostile_server):
    verdict = _fetch(tmp_path, hostile_server, ["short_length"])
    assert verdict["error"] == "DownloadError"
    assert verdict["message"].startswith(_mirror_error(hostile_server, "short_length", "checksum mismatch: sha256 "))


def test_content_length_longer_than_the_body(tmp_path, hostile_server):
    n = len(_Hostile.files[FILE])
    verdict = _fetch(tmp_path, hostile_server, ["long_length"])
    assert verdict["message"] == _mirror_error(hostile_server, "long_length",
                                               f"transfer cut off after {n} of {n + 1000} bytes")


def test_served_gzip_bomb_is_verified_by_streaming(tmp_path, hostile_server):
    verdict = _fetch(tmp_path, hostile_server, ["bomb"], cap=16 << 20, verified=False, deadline=60.0)
    assert verdict["message"] == _mirror_error(hostile_server, "bomb", f"{FILE}: unexpected trailing bytes after "
                                               "the (60, 4, 4) array: the payload is longer than the 976 bytes "
                                               "its header declares")


def test_bytes_past_content_length_are_never_read(tmp_path, hostile_server):
    verdict = _fetch(tmp_path, hostile_server, ["extra"])
    assert verdict["ok"] == [f"{hostile_server}/extra/{FILE}", [FILE]]


def test_every_failure_moves_on_to_the_next_mirror(tmp_path, hostile_server):
    modes = ["trickle", "stall", "endless", "huge_length", "short_length", "good"]
    verdict = _fetch(tmp_path, hostile_server, modes, timeout=0.5, deadline=1.0)
    assert verdict["ok"] == [f"{hostile_server}/good/{FILE}", [FILE]]



# -- the same over TLS: real mirrors are https, and the deadline must cut a TLS read too -----------

@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, hostile_server):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", cert
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_https_download_verifies_and_completes(tmp_path, tls_server):
    server, cert = tls_server
    verdict = _fetch(tmp_path, server, ["good"], env={"SSL_CERT_FILE": str(cert)})
    assert verdict["ok"] == [f"{server}/good/{FILE}", [FILE]]


def test_https_trickle_fails_at_the_deadline(tmp_path, tls_server):
    server, cert = tls_server
    verdict = _fetch(tmp_path, server, ["trickle"], env={"SSL_CERT_FILE": str(cert)})
    assert verdict["message"].startswith(_mirror_error(server, "trickle", "did not finish within the 1 s deadline ("))
