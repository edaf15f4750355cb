"""A study's data on Dask workers: each loads it itself when it can, else the client ships the
files once.

A *source* is what names the files, ``(dataset, data_dir, data_file)`` of a point's config; the
split (``val_split``, ``seed``) and ``dtype`` are made on the worker from those files, by the same
loader as here, so a worker's split is the client's bit for bit.

`probe` runs on every worker before the points: it loads the source as the config names it,
downloading nothing, and hashes the files it read (SHA-256 of each file's bytes, `fingerprint`).
When every worker read the client's bytes, the workers load the data themselves and nothing is
shipped. Otherwise (a path that does not exist there, other files, nothing on disk) the client
reads the files once (`make_shipment`) and scatters them to every worker; a worker writes them
into its own local directory once and loads them from there (`load_shipped`), keeping the
client's name, paths and description in the dataset's metadata so that the run's
``config.json`` (and the data identity a study checks) reads as it would for a serial run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from fastact.data import load_dataset, load_npz
from fastact.training import TrainConfig


def source_key(config: TrainConfig) -> tuple:
    """Configs with the same key read the same files (their splits and dtypes may differ)."""
    return (config.dataset, config.data_dir, config.data_file)


def load_local(config: TrainConfig):
    """`fastact.training.load_for`, but never downloading: only what is on this machine."""
    if config.data_file is not None:
        return load_npz(config.data_file, val_split=config.val_split, seed=config.seed, dtype=config.dtype)
    return load_dataset(config.dataset, config.data_dir, config.val_split, config.seed, config.dtype,
                        download=False, progress=False)


def source_files(ds, config: TrainConfig) -> dict[str, str]:
    """role -> path of the files a loaded dataset was read from (``npz`` for a data file)."""
    return {"npz": str(config.data_file)} if config.data_file is not None else dict(ds.files)


def fingerprint(files: dict[str, str]) -> dict[str, str]:
    """role -> SHA-256 of the file's bytes (as stored: a ``.gz`` is hashed compressed)."""
    out = {}
    for role, path in files.items():
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        out[role] = h.hexdigest()
    return out


def probe(config: TrainConfig, expected: dict[str, str]) -> str | None:
    """None when this machine holds the client's files for ``config``, else why not (one line)."""
    try:
        ds = load_local(config)
    except Exception as exc:  # noqa: BLE001 (any reason it cannot load is a reason to ship)
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    got = fingerprint(source_files(ds, config))
    if got != expected:
        return f"its files differ from this machine's ({', '.join(sorted(source_files(ds, config).values()))})"
    return None


@dataclass(frozen=True)
class Shipment:
    """The files of one source and the client's metadata of the dataset they make."""

    digest: str  # of every file's hash: names the worker's copy
    files: dict[str, bytes]  # file name -> bytes
    kind: str  # "idx" (four files) or "npz"
    meta: dict  # name, source, description, files (role -> the client's paths)

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.files.values())


def make_shipment(ds, config: TrainConfig) -> Shipment:
    """Read the files ``ds`` (loaded here for ``config``) came from."""
    paths = source_files(ds, config)
    files = {Path(p).name: Path(p).read_bytes() for p in paths.values()}
    digest = hashlib.sha256("".join(sorted(fingerprint(paths).values())).encode()).hexdigest()[:16]
    meta = {"name": ds.name, "source": ds.source, "description": ds.description, "files": dict(ds.files)}
    return Shipment(digest, files, "npz" if config.data_file is not None else "idx", meta)


def unpack(shipment: Shipment, root) -> Path:
    """The shipment's files under ``root/<digest>/`` (written once; a later call finds them)."""
    d = Path(root) / f"fastact-data-{shipment.digest}"
    if not d.is_dir():
        tmp = Path(root) / f".fastact-data-{shipment.digest}-{os.getpid()}-{threading.get_ident()}"
        tmp.mkdir(parents=True, exist_ok=True)
        for name, data in shipment.files.items():
            (tmp / name).write_bytes(data)
        try:
            os.replace(tmp, d)
        except OSError:
            if not d.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another thread of this worker unpacked it first
    return d


def local_config(shipment: Shipment, config: TrainConfig, root) -> TrainConfig:
    """``config`` reading the shipment's files, unpacked under ``root`` (the settings' data paths
    must exist where the point trains)."""
    d = unpack(shipment, root)
    if shipment.kind == "npz":
        return replace(config, data_file=str(d / next(iter(shipment.files))))
    return replace(config, data_dir=str(d), data_file=None)


def load_shipped(shipment: Shipment, config: TrainConfig, root):
    """The split ``config`` needs, made from the shipped files, with the client's metadata."""
    ds = load_local(local_config(shipment, config, root))
    m = shipment.meta
    return replace(ds, name=m["name"], source=m["source"], description=m["description"], files=dict(m["files"]))
