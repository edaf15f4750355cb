"""fastact.experiments.report: the grouped tables and comparisons against SciPy computed here, the
Markdown and the self-contained HTML (no external reference, every figure inlined and valid)."""

from __future__ import annotations

import base64
import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pytest
from scipy import stats as st

from fastact.experiments.figures import plan as fplan
from fastact.experiments.grouping import group_runs
from fastact.experiments.report import build, context, html, results
from fastact.experiments.report.document import Document, Figure, Para, Table

from fakeruns import seed_study_runs
from figcheck import SVG_NS


def parts_of(runs):
    groups = group_runs(runs)
    at1 = [g for g in groups if g.settings["depth"] == 1]
    acts = fplan.relabel([g for g in at1 if g.settings.get("negative_slope", 0.3) == 0.3])
    slope = fplan.relabel([g for g in at1 if g.settings["act"] == "leaky_relu"])
    depth = fplan.relabel([g for g in groups if g.settings.get("negative_slope", 0.3) == 0.3])
    return [results.Part("activations", "The seven activations", results.ordered(acts), {"act": "relu"}),
            results.Part("slope", "Leaky ReLU's slope", results.ordered(slope), {"negative_slope": 0.0}),
            results.Part("depth", "Depth", results.ordered(depth), {"depth": 1}, ("act",))]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    runs = seed_study_runs(seeds=(0, 1, 2, 3), epochs=3, slopes=[0.0, 0.2, 0.6, 1.0], depths=(1, 2))
    out = tmp_path_factory.mktemp("study")
    files = build.write_report(runs, out, "Study seed (synthetic)", parts=parts_of(runs), seed_claims=True,
                               spec_text='name = "seed"\n')
    return runs, files


def best_val(r):
    return max(h["val_acc"] for h in r["history"])


def test_the_table_row_is_mean_sample_std_and_95_ci(report):
    runs, files = report
    md = files.md.read_text()
    v = np.array([100 * best_val(r) for r in runs if r["config"]["act"] == "relu"
                  and len(r["config"]["hidden"]) == 1])
    half = st.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    cell = f"{v.mean():.2f} ± {v.std(ddof=1):.2f} [{v.mean() - half:.2f}, {v.mean() + half:.2f}]"
    row = next(line for line in md.splitlines() if line.startswith("| relu |"))
    assert cell in row and "| 4 |" in row


def holm(p):
    order = np.argsort(p)
    out, running = np.empty(len(p)), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out


def test_comparisons_are_paired_t_tests_holm_corrected(report):
    runs, files = report
    md = files.md.read_text()
    at1 = [r for r in runs if len(r["config"]["hidden"]) == 1 and r["config"]["act_params"].get("negative_slope",
                                                                                                 0.3) == 0.3]
    by_act = {}
    for r in at1:
        by_act.setdefault(r["config"]["act"], {})[r["config"]["seed"]] = best_val(r)
    others = [a for a in by_act if a != "relu"]
    p = [st.ttest_rel([by_act[a][s] for s in range(4)], [by_act["relu"][s] for s in range(4)]).pvalue for a in others]
    adjusted = holm(np.array(p))
    section = md.split("### The seven activations")[1].split("###")[0]
    diff = {a: np.mean([by_act[a][s] - by_act["relu"][s] for s in range(4)]) for a in others}
    for a, raw, h in zip(others, p, adjusted):
        row = next(line for line in section.splitlines() if line.startswith(f"| {a} | relu |"))
        assert f"{raw:.2g} / " in row and f" / {h:.2g} |" in row and f"| {100 * diff[a]:+.2f} |" in row
        verdict = "within noise" if h >= 0.05 else "significantly better" if diff[a] > 0 else "significantly worse"
        assert verdict in row
    worse = [a for a, h in zip(others, adjusted) if h < 0.05 and diff[a] < 0]
    statement = next(line for line in section.splitlines() if line.startswith("- best val acc against relu"))
    assert f"**significantly worse**: {', '.join(worse)};" in statement and worse  # linear and sigmoid at least


def test_within_gives_one_baseline_per_activation(report):
    _, files = report
    section = files.md.read_text().split("### Depth")[1]
    assert "| sigmoid depth=2 | sigmoid depth=1 |" in section and "| relu depth=2 | relu depth=1 |" in section


def test_the_claims_section_marks_every_claim(report):
    _, files = report
    md = files.md.read_text()
    section = md.split("## The classic experiment's claims")[1].split("## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 6
    assert all(re.search(r"\*\*(supported|not supported|within noise)\*\* \|$", r) for r in rows), rows
    assert rows[0].startswith("| Linear is the worst |") and rows[0].endswith("**supported** |")


class Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.imgs = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a)
        for k in ("src", "href", "srcset", "poster", "data", "action"):
            if a.get(k):
                self.refs.append((tag, k, a[k]))


def test_the_html_references_no_file_and_inlines_every_figure_as_svg(report):
    _, files = report
    page = files.html.read_text()
    p = Refs()
    p.feed(page)
    assert [r for r in p.refs if not r[2].startswith("data:")] == []
    assert not re.search(r"url\((?!['\"]?data:)|@import|<link|<script", page)
    assert len(p.imgs) == len(files.figures) == 8
    for img, w in zip(p.imgs, files.figures):
        head, data = img["src"].split(",", 1)
        assert head == "data:image/svg+xml;base64"
        svg = base64.b64decode(data)
        assert svg == w.svg.read_bytes()
        root = ET.fromstring(svg)
        assert root.tag == f"{{{SVG_NS}}}svg"
        hrefs = [v for el in root.iter() for k, v in el.attrib.items() if k.endswith("href")]
        assert all(h.startswith(("#", "data:")) for h in hrefs), hrefs[:5]  # the heatmap embeds its raster
    assert html.external_references(page) == []


def test_external_references_finds_what_a_page_would_load():
    page = ('<img src="figures/a.png"><a href="http://x.org">x</a><img src="data:image/png;base64,AA==">'
            '<a href="#top">t</a><style>body{background:url(bg.png)}</style>')
    assert html.external_references(page) == [("img", "src", "figures/a.png"), ("a", "href", "http://x.org"),
                                              ("style", "url", "bg.png")]


def test_markdown_links_the_figure_files_beside_it(report):
    _, files = report
    md = files.md.read_text()
    for w in files.figures:
        assert f"](figures/{w.name}.png)" in md and f"](figures/{w.name}.svg)" in md
        assert w.png.is_file() and w.svg.is_file()


def test_inline_markup_is_escaped_then_styled():
    assert html.inline("a < b **within noise** `x<y`") == ('a &lt; b <strong class="verdict-within-noise">within '
                                                          'noise</strong> <code>x&lt;y</code>')
    doc = Document("T", [Para("p"), Table(["a", "b"], [["1", "2|3"]])])
    from fastact.experiments.report import markdown

    assert "| 1 | 2\\|3 |" in markdown.render(doc, ".")
    with pytest.raises(TypeError, match="not a report block"):
        html.render(Document("T", ["raw"]))
    assert Figure  # the block type the figures use


def test_checksum_status_words_every_case():
    assert context.checksum_status({"checksums": {"a": "ok", "b": "ok"}}) == \
        "verified (2 files match their published SHA-256)"
    assert context.checksum_status({"checksums": {"a": "ok", "b": "mismatch"}}) == "MISMATCH in b"
    assert context.checksum_status({"checksums": {"a": "unverified"}}).startswith("unverified: a")
    assert context.checksum_status({}) == "not recorded"
