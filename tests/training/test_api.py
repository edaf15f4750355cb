"""fastact.fit: the trained model comes back (also with out=None), Keras's verbose levels print
what the CLI prints, and bad calls fail in one line before any data is loaded."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

import fastact
from fastact.data import load_dataset
from fastact.errors import SettingsError
from fastact.experiments import tables
from fastact.nn import MLP
from fastact.training import Callbacks

from idxgen import write_idx_dataset


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("idx")
    write_idx_dataset(d, n_train=300, n_test=100, shape=(6, 6))
    return str(d)


@pytest.fixture(scope="module")
def ds(data_dir):
    return load_dataset(data_dir=data_dir, download=False, progress=False)


SMALL = dict(act="relu", hidden=16, epochs=2, batch_size=32, lr=0.01)


def test_fit_returns_the_trained_model_without_writing_files(ds, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = fastact.fit(ds, **SMALL, out=None, verbose=0)
    assert result.status == "completed" and list(tmp_path.iterdir()) == []
    model = result.model
    assert isinstance(model, MLP) and model.sizes == [36, 16, 10] and model.act == "relu"
    # the model is the one the test metrics were measured on: its evaluation reproduces them
    assert model.evaluate(ds.x_test, ds.y_test) == (result.test_loss, result.test_acc)
    assert np.mean(model.predict(ds.x_test) == ds.y_test) == result.test_acc
    assert result.history[-1].epoch == 2


def test_the_model_is_the_saved_one_when_files_are_written(ds, tmp_path):
    result = fastact.fit(ds, **SMALL, out=str(tmp_path), verbose=0)
    saved = MLP.load(f"{result.run_dir}/model.npz")
    np.testing.assert_array_equal(saved.predict_proba(ds.x_test), result.model.predict_proba(ds.x_test))


def lines(console_file) -> list[str]:
    return console_file.getvalue().splitlines()


@pytest.mark.parametrize("verbose", [1, 2])
def test_verbose_prints_the_cli_lines(ds, verbose):
    out = io.StringIO()
    result = fastact.fit(ds, **SMALL, out=None, verbose=verbose, console=Console(file=out, width=80))
    printed = lines(out)
    assert printed[0] == (f"dataset: {ds.description} ({len(ds.y_train):,} train / {len(ds.y_val):,} val / "
                          f"{len(ds.y_test):,} test)")  # one line, however long (not a terminal: soft wrap)
    assert printed[1].startswith("relu seed 0 (kernels ready in ")
    assert printed[2:] == [tables.epoch_line("relu", r, 2) for r in result.history]


def test_verbose_1_draws_a_bar_and_2_does_not(ds):
    def run(verbose):
        out = io.StringIO()
        fastact.fit(ds, **SMALL, out=None, verbose=verbose, console=Console(file=out, force_terminal=True, width=100))
        return out.getvalue()

    one, two = run(1), run(2)
    assert "━" in one and one.count("samples/s") == 2
    assert "━" not in two and two.count("samples/s") == 2


def test_the_default_prints_as_keras_does_and_0_is_silent(ds, capsys):
    fastact.fit(ds, **SMALL, out=None)
    assert "epoch 2/2" in capsys.readouterr().out
    fastact.fit(ds, **SMALL, out=None, verbose=0)
    assert capsys.readouterr() == ("", "")


def test_a_dataset_named_by_settings_is_loaded(data_dir):
    result = fastact.fit(data_dir=data_dir, **SMALL, out=None, verbose=0)
    assert result.status == "completed" and result.dataset == "custom"


def test_a_list_of_callbacks_is_called_in_order(ds):
    seen = []

    class Mark(Callbacks):
        def __init__(self, tag):
            self.tag = tag

        def on_epoch_end(self, config, record):
            seen.append((self.tag, record.epoch))

    fastact.fit(ds, [Mark("a"), Mark("b")], **SMALL, out=None, verbose=0)
    assert seen == [("a", 1), ("b", 1), ("a", 2), ("b", 2)]


@pytest.mark.parametrize("kw,error,message", [
    (dict(epoch=3), TypeError, "fit() got an unknown setting 'epoch' (did you mean 'epochs'?)"),
    (dict(colour="red"), TypeError, "fit() got an unknown setting 'colour'; settings are act, hidden, epochs"),
    (dict(verbose=3), SettingsError, "verbose must be 0 (silent), 1 or 'auto' (progress bar and epoch lines) or 2"),
    (dict(verbose=True), SettingsError, "verbose must be 0 (silent), 1 or 'auto' (progress bar and epoch lines) "
                                        "or 2 (epoch lines only). Received: verbose=True"),
    (dict(epochs=0), SettingsError, "epochs must be a positive integer. Received: epochs=0"),
    (dict(hidden=0), SettingsError,
     "hidden must be one or more positive integers (layer widths). Received: hidden=(0,)"),
])
def test_bad_calls_fail_in_one_line_before_loading_data(kw, error, message, monkeypatch):
    def no_load(*a, **k):
        raise AssertionError("data loaded before the settings were checked")

    monkeypatch.setattr("fastact.training.api.load_for", no_load)
    with pytest.raises(error) as err:
        fastact.fit(**kw)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_wrong_kind_of_dataset_is_named():
    with pytest.raises(TypeError, match="^dataset must be a fastact.Dataset .* Received: dataset of type ndarray$"):
        fastact.fit(np.zeros((3, 4)), verbose=0)
