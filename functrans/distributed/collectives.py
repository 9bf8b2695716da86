"""Collectives on pytrees of arrays across the processes of the world: ``all_reduce``,
``broadcast``, ``all_gather`` and ``reduce_scatter``.

Every rank must call the same collectives in the same order with trees of the same structure,
shapes and dtypes. Each call first checks that (``_treecheck``: one all-reduce of four integers
per call, or on two ranks one exchange, folded into the reduction's first one where it starts
with an exchange; the full comparison naming the first leaf that differs only when they
disagree),
then moves the data. ``all_reduce`` reduces each large leaf on its own (``_reduce``: from the
caller's array into a kept buffer that becomes the result) and packs the small leaves of one
dtype into one buffer, in buckets of ``bucket_bytes``. Device (CuPy) leaves go to MPI directly
when mpi4py reports a CUDA-aware MPI, else through host memory, counted by
``host_staging_count()``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from functrans import tree as ft_tree
from functrans._abstract import shape_of
from functrans.backend import NUMPY, backend_of
from functrans.distributed import _comm, _reduce
from functrans.distributed._treecheck import check_same_tree, folded_tag, host_signature_hash
from functrans.distributed._treecheck import dtype_of as _dtype

__all__ = ["all_reduce", "broadcast", "all_gather", "reduce_scatter", "DEFAULT_BUCKET_BYTES",
           "set_debug"]

#: Bytes reduced per MPI call when a buffer is sent in buckets.
DEFAULT_BUCKET_BYTES = 64 << 20

#: Leaves of at least this many bytes are reduced on their own, straight from the caller's
#: array; smaller ones are packed with the other small leaves of their dtype.
SEPARATE_BYTES = 64 << 10

_OPS = ("sum", "mean", "max", "min")
_WHAT = {op: f"all_reduce(op={op!r})" for op in _OPS}  # how errors and timeouts name a call

_LEAF = ft_tree.flatten(0)[1]  # the structure of a tree that is one leaf


def set_debug(*, timeout: float | None = None) -> None:
    """Debug settings of the collectives: with ``timeout`` (seconds), a collective (and
    ``barrier()``) that has not completed by then aborts the job with a message naming it,
    instead of waiting forever.

    Example:
        >>> set_debug(timeout=None)
    """
    _comm.set_timeout(timeout)


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


def _wait(request: Any, what: str) -> None:
    _comm.wait([request], what)


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

    The result is new arrays, which never share memory with the caller's leaves nor change
    after they are returned. Memory for the large ones is kept between calls and used again
    once the caller has let go of an earlier result (MPI moves memory it has seen much faster
    than new memory), so a training loop reuses the same few buffers. With ``inplace=True``
    the reduction is written into the leaves themselves (writeable NumPy arrays; a float dtype
    for ``"mean"``), which are returned. ``check=False`` skips the comparison of the trees
    across ranks (one all-reduce of four integers): only where the caller knows they agree,
    since trees that differ then corrupt the reduction or stall it.

    Example:
        >>> import numpy as np
        >>> all_reduce({"w": np.ones(3)}, op="mean")["w"]  # a world of one process
        array([1., 1., 1.])
    """
    if op not in _OPS:
        raise ValueError(f"all_reduce: op={op!r} is not one of {_OPS}")
    c = _comm.comm()
    if type(tree) is np.ndarray:  # one array, a leaf: no walk through the tree
        leaves, treedef = [tree], _LEAF
    else:
        leaves, treedef = ft_tree.flatten(tree)
    n = 1 if c is None else c.Get_size()
    if inplace:
        _check_writeable(leaves, op)
    if n == 1:
        if inplace:
            return tree
        out = [np.array(x) if isinstance(x, (int, float, complex, bool)) else x.copy()
               for x in leaves]
        if op == "mean":
            out = [x / 1 if _dtype(x).kind in "iub" else x for x in out]
        return ft_tree.unflatten(treedef, out)
    layout = _host_layout(tree, leaves, treedef)
    if layout is not None:
        what = _WHAT[op]
        folded = None
        if check:
            # on two ranks, a reduction that starts with an exchange carries the check itself
            if n == 2 and layout.starts_with_ring(leaves, bucket_bytes) \
                    and _comm.debug_timeout() is None:
                folded = (layout.tag, tree)
            else:
                check_same_tree(tree, what, leaves, treedef, mine=layout.hash)
        if inplace:
            _reduce_in_place(c, layout, leaves, op, n, bucket_bytes, what, folded)
            return tree
        return _all_reduce_host(c, layout, leaves, treedef, op, n, bucket_bytes, what, folded)
    if check:
        # With a CUDA-aware MPI, device leaves take another path than host ones: every rank
        # must agree on which leaves are which, or the ranks would call different collectives.
        on_device = tuple(not isinstance(x, (np.ndarray, np.generic, int, float, complex, bool))
                          and backend_of(x) is not NUMPY for x in leaves) \
            if _comm.cuda_aware() and not inplace else None
        if on_device is not None and not any(on_device):
            on_device = None  # the same hash as the host-only path's
        check_same_tree(tree, "all_reduce", leaves, treedef, on_device)
    what = _WHAT[op]
    results: list = [None] * len(leaves)
    for dtype, idx in _group_by_dtype(leaves).items():
        bufs = [_to_buffer(leaves[i]) for i in idx]
        if not all(isinstance(h, np.ndarray) for h, _ in bufs):  # device buffers, CUDA-aware MPI
            _reduce_on_device(c, [h for h, _ in bufs], idx, results, op, n, bucket_bytes, what)
            continue
        small = []
        for i, (host, backend) in zip(idx, bufs):
            if host.nbytes < SEPARATE_BYTES:
                small.append((i, host, backend))
            else:
                value = _reduce_separate(c, host, dtype, op, n, bucket_bytes, what)
                results[i] = _from_buffer(value, backend, leaves[i])
        if small:
            _reduce_packed(c, small, dtype, leaves, results, op, n, bucket_bytes, what)
    return ft_tree.unflatten(treedef, results)


class _HostLayout:
    """How ``all_reduce`` moves a tree of NumPy arrays of one signature (structure, shapes and
    dtypes), worked out once: the signature's hash for the cross-rank check, and per dtype the
    leaves reduced on their own and the small ones packed together."""

    __slots__ = ("hash", "groups", "_tag")

    def __init__(self, tree: Any, leaves: list, treedef: Any):
        self.hash = host_signature_hash(tree, leaves, treedef)
        self._tag: int | None = None
        self.groups = []
        for dtype, idx in _group_by_dtype(leaves).items():
            small = [i for i in idx if leaves[i].nbytes < SEPARATE_BYTES]
            self.groups.append((dtype, [i for i in idx if i not in small], small))

    @property
    def tag(self) -> int:
        """The hash as the tag of a first exchange that carries the check."""
        if self._tag is None:
            self._tag = folded_tag(self.hash)
        return self._tag

    def starts_with_ring(self, leaves: list, bucket_bytes: int) -> bool:
        """Whether the reduction's first step is a ring exchange (in place or not, the first
        leaf reduced is the first group's first separate one)."""
        dtype, separate, _ = self.groups[0]
        return bool(separate) and _reduce.starts_with_ring(dtype, leaves[separate[0]].size,
                                                           bucket_bytes)


_MAX_LAYOUTS = 256
_layouts: dict[tuple, _HostLayout] = {}


def _host_layout(tree: Any, leaves: list, treedef: Any) -> _HostLayout | None:
    """The kept layout of a tree whose leaves are all NumPy arrays, else ``None``."""
    for x in leaves:
        if type(x) is not np.ndarray:
            return None
    key = (treedef, SEPARATE_BYTES, tuple([(x.shape, x.dtype) for x in leaves]))
    layout = _layouts.get(key)
    if layout is None:
        if len(_layouts) >= _MAX_LAYOUTS:
            _layouts.clear()
        layout = _layouts[key] = _HostLayout(tree, leaves, treedef)
    return layout


def _all_reduce_host(c: Any, layout: _HostLayout, leaves: list, treedef: Any, op: str, n: int,
                     bucket_bytes: int, what: str, check: tuple | None) -> Any:
    results: list = [None] * len(leaves)
    for dtype, separate, small in layout.groups:
        for i in separate:
            results[i] = _reduce_separate(c, leaves[i], dtype, op, n, bucket_bytes, what, check)
            check = None
        if len(small) == 1:  # one small leaf: reduced in place in a kept buffer it is copied to
            host = leaves[small[0]]
            kept = _reduce.take(dtype, host.size)
            np.copyto(kept.reshape(host.shape), host)
            _reduce.reduce(c, kept, kept, op, n, bucket_bytes, what)
            value = kept.reshape(host.shape)
            results[small[0]] = value / n if op == "mean" and dtype.kind not in "fc" else value
        elif small:
            _reduce_packed(c, [(i, leaves[i], NUMPY) for i in small], dtype, leaves, results, op,
                           n, bucket_bytes, what)
    return ft_tree.unflatten(treedef, results)


def _reduce_separate(c: Any, host: np.ndarray, dtype: np.dtype, op: str, n: int,
                     bucket_bytes: int, what: str, check: tuple | None = None) -> np.ndarray:
    """A large leaf, reduced from the caller's array into a kept buffer that becomes the
    result (``check``: as for ``_reduce.reduce``)."""
    if host.flags.c_contiguous:
        flat = host.reshape(-1)
    else:  # the same path as a contiguous leaf's on another rank: from a kept copy
        flat = _reduce.workspace(dtype, "contiguous", host.size)
        np.copyto(flat.reshape(host.shape), host)
    kept = _reduce.take(dtype, host.size)
    _reduce.reduce(c, flat, kept, op, n, bucket_bytes, what, check)
    value = kept.reshape(host.shape)
    return value / n if op == "mean" and dtype.kind not in "fc" else value


def _packed_and_reduced(c: Any, arrays: list, dtype: np.dtype, op: str, n: int,
                        bucket_bytes: int, what: str) -> list:
    """Host arrays of one dtype packed into a kept buffer and reduced there in place: the
    reduced pieces, views of that buffer shaped like the arrays (valid until the next
    packed reduction)."""
    packed = _reduce.workspace(dtype, "pack", sum(int(x.size) for x in arrays))
    pieces, offset = [], 0
    for x in arrays:
        piece = packed[offset:offset + x.size].reshape(x.shape)
        piece[...] = x
        pieces.append(piece)
        offset += x.size
    _reduce.reduce(c, packed, packed, op, n, bucket_bytes, what)
    return pieces


def _reduce_packed(c: Any, small: list, dtype: np.dtype, leaves: list, results: list, op: str,
                   n: int, bucket_bytes: int, what: str) -> None:
    """Small leaves of one dtype: packed into a kept buffer, reduced in place, copied out."""
    pieces = _packed_and_reduced(c, [host for _, host, _ in small], dtype, op, n, bucket_bytes,
                                 what)
    for (i, _, backend), piece in zip(small, pieces):
        piece = piece / n if op == "mean" and dtype.kind not in "fc" else piece.copy()
        results[i] = _from_buffer(piece, backend, leaves[i])


def _reduce_on_device(c: Any, parts: list, idx: list, results: list, op: str, n: int,
                      bucket_bytes: int, what: str) -> None:
    """Device leaves of one dtype with a CUDA-aware MPI: packed on the device and reduced there
    by MPI in place."""
    from functrans.backend import array_module
    xp = array_module(parts[0])
    packed = xp.concatenate([p.reshape(-1) for p in parts])
    step = max(1, int(bucket_bytes) // max(packed.dtype.itemsize, 1))
    for start in range(0, int(packed.size), step):
        _reduce._mpi_in_place(c, packed[start:start + step], op, what)
    offset = 0
    for i, part in zip(idx, parts):
        k = int(np.prod(shape_of(part), dtype=np.int64))
        piece = packed[offset:offset + k].reshape(shape_of(part))
        results[i] = piece / n if op == "mean" else piece
        offset += k


def _check_writeable(leaves: list, op: str) -> None:
    for x in leaves:
        if not (type(x) is np.ndarray and x.flags.writeable and x.flags.c_contiguous) or (
                op == "mean" and x.dtype.kind not in "fc"):
            raise ValueError(
                "all_reduce(inplace=True) writes into the leaves: each must be a writeable, "
                f"C-contiguous NumPy array (of a float dtype for op='mean'); got {type(x).__name__} "
                f"of shape {shape_of(x)}. Pass inplace=False for a new result.")


def _reduce_in_place(c: Any, layout: _HostLayout, leaves: list, op: str, n: int,
                     bucket_bytes: int, what: str, check: tuple | None) -> None:
    """The reduction written into the leaves (``_check_writeable`` admitted them): large ones,
    and a dtype's only small one, by MPI in place; several small ones of one dtype packed into
    a kept buffer and copied back (``check``: as for ``_reduce.reduce``)."""
    for dtype, separate, small in layout.groups:
        for i in (separate + small if len(small) == 1 else separate):  # no packing for one
            flat = leaves[i].reshape(-1)
            _reduce.reduce(c, flat, flat, op, n, bucket_bytes, what, check)
            check = None
        if len(small) < 2:
            continue
        arrays = [leaves[i] for i in small]
        for x, piece in zip(arrays, _packed_and_reduced(c, arrays, dtype, op, n, bucket_bytes,
                                                        what)):
            x[...] = piece


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
        if _comm.debug_timeout() is None:
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
    if _comm.debug_timeout() is None:
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
