"""Joining, splitting, tiling and repeating arrays with NumPy's names.

Joined arrays take the dtype NumPy's promotion gives them together. Repeat counts are
concrete, since they decide the result's shape, or traced with that shape given as JAX's
``total_repeat_length``. The derivative of a repeated entry sums over its copies.
"""
from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from functrans import errors
from functrans.backend import array_module
from functrans.core.trace import Tracer
from functrans.numpy._shape import atleast_1d, atleast_2d, atleast_3d, expand_dims, ravel
from functrans.numpy._util import (
    any_tracer,
    as_array,
    concrete_index,
    host_values,
    normalize_axis,
    numbers_beside,
    pair_beside,
    placed_like,
    take_axis,
)
from functrans.primitives import cumulative as _cumulative
from functrans.primitives import elementwise as _ew
from functrans.primitives import reduction as _red
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike, DType

# --- joining ------------------------------------------------------------------------------------


def _result_dtype(arrays: Sequence[Array]) -> np.dtype:
    return np.result_type(*(a.dtype for a in arrays))


def concatenate(arrays: Sequence[ArrayLike], axis: int | None = 0, *, dtype: DType | None = None) -> Array:
    """Join arrays along an existing dimension (in ``dtype`` if given, as ``hstack`` does).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.concatenate([fnp.ones(2), fnp.zeros(3)]).shape
        (5,)
    """
    values = [as_array(a) for a in numbers_beside(arrays)]
    if not values:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        values = [ravel(a) for a in values]
        axis = 0
    nd = len(values[0].shape)
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis(axis, nd)
    dtype = _result_dtype(values) if dtype is None else np.dtype(dtype)
    return _shape.concatenate([convert_element_type(a, new_dtype=dtype) for a in values], axis)


def stack(arrays: Sequence[ArrayLike], axis: int = 0, *, dtype: DType | None = None) -> Array:
    """Join arrays of the same shape along a new dimension (in ``dtype`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.stack([fnp.ones(2), fnp.zeros(2)]).shape
        (2, 2)
    """
    values = [as_array(a) for a in numbers_beside(arrays)]
    if not values:
        raise ValueError("need at least one array to stack")
    shapes = {tuple(a.shape) for a in values}
    if len(shapes) != 1:
        raise ValueError(f"all input arrays must have the same shape, got {sorted(shapes)}")
    axis = normalize_axis(axis, len(values[0].shape) + 1)
    return concatenate([expand_dims(a, axis) for a in values], axis, dtype=dtype)


def hstack(tup: Sequence[ArrayLike], *, dtype: DType | None = None) -> Array:
    """Join along the second axis (the first for 1-D arrays).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.hstack([fnp.ones(2), fnp.zeros(1)]).tolist()
        [1.0, 1.0, 0.0]
    """
    arrays: list[Array] = [atleast_1d(a) for a in numbers_beside(tup)]  # one array each
    out = concatenate(arrays, 0 if arrays and len(arrays[0].shape) == 1 else 1)
    return out if dtype is None else convert_element_type(out, new_dtype=dtype)


def vstack(tup: Sequence[ArrayLike], *, dtype: DType | None = None) -> Array:
    """Join along the first axis, 1-D arrays as rows.
    ``row_stack`` is the same function.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.vstack([fnp.ones(2), fnp.zeros(2)]).shape
        (2, 2)
    """
    out = concatenate([atleast_2d(a) for a in numbers_beside(tup)], 0)
    return out if dtype is None else convert_element_type(out, new_dtype=dtype)


def dstack(tup: Sequence[ArrayLike]) -> Array:
    """Join along the third axis.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.dstack([fnp.ones(2), fnp.zeros(2)]).shape
        (1, 2, 2)
    """
    return concatenate([atleast_3d(a) for a in numbers_beside(tup)], 2)


def column_stack(tup: Sequence[ArrayLike]) -> Array:
    """Join 1-D arrays as columns (2-D arrays as they are) into a 2-D array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.column_stack([fnp.ones(2), fnp.zeros(2)]).shape
        (2, 2)
    """
    arrays: list[Array] = []
    for a in numbers_beside(tup):
        a = as_array(a)
        arrays.append(_shape.reshape(a, (a.shape[0], 1)) if len(a.shape) == 1 else atleast_2d(a))
    return concatenate(arrays, 1)


def append(arr: ArrayLike, values: ArrayLike, axis: int | None = None) -> Array:
    """``values`` joined after ``arr`` along ``axis`` (both flattened when it is None).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.append(fnp.ones(2), 3.0).tolist()
        [1.0, 1.0, 3.0]
    """
    arr, values = pair_beside(arr, values)  # a number beside a device array
    arr, values = as_array(arr), as_array(values)
    if axis is None:
        arr = _shape.reshape(arr, (math.prod(arr.shape),))
        values = _shape.reshape(values, (math.prod(values.shape),))
        axis = 0
    return concatenate([arr, values], axis)


# --- splitting ----------------------------------------------------------------------------------


def _split_at(a: Array, bounds: Sequence[int], axis: int) -> list[Array]:
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        starts = [0] * len(a.shape)
        limits = list(a.shape)
        starts[axis], limits[axis] = lo, max(lo, hi)
        if any_tracer(a):
            parts.append(_shape.slice_(a, tuple(starts), tuple(limits)))
        else:
            parts.append(a[tuple(slice(start, stop) for start, stop in zip(starts, limits))])
    return parts


def array_split(ary: ArrayLike, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Array]:
    """Split into pieces along ``axis``: a number of sections (sizes differing by at most
    one), or the indices at which to cut. Returns a list.

    Example:
        >>> import functrans.numpy as fnp
        >>> [p.tolist() for p in fnp.array_split(fnp.arange(5.0), 2)]
        [[0.0, 1.0, 2.0], [3.0, 4.0]]
    """
    a = as_array(ary)
    axis = normalize_axis(axis, len(a.shape))
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = [0] + list(np.cumsum(sizes))  # host-data: host values (parameters, lists, host_values)
    else:
        cuts = [min(max(int(c) + (n if int(c) < 0 else 0), 0), n) for c in indices_or_sections]
        bounds = [0] + cuts + [n]
    return _split_at(a, [int(b) for b in bounds], axis)


def split(ary: ArrayLike, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Array]:
    """Split into equal pieces along ``axis`` (an error if they cannot be equal), or at the
    given indices. Returns a list.

    Example:
        >>> import functrans.numpy as fnp
        >>> [p.shape for p in fnp.split(fnp.ones((4, 2)), 2)]
        [(2, 2), (2, 2)]
    """
    if isinstance(indices_or_sections, (int, np.integer)):
        n = as_array(ary).shape[normalize_axis(axis, len(as_array(ary).shape))]
        if n % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[Array]:
    """Split along the second axis (the first for 1-D arrays).

    Example:
        >>> import functrans.numpy as fnp
        >>> [p.shape for p in fnp.hsplit(fnp.ones((2, 4)), 2)]
        [(2, 2), (2, 2)]
    """
    a = as_array(ary)
    if len(a.shape) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(a, indices_or_sections, 1 if len(a.shape) > 1 else 0)


def vsplit(ary: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[Array]:
    """Split along the first axis (arrays of at least 2 dimensions).

    Example:
        >>> import functrans.numpy as fnp
        >>> [p.shape for p in fnp.vsplit(fnp.ones((4, 2)), 2)]
        [(2, 2), (2, 2)]
    """
    if len(as_array(ary).shape) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def dsplit(ary: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[Array]:
    """Split along the third axis (arrays of at least 3 dimensions).

    Example:
        >>> import functrans.numpy as fnp
        >>> [p.shape for p in fnp.dsplit(fnp.ones((1, 1, 4)), 2)]
        [(1, 1, 2), (1, 1, 2)]
    """
    if len(as_array(ary).shape) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


# --- tiling and repeating ------------------------------------------------------------------------


def tile(A: ArrayLike, reps: int | Sequence[int]) -> Array:
    """``A`` repeated ``reps`` times along each dimension.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tile(fnp.array([1.0, 2.0]), 2).tolist()
        [1.0, 2.0, 1.0, 2.0]
    """
    a = as_array(A)
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    if not any_tracer(a):
        return array_module(a).tile(a, reps)
    nd = max(len(a.shape), len(reps))
    shape = (1,) * (nd - len(a.shape)) + tuple(a.shape)
    reps = (1,) * (nd - len(reps)) + reps
    interleaved = tuple(d for pair in ((1, n) for n in shape) for d in pair)
    expanded = tuple(d for pair in zip(reps, shape) for d in pair)
    out = _shape.broadcast_to(_shape.reshape(a, interleaved), expanded)
    return _shape.reshape(out, tuple(r * n for r, n in zip(reps, shape)))


def repeat(a: ArrayLike, repeats: ArrayLike, axis: int | None = None, *,
           total_repeat_length: int | None = None) -> Array:
    """Each entry repeated ``repeats`` times (an int, or one count per entry) along ``axis``
    (of the flattened array by default). The derivative of an entry sums over its copies.

    The counts decide the length of the result, so traced counts (under jit or vmap) need
    ``total_repeat_length``, that length, as in JAX: a longer result repeats the last entry
    further, a shorter one is cut.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> fnp.repeat(fnp.array([1.0, 2.0]), 2).tolist()
        [1.0, 1.0, 2.0, 2.0]
        >>> ft.jit(lambda r: fnp.repeat(fnp.array([1.0, 2.0]), r, total_repeat_length=4))(
        ...     fnp.array([1, 2])).tolist()
        [1.0, 2.0, 2.0, 2.0]
    """
    a = as_array(a)
    if total_repeat_length is not None:
        return _repeat_to_length(a, repeats, axis, operator.index(total_repeat_length))
    if isinstance(repeats, Tracer) and not _has_value(repeats):
        raise errors.UnsupportedError(
            "fnp.repeat needs the values of its repeats: they decide the length of the result, "
            "which jit and vmap must know while they record the function. Pass that length as "
            "total_repeat_length=, as in JAX, or make the repeats a static argument.")
    counts = host_values(concrete_index(repeats))  # the output's shape depends on them
    if counts.size == 0:
        counts = counts.astype(np.intp)
    if not any_tracer(a):
        return array_module(a).repeat(a, counts if type(a) is np.ndarray else counts.tolist(), axis=axis)
    if axis is None:
        a = _shape.reshape(a, (math.prod(a.shape),))
        axis = 0
    axis = normalize_axis(axis, len(a.shape))
    # host-data: made on the host, placed on the operand's device
    idx = np.repeat(np.arange(a.shape[axis]), counts)
    return take_axis(a, placed_like(idx, a), axis)


def _has_value(x: Tracer) -> bool:
    try:
        x.to_concrete()
    except errors.TracerConversionError:
        return False
    return True


def _repeat_to_length(a: Array, repeats: ArrayLike, axis: int | None, length: int) -> Array:
    """``repeat`` with a result of ``length`` entries along ``axis``, whatever the counts."""
    if axis is None:
        a = _shape.reshape(a, (math.prod(a.shape),))
        axis = 0
    axis = normalize_axis(axis, len(a.shape))
    n = a.shape[axis]
    if length < 0:
        raise ValueError(f"total_repeat_length must not be negative, got {length}")
    if n == 0:
        if length:
            raise ValueError(f"repeat of an empty axis cannot make {length} entries")
        return a
    counts = as_array(repeats)
    if counts.dtype.kind not in "iub":
        raise TypeError(f"repeats must be integers, got dtype {counts.dtype}")
    counts = _shape.broadcast_to(counts, (n,))
    ends = _cumulative.cumsum(counts, axis=0)  # entry i fills [ends[i-1], ends[i])
    # host-data: positions of the result, placed where a is
    positions = placed_like(np.arange(length).reshape(length, 1), a)
    idx = _red.reduce_sum(convert_element_type(_ew.le(_shape.reshape(ends, (1, n)), positions),
                                               new_dtype=np.int64), (1,))
    return take_axis(a, _ew.min(idx, n - 1), axis)
