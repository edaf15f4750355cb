"""The report of a study folder (what `fastact study` writes, `fastact.experiments.runner`):
``report.md``, ``report.html`` and ``figures/`` beside its ``spec.toml``, ``study.json`` and
``runs/``.

The study is read back by `fastact.experiments.analysis.load_study`; each part of its spec
becomes a section of results (its groups, baseline and ``within``, the comparisons ``fastact
study`` prints). The built-in ``seed`` study also gets its claims checked (`claims`).
"""

from __future__ import annotations

from pathlib import Path

from fastact.experiments.figures.plan import relabel
from fastact.experiments.report.build import FIGURES, ReportFiles, write_report
from fastact.experiments.report.results import Part, ordered
from fastact.experiments.runner import SPEC, STATE

#: the parts of the built-in seed study its claims are checked on
SEED_PARTS = ("activations", "slope")


def is_study(path) -> bool:
    """Whether ``path`` is a study folder (it holds the spec and the state `fastact study` writes)."""
    p = Path(path)
    return (p / SPEC).is_file() and (p / STATE).is_file()


def write_study_report(study_dir, figures_dir=None) -> ReportFiles:
    """``report.md`` and ``report.html`` in ``study_dir``, the figures in ``figures_dir`` (default
    ``study_dir/figures``); returns the files written.

    Raises:
        FileNotFoundError: ``study_dir`` is not a study folder.
    """
    from fastact.experiments.analysis import load_study, part_groups

    d = Path(study_dir)
    if not is_study(d):
        raise FileNotFoundError(f"not a study folder (no {SPEC} and {STATE}). Received: {study_dir}")
    study = load_study(d)
    spec, run = study.spec, study.run
    parts = []
    for sp in spec.parts:
        groups = part_groups(study, sp)
        if groups:
            parts.append(Part(sp.name, sp.title or sp.name, ordered(relabel(groups)), sp.baseline, tuple(sp.within)))
    quick = " --quick" if spec.quick else ""
    intro = (f"{spec.description or spec.name}"
             + (" (the spec's full version; this run applied its [quick] table: fewer seeds, epochs and points)"
                if spec.quick else "") + f". {run.summary()}.")
    source = spec.name if str(spec.source).startswith("built-in") else str(spec.source)
    reproduce = [f"fastact study {source}{quick} --out {d}",
                 f"fastact report {d} --figures {figures_dir or d / FIGURES}"]
    seed = spec.name == "seed" and set(SEED_PARTS) <= {p.name for p in parts}
    return write_report(list(study.runs.values()), d, f"Study {spec.name}{' (quick)' if spec.quick else ''}",
                        figures_dir, parts, intro, spec.text, seed, reproduce)
