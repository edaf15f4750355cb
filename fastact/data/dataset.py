"""``Dataset``: three splits of ``(x, y)`` ready to train on, plus where they came from.

Every ``x`` is ``(n, input_dim)``, C-contiguous, float32 or float64; every ``y``
is ``int64`` class indices in ``0 .. n_classes - 1``. ``input_dim`` is the
width of the arrays themselves, so it holds for any feature count;
``image_shape`` is ``(rows, cols)`` when the rows are flattened images and
``None`` when they are plain feature vectors.

Build one from IDX files with :func:`~fastact.data.loader.load_dataset`, from
an ``.npz`` with :func:`~fastact.data.npz.load_npz`, or from arrays::

    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((100, 3))
    >>> ds = Dataset.from_arrays(x, np.arange(100) % 2)
    >>> ds.input_dim, ds.n_classes, len(ds.y_train), len(ds.y_val), len(ds.y_test)
    (3, 2, 90, 10, 0)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from fastact.data.assemble import LABEL_DTYPE, Names, build
from fastact.data.errors import DatasetError

_ARGS = {"train_images": "x_train", "train_labels": "y_train", "test_images": "x_test", "test_labels": "y_test"}


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded dataset: three splits of ``(x, y)`` plus where they came from (module docstring)."""

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
    image_shape: tuple[int, ...] | None
    classes: tuple[str, ...]
    val_split: float
    seed: int
    dtype: str
    standardize: bool = False
    mean: float | None = None
    std: float | None = None
    files: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        xs = {"x_train": self.x_train, "x_val": self.x_val, "x_test": self.x_test}
        if any(np.ndim(x) != 2 for x in xs.values()) or len({x.shape[1] for x in xs.values()}) != 1:
            shapes = ", ".join(f"{k}={np.shape(x)}" for k, x in xs.items())
            raise DatasetError(f"Dataset arrays must be 2-D (n, features) of one width; received: {shapes}")
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if np.ndim(y) != 1 or len(y) != len(x):
                raise DatasetError(f"Dataset y_{split} must be 1-D with one label per row of x_{split}; "
                                   f"received: y_{split}.shape={np.shape(y)}, x_{split}.shape={x.shape}")
        if self.image_shape is not None and int(np.prod(self.image_shape)) != self.input_dim:
            raise DatasetError(f"Dataset image_shape={self.image_shape} does not flatten to the "
                               f"{self.input_dim} features of x_train")

    @property
    def input_dim(self) -> int:
        """Features per row: the width of ``x_train``."""
        return int(self.x_train.shape[1])

    def to_config(self) -> dict:
        """JSON-serializable metadata (no arrays), enough to reload the same split."""
        return {
            "name": self.name, "source": self.source, "description": self.description,
            "checksums": dict(self.checksums), "files": dict(self.files),
            "n_classes": self.n_classes, "input_dim": self.input_dim,
            "image_shape": list(self.image_shape) if self.image_shape is not None else None,
            "classes": list(self.classes),
            "n_train": len(self.y_train), "n_val": len(self.y_val), "n_test": len(self.y_test),
            "val_split": self.val_split, "seed": self.seed, "dtype": self.dtype,
            "label_dtype": np.dtype(LABEL_DTYPE).name, "standardize": self.standardize,
            "mean": self.mean, "std": self.std,
        }

    @classmethod
    def from_arrays(cls, x_train, y_train, x_test=None, y_test=None, *, val_split: float = 0.1, seed: int = 0,
                    dtype: str = "float32", standardize: bool = False, name: str = "arrays",
                    classes=None) -> Dataset:
        """A :class:`Dataset` from in-memory arrays, split and checked exactly like IDX data.

        Args:
            x_train: ``(n, features)`` feature rows, or ``(n, rows, cols)`` images
                (flattened; ``image_shape`` records ``(rows, cols)``). ``uint8``
                is scaled by 1/255 as IDX pixels are; floats are taken as given
                and must be finite; other dtypes are refused.
            y_train: ``(n,)`` integer class indices.
            x_test, y_test: the test split, both or neither. Neither gives an
                *empty* test split, as Keras's ``fit(x, y, validation_split=...)``
                never touches test data: nothing is held out silently, and the
                trainer reports test metrics as NaN.
            val_split: fraction of the training rows held out for validation,
                stratified by class and seeded by ``seed``
                (:func:`~fastact.data.split.stratified_split`, as for IDX files).
            dtype: ``"float32"`` or ``"float64"``.
            standardize: subtract the training mean, divide by the training std.
            name: the dataset's name in descriptions and run files.
            classes: the class names (a sequence), or their count (an int);
                default: ``max label + 1`` classes named ``"0"``, ``"1"``, ...,
                capped as :mod:`fastact.data.assemble` describes.

        Raises:
            DatasetError: the message names the argument and the broken fact
                (shapes, label dtype or range, empty split, non-finite values);
                a :class:`~fastact.data.errors.DatasetMemoryError` when the
                converted arrays would not fit the memory budget.
        """
        return arrays_dataset(cls, {"train_images": x_train, "train_labels": y_train, "test_images": x_test,
                                    "test_labels": y_test}, dict(_ARGS), val_split=val_split, seed=seed,
                              dtype=dtype, standardize=standardize, name=name, classes=classes,
                              source="arrays", setting=f"Dataset.from_arrays(name={name!r})")


def arrays_dataset(cls, given: dict, labels: dict[str, str], *, val_split, seed, dtype, standardize, name,
                   classes, source: str, setting: str) -> Dataset:
    """:meth:`Dataset.from_arrays` with the names messages use: ``labels`` for each role (``x_train`` ...),
    ``setting`` for the whole (leads a memory-budget refusal); ``source`` becomes ``Dataset.source``."""
    if not isinstance(name, str) or not name:
        raise DatasetError(f"name must be a non-empty string; received: name={name!r}")
    if (given["test_images"] is None) != (given["test_labels"] is None):
        present = "test_images" if given["test_images"] is not None else "test_labels"
        raise DatasetError(f"{labels['test_images']} and {labels['test_labels']} go together; "
                           f"received only {labels[present]}")
    has_test = given["test_images"] is not None
    arrays = {role: _as_array(a, labels[role], role) for role, a in given.items() if a is not None}
    if not has_test:
        arrays["test_images"] = np.empty((0, *arrays["train_images"].shape[1:]), arrays["train_images"].dtype)
        arrays["test_labels"] = np.empty(0, arrays["train_labels"].dtype)
    names = Names(prefix=labels, short=labels, rows="rows", unit_range=False)
    known, class_names = _classes(classes)
    fields = build(arrays, names, known_classes=known, who="this dataset", val_split=val_split, seed=seed,
                   dtype=dtype, standardize=standardize, require_test=has_test, what=setting)
    n, width = len(arrays["train_labels"]), fields["x_train"].shape[1]
    tests = f"{len(arrays['test_labels'])} test rows" if has_test else "no test split"
    image_shape = tuple(arrays["train_images"].shape[1:]) if arrays["train_images"].ndim == 3 else None
    return cls(name=name, source=source,
               description=f"{name} from {source} ({n} training rows of {width} features, {tests})",
               checksums={}, image_shape=image_shape,
               classes=class_names or tuple(str(c) for c in range(fields["n_classes"])), **fields)


def _as_array(value, label: str, role: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise DatasetError(f"{label}: not an array ({exc})") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise DatasetError(f"{label}: must be a numeric array; received dtype {array.dtype}")
    if role.endswith("images") and array.ndim not in (2, 3):
        fix = "; a single feature is x.reshape(-1, 1)" if array.ndim == 1 else "; flatten with x.reshape(len(x), -1)"
        raise DatasetError(f"{label} must be 2-D (n, features) or 3-D (n, rows, cols); "
                           f"received shape {array.shape}{fix}")
    if role.endswith("labels") and array.ndim != 1:
        hint = " (one-hot labels? use y.argmax(axis=1))" if array.ndim == 2 else ""
        raise DatasetError(f"{label} must be 1-D class indices; received shape {array.shape}{hint}")
    return array


def _classes(classes) -> tuple[int | None, tuple[str, ...] | None]:
    if classes is None:
        return None, None
    if isinstance(classes, numbers.Integral) and not isinstance(classes, bool):
        if classes < 2:
            raise DatasetError("classes must be at least 2 (a count) or a list of names; "
                               f"received: classes={classes!r}")
        return int(classes), tuple(str(c) for c in range(int(classes)))
    names = tuple(classes) if isinstance(classes, (list, tuple)) else ()
    if not all(isinstance(c, str) for c in names) or len(set(names)) != len(names) or len(names) < 2:
        raise DatasetError("classes must be a count or a list of at least 2 distinct names; "
                           f"received: classes={classes!r}")
    return len(names), names
