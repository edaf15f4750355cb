"""fastact.data.stream: the payload in pieces equals gzip's whole-file answer, digests equal hashlib's."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fastact.data import DatasetError
from fastact.data.stream import CHUNK, GZIP_MAX_RATIO, PayloadStream


def _pieces(stream: PayloadStream, sizes) -> bytes:
    out = []
    for i, n in enumerate(sizes):
        if i % 2:
            buf = bytearray(n)
            got = stream.readinto(memoryview(buf))
            out.append(bytes(buf[:got]))
        else:
            out.append(stream.read(n))
    return b"".join(out) + stream.read(10**9)


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(max_size=3000), members=st.integers(1, 3), compress=st.booleans(),
       sizes=st.lists(st.integers(1, 700), max_size=8))
def test_pieces_reassemble_the_payload_and_digests_match(tmp_path_factory, payload, members, compress, sizes):
    assume(compress or not payload.startswith(b"\x1f\x8b"))  # that raw content is taken for gzip, by design
    path = tmp_path_factory.mktemp("s") / "f"
    if compress:
        cut = [len(payload) * i // members for i in range(members + 1)]
        data = b"".join(gzip.compress(payload[a:b], mtime=0) for a, b in zip(cut, cut[1:]))
    else:
        data = payload
    path.write_bytes(data)
    if not data:
        with pytest.raises(DatasetError, match="file is empty"):
            PayloadStream(path)
        return
    with PayloadStream(path) as stream:
        assert stream.compressed == compress
        assert _pieces(stream, sizes) == payload
        assert stream.digests() == (hashlib.sha256(data).hexdigest(), hashlib.sha256(payload).hexdigest())


def test_read_spanning_many_chunks(tmp_path):
    payload = os.urandom(3 * CHUNK + 17)
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(payload, mtime=0))
    with PayloadStream(path) as stream:
        assert stream.read(2 * CHUNK + 5) == payload[: 2 * CHUNK + 5]
        assert stream.drain() == CHUNK + 12


def test_decompression_never_runs_ahead_of_the_reader(tmp_path):
    path = tmp_path / "zeros.gz"  # 256 MiB of zeros in about 256 KiB
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    path.write_bytes(b"".join(c.compress(bytes(CHUNK)) for _ in range(256)) + c.flush())
    with PayloadStream(path) as stream:
        assert stream.read(10) == bytes(10)
        assert stream._inflate.unconsumed_tail  # most of the input still waits: nothing ran ahead
    assert stream.max_payload() == path.stat().st_size * GZIP_MAX_RATIO


@pytest.mark.parametrize("tail, problem", [(b"garbage", "trailing garbage after the gzip stream"),
                                           (b"\x1f\x8b\x08", "gzip stream is truncated")])
def test_what_follows_a_member(tmp_path, tail, problem):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"abc", mtime=0) + tail)
    with PayloadStream(path) as stream, pytest.raises(DatasetError, match=problem):
        stream.read(100)
