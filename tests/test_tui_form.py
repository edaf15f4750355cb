"""Form parsing and argv pre-fill for fastact-tui (no UI): every bad value is named."""

import tui_path  # noqa: F401  (registers fastact_tui from tui/)
import fake_trainer
import pytest

from fastact import activations
from fastact_tui import cli, form
from fastact_tui.widgets.settings import DEFAULTS
from fastact_tui.widgets.sweep import parse_values


def build(acts=("relu",), params=None, **values):
    return form.build(fake_trainer, {**DEFAULTS, **values}, list(acts), params or {}, {"out": None})


def test_one_config_per_activation_and_seed():
    res = build(acts=("relu", "prelu"), seeds="2", seed="5", hidden="256, 128", epochs="3", lr="0.01")
    assert res.ok
    assert res.labels == ["relu/s5", "relu/s6", "prelu/s5", "prelu/s6"]
    assert [(c.act, c.seed) for c in res.configs] == [("relu", 5), ("relu", 6), ("prelu", 5), ("prelu", 6)]
    c = res.configs[0]
    assert (c.hidden, c.epochs, c.lr, c.out, c.threads) == ((256, 128), 3, 0.01, None, None)


@pytest.mark.parametrize("field, text, expected", [
    ("epochs", "ab", "epochs must be a positive integer. Received: epochs='ab'"),
    ("epochs", "0", "Received: epochs='0'"),
    ("batch_size", "-4", "Received: batch_size='-4'"),
    ("lr", "fast", "lr must be a number. Received: lr='fast'"),
    ("lr", "0", "lr must be > 0"),
    ("hidden", "512 x", "Received: hidden='512 x'"),
    ("threads", "two", "threads must be a positive integer or blank"),
    ("seeds", "0", "Received: seeds='0'"),
])
def test_bad_field_is_named(field, text, expected):
    res = build(**{field: text})
    assert not res.ok and res.configs == []
    assert expected in res.errors[field]


def test_no_activation_ticked():
    res = build(acts=())
    assert "tick at least one activation" in res.errors["acts"]


def test_activation_parameters_checked_by_the_table():
    res = build(acts=("rrelu",), params={("rrelu", "lower"): "0.5", ("rrelu", "upper"): "0.2"})
    assert res.errors["params-rrelu"].startswith("rrelu: lower must be <= upper")
    res = build(acts=("leaky_relu",), params={("leaky_relu", "negative_slope"): "abc"})
    assert "Received: p-leaky_relu-negative_slope='abc'" in res.errors["p-leaky_relu-negative_slope"]
    res = build(acts=("leaky_relu",), params={("leaky_relu", "negative_slope"): "-1"})
    assert "negative_slope must be >= 0" in res.errors["params-leaky_relu"]


def test_parameters_only_go_to_their_activation():
    res = build(acts=("relu", "leaky_relu"), params={("leaky_relu", "negative_slope"): "0.1"})
    assert [c.act_params for c in res.configs] == [{}, {"negative_slope": 0.1}]


def test_cli_prefills_form():
    pre = cli.parse(["--act", "relu", "prelu", "rrelu", "--epochs", "5", "--negative-slope", "0.1",
                     "--rrelu-upper", "0.4", "--hidden", "256", "128", "--data-dir", "/d", "--out", "res"])
    assert pre["acts"] == ["relu", "prelu", "rrelu"]
    assert pre["fields"] == {**DEFAULTS, "epochs": "5", "hidden": "256 128", "data_dir": "/d"}
    assert pre["params"] == {("leaky_relu", "negative_slope"): "0.1", ("rrelu", "upper"): "0.4"}
    assert cli.parse([])["acts"] == activations.names("seed")  # `fastact train`'s default: all seven
    assert pre["base"]["out"] == "res"
    assert cli.parse(["--out", ""])["base"]["out"] is None
    assert cli.parse(["--no-save"])["base"]["out"] is None


def test_cli_has_a_flag_for_every_table_parameter():
    assert set(cli._param_dests(cli.build_parser())) == {(a, p.name) for a, p in form.param_fields()}


def test_cli_rejects_unknown_activation(capsys):
    with pytest.raises(SystemExit):
        cli.parse(["--act", "swishy"])
    assert "invalid choice: 'swishy'" in capsys.readouterr().err


def test_sweep_values():
    assert parse_values("slope", "0, 0.1 0.3") == [0.0, 0.1, 0.3]
    assert parse_values("depth", "1 2 3") == [1, 2, 3]
    with pytest.raises(ValueError, match="Received: '1.5'"):
        parse_values("depth", "1 1.5")
    with pytest.raises(ValueError, match="slope must be >= 0"):
        parse_values("slope", "-0.1")
