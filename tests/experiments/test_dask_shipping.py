"""fastact.experiments.distributed.shipping (no cluster): the probe's verdicts, and a split made
from shipped files is bit for bit, metadata included, the split loaded from the original files."""

from __future__ import annotations

import os
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest

from fastact.experiments.distributed import shipping
from fastact.training import TrainConfig


def same_dataset(a, b) -> None:
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), f.name
        else:
            assert x == y, f.name


@pytest.fixture
def npz(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "blobs.npz"
    np.savez(path, x_train=rng.random((60, 5)), y_train=np.arange(60) % 3, x_test=rng.random((9, 5)),
             y_test=np.arange(9) % 3)
    return str(path)


@pytest.mark.parametrize("kind", ["idx", "npz"])
def test_a_split_of_shipped_files_is_the_original_split(kind, idx_data, npz, tmp_path):
    config = TrainConfig(data_dir=idx_data(120, 30, shape=(5, 5))) if kind == "idx" else TrainConfig(data_file=npz)
    ship = shipping.make_shipment(shipping.load_local(config), config)
    assert ship.kind == kind and len(ship.files) == (4 if kind == "idx" else 1)
    for seed, dtype in ((0, "float32"), (3, "float64")):
        c = replace(config, seed=seed, dtype=dtype, val_split=0.2)
        same_dataset(shipping.load_shipped(ship, c, tmp_path / "worker"), shipping.load_local(c))
    # unpacked once: the second load found the directory the first wrote
    assert [p.name for p in (tmp_path / "worker").iterdir()] == [f"fastact-data-{ship.digest}"]
    local = shipping.local_config(ship, config, tmp_path / "worker")
    assert (local.data_file or local.data_dir).startswith(str(tmp_path / "worker")) and local.validate() is None


def test_the_probe_says_why_a_machine_cannot_load_the_data_itself(idx_data, tmp_path):
    d = idx_data(120, 30, shape=(5, 5))
    config = TrainConfig(data_dir=d)
    mine = shipping.fingerprint(shipping.source_files(shipping.load_local(config), config))
    assert sorted(mine) == ["test_images", "test_labels", "train_images", "train_labels"]
    assert shipping.probe(config, mine) is None
    other = idx_data(130, 30, shape=(5, 5))  # the same file names, other bytes
    files = ", ".join(sorted(str(Path(other) / f) for f in os.listdir(other)))
    assert shipping.probe(TrainConfig(data_dir=other), mine) == f"its files differ from this machine's ({files})"
    missing = str(tmp_path / "nowhere")
    assert shipping.probe(TrainConfig(data_dir=missing), mine) == \
        f"DatasetError: data_dir={missing!r} is not a directory"
