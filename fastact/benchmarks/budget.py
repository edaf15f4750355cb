"""A benchmark case's memory, checked against the budget before any case is built.

Every case holds its inputs, ``x`` (batch x n_in), ``dy`` (batch x n_out) float32 and int64
labels, and the network it times: fastact's `Dense` (forward, backward) or the
``[n_in, n_out, 10]`` MLP with SGD (step), as `fastact.nn.memory.estimate_memory` counts
them. The NumPy and torch peers start from fastact's weights (built first, as above) and hold
their own copy of them and their gradients plus the intermediates their array operations
allocate: `PEER_BATCH_ARRAYS` float32 arrays of batch x n_out and `PEER_INPUT_ARRAYS` of
batch x n_in bound what the activations' formulas create (the widest, SELU's and GELU's,
chain about five temporaries per element before the gradient's).
"""

from __future__ import annotations

from fastact.benchmarks.config import N_CLASSES
from fastact.nn.memory import estimate_memory
from fastact.resources import check_allocation

PEER_BATCH_ARRAYS = 12
PEER_INPUT_ARRAYS = 2


def case_bytes(impl: str, op: str, batch: int, n_in: int, n_out: int) -> int:
    """Estimated bytes one case of ``impl``/``op`` holds at ``batch`` and shape ``(n_in, n_out)``."""
    inputs = 4 * batch * (n_in + n_out) + 8 * batch
    sizes = [n_in, n_out, N_CLASSES] if op == "step" else [n_in, n_out]
    network = estimate_memory(sizes, batch, "float32", "sgd" if op == "step" else None).total
    if impl == "fastact":
        return inputs + network
    peer = 4 * (2 * n_in * n_out + PEER_BATCH_ARRAYS * batch * n_out + PEER_INPUT_ARRAYS * batch * n_in)
    return inputs + network + peer


def check_cases(plan, shape: tuple[int, int], batch_name: str = "batch", shape_name: str = "shape") -> None:
    """Refuse (a `fastact.resources.ResourceError`) a plan whose largest case would not fit the budget.

    ``plan`` holds ``(op, act, batch, impl)`` cases; the message names the batch or the shape
    (``batch_name``/``shape_name``: ``--batch``/``--shape`` on the command line), whichever
    makes the case large.
    """
    n_in, n_out = shape
    need, (op, _, batch, impl) = max(((case_bytes(i, o, b, n_in, n_out), (o, a, b, i)) for o, a, b, i in plan),
                                     default=(0, (None, None, 0, None)))
    if not need:
        return
    by_batch = batch * (n_in + n_out) > n_in * n_out
    setting = f"{batch_name} {batch}" if by_batch else f"{shape_name} {n_in},{n_out}"
    check_allocation(f"the {impl} {op} case (batch {batch}, shape {n_in}x{n_out})", need, setting=setting,
                     fix=f"use a smaller {batch_name if by_batch else shape_name}")
