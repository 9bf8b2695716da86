"""NumPy's array-manipulation routines beyond reshaping and joining: transposing matrices in
a stack, unstacking, resizing with repetition, assembling blocks, deleting entries and
trimming zeros. Entries keep their derivatives wherever they move; what is deleted or
trimmed is decided by the (static) arguments, or, for ``trim_zeros``, by values."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from functrans import errors
from functrans.backend import array_module
from functrans.core.trace import Tracer
from functrans.numpy._indexing import take
from functrans.numpy._joining import concatenate
from functrans.numpy._shape import moveaxis, ravel, reshape, swapaxes
from functrans.numpy._util import (
    any_tracer,
    as_array,
    host_values,
    normalize_axis,
    number_beside,
    pair_beside,
    placed_like,
)
from functrans.primitives import elementwise as _ew
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike


def matrix_transpose(x: ArrayLike, /) -> Array:
    """Each matrix of a stack transposed (the last two axes swapped), as
    ``numpy.matrix_transpose``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.matrix_transpose(fnp.ones((4, 2, 3))).shape
        (4, 3, 2)
    """
    x = as_array(x)
    if len(x.shape) < 2:
        raise ValueError(f"matrix_transpose takes an array of at least 2 dimensions, got shape {tuple(x.shape)}")
    return swapaxes(x, -1, -2)


def unstack(x: ArrayLike, /, *, axis: int = 0) -> tuple[Array, ...]:
    """The slices of ``x`` along ``axis``, as a tuple (the inverse of ``stack``), as
    ``numpy.unstack``.

    Example:
        >>> import functrans.numpy as fnp
        >>> [a.tolist() for a in fnp.unstack(fnp.array([[1.0, 2.0], [3.0, 4.0]]))]
        [[1.0, 2.0], [3.0, 4.0]]
    """
    x = as_array(x)
    if len(x.shape) == 0:
        raise ValueError("Input array must be at least 1-d.")
    moved = moveaxis(x, axis, 0)
    return tuple(moved[i] for i in range(moved.shape[0]))


def resize(a: ArrayLike, new_shape: int | Sequence[int]) -> Array:
    """An array of ``new_shape`` filled with ``a``'s entries (flattened) repeated as often as
    needed, as ``numpy.resize``. Each entry carries the derivative of the entry it copies.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.resize(fnp.array([1.0, 2.0, 3.0]), (2, 2)).tolist()
        [[1.0, 2.0], [3.0, 1.0]]
    """
    a = as_array(a)
    shape = (new_shape,) if isinstance(new_shape, int) else tuple(int(n) for n in new_shape)
    if any(n < 0 for n in shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    if not any_tracer(a):
        return array_module(a).resize(a, shape)
    size, total = math.prod(a.shape), math.prod(shape)
    flat = ravel(a)
    if total == 0:
        return reshape(flat[:0], shape)
    if size == 0:  # NumPy fills zeros
        return reshape(placed_like(np.zeros(total, a.dtype), a), shape)  # host-data: zeros of a dtype
    return reshape(take(flat, np.arange(total) % size), shape)  # host-data: positions


def broadcast_shapes(*args: int | Sequence[int]) -> tuple[int, ...]:
    """The shape that arrays of the given shapes broadcast to, as ``numpy.broadcast_shapes``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.broadcast_shapes((2, 1), (3,))
        (2, 3)
    """
    return np.broadcast_shapes(*args)  # host-metadata: shapes only


def _block_depth(arrays: Any) -> int:
    depth, item = 0, arrays
    while isinstance(item, list):
        if not item:
            raise ValueError("List at arrays[...] cannot be empty")
        depth, item = depth + 1, item[0]
    return depth


def block(arrays: Any) -> Array:
    """An array assembled from nested lists of blocks, as ``numpy.block``: the innermost
    lists are joined along the last axis, the next ones along the second-to-last, and so on
    (blocks are first given at least as many dimensions as the nesting is deep).
    Differentiable in every block.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.block([[fnp.eye(2), fnp.zeros((2, 1))], [fnp.ones((1, 2)), fnp.ones((1, 1))]]).shape
        (3, 3)
    """
    if isinstance(arrays, tuple):
        raise TypeError("fnp.block takes nested lists, not tuples (as numpy.block)")
    depth = _block_depth(arrays)
    leaves: list = []
    stack = [arrays]
    while stack:  # (explicit stack: nesting depth never meets Python's recursion limit)
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            leaves.append(as_array(item))
    ndim = max([depth] + [len(leaf.shape) for leaf in leaves])
    # the numbers among the blocks go where the first block that is not one lives
    like = next((leaf for leaf in leaves if type(leaf) is not np.ndarray), None)

    def build(item: Any, level: int) -> Array:
        if not isinstance(item, list):
            item = as_array(item) if like is None else number_beside(item, like)
            return reshape(item, (1,) * (ndim - len(item.shape)) + tuple(item.shape))
        return concatenate([build(child, level + 1) for child in item], axis=ndim - depth + level)

    return build(arrays, 0)


def delete(arr: ArrayLike, obj: int | slice | Sequence[int] | ArrayLike, axis: int | None = None) -> Array:
    """``arr`` without the entries (or slices along ``axis``; the flattened array when
    ``axis`` is None) at the positions ``obj`` (an int, a slice, integer positions or a
    boolean mask; a traced ``obj`` needs concrete values), as ``numpy.delete``. The entries
    kept carry their derivatives.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.delete(fnp.array([1.0, 2.0, 3.0, 4.0]), [0, 2]).tolist()
        [2.0, 4.0]
    """
    a = as_array(arr)
    if isinstance(obj, Tracer):
        try:
            obj = obj.to_concrete()
        except errors.TracerConversionError:
            raise errors.UnsupportedError(
                "fnp.delete needs the positions to delete: they decide the result's shape. Pass "
                "them as a Python int, slice or list (static under jit).") from None
    if not isinstance(obj, (int, slice, list, tuple)) and not isinstance(obj, np.ndarray):
        obj = host_values(obj)
    if not any_tracer(a):
        return array_module(a).delete(a, obj if not isinstance(obj, np.ndarray) or type(a) is np.ndarray
                                      else placed_like(obj, a), axis)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, len(a.shape))
    keep = np.delete(np.arange(a.shape[axis]), obj)  # host-data: positions along the axis
    return take(a, keep, axis=axis)


def trim_zeros(filt: ArrayLike, trim: str = "fb", axis: int | Sequence[int] | None = None) -> Array:
    """``filt`` without its leading (``'f'``) and/or trailing (``'b'``) zeros, as
    ``numpy.trim_zeros``. Which entries are zeros is read from values (a traced ``filt``
    needs concrete values); the entries kept carry their derivatives.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.trim_zeros(fnp.array([0.0, 1.0, 2.0, 0.0])).tolist()
        [1.0, 2.0]
    """
    a = as_array(filt)
    if not any_tracer(a):
        return array_module(a).trim_zeros(a, trim, axis) if type(a) is np.ndarray else \
            array_module(a).trim_zeros(a, trim)
    if isinstance(a, Tracer):
        try:
            a.to_concrete()
        except errors.TracerConversionError:
            raise errors.UnsupportedError(
                "fnp.trim_zeros reads which entries are zero, which decides the result's length; jit "
                "and vmap do not have values yet. Trim outside the transformation.") from None
    values = host_values(a)
    slices = [slice(None)] * values.ndim
    axes = range(values.ndim) if axis is None else [axis] if isinstance(axis, int) else axis
    for ax in axes:
        ax = normalize_axis(ax, values.ndim)
        others = tuple(i for i in range(values.ndim) if i != ax)
        nonzero = np.flatnonzero(np.any(values != 0, axis=others))  # host-data: the values read above
        if nonzero.size == 0:
            slices[ax] = slice(0, 0)
        else:
            start = int(nonzero[0]) if "f" in trim.lower() else 0
            stop = int(nonzero[-1]) + 1 if "b" in trim.lower() else values.shape[ax]
            slices[ax] = slice(start, stop)
    return a[tuple(slices)]


def insert(arr: ArrayLike, obj: int | slice | Sequence[int] | ArrayLike, values: ArrayLike,
           axis: int | None = None) -> Array:
    """``arr`` with ``values`` inserted before the positions ``obj`` along ``axis`` (the
    flattened array when None), broadcast as ``numpy.insert`` broadcasts them, in ``arr``'s
    dtype. The positions must be static (a traced ``obj`` needs concrete values); the result
    is differentiable in ``arr`` and ``values``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.insert(fnp.array([1.0, 2.0, 3.0]), 1, [8.0, 9.0]).tolist()
        [1.0, 8.0, 9.0, 2.0, 3.0]
    """
    arr, values = pair_beside(arr, values)
    a, v = as_array(arr), as_array(values)
    if isinstance(obj, Tracer):
        try:
            obj = obj.to_concrete()
        except errors.TracerConversionError:
            raise errors.UnsupportedError(
                "fnp.insert needs the positions to insert at: they decide the result's shape. Pass "
                "them as a Python int, slice or list (static under jit).") from None
    if not any_tracer(a, v):
        return array_module(a).insert(a, obj, v, axis)
    if v.dtype != a.dtype:
        v = convert_element_type(v, new_dtype=a.dtype)
    # NumPy's insert applied to labels: entry i of arr is i + 1, entry j of values is -(j + 1);
    # the labelled result says where every entry of the result comes from
    a_labels = np.arange(1, math.prod(a.shape) + 1).reshape(tuple(a.shape))  # host-data: labels
    v_labels = -np.arange(1, math.prod(v.shape) + 1).reshape(tuple(v.shape))  # host-data: labels
    where_to: Any = obj if not hasattr(obj, "shape") else host_values(obj)
    labels = cast(Any, np.insert)(a_labels, where_to, v_labels, axis)  # host-data: the labels above
    from_a = placed_like(labels > 0, a)  # host-data: the labels above
    a_index = np.maximum(labels - 1, 0)  # host-data: the labels above
    v_index = np.maximum(-labels - 1, 0)  # host-data: the labels above
    taken_a = take(ravel(a), a_index) if a_index.size and math.prod(a.shape) else None
    taken_v = take(ravel(v), v_index) if v_index.size and math.prod(v.shape) else None
    if taken_a is None:
        return taken_v if taken_v is not None else reshape(ravel(a)[:0], labels.shape)
    if taken_v is None:
        return taken_a
    return _ew.select(from_a, taken_a, taken_v)
