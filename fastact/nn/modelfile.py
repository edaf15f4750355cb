"""The model file `MLP.save` writes and `MLP.load` reads: an ``.npz`` checked before anything is built.

The archive holds ``config`` (the model's `MLP.config` as a JSON string) and, for each layer
``i``, ``w<i>`` (``sizes[i] x sizes[i+1]``), ``b<i>`` (``sizes[i+1]``) and, for the hidden
layers of an activation with a learnable parameter, ``alpha<i>`` (``sizes[i+1]``, or 1 when
shared), all in the config's dtype. Nothing else.

Reading trusts nothing in the file. In order: the file must be a zip archive with a
``config`` member; the config's ``.npy`` header must declare a string of at most
`MAX_CONFIG_BYTES`; the JSON must be an object whose values have the right types, and
they must pass the same checks `MLP` applies to its arguments; the network it declares
must fit the memory budget (`fastact.nn.memory`); every member's header must declare exactly
the shape and dtype the config implies, and agree with the member's size in the zip
directory. Only then is the model built and each array read straight into its layer, so a
weight of the wrong shape is refused instead of broadcast into place, and a header that
claims gigabytes allocates nothing. Object arrays are never loaded (no pickle).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from fastact.errors import SettingsError
from fastact.resources import ResourceError, array_bytes, format_bytes

CONFIG = "config"
#: the largest config accepted (a 1,000-layer model's is about 10 KiB)
MAX_CONFIG_BYTES = 1 << 20
#: config key -> the JSON types it may have
CONFIG_TYPES = {"sizes": (list,), "act": (str,), "act_params": (dict,), "dtype": (str,), "seed": (int,),
                "prelu": (str,)}
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
_CHUNK = 1 << 22
_WHAT = "not a fastact model file"


class ModelFileError(ValueError):
    """A file `MLP.load` cannot use; the message is one line naming the file."""


class ModelMemoryError(ModelFileError, ResourceError):
    """The model a file declares would not fit the memory budget."""


def expected_arrays(sizes: list[int], dtype, learnable: bool, prelu: str) -> dict[str, tuple[tuple, np.dtype]]:
    """Member name -> (shape, dtype) for a model of ``sizes`` (module docstring)."""
    dt = np.dtype(dtype)
    out = {}
    n_layers = len(sizes) - 1
    for i in range(n_layers):
        out[f"w{i}"] = ((sizes[i], sizes[i + 1]), dt)
        out[f"b{i}"] = ((sizes[i + 1],), dt)
        if learnable and i < n_layers - 1:
            out[f"alpha{i}"] = ((sizes[i + 1] if prelu == "unit" else 1,), dt)
    return out


class ModelArchive:
    """An open model file: `config` read and type-checked on opening; `check` then `read_into` the arrays."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise FileNotFoundError(f"{self.path}: no such model file") from None
        except IsADirectoryError:
            raise ModelFileError(f"{self.path}: is a directory, not a fastact model file") from None
        except zipfile.BadZipFile:
            raise self.error(f"{_WHAT} (not an .npz archive: MLP.save writes a zip of .npy arrays; "
                             "pickles and other formats are never loaded)") from None
        except OSError as exc:
            raise self.error(f"cannot be read ({exc.strerror or exc})") from None
        try:
            self.members = {info.filename.removesuffix(".npy"): info for info in self._zip.infolist()}
            if CONFIG not in self.members:
                found = ", ".join(repr(k) for k in list(self.members)[:8]) or "nothing"
                raise self.error(f"{_WHAT} (an .npz archive without a 'config' member; it holds {found})")
            self.config = self._read_config()
        except BaseException:
            self._zip.close()
            raise

    def error(self, problem: str, cls: type[ModelFileError] = ModelFileError) -> ModelFileError:
        return cls(f"{self.path}: {problem}")

    def __enter__(self) -> "ModelArchive":
        return self

    def __exit__(self, *exc) -> None:
        self._zip.close()

    def _header(self, key: str):
        """``(shape, fortran_order, dtype, data offset)`` of member ``key``'s ``.npy`` header."""
        info = self.members[key]
        try:
            with self._zip.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version not in _HEADER_READERS:
                    raise ValueError(f".npy format version {version[0]}.{version[1]}; 1.0 and 2.0 are read")
                shape, fortran, dtype = _HEADER_READERS[version](member)
                return shape, fortran, dtype, member.tell()
        except (ValueError, OSError, zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
            raise self.error(f"member {key!r} is not a valid .npy array ({str(exc).splitlines()[0]})") from None

    def _read_config(self) -> dict:
        shape, _, dtype, offset = self._header(CONFIG)
        if shape != () or dtype.kind != "U":
            raise self.error(f"{_WHAT} (its 'config' is {dtype} {shape}, not a JSON string)")
        if dtype.itemsize > MAX_CONFIG_BYTES or self.members[CONFIG].file_size != offset + dtype.itemsize:
            raise self.error(f"its 'config' declares {format_bytes(dtype.itemsize)} of text in a member of "
                             f"{format_bytes(self.members[CONFIG].file_size)} (at most "
                             f"{format_bytes(MAX_CONFIG_BYTES)} is read)")
        text = str(self._read_member(CONFIG, np.empty((), dtype)))
        try:
            cfg = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise self.error(f"its 'config' is not valid JSON ({str(exc).splitlines()[0]})") from None
        if not isinstance(cfg, dict):
            raise self.error(f"its 'config' is a JSON {type(cfg).__name__}, expected an object")
        for key, types in CONFIG_TYPES.items():
            if key == "prelu" and key not in cfg:
                continue
            if key not in cfg:
                raise self.error(f"its 'config' has no {key!r} (it has {', '.join(map(repr, cfg)) or 'nothing'})")
            if not isinstance(cfg[key], types) or isinstance(cfg[key], bool):
                raise self.error(f"its 'config' has {key}={_short(cfg[key])}, expected a JSON "
                                 f"{' or '.join(_json_name(t) for t in types)}")
        return cfg

    def settings_error(self, exc: SettingsError) -> ModelFileError:
        return self.error(f"its config: {str(exc)[:500]}")

    def check(self, expected: dict[str, tuple[tuple, np.dtype]]) -> None:
        """Every member is expected, and declares exactly its expected shape and dtype (module docstring)."""
        extra = [k for k in self.members if k != CONFIG and k not in expected]
        if extra:
            raise self.error(f"unexpected member(s) {', '.join(map(repr, extra[:8]))} for the model its config "
                             f"declares (expected {', '.join(expected)})")
        for key, (shape, dtype) in expected.items():
            if key not in self.members:
                raise self.error(f"member {key!r} is missing (its config declares {len(expected)} arrays)")
            got_shape, fortran, got_dtype, offset = self._header(key)
            if got_shape != shape or got_dtype != dtype:
                raise self.error(f"member {key!r} is {got_dtype} {got_shape}, its config needs {dtype.name} {shape}")
            if fortran and len(shape) > 1:
                raise self.error(f"member {key!r} is stored in Fortran order; MLP.save writes C order")
            size = self.members[key].file_size - offset
            if size != array_bytes(shape, dtype.itemsize):
                raise self.error(f"member {key!r} holds {format_bytes(size)} of data, its header declares "
                                 f"{dtype.name} {shape} = {format_bytes(array_bytes(shape, dtype.itemsize))}")

    def read_into(self, key: str, out: np.ndarray) -> None:
        """Member ``key``'s data into ``out`` (C-contiguous, of the shape and dtype `check` confirmed)."""
        self._read_member(key, out)

    def _read_member(self, key: str, out: np.ndarray) -> np.ndarray:
        try:
            with self._zip.open(self.members[key]) as member:
                version = np.lib.format.read_magic(member)
                _HEADER_READERS[version](member)
                view = memoryview(out.reshape(-1).view(np.uint8)) if out.ndim else memoryview(
                    out.reshape(1).view(np.uint8))
                done = 0
                while done < len(view):
                    n = member.readinto(view[done:done + _CHUNK])
                    if not n:
                        raise EOFError(f"the data ends after {done} of {len(view)} bytes")
                    done += n
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise self.error(f"member {key!r} cannot be read ({str(exc).splitlines()[0]})") from None
        return out


def _json_name(t: type) -> str:
    return {list: "array", str: "string", dict: "object", int: "integer"}[t]


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
