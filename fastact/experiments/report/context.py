"""What was run, from the runs' own records (each run's ``config.json``, `protocol.meta_of`):
the dataset and whether its files matched their published checksums, the package versions,
the machine (platform, BLAS, threading layer, threads), and when and for how long it ran.

A detail that differs between runs is listed with how many runs had each value, never taken
from the first run alone.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections import Counter

from fastact.experiments.figures.protocol import meta_of


def _count(values) -> list[tuple[str, int]]:
    return Counter(v for v in values if v).most_common()


def _join(counted: list[tuple[str, int]], total: int) -> str:
    if not counted:
        return "not recorded"
    if len(counted) == 1 and counted[0][1] == total:
        return counted[0][0]
    return "; ".join(f"{v} ({n} run{'s' if n != 1 else ''})" for v, n in counted)


def checksum_status(data: dict) -> str:
    """``verified (4 files ok)``, ``MISMATCH: train-images... `` or ``unverified (...)``."""
    sums = data.get("checksums") or {}
    if not sums:
        return "not recorded"
    bad = [f for f, s in sums.items() if s == "mismatch"]
    unverified = [f for f, s in sums.items() if s not in ("ok", "mismatch")]
    if bad:
        return f"MISMATCH in {', '.join(sorted(bad))}"
    if unverified:
        return f"unverified: {', '.join(sorted(unverified))} (no published digest)"
    return f"verified ({len(sums)} files match their published SHA-256)"


def dataset_lines(runs) -> list[str]:
    metas = [meta_of(r) for r in runs]
    datas = [m.get("data") or {} for m in metas]
    names = _count(d.get("name") or r["config"].get("dataset") for d, r in zip(datas, runs))
    sources = _count(d.get("source") for d in datas)
    status = _count(checksum_status(d) for d in datas)
    sizes = _count(f"{d['n_train']} train / {d['n_val']} validation / {d['n_test']} test"
                   for d in datas if {"n_train", "n_val", "n_test"} <= d.keys())
    n = len(runs)
    return [f"dataset: {_join(names, n)}", f"files: {_join(sources, n)}", f"checksums: {_join(status, n)}",
            f"split sizes: {_join(sizes, n)}"]


def versions_line(runs) -> str:
    counted = _count(", ".join(f"{k} {v}" for k, v in (meta_of(r).get("versions") or {}).items()
                               if k != "platform") for r in runs)
    return f"versions: {_join(counted, len(runs))}"


def machine_lines(runs) -> list[str]:
    metas = [meta_of(r) for r in runs]
    n = len(runs)
    platform = _count((m.get("versions") or {}).get("platform") for m in metas)
    blas = _count(" ".join(str(b.get(k)) for k in ("library", "version", "architecture") if b.get(k))
                  for b in (m.get("blas") or {} for m in metas))
    layer = _count(m.get("threading_layer") for m in metas)
    threads = _count(str(m.get("threads_used")) for m in metas if m.get("threads_used") is not None)
    return [f"platform: {_join(platform, n)}", f"BLAS: {_join(blas, n)}", f"threading layer: {_join(layer, n)}",
            f"threads: {_join(threads, n)}"]


def _parse(stamp):
    try:
        return _dt.datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return None


def time_line(runs) -> str:
    starts = [t for t in (_parse(meta_of(r).get("started")) for r in runs) if t]
    train = sum(r.get("seconds") or sum(h.get("seconds") or 0 for h in r["history"]) for r in runs)
    parts = [f"training time {train / 60:.1f} min over {len(runs)} runs"]
    if starts:
        parts.insert(0, f"started {min(starts).isoformat()}, last run started {max(starts).isoformat()}")
    return "time: " + "; ".join(parts)


def status_line(runs) -> str:
    counted = Counter(r["status"] for r in runs)
    return "runs: " + ", ".join(f"{n} {s}" for s, n in counted.most_common())


def context_lines(runs) -> list[str]:
    """Every line of the report's "what was run" list."""
    return [status_line(runs), *dataset_lines(runs), versions_line(runs), *machine_lines(runs), time_line(runs)]


def spec_text(spec) -> str:
    """The study's spec as TOML text (what `fastact study` read), or a JSON dump of a plain dict."""
    if spec is None:
        return ""
    if isinstance(spec, str):
        return spec
    text = getattr(spec, "text", None)
    return text if text else json.dumps(spec, indent=2, default=str)
