"""Collectives on pytrees of arrays across the processes of the world: ``all_reduce``,
``broadcast``, ``all_gather`` and ``reduce_scatter``.

Every rank must call the same collectives in the same order with trees of the same structure,
shapes and dtypes. Each call first checks that (one small all-gather of a hash of the tree's
signature; only when the hashes differ are the full signatures gathered, to name the first
leaf that differs, its key path, the rank and both shapes) and then moves the data: the leaves
of one dtype are packed into one contiguous buffer (a single contiguous leaf is sent as it is,
without a copy) and reduced in place in buckets of ``bucket_bytes``. Device (CuPy) leaves go to
MPI directly when mpi4py reports a CUDA-aware MPI, else through host memory, counted by
``host_staging_count()``.
"""
from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np

from functrans import errors
from functrans import tree as ft_tree
from functrans._abstract import shape_of
from functrans.backend import NUMPY, backend_of
from functrans.distributed import _comm

__all__ = ["all_reduce", "broadcast", "all_gather", "reduce_scatter", "DEFAULT_BUCKET_BYTES",
           "set_debug"]

#: Bytes reduced per MPI call when a buffer is sent in buckets.
DEFAULT_BUCKET_BYTES = 64 << 20

_OPS = ("sum", "mean", "max", "min")
_debug: dict[str, Any] = {"timeout": None}


def set_debug(*, timeout: float | None = None) -> None:
    """Debug settings of the collectives: with ``timeout`` (seconds), a collective that has not
    completed by then aborts the job with a message naming it, instead of waiting forever.

    Example:
        >>> set_debug(timeout=None)
    """
    _debug["timeout"] = timeout


# -- host/device ----------------------------------------------------------------------------------

def _to_buffer(x: Any, device_ok: bool = True) -> tuple[np.ndarray | Any, Any]:
    """``(buffer MPI can read, backend)``: device arrays staged through host memory unless the
    MPI library is CUDA-aware and the caller takes device buffers (``device_ok``: all_reduce;
    broadcast and all_gather rearrange on the host)."""
    if isinstance(x, (int, float, complex, bool, np.generic)):
        return np.asarray(x), NUMPY
    backend = backend_of(x)
    if backend is NUMPY or isinstance(x, np.ndarray):
        return np.asarray(x), NUMPY
    if device_ok and _comm.cuda_aware():
        return x, backend
    _comm.count_staging()
    return backend.to_host(x), backend


def _from_buffer(buf: Any, backend: Any, like: Any) -> Any:
    if backend is NUMPY or not isinstance(buf, np.ndarray):
        return buf
    return backend.put(buf, backend.device_of(like))


# -- the tree check -------------------------------------------------------------------------------

def _signature(leaves_with_path: list, treedef: Any) -> list:
    return [str(treedef)] + [(ft_tree.keystr(p), tuple(shape_of(x)), str(_dtype(x)))
                             for p, x in leaves_with_path]


def _dtype(x: Any) -> np.dtype:
    return np.asarray(x).dtype if isinstance(x, (int, float, complex, bool)) else np.dtype(x.dtype)


def check_same_tree(tree: Any, what: str) -> None:
    """Raise ``TreeStructureError`` on every rank when ``tree``'s structure, shapes or dtypes
    differ between ranks, naming the first leaf that differs."""
    c = _comm.comm()
    if c is None or c.Get_size() == 1:
        return
    flat, treedef = ft_tree.flatten_with_path(tree)
    sig = _signature(flat, treedef)
    digest = int.from_bytes(hashlib.blake2b(repr(sig).encode(), digest_size=8).digest(), "little",
                            signed=True)
    mine = np.array([digest], dtype=np.int64)
    everyone = np.empty(c.Get_size(), dtype=np.int64)
    if _debug["timeout"] is None:
        c.Allgather(mine, everyone)
    else:
        _wait(c.Iallgather(mine, everyone), f"{what} (comparing the trees across ranks)")
    if (everyone == everyone[0]).all():
        return
    sigs = c.allgather(sig)
    ref = sigs[0]
    for r, other in enumerate(sigs):
        if other == ref:
            continue
        if other[0] != ref[0]:
            raise errors.TreeStructureError(
                f"{what}: the tree on rank {r} has another structure than on rank 0 "
                f"(rank 0: {ref[0]}; rank {r}: {other[0]}). Every rank must pass a tree of the "
                "same structure, shapes and dtypes.")
        for (path, shape0, dt0), (_, shape_r, dt_r) in zip(ref[1:], other[1:]):
            if (shape0, dt0) != (shape_r, dt_r):
                raise errors.TreeStructureError(
                    f"{what}: the leaf at {path or '(root)'} has shape {shape_r} dtype {dt_r} on "
                    f"rank {r} but shape {shape0} dtype {dt0} on rank 0. Every rank must pass a "
                    "tree of the same structure, shapes and dtypes.")


# -- waiting with a timeout (debug mode) ----------------------------------------------------------

def _wait(request: Any, what: str) -> None:
    timeout = _debug["timeout"]
    deadline = time.monotonic() + timeout
    while not request.Test():
        if time.monotonic() > deadline:
            _comm.abort(f"{what} did not complete within the debug timeout of {timeout} s "
                        "(a rank is missing from the collective, or called another one).")
        time.sleep(1e-4)


def _allreduce(c: Any, send: Any, recv: Any, mpi_op: Any, bucket_bytes: int, what: str) -> None:
    """``recv`` = the reduction of ``send`` (or of ``recv`` itself when ``send`` is None) over
    the ranks, in buckets of ``bucket_bytes``."""
    mpi = _comm.mpi_module()
    step = max(1, int(bucket_bytes) // max(recv.dtype.itemsize, 1))
    for start in range(0, recv.size, step):
        out = recv[start:start + step]
        src = mpi.IN_PLACE if send is None else send[start:start + step]
        if _debug["timeout"] is None:
            c.Allreduce(src, out, op=mpi_op)
        else:
            _wait(c.Iallreduce(src, out, op=mpi_op), what)


def _mpi_op(op: str) -> Any:
    if op not in _OPS:
        raise ValueError(f"op={op!r} is not one of {_OPS}")
    mpi = _comm.mpi_module()
    return {"sum": mpi.SUM, "mean": mpi.SUM, "max": mpi.MAX, "min": mpi.MIN}[op]


def _group_by_dtype(leaves: list) -> dict:
    groups: dict[np.dtype, list[int]] = {}
    for i, x in enumerate(leaves):
        groups.setdefault(_dtype(x), []).append(i)
    return groups


# -- the collectives ------------------------------------------------------------------------------

def all_reduce(tree: Any, op: str = "sum", *, bucket_bytes: int = DEFAULT_BUCKET_BYTES,
               inplace: bool = False, check: bool = True) -> Any:
    """The elementwise ``op`` (``"sum"``, ``"mean"``, ``"max"`` or ``"min"``) of ``tree`` over all
    ranks, on every rank. A mean of integers is a float64 array.

    The result is new arrays; with ``inplace=True`` the reduction is written into the leaves
    themselves (writeable NumPy arrays; a float dtype for ``"mean"``), which are returned: no
    allocation and, for a single leaf of a dtype, no copy at all (``data_parallel_step`` reduces
    its freshly computed gradients this way). ``check=False`` skips the comparison of the
    trees across ranks (one small all-gather): only where the caller knows they agree, since
    trees that differ then corrupt the reduction or stall it.

    Example:
        >>> import numpy as np
        >>> all_reduce({"w": np.ones(3)}, op="mean")["w"]  # a world of one process
        array([1., 1., 1.])
    """
    if op not in _OPS:
        raise ValueError(f"all_reduce: op={op!r} is not one of {_OPS}")
    c = _comm.comm()
    leaves, treedef = ft_tree.flatten(tree)
    n = 1 if c is None else c.Get_size()
    if n == 1:
        if inplace:
            return tree
        out = [np.array(x) if isinstance(x, (int, float, complex, bool)) else x.copy()
               for x in leaves]
        if op == "mean":
            out = [x / 1 if _dtype(x).kind in "iub" else x for x in out]
        return ft_tree.unflatten(treedef, out)
    if check:
        check_same_tree(tree, "all_reduce")
    mpi_op = _mpi_op(op)
    results: list = [None] * len(leaves)
    for idx in _group_by_dtype(leaves).values():
        bufs = [_to_buffer(leaves[i]) for i in idx]
        parts = [h.reshape(-1) for h, _ in bufs]
        total = sum(int(p.size) for p in parts)
        if inplace:
            _reduce_into_leaves(c, [leaves[i] for i in idx], mpi_op, op, n, bucket_bytes)
            for i in idx:
                results[i] = leaves[i]
            continue
        if all(isinstance(p, np.ndarray) for p in parts):
            # Host buffers: reduced into a kept workspace (MPI into freshly allocated memory
            # costs several times the reduction itself), then copied out per leaf.
            recv = _workspace(parts[0].dtype, "recv", total)
            if len(parts) == 1:  # one leaf: MPI reads it where it is
                send = parts[0] if parts[0].flags.c_contiguous else parts[0].copy()
            else:
                send = _workspace(parts[0].dtype, "send", total)
                np.concatenate(parts, out=send)
        else:  # device buffers of a CUDA-aware MPI
            send, recv = None, _concatenate(parts)
        _allreduce(c, send, recv, mpi_op, bucket_bytes, f"all_reduce(op={op!r})")
        offset = 0
        for i, (host, backend) in zip(idx, bufs):
            k = int(np.prod(shape_of(host), dtype=np.int64))
            piece = recv[offset:offset + k].reshape(shape_of(host))
            piece = piece / n if op == "mean" else piece.copy()
            offset += k
            results[i] = _from_buffer(piece, backend, leaves[i])
    return ft_tree.unflatten(treedef, results)


def _reduce_into_leaves(c: Any, leaves: list, mpi_op: Any, op: str, n: int,
                        bucket_bytes: int) -> None:
    for x in leaves:
        if not (type(x) is np.ndarray and x.flags.writeable and x.flags.c_contiguous) or (
                op == "mean" and x.dtype.kind not in "fc"):
            raise ValueError(
                "all_reduce(inplace=True) writes into the leaves: each must be a writeable, "
                f"C-contiguous NumPy array (of a float dtype for op='mean'); got {type(x).__name__} "
                f"of shape {shape_of(x)}. Pass inplace=False for a new result.")
    what = f"all_reduce(op={op!r})"
    if len(leaves) == 1:
        buf = leaves[0].reshape(-1)
    else:
        buf = _workspace(leaves[0].dtype, "send", sum(x.size for x in leaves))
        np.concatenate([x.reshape(-1) for x in leaves], out=buf)
    _allreduce(c, None, buf, mpi_op, bucket_bytes, what)
    if op == "mean":
        np.divide(buf, n, out=buf)
    if len(leaves) > 1:
        offset = 0
        for x in leaves:
            x.reshape(-1)[...] = buf[offset:offset + x.size]
            offset += x.size


_workspaces: dict[tuple, np.ndarray] = {}


def _workspace(dtype: np.dtype, role: str, size: int) -> np.ndarray:
    """A kept host buffer of at least ``size`` elements of ``dtype`` (its first ``size``)."""
    key = (np.dtype(dtype), role)
    buf = _workspaces.get(key)
    if buf is None or buf.size < size:
        buf = _workspaces[key] = np.empty(max(size, 1), dtype=dtype)
    return buf[:size]


def _concatenate(parts: list) -> Any:
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts)
    from functrans.backend import array_module
    return array_module(parts[0]).concatenate(parts)


def _empty_like(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return np.empty_like(x)
    from functrans.backend import array_module
    return array_module(x).empty_like(x)


def broadcast(tree: Any, root: int = 0) -> Any:
    """``tree`` as rank ``root`` holds it, on every rank (other ranks pass a tree of the same
    structure, shapes and dtypes; their values are replaced).

    Example:
        >>> import numpy as np
        >>> broadcast([np.arange(3.0)])[0]
        array([0., 1., 2.])
    """
    c = _comm.comm()
    leaves, treedef = ft_tree.flatten(tree)
    if c is None or c.Get_size() == 1:
        return ft_tree.unflatten(treedef, [np.array(x) if np.isscalar(x) else x.copy()
                                          for x in leaves])
    check_same_tree(tree, "broadcast")
    results: list = [None] * len(leaves)
    for dtype, idx in _group_by_dtype(leaves).items():
        bufs = [_to_buffer(leaves[i], device_ok=False) for i in idx]
        packed = np.concatenate([np.asarray(h).reshape(-1) for h, _ in bufs]).astype(dtype) \
            if len(idx) > 1 else np.array(bufs[0][0], dtype=dtype, order="C").reshape(-1)
        if _debug["timeout"] is None:
            c.Bcast(packed, root=root)
        else:
            _wait(c.Ibcast(packed, root=root), "broadcast")
        offset = 0
        for i, (host, backend) in zip(idx, bufs):
            k = int(np.prod(shape_of(host), dtype=np.int64))
            results[i] = _from_buffer(packed[offset:offset + k].reshape(shape_of(host)), backend,
                                      leaves[i])
            offset += k
    return ft_tree.unflatten(treedef, results)


def _gather_array(c: Any, x: Any, axis: int) -> Any:
    host, backend = _to_buffer(x, device_ok=False)
    host = np.ascontiguousarray(np.moveaxis(np.asarray(host), axis, 0))
    out = np.empty((c.Get_size(),) + host.shape, dtype=host.dtype)
    if _debug["timeout"] is None:
        c.Allgather(host, out)
    else:
        _wait(c.Iallgather(host, out), "all_gather")
    out = out.reshape((-1,) + host.shape[1:])
    return _from_buffer(np.moveaxis(out, 0, axis), backend, x)


def all_gather(tree: Any, axis: int = 0) -> Any:
    """Every rank's ``tree``, each leaf concatenated along ``axis`` in rank order (the leaves
    must have the same shape on every rank).

    Example:
        >>> import numpy as np
        >>> all_gather({"x": np.ones((2, 3))})["x"].shape  # a world of one process
        (2, 3)
    """
    c = _comm.comm()
    if c is None or c.Get_size() == 1:
        return ft_tree.map(lambda x: np.array(x) if np.isscalar(x) else x.copy(), tree)
    check_same_tree(tree, "all_gather")
    return ft_tree.map(lambda x: _gather_array(c, x, axis if axis >= 0 else len(shape_of(x)) + axis),
                       tree)


def reduce_scatter(tree: Any, op: str = "sum", axis: int = 0) -> Any:
    """The ``op`` of ``tree`` over all ranks, each rank keeping its block of every leaf along
    ``axis`` (rank ``r`` the ``r``-th of ``size()`` equal blocks; the length along ``axis`` must
    divide evenly).

    Example:
        >>> import numpy as np
        >>> reduce_scatter([np.arange(4.0)])[0]  # a world of one process
        array([0., 1., 2., 3.])
    """
    c = _comm.comm()
    n = 1 if c is None else c.Get_size()
    r = 0 if c is None else c.Get_rank()
    for path, x in ft_tree.flatten_with_path(tree)[0]:
        length = shape_of(x)[axis] if len(shape_of(x)) else 0
        if len(shape_of(x)) == 0 or length % n:
            raise ValueError(
                f"reduce_scatter: the leaf at {ft_tree.keystr(path) or '(root)'} has shape "
                f"{shape_of(x)}, whose axis {axis} does not split into {n} equal blocks.")
    reduced = all_reduce(tree, op=op)

    def block(x: Any) -> Any:
        k = x.shape[axis] // n
        index = [slice(None)] * x.ndim
        index[axis] = slice(r * k, (r + 1) * k)
        return x[tuple(index)].copy()

    return ft_tree.map(block, reduced)
