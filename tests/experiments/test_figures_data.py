"""fastact.experiments.figures: the arrays each figure is drawn from, against the runs' own metrics
computed here independently (NumPy over the raw histories), and the drawing against those arrays."""

from __future__ import annotations

import numpy as np
import pytest

from fastact import activations
from fastact.experiments.figures import build, curves, depth, heatmap, lines, palette, shapes, spread, style, sweep
from fastact.experiments.figures.plan import plan
from fastact.experiments.grouping import group_runs

import naive
from fakeruns import fake_run, seed_study_runs


def by_label(groups):
    return {g.label: g for g in groups}


def planned(runs, kind, setting=()):
    return next(p for p in plan(group_runs(runs)) if p.kind == kind and tuple(p.settings) == tuple(setting))


def std1(v):
    return float(np.std(v, ddof=1)) if len(v) > 1 else 0.0


@pytest.fixture(scope="module")
def study():
    return seed_study_runs(seeds=(0, 1, 2), epochs=4, slopes=[0.0, 0.1, 0.5, 1.0], depths=(1, 2, 3))


def test_curves_are_the_mean_and_sample_std_over_seeds_per_epoch(study):
    data = build.figure_data(planned(study, "curves"))
    assert [p.title.split(":")[0] for p in data.panels[0]] == ["Training accuracy", "Validation accuracy"]
    for col, key in enumerate(("train_acc", "val_acc")):
        series = {s.label: s for s in data.panels[0][col].series}
        assert list(series) == activations.names("seed")  # one line per activation, at one hidden layer
        for act, s in series.items():
            runs = [r for r in study if r["config"]["act"] == act and len(r["config"]["hidden"]) == 1
                    and r["config"]["act_params"].get("negative_slope", 0.3) == 0.3]
            assert len(runs) == 3
            per_epoch = np.array([[h[key] for h in r["history"]] for r in runs]) * 100
            np.testing.assert_allclose(s.x, [1, 2, 3, 4])
            np.testing.assert_allclose(s.mean, per_epoch.mean(axis=0), rtol=1e-12)
            np.testing.assert_allclose(s.std, per_epoch.std(axis=0, ddof=1), rtol=1e-12)
            assert s.n.tolist() == [3, 3, 3, 3]
            assert s.color == palette.color(act)


def test_curves_count_only_the_seeds_that_reached_an_epoch():
    runs = [fake_run("relu", 0, epochs=5), fake_run("relu", 1, epochs=5, stop=3), fake_run("relu", 2, epochs=5)]
    data = curves.curves_data(group_runs(runs))
    s = data.panels[0][1].series[0]
    assert s.n.tolist() == [3, 3, 3, 2, 2]
    late = [r["history"][3]["val_acc"] * 100 for r in (runs[0], runs[2])]
    assert s.mean[3] == pytest.approx(np.mean(late)) and s.std[3] == pytest.approx(np.std(late, ddof=1))
    assert any("stopped earlier" in n for n in data.notes)


def final(r, key):
    return r["history"][-1][key]


def best_val(r):
    return max(h["val_acc"] for h in r["history"])


def test_sweep_points_are_final_train_best_val_and_test_per_slope(study):
    data = build.figure_data(planned(study, "sweep", ("negative_slope",)))
    metrics = {"Final training accuracy": lambda r: final(r, "train_acc"), "Best validation accuracy": best_val,
               "Test accuracy": lambda r: r["test_acc"]}
    assert [p.title for p in data.panels[0]] == list(metrics)
    for panel in data.panels[0]:
        (s,) = panel.series  # only Leaky ReLU has a slope
        assert s.act == "leaky_relu"
        np.testing.assert_allclose(s.x, [0.0, 0.1, 0.3, 0.5, 1.0])  # 0.3: the default, from the other parts
        for i, a in enumerate(s.x):
            runs = [r for r in study if r["config"]["act"] == "leaky_relu" and len(r["config"]["hidden"]) == 1
                    and r["config"]["act_params"].get("negative_slope", 0.3) == a]
            v = [100 * metrics[panel.title](r) for r in runs]
            assert s.mean[i] == pytest.approx(np.mean(v)) and s.std[i] == pytest.approx(std1(v)) and s.n[i] == 3
    assert data.spread == "bars" and "5 seeds" not in data.title and "3 seeds" in data.title


def test_depth_shows_accuracy_and_the_train_validation_gap_per_activation(study):
    data = build.figure_data(planned(study, "depth", ("depth",)))
    train, val, gap = data.panels[0]
    assert gap.ylabel == style.AXIS["gap"] and not gap.percent
    for s in gap.series:
        for i, d in enumerate(s.x):
            runs = [r for r in study if r["config"]["act"] == s.act and len(r["config"]["hidden"]) == d
                    and r["config"]["act_params"].get("negative_slope", 0.3) == 0.3]
            g = [100 * (final(r, "train_acc") - final(r, "val_acc")) for r in runs]
            assert s.mean[i] == pytest.approx(np.mean(g))
    assert [s.act for s in val.series] == activations.names("seed")
    assert all(s.x.tolist() == [1, 2, 3] for s in train.series)


def test_heatmap_cells_are_means_over_seeds(study):
    data = build.figure_data(planned(study, "heatmap", ("act", "depth")))
    assert data.rows == activations.names("seed") and data.cols == [1, 2, 3]
    for i, act in enumerate(data.rows):
        for j, d in enumerate(data.cols):
            v = [100 * best_val(r) for r in study if r["config"]["act"] == act and len(r["config"]["hidden"]) == d
                 and r["config"]["act_params"].get("negative_slope", 0.3) == 0.3]
            assert data.mean[i, j] == pytest.approx(np.mean(v)) and data.std[i, j] == pytest.approx(std1(v))
            assert data.n[i, j] == 3


def test_heatmap_leaves_missing_combinations_blank():
    runs = [fake_run("relu", s, depth=d) for s in (0, 1) for d in (1, 2)] + [fake_run("tanh", 0, depth=1)]
    data = heatmap.heatmap_data(group_runs(runs), "act", lambda g: g.settings["act"], "depth",
                                lambda g: g.settings["depth"], row_order=list(activations.ACTIVATIONS))
    assert data.rows == ["relu", "tanh"] and np.isnan(data.mean[1, 1]) and data.n[1, 1] == 0


def test_spread_holds_each_seeds_value(study):
    data = build.figure_data(planned(study, "spread"))
    boxes = [b for row in data.rows for b in row.boxes]
    assert [b.label for b in boxes] == activations.names("seed")
    for b in boxes:
        runs = sorted((r for r in study if r["config"]["act"] == b.act and len(r["config"]["hidden"]) == 1
                       and r["config"]["act_params"].get("negative_slope", 0.3) == 0.3),
                      key=lambda r: r["config"]["seed"])
        np.testing.assert_allclose(b.values, [100 * best_val(r) for r in runs])
        assert b.seeds == [0, 1, 2]


def test_spread_by_a_setting_puts_each_activation_side_by_side(study):
    data = build.figure_data(planned(study, "spread", ("depth",)))
    (row,) = data.rows
    assert row.categories == ["1", "2", "3"] and row.slots == activations.names("seed")
    assert len(row.boxes) == 21 and {(b.category, b.slot) for b in row.boxes} == {(c, s) for c in range(3)
                                                                                 for s in range(7)}


def test_activation_curves_are_the_tables_functions():
    data = shapes.shapes_data(n_points=401)
    (row,) = data.rows
    assert [c.act for c in row] == activations.names("seed")
    z = data.z
    assert z[200] == 0.0 and z[0] == -4 and z[-1] == 4
    for c in row:
        p = activations.get(c.act).defaults
        # PReLU at its initial slope; RReLU at its evaluation slope, the midpoint of its range.
        args = {"prelu": (p.get("init"),), "rrelu": ((p.get("lower", 0) + p.get("upper", 0)) / 2,)}.get(c.act, ())
        kw = {} if args else p
        np.testing.assert_allclose(c.y, naive.FORWARD[c.act](z, *args, **kw), rtol=2e-6, atol=2e-6)
        np.testing.assert_allclose(c.dy, naive.DERIVATIVE[c.act](z, *args, **kw), rtol=2e-6, atol=2e-6)
    rrelu = row[-1]
    lo, hi = rrelu.band
    np.testing.assert_allclose(lo[:200], z[:200] / 8, rtol=1e-6)  # slope `lower` = 1/8 for z < 0
    np.testing.assert_allclose(hi[:200], z[:200] / 3, rtol=1e-6)


def test_more_series_than_a_legend_holds_are_faceted_and_the_figure_says_so():
    runs = [fake_run(a, s) for a in activations.names("every") for s in (0, 1)]
    data = curves.curves_data(group_runs(runs))
    assert len(data.panels) == 2
    assert all(len(p.series) <= style.MAX_LEGEND for row in data.panels for p in row)
    assert sorted(s.label for row in data.panels for s in row[0].series) == sorted(activations.names("every"))
    assert data.notes and "at most 8 per legend" in data.notes[0]
    fig = lines.draw(data)
    assert data.notes[0] in " ".join(fig.get_suptitle().split())  # wrapped to the width, words kept
    assert all(len(ax.get_legend().get_texts()) <= style.MAX_LEGEND for ax in fig.axes if ax.get_legend())


def test_series_of_one_activation_in_one_panel_get_their_own_line_style():
    data = curves.series_data({"final_acc": {"relu train": ([0, 1], [80, 81]), "relu val": ([0, 1], [79, 80])}},
                              "t", xlabel="slope")
    a, b = data.panels[0][0].series
    assert a.color == b.color == palette.color("relu") and (a.variant, b.variant) == (0, 1)
    fig = lines.draw(data)
    styles = [line.get_linestyle() for line in fig.axes[0].get_lines()]
    assert styles[:2] == ["-", "--"]


def test_the_drawing_draws_exactly_the_data(study):
    """Every drawn line's points are the series' arrays; colours are the palette's."""
    for kind, setting in (("curves", ()), ("sweep", ("negative_slope",)), ("depth", ("depth",))):
        data = build.figure_data(planned(study, kind, setting))
        fig = lines.draw(data)
        axes = [ax for ax in fig.axes if ax.get_visible()]
        panels = [p for row in data.panels for p in row]
        assert len(axes) == len(panels)
        for ax, panel in zip(axes, panels):
            # Error bars: the label is on the container, its first line is the data line.
            labelled = ([(c.get_label(), c.lines[0]) for c in ax.containers] if data.spread == "bars"
                        else [(line.get_label(), line) for line in ax.get_lines()])
            drawn = [line for label, line in labelled if label in {s.label for s in panel.series}]
            assert [label for label, _ in labelled if label in {s.label for s in panel.series}] == \
                [s.label for s in panel.series]
            for line, s in zip(drawn, panel.series):
                np.testing.assert_allclose(line.get_xdata(), s.x)
                np.testing.assert_allclose(line.get_ydata(), s.mean)
                assert line.get_color() == s.color
    hm = build.figure_data(planned(study, "heatmap", ("act", "depth")))
    image = heatmap.draw(hm).axes[0].get_images()[0]
    np.testing.assert_allclose(np.ma.filled(image.get_array(), np.nan), hm.mean)
    sp = build.figure_data(planned(study, "spread"))
    points = spread.draw(sp).axes[0].collections
    drawn = np.concatenate([c.get_offsets()[:, 1] for c in points])
    np.testing.assert_allclose(drawn, np.concatenate([b.values for b in sp.rows[0].boxes]))


def test_titles_state_the_protocol(study):
    data = build.figure_data(planned(study, "curves"))
    assert "784-512-10 MLP, Adam lr 1e-3, batch 128, 4 epochs, 10% validation, 3 seeds, Fashion-MNIST" in data.title
    d = build.figure_data(planned(study, "depth", ("depth",)))
    assert "784-512x{1..3}-10 MLP" in d.title


def test_depth_of_reads_the_hidden_layers():
    g = group_runs([fake_run("relu", 0, depth=3)])[0]
    assert depth.depth_of(g) == 3 and sweep.axis_name("depth") == "hidden layers (depth)"
