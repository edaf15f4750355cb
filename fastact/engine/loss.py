"""Softmax cross-entropy fused with its backward.

For logits ``s`` (B, C) and integer labels ``t``::

    loss_i   = logsumexp(s_i) - s_i[t_i]        (max subtracted first: stable)
    dlogit_i = (softmax(s_i) - onehot(t_i)) * scale

``scale`` is 1/B for a mean loss. One pass per row computes the loss, whether
the row's arg-max is right, and the gradient. Per-row results are written to
arrays and summed by the caller in a fixed order, so totals do not depend on
the thread count.
"""

from __future__ import annotations

import math

from fastact.engine.jit import parallel_exact, prange


@parallel_exact
def softmax_xent(logits, labels, scale, dlogits, row_loss, row_correct, want_grad):
    n, c = logits.shape
    for i in prange(n):
        s = logits[i]
        m = s[0]
        arg = 0
        for j in range(1, c):
            if s[j] > m:
                m = s[j]
                arg = j
        total = 0.0
        for j in range(c):
            total += math.exp(s[j] - m)
        t = labels[i]
        # (m - s[t]) first: exactly 0 when the label holds the max, whatever its scale.
        row_loss[i] = math.log(total) + (m - s[t])
        row_correct[i] = 1 if arg == t else 0
        if want_grad:
            inv = 1.0 / total
            for j in range(c):
                dlogits[i, j] = math.exp(s[j] - m) * inv * scale
            dlogits[i, t] -= scale
