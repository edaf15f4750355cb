"""MNIST-format datasets for fastact: IDX files, named datasets, lookup, download, splits.

    >>> from fastact.data import load_dataset
    >>> ds = load_dataset()                      # doctest: +SKIP
    >>> ds.description                           # doctest: +SKIP
    'mnist from ~/.cache/fastact/mnist (found in user cache)'

Modules, one concept each: :mod:`.stream` (bounded, hashed reading of raw or
gzip files), :mod:`.idx` (file format), :mod:`.registry` (named datasets),
:mod:`.checksums`, :mod:`.locations` (where data lives), :mod:`.download`
(with :mod:`.transport`, HTTP under a deadline), :mod:`.resolve` (which
directory and why), :mod:`.split` (validation rows), :mod:`.loader` (arrays),
:mod:`.errors`.
"""

from fastact.data.errors import DatasetError, DatasetMemoryError, DownloadError
from fastact.data.idx import read_idx, write_idx
from fastact.data.loader import Dataset, load_dataset
from fastact.data.registry import DATASETS, FILE_ROLES, DatasetSpec

__all__ = ["DATASETS", "FILE_ROLES", "Dataset", "DatasetError", "DatasetMemoryError", "DatasetSpec",
           "DownloadError", "load_dataset", "read_idx", "write_idx"]
