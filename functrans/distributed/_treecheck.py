"""The check, before a collective moves data, that every rank passed a tree of the same
structure, shapes and dtypes, and the error that names the first leaf that differs.

A tree's signature (its structure, and each leaf's key path, shape and dtype) is hashed once
per distinct structure on this rank and kept; each call then costs a dictionary lookup and
one all-reduce (MAX) of four integers, ``(h, -h)`` for a 126-bit hash ``h``: every rank
learns the largest and the smallest hash, which are equal exactly when all ranks agree. Two
ranks swap their hashes in one point-to-point exchange instead, whose latency is lower. Only
when they differ are the full signatures gathered, to name the key path, the rank and both
shapes. The check runs before the data moves because buffers of different sizes would make the
reduction itself fail or hang, and buffers of equal sizes but other shapes or dtypes would
corrupt it silently.
"""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from functrans import errors
from functrans import tree as ft_tree
from functrans._abstract import shape_of
from functrans.distributed import _comm

_MAX_KEPT = 256
_hashes: dict[tuple, np.ndarray] = {}
_MASK = (1 << 63) - 1


def dtype_of(x: Any) -> np.dtype:
    """The dtype of a leaf (a Python number's as NumPy would make it)."""
    return np.asarray(x).dtype if isinstance(x, (int, float, complex, bool)) else np.dtype(x.dtype)


def _signature(tree: Any, on_device: tuple | None) -> list:
    flat, treedef = ft_tree.flatten_with_path(tree)
    where = on_device or (False,) * len(flat)
    return [str(treedef)] + [(ft_tree.keystr(p), tuple(shape_of(x)),
                              str(dtype_of(x)) + (" in device memory" if d else ""))
                             for (p, x), d in zip(flat, where)]


def _hash(tree: Any, leaves: list, treedef: Any, on_device: tuple | None) -> np.ndarray:
    key = (treedef, tuple((tuple(shape_of(x)), dtype_of(x)) for x in leaves), on_device)
    h = _hashes.get(key)
    if h is None:
        digest = hashlib.blake2b(repr(_signature(tree, on_device)).encode(),
                                 digest_size=16).digest()
        a, b = (int.from_bytes(digest[k:k + 8], "little") & _MASK for k in (0, 8))
        h = np.array([a, b, -a, -b], dtype=np.int64)
        if len(_hashes) >= _MAX_KEPT:
            _hashes.clear()
        _hashes[key] = h
    return h


def host_signature_hash(tree: Any, leaves: list, treedef: Any) -> np.ndarray:
    """The kept hash of a tree whose leaves are all host arrays (for a caller that keeps it
    with its own description of the tree and passes it to ``check_same_tree``)."""
    return _hash(tree, leaves, treedef, None)


def check_same_tree(tree: Any, what: str, leaves: list | None = None, treedef: Any = None,
                    on_device: tuple | None = None, mine: np.ndarray | None = None) -> None:
    """Raise ``TreeStructureError`` on every rank when ``tree``'s structure, shapes or dtypes
    differ between ranks, naming the first leaf that differs (``leaves`` and ``treedef``: the
    tree already flattened, when the caller has them; ``on_device``: which leaves MPI reads in
    device memory, where that decides how they are reduced; ``mine``: this rank's hash, kept
    by a caller in a world of several processes)."""
    c = _comm.comm()
    if mine is None:
        if c is None or c.Get_size() == 1:
            return
        if leaves is None:
            leaves, treedef = ft_tree.flatten(tree)
        mine = _hash(tree, leaves, treedef, on_device)
    _compare(c, mine, tree, on_device, what)


_seen = np.empty(4, dtype=np.int64)  # what the exchange writes (read before the next one)
_TAG = 18


def _compare(c: Any, mine: np.ndarray, tree: Any, on_device: tuple | None, what: str) -> None:
    seen = _seen
    timed = _comm.debug_timeout() is not None
    during = f"{what} (comparing the trees across ranks)" if timed else what
    if c.Get_size() == 2:  # the other rank's hash
        peer = 1 - c.Get_rank()
        _comm.exchange(mine, peer, seen, peer, _TAG, during)
        same = seen.tobytes() == mine.tobytes()  # (h, -h) both ways
    else:  # the largest hash and the negated smallest one
        mpi = _comm.mpi_module()
        if not timed:
            c.Allreduce(mine, seen, op=mpi.MAX)
        else:
            _comm.wait([c.Iallreduce(mine, seen, op=mpi.MAX)], during)
        a, b, neg_a, neg_b = seen.tolist()
        same = a == -neg_a and b == -neg_b
    if not same:
        _name_the_difference(c, _signature(tree, on_device), what)


def _name_the_difference(c: Any, sig: list, what: str) -> None:
    sigs = c.allgather(sig)
    ref = sigs[0]
    advice = "Every rank must pass a tree of the same structure, shapes and dtypes."
    for r, other in enumerate(sigs):
        if other == ref:
            continue
        if other[0] != ref[0]:
            raise errors.TreeStructureError(
                f"{what}: the tree on rank {r} has another structure than on rank 0 "
                f"(rank 0: {ref[0]}; rank {r}: {other[0]}). {advice}")
        for (path, shape0, dt0), (_, shape_r, dt_r) in zip(ref[1:], other[1:]):
            if (shape0, dt0) != (shape_r, dt_r):
                raise errors.TreeStructureError(
                    f"{what}: the leaf at {path or '(root)'} has shape {shape_r} dtype {dt_r} on "
                    f"rank {r} but shape {shape0} dtype {dt0} on rank 0. {advice}"
                    + (" With a CUDA-aware MPI, a leaf must be in device memory on every rank "
                       "or on none." if "device" in dt0 + dt_r else ""))
    raise errors.TreeStructureError(  # equal signatures whose kept hashes differ
        f"{what}: the trees differ between ranks. {advice}")
