"""The written report of runs or a study: ``report.md`` and a self-contained ``report.html``.

`write_study_report(study_dir)` is what ``fastact study`` calls at its end and ``fastact report
STUDY --figures OUTDIR`` runs; `write_report(runs, outdir)` does the same for any runs.

Modules: `document` (the blocks), `markdown` and `html` (the two renderings), `context` (what
was run), `results` (grouped tables and paired comparisons), `claims` (the seed study's claims),
`build` (assembly), `study` (a study folder).
"""

from __future__ import annotations


def is_study(path) -> bool:
    from fastact.experiments.report.study import is_study as check

    return check(path)


def write_study_report(study_dir, figures_dir=None):
    """``report.md``, ``report.html`` and the figures of a study folder; returns a `build.ReportFiles`."""
    from fastact.experiments.report.study import write_study_report as write

    return write(study_dir, figures_dir)


def write_report(runs, outdir, **kw):
    from fastact.experiments.report.build import write_report as write

    return write(runs, outdir, **kw)
