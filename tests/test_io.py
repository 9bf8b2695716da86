"""functrans.io: checkpoint round trips (structure and dtypes exact), atomic writes, no pickle,
and a clear error for each kind of bad file."""
from __future__ import annotations

import collections
import json
import os

import numpy as np
import pytest

import functrans as ft
from functrans import io, nn, optim, random


def _assert_same(a, b):
    """Same structure, same container and leaf types, same dtypes and bits."""
    pa, da = ft.tree.flatten_with_path(a)
    pb, db = ft.tree.flatten_with_path(b)
    assert da == db
    for (path, x), (_, y) in zip(pa, pb):
        assert type(x) is type(y), ft.tree.keystr(path)
        if isinstance(x, (np.ndarray, np.generic)):
            assert x.dtype == y.dtype and np.shape(x) == np.shape(y)
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y


def test_round_trip_of_every_supported_leaf_and_container(tmp_path):
    rng = np.random.default_rng(0)
    tree = {
        "f64": rng.normal(size=(3, 4)),
        "f32": rng.normal(size=5).astype(np.float32),
        "f16": np.array([1.5, np.nan, -np.inf], np.float16),
        "ints": np.arange(6, dtype=np.int32).reshape(2, 3),
        "mask": np.array([True, False]),
        "c128": np.array([1 + 2j]),
        "scalar0d": np.array(2.5),
        "npscalar": np.float32(0.25),
        "empty": np.zeros((0, 3)),
        "nested": [1, 2.5, True, "text", None, (np.ones(1), [])],
        7: {"deep": {"deeper": np.uint8(3)}},
    }
    path = tmp_path / "tree.npz"
    io.save(path, tree)
    back = io.load(path)
    _assert_same(back, tree)
    assert list(back) == list(tree) and isinstance(back["nested"][5], tuple)
    assert back["nested"][4] is None


def test_round_trip_of_model_and_optimizer_states(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm(4), nn.relu, nn.Linear(4, 2))
    params = model.init(random.key(0))
    opt = optim.chain(optim.clip_by_global_norm(1.0),
                      optim.masked(optim.adamw(optim.schedules.cosine_decay(1e-2, 10)),
                                   lambda p: ft.tree.map(lambda x: x.ndim == 2, p)))
    opt_state = opt.init(params)
    grads = ft.tree.map(np.ones_like, params)
    _, opt_state = opt.update(grads, opt_state, params)
    checkpoint = {"params": params, "bn": model.init_state(), "opt": opt_state, "epoch": 3}
    io.save(tmp_path / "ckpt", checkpoint)  # any file name: no suffix is added
    assert os.listdir(tmp_path) == ["ckpt"]
    back = io.load(tmp_path / "ckpt")
    _assert_same(back, checkpoint)
    inner = back["opt"][1].inner_state
    assert type(inner) is optim.AdamState and inner.count == 1
    assert type(back["bn"][1]) is nn.BatchNormState
    # The restored state keeps working.
    _, state2 = opt.update(grads, back["opt"], back["params"])
    assert optim.get_count(state2) == 2


def test_user_namedtuples_come_back_as_equivalent_classes_or_as_like(tmp_path):
    Pair = collections.namedtuple("Pair", ["a", "b"])
    tree = Pair(np.ones(2), {"x": 1})
    io.save(tmp_path / "p.npz", tree)
    back = io.load(tmp_path / "p.npz")
    assert type(back).__name__ == "Pair" and back._fields == ("a", "b")
    np.testing.assert_array_equal(back.a, np.ones(2))
    typed = io.load(tmp_path / "p.npz", like=tree)
    assert type(typed) is Pair and typed.b == {"x": 1}


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    io.save(path, {"w": np.zeros(3)})

    def broken_savez(f, **kwargs):
        f.write(b"PK\x03\x04 partial data")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        io.save(path, {"w": np.ones(3)})
    monkeypatch.undo()
    np.testing.assert_array_equal(io.load(path)["w"], np.zeros(3))
    assert os.listdir(tmp_path) == ["model.npz"]  # the temporary file was removed


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at"):
        io.load(tmp_path / "nope.npz")


def test_save_into_a_missing_directory_names_it(tmp_path):
    target = tmp_path / "runs" / "model.npz"
    with pytest.raises(FileNotFoundError, match=r"directory '.*runs' of '.*model.npz' does not "
                                                r"exist"):
        io.save(target, {"w": np.ones(2)})
    assert not (tmp_path / "runs").exists()


def test_the_load_error_is_in_the_hierarchy_and_links_its_section(tmp_path):
    from functrans import errors

    assert io.SaveFormatError is errors.SaveFormatError
    assert issubclass(io.SaveFormatError, errors.FunctransError)
    assert issubclass(io.SaveFormatError, ValueError)  # `except ValueError` keeps working
    path = tmp_path / "junk.npz"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"docs/errors\.md#save-format"):
        io.load(path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 20])
def test_truncated_file(tmp_path, keep):
    path = tmp_path / "t.npz"
    io.save(path, {"w": np.arange(1000.0), "b": np.ones(10)})
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    with pytest.raises(io.SaveFormatError, match="truncated or corrupted"):
        io.load(path)


def test_corrupted_bytes(tmp_path):
    path = tmp_path / "c.npz"
    io.save(path, {"w": np.arange(1000.0)})
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(io.SaveFormatError, match="truncated or corrupted"):
        io.load(path)


def test_not_a_functrans_checkpoint(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.ones(2))
    with pytest.raises(io.SaveFormatError, match="no functrans tree description"):
        io.load(plain)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(io.SaveFormatError, match="not a file written by functrans.io.save"):
        io.load(text)
    single = tmp_path / "single.npy"
    np.save(single, np.ones(2))
    with pytest.raises(io.SaveFormatError, match="single .npy array"):
        io.load(single)


def _write_raw(path, header, **arrays):
    arrays["__functrans_tree__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(path, **arrays)


def test_pickled_objects_are_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    header = {"format": "functrans.io", "version": 1, "tree": {"leaf": 0},
              "leaves": [{"kind": "array", "name": "a0", "dtype": "|O", "shape": [1]}]}
    _write_raw(path, header, a0=np.array([{"payload": 1}], dtype=object))
    with pytest.raises(io.SaveFormatError, match="Object arrays cannot be loaded"):
        io.load(path)
    with pytest.raises(TypeError, match="without pickle"):
        io.save(tmp_path / "x.npz", {"o": np.array([None], dtype=object)})


def test_header_and_data_disagree(tmp_path):
    path = tmp_path / "d.npz"
    header = {"format": "functrans.io", "version": 1, "tree": {"leaf": 0},
              "leaves": [{"kind": "array", "name": "a0", "dtype": "<f8", "shape": [3]}]}
    _write_raw(path, header, a0=np.ones(2))
    with pytest.raises(io.SaveFormatError, match=r"leaf 0 should be <f8 \(3,\)"):
        io.load(path)
    header["version"] = 99
    _write_raw(path, header, a0=np.ones(3))
    with pytest.raises(io.SaveFormatError, match="newer functrans"):
        io.load(path)
    header["version"] = 1
    header["tree"] = {"leaf": 5}
    _write_raw(path, header, a0=np.ones(3))
    with pytest.raises(io.SaveFormatError, match="malformed tree description"):
        io.load(path)


def test_mismatch_with_like(tmp_path):
    path = tmp_path / "m.npz"
    params = {"layer": {"weight": np.ones((2, 3)), "bias": np.zeros(2)}}
    io.save(path, params)
    assert io.load(path, like=params)["layer"]["weight"].shape == (2, 3)
    with pytest.raises(io.SaveFormatError, match=r"missing from the file: \['layer'\]\['scale'\]"):
        io.load(path, like={"layer": {"weight": np.ones((2, 3)), "bias": np.zeros(2),
                                      "scale": np.ones(2)}})
    with pytest.raises(io.SaveFormatError, match=r"not expected: \['layer'\]\['bias'\]"):
        io.load(path, like={"layer": {"weight": np.ones((2, 3))}})
    with pytest.raises(io.SaveFormatError, match=r"\['layer'\]\['weight'\] .* float64\(2, 3\), "
                                                 r"but `like` has float64\(3, 2\)"):
        io.load(path, like={"layer": {"weight": np.ones((3, 2)), "bias": np.zeros(2)}})
    with pytest.raises(io.SaveFormatError, match=r"float64\(2,\), but `like` has float32\(2,\)"):
        io.load(path, like={"layer": {"weight": np.ones((2, 3)),
                                      "bias": np.zeros(2, np.float32)}})


def test_save_refuses_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="traced value"):
        ft.grad(lambda x: (io.save(tmp_path / "t.npz", {"x": x}), x)[1])(1.0)
    with pytest.raises(TypeError,
                       match=r"leaf at tree\['f'\] of type builtin_function_or_method"):
        io.save(tmp_path / "f.npz", {"f": len})
    with pytest.raises(TypeError, match="key"):
        io.save(tmp_path / "k.npz", {(1, 2): np.ones(1)})
    deep: list = [np.ones(1)]
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested too deeply to describe"):
        io.save(tmp_path / "d.npz", deep)
    assert not list(tmp_path.iterdir())


# --- every malformed file is a SaveFormatError ---------------------------------------------------
def _zip_structure_bytes(path):
    """The byte offsets of the zip archive's own records (local headers, central directory,
    end record), where a flipped bit reaches zipfile's parser rather than a CRC check."""
    import zipfile

    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        offsets = set()
        for info in infos:
            start = info.header_offset
            offsets.update(range(start, start + 30 + len(info.filename.encode())))
        central = archive.start_dir
    offsets.update(range(central, size))  # the central directory and the end record
    return sorted(offsets)


def test_every_single_bit_flip_is_a_save_format_error_or_loads_unchanged(tmp_path):
    Point = collections.namedtuple("Point", "x y")
    path, flipped = tmp_path / "small.npz", tmp_path / "flipped.npz"
    io.save(path, {"w": np.arange(3, dtype=np.float32), "n": 3, "p": Point(1.5, "s"),
                   "l": [None, (True,)], "state": optim.sgd(0.1).init(np.zeros(2))})
    original = io.load(path)
    data = path.read_bytes()
    # A seeded sample of the bits, most of them in zip's own records (where a flip reaches
    # zipfile's parser; elsewhere the CRCs or numpy's header checks catch it).
    structure = _zip_structure_bytes(path)
    rest = sorted(set(range(len(data))) - set(structure))
    rng = np.random.default_rng(12)
    bits = [structure[b // 8] * 8 + b % 8
            for b in rng.choice(len(structure) * 8, size=900, replace=False)]
    bits += [rest[b // 8] * 8 + b % 8 for b in rng.choice(len(rest) * 8, size=300, replace=False)]
    outcomes, causes = collections.Counter(), set()
    for bit in bits:
        corrupt = bytearray(data)
        corrupt[bit // 8] ^= 1 << (bit % 8)
        flipped.write_bytes(bytes(corrupt))
        try:
            loaded = io.load(flipped)
        except io.SaveFormatError as exc:
            outcomes["SaveFormatError"] += 1
            causes.add(type(exc.__cause__).__name__)
            continue
        _assert_same(loaded, original)  # a flip that zip's CRCs let through changed nothing
        outcomes["unchanged"] += 1
    assert outcomes["SaveFormatError"] > len(bits) // 2, outcomes
    # Among them, the flips zipfile reports with other exceptions: a version field it does not
    # support (NotImplementedError) and the encryption flag (RuntimeError).
    assert {"BadZipFile", "NotImplementedError", "RuntimeError"} <= causes, causes


def _write_header_bytes(path, header: bytes, **arrays):
    arrays["__functrans_tree__"] = np.frombuffer(header, np.uint8)
    np.savez(path, **arrays)


def test_a_deeply_nested_header_is_a_save_format_error(tmp_path):
    path = tmp_path / "deep.npz"
    depth = 100_000
    tree = '{"list": true, "children": [' * depth + "null" + "]}" * depth
    header = '{"format": "functrans.io", "version": 1, "leaves": [], "tree": ' + tree + "}"
    _write_header_bytes(path, header.encode())
    with pytest.raises(io.SaveFormatError, match=r"truncated or corrupted.*RecursionError"):
        io.load(path)
    # A tree nested a few hundred deep is still saved and loaded.
    nested = None
    for _ in range(300):
        nested = [nested]
    io.save(path, nested)
    assert io.load(path) == nested


@pytest.mark.parametrize("node,error", [
    ({"namedtuple": "m:Point", "fields": ["1x", "y"], "children": [None, None]}, "ValueError"),
    ({"namedtuple": "m:Point", "fields": ["x", "x"], "children": [None, None]}, "ValueError"),
    ({"namedtuple": "m:Point", "fields": ["x"], "children": [None, None]}, "TypeError"),
    ({"namedtuple": 3, "fields": ["x"], "children": [None]}, "AttributeError"),
    ({"dict": [[1]], "children": [None]}, "TypeError"),
    ({"dict": ["a"], "children": 5}, "TypeError"),
    ({"leaf": "0"}, "TypeError"),
    ("tree", "TypeError"),
], ids=["field-not-identifier", "duplicate-field", "too-many-values", "name-not-str",
        "unhashable-key", "children-not-list", "leaf-not-int", "tree-not-object"])
def test_a_malformed_tree_description_is_a_save_format_error(tmp_path, node, error):
    path = tmp_path / "bad.npz"
    _write_raw(path, {"format": "functrans.io", "version": 1, "tree": node, "leaves": []})
    with pytest.raises(io.SaveFormatError, match=rf"malformed tree description \({error}: "):
        io.load(path)


@pytest.mark.parametrize("header", [
    {"format": "functrans.io", "version": 1, "tree": {"leaf": 0}, "leaves": [{"kind": "array"}]},
    {"format": "functrans.io", "version": 1, "tree": {"leaf": 0}, "leaves": "a0"},
    {"format": "functrans.io", "version": "1", "tree": None, "leaves": []},
    {"format": "functrans.io", "version": 1, "tree": None},
], ids=["record-without-name", "leaves-not-list", "version-not-int", "no-leaves"])
def test_a_malformed_header_is_a_save_format_error(tmp_path, header):
    path = tmp_path / "bad.npz"
    _write_raw(path, header)
    with pytest.raises(io.SaveFormatError, match=r"malformed tree description|corrupted"):
        io.load(path)


def test_loading_never_imports_a_module_the_file_names(tmp_path, monkeypatch):
    import importlib

    def refuse(name, *args, **kwargs):
        raise AssertionError(f"load imported {name}")

    monkeypatch.setattr(importlib, "import_module", refuse)
    path = tmp_path / "n.npz"
    node = {"namedtuple": "functrans._not_imported:Thing", "fields": ["a"], "children": [None]}
    _write_raw(path, {"format": "functrans.io", "version": 1, "tree": node, "leaves": []})
    loaded = io.load(path)
    assert type(loaded).__name__ == "Thing" and loaded.a is None
    assert "functrans._not_imported" not in __import__("sys").modules
    io.save(path, optim.adam(0.1).init(np.zeros(1)))
    assert type(io.load(path)) is optim.AdamState  # functrans's own classes, already imported


# --- temporary files and permissions -------------------------------------------------------------
posix_only = pytest.mark.skipif(os.name != "posix", reason="process ids and umask are POSIX")


@posix_only
def test_the_next_save_removes_the_temporary_file_of_a_killed_save(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "model.npz"
    io.save(path, {"w": np.zeros(3)})
    killed = (
        "import os, signal, numpy as np\n"
        "from functrans import io\n"
        "def savez(f, **arrays):\n"
        "    f.write(b'PK partial'); f.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
        "np.savez = savez\n"
        f"io.save({str(path)!r}, {{'w': np.ones(3)}})\n")
    run = subprocess.run([sys.executable, "-c", killed], capture_output=True)
    assert run.returncode == -9, run.stderr.decode()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.npz"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.npz.")
    np.testing.assert_array_equal(io.load(path)["w"], np.zeros(3))  # the old file is intact
    # A temporary file whose process still runs, here or on another machine, is kept.
    host = io._host()
    alive = tmp_path / f".model.npz.{host}.{os.getppid()}.abcd.tmp"
    elsewhere = tmp_path / ".model.npz.some-other-host.1.abcd.tmp"
    other_file = tmp_path / f".other.npz.{host}.999999999.abcd.tmp"
    for p in (alive, elsewhere, other_file):
        p.write_bytes(b"partial")
    io.save(path, {"w": np.ones(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["model.npz", alive.name, elsewhere.name, other_file.name])
    np.testing.assert_array_equal(io.load(path)["w"], np.ones(3))


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_saved_files_get_the_mode_np_save_gives(tmp_path, umask):
    old = os.umask(umask)
    try:
        io.save(tmp_path / "ours.npz", {"w": np.ones(2)})
        np.save(tmp_path / "numpys.npy", np.ones(2))
    finally:
        os.umask(old)
    mode = (tmp_path / "ours.npz").stat().st_mode & 0o777
    assert mode == 0o666 & ~umask
    assert mode == (tmp_path / "numpys.npy").stat().st_mode & 0o777


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(io, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
