"""The report of a study folder (what `fastact study` writes, `fastact.experiments.runner`):
``report.md``, ``report.html`` and ``figures/`` beside its ``spec.toml``, ``study.json`` and
``runs/``.

Each part of the spec becomes a section of results: the groups of its points (``study.json``
lists each point's parts), its baseline and ``within`` from the spec. The built-in ``seed``
study also gets its claims checked (`claims`).
"""

from __future__ import annotations

import json
from pathlib import Path

from fastact.experiments.figures.plan import relabel
from fastact.experiments.report.build import FIGURES, ReportFiles, write_report
from fastact.experiments.report.results import Part, ordered
from fastact.training import runs as saved

SPEC, STATE, RUNS = "spec.toml", "study.json", "runs"


def is_study(path) -> bool:
    """Whether ``path`` is a study folder (it holds the spec and the state `fastact study` writes)."""
    p = Path(path)
    return (p / SPEC).is_file() and (p / STATE).is_file()


def _parts(spec, state: dict, groups) -> list[Part]:
    by_key: dict[str, list[str]] = {pt["key"]: pt.get("parts", []) for pt in state.get("points", [])}
    parts = []
    for sp in spec.parts:
        members = [g for g in groups if any(sp.name in by_key.get(Path(r["dir"]).name, []) for r in g.runs)]
        if members:
            parts.append(Part(sp.name, sp.title or sp.name, ordered(relabel(members)), sp.baseline, tuple(sp.within)))
    return parts


def write_study_report(study_dir, figures_dir=None) -> ReportFiles:
    """``report.md`` and ``report.html`` in ``study_dir``, the figures in ``figures_dir`` (default
    ``study_dir/figures``); returns the files written.

    Raises:
        FileNotFoundError: ``study_dir`` is not a study folder.
    """
    from fastact.experiments.grouping import group_runs
    from fastact.experiments.spec import parse_spec

    d = Path(study_dir)
    if not is_study(d):
        raise FileNotFoundError(f"not a study folder (no {SPEC} and {STATE}). Received: {study_dir}")
    state = json.loads((d / STATE).read_text())
    text = (d / SPEC).read_text()
    spec = parse_spec(text, state.get("source") or str(d / SPEC), bool(state.get("quick")))
    runs = [saved.load_run(p) for p in saved.find_runs([d / RUNS])] if (d / RUNS).is_dir() else []
    groups = group_runs(runs)
    parts = _parts(spec, state, groups)
    quick = " --quick" if spec.quick else ""
    done = f"{state.get('done', '?')} of {state.get('total', '?')} points done"
    extra = [f"{state[k]} {k}" for k in ("failed", "left") if state.get(k)]
    intro = f"{spec.description or spec.name}. {done}" + (f" ({', '.join(extra)})" if extra else "") + "."
    source = spec.name if str(spec.source).startswith("built-in") else str(state.get("source") or SPEC)
    reproduce = [f"fastact study {source}{quick} --out {d}",
                 f"fastact report {d} --figures {figures_dir or d / FIGURES}"]
    seed = spec.name == "seed" and {"activations", "slope"} <= {p.name for p in parts}
    return write_report(runs, d, f"Study {spec.name}{' (quick)' if spec.quick else ''}", figures_dir, parts,
                        intro, text, seed, reproduce)
