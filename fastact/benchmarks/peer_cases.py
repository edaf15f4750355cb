"""The NumPy and torch cases: the same forward, backward and SGD step as fastact's, from its weights."""

from __future__ import annotations

import numpy as np

from fastact import activations
from fastact.benchmarks.config import SGD_LR
from fastact.benchmarks.noise import counter_uniform, rrelu_slopes
from fastact.benchmarks.peers import NUMPY_ACTS, TORCH_ACTS, _torch_fixed_slopes
from fastact.benchmarks.reference import Case, _inputs, _reference


def _log_softmax_xent(logits, labels):
    """(mean loss, d mean loss / d logits) with the max subtracted first."""
    s = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(s)
    total = e.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = float(np.mean(np.log(total[:, 0]) - s[np.arange(n), labels]))
    g = e / total
    g[np.arange(n), labels] -= 1
    return loss, g / logits.dtype.type(n)


class _NumpyCase(Case):
    def __init__(self, op, act, batch, n_in, n_out, seed, act_params, exact_noise):
        self.x, self.dy, self.labels = _inputs(batch, n_in, n_out, seed)
        layers, self.p = _reference(op, act, n_in, n_out, seed, act_params)
        self.fwd, self.grad = NUMPY_ACTS[act]
        self.random = activations.get(act).random
        self.exact, self.seed, self.op, self.batch, self.n_out = exact_noise, seed, op, batch, n_out
        self.rng = np.random.default_rng(seed + 2)
        self.steps = 0
        self.u = None
        self.w, self.b = layers[0]
        if op == "step":
            self.w2, self.b2 = layers[1]
            self.fn = self._step
        elif op == "forward":
            self.fn = self._forward
        else:
            self._forward()
            self.fn = self._backward

    def _noise(self, step):
        if not self.random:
            return None
        shape = (self.batch, self.n_out)
        if self.exact:
            return rrelu_slopes(self.p, counter_uniform(self.seed, step, 0, shape), np.float32)
        u = self.rng.random(shape, dtype=np.float32)
        lo, hi = np.float32(self.p["lower"]), np.float32(self.p["upper"])
        return lo + (hi - lo) * u

    def _forward(self):
        self.u = self._noise(0)
        self.z = self.x @ self.w + self.b
        self.y = self.fwd(self.z, self.p, self.u)
        return self.y

    def _backward(self):
        dz = self.dy * self.grad(self.z, self.y, self.p, self.u)
        self.dw = self.x.T @ dz
        self.db = dz.sum(axis=0)
        self.dx = dz @ self.w.T
        if "prelu_alpha" in self.p:
            self.dalpha = (self.dy * np.where(self.z > 0, 0, self.z)).sum(axis=0)
        return self.dx

    def _step(self):
        u = self._noise(self.steps)
        z = self.x @ self.w + self.b
        h = self.fwd(z, self.p, u)
        logits = h @ self.w2 + self.b2
        self.loss, g = _log_softmax_xent(logits, self.labels)
        dw2, db2 = h.T @ g, g.sum(axis=0)
        dh = g @ self.w2.T
        dz = dh * self.grad(z, h, self.p, u)
        dw, db = self.x.T @ dz, dz.sum(axis=0)
        lr = np.float32(SGD_LR)
        if "prelu_alpha" in self.p:
            dalpha = (dh * np.where(z > 0, 0, z)).sum(axis=0)
            if self.p["prelu_alpha"].size == 1:
                dalpha = dalpha.sum(keepdims=True)
            self.p["prelu_alpha"] -= lr * dalpha
        self.w -= lr * dw
        self.b -= lr * db
        self.w2 -= lr * dw2
        self.b2 -= lr * db2
        self.steps += 1

    def outputs(self):
        if self.op == "forward":
            return {"y": self.y}
        if self.op == "backward":
            out = {"dx": self.dx, "dw": self.dw, "db": self.db}
            if "prelu_alpha" in self.p:
                out["dalpha"] = self.dalpha
            return out
        out = {"loss": np.array(self.loss), "w0": self.w, "b0": self.b, "w1": self.w2, "b1": self.b2}
        if "prelu_alpha" in self.p:
            out["alpha0"] = self.p["prelu_alpha"]
        return out


class _TorchCase(Case):
    def __init__(self, op, act, batch, n_in, n_out, seed, act_params, exact_noise):
        import torch
        import torch.nn.functional as F

        x, dy, labels = _inputs(batch, n_in, n_out, seed)
        layers, p = _reference(op, act, n_in, n_out, seed, act_params)
        self.op, self.has_alpha = op, "prelu_alpha" in p
        slopes = None
        if activations.get(act).random and exact_noise:
            slopes = rrelu_slopes(p, counter_uniform(seed, 0, 0, (batch, n_out)), np.float32)

        def linear(w, b):
            lin = torch.nn.Linear(w.shape[0], w.shape[1])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w.T.copy()))
                lin.bias.copy_(torch.from_numpy(b))
            return lin

        self.act = _torch_fixed_slopes(slopes) if slopes is not None else TORCH_ACTS[act](p, n_out)
        self.lin = linear(*layers[0])
        self.x = torch.from_numpy(x)
        if op == "step":
            self.model = torch.nn.Sequential(self.lin, self.act, linear(*layers[1]))
            self.labels = torch.from_numpy(labels)
            self.opt = torch.optim.SGD(self.model.parameters(), lr=SGD_LR)

            def step():
                self.opt.zero_grad(set_to_none=True)
                self.loss = F.cross_entropy(self.model(self.x), self.labels)
                self.loss.backward()
                self.opt.step()

            self.fn = step
        elif op == "forward":
            self.fn = lambda: self.act(self.lin(self.x))
        else:
            self.x.requires_grad_(True)
            self.dy = torch.from_numpy(dy)
            self.y = self.act(self.lin(self.x))
            params = [self.x, *self.lin.parameters(), *self.act.parameters()]

            def backward():
                for t in params:
                    t.grad = None
                self.y.backward(self.dy, retain_graph=True)

            self.fn = backward

    def outputs(self):
        np_ = lambda t: t.detach().numpy().copy()  # noqa: E731
        if self.op == "forward":
            return {"y": np_(self.fn())}
        if self.op == "backward":
            out = {"dx": np_(self.x.grad), "dw": np_(self.lin.weight.grad).T, "db": np_(self.lin.bias.grad)}
            if self.has_alpha:
                out["dalpha"] = np_(self.act.weight.grad)
            return out
        lin0, lin1 = self.model[0], self.model[2]
        out = {"loss": np.array(self.loss.item()), "w0": np_(lin0.weight).T, "b0": np_(lin0.bias),
               "w1": np_(lin1.weight).T, "b1": np_(lin1.bias)}
        if self.has_alpha:
            out["alpha0"] = np_(self.act.weight)
        return out
