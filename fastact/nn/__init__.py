"""The network: `Dense` (one fused dense + activation layer), `MLP` (a stack of them with a
softmax cross-entropy head), the optimizers (`SGD`, `Adam`/AdamW over `Parameter` s) and the
initialisers. Everything here validates and keeps state; the arithmetic is `fastact.engine`'s.

Modules: `dense` (Dense, dtypes, PReLU modes), `mlp` (MLP, save/load, warm_up), `optim`
(optimizers, fused `Update` s), `init` (initialisers), `memory` (a network's memory, estimated
before it is allocated), `modelfile` (the checked ``.npz`` model file), `warmup` (`prepare_kernels`:
compile what runs need, in parallel processes, before training).
"""

from fastact.nn.dense import DTYPES, PRELU_MODES, Dense, resolve_dtype
from fastact.nn.init import INITIALIZERS
from fastact.nn.memory import MemoryBudgetError, MemoryEstimate, estimate_memory
from fastact.nn.mlp import MLP, warm_up
from fastact.nn.modelfile import ModelFileError
from fastact.nn.optim import OPTIMIZERS, SGD, Adam, Optimizer, Parameter
from fastact.nn.warmup import prepare_kernels

__all__ = ["DTYPES", "PRELU_MODES", "INITIALIZERS", "OPTIMIZERS", "Dense", "MLP", "SGD", "Adam", "Optimizer",
           "Parameter", "prepare_kernels", "resolve_dtype", "warm_up", "MemoryBudgetError", "MemoryEstimate",
           "ModelFileError", "estimate_memory"]
