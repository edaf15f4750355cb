"""SHA-256 bookkeeping: what a file's digest says about whose data it is.

A file is ``"ok"`` when its digest, or the digest of its decompressed IDX
payload, is one the dataset spec lists for it; ``"mismatch"`` when the spec
lists digests and none agree; ``"unverified"`` when there is nothing to
compare against (no spec, or the spec's digest is unknown).

Digests are computed while streaming (:func:`sha256_file`, and
:class:`~fastact.data.stream.PayloadStream` for the payload), never from a
whole file held in memory.
"""

from __future__ import annotations

import hashlib
import os

from fastact.data.registry import DatasetSpec

OK, MISMATCH, UNVERIFIED = "ok", "mismatch", "unverified"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of the file ``path``, read in chunks (never the whole file in memory)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def status(spec: DatasetSpec | None, filename: str, *digests: str) -> str:
    """``"ok"`` / ``"mismatch"`` / ``"unverified"`` for a file whose digests (file, payload) are ``digests``."""
    known = spec.digests(filename) if spec is not None else set()
    if not known:
        return UNVERIFIED
    return OK if known.intersection(digests) else MISMATCH


def matching_specs(specs, digests_by_file: dict[str, tuple[str, ...]]) -> list[str]:
    """Names of the specs for which every file in ``digests_by_file`` is ``"ok"``."""
    return [s.name for s in specs
            if all(status(s, f, *d) == OK for f, d in digests_by_file.items())]
