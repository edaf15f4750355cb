"""``load_npz``: a dataset from one ``.npz`` archive of arrays.

The archive holds ``x_train`` and ``y_train``, and optionally ``x_test`` and
``y_test`` (both or neither), as :func:`numpy.savez` writes them; no other
key. They become a :class:`~fastact.data.dataset.Dataset` exactly as
:meth:`~fastact.data.dataset.Dataset.from_arrays` would make it.

Nothing is loaded before every member has been sized: each member's ``.npy``
header (dtype and shape) is read from the archive and must agree with the
member's size in the zip directory, and the sum of the declared sizes must
fit the memory budget (:mod:`fastact.resources`). Object arrays are refused
(``allow_pickle=False``): loading them would run code from the file.

Example::

    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "blobs.npz")
    >>> np.savez(path, x_train=np.eye(20)[np.arange(40) % 20], y_train=np.arange(40) % 2)
    >>> load_npz(path, val_split=0.25).to_config()["n_val"]
    10
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from fastact.data.dataset import Dataset, arrays_dataset
from fastact.data.errors import DatasetMemoryError, file_error
from fastact.resources import array_bytes, check_allocation, format_bytes, out_of_memory

REQUIRED = ("x_train", "y_train")
OPTIONAL = ("x_test", "y_test")
_ROLE = {"x_train": "train_images", "y_train": "train_labels", "x_test": "test_images", "y_test": "test_labels"}
_EXPECTED = "expected x_train, y_train and optionally x_test, y_test"
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def load_npz(path: str | os.PathLike, *, val_split: float = 0.1, seed: int = 0, dtype: str = "float32",
             standardize: bool = False, name: str | None = None, classes=None) -> Dataset:
    """The :class:`Dataset` stored as arrays in the ``.npz`` file ``path`` (see the module docstring).

    Keyword arguments are those of :meth:`Dataset.from_arrays`; ``name``
    defaults to the file name without ``.npz``.

    Raises:
        DatasetError: the file is missing or not an ``.npz``, a key is missing
            or unexpected, a member's header disagrees with its size, or the
            arrays fail :meth:`Dataset.from_arrays`'s checks; the message names
            the file (and the key). :class:`~fastact.data.errors.DatasetMemoryError`
            when the arrays would not fit the memory budget.
    """
    path = Path(path)
    name = path.name.removesuffix(".npz") if name is None else name
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise file_error(path, "no such file") from None
    except IsADirectoryError:
        raise file_error(path, "is a directory, expected an .npz file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise file_error(path, f"not an .npz file ({exc})") from None
    with archive:
        members = _members(archive, path)
        declared = {key: _npy_header(archive, info, path, key) for key, info in members.items()}
        total = sum(array_bytes(shape, dt.itemsize) for dt, shape in declared.values())
        shapes = ", ".join(f"{k} {dt.name} {shape}" for k, (dt, shape) in declared.items())
        check_allocation(f"its arrays ({shapes})", total, setting=str(path), error=DatasetMemoryError)
        arrays = {key: _load_member(archive, members[key], path, key, total) for key in members}
    given = {_ROLE[k]: arrays.get(k) for k in _ROLE}
    labels = {_ROLE[k]: f"{path}[{k}]" for k in _ROLE}
    return arrays_dataset(Dataset, given, labels, val_split=val_split, seed=seed, dtype=dtype,
                          standardize=standardize, name=name, classes=classes, source=str(path), setting=str(path))


def _members(archive: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    infos = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
    missing = [k for k in REQUIRED if k not in infos]
    extra = sorted(k for k in infos if k not in REQUIRED + OPTIONAL)
    if missing or extra:
        found = ", ".join(repr(k) for k in infos) or "nothing"
        problems = ([f"missing key(s) {', '.join(map(repr, missing))}"] if missing else []) + \
                   ([f"unexpected key(s) {', '.join(map(repr, extra))}"] if extra else [])
        raise file_error(path, f"{'; '.join(problems)} (found {found}); {_EXPECTED}")
    return {k: infos[k] for k in REQUIRED + OPTIONAL if k in infos}


def _npy_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, key: str):
    """``(dtype, shape)`` from the member's ``.npy`` header, checked against the member's size."""
    try:
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version not in _HEADER_READERS:
                raise ValueError(f".npy format version {version[0]}.{version[1]}; this reader knows 1.0 and 2.0")
            shape, _, dtype = _HEADER_READERS[version](member)
            offset = member.tell()
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise file_error(path, f"member {key!r} is not a valid .npy array ({exc})") from None
    if dtype.hasobject:
        raise file_error(path, f"member {key!r} holds Python objects (dtype {dtype}); only numeric arrays "
                         "are loaded (allow_pickle=False)")
    data = array_bytes(shape, dtype.itemsize)
    if offset + data != info.file_size:
        raise file_error(path, f"member {key!r}: its header declares {dtype.name} {shape} = {format_bytes(data)}, "
                         f"but the member holds {format_bytes(info.file_size - offset)} of data")
    return dtype, shape


def _load_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, key: str, total: int) -> np.ndarray:
    try:
        with archive.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except MemoryError:
        raise out_of_memory("its arrays", total, str(path), error=DatasetMemoryError) from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise file_error(path, f"member {key!r} cannot be read ({exc})") from None
