"""Form parsing and argv pre-fill for fastact-tui (no UI): every bad value is named."""

import pytest

from fastact import activations
from fastact.cli.options import param_dest
from fastact.training import TrainConfig
from fastact_tui import cli, form
from fastact_tui.widgets.settings import DEFAULTS

import tui_path  # noqa: F401  (registers fastact_tui from tui/)


def build(acts=("relu",), params=None, **values):
    return form.build({**DEFAULTS, **values}, list(acts), params or {}, {"out": None})


def test_one_config_per_activation_and_seed():
    res = build(acts=("relu", "prelu"), seeds="2", seed="5", hidden="256, 128", epochs="3", lr="0.01")
    assert res.ok
    assert res.labels == ["relu/s5", "relu/s6", "prelu/s5", "prelu/s6"]
    assert [(c.act, c.seed) for c in res.configs] == [("relu", 5), ("relu", 6), ("prelu", 5), ("prelu", 6)]
    c = res.configs[0]
    assert (c.hidden, c.epochs, c.lr, c.out, c.threads) == ((256, 128), 3, 0.01, None, None)


@pytest.mark.parametrize("field, text, expected", [
    ("epochs", "ab", "epochs must be an integer. Received: epochs='ab'"),
    ("epochs", "0", "epochs must be a positive integer. Received: epochs=0"),  # the library's rule
    ("batch_size", "-4", "Received: batch_size=-4"),
    ("lr", "fast", "lr must be a number. Received: lr='fast'"),
    ("lr", "0", "lr must be a positive number. Received: lr=0.0"),
    ("hidden", "512 x", "Received: hidden='512 x'"),
    ("hidden", "512 0", "hidden must be one or more positive integers (layer widths). Received: hidden=(512, 0)"),
    ("threads", "two", "threads must be an integer or blank"),
    ("seeds", "0", "seeds must be an integer in 1..1000. Received: seeds=0"),
    ("seeds", "1000000", "seeds must be an integer in 1..1000. Received: seeds=1000000"),
    ("seed", str(2**63), "seed must be an integer in [0, 2**63)"),
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
    assert res.errors == {"p-rrelu-lower": "rrelu.lower must be <= rrelu.upper. Received: lower=0.5, upper=0.2"}
    res = build(acts=("leaky_relu",), params={("leaky_relu", "negative_slope"): "abc"})
    assert "Received: p-leaky_relu-negative_slope='abc'" in res.errors["p-leaky_relu-negative_slope"]
    res = build(acts=("leaky_relu",), params={("leaky_relu", "negative_slope"): "-1"})
    assert res.errors == {"p-leaky_relu-negative_slope":
                          "leaky_relu.negative_slope must be >= 0. Received: negative_slope=-1.0"}


def test_defaults_are_the_training_configs():
    d = TrainConfig()
    assert DEFAULTS["epochs"] == str(d.epochs) and DEFAULTS["lr"] == str(d.lr) and DEFAULTS["hidden"] == "512"
    assert DEFAULTS["optimizer"] == d.optimizer and DEFAULTS["threads"] == "" and DEFAULTS["seeds"] == "1"
    res = build()
    assert res.ok and res.configs[0] == TrainConfig(act="relu", out=None)


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
    dests = {a.dest for a in cli.build_parser()._actions}
    assert {param_dest(a, p.name) for a, p in form.param_fields()} <= dests


def test_cli_rejects_unknown_activation(capsys):
    with pytest.raises(SystemExit):
        cli.parse(["--act", "swishy"])
    assert "invalid choice: 'swishy'" in capsys.readouterr().err


@pytest.mark.parametrize("acts,hidden", [(["relu", "rrelu"], ["64", "32"]), (["relu,rrelu"], ["64,32"]),
                                         (["relu,", "rrelu"], ["64,", "32"])])
def test_cli_takes_both_list_syntaxes(acts, hidden):
    pre = cli.parse(["--act", *acts, "--hidden", *hidden])
    assert pre["acts"] == ["relu", "rrelu"] and pre["fields"]["hidden"] == "64 32"


@pytest.mark.parametrize("text", ["256 128", "256,128", "256, 128", " 256 ,128 "])
def test_hidden_field_reads_the_cli_list_syntax(text):
    res = build(hidden=text)
    assert res.ok and [c.hidden for c in res.configs] == [(256, 128)]


def test_data_file_field_follows_the_library_rules(tmp_path):
    path = tmp_path / "own.npz"
    path.write_bytes(b"")  # the form checks only that it exists; reading it is the loader's job
    res = build(data_file=f" {path} ")
    assert res.ok and res.configs[0].data_file == str(path) and res.configs[0].data_dir is None
    res = build(data_file=str(tmp_path / "none.npz"))
    assert res.errors["data_file"].startswith("data_file must be an existing .npz file")
    res = build(data_file=str(path), data_dir=str(tmp_path))
    assert res.errors["data_file"].startswith("data_file must be used without data_dir")
    assert cli.parse(["--data-file", str(path)])["fields"]["data_file"] == str(path)
