"""fastact: a fast CPU engine and workbench for studying activation functions.

>>> import fastact
>>> model = fastact.MLP([784, 512, 10], act="rrelu")
"""

from fastact.engine.threads import get_num_threads, set_num_threads  # noqa: I001  (sets the threading layer first)
from fastact import activations
from fastact.layers import Dense
from fastact.model import MLP
from fastact.optim import SGD, Adam

__version__ = "0.1.0"
__all__ = ["MLP", "Dense", "SGD", "Adam", "activations", "set_num_threads", "get_num_threads",
           "fit", "TrainConfig", "load_dataset", "__version__"]

# Not `train`: that name is the `python -m fastact.train` module.
_LAZY = {"fit": "fastact.trainer", "TrainConfig": "fastact.trainer", "load_dataset": "fastact.data"}


def __getattr__(name):
    # The trainer and data loader pull in more (rich, threads); load them on first use.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fastact' has no attribute {name!r}")
