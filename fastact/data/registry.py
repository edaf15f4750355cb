"""The named MNIST-format datasets: files, checksums, mirrors. One entry each.

Every entry has the same four files (:data:`FILE_ROLES`). ``sha256`` holds the
digest of each ``.gz`` file exactly as the mirrors serve it, which is what a
download is checked against; ``None`` means "not known" and a file is then
recorded as ``"unverified"`` rather than trusted or rejected.
``alt_sha256`` lists other digests that identify the *same data*: the SHA-256
of the decompressed IDX payload (so a gunzipped or recompressed copy still
verifies) and of known repackaged ``.gz`` files. ``max_bytes`` caps what a
download of each file may send (:func:`gzip_bound` of its known payload size).

Provenance of the digests:

* MNIST ``.gz``: the values torchvision pins for the ossci/cvdf mirrors.
* Fashion-MNIST: the decompressed payload digests were computed from Debian's
  ``dataset-fashion-mnist`` (0.0~git20200523.55506a9-1) and agree with the
  payload digests published for the upstream files. Debian *recompressed* the
  archives (gzip header dated 2020-06-05), so its ``.gz`` digests differ from
  upstream's; both are listed, upstream's in ``sha256`` because that is what
  the mirror serves (upstream MD5s 8d4fb7e6..., 25c81989..., bef4ecab...,
  bb300cfd... as in the Fashion-MNIST README).
* KMNIST ``.gz``: the values pinned by torchvision's prototype datasets
  (pytorch/vision), not re-verified here against a download.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastact.data.errors import DatasetError

#: role -> standard file name (the ``.gz`` form; the raw form drops the suffix)
FILE_ROLES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
#: role -> uncompressed IDX size of every named dataset's file: 60,000 training and
#: 10,000 test 28x28 uint8 images (16-byte header), labels (8-byte header)
PAYLOAD_BYTES: dict[str, int] = {
    "train_images": 16 + 60_000 * 28 * 28,
    "train_labels": 8 + 60_000,
    "test_images": 16 + 10_000 * 28 * 28,
    "test_labels": 8 + 10_000,
}


def gzip_bound(payload: int) -> int:
    """The most bytes a gzip file of ``payload`` bytes can take: stored (incompressible) deflate blocks
    cost 5 bytes per 16 KiB at worst, plus 64 KiB for the gzip header's optional name, comment and extra
    fields. This caps a download whose server sends no ``Content-Length``."""
    return payload + 5 * (payload // 16_384 + 1) + (64 << 10)


@dataclass(frozen=True)
class DatasetSpec:
    """One named dataset: its files, their digests, where to download them."""

    name: str
    title: str
    files: dict[str, str]
    sha256: dict[str, str | None]
    mirrors: tuple[str, ...]
    classes: tuple[str, ...]
    homepage: str
    alt_sha256: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: file -> the most bytes a download of it may have (see :func:`gzip_bound`)
    max_bytes: dict[str, int] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def digests(self, filename: str) -> set[str]:
        """Every SHA-256 that identifies ``filename`` (``.gz`` or raw name) as this dataset's file."""
        gz = filename if filename.endswith(".gz") else filename + ".gz"
        known = {self.sha256.get(gz)} | set(self.alt_sha256.get(gz, ()))
        return {d for d in known if d}

    def size_cap(self, filename: str) -> int:
        """The most bytes a download of ``filename`` may have (a name the spec does not list: the bound
        of the largest MNIST-format file)."""
        return self.max_bytes.get(filename, gzip_bound(max(PAYLOAD_BYTES.values())))


def _spec(name, title, digests, mirrors, classes, homepage, alt=None) -> DatasetSpec:
    files = list(FILE_ROLES.values())
    return DatasetSpec(name, title, dict(FILE_ROLES), dict(zip(files, digests)), tuple(mirrors),
                       tuple(classes), homepage, {f: tuple(a) for f, a in zip(files, alt or [])},
                       {f: gzip_bound(PAYLOAD_BYTES[r]) for r, f in FILE_ROLES.items()})


DATASETS: dict[str, DatasetSpec] = {
    s.name: s
    for s in (
        _spec(
            "mnist", "MNIST handwritten digits",
            ["440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"],
            ["https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/"],
            [str(d) for d in range(10)],
            "http://yann.lecun.com/exdb/mnist/",
        ),
        _spec(
            "fashion-mnist", "Fashion-MNIST (Zalando article images)",
            ["3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
             "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
             "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
             "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"],
            ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
            ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
            "https://github.com/zalandoresearch/fashion-mnist",
            alt=[  # (Debian's recompressed .gz, decompressed IDX payload)
                ("b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
                 "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
                ("0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
                 "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
                ("cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
                 "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
                ("8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
                 "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
            ],
        ),
        _spec(
            "kmnist", "Kuzushiji-MNIST (cursive Japanese hiragana)",
            ["51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
             "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
             "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
             "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c"],
            ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
            ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
            "https://github.com/rois-codh/kmnist",
        ),
    )
}

#: what ``dataset="auto"`` falls back to, in order, when MNIST is unavailable
AUTO_FALLBACKS: tuple[str, ...] = ("fashion-mnist", "kmnist")


def get_spec(name: str) -> DatasetSpec:
    """The spec called ``name``; an unknown name is a :class:`DatasetError` listing the valid ones."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(["auto", *DATASETS])
        raise DatasetError(f"unknown dataset: name={name!r}; valid names: {valid}") from None
