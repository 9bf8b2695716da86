"""Saving and loading pytrees of arrays (params, optimizer state) to one file, safely.

``save(path, tree)`` writes a NumPy ``.npz`` archive (a zip of ``.npy`` arrays, written with
``allow_pickle=False``) holding every array leaf plus one JSON document describing the tree:
its containers (dicts, lists, tuples, namedtuples, ``None``), the dtype and shape of each
array, and the values of Python scalar leaves (``int``, ``float``, ``bool``, ``str``). The file
is written to a temporary file in the same directory and moved into place with
``os.replace``, so a crash mid-write leaves either the old file or the new one, never a
partial one; the next save to that path removes the temporary file a killed save left
behind. ``load(path)`` reads it back with ``allow_pickle=False``: a file from an untrusted
source cannot run code, and whatever is wrong with a file, ``load`` raises
[`SaveFormatError`][functrans.errors.SaveFormatError]. Namedtuple classes are restored by name only from functrans's own
(already imported) modules; other namedtuples come back as equivalent generated classes
(pass ``like=`` to get your own types back).

Not to be confused with ``functrans.checkpoint``, the rematerialisation transform.

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from functrans import io
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     path = os.path.join(directory, "model.npz")
    ...     io.save(path, {"w": np.ones((2, 2), np.float32), "step": 3})
    ...     io.load(path)
    {'w': array([[1., 1.],
           [1., 1.]], dtype=float32), 'step': 3}
"""
from __future__ import annotations

import collections
import json
import os
import secrets
import socket
import sys
from typing import Any, Union

import numpy as np

from functrans import tree as _tree
from functrans.backend import NUMPY, backend_of, device_get, device_put
from functrans.core.trace import Tracer
from functrans.errors import SaveFormatError
from functrans.typing import PyTree

__all__ = ["SaveFormatError", "load", "save"]

_FORMAT = "functrans.io"
_VERSION = 1
_HEADER = "__functrans_tree__"
PathLike = Union[str, "os.PathLike[str]"]


# --- encoding: tree -> (JSON skeleton, arrays) ---------------------------------------------------
def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def _leaf_record(leaf: Any, where: str, arrays: dict) -> dict:
    """The JSON description of one leaf; array data goes into ``arrays``."""
    if isinstance(leaf, Tracer):
        raise TypeError(f"functrans.io.save: the leaf at {where} is a traced value; save "
                        f"concrete arrays (outside grad/jvp/..., or return them as has_aux)")
    if isinstance(leaf, bool):
        return {"kind": "bool", "value": leaf}
    if isinstance(leaf, int):
        return {"kind": "int", "value": leaf}
    if isinstance(leaf, float) and not isinstance(leaf, np.generic):  # np.float64 is a float
        return {"kind": "float", "value": leaf}
    if isinstance(leaf, str):
        return {"kind": "str", "value": leaf}
    kind = "scalar" if isinstance(leaf, np.generic) else "array"
    if not isinstance(leaf, (np.ndarray, np.generic, complex)) and backend_of(leaf) is not NUMPY:
        leaf = device_get(leaf)  # CuPy or another device: copy to the host
    if not isinstance(leaf, (np.ndarray, np.generic, complex)):
        raise TypeError(f"functrans.io.save: cannot save the leaf at {where} of type "
                        f"{type(leaf).__name__}; leaves must be arrays or int/float/bool/str "
                        f"(convert custom objects to dicts of arrays first)")
    array = np.asarray(leaf)
    if array.dtype.hasobject or array.dtype.kind == "V":
        raise TypeError(f"functrans.io.save: the array at {where} has dtype {array.dtype}, "
                        f"which cannot be stored without pickle; use a numeric or bool dtype")
    name = f"a{len(arrays)}"
    arrays[name] = array
    return {"kind": kind, "name": name, "dtype": array.dtype.str, "shape": list(array.shape)}


def _encode(tree: PyTree) -> tuple[Any, list, dict]:
    """The tree as a JSON-able skeleton (leaves replaced by their index), the leaf records
    and the arrays. Walks the tree with an explicit stack."""
    leaves: list = []
    arrays: dict = {}
    root: list = [None]
    stack = [(tree, root, 0, "tree")]
    while stack:
        obj, parent, slot, where = stack.pop()
        node: Any  # the JSON description of obj (a dict), or None for None
        if obj is None:
            node = None
            children: list = []
        elif type(obj) is dict or isinstance(obj, collections.OrderedDict):
            keys = list(obj)
            for k in keys:
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(f"functrans.io.save: the dict at {where} has a key {k!r} "
                                    f"of type {type(k).__name__}; only str and int keys can "
                                    f"be saved")
            node = {"dict": keys, "children": [None] * len(keys)}
            children = [(obj[k], f"{where}[{k!r}]") for k in keys]
        elif _is_namedtuple(obj):
            cls = type(obj)
            node = {"namedtuple": f"{cls.__module__}:{cls.__qualname__}",
                    "fields": list(cls._fields), "children": [None] * len(obj)}
            children = [(v, f"{where}.{f}") for f, v in zip(cls._fields, obj)]
        elif type(obj) in (list, tuple):
            node = {type(obj).__name__: True, "children": [None] * len(obj)}
            children = [(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        else:
            node = {"leaf": len(leaves)}
            leaves.append(_leaf_record(obj, where, arrays))
            children = []
        parent[slot] = node
        for i, (child, child_where) in enumerate(children):
            stack.append((child, node["children"], i, child_where))
    return root[0], leaves, arrays


# --- decoding: (JSON skeleton, arrays) -> tree --------------------------------------------------
_GENERATED: dict = {}


def _namedtuple_class(name: str, fields: list) -> type:
    """The class named ``module:qualname`` if it is one of functrans's namedtuples with these
    fields, in a module already imported; otherwise a generated namedtuple class."""
    module_name, _, qualname = name.partition(":")
    module = sys.modules.get(module_name)  # a file never makes anything be imported
    if module is not None and (module_name == "functrans" or module_name.startswith("functrans.")):
        cls: Any = module
        for part in qualname.split("."):
            cls = getattr(cls, part, None)
        if isinstance(cls, type) and issubclass(cls, tuple) and \
                list(getattr(cls, "_fields", ())) == fields:
            return cls
    key = (name, tuple(fields))
    if key not in _GENERATED:
        short = qualname.rsplit(".", 1)[-1] or "Record"
        _GENERATED[key] = collections.namedtuple(short if short.isidentifier() else "Record",
                                                 fields)
    return _GENERATED[key]


def _decode(skeleton: Any, values: list) -> PyTree:
    """Build the tree bottom-up: nodes in pre-order, then constructed in reverse."""
    order: list = []
    stack = [(skeleton, -1, 0)]
    while stack:
        node, parent, slot = stack.pop()
        index = len(order)
        order.append((node, parent, slot))
        if isinstance(node, dict) and "children" in node:
            for i, child in enumerate(node["children"]):
                stack.append((child, index, i))
    kids: list = [[None] * len(n["children"]) if isinstance(n, dict) and "children" in n
                  else None for n, _, _ in order]
    for index in range(len(order) - 1, -1, -1):
        node, parent, slot = order[index]
        if node is None:
            obj = None
        elif "leaf" in node:
            obj = values[node["leaf"]]
        elif "dict" in node:
            obj = dict(zip(node["dict"], kids[index]))
        elif "namedtuple" in node:
            obj = _namedtuple_class(node["namedtuple"], node["fields"])(*kids[index])
        elif "tuple" in node:
            obj = tuple(kids[index])
        else:
            obj = list(kids[index])
        if parent < 0:
            return obj
        kids[parent][slot] = obj
    raise SaveFormatError("functrans.io.load: empty tree description")  # unreachable


# --- public API ----------------------------------------------------------------------------------
def save(path: PathLike, tree: PyTree) -> None:
    """Write ``tree`` to ``path`` atomically, as one ``.npz`` file (no pickle).

    The data goes to a temporary file next to ``path``, is flushed to disk, and then replaces
    ``path`` in one step, so readers never see a partial file and a crash leaves the previous
    checkpoint intact. A temporary file left by a save that was killed (its process is gone)
    is removed by the next save to the same path. The file is written exactly at ``path`` (no
    suffix is added), with the permissions ``open`` gives a new file (``0o666`` less the
    umask), as ``np.save`` does.

    Args:
        path: Destination file.
        tree: A pytree of dicts (str or int keys), lists, tuples, namedtuples and ``None``,
            whose leaves are NumPy (or CuPy) arrays, NumPy scalars, or Python
            ``int``/``float``/``bool``/``str``.

    Raises:
        TypeError: a leaf or key that cannot be stored without pickle, or a traced value.
        ValueError: the tree is nested deeper than Python's recursion limit.
        OSError: the directory does not exist or is not writable.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from functrans import io, optim
        >>> opt = optim.adam(1e-3)
        >>> state = opt.init({"w": np.zeros(3)})
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     path = os.path.join(directory, "opt_state.npz")
        ...     io.save(path, state)
        ...     int(io.load(path).count)
        0
    """
    skeleton, leaves, arrays = _encode(tree)
    try:
        header = json.dumps({"format": _FORMAT, "version": _VERSION, "tree": skeleton,
                             "leaves": leaves})
    except RecursionError:  # json writes nested containers recursively
        raise ValueError("functrans.io.save: the tree is nested too deeply to describe (its "
                         "containers go deeper than Python's recursion limit); save a "
                         "flatter tree, e.g. the leaves of functrans.tree.flatten_with_path "
                         "in a dict keyed by their paths") from None
    arrays[_HEADER] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):  # else the error would name the temporary file
        raise FileNotFoundError(f"functrans.io.save: the directory {directory!r} of {path!r} "
                                f"does not exist; create it first (os.makedirs)")
    _remove_leftovers(directory, os.path.basename(path))
    fd, tmp = _create_temporary(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=False, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# --- temporary files: ".<name>.<host>.<pid>.<random>.tmp" next to the destination ----------------
def _host() -> str:
    """This machine's name, reduced to letters, digits and dashes (no dots: they separate the
    parts of a temporary file's name)."""
    return "".join(c if c.isalnum() else "-" for c in socket.gethostname()) or "host"


def _create_temporary(directory: str, name: str) -> tuple[int, str]:
    """A new file for ``name``'s data, opened for writing. Created with mode 0o666, so the
    umask decides its permissions, as for any file ``open`` creates."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory,
                           f".{name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _process_is_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs on this machine (POSIX; elsewhere assume it runs)."""
    if os.name != "posix" or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists, owned by someone else
        return False
    return False


def _remove_leftovers(directory: str, name: str) -> None:
    """Remove the temporary files of earlier saves to ``name`` whose process, on this machine,
    is gone (killed mid-write); a save still running, here or on another machine sharing the
    directory, keeps its file."""
    prefix, host = f".{name}.", _host()
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        parts = entry[len(prefix):-len(".tmp")].rsplit(".", 2)
        if len(parts) == 3 and parts[0] == host and parts[1].isdigit() and \
                _process_is_gone(int(parts[1])):
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                pass


def _read(path: str) -> tuple[dict, dict]:
    """The header and the arrays of a checkpoint, every failure turned into a clear error."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"functrans.io.load: no file at {path!r}")
    problem = (f"functrans.io.load: {path!r} is truncated or corrupted, or is not a file "
               f"written by functrans.io.save")
    try:
        with open(path, "rb") as f:
            archive = np.load(f, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise SaveFormatError(f"{problem} (it is a single .npy array, not an archive)")
            if _HEADER not in archive.files:
                raise SaveFormatError(f"{problem} (it has no functrans tree description)")
            header = json.loads(archive[_HEADER].tobytes().decode("utf-8"))
            arrays = {name: archive[name] for name in archive.files if name != _HEADER}
    except (SaveFormatError, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:
        # A damaged file can fail anywhere in zipfile, numpy or json: NotImplementedError for
        # a flipped version field, RuntimeError for a flipped encryption flag, RecursionError
        # for a deeply nested header, MemoryError for a flipped shape...
        raise SaveFormatError(f"{problem} ({type(exc).__name__}: {exc})") from exc
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise SaveFormatError(f"{problem} (unknown format)")
    version = header.get("version")
    if type(version) is not int:
        raise SaveFormatError(f"{problem} (format version {version!r})")
    if version > _VERSION:
        raise SaveFormatError(f"functrans.io.load: {path!r} was written by a newer functrans "
                              f"(format version {version}, this one reads up to {_VERSION}); "
                              f"upgrade functrans")
    return header, arrays


def _leaf_values(header: dict, arrays: dict, path: str) -> list:
    values = []
    for i, record in enumerate(header["leaves"]):
        kind = record["kind"]
        if kind in ("int", "float", "bool", "str"):
            values.append(record["value"])
            continue
        array = arrays.get(record["name"])
        if array is None or array.dtype.str != record["dtype"] or \
                list(array.shape) != record["shape"]:
            raise SaveFormatError(f"functrans.io.load: {path!r} is corrupted: leaf {i} should "
                                  f"be {record['dtype']} {tuple(record['shape'])}")
        values.append(array[()] if kind == "scalar" else array)
    return values


def _describe(leaf: Any) -> str:
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return f"{np.dtype(leaf.dtype).name}{tuple(leaf.shape)}"
    return type(leaf).__name__


def _match_like(loaded: PyTree, like: PyTree, path: str) -> PyTree:
    """``loaded``'s leaves in ``like``'s structure, after checking paths, shapes, dtypes."""
    got, _ = _tree.flatten_with_path(loaded)
    want, like_def = _tree.flatten_with_path(like)
    got_paths = [_tree.keystr(p) for p, _ in got]
    want_paths = [_tree.keystr(p) for p, _ in want]
    if got_paths != want_paths:
        missing = [p for p in want_paths if p not in got_paths]
        extra = [p for p in got_paths if p not in want_paths]
        detail = "; ".join(part for part in (
            f"missing from the file: {', '.join(missing[:5])}" if missing else "",
            f"not expected: {', '.join(extra[:5])}" if extra else "") if part) or \
            "the same leaves in a different arrangement"
        raise SaveFormatError(f"functrans.io.load: {path!r} does not match the structure of "
                              f"`like` ({detail})")
    for (key, value), (_, ref) in zip(got, want):
        if hasattr(ref, "shape") and hasattr(ref, "dtype"):
            if not (hasattr(value, "shape") and tuple(value.shape) == tuple(ref.shape)
                    and np.dtype(value.dtype) == np.dtype(ref.dtype)):
                raise SaveFormatError(f"functrans.io.load: the leaf {_tree.keystr(key)} in "
                                      f"{path!r} is {_describe(value)}, but `like` has "
                                      f"{_describe(ref)}")
        elif type(value) is not type(ref):
            raise SaveFormatError(f"functrans.io.load: the leaf {_tree.keystr(key)} in "
                                  f"{path!r} is {_describe(value)}, but `like` has "
                                  f"{_describe(ref)}")
    return like_def.unflatten([value for _, value in got])


def load(path: PathLike, like: PyTree | None = None, *, device: str | None = None) -> PyTree:
    """Read a tree written by [`save`][functrans.io.save] (without pickle), structure and dtypes exact.

    Args:
        path: The file.
        like: Optional tree the result must match: same key paths, and for array leaves the
            same shapes and dtypes. The result then takes ``like``'s container types (your
            own namedtuple classes, for example).
        device: Where to put the array leaves (``"gpu"``, ``"gpu:1"``...); by default they
            are NumPy arrays on the host. Scalars and strings stay as they are.

    Returns:
        The tree, with NumPy arrays (or arrays on ``device``) as array leaves.

    Raises:
        FileNotFoundError: no file at ``path``.
        SaveFormatError: the file is truncated, corrupted, not a functrans checkpoint, from a
            newer format, or does not match ``like`` (the message names the first leaf that
            differs).

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from functrans import io
        >>> directory = tempfile.TemporaryDirectory()
        >>> path = os.path.join(directory.name, "p.npz")
        >>> io.save(path, {"w": np.zeros(2)})
        >>> io.load(path, like={"w": np.ones(3)})
        Traceback (most recent call last):
        ...
        functrans.errors.SaveFormatError: ... the leaf ['w'] in ... is float64(2,), but `like` has float64(3,)
        (See https://functrans.readthedocs.io/en/latest/errors/#save-format or docs/errors.md#save-format.)
        >>> directory.cleanup()
    """
    path = os.fspath(path)
    header, arrays = _read(path)
    try:
        values = _leaf_values(header, arrays, path)
        loaded = _decode(header["tree"], values)
    except SaveFormatError:
        raise
    except Exception as exc:  # the header may hold anything: every failure is the file's
        raise SaveFormatError(f"functrans.io.load: {path!r} has a malformed tree description "
                              f"({type(exc).__name__}: {exc})") from exc
    loaded = loaded if like is None else _match_like(loaded, like, path)
    if device is None:
        return loaded
    return _tree.map(lambda x: device_put(x, device) if isinstance(x, np.ndarray) else x, loaded)
