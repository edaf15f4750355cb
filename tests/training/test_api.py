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


def blobs(n=400, features=7, seed=0):
    """A learnable non-image task: the class is which of three feature sums is largest."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    y = np.argmax(np.stack([x[:, :2].sum(1), x[:, 2:4].sum(1), x[:, 4:].sum(1)], axis=1), axis=1)
    return x, y


def test_fit_on_your_own_non_image_arrays():
    x, y = blobs()
    ds = fastact.Dataset.from_arrays(x[:300], y[:300], x[300:], y[300:], val_split=0.2, seed=1)
    assert ds.input_dim == 7 and ds.image_shape is None
    result = fastact.fit(ds, act="tanh", hidden=32, epochs=30, lr=0.01, batch_size=32, out=None, verbose=0)
    model = result.model
    assert model.sizes == [7, 32, 3] and result.test_acc > 0.85
    assert np.mean(model.predict(x[300:]) == y[300:]) == result.test_acc
    # the raw float64 features, not only the dataset's float32 copy, give the same answers
    assert np.array_equal(model.predict(x[300:]), model.predict(ds.x_test))


def test_without_a_test_split_the_test_metrics_are_nan():
    x, y = blobs(120)
    result = fastact.fit(fastact.Dataset.from_arrays(x, y), **SMALL, out=None, verbose=0)
    assert result.status == "completed" and np.isnan(result.test_acc) and len(result.history) == 2


def test_an_npz_path_is_your_data_file(tmp_path):
    x, y = blobs()
    path = tmp_path / "blobs.npz"
    np.savez(path, x_train=x[:300], y_train=y[:300], x_test=x[300:], y_test=y[300:])
    by_path = fastact.fit(str(path), **SMALL, out=None, verbose=0)
    by_setting = fastact.fit(data_file=str(path), **SMALL, out=None, verbose=0)
    loaded = fastact.fit(fastact.load_npz(path), **SMALL, out=None, verbose=0)
    assert by_path.config.data_file == str(path) and by_path.dataset == "blobs"
    def metrics(r):  # the same split trains the same run (wall times aside)
        return [(h.train_loss, h.train_acc, h.val_loss, h.val_acc) for h in r.history], r.test_acc

    assert metrics(by_path) == metrics(by_setting) == metrics(loaded)


@pytest.mark.parametrize("kw,message", [
    (dict(data_file="/no/such.npz"), "data_file must be an existing .npz file"),
    (dict(data_file=__file__, data_dir="/tmp"), "data_file must be used without data_dir"),
    (dict(data_file=__file__, dataset="mnist"), "data_file must be used with dataset auto"),
])
def test_data_file_rules(kw, message):
    with pytest.raises(SettingsError, match=f"^{message}"):
        fastact.fit(**kw, verbose=0)
