"""The session report of ``pytest bench/ --benchmark``: ratio tables, FMA-peak share, targets.

``build`` turns the recorded results into one JSON-able dict, ``render`` prints it as rich
tables, ``to_markdown`` gives the README's table. Re-print a saved report with::

    python bench/report.py .benchmarks/fastact-report.json [--markdown]

Targets (from the engine issues; reported with met / not met, never asserted): the training step
takes <= 0.70x PyTorch eager's time at batch 128 and <= 0.85x at batch 1024 for every activation;
RReLU and PReLU are within 5% of ReLU; at batch 1024 every activation's step is within 15% of
ReLU's and reaches >= 80% of the measured FMA peak; an epoch takes <= 0.5x the PyTorch loop's;
the trainer adds < 10% to the bare step loop; one competing CPU-bound process slows an epoch by
<= 1.6x and by no more than it slows PyTorch's; a fresh install has ``--act all``'s kernels ready
in <= 15 s. A measurement whose spread (IQR / median) exceeds `NOISY` is flagged: on a loaded
machine its ratio is not to be trusted.
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
NEAR_RELU = 0.15  # every activation's b1024 step over relu's
PEAK_TARGET = 0.80  # of the measured FMA peak
EPOCH_TARGET = 0.50
TRAINER_OVERHEAD = 0.10
CONTENTION_SLOWDOWN = 1.6
FIRST_RUN_S = 15.0
#: spread (IQR / median) above which a measurement is flagged as noisy
NOISY = 0.10


def _order(row):
    names = activations.names("every")
    act = names.index(row["act"]) if row["act"] in names else len(names)
    return (benchmarks.OPS.index(row["op"]), act, row["batch"], -row["n_in"])


def _as_result(r):
    return r if isinstance(r, benchmarks.BenchResult) else benchmarks.BenchResult(**r)


def _spread(r) -> float | None:
    if not (math.isfinite(r.median_s) and math.isfinite(r.iqr_s)) or r.median_s <= 0:
        return None
    return r.iqr_s / r.median_s


def build(records: dict, environment: dict, peak: dict) -> dict:
    """The report: every measurement, the ratio table with fastact's GFLOP/s, % of peak and the
    largest spread of the row, the other sections and the targets.

    FLOPs count the GEMMs only (`fastact.benchmarks.op_flops`), as benchdnn does for inner products.
    The % of peak is of the measured peak when there is one (the target's basis), else the nominal.
    """
    results = [_as_result(r) for r in records.get("kernels", [])]
    table = sorted(benchmarks.ratio_table(results), key=_order)
    by_key = {(r.impl, r.op, r.act, r.batch, r.n_in, r.n_out): r for r in results}
    basis = peak.get("measured_gflops") or peak["gflops"]
    for row in table:
        row["peak_pct"] = None
        row["fastact_iqr_ms"] = None
        key = (row["op"], row["act"], row["batch"], row["n_in"], row["n_out"])
        found = (by_key.get((impl, *key)) for impl in benchmarks.IMPLS)
        spreads = [sp for r in found if r is not None and (sp := _spread(r)) is not None]
        row["spread"] = max(spreads) if spreads else None
        row["noisy"] = bool(spreads) and max(spreads) > NOISY
        fa = by_key.get(("fastact", *key))
        if fa is not None and math.isfinite(fa.iqr_s):
            row["fastact_iqr_ms"] = fa.iqr_s * 1e3
        if row["fastact_ms"]:
            flops = benchmarks.op_flops(row["op"], row["batch"], row["n_in"], row["n_out"])
            row["gflops"] = flops / (row["fastact_ms"] * 1e-3) / 1e9
            row["peak_pct"] = 100 * row["gflops"] / basis
    data = {"environment": environment, "peak": {**peak, "basis_gflops": basis}, "table": table,
            "results": [r.to_dict() for r in results]}
    for kind in ("epoch", "memory", "trainer", "contention", "firstrun"):
        data[kind] = list(records.get(kind, []))
    data["targets"] = targets(table, data)
    return data


def _target(name, value, goal, met, noisy=False):
    return {"target": name, "value": value, "goal": goal, "met": bool(met), "noisy": bool(noisy)}


def targets(table: list[dict], data: dict | None = None) -> list[dict]:
    """Each target checked against the measurements: name, value, goal, met, noisy."""
    data = data or {}
    out = []
    steps = {(r["act"], r["batch"]): r for r in table if r["op"] == "step"}
    for (act, batch), r in sorted(steps.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if batch in STEP_TARGET and r["torch_ms"] and r["fastact_ms"]:
            v = r["fastact_ms"] / r["torch_ms"]
            out.append(_target(f"step {act} b{batch}: fastact / torch eager", v, f"<= {STEP_TARGET[batch]:.2f}",
                               v <= STEP_TARGET[batch], r.get("noisy")))
    for act in ("rrelu", "prelu"):
        for batch in sorted({b for _, b in steps}):
            r, relu = steps.get((act, batch)), steps.get(("relu", batch))
            if r and relu and r["fastact_ms"] and relu["fastact_ms"]:
                v = r["fastact_ms"] / relu["fastact_ms"] - 1
                out.append(_target(f"step {act} vs relu b{batch}: extra time", v, f"<= {SAME_AS_RELU:.0%}",
                                   v <= SAME_AS_RELU, r.get("noisy") or relu.get("noisy")))
    relu = steps.get(("relu", 1024))
    for (act, batch), r in sorted(steps.items()):
        if batch == 1024 and act != "relu" and relu and r["fastact_ms"] and relu["fastact_ms"]:
            v = r["fastact_ms"] / relu["fastact_ms"] - 1
            out.append(_target(f"step {act} vs relu b1024: extra time", v, f"<= {NEAR_RELU:.0%}", v <= NEAR_RELU,
                               r.get("noisy") or relu.get("noisy")))
    for (act, batch), r in sorted(steps.items()):
        if batch == 1024 and r["peak_pct"] is not None:
            out.append(_target(f"step {act} b1024: share of measured fp32 FMA peak", r["peak_pct"] / 100,
                               f">= {PEAK_TARGET:.0%}", r["peak_pct"] / 100 >= PEAK_TARGET, r.get("noisy")))
    epochs = {(e["impl"], e["act"]): e for e in data.get("epoch", [])}
    for (impl, act), e in sorted(epochs.items()):
        t = epochs.get(("torch", act))
        if impl == "fastact" and t:
            v = e["seconds"] / t["seconds"]
            out.append(_target(f"epoch {act}: fastact / torch loop", v, f"<= {EPOCH_TARGET:.2f}", v <= EPOCH_TARGET,
                               max(e.get("spread") or 0, t.get("spread") or 0) > NOISY))
    for r in data.get("trainer", []):
        out.append(_target(f"trainer {r['act']}: extra time over the bare step loop", r["overhead"],
                           f"< {TRAINER_OVERHEAD:.0%}", r["overhead"] < TRAINER_OVERHEAD, r["spread"] > NOISY))
    cont = {r["impl"]: r for r in data.get("contention", [])}
    if "fastact" in cont:
        fa = cont["fastact"]
        out.append(_target("epoch with a competing process: fastact slowdown", fa["slowdown"],
                           f"<= {CONTENTION_SLOWDOWN}x", fa["slowdown"] <= CONTENTION_SLOWDOWN, fa["spread"] > NOISY))
        if "torch" in cont:
            to = cont["torch"]
            out.append(_target("epoch with a competing process: fastact slowdown / torch's",
                               fa["slowdown"] / to["slowdown"], "<= 1", fa["slowdown"] <= to["slowdown"],
                               max(fa["spread"], to["spread"]) > NOISY))
    for r in data.get("firstrun", []):
        if r["case"] == "cold":
            out.append(_target(f"first run: kernels of {r['acts']} activations ready, cold (s)", r["kernels_s"],
                               f"<= {FIRST_RUN_S:.0f}", r["kernels_s"] <= FIRST_RUN_S))
    return out


def write_json(data: dict, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str))


def _f(v, digits=3):
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{digits}f}"


def _kernel_table(data: dict):
    from rich.table import Table

    kern = Table(title="fastact vs peers: median ms per call (ratio = peer / fastact; > 1 means fastact is faster; "
                       f"spread = largest IQR / median of the row, ! above {NOISY:.0%})")
    for col in ("op", "act", "batch", "shape", "fastact", "iqr", "numpy", "torch", "numpy/fa", "torch/fa",
                "% peak", "spread"):
        kern.add_column(col, justify="left" if col in ("op", "act") else "right")
    for r in data["table"]:
        kern.add_row(r["op"], r["act"], str(r["batch"]), f"{r['n_in']}x{r['n_out']}", _f(r["fastact_ms"]),
                     _f(r["fastact_iqr_ms"]), _f(r["numpy_ms"]), _f(r["torch_ms"]), _f(r["numpy_ratio"], 2),
                     _f(r["torch_ratio"], 2), _f(r["peak_pct"], 1),
                     _f(r.get("spread"), 2) + _noisy_mark(r.get("noisy")))
    return kern


def _noisy_mark(flag) -> str:
    return "!" if flag else ""


def _tables(data: dict):
    from rich.table import Table

    if data["table"]:
        yield _kernel_table(data)
    torch_epoch = {e["act"]: e["seconds"] for e in data.get("epoch", []) if e["impl"] == "torch"}
    if data.get("epoch"):
        ep = Table(title="one epoch, 60,000 generated MNIST-shaped samples, batch 128, Adam (median of fresh models)")
        for col in ("impl", "act", "seconds", "spread", "samples/s", "vs torch"):
            ep.add_column(col, justify="left" if col in ("impl", "act") else "right")
        for e in data["epoch"]:
            base = torch_epoch.get(e["act"])
            spread = _f(e.get("spread"), 2) + _noisy_mark((e.get("spread") or 0) > NOISY)
            ep.add_row(e["impl"], e["act"], _f(e["seconds"], 2), spread, f"{e['samples_per_s']:,.0f}",
                       _f(e["seconds"] / base if base else None, 2))
        yield ep
    if data.get("trainer"):
        tr = Table(title="the trainer vs the bare train_step loop, same data, alternating (median seconds)")
        for col in ("act", "bare loop", "trainer", "overhead", "with validation", "overhead", "spread"):
            tr.add_column(col, justify="left" if col == "act" else "right")
        for r in data["trainer"]:
            tr.add_row(r["act"], _f(r["bare_s"], 3), _f(r["trainer_s"], 3), f"{r['overhead']:+.1%}",
                       _f(r["trainer_with_validation_s"], 3), f"{r['overhead_with_validation']:+.1%}",
                       _f(r["spread"], 2) + _noisy_mark(r["spread"] > NOISY))
        yield tr
    if data.get("contention"):
        ct = Table(title="a relu epoch alone and with one competing CPU-bound process (median seconds)")
        for col in ("impl", "alone", "with a busy process", "slowdown", "spread"):
            ct.add_column(col, justify="left" if col == "impl" else "right")
        for r in data["contention"]:
            ct.add_row(r["impl"], _f(r["quiet_s"], 3), _f(r["busy_s"], 3), f"{r['slowdown']:.2f}x",
                       _f(r["spread"], 2) + _noisy_mark(r["spread"] > NOISY))
        yield ct
    if data.get("firstrun"):
        fr = Table(title="first run: kernels of `fastact train --act all` (float32, Adam), fresh interpreter")
        for col in ("case", "kernels ready s", "process s", "compiled", "processes"):
            fr.add_column(col, justify="left" if col == "case" else "right")
        for r in data["firstrun"]:
            fr.add_row(r["case"], _f(r["kernels_s"], 1), _f(r["process_s"], 1), f"{r['compiled']} of {r['jobs']}",
                       str(r["processes"]))
        yield fr
    if data.get("memory"):
        mem = Table(title="peak memory of a short training run (MB of RSS above the pre-training baseline)")
        for col in ("impl", "act", "batch", "steps", "MB above baseline", "numpy-traced MB"):
            mem.add_column(col, justify="left" if col in ("impl", "act") else "right")
        for m in data["memory"]:
            mem.add_row(m["impl"], _mem_act(m), str(m["batch"]), str(m["steps"]), _f(m["above_baseline_mb"], 1),
                        _f(m["numpy_traced_peak_mb"], 1))
        yield mem
    if data["targets"]:
        tg = Table(title=f"targets (reported, not asserted; ! = a measurement's spread above {NOISY:.0%})")
        for col in ("target", "value", "goal", "met"):
            tg.add_column(col)
        for t in data["targets"]:
            tg.add_row(t["target"], _f(t["value"], 3), t["goal"], ("yes" if t["met"] else "NO") + _noisy_mark(
                t.get("noisy")))
        yield tg


def _summary_lines(data: dict) -> list[str]:
    env, peak = data["environment"], data["peak"]
    lines = [f"CPU: {env['cpu']['model']} ({env['cpu']['logical_cpus']} logical CPUs, {', '.join(env['cpu']['simd'])})",
             f"fp32 FMA peak: nominal = {peak['how']} = {peak['nominal_gflops']:.0f} GFLOP/s"]
    if "measured_gflops" in peak:
        lines.append(f"measured peak (the basis of % peak) = {peak['measured_how']} = {peak['measured_gflops']:.0f} "
                     "GFLOP/s")
    fa = env["fastact"]
    lines.append(f"fastact: {fa['numba_threads']} threads, threading layer {fa['threading_layer']}")
    for b in env["blas"]:
        lines.append(f"BLAS {b['library']} {b['version']} [{b['architecture']}] {b['threads']} threads, "
                     f"used by {b['used_by']}")
    if env.get("torch"):
        t = env["torch"]
        lines.append(f"torch {t['version']}: {t['threads']} threads, MKL {t['mkl']}, oneDNN {t['mkldnn']}, "
                     f"{t['cpu_capability']}")
    lines.append("env: " + ", ".join(f"{k}={v}" for k, v in env["env"].items() if k.startswith("OPENBLAS_C")
                                     or k.startswith("OPENBLAS_L")))
    load = env.get("load_average") or {}
    if load:
        lines.append("load average (1 min): " + ", ".join(f"{k} {v:.2f}" for k, v in load.items())
                     + (" (a loaded machine: expect noisy ratios)" if max(load.values()) > 1.0 else ""))
    noisy = [r for r in data["table"] if r.get("noisy")]
    if noisy:
        lines.append(f"noisy: {len(noisy)} of {len(data['table'])} kernel rows have a spread above {NOISY:.0%} "
                     "(marked !); re-run them on a quiet machine before trusting their ratios")
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
    """The README's tables: the training step (and any other ``ops``), the other sections, the targets."""
    env, peak = data["environment"], data["peak"]
    torch = env.get("torch") or {}
    numpy_blas = next((b for b in env["blas"] if b["used_by"] == "numpy"), {})
    kernel_blas = next((b for b in env["blas"] if b["used_by"].startswith("fastact")), {})
    load = env.get("load_average") or {}
    out = [f"Machine: {env['cpu']['model']}; fastact {env['fastact']['numba_threads']} threads "
           f"({env['fastact']['threading_layer']}) on {kernel_blas.get('library')} {kernel_blas.get('version')} "
           f"[{kernel_blas.get('architecture')}], 1 BLAS thread per tile; NumPy {env['numpy']} on "
           f"{numpy_blas.get('library')} {numpy_blas.get('version')}; torch {torch.get('version', 'not installed')} "
           f"({torch.get('threads', '-')} threads). fp32 FMA peak measured "
           f"{peak.get('measured_gflops', 0):.0f} GFLOP/s (nominal {peak['nominal_gflops']:.0f})."
           + (f" Load average {', '.join(f'{k} {v:.2f}' for k, v in load.items())}." if load else "")
           + " Reproduce: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE pytest bench/ --benchmark`.", "",
           "| op | activation | batch | fastact ms | NumPy ms | torch ms | torch / fastact | % FMA peak | spread |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in data["table"]:
        if r["op"] in ops:
            out.append(f"| {r['op']} | {r['act']} | {r['batch']} | {_f(r['fastact_ms'])} | {_f(r['numpy_ms'])} | "
                       f"{_f(r['torch_ms'])} | {_f(r['torch_ratio'], 2)} | {_f(r['peak_pct'], 1)} | "
                       f"{_f(r.get('spread'), 2)}{_noisy_mark(r.get('noisy'))} |")
    if data.get("epoch"):
        out += ["", "| one epoch (60k samples, batch 128, Adam) | seconds | spread |", "|---|---:|---:|"]
        out += [f"| {e['impl']} {e['act']} | {_f(e['seconds'], 2)} | {_f(e.get('spread'), 2)} |" for e in data["epoch"]]
    if data.get("trainer"):
        out += ["", "| trainer vs bare loop | bare s | trainer s | overhead | with validation |",
                "|---|---:|---:|---:|---:|"]
        out += [f"| {r['act']} | {_f(r['bare_s'], 3)} | {_f(r['trainer_s'], 3)} | {r['overhead']:+.1%} | "
                f"{r['overhead_with_validation']:+.1%} |" for r in data["trainer"]]
    if data.get("contention"):
        out += ["", "| relu epoch, one competing process | alone s | busy s | slowdown |", "|---|---:|---:|---:|"]
        out += [f"| {r['impl']} | {_f(r['quiet_s'], 3)} | {_f(r['busy_s'], 3)} | {r['slowdown']:.2f}x |"
                for r in data["contention"]]
    if data.get("firstrun"):
        out += ["", "| first run, `--act all` kernels | ready s | process s | compiled | processes |",
                "|---|---:|---:|---:|---:|"]
        out += [f"| {r['case']} | {_f(r['kernels_s'], 1)} | {_f(r['process_s'], 1)} | {r['compiled']} of {r['jobs']} | "
                f"{r['processes']} |" for r in data["firstrun"]]
    if data.get("memory"):
        out += ["", "| memory, short run at batch 1024 | MB above baseline |", "|---|---:|"]
        out += [f"| {m['impl']} {_mem_act(m)} | {_f(m['above_baseline_mb'], 1)} |" for m in data["memory"]]
    if data.get("targets"):
        out += ["", "| target | value | goal | met |", "|---|---:|---:|---|"]
        out += [f"| {t['target']} | {_f(t['value'], 3)} | {t['goal']} | {'yes' if t['met'] else 'no'}"
                f"{' (noisy)' if t.get('noisy') else ''} |" for t in data["targets"]]
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
