"""Indexing (``x[idx]``) and functional index updates (``x.at[idx].set(v)``).

Indices may hold ints, slices, ``None``, ``Ellipsis``, integer arrays and boolean masks.
Integer arrays are data for the ``gather``/``scatter`` primitives, traced or not; a boolean
mask must be concrete (its number of true entries decides the result's shape) and is turned
into integer arrays first.
"""
from __future__ import annotations

import math

import numpy as np

from functrans import errors
from functrans.core.trace import Tracer
from functrans.numpy._util import host_values, operand, placed_like
from functrans.primitives import elementwise as _ew
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.primitives.indexing import IndexArray, gather_p, scatter_add_p, scatter_p


def _concrete_index_array(item):
    if isinstance(item, Tracer):
        try:
            value = item.to_concrete()
        except errors.TracerConversionError:
            raise errors.UnsupportedError(
                "An index array must have concrete values: the positions it selects decide the "
                "shape of the result. Use fnp.where to choose values instead of indexing."
            ) from None
        return value
    return item


def _static_index(x_ndim, index, like=None):
    """Split an index into a static part (with IndexArray placeholders) and the arrays (host
    index data placed where ``like``, the indexed array, lives)."""
    if not isinstance(index, tuple):
        index = (index,)
    static, arrays = [], []
    for item in index:
        if item is None or item is Ellipsis or isinstance(item, slice):
            static.append(item)
            continue
        if isinstance(item, (bool, np.bool_)):
            raise errors.UnsupportedError("indexing with a Python bool is not supported; use a mask array")
        if isinstance(item, (int, np.integer)):
            static.append(int(item))
            continue
        if isinstance(item, Tracer) and item.dtype.kind in "iu":
            # An integer index array's values do not decide the result's shape: it can stay
            # traced (abstract under jit, batched under vmap) and go to gather as data.
            static.append(IndexArray(len(arrays)))
            arrays.append(item)
            continue
        item = _concrete_index_array(item)
        if isinstance(item, (list, tuple)):
            item = np.asarray(item)  # host-data: host values (parameters, lists, host_values)
        dtype = getattr(item, "dtype", None)
        if dtype is None:
            raise TypeError(f"invalid index of type {type(item).__name__}")
        if dtype == np.bool_:
            for part in item.nonzero():
                static.append(IndexArray(len(arrays)))
                arrays.append(part)
        elif np.issubdtype(dtype, np.integer):
            static.append(IndexArray(len(arrays)))
            arrays.append(item)
        else:
            raise IndexError(f"arrays used as indices must be of integer (or boolean) type, not {dtype}")
    if like is not None:
        arrays = [placed_like(a, like) if type(a) is np.ndarray else a for a in arrays]
    return tuple(static), arrays


def _holds_tracer(index) -> bool:
    if isinstance(index, tuple):
        return any(isinstance(item, Tracer) for item in index)
    return isinstance(index, Tracer)


def getitem(x, index):
    """``x[index]`` for arrays and traced arrays alike.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.getitem(fnp.arange(5.0), slice(1, 3)).tolist()
        [1.0, 2.0]
    """
    if not isinstance(x, Tracer):
        if not _holds_tracer(index):
            return operand(x)[index]
        x = operand(x)  # a plain array read at traced positions: gather, so vmap/jit see it
    static, arrays = _static_index(len(x.shape), index, x)
    return gather_p.bind(x, *arrays, index=static)


def _matching_dtype(x, v):
    v = operand(v)
    if isinstance(v, (int, float, complex, bool)):
        return v
    return v if v.dtype == x.dtype else convert_element_type(v, new_dtype=x.dtype)


_HOST_INDEX_ITEMS = (list, np.ndarray, int, np.integer, slice)
_UNKNOWN = object()


def _host_index_item(item):
    """An index item with host values: device and concrete traced arrays are read back."""
    if item is None or item is Ellipsis or isinstance(item, _HOST_INDEX_ITEMS):
        return item
    try:
        return host_values(item)
    except errors.TracerConversionError:
        return _UNKNOWN


def _repeat_rounds(shape, index):
    """For an index that selects some position more than once: the flat position of every
    selected element and its rank among the elements selecting the same position (0 for the
    first). ``None`` when no position repeats, or when the index has no value yet (traced
    under jit or vmap). An index array on a device is read to the host (the rounds depend on
    its values)."""
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(_host_index_item(i) for i in items)
    if any(i is _UNKNOWN for i in items):
        return None  # a traced index array without a value: not known here
    if not any(isinstance(i, (list, np.ndarray)) for i in items):
        return None  # only ints, slices, None, Ellipsis: no position can repeat
    index = items if isinstance(index, tuple) else items[0]
    size = math.prod(shape)
    positions = np.arange(size).reshape(shape)[index]  # host-metadata: flat positions
    flat = positions.reshape(-1)
    order = np.argsort(flat, kind="stable")  # host-data: host values (parameters, lists, host_values)
    in_order = flat[order]
    starts = np.r_[True, in_order[1:] != in_order[:-1]]
    # host-data: host values (parameters, lists, host_values)
    first = np.maximum.accumulate(np.where(starts, np.arange(flat.size), 0))
    ranks = np.empty(flat.size, np.intp)  # host-data: host values (parameters, lists, host_values)
    ranks[order] = np.arange(flat.size) - first  # host-data: host values (parameters, lists, host_values)
    if flat.size == 0 or ranks.max() == 0:
        return None
    return positions, ranks


class _IndexUpdate:
    """``x.at[index]``: methods return a new array with ``x[index]`` updated."""

    __slots__ = ("x", "index")

    def __init__(self, x, index):
        self.x = x
        self.index = index

    def _parts(self):
        x = operand(self.x)
        static, arrays = _static_index(len(x.shape), self.index, x)
        return x, static, arrays

    def get(self):
        """``x[index]``.

        Example:
            >>> import functrans.numpy as fnp
            >>> float(fnp.at(fnp.arange(3.0))[1].get())
            1.0
        """
        return getitem(self.x, self.index)

    def set(self, values):
        """A copy of ``x`` with ``x[index] = values``.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.zeros(3))[1].set(5.0).tolist()
            [0.0, 5.0, 0.0]
        """
        x, static, arrays = self._parts()
        return scatter_p.bind(x, _matching_dtype(x, values), *arrays, index=static)

    def add(self, values):
        """A copy of ``x`` with ``values`` added at ``index``; repeated indices accumulate.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.zeros(3))[[0, 0, 2]].add(1.0).tolist()
            [2.0, 0.0, 1.0]
        """
        x, static, arrays = self._parts()
        return scatter_add_p.bind(x, _matching_dtype(x, values), *arrays, index=static)

    def _combine(self, op, values):
        x = operand(self.x)
        values = _matching_dtype(x, values)
        repeats = _repeat_rounds(x.shape, self.index)
        if repeats is None:  # every position at most once: one gather, op, scatter
            return self.set(op(self.get(), values))
        # Repeated positions: apply the updates in rounds, each round touching a position at
        # most once, so that every update counts (as NumPy's ufunc.at and JAX do).
        positions, ranks = repeats
        flat = _shape.reshape(x, (x.size,))
        if isinstance(values, (int, float, complex, bool)):  # a scalar: an array where x lives
            values = placed_like(np.asarray(values, x.dtype), x)  # host-data: a Python scalar
        updates = _shape.reshape(_shape.broadcast_to(values, positions.shape), (positions.size,))
        positions = positions.reshape(-1)
        for rank in range(int(ranks.max()) + 1):
            chosen = np.flatnonzero(ranks == rank)  # host-data: host index math on a host index
            at_positions = placed_like(positions[chosen], x)
            current = gather_p.bind(flat, at_positions, index=(IndexArray(0),))
            update = gather_p.bind(updates, placed_like(chosen, x), index=(IndexArray(0),))
            flat = scatter_p.bind(flat, op(current, update), at_positions, index=(IndexArray(0),))
        return _shape.reshape(flat, x.shape)

    def multiply(self, values):
        """A copy of ``x`` with ``x[index]`` multiplied by ``values``; at a repeated index every
        factor applies.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.ones(3))[1].multiply(4.0).tolist()
            [1.0, 4.0, 1.0]
        """
        return self._combine(_ew.mul, values)

    def divide(self, values):
        """A copy of ``x`` with ``x[index]`` divided by ``values``.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.ones(2))[0].divide(4.0).tolist()
            [0.25, 1.0]
        """
        return self._combine(_ew.div, values)

    def min(self, values):
        """A copy of ``x`` with ``x[index] = minimum(x[index], values)``.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.ones(2))[0].min(0.5).tolist()
            [0.5, 1.0]
        """
        return self._combine(_ew.min, values)

    def max(self, values):
        """A copy of ``x`` with ``x[index] = maximum(x[index], values)``.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.ones(2))[0].max(3.0).tolist()
            [3.0, 1.0]
        """
        return self._combine(_ew.max, values)


class _AtIndexer:
    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x

    def __getitem__(self, index):
        return _IndexUpdate(self.x, index)


def at(x):
    """Functional index updates for any array: ``fnp.at(x)[idx].add(v)`` is ``x.at[idx].add(v)``
    (plain NumPy arrays have no ``.at``, so the same code works whether or not ``x`` is traced).

    Example:
        >>> import numpy as np, functrans.numpy as fnp
        >>> fnp.at(np.zeros(2))[0].set(1.0).tolist()
        [1.0, 0.0]
    """
    return _AtIndexer(x)


def nonzero(a):
    """Indices of the non-zero entries (``a`` must be concrete). No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.nonzero(fnp.array([0.0, 2.0, 3.0]))[0].tolist()
        [1, 2]
    """
    value = _concrete_index_array(a)
    return operand(value).nonzero()
