"""Datasets for fastact: MNIST-format IDX files, named datasets, lookup, download, splits, arrays.

    >>> from fastact.data import load_dataset
    >>> ds = load_dataset()                      # doctest: +SKIP
    >>> ds.description                           # doctest: +SKIP
    'mnist from ~/.cache/fastact/mnist (found in user cache)'
    >>> Dataset.from_arrays(x, y)                # doctest: +SKIP
    >>> load_npz("data.npz")                     # doctest: +SKIP

Modules, one concept each: :mod:`.stream` (bounded, hashed reading of raw or
gzip files), :mod:`.idx` (file format), :mod:`.registry` (named datasets),
:mod:`.checksums`, :mod:`.locations` (where data lives), :mod:`.download`
(with :mod:`.transport`, HTTP under a deadline),
:mod:`.resolve` (which directory and why), :mod:`.split` (validation rows),
:mod:`.assemble` (checks and conversions shared by every source),
:mod:`.dataset` (``Dataset``, ``from_arrays``), :mod:`.loader` (IDX files to a
``Dataset``), :mod:`.npz`, :mod:`.errors`.

Every size read from a file is checked against the file and against the memory
budget of :mod:`fastact.resources` before anything is allocated.
"""

from fastact.data.dataset import Dataset
from fastact.data.errors import DatasetError, DatasetMemoryError, DownloadError
from fastact.data.idx import read_idx, write_idx
from fastact.data.loader import load_dataset
from fastact.data.npz import load_npz
from fastact.data.registry import DATASETS, FILE_ROLES, DatasetSpec

__all__ = ["DATASETS", "FILE_ROLES", "Dataset", "DatasetError", "DatasetMemoryError", "DatasetSpec",
           "DownloadError", "load_dataset", "load_npz", "read_idx", "write_idx"]
