"""Indexing: ``gather`` reads ``x[index]``, ``scatter_add`` adds values at ``x[index]``,
``scatter`` writes them there.

An index is a static tuple of ints, slices, ``None`` and ``Ellipsis``, in which integer
arrays stand as ``IndexArray(k)`` placeholders for the k-th array argument. The arrays are
data, not parameters, so one program serves every value of them; they carry no derivative.
Repeated integer indices accumulate in ``scatter_add`` (np.add.at semantics), which is what
makes ``gather``'s transpose correct for them; ``scatter`` keeps one update per repeated
position, and its transpose finds which one with the same primitives, so traced positions
(under jit or vmap) are differentiated as concrete ones are. When the positions differ from
example to example *and* so does the indexed array, the example's number joins the index where
the index arrays lead it; elsewhere the batching rules return ``NotImplemented`` and ``vmap``
applies the primitive example by example.

Example:
    >>> import numpy as np
    >>> x = np.arange(4.0)
    >>> gather(x, (IndexArray(0),), (np.array([3, 3]),))
    array([3., 3.])
    >>> scatter_add(np.zeros(3), 1.0, (IndexArray(0),), (np.array([0, 0, 2]),))
    array([2., 0., 1.])
"""
from __future__ import annotations

import math

import numpy as np

from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.backend import backend_of
from functrans.core.ir import is_linear
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import (
    batch_size,
    bdim_at_front,
    full_like,
    move_axis,
    reshape,
    to_front,
    unbroadcast,
)
from functrans.primitives.conversion import iota_like
from functrans.primitives.elementwise import eq_p, select


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


_SHAPES: dict = {}  # (shape, index, index arrays' shapes and dtypes) -> the result's shape
# An index element as a key: a slice by its bounds; a boolean apart from the integer it equals
# (``x[True]`` adds an axis, ``x[1]`` takes a row).
_KEYED = {slice: lambda i: (i.start, i.stop, i.step), bool: lambda i: ("bool", i),
          np.bool_: lambda i: ("bool", bool(i))}


def _plain(i):
    return i
_SHAPES_KEPT = 1024


def _result_shape(shape, index, arrays):
    """Shape of x[index] for x of ``shape``: indexing a stride-0 dummy once per kind of index
    (the dummy's fancy indexing writes a result of that shape), then from a table, since an
    eager ``grad`` asks again on every call."""
    try:
        key = (tuple(shape), tuple(_KEYED.get(type(i), _plain)(i) for i in index),
               tuple((shape_of(a), dtype_of(a).char) for a in arrays))
        found = _SHAPES.get(key)
    except TypeError:  # an element of the index that cannot be a key: computed every time
        return _dummy_result_shape(shape, index, arrays)
    if found is None:
        found = _dummy_result_shape(shape, index, arrays)
        if len(_SHAPES) >= _SHAPES_KEPT:
            _SHAPES.clear()
        _SHAPES[key] = found
    return found


def _dummy_result_shape(shape, index, arrays):
    """Shape of x[index] for x of ``shape``, computed on a stride-0 dummy (no data touched)."""
    probe = np.zeros((), np.int8)  # host-metadata: one byte, viewed with stride 0
    dummy = np.lib.stride_tricks.as_strided(probe, shape, (0,) * len(shape))  # host-metadata: ditto
    host_arrays = [np.zeros(shape_of(a), dtype_of(a)) for a in arrays]  # host-metadata: shapes only
    return dummy[build_index(index, host_arrays)].shape


def out_of_range(error: IndexError) -> IndexError:
    """NumPy's error for a position out of range, with the ways to clamp or drop it.

    Example:
        >>> "mode='clip'" in str(out_of_range(IndexError("index 5 is out of bounds")))
        True
    """
    if "out of bounds" not in str(error):
        return error
    return IndexError(
        f"{error}. A position out of range raises, as in NumPy (eagerly, under jit and under "
        "vmap alike); JAX clamps reads and drops writes instead. To do either, say so: "
        "x.at[i].get(mode='clip') or x.at[i].get(mode='fill', fill_value=v) to read, "
        "x.at[i].set(v, mode='drop') or mode='clip' (also for add, multiply, min, max) to "
        "write, fnp.take(x, i, mode='clip') or mode='wrap'.")


# --- gather: x[index] -------------------------------------------------------------------------------
def _gather_impl(x, *arrays, index):
    if type(x) in PY_SCALARS:  # a Python number a replayed program computed (a branch's constant)
        x = np.asarray(x)  # numpy-only: a Python number, on no device
    try:
        return x[build_index(index, arrays)]
    except IndexError as error:
        raise out_of_range(error) from None


gather_p = Primitive("gather")
gather_p.impl = _gather_impl
gather_p.shape_rule = lambda x, *arrays, index: (_result_shape(x.shape, index, arrays), x.dtype)


def _gather_jvp(primals, tangents, *, index):
    x, *arrays = primals
    out = gather_p.bind(x, *arrays, index=index)
    t = tangents[0]
    return out, (zero if t is zero else gather_p.bind(t, *arrays, index=index))


def _gather_transpose(ct, x, *arrays, index):
    zeros = full_like(ct, 0, shape=x.shape, dtype=x.dtype)
    return (scatter_add_p.bind(zeros, ct, *arrays, index=index),) + (zero,) * len(arrays)


gather_p.jvp = _gather_jvp
gather_p.transpose = _gather_transpose


def _batch_lands(x_shape, index, array_shapes):
    """Where the batch axis lands in ``x[index]`` (found by indexing stride-0 dummies with
    two batch sizes): NumPy moves the axes of index arrays around, so it is not always 0.
    ``x_shape(n)`` and ``array_shapes(n)`` give the shapes for a batch of ``n``."""
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
    if not _arrays_lead(index):
        return NotImplemented  # vmap's loop
    # A different array and different positions in every example: x[b][index] is
    # x[(b,) + index], the example's number one more leading index array.
    x = to_front(x, dx)
    arrays = _with_examples(x, arrays, array_dims, batch_size(values, dims))
    return gather_p.bind(x, *arrays, index=(IndexArray(len(arrays) - 1),) + index), 0


def _arrays_lead(index) -> bool:
    """Whether the integer arrays of ``index`` come first, side by side (``x[rows, cols]``,
    ``take_along_axis``, an embedding's ``x[ids]``): then one more array in front of them
    keeps the layout of ``x[index]`` behind the new leading axis."""
    count = next((k for k, i in enumerate(index) if type(i) is not IndexArray), len(index))
    return count > 0 and all(type(i) is not IndexArray for i in index[count:])


def _with_examples(x, arrays, dims, size):
    """The index arrays laid out to broadcast example by example, and after them each
    example's number, shaped ``(size, 1, ..., 1)`` to broadcast against them (made on the
    device of ``x``)."""
    rank = max(len(a.shape) - (d is not None) for a, d in zip(arrays, dims))
    examples = reshape(iota_like(x, size), (size,) + (1,) * rank)
    return _batched_index_arrays(arrays, dims) + [examples]


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
        if not (_rows_of(out, index, arrays) and _add_rows(xp, out, arrays[0], updates)):
            try:
                backend.scatter_add(out, concrete, updates)
            except IndexError as error:
                raise out_of_range(error) from None
    else:  # basic indexing selects each element at most once
        try:
            out[concrete] += updates
        except IndexError as error:
            raise out_of_range(error) from None
    return out


def _rows_of(out, index, arrays) -> bool:
    """Whether ``out[index]`` picks whole rows of a NumPy array by one integer array (an
    embedding's transpose, ``take`` along axis 0), with rows long enough for ``_add_rows``."""
    return (len(arrays) == 1 and type(out) is np.ndarray and out.ndim >= 2
            and out.size >= _ROW_MIN * out.shape[0] and out.dtype.kind in "iufc"
            and index[0] == IndexArray(0)
            and all(i is Ellipsis or (type(i) is slice and i == _ALL) for i in index[1:])
            and type(arrays[0]) is np.ndarray and arrays[0].dtype.kind in "iu")


# Rows shorter than this go to np.add.at, which handles short rows well (one-dimensional
# ones through its own fast loop); with 16 float32 per row sorting is twice as fast, with
# 128 five times (512 rows of 65 distinct positions).
_ROW_MIN = 8
_ALL = slice(None)


def _add_rows(xp, out, rows, updates) -> bool:
    """``out[rows] += updates`` with repeated rows accumulating, in place: the updates sorted
    by row (stably: each row's updates are summed in their order, as ``np.add.at`` adds
    them) and summed per row by ``np.add.reduceat``, one vectorized pass where ``np.add.at``
    works row by row, then added to their rows. Returns False (nothing done) for an
    out-of-range row, so that ``np.add.at`` raises its own error."""
    flat = rows.reshape(-1)
    count = out.shape[0]
    if not flat.size:
        return True
    low, high = int(flat.min()), int(flat.max())
    if low < -count or high >= count:
        return False
    if low < 0:
        flat = xp.where(flat < 0, flat + count, flat)
    order = xp.argsort(flat, kind="stable")
    ordered = flat[order]
    first = xp.empty(ordered.shape, bool)  # where each run of equal rows starts
    first[0] = True
    xp.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = xp.flatnonzero(first)
    sums = xp.add.reduceat(updates.reshape(flat.size, -1)[order], starts, axis=0)
    out.reshape(count, -1)[ordered[starts]] += sums
    return True


def _asarray(xp, x, dtype):
    return xp.asarray(x, dtype=dtype)


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
    ct_updates = zero
    if is_linear(updates):
        gathered = gather_p.bind(ct, *arrays, index=index)
        ct_updates = unbroadcast(gathered, updates)
    return (ct if is_linear(x) else zero, ct_updates) + (zero,) * len(arrays)


scatter_add_p.jvp = _scatter_add_jvp
scatter_add_p.transpose = _scatter_add_transpose


def _scatter_batch(prim):
    """x (batched or broadcast to be) keeps its batch axis first; the updates are laid out
    like the batched ``x[index]``. Positions that differ between examples: the example's
    number joins the index when the index's arrays lead it (``_arrays_lead``), else
    ``NotImplemented`` (vmap's loop)."""

    def batch(values, dims, *, index):
        (x, updates, *arrays), (dx, du, *array_dims) = values, dims
        size = batch_size(values, dims)
        if any(d is not None for d in array_dims):
            if not _arrays_lead(index):
                return NotImplemented
            x = bdim_at_front(x, dx, size)
            arrays = _with_examples(x, arrays, array_dims, size)
            batched_index = (IndexArray(len(arrays) - 1),) + index
            if du is not None:  # the batch axis first, then the example's own axes
                updates = to_front(updates, du)
                missing = len(_result_shape(x.shape, batched_index, arrays)) - len(updates.shape)
                if missing:
                    updates = reshape(updates, (size,) + (1,) * missing + tuple(updates.shape[1:]))
            return prim.bind(x, updates, *arrays, index=batched_index), 0
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
    try:
        out[build_index(index, arrays)] = updates
    except IndexError as error:
        raise out_of_range(error) from None
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
    ct_x = scatter_p.bind(ct, 0, *arrays, index=index) if is_linear(x) else zero
    ct_updates = zero
    if is_linear(updates):
        gathered = gather_p.bind(ct, *arrays, index=index)
        if arrays:  # an index array may repeat a position: only the update written last counts
            gathered = select(_written(ct, x.shape, gathered.shape, arrays, index), gathered, 0)
        ct_updates = unbroadcast(gathered, updates)
    return (ct_x, ct_updates) + (zero,) * len(arrays)


def _written(ct, x_shape, updates_shape, arrays, index):
    """Mask shaped like x[index]: True where that update is the one the scatter keeps. Made
    of primitives, so index arrays known only by their shape (under jit or vmap) serve too:
    each update's number is scattered the way the updates were, and read back."""
    ids = reshape(iota_like(ct, math.prod(updates_shape)), tuple(updates_shape))
    owner = scatter_p.bind(full_like(ct, -1, shape=x_shape, dtype=ids.dtype), ids, *arrays,
                           index=index)
    return eq_p.bind(gather_p.bind(owner, *arrays, index=index), ids)


scatter_p.jvp = _scatter_jvp
scatter_p.transpose = _scatter_transpose
scatter_p.batch = _scatter_batch(scatter_p)


def gather(x, index: tuple, arrays: tuple = ()):
    """``x[index]``, the integer arrays of ``index`` given as ``IndexArray`` placeholders."""
    return gather_p.bind(x, *arrays, index=index)


def scatter_add(x, updates, index: tuple, arrays: tuple = ()):
    """A copy of ``x`` with ``updates`` added at ``x[index]`` (repeated positions accumulate)."""
    return scatter_add_p.bind(x, updates, *arrays, index=index)
