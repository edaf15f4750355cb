"""One epoch end to end: generated MNIST-shaped data, a hand-written epoch loop per impl, the trainer."""

from __future__ import annotations

from typing import Callable

import numpy as np

from fastact.benchmarks.config import N_CLASSES, _check_choice
from fastact.benchmarks.peers import TORCH_ACTS
from fastact.benchmarks.reference import _params_of
from fastact.nn import MLP, Adam


def epoch_data(n: int = 60_000, n_in: int = 784, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped generated data: pixels in [0, 1), labels from a random linear teacher."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, n_in), dtype=np.float32)
    teacher = rng.standard_normal((n_in, N_CLASSES), dtype=np.float32)
    return x, np.argmax(x @ teacher, axis=1).astype(np.int64)


def epoch_runner(impl: str, x: np.ndarray, y: np.ndarray, act: str = "relu", batch: int = 128,
                 hidden: int = 512, lr: float = 1e-3, seed: int = 0) -> Callable[[], float]:
    """A function training one epoch (shuffle, gather each batch, Adam step); returns the mean loss.

    fastact: `MLP.train_step` over ``x[perm[i:i + batch]]`` (the update fused into backward);
    torch: the textbook loop (``randperm``, index, ``zero_grad``, ``cross_entropy``, ``backward``,
    ``step`` of ``Adam(fused=True)``).
    Both start from fastact's initial weights.
    """
    _check_choice("impl", impl, ("fastact", "torch"))
    n = x.shape[0]
    model = MLP([x.shape[1], hidden, N_CLASSES], act, seed=seed)
    if impl == "fastact":
        opt = Adam(lr=lr)
        rng = np.random.default_rng(seed)

        def epoch():
            perm = rng.permutation(n)
            total = 0.0
            for i in range(0, n, batch):
                idx = perm[i:i + batch]
                total += model.train_step(x[idx], y[idx], opt)[0]
            return total / n

        return epoch
    import torch
    import torch.nn.functional as F

    p = _params_of(act, model.layers[0])
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), TORCH_ACTS[act](p, hidden),
                              torch.nn.Linear(hidden, N_CLASSES))
    with torch.no_grad():
        for lin, layer in ((net[0], model.layers[0]), (net[2], model.layers[1])):
            lin.weight.copy_(torch.from_numpy(layer.w.T.copy()))
            lin.bias.copy_(torch.from_numpy(layer.b))
    # PyTorch's fused Adam (one kernel per parameter over its tensors), the peer of fastact's fused update.
    opt_t = torch.optim.Adam(net.parameters(), lr=lr, fused=True)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)

    def epoch_t():
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt_t.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(xt[idx]), yt[idx])
            loss.backward()
            opt_t.step()
            total += loss.item() * len(idx)
        return total / n

    return epoch_t


def trainer_epochs(x: np.ndarray, y: np.ndarray, act: str = "relu", batch: int = 128, epochs: int = 2,
                   n_val: int = 6_000, seed: int = 0, threads: int | None = None) -> list:
    """`fastact.training.train` on ``x, y`` (plus ``n_val`` generated validation rows): its `EpochRecord` s.

    This is the end-to-end path users run (prefetching, per-batch callbacks, validation after
    each epoch, Adam at lr 1e-3); ``n / samples_per_s`` of a record is its training time.
    """
    from fastact.data import Dataset
    from fastact.training import TrainConfig, train

    xv, yv = epoch_data(n_val + 1_000, x.shape[1], seed + 1)
    ds = Dataset(name="generated", source="fastact.benchmarks.epoch_data",
                 description=f"{len(x):,} generated MNIST-shaped samples (benchmark)", checksums={},
                 x_train=x, y_train=y, x_val=xv[:n_val], y_val=yv[:n_val], x_test=xv[n_val:], y_test=yv[n_val:],
                 n_classes=N_CLASSES, image_shape=(28, 28) if x.shape[1] == 784 else (1, x.shape[1]),
                 classes=tuple(str(i) for i in range(N_CLASSES)), val_split=0.0, seed=seed, dtype="float32")
    config = TrainConfig(act=act, hidden=(512,), epochs=epochs, batch_size=batch, seed=seed, out=None,
                         threads=threads)
    result = train(config, dataset=ds)
    if result.status != "completed":
        raise RuntimeError(f"trainer run {result.status}: {result.message}")
    return result.history


def timed(fn) -> tuple[float, object]:
    """(wall seconds, result) of one call of ``fn``."""
    import time

    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out
