"""Figure 6: the activations and their derivatives, computed by the engine from the activation table.

Each curve is the table entry's own scalar code, run through the fused kernel that trains: a
``Dense(1, 1)`` layer with ``w = 1, b = 0`` has ``z = x`` exactly (``x * 1 + 0``), so its forward
output is ``f(z)`` and its backward pass with ``dy = 1`` returns ``dx = f'(z) * w = f'(z)``.
Nothing is re-implemented here, so the figure shows what the kernels compute.

PReLU is drawn at its initial slope (it is learned per unit in training); RReLU at its
evaluation slope ``(lower + upper) / 2``, with a band over the slopes training draws from
(``lower..upper``: the same entry evaluated with both bounds set to each end).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fastact import activations
from fastact.experiments.figures import palette, style

Z_RANGE = (-4.0, 4.0)
N_POINTS = 801  # odd: z = 0 is a grid point, and the kinks fall on it


@dataclass
class Curve:
    act: str
    label: str
    y: np.ndarray
    dy: np.ndarray
    band: tuple[np.ndarray, np.ndarray] | None = None  # (y at one end, y at the other) of RReLU's range
    dband: tuple[np.ndarray, np.ndarray] | None = None


@dataclass
class ShapesFigure:
    title: str
    z: np.ndarray
    rows: list[list[Curve]]  # one row of panels (f and f') per group of at most MAX_LEGEND curves
    notes: list[str] = field(default_factory=list)


def evaluate(act: str, z: np.ndarray, dtype: str = "float32", **params) -> tuple[np.ndarray, np.ndarray]:
    """``(f(z), f'(z))`` of table entry ``act`` with ``params`` (defaults otherwise), from the kernels."""
    from fastact.nn import Dense

    layer = Dense(1, 1, act, dtype, rng=np.random.default_rng(0), **params)
    layer.w[...] = 1.0
    layer.b[...] = 0.0
    x = np.ascontiguousarray(z, dtype=layer.dtype).reshape(-1, 1)
    y = np.array(layer.forward(x, training=False), dtype=np.float64).ravel()
    dx = np.array(layer.backward(np.ones_like(x)), dtype=np.float64).ravel()
    return y, dx


def _label(a: activations.Activation) -> str:
    p = a.defaults
    if a.learnable:
        return f"{a.name} ({a.learnable} {p[a.learnable]:g}, learned)"
    if a.random:
        lo, hi = p["lower"], p["upper"]
        return f"{a.name} (eval slope {(lo + hi) / 2:.3g}; band {lo:.3g}..{hi:.3g})"
    shown = {k: v for k, v in p.items() if k != "threshold"}
    return f"{a.name} ({', '.join(f'{k} {v:g}' for k, v in shown.items())})" if shown else a.name


def shapes_data(acts=None, z_range=Z_RANGE, n_points: int = N_POINTS, dtype: str = "float32") -> ShapesFigure:
    """The curves of ``acts`` (table names; default the seed experiment's seven), at their defaults."""
    names = list(acts) if acts is not None else activations.names("seed")
    z = np.linspace(*z_range, n_points)
    curves = []
    for name in names:
        a = activations.get(name)
        y, dy = evaluate(a.name, z, dtype)
        c = Curve(a.name, _label(a), y, dy)
        if a.random:
            p = a.defaults
            lo = evaluate(a.name, z, dtype, lower=p["lower"], upper=p["lower"])
            hi = evaluate(a.name, z, dtype, lower=p["upper"], upper=p["upper"])
            c.band, c.dband = (lo[0], hi[0]), (lo[1], hi[1])
        curves.append(c)
    rows = style.chunks(curves, style.MAX_LEGEND)
    notes = [f"{len(curves)} activations in {len(rows)} rows (at most {style.MAX_LEGEND} per legend)"] \
        if len(rows) > 1 else []
    return ShapesFigure("Activations f(z) and derivatives f'(z), evaluated by fastact's kernels from the "
                        "activation table", z, rows, notes)


def draw(data: ShapesFigure):
    rows = len(data.rows)
    with style.style_context():
        fig, axes = style.new_figure(rows, 2, height=style.PANEL_H * rows + 1.0 + 0.2 * len(data.notes))
        for r, curves in enumerate(data.rows):
            f_ax, d_ax = axes[r]
            for c in curves:
                color = palette.color(c.act)
                f_ax.plot(data.z, c.y, color=color, label=c.label, linewidth=1.5)
                d_ax.plot(data.z, c.dy, color=color, label=c.label, linewidth=1.5)
                if c.band is not None:
                    f_ax.fill_between(data.z, *c.band, color=color, alpha=0.18, linewidth=0)
                    d_ax.fill_between(data.z, *c.dband, color=color, alpha=0.18, linewidth=0)
            f_ax.set_title("f(z)")
            d_ax.set_title("f'(z) (left derivative at the kinks)")
            for ax, what in ((f_ax, "f(z)"), (d_ax, "f'(z)")):
                ax.set_xlabel(style.AXIS["z"])
                ax.set_ylabel(what)
                ax.axhline(0, color="#999999", linewidth=0.6)
                ax.axvline(0, color="#999999", linewidth=0.6)
            # f: the z range fixes the top; below -2 only linear goes on. f': the data, with room.
            f_ax.set_ylim(-2.0, 4.3)
            d_lo = min(0.0, *(float(c.dy.min()) for c in curves))
            d_hi = max(1.0, *(float(c.dy.max()) for c in curves))
            d_ax.set_ylim(d_lo - 0.08 * (d_hi - d_lo) - 0.02, d_hi + 0.08 * (d_hi - d_lo))
        # One legend for both panels (the same curves), under them: inside, it would hide the
        # z < 0 half where the ReLU family differs.
        handles, labels = axes[-1][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(4, max(1, len(labels))))
        style.suptitle(fig, data.title, data.notes)
    return fig
