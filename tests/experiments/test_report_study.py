"""The report of a real study folder: the built-in seed study's --quick run on generated data,
then ``fastact report STUDY --figures``: a section per part with the study's own comparisons, the
claims, every figure, and a self-contained page."""

from __future__ import annotations

import re

import pytest

from fastact.experiments import analysis
from fastact.experiments.report import is_study, write_study_report
from fastact.experiments.report.html import external_references

from clirun import run_cli


@pytest.fixture(scope="module")
def study(tmp_path_factory, idx_data):
    from fastact import cli

    data = idx_data(120, 40, shape=(6, 6))
    out = tmp_path_factory.mktemp("seed-quick")
    assert cli.main(["study", "seed", "--quick", "--data-dir", data, "--out", str(out), "--quiet"]) == 0
    return out


def test_fastact_study_writes_its_report_at_the_end(study):
    for name in ("report.md", "report.html", "figures/curves.png", "figures/activations.svg"):
        assert (study / name).is_file(), name


def test_report_of_a_study_writes_it_beside_the_spec(capsys, study):
    assert is_study(study) and not is_study(study / "runs")
    (study / "report.md").unlink()
    code, out, err = run_cli(capsys, "report", str(study), "--figures", str(study / "figures"), "--no-charts")
    assert code == 0, err
    assert f"wrote {study / 'report.md'}" in out and f"wrote {study / 'report.html'}" in out
    md = (study / "report.md").read_text()
    for heading in ("## What was run", "### The seven activations, epoch by epoch",
                    "### Leaky ReLU's negative slope (0 is ReLU)", "### Depth: 1 to 5 hidden layers of 512",
                    "### Dropout 0.5, the classic regulariser, at each depth",
                    "## The classic experiment's claims, against this run", "## Figures", "## Reproduce"):
        assert heading in md
    assert "70 points: 70 done, 0 failed, 0 left" in md and "applied its [quick] table" in md
    assert 'name = "seed"' in md  # the spec itself
    assert "fastact study seed --quick --out" in md
    figures = re.findall(r"!\[[^\]]*\]\(figures/([a-z-]+)\.png\)", md)
    assert figures == ["curves", "sweep-negative-slope", "depth", "sweep-dropout", "heatmap-act-depth",
                       "heatmap-act-dropout", "heatmap-depth-dropout", "spread", "spread-negative-slope",
                       "spread-depth", "spread-dropout", "activations"]
    assert all((study / "figures" / f"{f}.svg").is_file() for f in figures)
    page = (study / "report.html").read_text()
    assert external_references(page) == [] and page.count("<img ") == len(figures)


def test_the_report_states_the_studys_own_comparisons(study):
    write_study_report(study)
    md = (study / "report.md").read_text()
    st = analysis.load_study(study)
    part = next(p for p in st.spec.parts if p.name == "activations")
    comps = analysis.part_comparisons(part, analysis.part_groups(st, part), "test_acc")
    section = md.split("### The seven activations")[1].split("###")[0]
    for c in comps:
        row = next(line for line in section.splitlines() if line.startswith(f"| {c.group} | {c.baseline} |"))
        cells = [x.strip() for x in row.strip("| ").split("|")]
        # The last three cells are test accuracy's: difference, p-values (t / Wilcoxon / Holm), verdict.
        assert cells[-3] == f"{100 * c.mean_diff:+.2f}" and cells[-2].endswith(f"/ {c.holm_p:.2g}")
    claims = md.split("## The classic experiment's claims")[1].split("## Figures")[0]
    verdicts = re.findall(r"\*\*(supported|not supported|within noise|not testable)\*\* \|", claims)
    assert len(verdicts) == 6 and "not testable" not in verdicts


def test_a_folder_that_is_no_study_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a study folder"):
        write_study_report(tmp_path)
