"""``load_dataset``: from a name (or a directory) to ready-to-train arrays.

Pixels ``p`` stored as ``uint8`` become ``x = p / 255`` in ``[0, 1]``; pixels
already stored as floats must lie in ``[0, 1]``. With ``standardize=True``,
``x <- (x - mu) / sigma`` where ``mu, sigma`` are the mean and standard
deviation over *all pixels of the training rows* (after the validation split,
so nothing leaks from validation or test). Images are flattened to
``(n, rows * cols)``, C-contiguous, in ``dtype``; labels are always ``int64``.

The validation rows come from the training file (:mod:`fastact.data.split`);
the test file is only ever returned as ``x_test``/``y_test``. Each file is
parsed once per process: repeated loads reuse the decoded arrays for as long
as the file's size and modification time are unchanged.
"""

from __future__ import annotations

import functools
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fastact.data import checksums
from fastact.data.errors import DatasetError, file_error
from fastact.data.idx import load_idx
from fastact.data.registry import DATASETS, get_spec
from fastact.data.resolve import resolve
from fastact.data.split import check_val_split, stratified_split

#: accepted ``dtype`` names -> pixel dtype
DTYPES = {"float32": np.float32, "float64": np.float64}
LABEL_DTYPE = np.int64


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded dataset: three splits of ``(x, y)`` plus where they came from."""

    name: str
    source: str
    description: str
    checksums: dict[str, str]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    image_shape: tuple[int, int]
    classes: tuple[str, ...]
    val_split: float
    seed: int
    dtype: str
    standardize: bool = False
    mean: float | None = None
    std: float | None = None
    files: dict[str, str] = field(default_factory=dict)

    @property
    def input_dim(self) -> int:
        return self.image_shape[0] * self.image_shape[1]

    def to_config(self) -> dict:
        """JSON-serializable metadata (no arrays), enough to reload the same split."""
        return {
            "name": self.name, "source": self.source, "description": self.description,
            "checksums": dict(self.checksums), "files": dict(self.files),
            "n_classes": self.n_classes, "input_dim": self.input_dim,
            "image_shape": list(self.image_shape), "classes": list(self.classes),
            "n_train": len(self.y_train), "n_val": len(self.y_val), "n_test": len(self.y_test),
            "val_split": self.val_split, "seed": self.seed, "dtype": self.dtype,
            "label_dtype": np.dtype(LABEL_DTYPE).name, "standardize": self.standardize,
            "mean": self.mean, "std": self.std,
        }


def load_dataset(name: str = "auto", data_dir=None, val_split: float = 0.1, seed: int = 0,
                 dtype: str = "float32", standardize: bool = False, download: bool = True,
                 progress: bool = True, mirrors=None) -> Dataset:
    """Load an MNIST-format dataset, split off validation rows, return a :class:`Dataset`.

    Args:
        name: ``"auto"`` (MNIST if on disk or downloadable, else an installed
            fallback such as Debian's Fashion-MNIST) or one of :data:`DATASETS`.
        data_dir: a directory holding the four files (or a ``<name>/``
            subdirectory); it then is the only place looked at.
        val_split: fraction of the training file held out, in ``[0, 1)``.
        seed: seeds the validation split.
        dtype: ``"float32"`` or ``"float64"`` pixels.
        standardize: subtract the training mean, divide by the training std.
        download: allow downloading into the user cache (also ``$FASTACT_OFFLINE``).
        progress: show a progress bar on stderr while downloading.
        mirrors: base URLs to download from instead of the spec's.

    Raises:
        DatasetError: a bad argument, a missing or broken file, or no data.
    """
    if name != "auto":
        get_spec(name)
    val_split = check_val_split(val_split)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise DatasetError(f"seed must be a non-negative integer; received: seed={seed!r}")
    dtype = _check_dtype(dtype)
    where = resolve(name, data_dir, download=download, mirrors=mirrors, progress=progress)
    arrays, digests = {}, {}
    for role, path in where.files.items():
        st = os.stat(path)
        arrays[role], digests[path.name] = _read(str(path), (st.st_ino, st.st_size, st.st_mtime_ns),
                                                 3 if role.endswith("images") else 1)
    name, reason = _identify(where.name, digests, where.reason)
    spec = DATASETS.get(name)
    sums = {f: checksums.status(spec, f, *d) for f, d in digests.items()}
    if sums and spec and checksums.MISMATCH in sums.values():
        reason += f"; checksum mismatch on {list(sums.values()).count(checksums.MISMATCH)} file(s)"
    n_classes = _check_consistent(arrays, where.files, spec)
    train, val = stratified_split(arrays["train_labels"], val_split, seed)
    x_train, x_val, x_test = (_pixels(arrays[r], where.files[r], dtype, idx) for r, idx in
                              (("train_images", train), ("train_images", val), ("test_images", None)))
    mean = std = None
    if standardize:
        mean, std = float(x_train.mean(dtype=np.float64)), float(x_train.std(dtype=np.float64)) or 1.0
        for x in (x_train, x_val, x_test):
            x -= mean
            x /= std
    y = arrays["train_labels"].astype(LABEL_DTYPE)
    return Dataset(
        name=name, source=str(where.directory), description=f"{name} from {where.directory} ({reason})",
        checksums=sums, x_train=x_train, y_train=y[train], x_val=x_val, y_val=y[val],
        x_test=x_test, y_test=arrays["test_labels"].astype(LABEL_DTYPE), n_classes=n_classes,
        image_shape=tuple(arrays["train_images"].shape[1:]),
        classes=spec.classes if spec else tuple(str(c) for c in range(n_classes)),
        val_split=val_split, seed=int(seed), dtype=dtype, standardize=bool(standardize),
        mean=mean, std=std, files={r: str(p) for r, p in where.files.items()})


@functools.lru_cache(maxsize=8)
def _read(path: str, stamp: tuple, ndim: int) -> tuple[np.ndarray, tuple[str, str]]:
    """Decoded array (read-only, shared) and ``(file sha256, payload sha256)``; ``stamp`` (inode, size,
    mtime) keys the cache so a rewritten file is read again."""
    data = load_idx(path, ndim)
    data.array.flags.writeable = False
    return data.array, (data.file_sha256, data.payload_sha256)


def _identify(name: str | None, digests: dict, reason: str) -> tuple[str, str]:
    if name is not None:
        return name, reason
    matches = checksums.matching_specs(DATASETS.values(), digests)
    if matches:
        return matches[0], f"{reason}; checksums match {matches[0]}"
    return "custom", f"{reason}; files match no known dataset"


def _check_consistent(arrays: dict, files: dict, spec) -> int:
    """The number of classes, after checking counts, shapes and label values agree across the files."""
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):
            raise file_error(files[f"{split}_labels"], f"holds {len(labels)} labels but "
                             f"{files[f'{split}_images'].name} holds {len(images)} images")
        if len(images) == 0:
            raise file_error(files[f"{split}_images"], "holds 0 images")
        if not np.issubdtype(labels.dtype, np.integer):
            raise file_error(files[f"{split}_labels"], f"labels must be integers, file stores {labels.dtype}")
    if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
        raise file_error(files["test_images"], f"images are {arrays['test_images'].shape[1:]}, "
                         f"training images are {arrays['train_images'].shape[1:]}")
    n_classes = spec.n_classes if spec else int(max(arrays["train_labels"].max(), arrays["test_labels"].max())) + 1
    for split in ("train", "test"):
        labels = arrays[f"{split}_labels"]
        bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
        if bad.size:
            who = spec.name if spec else "this dataset"
            raise file_error(files[f"{split}_labels"], f"label {labels[bad[0]]} at index {bad[0]} is outside "
                             f"0..{n_classes - 1} ({who} has {n_classes} classes)")
    if n_classes < 2:
        raise file_error(files["train_labels"], f"every label is {n_classes - 1}; need at least 2 classes")
    return n_classes


def _pixels(images: np.ndarray, path: Path, dtype: str, rows: np.ndarray | None) -> np.ndarray:
    """Rows ``rows`` of ``images`` flattened to ``(n, rows*cols)`` in ``dtype``, scaled to [0, 1]."""
    chosen = images if rows is None else images[rows]
    # Always a fresh copy: the decoded array is shared through the read cache.
    flat = chosen.reshape(len(chosen), int(np.prod(images.shape[1:])))
    x = np.array(flat, dtype=DTYPES[dtype], order="C")
    if images.dtype == np.uint8:
        x /= 255
    elif np.issubdtype(images.dtype, np.floating):
        if x.size and not (np.isfinite(x).all() and 0 <= x.min() and x.max() <= 1):
            raise file_error(path, "float pixels must lie in [0, 1]")
    else:
        raise file_error(path, f"pixels must be uint8 (0..255) or float in [0, 1], file stores {images.dtype}")
    return x


def _check_dtype(dtype) -> str:
    try:
        key = np.dtype(dtype).name if dtype is not None else None
    except TypeError:
        key = None
    if key not in DTYPES:
        raise DatasetError(f"dtype must be one of {', '.join(DTYPES)}; received: dtype={dtype!r}")
    return key
