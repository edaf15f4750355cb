"""fastact.experiments.spec: the built-in seed study's points, dedup across parts, and one
SpecError naming the spec field for every kind of bad spec."""

from __future__ import annotations

import pytest

from fastact import activations
from fastact.experiments import identity
from fastact.experiments.spec import SpecError, load_spec, parse_spec


def test_the_seed_study_is_the_classic_experiment():
    spec = load_spec("seed")
    points = spec.points()
    seven = activations.names("seed")
    # 7 x 5 curves + 11 slopes x 5 + 7 x 5 depths x 5, less the repeats: depth 1 is the curves'
    # point (35), and slope 0.3 is Leaky ReLU's default, the curves' leaky_relu (5)
    assert len(points) == 35 + 55 + 175 - 35 - 5 == 225
    assert len({p.key for p in points}) == len(points)
    by_part = {part.name: [p for p in points if part.name in p.parts] for part in spec.parts}
    assert [len(v) for v in by_part.values()] == [35, 55, 175]
    assert [p.config.act for p in by_part["activations"][::5]] == seven
    c = by_part["activations"][0].config
    assert (c.hidden, c.epochs, c.batch_size, c.optimizer, c.lr, c.val_split) == ((512,), 10, 128, "adam", 1e-3, 0.1)
    slopes = sorted({identity.settings(p.config.to_dict())["negative_slope"] for p in by_part["slope"]})
    assert slopes == pytest.approx([i / 10 for i in range(11)])
    assert sorted({len(p.config.hidden) for p in by_part["depth"]}) == [1, 2, 3, 4, 5]
    assert {p.config.seed for p in points} == {0, 1, 2, 3, 4}
    leaky_default = next(p for p in points if p.config.act == "leaky_relu" and p.parts == ["activations", "slope",
                                                                                             "depth"])
    assert leaky_default.label == "leaky_relu slope=0.3 depth=1 seed=0"


def test_quick_is_a_smaller_version_of_the_same_study():
    quick = load_spec("seed", quick=True)
    points = quick.points()
    assert len(points) == 14 + 10 + 42 - 14 == 52 and quick.quick
    assert {p.config.epochs for p in points} == {3} and {p.config.seed for p in points} == {0, 1}


def test_points_shared_by_parts_run_once_and_auto_resolves():
    spec = parse_spec('seeds = 2\n[base]\nepochs = 2\n[[parts]]\nname = "a"\nact = ["relu", "tanh"]\n'
                      '[[parts]]\nname = "b"\nact = "relu"\ndepth = [1, 2]\nwidth = 64\n'
                      '[[parts]]\nname = "c"\nact = "relu"\n')
    points = spec.points()
    assert len(points) == 2 * 2 + 2 * 2 - 0 and [p.parts for p in points][:2] == [["a", "c"], ["a", "c"]]
    assert {p.config.hidden for p in points} == {(512,), (64,), (64, 64)}
    resolved = spec.points("mnist", data_dir="/x", threads=1)
    assert {p.config.dataset for p in resolved} == {"mnist"} and resolved[0].config.threads == 1
    assert resolved[0].key == identity.run_key({**points[0].config.to_dict(), "dataset": "mnist"})


def test_parameter_axes_multiply_only_their_activation():
    spec = parse_spec('[[parts]]\nact = ["relu", "leaky_relu", "rrelu"]\nnegative_slope = [0.1, 0.2]\n'
                      'rrelu_lower = "0:0.2:0.1"\n')
    acts = [(p.config.act, tuple(sorted(p.config.act_params.items()))) for p in spec.points()]
    assert acts == [("relu", ()), ("leaky_relu", (("negative_slope", 0.1),)),
                    ("leaky_relu", (("negative_slope", 0.2),)), ("rrelu", (("lower", 0.0),)),
                    ("rrelu", (("lower", 0.1),)), ("rrelu", (("lower", 0.2),))]


GOOD = '[[parts]]\nname = "p"\nact = "relu"\n'


@pytest.mark.parametrize("text,quick,field,message", [
    ("name = [", False, "spec",
     "spec must be valid TOML (Invalid value (at end of document)). Received: spec='bad.toml'"),
    ("[[parts]]\nact = \"swish\"\n", False, "parts[0].act", "parts[0].act must be one of linear, softplus"),
    ("[[parts]]\nnegative_slope = [0.1, -0.1]\n", False, "parts[0].negative_slope",
     "parts[0].negative_slope must be >= 0. Received: negative_slope=-0.1"),
    ("[[parts]]\nnegative_slope = \"0:1\"\n", False, "parts[0].negative_slope", "must be numbers or start:stop:step"),
    ("[base]\nepochs = 0\n" + GOOD, False, "base.epochs", "base.epochs must be a positive integer. Received: epochs=0"),
    ("[base]\nlr = [0.1, 0.2]\n" + GOOD, False, "base.lr", "base.lr must be one value (grids go in [[parts]])"),
    ("[base]\nout = \"x\"\n" + GOOD, False, "base.out", "must be set on the command line (--out), not in a spec"),
    ("[[parts]]\nepoch = 3\n", False, "parts[0].epoch", "parts[0].epoch must be one of name, title, seeds"),
    ("[[parts]]\nact = \"relu\"\nepochs = [2, 0]\n", False, "parts[0].epochs",
     "parts[0].epochs must be a positive integer. Received: epochs=0"),
    ("[[parts]]\nact = \"relu\"\ndepth = [1, 0]\n", False, "parts[0].depth", "must be a positive integer (depth)"),
    ("[[parts]]\nact = \"relu\"\nnegative_slope = 0.1\n", False, "parts[0].negative_slope",
     "must be a parameter of an activation in parts[0].act (negative_slope is leaky_relu's, act has relu)"),
    ("[[parts]]\nrrelu_lower = 0.5\n", False, "parts[0].rrelu_lower",
     "parts[0].rrelu_lower must be <= base.rrelu_upper. Received: rrelu_lower=0.5, rrelu_upper=0.333"),
    ("seeds = 0\n" + GOOD, False, "seeds", "seeds must be a count in 1..1000 or a list of seeds"),
    ("seeds = [1, 1]\n" + GOOD, False, "seeds", "a list of distinct integers"),
    ("colour = 1\n" + GOOD, False, "colour", "colour must be one of name, description, seeds, base, parts, quick"),
    ("name = \"x\"\n", False, "parts", "parts must be one or more [[parts]] tables"),
    (GOOD + GOOD, False, "parts[1].name", "parts[1].name must be unique among the parts"),
    (GOOD + "baseline = { act = \"tanh\" }\n", False, "parts[0].baseline",
     "must be settings matching exactly one configuration of the part (matched 0)"),
    ("[[parts]]\nact = [\"relu\", \"tanh\"]\ndepth = [1, 2]\nbaseline = { depth = 1 }\n", False, "parts[0].baseline",
     "(matched 2)"),
    (GOOD + "[quick]\nbase.epochs = 0\n", True, "quick.base.epochs", "quick.base.epochs must be a positive integer"),
    (GOOD + "[quick]\nparts.q.epochs = 2\n", True, "quick.parts.q", "must be the name of a part (p)"),
    (GOOD + "[quick]\nseeds = -1\n", True, "quick.seeds", "quick.seeds must be a count"),
])
def test_bad_specs_name_the_field_in_one_line(text, quick, field, message):
    with pytest.raises(SpecError) as e:
        parse_spec(text, "bad.toml", quick)
    assert e.value.field == field
    assert message in str(e.value) and "\n" not in str(e.value)


def test_quick_errors_only_when_quick_applies_and_unknown_studies_are_named():
    parse_spec(GOOD + "[quick]\nbase.epochs = 0\n", "x.toml", quick=False)  # [quick] unused: fine
    with pytest.raises(SpecError, match="study must be a built-in study \\(seed\\) or a .toml spec file. "
                                        "Received: study='nope'"):
        load_spec("nope")
