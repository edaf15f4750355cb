"""Benchmarks: fastact against plain NumPy and PyTorch eager, measured in one run.

Three operations, each generated for every entry of `fastact.activations.ACTIVATIONS`:

* ``forward``:  ``y = act(x @ w + b)``. fastact: the fused `Dense.forward(x, training=True)`;
  NumPy: ``x @ w + b`` then the activation as separate array ops (``scipy.special`` for
  ``erf``/``expit``, as a NumPy user would); torch: ``F.linear`` + the torch activation, with
  autograd recording (weights require grad), as in training.
* ``backward``: from ``dy``: ``dz = dy * act'(z)``, ``dw = x.T @ dz``, ``db = sum dz``,
  ``dx = dz @ w.T`` (and ``dalpha`` for PReLU). fastact: `Dense.backward(dy)`; torch: autograd
  ``y.backward(dy)`` on the retained graph, with ``x`` requiring grad so ``dx`` is computed too.
* ``step``: one SGD training step of the MLP ``[n_in, n_out, 10]`` (forward, softmax
  cross-entropy, backward, update). fastact: `MLP.train_step`; NumPy: a twin written with array
  ops; torch: ``nn.Sequential(Linear, act, Linear)``, ``F.cross_entropy``, ``zero_grad``,
  ``backward``, ``step``.

Every peer starts from fastact's initial weights, so outputs can be compared (`Case.outputs`);
RReLU's slopes are drawn by each implementation's own generator when timed (NumPy: one
``Generator.random`` call, stored for backward, as torch stores its noise tensor), and taken
from fastact's counter stream when ``exact_noise=True`` so the numbers can be checked.

Timing (as benchdnn and pytest-benchmark do it): warm-up calls first (fastact's JIT compile,
the peers' allocator and thread pools), then rounds timed with `time.perf_counter` until both
``min_rounds`` and ``max_time`` are reached; the median and inter-quartile range are reported.
Every implementation is pinned to the same thread count: `fastact.set_num_threads`,
threadpoolctl on NumPy's BLAS (not SciPy's, which fastact's kernels call single-threaded per
tile), `torch.set_num_threads`. torch is imported only when the torch peer is asked for.

Modules: `config` (implementations, operations, shared defaults), `peers` (NumPy and torch
activations), `noise` (RReLU's counter stream), `reference` (inputs, fastact's weights and
case), `peer_cases` (NumPy and torch cases), `cases` (`make_case`, `agreement`), `timing`
(`pinned_threads`, `time_rounds`, `run`), `report` (FLOPs, ratio table), `machine` (FMA
peak, environment), `epoch` (one epoch end to end), `memory`
(peak memory of a short run), `contention` (a competing busy process), `firstrun` (kernels of a
fresh install, cold and warm).
"""

from fastact.benchmarks.cases import agreement, make_case
from fastact.benchmarks.config import IMPLS, N_CLASSES, OPS, SGD_LR
from fastact.benchmarks.epoch import epoch_data, epoch_runner, timed, trainer_epochs
from fastact.benchmarks.machine import environment, fma_peak, measure_blas_peak
from fastact.benchmarks.memory import peak_memory
from fastact.benchmarks.noise import counter_uniform, rrelu_slopes
from fastact.benchmarks.peers import NUMPY_ACTS, TORCH_ACTS, available_impls, missing, torch_available
from fastact.benchmarks.reference import Case
from fastact.benchmarks.report import op_flops, ratio_table, render_table, step_flops
from fastact.benchmarks.timing import BenchResult, pinned_threads, run, summarize, time_rounds

__all__ = [
    "IMPLS", "OPS", "N_CLASSES", "SGD_LR", "BenchResult",
    "NUMPY_ACTS", "TORCH_ACTS", "torch_available", "available_impls", "missing",
    "counter_uniform", "rrelu_slopes",
    "Case", "make_case", "agreement",
    "pinned_threads", "time_rounds", "summarize", "run",
    "step_flops", "op_flops", "ratio_table", "render_table",
    "fma_peak", "measure_blas_peak", "environment",
    "epoch_data", "epoch_runner", "timed", "trainer_epochs",
    "peak_memory",
]
