"""Points on a Dask cluster: ``--executor dask`` (`executor.DaskExecutor`, the client side),
`worker` (what a worker runs: its preparation, one point, the events it sends back) and
`shipping` (the data: loaded by each worker itself, or shipped once from the client).

Dask is an optional extra (``pip install "fastact[dask]"``): this package imports it only in
`make`, so ``fastact.experiments.tasks`` lists ``dask`` as a choice either way and choosing it
without the extra is one `fastact.experiments.tasks.ExecutorError` naming the extra.
"""

from __future__ import annotations

from fastact.experiments.tasks import ExecutorError

EXTRA = 'pip install "fastact[dask]"'


def make(**options):
    """A `executor.DaskExecutor` (its options); `ExecutorError` without Dask installed."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ExecutorError(f"the dask executor needs the optional Dask packages: {EXTRA} "
                            f"(import failed: {exc})", field="executor") from None
    from fastact.experiments.distributed.executor import DaskExecutor

    return DaskExecutor(**options)
