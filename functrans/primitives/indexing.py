"""Indexing: ``gather`` reads ``x[index]``, ``scatter_add`` adds values at ``x[index]``.

An index is a static tuple of ints, slices, ``None`` and ``Ellipsis``, in which integer
arrays stand as ``IndexArray(k)`` placeholders for the k-th array argument. The arrays are
data, not parameters, so one program serves every value of them; they carry no derivative.
Repeated integer indices accumulate in ``scatter_add`` (np.add.at semantics), which is what
makes ``gather``'s transpose correct for them.
"""
from __future__ import annotations

import math

from functrans.backend import backend_of
from functrans.core.ir import is_linear
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero


class IndexArray:
    """Placeholder in a static index for the k-th integer array argument."""

    __slots__ = ("k",)

    def __init__(self, k: int):
        self.k = k

    def __repr__(self):
        return f"<array {self.k}>"

    def __eq__(self, other):
        return type(other) is IndexArray and other.k == self.k

    def __hash__(self):
        return hash(("IndexArray", self.k))


def build_index(index, arrays):
    """The concrete NumPy index: placeholders replaced by their arrays."""
    if not arrays:
        return index
    return tuple(arrays[i.k] if type(i) is IndexArray else i for i in index)


def _result_shape(shape, index, arrays):
    """Shape of x[index] for x of ``shape``, computed on a stride-0 dummy (no data touched)."""
    import numpy as np

    probe = np.zeros((), np.int8)  # host-metadata: one byte, viewed with stride 0
    dummy = np.lib.stride_tricks.as_strided(probe, shape, (0,) * len(shape))  # host-metadata: ditto
    host_arrays = [np.zeros(a.shape, a.dtype) for a in arrays]  # host-metadata: shapes only
    return dummy[build_index(index, host_arrays)].shape


# --- gather: x[index] -------------------------------------------------------------------------------
gather_p = Primitive("gather")
gather_p.impl = lambda x, *arrays, index: x[build_index(index, arrays)]
gather_p.shape_rule = lambda x, *arrays, index: (_result_shape(x.shape, index, arrays), x.dtype)


def _gather_jvp(primals, tangents, *, index):
    x, *arrays = primals
    out = gather_p.bind(x, *arrays, index=index)
    t = tangents[0]
    return out, (zero if t is zero else gather_p.bind(t, *arrays, index=index))


def _gather_transpose(ct, x, *arrays, index):
    zeros = full_like(ct, 0, shape=x.shape, dtype=x.dtype)
    return (scatter_add_p.bind(zeros, ct, *arrays, index=index),) + (None,) * len(arrays)


gather_p.jvp = _gather_jvp
gather_p.transpose = _gather_transpose


def _batch_lands(x_shape, index, array_shapes):
    """Where the batch axis lands in ``x[index]`` (found by indexing stride-0 dummies with
    two batch sizes): NumPy moves the axes of index arrays around, so it is not always 0.
    ``x_shape(n)`` and ``array_shapes(n)`` give the shapes for a batch of ``n``."""
    import numpy as np

    def shape(n):
        arrays = [np.zeros(a, np.int64) for a in array_shapes(n)]  # host-metadata: shapes only
        return _result_shape(x_shape(n), index, arrays)

    two, three = shape(2), shape(3)
    return next(i for i, (a, b) in enumerate(zip(two, three)) if a != b)


def _batched_index_arrays(arrays, dims):
    """Index arrays with the batch axis first on the batched ones and ones padded in, so that
    they broadcast together example by example."""
    rank = max(len(a.shape) - (d is not None) for a, d in zip(arrays, dims))
    out = []
    for a, d in zip(arrays, dims):
        if d is not None:
            a = to_front(a, d)
            n = len(a.shape) - 1
            if n < rank:
                a = reshape(a, (a.shape[0],) + (1,) * (rank - n) + tuple(a.shape[1:]))
        out.append(a)
    return out


def _gather_batch(values, dims, *, index):
    (x, *arrays), (dx, *array_dims) = values, dims
    if all(d is None for d in array_dims):  # the same positions in every example
        x = to_front(x, dx)
        batched_index = (slice(None),) + index
        shapes = [a.shape for a in arrays]
        out_dim = _batch_lands(lambda n: (n,) + tuple(x.shape[1:]), batched_index, lambda n: shapes)
        return gather_p.bind(x, *arrays, index=batched_index), out_dim
    if dx is None:  # one array of positions per example, into the same x
        arrays = _batched_index_arrays(arrays, array_dims)
        shapes = [(a.shape, d is not None) for a, d in zip(arrays, array_dims)]
        out_dim = _batch_lands(lambda n: x.shape, index,
                               lambda n: [(n,) + s[1:] if b else s for s, b in shapes])
        return gather_p.bind(x, *arrays, index=index), out_dim
    return batch_by_loop(gather_p, values, dims, None, {"index": index})


gather_p.batch = _gather_batch


# --- scatter_add: a copy of x with updates added at x[index] (repeats accumulate) -----------------------
def _scatter_add_impl(x, updates, *arrays, index):
    backend = backend_of(x)
    out = backend.asarray(x, copy=True)  # writable, also when x is a NumPy scalar
    concrete = build_index(index, arrays)
    if arrays:
        xp = backend.xp
        # NumPy 2.4's add.at misreads updates that broadcast over the leading dimensions of a
        # multi-dimensional index (it adds 3, not 6, for add.at(zeros(1), [[0, 0], [0, 0]],
        # [1, 2])): hand it updates of the indexed shape.
        target = _result_shape(out.shape, index, arrays)
        if getattr(updates, "shape", None) != target:
            updates = xp.broadcast_to(backend.make_like(out, _asarray, updates, out.dtype), target)
        backend.scatter_add(out, concrete, updates)
    else:  # basic indexing selects each element at most once
        out[concrete] += updates
    return out


def _asarray(xp, x, dtype):
    return xp.asarray(x, dtype=dtype)


def _arange(xp, n):
    return xp.arange(n)


scatter_add_p = Primitive("scatter_add")
scatter_add_p.impl = _scatter_add_impl
scatter_add_p.shape_rule = lambda x, updates, *arrays, index: (x.shape, x.dtype)


def _scatter_add_jvp(primals, tangents, *, index):
    x, updates, *arrays = primals
    t_x, t_updates = tangents[0], tangents[1]
    out = scatter_add_p.bind(x, updates, *arrays, index=index)
    if t_x is zero and t_updates is zero:
        return out, zero
    if t_updates is zero:
        return out, t_x
    if t_x is zero:
        t_x = full_like(x, 0, dtype=out.dtype)
    return out, scatter_add_p.bind(t_x, t_updates, *arrays, index=index)


def _scatter_add_transpose(ct, x, updates, *arrays, index):
    ct_updates = None
    if is_linear(updates):
        gathered = gather_p.bind(ct, *arrays, index=index)
        ct_updates = unbroadcast(gathered, updates)
    return (ct if is_linear(x) else None, ct_updates) + (None,) * len(arrays)


scatter_add_p.jvp = _scatter_add_jvp
scatter_add_p.transpose = _scatter_add_transpose


def _scatter_batch(prim):
    """x (batched or broadcast to be) keeps its batch axis first; the updates are laid out
    like the batched ``x[index]``. Positions that differ between examples: a loop."""

    def batch(values, dims, *, index):
        (x, updates, *arrays), (dx, du, *array_dims) = values, dims
        if any(d is not None for d in array_dims):
            return batch_by_loop(prim, values, dims, None, {"index": index})
        size = batch_size(values, dims)
        x = bdim_at_front(x, dx, size)
        batched_index = (slice(None),) + index
        shapes = [a.shape for a in arrays]
        lands = _batch_lands(lambda n: (n,) + tuple(x.shape[1:]), batched_index, lambda n: shapes)
        target = _result_shape(x.shape, batched_index, arrays)
        u_ndim = len(shape_of(updates)) - (du is not None)
        if du is not None or (lands and u_ndim > len(target) - 1 - lands):
            updates = bdim_at_front(updates, du, size)
            missing = len(target) - len(updates.shape)
            if missing:
                updates = reshape(updates, (size,) + (1,) * missing + tuple(updates.shape[1:]))
            updates = move_axis(updates, 0, lands)
        return prim.bind(x, updates, *arrays, index=batched_index), 0

    return batch


scatter_add_p.batch = _scatter_batch(scatter_add_p)


# --- scatter: a copy of x with x[index] replaced by updates (for repeats, one of them wins) --------
def _scatter_impl(x, updates, *arrays, index):
    out = backend_of(x).asarray(x, copy=True)  # writable, also when x is a NumPy scalar
    out[build_index(index, arrays)] = updates
    return out


scatter_p = Primitive("scatter")
scatter_p.impl = _scatter_impl
scatter_p.shape_rule = lambda x, updates, *arrays, index: (x.shape, x.dtype)


def _scatter_jvp(primals, tangents, *, index):
    x, updates, *arrays = primals
    t_x, t_updates = tangents[0], tangents[1]
    out = scatter_p.bind(x, updates, *arrays, index=index)
    if t_x is zero and t_updates is zero:
        return out, zero
    # Jointly linear in (x, updates): instantiate whichever tangent is zero.
    t_x = full_like(x, 0, dtype=out.dtype) if t_x is zero else t_x
    t_updates = 0 if t_updates is zero else t_updates
    return out, scatter_p.bind(t_x, t_updates, *arrays, index=index)


def _scatter_transpose(ct, x, updates, *arrays, index):
    ct_x = scatter_p.bind(ct, 0, *arrays, index=index) if is_linear(x) else None
    ct_updates = None
    if is_linear(updates):
        gathered = gather_p.bind(ct, *arrays, index=index)
        if arrays:  # an index array may repeat a position: only the update written last counts
            gathered = select(_written(x.shape, gathered.shape, arrays, index), gathered, 0)
        ct_updates = unbroadcast(gathered, updates)
    return (ct_x, ct_updates) + (None,) * len(arrays)


def _written(x_shape, updates_shape, arrays, index):
    """Mask shaped like x[index]: True where that update is the one the scatter keeps."""
    backend = backend_of(*arrays)
    ids = backend.make_like(arrays[0], _arange, math.prod(updates_shape)).reshape(updates_shape)
    owner = _scatter_impl(backend.full(x_shape, -1, ids.dtype, backend.device_of(arrays[0])), ids,
                          *arrays, index=index)
    return owner[build_index(index, arrays)] == ids


scatter_p.jvp = _scatter_jvp
scatter_p.transpose = _scatter_transpose
scatter_p.batch = _scatter_batch(scatter_p)


def gather(x, index, arrays=()):
    return gather_p.bind(x, *arrays, index=index)


def scatter_add(x, updates, index, arrays=()):
    return scatter_add_p.bind(x, updates, *arrays, index=index)


from functrans.primitives._define import unbroadcast  # noqa: E402
from functrans.primitives.conversion import full_like  # noqa: E402
from functrans.primitives.elementwise import select  # noqa: E402
from functrans.primitives._define import shape_of  # noqa: E402
from functrans.primitives.shape import reshape  # noqa: E402
from functrans.interpreters.batching import (  # noqa: E402
    batch_by_loop, batch_size, bdim_at_front, move_axis, to_front,
)
