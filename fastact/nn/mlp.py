"""`MLP`: a stack of fused `Dense` layers with a softmax cross-entropy head.

``sizes = [784, 512, 10]`` is one hidden layer of 512 units; every hidden layer
uses the same activation, the output layer is linear and feeds the fused
softmax cross-entropy (`fastact.engine.loss`).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from fastact import activations
from fastact.engine.loss import softmax_xent
from fastact.errors import SettingsError
from fastact.formula import FormulaError
from fastact.nn import modelfile
from fastact.nn.dense import PRELU_MODES, Dense, check_dropout, resolve_dtype
from fastact.nn.memory import MAX_LAYERS, check_memory, describe_network, estimate_memory
from fastact.nn.optim import Optimizer, Parameter
from fastact.resources import check_allocation


class MLP:
    """A multilayer perceptron ``sizes[0] -> ... -> sizes[-1]``.

    Args:
        sizes: layer widths, input first, classes last (at least two).
        act: hidden activation name.
        dtype: ``"float32"`` or ``"float64"``.
        seed: initial weights and RReLU's random stream.
        prelu: ``"unit"`` or ``"shared"``: PReLU's slopes, or any activation's learnable parameter.
        dropout: inverted dropout after every hidden layer while training, rate in [0, 1)
            (`Dense`: fused into the kernels, the mask regenerated, never stored).
        **act_params: the activation's parameters.

    Example:
        >>> m = MLP([4, 8, 3], "rrelu", seed=0)
        >>> m.predict_logits(np.zeros((2, 4), np.float32)).shape
        (2, 3)
        >>> m.predict(np.zeros((2, 4))).dtype, m.predict_proba(np.zeros((2, 4))).shape
        (dtype('int64'), (2, 3))
    """

    def __init__(self, sizes, act="relu", dtype="float32", seed=0, prelu="unit", initializer=None, dropout=0.0,
                 **act_params):
        self.sizes, self.act, self.act_params, self.dtype, self.seed, self.prelu = _checked(
            sizes, act, dtype, seed, prelu, act_params)
        self.dropout = check_dropout(dropout)
        sizes = self.sizes
        # Refused before the first layer is allocated (a config declaring a huge layer never reaches NumPy).
        check_memory(estimate_memory(sizes, dtype=self.dtype, act=self.act, prelu=prelu),
                     describe_network(sizes, self.dtype), "sizes", sizes, "use fewer or narrower layers")
        rng = np.random.default_rng(self.seed)
        n_hidden = len(sizes) - 2
        self.layers = [
            Dense(sizes[i], sizes[i + 1], self.act, self.dtype, rng, index=i, seed=self.seed, prelu=prelu,
                  initializer=initializer, dropout=self.dropout, **self.act_params)
            for i in range(n_hidden)
        ]
        self.layers.append(Dense(sizes[-2], sizes[-1], "linear", self.dtype, rng, index=n_hidden, seed=self.seed))
        # Built once: the arrays are fixed for the model's life (load() writes into them).
        self._params = [p for layer in self.layers for p in layer.parameters()]
        ends = np.cumsum([len(layer.parameters()) for layer in self.layers])
        self._spans = [(int(e) - len(layer.parameters()), int(e)) for e, layer in zip(ends, self.layers)]
        self._cap = 0
        self._checked_batch = 0

    @property
    def n_classes(self) -> int:
        return self.sizes[-1]

    def parameters(self) -> list[Parameter]:
        return list(self._params)

    def _reserve(self, batch: int) -> None:
        if batch > self._cap:
            self._dlogits = np.empty((batch, self.n_classes), self.dtype)
            self._row_loss = np.empty(batch, np.float64)
            self._row_ok = np.empty(batch, np.int8)
            self._cap = batch

    def _as_input(self, x):
        """``x`` from a caller (any array-like) as a checked 2-D numeric array."""
        arr = np.asarray(x)
        n_in = self.sizes[0]
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"x must hold numbers. Received: dtype={arr.dtype}")
        if arr.ndim == 1 and arr.shape[0] == n_in:
            raise ValueError(f"expected x of shape (batch, {n_in}); for one sample pass x[None]. "
                             f"Received: shape={arr.shape}")
        if arr.ndim != 2 or arr.shape[1] != n_in:
            raise ValueError(f"expected x of shape (batch, {n_in}). Received: shape={arr.shape}")
        return arr

    def _check_input(self, x, labels=None):
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"expected x of shape (batch, {self.sizes[0]}). Received: shape={x.shape}")
        if x.shape[0] > self._checked_batch:
            self._check_batch(x.shape[0])
        if x.dtype != self.dtype:
            x = np.ascontiguousarray(x, self.dtype)
        if labels is not None:
            self._check_labels(labels, x.shape[0])
        return x

    def _check_batch(self, n: int) -> None:
        """Refuse a batch whose workspace (every layer's buffers grow to it) would exceed the budget."""
        est = estimate_memory(self.sizes, n, self.dtype, act=self.act, prelu=self.prelu)
        check_memory(replace(est, weights=0, gradients=0, transient=0, overhead=0),
                     f"the workspace of {describe_network(self.sizes, self.dtype)} at batch {n}", "batch", n,
                     "use a smaller batch")
        self._checked_batch = n

    def _check_labels(self, labels, n):
        # The loss kernel indexes logits[i, label] unchecked: reject what it cannot index.
        if labels.shape != (n,):
            raise ValueError(f"expected {n} labels. Received: shape={labels.shape}")
        if labels.dtype.kind not in "iu":
            raise ValueError(f"labels must be integers. Received: dtype={labels.dtype}")
        if n and (labels.min() < 0 or labels.max() >= self.n_classes):
            bad = labels.min() if labels.min() < 0 else labels.max()
            raise ValueError(f"labels must be in [0, {self.n_classes}). Received: label={int(bad)}")

    def forward(self, x: np.ndarray, training: bool = False, step: int = 0) -> np.ndarray:
        """Logits for ``x`` (a view into the last layer's workspace)."""
        h = self._check_input(x)
        for layer in self.layers:
            h = layer.forward(h, training, step)
        return h

    def predict_logits(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x, training=False).copy()

    def _batches(self, x, batch_size):
        """Logits of checked ``x`` in evaluation mode, one batch at a time (a view, valid until the next)."""
        _check_batch_size(batch_size)
        for i in range(0, x.shape[0], batch_size):
            yield i, self.forward(x[i:i + batch_size], training=False)

    def predict(self, x, batch_size: int = 1024) -> np.ndarray:
        """Class indices ``argmax_j s_ij`` of the logits (the first on a tie, as `evaluate` counts), int64.

        ``x``: an array-like of shape ``(n, sizes[0])``; run in evaluation mode (RReLU at its
        midpoint slope), ``batch_size`` rows at a time.
        """
        x = self._as_input(x)
        out = np.empty(x.shape[0], np.int64)
        for i, logits in self._batches(x, batch_size):
            out[i:i + len(logits)] = logits.argmax(axis=1)
        return out

    def predict_proba(self, x, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities ``p_ij = exp(s_ij - m_i) / sum_k exp(s_ik - m_i)``, ``m_i = max_k s_ik``,
        shape ``(n, n_classes)``, float64 whatever the model's dtype (scikit-learn's convention):
        the softmax is taken in double precision, so every row sums to 1 within ~1e-15.

        Example:
            >>> m = MLP([4, 8, 3], seed=0)
            >>> m.predict_proba(np.zeros((2, 4))).sum(axis=1)
            array([1., 1.])
        """
        x = self._as_input(x)
        out = np.empty((x.shape[0], self.n_classes), np.float64)
        for i, logits in self._batches(x, batch_size):
            z = out[i:i + len(logits)]
            np.subtract(logits, logits.max(axis=1, keepdims=True), out=z)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
        return out

    def loss(self, logits, labels, want_grad: bool):
        """(summed loss, correct count); fills the logits' gradient of the mean loss if asked."""
        n = logits.shape[0]
        self._reserve(n)
        softmax_xent(logits, labels, 1.0 / n, self._dlogits[:n], self._row_loss[:n], self._row_ok[:n], want_grad)
        return float(self._row_loss[:n].sum()), int(self._row_ok[:n].sum())

    def backward(self, updates=None) -> None:
        """Fill every layer's gradients from the last `loss`; with ``updates`` (one
        `fastact.nn.optim.Update` per entry of `parameters`) also apply the optimizer step,
        fused into each layer's backward kernel."""
        n = self.layers[-1].output.shape[0]
        g = self._dlogits[:n]
        for i in range(len(self.layers) - 1, -1, -1):
            lo, hi = self._spans[i]
            g = self.layers[i].backward(g, need_dx=i > 0, update=None if updates is None else updates[lo:hi])

    def train_step(self, x: np.ndarray, labels: np.ndarray, optimizer: Optimizer) -> tuple[float, int]:
        """Forward, softmax cross-entropy, backward and one optimizer update.

        The update is fused into the backward kernels (`fastact.nn.optim.Optimizer.updates`):
        each weight-gradient tile is applied while it is in cache, with the numbers the separate
        ``backward()`` + ``optimizer.step(parameters())`` give. Returns the batch's summed loss
        and number of correct predictions. RReLU's slopes are keyed on the optimizer's step count.
        """
        x = self._check_input(x, labels)
        logits = self.forward(x, training=True, step=optimizer.steps)
        total, correct = self.loss(logits, labels, want_grad=True)
        if not math.isfinite(total):
            return total, correct
        self.backward(optimizer.updates(self._params))
        return total, correct

    def evaluate(self, x: np.ndarray, labels: np.ndarray, batch_size: int = 1024) -> tuple[float, float]:
        """Mean loss and accuracy over ``x`` in evaluation mode, batched."""
        n = x.shape[0]
        self._check_labels(labels, n)
        _check_batch_size(batch_size)
        if n == 0:
            return float("nan"), float("nan")
        total, correct = 0.0, 0
        for i in range(0, n, batch_size):
            xb = self._check_input(x[i:i + batch_size])
            t, c = self.loss(self.forward(xb, training=False), labels[i:i + batch_size], want_grad=False)
            total += t
            correct += c
        return total / n, correct / n

    # -- persistence -------------------------------------------------------------
    def config(self) -> dict:
        """What `save` stores to rebuild the model; ``dropout`` when it has any, a defined
        activation's definition (``define``) when it is one."""
        cfg = {"sizes": self.sizes, "act": self.act, "act_params": self.act_params,
               "dtype": np.dtype(self.dtype).name, "seed": self.seed, "prelu": self.prelu}
        if self.dropout > 0:
            cfg["dropout"] = self.dropout
        spec = activations.get(self.act).spec
        if spec is not None:
            cfg["define"] = spec
        return cfg

    def save(self, path) -> None:
        """Write weights and config to an ``.npz`` file."""
        arrays = {}
        for i, layer in enumerate(self.layers):
            arrays[f"w{i}"] = layer.w
            arrays[f"b{i}"] = layer.b
            if layer.alpha is not None:
                arrays[f"alpha{i}"] = layer.alpha
        np.savez(path, config=np.array(json.dumps(self.config())), **arrays)

    @classmethod
    def load(cls, path) -> "MLP":
        """Rebuild a model written by `save` (which, like np.savez, adds ``.npz`` if missing).

        Every array's presence, shape and dtype is checked against the file's config, and the
        config against `MLP`'s own rules and the memory budget, before anything is built
        (`fastact.nn.modelfile`).

        Raises:
            FileNotFoundError: no such file.
            fastact.nn.modelfile.ModelFileError: not a fastact model file, or one that does not
                hold what its config declares (a `ModelMemoryError` when it would not fit the
                memory budget); one line naming the file.
        """
        path = Path(path)
        if not path.exists() and path.suffix != ".npz" and path.with_name(path.name + ".npz").exists():
            path = path.with_name(path.name + ".npz")
        with modelfile.ModelArchive(path) as f:
            cfg = f.config
            define_from(cfg, path)  # a defined activation is defined before its name is checked
            try:
                sizes, act, act_params, dtype, seed, prelu = _checked(
                    cfg["sizes"], cfg["act"], cfg["dtype"], cfg["seed"], cfg.get("prelu", "unit"), cfg["act_params"])
                dropout = check_dropout(cfg.get("dropout", 0.0))
            except SettingsError as exc:
                raise f.settings_error(exc) from None
            est = estimate_memory(sizes, dtype=dtype, act=act, prelu=prelu)
            check_allocation(f"{describe_network(sizes, dtype)} declared by its config ({est.describe()})",
                             est.total, setting=str(path), error=modelfile.ModelMemoryError)
            learnable = activations.get(act).learnable is not None
            f.check(modelfile.expected_arrays(sizes, dtype, learnable, prelu))
            model = cls(sizes, act, dtype, seed, prelu, dropout=dropout, **act_params)
            for i, layer in enumerate(model.layers):
                f.read_into(f"w{i}", layer.w)
                f.read_into(f"b{i}", layer.b)
                if layer.alpha is not None:
                    f.read_into(f"alpha{i}", layer.alpha)
        return model


def _checked(sizes, act, dtype, seed, prelu, act_params: dict):
    """`MLP`'s arguments checked (`SettingsError` naming the first bad one) and normalised, nothing built."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise SettingsError("sizes", sizes, "a list of layer widths")
    sizes = list(sizes)
    if not 2 <= len(sizes) <= MAX_LAYERS + 1:
        raise SettingsError("sizes", _short(sizes), f"an input and an output width (at least two sizes), "
                            f"at most {MAX_LAYERS + 1}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise SettingsError("sizes", _short(sizes), "positive integers (every layer width)")
    act_entry = activations.get(act)
    params = act_entry.resolve(**act_params)
    dtype = resolve_dtype(dtype)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise SettingsError("seed", seed, "an integer in [0, 2**63)")
    if prelu not in PRELU_MODES:
        raise SettingsError("prelu", prelu, f"one of {', '.join(PRELU_MODES)}")
    return [int(s) for s in sizes], act_entry.name, params, dtype, int(seed), prelu


def _short(sizes: list):
    """``sizes`` as shown in a message: a long list is cut (a hostile file may declare thousands)."""
    return sizes if len(sizes) <= 12 else [*sizes[:5], "...", *sizes[-5:]]


def define_from(cfg: dict, path) -> None:
    """Define the activation a model file's config carries (``define``), if any.

    The formula goes through `fastact.activations.define` like any other: the whitelisted
    grammar parses it and nothing in it is evaluated, so a model file cannot run code.

    Raises:
        modelfile.ModelFileError: one line naming the file: not a definition, a formula that does
            not parse, or a name this process defines differently.
    """
    spec = cfg.get("define")
    if spec is None:
        return
    if not isinstance(spec, dict) or spec.get("name") != cfg.get("act"):
        raise modelfile.ModelFileError(f"{path}: its config's 'define' is not the definition of its "
                                       f"activation {str(cfg.get('act'))[:40]!r}")
    try:
        activations.define_spec(spec)
    except FormulaError as exc:
        reason = str(exc).splitlines()[0]
        raise modelfile.ModelFileError(f"{path}: its activation cannot be defined: {reason}") from None


def _check_batch_size(batch_size) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise SettingsError("batch_size", batch_size, "a positive integer")


def warm_up(act: str, dtype="float32", optimizer: str = "adam", dropout: float = 0.0, **act_params) -> float:
    """Compile (or load from the disk cache) every kernel a training run of ``act`` uses
    (its dropout epilogues with ``dropout > 0``).

    That is the two parallel drivers, ``act``'s and the output layer's epilogues, the loss and
    the rule of ``optimizer`` (``sgd``, ``adam`` or ``adamw``), in ``dtype`` only, compiled in
    parallel processes when several are missing (`fastact.nn.warmup.prepare_kernels`; use it
    directly to prepare many activations at once). Returns the seconds it took.
    """
    from fastact.nn.warmup import prepare_kernels

    activations.get(act).resolve(**act_params)
    check_dropout(dropout)
    return prepare_kernels([act], resolve_dtype(dtype), optimizer, dropout=dropout > 0).seconds
