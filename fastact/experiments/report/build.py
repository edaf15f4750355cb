"""Assembling and writing the report: ``report.md`` and a self-contained ``report.html``, with the
figures (`fastact.experiments.figures`) beside them.

Sections: what was run (the spec, the data and its checksums, versions, machine, threads,
time); per part, the grouped table (mean ± sample std [95% CI]) and the paired comparisons with
the baseline; for the built-in seed study, the original claims against this run's findings
(`claims`); the figures; how to reproduce it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from fastact.experiments.figures import build as fbuild
from fastact.experiments.figures.protocol import protocol
from fastact.experiments.grouping import group_runs
from fastact.experiments.report import claims as seedclaims
from fastact.experiments.report import html, markdown
from fastact.experiments.report import results as R
from fastact.experiments.report.context import context_lines
from fastact.experiments.report.document import Bullets, Code, Document, Figure, Heading, Para, Table
from fastact.experiments.report.results import ALPHA, TESTED, Part, default_parts

REPORT_MD, REPORT_HTML, FIGURES = "report.md", "report.html", "figures"


@dataclass
class ReportFiles:
    md: Path | None
    html: Path | None
    figures: list = field(default_factory=list)  # `Written` figures

    @property
    def paths(self) -> list[Path]:
        out = [p for p in (self.md, self.html) if p is not None]
        return out + [p for w in self.figures for p in (w.png, w.svg)]


def results_blocks(parts: list[Part]) -> list:
    blocks = [Heading("Results"),
              Para(f"Accuracies in percent: mean ± sample standard deviation over seeds [95% t confidence "
                   f"interval]. Comparisons pair each configuration with its part's baseline on the seeds "
                   f"both have (paired t-test, Wilcoxon signed-rank as a check), Holm-corrected over all "
                   f"comparisons of the part (as `fastact study` prints them); significant means Holm p < "
                   f"{ALPHA:g}.")]
    for part in parts:
        blocks += [Heading(part.title or part.name, 3), R.table(part)]
        by_metric = {m: R.comparisons(part, m) for m in TESTED}
        if any(by_metric.values()):
            base = ", ".join(f"{k}={v}" for k, v in (part.baseline or {}).items())
            within = f", one per {', '.join(part.within)}" if part.within else ""
            blocks.append(Para(f"Paired comparisons with the baseline ({base}{within}):"))
            blocks.append(Bullets([R.statement(by_metric[m], m) for m in TESTED if by_metric[m]]))
            blocks.append(R.comparison_table(by_metric))
        elif len(part.groups) > 1:
            blocks.append(Para("No comparison: the runs hold no group matching the part's baseline."))
    return blocks


def claims_blocks(found: list) -> list:
    rows = [[c.claim, c.rule, c.found, f"**{c.verdict}**"] for c in found]
    return [Heading("The classic experiment's claims, against this run"),
            Para("Each claim is checked by the rule beside it, from this study's runs alone (paired "
                 f"comparisons, Holm-corrected within the claim, alpha = {ALPHA:g}; the rules are "
                 "documented in `fastact.experiments.report.claims`). **supported**: the data shows it "
                 "significantly; **not supported**: the data significantly shows otherwise; "
                 "**within noise**: neither (more seeds or epochs may decide it)."),
            Table(["claim", "rule", "this run", "verdict"], rows, "llll")]


def figure_blocks(figures) -> list:
    if not figures:
        return []
    blocks = [Heading("Figures")]
    for w in figures:
        notes = "".join(f" {n}." for n in w.notes)
        blocks.append(Figure(w, f"**{w.title}.** {w.caption}{notes}"))
    return blocks


def document(title: str, runs, parts: list[Part], figures, intro: str = "", spec_text: str = "",
             found=None, reproduce: list[str] | None = None) -> Document:
    """The report of ``runs`` (normalised) as a `Document` (module docstring)."""
    groups = [g for p in parts for g in p.groups]
    doc = Document(title)
    if intro:
        doc.add(Para(intro))
    doc.add(Para(f"Protocol: {protocol(groups or [], runs)}."))
    doc.add(Heading("What was run"), Bullets(context_lines(runs)))
    if spec_text:
        doc.add(Para("The study spec:"), Code(spec_text, "toml"))
    doc.add(*results_blocks(parts))
    if found:
        doc.add(*claims_blocks(found))
    doc.add(*figure_blocks(figures))
    if reproduce:
        doc.add(Heading("Reproduce"), Code("\n".join(reproduce), "sh"))
    return doc


def write_document(doc: Document, outdir) -> tuple[Path, Path]:
    """``outdir/report.md`` and ``outdir/report.html`` (each written atomically)."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    md, page = out / REPORT_MD, out / REPORT_HTML
    for path, text in ((md, markdown.render(doc, out)), (page, html.render(doc))):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return md, page


def write_report(runs, outdir, title: str = "fastact report", figures_dir=None, parts=None, intro: str = "",
                 spec_text: str = "", seed_claims: bool = False, reproduce=None) -> ReportFiles:
    """Figures into ``figures_dir`` (default ``outdir/figures``), then ``report.md`` and ``report.html``
    into ``outdir``. ``runs``: saved or live runs; ``parts``: `Part` s (default `default_parts`)."""
    groups = group_runs(runs)
    runs = [r for g in groups for r in g.runs]
    parts = parts if parts is not None else default_parts(groups)
    figures = fbuild.write_figures(runs, Path(figures_dir) if figures_dir else Path(outdir) / FIGURES, groups)
    found = None
    if seed_claims:
        by_name = {p.name: p for p in parts}
        acts = by_name.get("activations")
        slope = by_name.get("slope")
        found = seedclaims.check(acts.groups if acts else [], slope.groups if slope else [])
    doc = document(title, runs, parts, figures, intro, spec_text, found, reproduce)
    md, page = write_document(doc, outdir)
    return ReportFiles(md, page, figures)
