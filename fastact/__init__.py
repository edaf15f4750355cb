"""fastact: a fast CPU engine and workbench for studying activation functions.

>>> import fastact
>>> model = fastact.MLP([784, 512, 10], act="rrelu")
>>> result = fastact.fit(act="rrelu", epochs=3, out=None)   # doctest: +SKIP  (prints like Keras)
>>> result.model.predict(x)                                  # doctest: +SKIP  (class indices)

The public API, by layer (see docs/ARCHITECTURE.md): `MLP`, `Dense`, `SGD`, `Adam` and
`activations` (the network), `load_dataset`, `load_npz` and `Dataset` (``Dataset.from_arrays``:
your own arrays) (data), `fit` and `TrainConfig` (training), `set_num_threads` /
`get_num_threads` (the engine's threads).
"""

from fastact.engine.threads import get_num_threads, set_num_threads  # noqa: I001  (sets the threading layer first)
from fastact import activations
from fastact._version import __version__
from fastact.errors import SettingsError
from fastact.nn import MLP, SGD, Adam, Dense

__all__ = ["MLP", "Dense", "SGD", "Adam", "activations", "set_num_threads", "get_num_threads", "SettingsError",
           "fit", "TrainConfig", "load_dataset", "load_npz", "Dataset", "__version__"]

# `fastact.train` is the `python -m fastact.train` module, not a function: `fastact.fit` trains.
_LAZY = {"fit": "fastact.training", "TrainConfig": "fastact.training", "load_dataset": "fastact.data",
         "Dataset": "fastact.data", "load_npz": "fastact.data"}


def __getattr__(name):
    # The trainer and data loader pull in more (rich, threads); load them on first use.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fastact' has no attribute {name!r}")
