"""``load_dataset``: from a name (or a directory) to ready-to-train arrays.

The checks and conversions are those of :mod:`fastact.data.assemble` (shared
with :meth:`Dataset.from_arrays`): pixels ``p`` stored as ``uint8`` become
``x = p / 255`` in ``[0, 1]``; pixels already stored as floats must lie in
``[0, 1]``; a known dataset has its spec's class count, an unknown one
``max label + 1``, capped. With ``standardize=True``,
``x <- (x - mu) / sigma`` where ``mu, sigma`` are the mean and standard
deviation over *all pixels of the training rows* (after the validation split,
so nothing leaks from validation or test). Images are flattened to
``(n, rows * cols)``, C-contiguous, in ``dtype``; labels are always ``int64``.

The validation rows come from the training file (:mod:`fastact.data.split`);
the test file is only ever returned as ``x_test``/``y_test``. Each file is
parsed once per process: repeated loads reuse the decoded arrays for as long
as the file's size and modification time are unchanged. Reading a file never
allocates more than its header declares, and that only after the declared size
has been checked against the file and the memory budget (:mod:`fastact.data.idx`).
"""

from __future__ import annotations

import functools
import os

from fastact.data import checksums
from fastact.data.assemble import DTYPES, LABEL_DTYPE, MAX_CLASSES, Names, build, check_dtype, check_seed
from fastact.data.dataset import Dataset
from fastact.data.idx import load_idx
from fastact.data.registry import DATASETS, get_spec
from fastact.data.resolve import resolve
from fastact.data.split import check_val_split

__all__ = ["DTYPES", "LABEL_DTYPE", "MAX_CLASSES", "Dataset", "load_dataset"]


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
        DatasetError: a bad argument, a missing or broken file, or no data;
            :class:`~fastact.data.errors.DatasetMemoryError` when a file or the
            converted arrays would not fit the memory budget.
    """
    if name != "auto":
        get_spec(name)
    check_val_split(val_split)
    check_seed(seed)
    check_dtype(dtype)
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
    names = Names(prefix={r: str(p) for r, p in where.files.items()}, short={r: p.name for r, p in where.files.items()})
    fields = build(arrays, names, known_classes=spec.n_classes if spec else None,
                   who=spec.name if spec else "this dataset", val_split=val_split, seed=seed, dtype=dtype,
                   standardize=standardize, what=f"{name} from {where.directory}")
    return Dataset(
        name=name, source=str(where.directory), description=f"{name} from {where.directory} ({reason})",
        checksums=sums, image_shape=tuple(arrays["train_images"].shape[1:]),
        classes=spec.classes if spec else tuple(str(c) for c in range(fields["n_classes"])),
        files={r: str(p) for r, p in where.files.items()}, **fields)


@functools.lru_cache(maxsize=8)
def _read(path: str, stamp: tuple, ndim: int):
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
