"""fastact.data.registry: the named datasets and their pinned digests."""

from __future__ import annotations

import re

import pytest

from fastact.data import DATASETS, FILE_ROLES, DatasetError
from fastact.data.registry import AUTO_FALLBACKS, get_spec

MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}


def test_the_three_named_datasets():
    assert list(DATASETS) == ["mnist", "fashion-mnist", "kmnist"]
    assert set(AUTO_FALLBACKS) <= set(DATASETS)


@pytest.mark.parametrize("name", list(DATASETS))
def test_spec_shape(name):
    spec = DATASETS[name]
    assert spec.name == name and spec.files == FILE_ROLES and spec.n_classes == 10
    assert set(spec.sha256) == set(FILE_ROLES.values())
    for digest in [*spec.sha256.values(), *(d for a in spec.alt_sha256.values() for d in a)]:
        assert digest is None or re.fullmatch("[0-9a-f]{64}", digest)
    assert spec.mirrors and all(re.match(r"https?://.+/$", m) for m in spec.mirrors)


def test_mnist_digests_and_mirrors_are_the_pinned_ones():
    assert DATASETS["mnist"].sha256 == MNIST_SHA256
    assert DATASETS["mnist"].mirrors == ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                                         "https://storage.googleapis.com/cvdf-datasets/mnist/")


def test_digests_accept_raw_names():
    spec = DATASETS["fashion-mnist"]
    assert spec.digests("train-labels-idx1-ubyte") == spec.digests("train-labels-idx1-ubyte.gz")
    assert len(spec.digests("train-labels-idx1-ubyte.gz")) == 3  # upstream gz, Debian gz, payload


def test_unknown_name_lists_valid_ones():
    with pytest.raises(DatasetError, match=r"name='emnist'; valid names: auto, mnist, fashion-mnist, kmnist"):
        get_spec("emnist")
