"""The check, before a collective moves data, that every rank passed a tree of the same
structure, shapes and dtypes, and the error that names the first leaf that differs.

A tree's signature (its structure, and each leaf's key path, shape and dtype) is hashed once
per distinct structure on this rank and kept; each call then costs a dictionary lookup and
one all-reduce (MAX) of four integers, ``(h, -h)`` for a 126-bit hash ``h``: every rank
learns the largest and the smallest hash, which are equal exactly when all ranks agree. Two
ranks swap their hashes in one point-to-point exchange instead, whose latency is lower, or
in the round that exchanges the first blocks of a reduction (``check_riding``). Only when
they differ are the full signatures gathered, to name the key path, the rank and both
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

# Two ranks swap a header of eight integers: the hash (four), then the bytes of data this
# rank sends and receives in the same round and the tag they travel with (-1: none), then 0.
_header = np.zeros(8, dtype=np.int64)
_expected = np.zeros(8, dtype=np.int64)  # the other rank's header when the calls agree
_peer_header = np.empty(8, dtype=np.int64)
_NO_DATA = (-1, -1, -1)


def _compare(c: Any, mine: np.ndarray, tree: Any, on_device: tuple | None, what: str) -> None:
    timed = _comm.debug_timeout() is not None
    during = f"{what} (comparing the trees across ranks)" if timed else what
    if c.Get_size() == 2:  # the other rank's hash
        peer = 1 - c.Get_rank()
        header = _header
        header[:4] = mine
        header[4:7] = _NO_DATA
        _comm.exchange(header, peer, _peer_header, peer, _TAG, during)
        if _peer_header.tobytes() != header.tobytes():
            _after_a_difference(c, header, peer, tree, on_device, what)
        return
    seen = _seen  # the largest hash and the negated smallest one
    mpi = _comm.mpi_module()
    if not timed:
        c.Allreduce(mine, seen, op=mpi.MAX)
    else:
        _comm.wait([c.Iallreduce(mine, seen, op=mpi.MAX)], during)
    a, b, neg_a, neg_b = seen.tolist()
    if not (a == -neg_a and b == -neg_b):
        _name_the_difference(c, _signature(tree, on_device), what)


def check_riding(c: Any, mine: np.ndarray, tree: Any, what: str, send: np.ndarray,
                 recv: np.ndarray, peer: int, tag: int) -> None:
    """The check of a two-rank collective whose first step is an exchange with the other
    rank (``send`` to it, ``recv`` from it, on ``tag``): the hashes travel in the same round as
    the data, so the check adds no round trip. ``recv`` must be scratch memory: it is written
    before the trees are known to agree. When they differ, the data of both ranks is still
    taken (a rank that checked on its own takes it in ``_after_a_difference``; a longer
    message than ``recv`` is cut short), so that no message is left waiting for a later call,
    and the error names the difference as ``check_same_tree`` does."""
    header, expected = _header, _expected
    header[:4] = expected[:4] = mine
    header[4:7] = (send.nbytes, recv.nbytes, tag)
    expected[4:7] = (recv.nbytes, send.nbytes, tag)  # what the other rank sends, it receives
    during = f"{what} (comparing the trees across ranks)"
    requests = _comm.start_exchange(header, peer, _peer_header, peer, _TAG, during)
    data = _comm.start_exchange(send, peer, recv, peer, tag, what)
    _comm.wait(requests, during)
    if _peer_header.tobytes() == expected.tobytes():
        _comm.wait(data, what)
        return
    mpi = _comm.mpi_module()
    for request in data:
        try:
            _comm.wait([request], what)
        except mpi.Exception:  # the other rank's message was longer than recv: cut short
            pass
    _after_a_difference(c, header, peer, tree, None, what)


def _after_a_difference(c: Any, header: np.ndarray, peer: int, tree: Any,
                        on_device: tuple | None, what: str) -> None:
    """The two headers differ: take the data that rode along with the other rank's header
    when this rank sent none (answering with zeros of the size it expects, so its exchange
    completes), then raise on both ranks."""
    theirs = _peer_header.tolist()
    sent, received, tag = theirs[4:7]
    if sent >= 0 and header[4] < 0:
        _comm.exchange(np.zeros(received, np.uint8), peer, np.empty(sent, np.uint8), peer, tag, what)
    if theirs[:4] == header[:4].tolist():
        raise errors.TreeStructureError(
            f"{what}: rank {c.Get_rank()} and rank {peer} passed the same tree to different "
            "calls (another collective, or other options: inplace, bucket_bytes). Every rank "
            "must make the same collective calls in the same order.")
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
