"""Carving a validation set out of the training set: seeded, stratified, disjoint.

For ``n`` labels and fraction ``f`` the validation set has ``round(f * n)``
rows, shared among the classes by the largest-remainder rule, so class ``c``
with ``n_c`` rows gets ``floor(f * n_c)`` or ``ceil(f * n_c)`` of them (but
never all of a class: at least one row stays in training). Which rows is
decided by ``numpy.random.default_rng(seed)``, one permutation per class in
ascending class order, so the split depends only on ``(labels, f, seed)``.

Example::

    >>> import numpy as np
    >>> y = np.repeat(np.arange(3), 10)
    >>> train, val = stratified_split(y, 0.2, seed=0)
    >>> len(train), len(val), np.bincount(y[val]).tolist()
    (24, 6, [2, 2, 2])
"""

from __future__ import annotations

import numbers

import numpy as np

from fastact.data.errors import DatasetError


def check_val_split(val_split) -> float:
    """``val_split`` as a float; anything outside ``[0, 1)`` is a :class:`DatasetError`."""
    if isinstance(val_split, bool) or not isinstance(val_split, numbers.Real) or not 0 <= val_split < 1:
        raise DatasetError(f"val_split must be a number in [0, 1), e.g. 0.1; received: val_split={val_split!r}")
    return float(val_split)


def stratified_split(labels: np.ndarray, val_split: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sorted int64 row indices ``(train, val)`` partitioning ``range(len(labels))`` (see module docstring)."""
    f = check_val_split(val_split)
    labels = np.asarray(labels)
    _, counts = np.unique(labels, return_counts=True)
    per_class = _apportion(counts, round(f * labels.size) if f else 0)
    rng = np.random.default_rng(seed)
    # Rows of each class in ascending order, for all classes in one stable sort (not one scan per class,
    # which costs n * n_classes).
    by_class = np.split(np.argsort(labels, kind="stable"), np.cumsum(counts)[:-1])
    val = [rng.permutation(rows)[:k] for rows, k in zip(by_class, per_class, strict=True)]
    val_idx = np.sort(np.concatenate(val)) if val else np.empty(0, np.int64)
    mask = np.ones(labels.size, bool)
    mask[val_idx] = False
    return np.flatnonzero(mask).astype(np.int64), val_idx.astype(np.int64)


def _apportion(counts: np.ndarray, total: int) -> list[int]:
    if total == 0 or counts.size == 0:
        return [0] * counts.size
    exact = counts * (total / counts.sum())
    share = np.floor(exact).astype(np.int64)
    # Largest remainder: the classes cheated most by flooring get the leftover rows.
    order = np.argsort(-(exact - share), kind="stable")
    share[order[: total - int(share.sum())]] += 1
    return [min(int(k), max(int(n) - 1, 0)) for k, n in zip(share, counts)]


def class_counts(labels: np.ndarray, n_classes: int) -> list[int]:
    """Rows per class ``0 .. n_classes-1``."""
    return np.bincount(np.asarray(labels, np.int64), minlength=n_classes).tolist()
