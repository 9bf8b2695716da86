"""The check, before a collective moves data, that every rank passed a tree of the same
structure, shapes and dtypes, and the error that names the first leaf that differs.

A tree's signature (its structure, and each leaf's key path, shape and dtype) is hashed once
per distinct structure on this rank and kept; each call then costs a dictionary lookup and
one all-reduce (MAX) of four integers, ``(h, -h)`` for a 126-bit hash ``h``: every rank
learns the largest and the smallest hash, which are equal exactly when all ranks agree. Two
ranks swap their hashes in one point-to-point exchange instead, whose latency is lower; when
a reduction's first step is itself an exchange between the two, the check rides on it
(``exchange_checked``: 29 bits of the hash as the message's tag, and its length) and costs
nothing more. Only when they differ are the full signatures gathered, to name the key path,
the rank and both shapes. The check runs before the data moves because buffers of different sizes would make the
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
_status: list = []  # one MPI.Status, made on first use


def _received(mpi: Any) -> Any:
    if not _status:
        _status.append(mpi.Status())
    return _status[0]


def folded_tag(mine: np.ndarray) -> int:
    """The tag that carries the check on a reduction's first exchange: 29 bits of the hash
    (MPI promises tags up to 32767 only; MPICH and Open MPI allow at least 2**29 - 1)."""
    mpi = _comm.mpi_module()
    upper = int(_comm.comm().Get_attr(mpi.TAG_UB))
    return int(mine[0]) % (min(upper, (1 << 29) - 1) + 1)


def exchange_checked(send: np.ndarray, recv: np.ndarray, tag: int, tree: Any, what: str) -> None:
    """On two ranks, a reduction's first exchange (``send`` to the other rank while ``recv``
    fills from it), which is also the check of ``check_same_tree``: each rank sends under the
    ``folded_tag`` of its tree's hash and takes whatever the other sends first, so a tree of
    another signature shows as another tag, another length, or a message too long for
    ``recv`` (nothing is written outside ``recv``). The other rank may be checking with the
    hash itself (``_compare``), when its tree takes another path: each side then receives
    the other's message and both name the difference."""
    c = _comm.comm()
    mpi = _comm.mpi_module()
    p2p = _comm.p2p_comm(what)
    peer = 1 - c.Get_rank()
    status = _received(mpi)
    try:
        p2p.Sendrecv(send.view("u1"), peer, tag, recv.view("u1"), peer, mpi.ANY_TAG, status)
        same = status.Get_tag() == tag and status.Get_count(mpi.BYTE) == recv.nbytes
    except mpi.Exception:  # longer than recv: the other rank's tree differs
        same = False
    if not same:
        _name_the_difference(c, _signature(tree, None), what)


def _compare(c: Any, mine: np.ndarray, tree: Any, on_device: tuple | None, what: str) -> None:
    seen = _seen
    timed = _comm.debug_timeout() is not None
    during = f"{what} (comparing the trees across ranks)" if timed else what
    if c.Get_size() == 2 and not timed:  # the other rank's hash, or its first exchange
        mpi = _comm.mpi_module()
        peer = 1 - c.Get_rank()
        status = _received(mpi)
        try:  # (exchange_checked's message when the other rank's tree takes another path)
            _comm.p2p_comm(what).Sendrecv(mine, peer, _TAG, seen, peer, mpi.ANY_TAG, status)
            same = status.Get_tag() == _TAG and status.Get_count(mpi.BYTE) == seen.nbytes \
                and seen.tobytes() == mine.tobytes()  # (h, -h) both ways
        except mpi.Exception:  # a message longer than a hash
            same = False
    elif c.Get_size() == 2:
        peer = 1 - c.Get_rank()
        _comm.exchange(mine, peer, seen, peer, _TAG, during)
        same = seen.tobytes() == mine.tobytes()
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
