"""report.html rendered by a real browser (headless Debian ``chromium``, installed by ``.ci/run``):
every figure decodes, the page is not blank, and at each figure's place on the screenshot is that
figure (its pixels correlate with its own PNG, and better than with any other figure's).

Skipped only when no Chromium is installed."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from fastact.experiments.report import build

from fakeruns import fake_run
from figcheck import Chromium, find_chromium

BROWSER = find_chromium()
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (apt-get install chromium)")
WIDTH = 1200


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    runs = [fake_run(a, s, epochs=3, depth=d) for a in ("linear", "sigmoid", "relu", "rrelu") for s in (0, 1, 2)
            for d in (1, 2)]
    runs += [fake_run("leaky_relu", s, epochs=3, slope=a) for s in (0, 1, 2) for a in (0.0, 0.3, 0.6)]
    out = tmp_path_factory.mktemp("render")
    files = build.write_report(runs, out, "Render check")
    assert len(files.figures) >= 6
    return files


def gray(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.float64)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def crops(shot: Image.Image, probe: dict) -> list[Image.Image]:
    out = []
    for im in probe["images"]:
        x, y, w, h = im["box"]
        # Inside the 1 px border the page draws around each figure.
        out.append(shot.crop((round(x) + 2, round(y) + 2, round(x + w) - 2, round(y + h) - 2)))
    return out


def similarity(crop: Image.Image, png, width: int = 160) -> float:
    """Correlation of the two pictures at a coarse common size (the browser draws the SVG at another
    scale and anti-aliasing than the PNG: thin lines only line up once both are averaged)."""
    size = (width, max(1, round(width * crop.size[1] / max(crop.size[0], 1))))
    ref = Image.open(png).convert("RGB").resize(size, Image.BOX)
    return correlation(gray(crop.resize(size, Image.BOX)), gray(ref))


def test_every_figure_decodes_and_is_shown_where_the_page_puts_it(report, tmp_path):
    chrome = Chromium(BROWSER)
    probe = chrome.probe(report.html, WIDTH)
    figs = report.figures
    assert [im["id"] for im in probe["images"]] == [f"fig-{w.name}" for w in figs]
    assert all(im["ok"] for im in probe["images"]), probe["images"]
    for im, w in zip(probe["images"], figs):
        bw, bh = im["box"][2], im["box"][3]
        assert bw >= 400 and bh / bw == pytest.approx(w.size_px[1] / w.size_px[0], rel=0.02), (w.name, im["box"])
    shot = Image.open(chrome.screenshot(report.html, WIDTH, probe["height"], tmp_path / "page.png")).convert("RGB")
    assert shot.size == (WIDTH, probe["height"])
    page = np.asarray(shot)
    assert (page.min(axis=2) < 200).mean() > 0.05  # text, tables and figures: far from a blank page
    pieces = crops(shot, probe)
    for piece, w in zip(pieces, figs):
        px = np.asarray(piece)
        assert (px.min(axis=2) < 200).mean() > 0.01, f"{w.name}: blank where the figure should be"
        assert len(np.unique(px.reshape(-1, 3), axis=0)) > 50, f"{w.name}: too few colours for a chart"
    score = np.array([[similarity(piece, other.png) for other in figs] for piece in pieces])
    for i, w in enumerate(figs):
        others = np.delete(score[i], i)
        assert score[i, i] > 0.85 and score[i, i] > others.max() + 0.2, (w.name, score[i].round(3))


def test_a_figure_that_does_not_render_is_caught(report, tmp_path):
    """The same checks on a copy whose second figure is corrupt: they fail for that figure only."""
    page = report.html.read_text()
    srcs = re.findall(r'src="(data:image/svg\+xml;base64,[^"]+)"', page)
    broken = tmp_path / "broken.html"
    broken.write_text(page.replace(srcs[1], "data:image/svg+xml;base64,PHN2Zz5ub3QgYW4gc3ZnPC9zdmc", 1))
    chrome = Chromium(BROWSER)
    probe = chrome.probe(broken, WIDTH)
    assert [im["ok"] for im in probe["images"]] == [True, False, *[True] * (len(srcs) - 2)]
    shot = Image.open(chrome.screenshot(broken, WIDTH, probe["height"], tmp_path / "broken.png")).convert("RGB")
    pieces = crops(shot, probe)
    assert similarity(pieces[0], report.figures[0].png) > 0.85
    bad = pieces[1]
    assert bad.size[0] < 50 or similarity(bad, report.figures[1].png) < 0.5
