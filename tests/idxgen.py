"""Synthetic MNIST-format datasets for tests: small, seeded, learnable.

Other test modules (trainer, CLI, TUI) import :func:`write_idx_dataset` to get
a data directory that ``load_dataset(data_dir=...)`` accepts, without network
or the real datasets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fastact.data import FILE_ROLES, write_idx


def make_arrays(n: int, n_classes: int = 10, shape=(28, 28), seed: int = 0, separable: bool = True,
                templates_seed: int = 1234):
    """``(images uint8 (n, *shape), labels uint8 (n,))`` with balanced classes.

    With ``separable`` each class ``c`` has a fixed random on/off template
    ``T_c`` (shared by every call with the same ``templates_seed``, so train
    and test agree) and an image is ``clip(200 * T_c + 30 + N(0, 40))``: a small
    MLP separates the classes within a few epochs. Without it the labels are
    independent of the (pure-noise) images, so nothing can beat chance.
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % n_classes).astype(np.uint8)
    noise = rng.normal(30.0, 40.0, (n, *shape))
    if separable:
        templates = np.random.default_rng(templates_seed).random((n_classes, *shape)) < 0.3
        noise += 200.0 * templates[labels]
    return np.clip(np.rint(noise), 0, 255).astype(np.uint8), labels


def write_idx_dataset(dir, n_train: int = 600, n_test: int = 100, n_classes: int = 10, shape=(28, 28),
                      seed: int = 0, gz: bool = True, separable: bool = True) -> dict[str, Path]:
    """Write the four standard IDX files into ``dir`` (created if needed); return role -> path.

    File names are the standard ones (``train-images-idx3-ubyte.gz`` ...),
    without ``.gz`` when ``gz=False``. Train and test use different noise but
    the same class templates. Output is byte-identical for equal arguments.
    """
    dir = Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    x_train, y_train = make_arrays(n_train, n_classes, shape, seed, separable)
    x_test, y_test = make_arrays(n_test, n_classes, shape, seed + 1, separable)
    arrays = {"train_images": x_train, "train_labels": y_train, "test_images": x_test, "test_labels": y_test}
    paths = {}
    for role, name in FILE_ROLES.items():
        paths[role] = write_idx(dir / (name if gz else name[: -len(".gz")]), arrays[role])
    return paths


def isolate_data_env(monkeypatch, root) -> dict[str, Path]:
    """Point every dataset location at fresh directories under ``root``; return them by role.

    Sets ``XDG_CACHE_HOME`` and ``FASTACT_SYSTEM_DATA_DIR``, clears
    ``FASTACT_DATA_DIR``, ``FASTACT_OFFLINE`` and ``FASTACT_MIRRORS``, so a test
    never sees the machine's real cache, ``/usr/share/datasets`` or network
    settings. The dataset directories themselves are not created.
    """
    root = Path(root)
    dirs = {"cache": root / "xdg-cache", "system": root / "system", "env": root / "env-data"}
    monkeypatch.setenv("XDG_CACHE_HOME", str(dirs["cache"]))
    monkeypatch.setenv("FASTACT_SYSTEM_DATA_DIR", str(dirs["system"]))
    for var in ("FASTACT_DATA_DIR", "FASTACT_OFFLINE", "FASTACT_MIRRORS"):
        monkeypatch.delenv(var, raising=False)
    dirs["cache"] = dirs["cache"] / "fastact"
    return dirs
