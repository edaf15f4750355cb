"""Hostile model files and sizes, each case in a sandboxed child (tests/sandbox.py).

The files are generated at test time: configs that declare huge or absurd layers, arrays of the
wrong shape (one that would broadcast) or dtype, missing and extra members, headers that claim
more than their member holds, pickles and other non-model files. Every case runs under a 1 GiB
address-space limit, so a regression (building the declared model, broadcasting, unpickling)
ends the child with a MemoryError or a crash and fails the test; each asserts its one line.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from fastact.nn.memory import estimate_memory
from fastact.resources import format_bytes

from sandbox import verdict

LOAD = """
from fastact.nn import MLP
def run(P):
    m = MLP.load(P["path"])
    return [m.sizes, float(m.layers[0].w.sum())]
"""
SIZES = [6, 8, 3]
RAISE = "raise the budget with --memory-budget SIZE or FASTACT_MEMORY_BUDGET=SIZE (e.g. 16G, or 90%)"


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=True)
    return buf.getvalue()


def npy_header(shape, descr: str, data: bytes = b"") -> bytes:
    """An ``.npy`` header declaring ``shape``/``descr``, followed by ``data`` (whatever it really holds)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue() + data


def good_members(sizes=SIZES, act="relu", dtype="float32", **config) -> dict[str, bytes]:
    cfg = {"sizes": sizes, "act": act, "act_params": {}, "dtype": dtype, "seed": 0, "prelu": "unit", **config}
    members = {"config.npy": npy(np.array(json.dumps(cfg)))}
    rng = np.random.default_rng(0)
    for i in range(len(SIZES) - 1):
        members[f"w{i}.npy"] = npy(rng.random((SIZES[i], SIZES[i + 1])).astype(dtype))
        members[f"b{i}.npy"] = npy(np.zeros(SIZES[i + 1], dtype))
    return members


def write_zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def load(path) -> dict:
    return verdict(LOAD, {"path": str(path)})


def test_a_well_formed_file_loads_in_the_sandbox(tmp_path):
    path = write_zip(tmp_path / "ok.npz", good_members())
    out = load(path)
    assert out["ok"][0] == SIZES


@pytest.mark.parametrize("hidden", [10_000_000, 2**62])
def test_a_config_declaring_a_huge_layer_is_refused_before_anything_is_built(tmp_path, hidden):
    members = good_members(sizes=[784, hidden, 10])
    path = write_zip(tmp_path / "huge.npz", members)
    out = load(path)
    est = estimate_memory([784, hidden, 10])
    assert out["error"] == "ModelMemoryError"
    assert out["message"].startswith(f"{path}: an MLP 784-{hidden}-10 float32 declared by its config "
                                     f"({est.describe()}) needs an estimated {format_bytes(est.total)}, "
                                     "more than the memory budget of ")
    assert out["message"].endswith(f"left under the address-space limit (ulimit -v)); {RAISE}")


def test_a_weight_that_would_broadcast_is_refused(tmp_path):
    members = good_members()
    members["w0.npy"] = npy(np.ones((1, 8), np.float32))  # `layer.w[...] = w` would broadcast it silently
    out = load(write_zip(tmp_path / "m.npz", members))
    assert out == {"error": "ModelFileError",
                   "message": f"{tmp_path / 'm.npz'}: member 'w0' is float32 (1, 8), its config needs float32 (6, 8)"}


def test_a_weight_of_the_wrong_dtype_is_refused(tmp_path):
    members = good_members()
    members["b1.npy"] = npy(np.zeros(3, np.float64))
    out = load(write_zip(tmp_path / "m.npz", members))
    assert out["message"] == f"{tmp_path / 'm.npz'}: member 'b1' is float64 (3,), its config needs float32 (3,)"


def test_an_object_array_is_refused_without_unpickling(tmp_path):
    members = good_members()
    members["w0.npy"] = npy(np.array([[object()] * 8] * 6, dtype=object))
    out = load(write_zip(tmp_path / "m.npz", members))
    assert out["message"] == f"{tmp_path / 'm.npz'}: member 'w0' is object (6, 8), its config needs float32 (6, 8)"


def test_a_missing_array(tmp_path):
    members = good_members()
    del members["b1.npy"]
    out = load(write_zip(tmp_path / "m.npz", members))
    assert out["message"] == f"{tmp_path / 'm.npz'}: member 'b1' is missing (its config declares 4 arrays)"


def test_an_unexpected_member(tmp_path):
    members = {**good_members(), "alpha0.npy": npy(np.ones(8, np.float32))}  # relu has no learnable slope
    out = load(write_zip(tmp_path / "m.npz", members))
    assert out["message"] == (f"{tmp_path / 'm.npz'}: unexpected member(s) 'alpha0' for the model its config "
                              "declares (expected w0, b0, w1, b1)")


def test_a_header_claiming_more_than_its_member_holds(tmp_path):
    members = good_members(sizes=[6, 4096, 3])
    members["w0.npy"] = npy_header((6, 4096), "<f4", bytes(96))
    out = load(write_zip(tmp_path / "m.npz", members))
    assert out["message"] == (f"{tmp_path / 'm.npz'}: member 'w0' holds 96 B of data, its header declares "
                              "float32 (6, 4096) = 96.0 KiB")


@pytest.mark.parametrize("kind", ["pickle", "text", "npy", "empty"])
def test_files_that_are_not_model_files_say_so(tmp_path, kind):
    path = tmp_path / "model.npz"
    if kind == "pickle":
        path.write_bytes(pickle.dumps({"config": "{}", "w0": [1, 2]}))
    elif kind == "text":
        path.write_text("sizes: [784, 512, 10]\n")
    elif kind == "npy":
        path.write_bytes(npy(np.zeros((6, 8), np.float32)))
    else:
        path.write_bytes(b"")
    out = load(path)
    assert out == {"error": "ModelFileError",
                   "message": f"{path}: not a fastact model file (not an .npz archive: MLP.save writes a zip of "
                              ".npy arrays; pickles and other formats are never loaded)"}
    assert "allow_pickle" not in out["message"]


def test_an_npz_without_a_config(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, x_train=np.zeros((4, 2)), y_train=np.zeros(4))
    out = load(path)
    assert out["message"] == (f"{path}: not a fastact model file (an .npz archive without a 'config' member; "
                              "it holds 'x_train', 'y_train')")


def test_a_directory(tmp_path):
    out = load(tmp_path)
    assert out == {"error": "ModelFileError", "message": f"{tmp_path}: is a directory, not a fastact model file"}


def test_a_missing_file(tmp_path):
    out = load(tmp_path / "nothing.npz")
    assert out == {"error": "FileNotFoundError", "message": f"{tmp_path / 'nothing.npz'}: no such model file"}


def test_a_config_declaring_a_huge_string_is_not_read(tmp_path):
    members = good_members()
    members["config.npy"] = npy_header((), "<U100000000", b"{}")
    out = load(write_zip(tmp_path / "m.npz", members))
    assert out["message"].startswith(f"{tmp_path / 'm.npz'}: its 'config' declares 381 MiB of text in a member of ")
    assert out["message"].endswith("(at most 1.00 MiB is read)")


@pytest.mark.parametrize("text, problem", [
    ("{not json", "its 'config' is not valid JSON (Expecting property name enclosed in double quotes: "
                  "line 1 column 2 (char 1))"),
    ("[" * 100_000, "its 'config' is not valid JSON (maximum recursion depth exceeded while decoding a JSON "
                    "array from a unicode string)"),
    ("[784, 10]", "its 'config' is a JSON list, expected an object"),
    ('{"sizes": "784,10", "act": "relu", "act_params": {}, "dtype": "float32", "seed": 0}',
     "its 'config' has sizes='784,10', expected a JSON array"),
    ('{"sizes": [784, 10], "act": "relu", "act_params": {}, "dtype": "float32"}',
     "its 'config' has no 'seed' (it has 'sizes', 'act', 'act_params', 'dtype')"),
    ('{"sizes": [784, 10], "act": "relu", "act_params": {}, "dtype": "float32", "seed": true}',
     "its 'config' has seed=True, expected a JSON integer"),
])
def test_a_malformed_config(tmp_path, text, problem):
    members = good_members()
    members["config.npy"] = npy(np.array(text))
    path = write_zip(tmp_path / "m.npz", members)
    assert load(path)["message"] == f"{path}: {problem}"


@pytest.mark.parametrize("config, problem", [
    (dict(sizes=[6, 0, 3]), "sizes must be positive integers (every layer width). Received: sizes=[6, 0, 3]"),
    (dict(sizes=[1] * 50_000), "sizes must be an input and an output width (at least two sizes), at most 1001. "
                               "Received: sizes=[1, 1, 1, 1, 1, '...', 1, 1, 1, 1, 1]"),
    (dict(act="swish2"), "act must be one of "),
    (dict(seed=-1), "seed must be an integer in [0, 2**63). Received: seed=-1"),
    (dict(dtype="int8"), "dtype must be one of float32, float64. Received: dtype='int8'"),
    (dict(prelu="channel"), "prelu must be one of unit, shared. Received: prelu='channel'"),
    (dict(act="leaky_relu", act_params={"negative_slope": "x"}), "leaky_relu.negative_slope must be "),
])
def test_config_values_are_checked_before_anything_is_built(tmp_path, config, problem):
    path = write_zip(tmp_path / "m.npz", good_members(**config))
    out = load(path)
    assert out["error"] == "ModelFileError"
    assert out["message"].startswith(f"{path}: its config: {problem}")


BUILD = """
from fastact.nn import MLP
def run(P):
    return len(MLP(P["sizes"]).layers)
"""


def test_constructing_a_huge_mlp_is_refused_before_allocating():
    out = verdict(BUILD, {"sizes": [784, 10_000_000, 10]})
    est = estimate_memory([784, 10_000_000, 10])
    assert out["error"] == "MemoryBudgetError"
    assert out["message"].startswith(f"sizes must be within the memory budget: an MLP 784-10000000-10 float32 "
                                     f"({est.describe()}) needs an estimated {format_bytes(est.total)}, more than "
                                     "the memory budget of ")
    assert out["message"].endswith(f"; use fewer or narrower layers, or {RAISE}. Received: sizes=[784, 10000000, 10]")


HUGE_BATCH = """
import numpy as np
from fastact.nn import MLP
def run(P):
    m = MLP([784, 512, 10])
    # A broadcast view: ten million rows that take no memory, so only the model's workspace could.
    x = np.broadcast_to(np.zeros((1, 784), np.float32), (P["batch"], 784))
    return m.forward(x).shape[0]
"""


def test_a_batch_whose_workspace_exceeds_the_budget_is_refused():
    out = verdict(HUGE_BATCH, {"batch": 10_000_000})
    need = format_bytes(estimate_memory([784, 512, 10], 10_000_000).workspace)
    assert out["error"] == "MemoryBudgetError"
    assert out["message"].startswith(f"batch must be within the memory budget: the workspace of an MLP 784-512-10 "
                                     f"float32 at batch 10000000 (workspace {need}) needs an estimated {need}, ")
    assert out["message"].endswith(f"; use a smaller batch, or {RAISE}. Received: batch=10000000")


DENSE = """
import numpy as np
from fastact.nn import Dense
def run(P):
    layer = Dense(*P["shape"])
    if P.get("batch"):
        layer.forward(np.broadcast_to(np.zeros((1, P["shape"][0]), np.float32), (P["batch"], P["shape"][0])))
    return layer.w.shape
"""


def test_a_dense_layer_too_large_is_refused_before_its_weights_are_drawn():
    out = verdict(DENSE, {"shape": [1_000_000, 1_000_000]})
    est = estimate_memory([1_000_000, 1_000_000])
    assert out["error"] == "MemoryBudgetError"
    assert out["message"].startswith(f"shape must be within the memory budget: a Dense layer 1000000 -> 1000000 "
                                     f"float32 ({est.describe()}) needs an estimated {format_bytes(est.total)}, ")
    assert out["message"].endswith(f"; use a smaller layer, or {RAISE}. Received: shape=(1000000, 1000000)")


def test_a_dense_batch_too_large_is_refused_before_its_workspace_is_allocated():
    out = verdict(DENSE, {"shape": [784, 512], "batch": 10_000_000})
    need = format_bytes(estimate_memory([784, 512], 10_000_000).workspace)
    assert out["error"] == "MemoryBudgetError"
    assert out["message"].startswith(f"batch must be within the memory budget: the workspace of a Dense layer "
                                     f"784 -> 512 at batch 10000000 (workspace {need}) needs an estimated {need}, ")
