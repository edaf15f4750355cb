"""The session report of ``pytest bench/ --benchmark``: ratio tables, FMA-peak share, targets.

``build`` turns the recorded results into one JSON-able dict, ``render`` prints it as rich
tables, ``to_markdown`` gives the README's table. Re-print a saved report with::

    python bench/report.py .benchmarks/fastact-report.json [--markdown]

Targets (from the engine issue; reported, never asserted): the training step takes
<= 0.70x PyTorch eager's time at batch 128 and <= 0.85x at batch 1024 for every activation;
RReLU and PReLU are within 5% of ReLU; the step reaches >= 65% of the fp32 FMA peak at 1024.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from pathlib import Path

from fastact import activations, benchmarks

STEP_TARGET = {128: 0.70, 1024: 0.85}  # fastact time / torch time, at most
SAME_AS_RELU = 0.05
PEAK_TARGET = 0.65


def _order(row):
    names = activations.names("every")
    act = names.index(row["act"]) if row["act"] in names else len(names)
    return (benchmarks.OPS.index(row["op"]), act, row["batch"], -row["n_in"])


def _as_result(r):
    return r if isinstance(r, benchmarks.BenchResult) else benchmarks.BenchResult(**r)


def build(records: dict, environment: dict, peak: dict) -> dict:
    """The report: every measurement, the ratio table with fastact's GFLOP/s and % of peak, the targets.

    FLOPs count the GEMMs only (`fastact.benchmarks.op_flops`), as benchdnn does for inner products.
    """
    results = [_as_result(r) for r in records.get("kernels", [])]
    table = sorted(benchmarks.ratio_table(results), key=_order)
    by_key = {(r.impl, r.op, r.act, r.batch, r.n_in, r.n_out): r for r in results}
    for row in table:
        row["peak_pct"] = None
        row["fastact_iqr_ms"] = None
        fa = by_key.get(("fastact", row["op"], row["act"], row["batch"], row["n_in"], row["n_out"]))
        if fa is not None and math.isfinite(fa.iqr_s):
            row["fastact_iqr_ms"] = fa.iqr_s * 1e3
        if row["fastact_ms"]:
            flops = benchmarks.op_flops(row["op"], row["batch"], row["n_in"], row["n_out"])
            row["gflops"] = flops / (row["fastact_ms"] * 1e-3) / 1e9
            row["peak_pct"] = 100 * row["gflops"] / peak["gflops"]
    return {"environment": environment, "peak": peak, "table": table, "results": [r.to_dict() for r in results],
            "epoch": list(records.get("epoch", [])), "memory": list(records.get("memory", [])),
            "targets": targets(table)}


def targets(table: list[dict]) -> list[dict]:
    """Each target of the engine issue checked against the step rows: name, value, goal, met."""
    out = []
    steps = {(r["act"], r["batch"]): r for r in table if r["op"] == "step"}
    for (act, batch), r in sorted(steps.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if batch in STEP_TARGET and r["torch_ms"] and r["fastact_ms"]:
            v = r["fastact_ms"] / r["torch_ms"]
            out.append({"target": f"step {act} b{batch}: fastact / torch eager", "value": v,
                        "goal": f"<= {STEP_TARGET[batch]:.2f}", "met": v <= STEP_TARGET[batch]})
    for act in ("rrelu", "prelu"):
        for batch in sorted({b for _, b in steps}):
            r, relu = steps.get((act, batch)), steps.get(("relu", batch))
            if r and relu and r["fastact_ms"] and relu["fastact_ms"]:
                v = r["fastact_ms"] / relu["fastact_ms"] - 1
                out.append({"target": f"step {act} vs relu b{batch}: extra time", "value": v,
                            "goal": f"<= {SAME_AS_RELU:.0%}", "met": v <= SAME_AS_RELU})
    for (act, batch), r in sorted(steps.items()):
        if batch == 1024 and r["peak_pct"] is not None:
            out.append({"target": f"step {act} b1024: share of fp32 FMA peak", "value": r["peak_pct"] / 100,
                        "goal": f">= {PEAK_TARGET:.0%}", "met": r["peak_pct"] / 100 >= PEAK_TARGET})
    return out


def write_json(data: dict, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str))


def _f(v, digits=3):
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{digits}f}"


def _kernel_table(data: dict):
    from rich.table import Table

    kern = Table(title="fastact vs peers: median ms per call (ratio = peer / fastact; > 1 means fastact is faster)")
    for col in ("op", "act", "batch", "shape", "fastact", "iqr", "numpy", "torch", "numpy/fa", "torch/fa",
                "% peak"):
        kern.add_column(col, justify="left" if col in ("op", "act") else "right")
    for r in data["table"]:
        kern.add_row(r["op"], r["act"], str(r["batch"]), f"{r['n_in']}x{r['n_out']}", _f(r["fastact_ms"]),
                     _f(r["fastact_iqr_ms"]), _f(r["numpy_ms"]), _f(r["torch_ms"]), _f(r["numpy_ratio"], 2),
                     _f(r["torch_ratio"], 2), _f(r["peak_pct"], 1))
    return kern


def _tables(data: dict):
    from rich.table import Table

    if data["table"]:
        yield _kernel_table(data)
    if data["epoch"]:
        ep = Table(title="one epoch, 60,000 generated MNIST-shaped samples, batch 128, Adam")
        for col in ("impl", "act", "seconds", "samples/s", "vs fastact"):
            ep.add_column(col, justify="left" if col in ("impl", "act") else "right")
        fa = {e["act"]: e["seconds"] for e in data["epoch"] if e["impl"] == "fastact"}
        for e in data["epoch"]:
            base = fa.get(e["act"])
            ep.add_row(e["impl"], e["act"], _f(e["seconds"], 2), f"{e['samples_per_s']:,.0f}",
                       _f(e["seconds"] / base if base else None, 2))
        yield ep
    if data["memory"]:
        mem = Table(title="peak memory of a short training run (MB of RSS above the pre-training baseline)")
        for col in ("impl", "act", "batch", "steps", "MB above baseline", "numpy-traced MB"):
            mem.add_column(col, justify="left" if col in ("impl", "act") else "right")
        for m in data["memory"]:
            mem.add_row(m["impl"], _mem_act(m), str(m["batch"]), str(m["steps"]), _f(m["above_baseline_mb"], 1),
                        _f(m["numpy_traced_peak_mb"], 1))
        yield mem
    if data["targets"]:
        tg = Table(title="targets from the engine issue (reported, not asserted)")
        for col in ("target", "value", "goal", "met"):
            tg.add_column(col)
        for t in data["targets"]:
            tg.add_row(t["target"], _f(t["value"], 3), t["goal"], "yes" if t["met"] else "NO")
        yield tg


def _summary_lines(data: dict) -> list[str]:
    env, peak = data["environment"], data["peak"]
    lines = [f"CPU: {env['cpu']['model']} ({env['cpu']['logical_cpus']} logical CPUs, {', '.join(env['cpu']['simd'])})",
             f"fp32 FMA peak used for % peak: {peak['gflops']:.0f} GFLOP/s "
             f"({peak.get('basis', 'nominal')}); nominal = {peak['how']} = {peak['nominal_gflops']:.0f}"]
    if "measured_gflops" in peak:
        lines.append(f"measured BLAS peak = {peak['measured_how']} = {peak['measured_gflops']:.0f} GFLOP/s")
    lines.append(f"fastact: {env['fastact']['numba_threads']} numba threads, layer {env['fastact']['threading_layer']}")
    for b in env["blas"]:
        lines.append(f"BLAS {b['library']} {b['version']} [{b['architecture']}] {b['threads']} threads, "
                     f"used by {b['used_by']}")
    if env.get("torch"):
        t = env["torch"]
        lines.append(f"torch {t['version']}: {t['threads']} threads, MKL {t['mkl']}, oneDNN {t['mkldnn']}, "
                     f"{t['cpu_capability']}")
    lines.append("env: " + ", ".join(f"{k}={v}" for k, v in env["env"].items() if k.startswith("OPENBLAS_C")
                                     or k.startswith("OPENBLAS_L")))
    return lines


def render(data: dict, width: int = 150) -> str:
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=False, color_system=None)
    for table in _tables(data):
        console.print(table)
    for line in _summary_lines(data):
        console.print(line, highlight=False, soft_wrap=True)
    return buf.getvalue()


def to_markdown(data: dict, ops=("step",)) -> str:
    """The README's tables: the training step (and any other ``ops``), epoch and memory."""
    env, peak = data["environment"], data["peak"]
    torch = env.get("torch") or {}
    numpy_blas = next((b for b in env["blas"] if b["used_by"] == "numpy"), {})
    out = [f"Machine: {env['cpu']['model']}, {env['fastact']['numba_threads']} threads for every implementation; "
           f"NumPy {env['numpy']} on {numpy_blas.get('library')} {numpy_blas.get('version')}; "
           f"torch {torch.get('version', 'not installed')}. fp32 FMA peak {peak['gflops']:.0f} GFLOP/s "
           f"({peak.get('basis', 'nominal')}). Reproduce: "
           "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE pytest bench/ --benchmark`.", "",
           "| op | activation | batch | fastact ms | NumPy ms | torch ms | torch / fastact | % FMA peak |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in data["table"]:
        if r["op"] in ops:
            out.append(f"| {r['op']} | {r['act']} | {r['batch']} | {_f(r['fastact_ms'])} | {_f(r['numpy_ms'])} | "
                       f"{_f(r['torch_ms'])} | {_f(r['torch_ratio'], 2)} | {_f(r['peak_pct'], 1)} |")
    if data["epoch"]:
        out += ["", "| one epoch (60k samples, batch 128) | seconds |", "|---|---:|"]
        out += [f"| {e['impl']} {e['act']} | {_f(e['seconds'], 2)} |" for e in data["epoch"]]
    if data["memory"]:
        out += ["", "| memory, short run at batch 1024 | MB above baseline |", "|---|---:|"]
        out += [f"| {m['impl']} {_mem_act(m)} | {_f(m['above_baseline_mb'], 1)} |" for m in data["memory"]]
    return "\n".join(out) + "\n"


def _mem_act(m: dict) -> str:
    """``relu``, ``relu + dropout 0.5``."""
    return m["act"] + (f" + dropout {m['dropout']:g}" if m.get("dropout") else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Print a saved fastact benchmark report.")
    parser.add_argument("path", nargs="?", default=".benchmarks/fastact-report.json")
    parser.add_argument("--markdown", action="store_true", help="print the README's markdown tables")
    args = parser.parse_args(argv)
    data = json.loads(Path(args.path).read_text())
    sys.stdout.write(to_markdown(data) if args.markdown else render(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
