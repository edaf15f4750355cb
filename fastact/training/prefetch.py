"""`Prefetcher`: gather the next mini-batch in a background thread (double buffering).

For batch ``k`` of an epoch with row order ``perm``, the batch is
``x[perm[k*B : (k+1)*B]]`` and ``y[...]`` of the same rows; the last batch may
be shorter (``drop_last=False``, as PyTorch's DataLoader and Keras do).

Two preallocated buffers alternate: while the kernels compute on one, the
gatherer fills the other. ``np.take(..., out=...)`` releases the GIL for the
copy, so the gather really overlaps the (GIL-free) Numba kernels. The order of
rows is fixed by ``perm`` alone, so prefetching never changes a result.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

_STOP = object()


class Prefetcher:
    """Iterate ``(x_batch, y_batch)`` views for the rows ``perm`` in chunks of ``batch_size``.

    A yielded pair stays valid until the next one is requested: its buffer is
    handed back to the gatherer only then. Use as a context manager (or call
    `close`) so the thread stops when the loop is left early (cancel, error).

    Example:
        >>> x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
        >>> with Prefetcher(x, y, np.array([5, 4, 3, 2, 1, 0]), 4) as batches:
        ...     [yb.tolist() for _, yb in batches]
        [[5, 4, 3, 2], [1, 0]]
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, perm: np.ndarray, batch_size: int):
        self.x, self.y, self.perm, self.batch_size = x, y, np.asarray(perm, np.intp), int(batch_size)
        rows = min(self.batch_size, len(self.perm))
        self._buffers = [(np.empty((rows, x.shape[1]), x.dtype), np.empty(rows, y.dtype)) for _ in range(2)]
        self._free: queue.Queue = queue.Queue()
        self._ready: queue.Queue = queue.Queue(maxsize=1)
        for i in range(2):
            self._free.put(i)
        self._stop = threading.Event()
        self._held: int | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._gather, name="fastact-prefetch", daemon=True)
        self._thread.start()

    def __len__(self) -> int:
        return -(-len(self.perm) // self.batch_size)

    def _gather(self) -> None:
        try:
            for start in range(0, len(self.perm), self.batch_size):
                idx = self.perm[start:start + self.batch_size]
                slot = self._wait(self._free)
                if slot is _STOP:
                    return
                xb, yb = self._buffers[slot]
                np.take(self.x, idx, axis=0, out=xb[:len(idx)])
                np.take(self.y, idx, axis=0, out=yb[:len(idx)])
                if not self._put((slot, len(idx))):
                    return
        except BaseException as exc:  # noqa: BLE001 (re-raised in the consuming thread)
            self._error = exc
        self._put(_STOP)

    def _wait(self, q: queue.Queue):
        # Poll so that `close` can stop a gatherer blocked on a full pipeline.
        while not self._stop.is_set():
            try:
                return q.get(timeout=0.05)
            except queue.Empty:
                continue
        return _STOP

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self):
        while True:
            if self._held is not None:
                self._free.put(self._held)
                self._held = None
            item = self._wait(self._ready)
            if item is _STOP:
                if self._error is not None:
                    raise self._error
                return
            slot, n = item
            self._held = slot
            xb, yb = self._buffers[slot]
            yield xb[:n], yb[:n]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> "Prefetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
