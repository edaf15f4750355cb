"""fastact.experiments.figures on disk: every kind as a valid PNG of figsize x 150 dpi pixels and a
valid SVG of figsize x 72 points, reproducible; matplotlib loaded only when drawing; one colour
per activation everywhere."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fastact.experiments.figures import build, palette, writers
from fastact.experiments.figures.plan import plan
from fastact.experiments.grouping import group_runs

from fakeruns import fake_run, seed_study_runs
from figcheck import png_info, svg_size_pt


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    runs = seed_study_runs(seeds=(0, 1), epochs=3, slopes=[0.0, 0.5, 1.0], depths=(1, 2))
    out = tmp_path_factory.mktemp("figures")
    groups = group_runs(runs)
    figs = {}
    for p in plan(groups):
        data = build.figure_data(p)
        fig = build.DRAW[p.kind](data)
        figs[p.name] = (fig.get_size_inches().copy(), writers.save(fig, out, p.name, data.title))
    return figs


def test_every_kind_of_figure_is_written(written):
    assert set(written) == {"curves", "sweep-negative-slope", "depth", "heatmap-act-depth", "spread",
                            "spread-negative-slope", "spread-depth", "activations"}


def test_pngs_are_valid_at_150_dpi(written):
    for name, (inches, w) in written.items():
        info = png_info(w.png)
        assert (info["width"], info["height"]) == (round(inches[0] * 150), round(inches[1] * 150)) == w.size_px, name
        assert info["bit_depth"] == 8 and info["color_type"] in (2, 6), name


def test_svgs_are_svg_documents_of_the_figure_size(written):
    for name, (inches, w) in written.items():
        width, height = svg_size_pt(w.svg)
        assert width == pytest.approx(inches[0] * 72, abs=0.01) and height == pytest.approx(inches[1] * 72, abs=0.01)
        text = w.svg.read_text()
        assert "<dc:date>" not in text, f"{name}: a timestamp makes the SVG differ on every run"


def test_redrawing_the_same_data_writes_the_same_bytes(tmp_path):
    runs = [fake_run("relu", s) for s in (0, 1)] + [fake_run("sigmoid", s) for s in (0, 1)]
    a = build.write_figures(runs, tmp_path / "a")
    b = build.write_figures(runs, tmp_path / "b")
    for x, y in zip(a, b):
        assert x.png.read_bytes() == y.png.read_bytes() and x.svg.read_bytes() == y.svg.read_bytes()


def test_a_plain_comparison_gets_curves_spread_and_the_activations(tmp_path):
    runs = [fake_run(a, s) for a in ("relu", "sigmoid") for s in (0, 1)]
    assert [w.name for w in build.write_figures(runs, tmp_path)] == ["curves", "spread", "activations"]


def test_importing_the_cli_the_tui_or_the_figure_code_does_not_load_matplotlib():
    code = ("import sys, fastact.cli.train, fastact.cli.report, fastact.cli.study, fastact_tui.app, "
            "fastact.experiments.figures.palette, fastact.experiments.figures.build, fastact.experiments.report; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_each_activation_has_one_fixed_distinct_colour():
    from fastact import activations

    colours = [palette.color(a) for a in activations.ACTIVATIONS]
    assert len(set(colours)) == len(colours)
    assert palette.color("relu") == "#ff7f0e" and palette.rgb("relu") == (255, 127, 14)
    assert palette.color("my_custom_act") == palette.color("my_custom_act")  # stable for a name outside the table
    assert palette.act_of("leaky_relu/s2") == "leaky_relu" and palette.act_of("relu val") == "relu"
    assert palette.act_of("0.25 s1") is None and palette.color_for_label("0.25") == palette.NEUTRAL
