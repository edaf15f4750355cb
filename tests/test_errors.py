"""`fastact.errors.SettingsError`: one structured error, worded by each interface."""

from __future__ import annotations

import pickle

from fastact.errors import SettingsError


def test_library_wording():
    e = SettingsError("epochs", 0, "a positive integer")
    assert str(e) == "epochs must be a positive integer. Received: epochs=0"
    assert isinstance(e, ValueError) and e.fields == ["epochs"]


def test_cross_setting_rule_names_every_setting():
    e = SettingsError("rrelu.lower", 0.5, "<= {upper}", {"upper": ("rrelu.upper", 0.1)})
    assert str(e) == "rrelu.lower must be <= rrelu.upper. Received: lower=0.5, upper=0.1"
    assert e.fields == ["rrelu.lower", "rrelu.upper"]
    flag = lambda f: "--" + f.replace(".", "-")  # noqa: E731
    assert e.render(flag, lambda f: f.replace(".", "_")) == \
        "--rrelu-lower must be <= --rrelu-upper. Received: rrelu_lower=0.5, rrelu_upper=0.1"


def test_survives_pickling_with_its_fields():
    e = pickle.loads(pickle.dumps(SettingsError("lr", -1.0, "a positive number")))
    assert (e.field, e.value, e.rule, str(e)) == ("lr", -1.0, "a positive number",
                                                  "lr must be a positive number. Received: lr=-1.0")
