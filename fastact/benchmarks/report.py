"""The report: GEMM FLOPs of each operation, the ratio table, and its rich rendering."""

from __future__ import annotations

import math

from fastact.benchmarks.config import IMPLS, N_CLASSES, OPS, _check_choice
from fastact.benchmarks.timing import BenchResult


def step_flops(batch: int, n_in: int, n_out: int, n_classes: int = N_CLASSES) -> int:
    """Multiply-add FLOPs of one training step (2 per FMA); the input layer computes no dx."""
    forward = 2 * batch * (n_in * n_out + n_out * n_classes)
    backward = 2 * batch * (2 * n_out * n_classes + n_in * n_out)
    return forward + backward


def op_flops(op: str, batch: int, n_in: int, n_out: int) -> int:
    """Multiply-add FLOPs of one call of ``op``: the GEMMs only (element-wise work is not counted)."""
    _check_choice("op", op, OPS)
    if op == "step":
        return step_flops(batch, n_in, n_out)
    gemms = 1 if op == "forward" else 2  # backward: dw = x.T @ dz and dx = dz @ w.T
    return 2 * batch * n_in * n_out * gemms


def ratio_table(results: list[BenchResult]) -> list[dict]:
    """One row per (op, act, batch, shape): each impl's median in ms and peer / fastact ratios."""
    rows: dict[tuple, dict] = {}
    for r in results:
        key = (r.op, r.act, r.batch, r.n_in, r.n_out)
        row = rows.setdefault(key, {"op": r.op, "act": r.act, "batch": r.batch, "n_in": r.n_in,
                                    "n_out": r.n_out, "fastact_ms": None, "numpy_ms": None,
                                    "torch_ms": None, "notes": []})
        ms = r.median_s * 1e3 if math.isfinite(r.median_s) else None
        row[f"{r.impl}_ms"] = ms
        if r.note:
            row["notes"].append(r.note)
    for row in rows.values():
        for peer in ("numpy", "torch"):
            f, p = row["fastact_ms"], row[f"{peer}_ms"]
            row[f"{peer}_ratio"] = p / f if f and p else None
    return list(rows.values())


def render_table(rows: list[dict], title: str = "fastact benchmarks{at} (median ms; ratio = peer / fastact)",
                 peak: dict | None = None):
    """A rich Table of `ratio_table` rows, with fastact's share of ``peak`` (GEMM FLOPs) if given.

    An implementation not measured in any row (torch not installed, ``--impls`` without it)
    has no columns; without fastact there are no ratio or peak columns. A batch size or shape
    shared by every row goes in the title (``{at}``) instead of a column, so the usual table
    fits 80 columns. Numbers never wrap or shorten; the names (op, act) fold when the console
    is narrower than the table.
    """
    from rich.table import Table

    impls = [i for i in IMPLS if any(r[f"{i}_ms"] is not None for r in rows)]
    peers = [p for p in impls if p != "fastact"] if "fastact" in impls else []
    with_peak = bool(peak) and "fastact" in impls
    shape = lambda r: f"{r['n_in']}x{r['n_out']}"  # noqa: E731
    batches, shapes = {r["batch"] for r in rows}, {shape(r) for r in rows}
    at = [f"batch {next(iter(batches))}"] if len(batches) == 1 else []
    at += [next(iter(shapes))] if len(shapes) == 1 else []
    table = Table(title=title.format(at=f" at {', '.join(at)}" if at else ""))
    for col in ("op", "act"):
        table.add_column(col, overflow="fold")
    numeric = [*([] if len(batches) == 1 else ["batch"]), *([] if len(shapes) == 1 else ["shape"]), *impls,
               *(f"{p}/fa" for p in peers), *(["% peak"] if with_peak else [])]
    for col in numeric:
        table.add_column(col, justify="right", no_wrap=True)
    fmt = lambda v, d=3: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    for r in rows:
        cells = [r["op"], r["act"], *([] if len(batches) == 1 else [str(r["batch"])]),
                 *([] if len(shapes) == 1 else [shape(r)]),
                 *(fmt(r[f"{i}_ms"]) for i in impls), *(fmt(r[f"{p}_ratio"], 2) for p in peers)]
        if with_peak:
            share = None
            if r["fastact_ms"]:
                share = 100 * op_flops(r["op"], r["batch"], r["n_in"], r["n_out"]) / (r["fastact_ms"] * 1e-3) \
                    / (peak["gflops"] * 1e9)
            cells.append(fmt(share, 1))
        table.add_row(*cells)
    return table
