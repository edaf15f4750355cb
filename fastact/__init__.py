"""fastact: a fast CPU engine and workbench for studying activation functions.

>>> import fastact
>>> model = fastact.MLP([784, 512, 10], act="rrelu")
>>> result = fastact.fit(act="rrelu", epochs=3, out=None)   # doctest: +SKIP  (prints like Keras)
>>> result.model.predict(x)                                  # doctest: +SKIP  (class indices)

The public API, by layer (see docs/ARCHITECTURE.md): `MLP`, `Dense`, `SGD`, `Adam` and
`activations` (the network), `load_dataset`, `load_npz` and `Dataset` (``Dataset.from_arrays``:
your own arrays) (data), `fit` and `TrainConfig` (training), `set_num_threads` /
`get_num_threads` (the engine's threads).

Every name is imported on first use: ``import fastact`` itself loads nothing heavy, so the
command-line entry points (`fastact._entry`) are in control, Ctrl-C included, before NumPy and
Numba load.
"""

from fastact._version import __version__

__all__ = ["MLP", "Dense", "SGD", "Adam", "activations", "set_num_threads", "get_num_threads", "SettingsError",
           "fit", "TrainConfig", "load_dataset", "load_npz", "Dataset", "__version__"]

# `fastact.train` is the `python -m fastact.train` module, not a function: `fastact.fit` trains.
_LAZY = {"MLP": "fastact.nn", "Dense": "fastact.nn", "SGD": "fastact.nn", "Adam": "fastact.nn",
         "set_num_threads": "fastact.engine.threads", "get_num_threads": "fastact.engine.threads",
         "SettingsError": "fastact.errors", "fit": "fastact.training", "TrainConfig": "fastact.training",
         "load_dataset": "fastact.data", "Dataset": "fastact.data", "load_npz": "fastact.data"}


def __getattr__(name):
    import importlib

    if name in _LAZY:
        # The threading layer is chosen before any kernel module loads (`fastact.engine.threads`).
        importlib.import_module("fastact.engine.threads")
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name == "activations":
        importlib.import_module("fastact.engine.threads")
        value = importlib.import_module("fastact.activations")
    else:
        raise AttributeError(f"module 'fastact' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
