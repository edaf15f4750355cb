"""From four raw arrays to a dataset's splits: the checks and conversions every source shares.

IDX files (:func:`~fastact.data.loader.load_dataset`) and in-memory arrays
(:meth:`~fastact.data.dataset.Dataset.from_arrays`, :func:`~fastact.data.npz.load_npz`)
both end here, so they get the same validation split, the same checks and the
same messages; only the names in the messages differ (a file path, or an
argument such as ``y_train``).

Rules:

* **rows**: images and labels of a split have the same count; training has at
  least one row (and so has the test split when it is required).
* **labels** are integers. The class count is the dataset spec's when the data
  is a known dataset (or ``classes`` was given); otherwise ``max label + 1``,
  which must not exceed :data:`MAX_CLASSES` nor the number of training labels.
  A class id larger than the number of training rows means most classes could
  not have a single training example: that label is corrupt, not data, and
  accepting it would size the output layer and every per-class array from one
  bad value. Every label must then lie in ``0 .. n_classes - 1``.
* **features**: train and test rows have the same shape. ``uint8`` values ``p``
  become ``p / 255``; floats are taken as given but must be finite (IDX pixels
  stored as floats must also lie in ``[0, 1]``); other dtypes are refused.
* **memory**: the converted arrays (plus the largest temporary copy) are
  estimated and checked against the budget (:mod:`fastact.resources`) before
  any conversion.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from fastact.data.errors import DatasetError, DatasetMemoryError
from fastact.data.split import check_val_split, stratified_split
from fastact.resources import check_allocation, format_bytes

#: accepted ``dtype`` names -> feature dtype
DTYPES = {"float32": np.float32, "float64": np.float64}
LABEL_DTYPE = np.int64
#: the most classes an inferred class count may have (Kuzushiji-Kanji, the largest
#: MNIST-format dataset, has 3,832)
MAX_CLASSES = 10_000
ROLES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class Names:
    """How messages refer to each role: ``prefix`` leads an error, ``short`` is used inside one.

    For files, ``prefix`` is the full path and ``short`` the file name; for
    arrays both are the argument name (``x_train``). ``rows`` names one row of
    images ("images" or "rows").
    """

    prefix: dict[str, str]
    short: dict[str, str]
    rows: str = "images"
    unit_range: bool = True  # float features must lie in [0, 1] (IDX pixels)

    def error(self, role: str, problem: str) -> DatasetError:
        return DatasetError(f"{self.prefix[role]}: {problem}")


def check_dtype(dtype) -> str:
    """``dtype`` as a key of :data:`DTYPES`; anything else is a :class:`DatasetError`."""
    try:
        key = np.dtype(dtype).name if dtype is not None else None
    except TypeError:
        key = None
    if key not in DTYPES:
        raise DatasetError(f"dtype must be one of {', '.join(DTYPES)}; received: dtype={dtype!r}")
    return key


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise DatasetError(f"seed must be a non-negative integer; received: seed={seed!r}")
    return int(seed)


def check_rows(arrays: dict, names: Names, require_test: bool = True) -> None:
    """Row counts agree per split, splits are non-empty, labels are integers, feature shapes agree."""
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):
            raise names.error(f"{split}_labels", f"holds {len(labels)} labels but "
                              f"{names.short[f'{split}_images']} holds {len(images)} {names.rows}")
        if len(images) == 0 and (split == "train" or require_test):
            raise names.error(f"{split}_images", f"holds 0 {names.rows}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise names.error(f"{split}_labels", f"labels must be integers, {_stores(names)} {labels.dtype}")
    if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:] and len(arrays["test_images"]):
        raise names.error("test_images", f"{names.rows} are {arrays['test_images'].shape[1:]}, "
                          f"training {names.rows} are {arrays['train_images'].shape[1:]}")


def class_count(arrays: dict, names: Names, known: int | None, who: str) -> int:
    """The number of classes (see the module docstring), after checking every label is in range."""
    n_train = len(arrays["train_labels"])
    n_classes = known
    if n_classes is None:
        role, at, top = max(((r, *_argmax(arrays[r])) for r in ("train_labels", "test_labels")
                             if len(arrays[r])), key=lambda t: t[2])
        n_classes = top + 1
        if n_classes > min(MAX_CLASSES, n_train):
            limit = (f"the {n_train} training labels (a class needs room for at least one training example)"
                     if n_train < MAX_CLASSES else f"the cap of {MAX_CLASSES} classes")
            raise names.error(role, f"label {top} at index {at} implies {n_classes} classes, more than {limit}; "
                              "relabel the classes as 0..k-1 (e.g. np.unique(y, return_inverse=True)[1])")
    for role in ("train_labels", "test_labels"):
        labels = arrays[role]
        bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
        if bad.size:
            raise names.error(role, f"label {labels[bad[0]]} at index {bad[0]} is outside "
                              f"0..{n_classes - 1} ({who} has {n_classes} classes)")
    if n_classes < 2:
        raise names.error("train_labels", f"every label is {n_classes - 1}; need at least 2 classes")
    return n_classes


def _argmax(labels: np.ndarray) -> tuple[int, int]:
    at = int(np.argmax(labels))
    return at, int(labels[at])


def check_memory(arrays: dict, dtype: str, what: str) -> None:
    """Refuse, before converting, a dataset whose float copies would not fit the budget."""
    n_rows = len(arrays["train_images"]) + len(arrays["test_images"])
    width = int(np.prod(arrays["train_images"].shape[1:], dtype=object))
    itemsize = np.dtype(DTYPES[dtype]).itemsize
    out = n_rows * width * itemsize + n_rows * np.dtype(LABEL_DTYPE).itemsize
    temporary = len(arrays["train_images"]) * width * arrays["train_images"].dtype.itemsize
    fix = "use dtype='float32'" if dtype == "float64" else None
    check_allocation(f"{n_rows} rows x {width} features as {dtype} (+ a {format_bytes(temporary)} working copy)",
                     out + temporary, setting=what, fix=fix, error=DatasetMemoryError)


def features(images: np.ndarray, names: Names, role: str, dtype: str, rows: np.ndarray | None) -> np.ndarray:
    """Rows ``rows`` (all if None) of ``images`` flattened to ``(n, features)`` in ``dtype`` (module docstring)."""
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        if names.unit_range:
            raise names.error(role, f"pixels must be uint8 (0..255) or float in [0, 1], file stores {images.dtype}")
        raise names.error(role, f"features must be uint8 (scaled by 1/255) or floats, received {images.dtype}; "
                          "convert with x.astype('float32')")
    chosen = images if rows is None else images[rows]
    # Always a fresh copy: the decoded array may be shared through the read cache, or be the caller's.
    flat = chosen.reshape(len(chosen), int(np.prod(images.shape[1:])))
    x = np.array(flat, dtype=DTYPES[dtype], order="C")
    if images.dtype == np.uint8:
        x /= 255
    elif names.unit_range:
        if x.size and not (np.isfinite(x).all() and 0 <= x.min() and x.max() <= 1):
            raise names.error(role, "float pixels must lie in [0, 1]")
    elif x.size and not np.isfinite(x).all():
        bad = np.flatnonzero(~np.isfinite(x.reshape(-1)))[0] // max(x.shape[1], 1)
        raise names.error(role, f"features must be finite: row {rows[bad] if rows is not None else bad} "
                          "holds NaN or infinity")
    return x


def build(arrays: dict, names: Names, *, known_classes: int | None, who: str, val_split: float, seed: int,
          dtype: str, standardize: bool, require_test: bool = True, what: str = "dataset") -> dict:
    """Check ``arrays`` (role -> raw array) and return the split, converted fields of a ``Dataset``.

    The result holds ``x_train, y_train, x_val, y_val, x_test, y_test, n_classes,
    val_split, seed, dtype, standardize, mean, std``; the caller adds the rest.
    """
    val_split, seed, dtype = check_val_split(val_split), check_seed(seed), check_dtype(dtype)
    check_rows(arrays, names, require_test)
    n_classes = class_count(arrays, names, known_classes, who)
    check_memory(arrays, dtype, what)
    train, val = stratified_split(arrays["train_labels"], val_split, seed)
    x_train, x_val, x_test = (features(arrays[r], names, r, dtype, idx) for r, idx in
                              (("train_images", train), ("train_images", val), ("test_images", None)))
    mean = std = None
    if standardize:
        mean, std = float(x_train.mean(dtype=np.float64)), float(x_train.std(dtype=np.float64)) or 1.0
        for x in (x_train, x_val, x_test):
            x -= mean
            x /= std
    y = arrays["train_labels"].astype(LABEL_DTYPE)
    return {"x_train": x_train, "y_train": y[train], "x_val": x_val, "y_val": y[val], "x_test": x_test,
            "y_test": arrays["test_labels"].astype(LABEL_DTYPE), "n_classes": n_classes, "val_split": val_split,
            "seed": seed, "dtype": dtype, "standardize": bool(standardize), "mean": mean, "std": std}


def _stores(names: Names) -> str:
    return "file stores" if names.unit_range else "received"
