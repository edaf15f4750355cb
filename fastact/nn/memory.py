"""How much memory a network needs, estimated before anything is allocated: the one place it is computed.

For layer widths ``sizes = [d_0, ..., d_L]`` in a dtype of ``s`` bytes, layer ``i``
(``k = d_i`` inputs, ``n = d_{i+1}`` outputs) holds what `fastact.nn.Dense` allocates:

* weights:   ``w`` (k x n), ``b`` (n), the kernels' per-unit copy of the learnable
  parameter (n) and the parameter itself (n per unit, or 1 shared): ``s * (k*n + 2n [+ a])``;
* gradients: ``dw``, ``db``, the per-unit ``dalpha`` copy (and ``dalpha``): the same again;
* workspace at batch ``B``: ``z``, ``y``, ``dz`` (B x n each), ``dx`` (B x k) and two
  per-row-tile partial sums (``ceil(B / EPI_ROWS)`` x n each);

plus the loss head's buffers (``B x d_L`` gradients, a float64 loss and an int8 hit per
row) and the optimizer's state, one buffer per parameter for SGD (the momentum) and two
for Adam/AdamW (the moments). ``B`` is the larger of the training and the evaluation
batch: every buffer is sized for the largest batch it has seen. While layer ``i`` is built the
initialiser holds its weights drawn in float64 (``8 * k * n``; NumPy scales that temporary in
place above 256 KiB, below it a second one exists) next to the new ``w``, on top of the earlier
layers' weights and gradients; ``transient`` is how far that peak exceeds the steady state (it
does for a wide layer before any optimizer state exists). Each layer also costs a few KiB of
Python objects (`LAYER_OVERHEAD`), which matters only for very deep and narrow stacks.

`estimate_memory` returns those parts; `MemoryBudgetError` is the refusal, a
`fastact.errors.SettingsError` (so interfaces word it with their own name for the
setting, ``--hidden`` or the form's field) that is also a
`fastact.resources.ResourceError`. The budget comparison and its wording are
`fastact.resources.check_allocation`'s.

Example:
    >>> est = estimate_memory([784, 512, 10], batch=128, optimizer="adam")
    >>> est.weights == 4 * (784 * 512 + 2 * 512 + 512 * 10 + 2 * 10)
    True
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fastact import activations
from fastact.engine.dense import n_row_tiles
from fastact.errors import SettingsError
from fastact.resources import ResourceError, check_allocation, format_bytes

#: `MLP.evaluate`'s default batch: evaluation grows the workspace to it
EVAL_BATCH = 1024
#: optimizer state buffers per parameter, by optimizer name (None: no optimizer)
STATE_BUFFERS = {None: 0, "sgd": 1, "adam": 2, "adamw": 2}
#: Python objects per layer (the `Dense`, its array headers, `Parameter` s), measured with tracemalloc
LAYER_OVERHEAD = 16 << 10
#: below this size NumPy does not reuse a temporary in place (its elision threshold)
_ELIDE = 256 << 10
#: the most layers a network may have (``sizes`` then has at most MAX_LAYERS + 1 entries)
MAX_LAYERS = 1000


class MemoryBudgetError(SettingsError, ResourceError):
    """A setting makes the estimated memory exceed the budget (`fastact.resources`); ``field`` names it."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes by what they hold; ``data`` and ``copies`` are the caller's (dataset arrays and batch
    buffers; snapshots of the weights)."""

    weights: int
    gradients: int
    optimizer: int
    workspace: int
    transient: int
    overhead: int
    data: int = 0
    copies: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.workspace + self.transient + self.overhead \
            + self.data + self.copies

    def plus_data(self, n_bytes: int) -> "MemoryEstimate":
        return replace(self, data=self.data + int(n_bytes))

    def plus_copies(self, n: int) -> "MemoryEstimate":
        """With ``n`` more copies of the weights held (a best epoch's snapshot, a model file built in memory)."""
        return replace(self, copies=self.copies + int(n) * self.weights)

    def describe(self) -> str:
        """``weights 2.92 GiB + gradients 2.92 GiB + ...``: the nonzero parts."""
        parts = [("weights", self.weights), ("gradients", self.gradients), ("optimizer state", self.optimizer),
                 ("workspace", self.workspace), ("initialisation", self.transient), ("Python objects", self.overhead),
                 ("weight copies", self.copies), ("data", self.data)]
        return " + ".join(f"{name} {format_bytes(n)}" for name, n in parts if n)


def _itemsize(dtype) -> int:
    return np.dtype(dtype).itemsize


def estimate_memory(sizes, batch: int = 0, dtype="float32", optimizer: str | None = None, act: str = "relu",
                    prelu: str = "unit", eval_batch: int = 0) -> MemoryEstimate:
    """The memory an `MLP` of ``sizes`` holds once it has trained at ``batch`` (module docstring).

    Args:
        sizes: layer widths, input first (Python ints: no overflow for absurd widths).
        batch: the training batch (0: the model only, no workspace yet).
        dtype: the model's dtype.
        optimizer: ``"sgd"``, ``"adam"``, ``"adamw"`` or None (no optimizer state).
        act: the hidden activation (a learnable parameter adds its arrays).
        prelu: ``"unit"`` or ``"shared"`` learnable parameters.
        eval_batch: the evaluation batch (the workspace is sized for the larger).
    """
    s = _itemsize(dtype)
    widths = [int(v) for v in sizes]
    learnable = activations.get(act).learnable is not None
    b = max(int(batch), int(eval_batch))
    weights = workspace = trainable = init_peak = 0
    n_layers = len(widths) - 1
    for i in range(n_layers):
        k, n = widths[i], widths[i + 1]
        draw = 8 * k * n
        init_peak = max(init_peak, 2 * weights + draw + min(draw, _ELIDE) + s * k * n)
        extra = (n if prelu == "unit" else 1) if learnable and i < n_layers - 1 else 0
        weights += s * (k * n + 2 * n + extra)
        # The optimizer keeps one buffer per trainable array (w, b, alpha), not the kernels' per-unit copies.
        trainable += s * (k * n + n + extra)
        if b:
            workspace += s * (3 * b * n + b * k + 2 * n_row_tiles(b) * n)
    if b and widths:
        workspace += b * (s * widths[-1] + 8 + 1)
    state = STATE_BUFFERS[optimizer.lower() if isinstance(optimizer, str) else optimizer]
    steady = 2 * weights + state * trainable + workspace
    return MemoryEstimate(weights=weights, gradients=weights, optimizer=state * trainable, workspace=workspace,
                          transient=max(0, init_peak - steady), overhead=LAYER_OVERHEAD * n_layers)


def check_memory(estimate: MemoryEstimate, what: str, field: str, value, fix: str) -> MemoryEstimate:
    """Return ``estimate`` if its total fits the budget, else raise `MemoryBudgetError` naming ``field``.

    The message is `fastact.resources.check_allocation`'s: ``<what> (<parts>) needs an
    estimated X, more than the memory budget of Y (<where Y comes from>); <fix>, or raise
    the budget with --memory-budget SIZE ...``.
    """
    try:
        check_allocation(f"{what} ({estimate.describe()})", estimate.total, fix=fix)
    except ResourceError as exc:
        # `SettingsError.render` formats the rule: keep any brace in the text literal.
        rule = "within the memory budget: " + str(exc).replace("{", "{{").replace("}", "}}")
        raise MemoryBudgetError(field, value, rule) from None
    return estimate


def describe_network(sizes, dtype) -> str:
    """``an MLP 784-512-10 float32``."""
    return f"an MLP {'-'.join(str(int(v)) for v in sizes)} {np.dtype(dtype).name}"
