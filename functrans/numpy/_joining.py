"""More array manipulation with NumPy's names: taking along axes, joining and splitting,
tiling and repeating, flipping and rolling, padding modes, diagonals and triangles, choosing.

Index arrays (``take``, ``repeat``, padding modes) are concrete: they decide the result's
shape. Values are moved by the ``gather``/``scatter`` and shape primitives, so their
derivatives are the corresponding moves of the tangents (repeated positions accumulate).
"""
from __future__ import annotations

import math

import numpy as np

from functrans import errors
from functrans.backend import array_module
from functrans.core.trace import Tracer
from functrans.numpy._indexing import _concrete_index_array
from functrans.numpy._util import (
    any_tracer, dtype_of, host_values, normalize_axis, operand, placed_like, shape_of,
)
from functrans.primitives._define import PY_SCALARS
from functrans.primitives import elementwise as _ew
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type, full_like
from functrans.primitives.indexing import IndexArray, gather_p, scatter_add_p, scatter_p


def _arr(a):
    a = operand(a)
    return np.asarray(a) if isinstance(a, (int, float, complex, bool)) else a  # host-data: a Python scalar


def _index(indices, like, abstract_ok=False):
    """A concrete integer index array on the device of ``like`` (a Python list or a tracer's
    value is converted; host data is copied to ``like``'s device). With ``abstract_ok``, an
    integer tracer without a concrete value (under vmap) is returned as it is: the gather
    primitive takes index arrays as data."""
    if abstract_ok and isinstance(indices, Tracer) and indices.dtype.kind in "iu":
        try:
            indices.to_concrete()
        except errors.TracerConversionError:
            return indices
    value = _concrete_index_array(indices)
    on_host = isinstance(value, (np.ndarray, np.generic, list, tuple, int, bool))
    if on_host:
        value = np.asarray(value)  # host-data: host values (parameters, lists, host_values)
    if value.dtype.kind not in "iu":
        if value.size == 0:
            return value.astype(np.intp)
        raise IndexError(f"indices must be integers, got dtype {value.dtype}")
    return placed_like(value, like) if on_host else value


def _take_axis(a, idx, axis):
    """``a`` indexed by the integer array ``idx`` along ``axis`` (numpy.take semantics)."""
    if not any_tracer(a):
        return a[(slice(None),) * axis + (idx,)]
    return gather_p.bind(a, idx, index=(slice(None),) * axis + (IndexArray(0),))


# --- take, take_along_axis, put_along_axis ------------------------------------------------------


def take(a, indices, axis: int | None = None, out=None, mode: str | None = None):
    """Entries of ``a`` at ``indices`` along ``axis`` (of the flattened array by default).
    ``mode='wrap'`` or ``'clip'`` handles out-of-range indices; by default they raise.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> fnp.take(fnp.array([1.0, 2.0, 3.0]), [2, 0]).tolist()
        [3.0, 1.0]
        >>> ft.grad(lambda x: fnp.take(x, [0, 0]).sum())(fnp.ones(2)).tolist()
        [2.0, 0.0]
    """
    if out is not None:
        raise NotImplementedError("functrans.numpy.take does not write into out=")
    a = _arr(a)
    idx = _index(indices, a)
    if axis is None:
        a = _shape.reshape(a, (math.prod(a.shape),))
        axis = 0
    axis = normalize_axis(axis, len(a.shape))
    n = a.shape[axis]
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = array_module(idx).clip(idx, 0, max(n - 1, 0))
    elif mode not in (None, "raise"):
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    return _take_axis(a, idx, axis)


def _along_axis_index(shape, indices, axis, like):
    """The full advanced index that picks ``indices`` along ``axis`` of an array of ``shape``
    (the aranges of the other axes on the device of ``like``)."""
    nd = len(shape)
    if len(indices.shape) != nd:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    items = []
    for d in range(nd):
        if d == axis:
            items.append(indices)
        else:
            view = [1] * nd
            view[d] = shape[d]
            # host-data: made on the host, placed on the operand's device
            items.append(placed_like(np.arange(shape[d]).reshape(view), like))
    return items


def take_along_axis(arr, indices, axis: int | None = -1):
    """Entries of ``arr`` at ``indices`` along ``axis``, matching the other dimensions
    (``indices`` has ``arr``'s number of dimensions), as ``numpy.take_along_axis``.

    Example:
        >>> import functrans.numpy as fnp
        >>> x = fnp.array([[3.0, 1.0], [0.0, 2.0]])
        >>> fnp.take_along_axis(x, fnp.argsort(x, axis=1), axis=1).tolist()
        [[1.0, 3.0], [0.0, 2.0]]
    """
    arr = _arr(arr)
    idx = _index(indices, arr, abstract_ok=True)
    if axis is None:
        arr = _shape.reshape(arr, (math.prod(arr.shape),))
        axis = 0
    axis = normalize_axis(axis, len(arr.shape))
    items = _along_axis_index(arr.shape, idx, axis, arr)
    if not any_tracer(arr, idx):
        return arr[tuple(items)]
    return gather_p.bind(arr, *items, index=tuple(IndexArray(k) for k in range(len(items))))


def put_along_axis(arr, indices, values, axis: int | None, inplace: bool = False, mode=None):
    """A copy of ``arr`` with ``values`` written at ``indices`` along ``axis`` (the
    functional form of ``numpy.put_along_axis``, which writes in place and returns None).
    Differentiable in ``arr`` and ``values``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.put_along_axis(fnp.zeros((1, 3)), fnp.array([[1]]), 5.0, axis=1).tolist()
        [[0.0, 5.0, 0.0]]
    """
    if inplace:
        raise ValueError("functrans.numpy.put_along_axis returns a new array; pass inplace=False "
                         "(the default) and use its result")
    arr = _arr(arr)
    idx = _index(indices, arr)
    if axis is None:
        arr = _shape.reshape(arr, (math.prod(arr.shape),))
        axis = 0
    axis = normalize_axis(axis, len(arr.shape))
    items = _along_axis_index(arr.shape, idx, axis, arr)
    values = operand(values)
    if not isinstance(values, (int, float, complex, bool)) and values.dtype != arr.dtype:
        values = convert_element_type(values, new_dtype=arr.dtype)
    return scatter_p.bind(arr, values, *items, index=tuple(IndexArray(k) for k in range(len(items))))


# --- dimensions ---------------------------------------------------------------------------------------


def _atleast(nd, a):
    a = _arr(a)
    shape = a.shape
    if len(shape) >= nd:
        return a
    if nd == 1 or len(shape) == 0:
        new = (1,) * (nd - len(shape)) + shape
    elif nd == 2:
        new = (1,) + shape
    else:  # nd == 3: (n,) -> (1, n, 1); (m, n) -> (m, n, 1)
        new = (1,) + shape + (1,) if len(shape) == 1 else shape + (1,)
    return _shape.reshape(a, new)


def atleast_1d(*arys):
    """Arrays with at least one dimension (one array, or a tuple for several).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.atleast_1d(1.0).shape
        (1,)
    """
    out = tuple(_atleast(1, a) for a in arys)
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    """Arrays with at least two dimensions (new ones in front).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.atleast_2d(fnp.ones(3)).shape
        (1, 3)
    """
    out = tuple(_atleast(2, a) for a in arys)
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    """Arrays with at least three dimensions (a vector becomes ``(1, n, 1)``, a matrix
    ``(m, n, 1)``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.atleast_3d(fnp.ones(3)).shape
        (1, 3, 1)
    """
    out = tuple(_atleast(3, a) for a in arys)
    return out[0] if len(out) == 1 else out


def broadcast_arrays(*args):
    """The arrays broadcast against each other, as a tuple.

    Example:
        >>> import functrans.numpy as fnp
        >>> [a.shape for a in fnp.broadcast_arrays(fnp.ones(3), fnp.ones((2, 1)))]
        [(2, 3), (2, 3)]
    """
    arrays = [_arr(a) for a in args]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    return tuple(_shape.broadcast_to(a, shape) for a in arrays)


def rollaxis(a, axis: int, start: int = 0):
    """Move ``axis`` backwards until it lies before position ``start`` (prefer ``moveaxis``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.rollaxis(fnp.ones((2, 3, 4)), 2).shape
        (4, 2, 3)
    """
    from functrans.numpy._manipulation import moveaxis

    a = _arr(a)
    nd = len(a.shape)
    axis = normalize_axis(axis, nd)
    if not -nd <= start <= nd:
        raise np.exceptions.AxisError(f"start {start} is out of bounds for array of dimension {nd}")
    start = start + nd if start < 0 else start
    if start > axis:
        start -= 1
    return moveaxis(a, axis, start)


# --- joining and splitting -------------------------------------------------------------------------


def _concat(arrays, axis):
    from functrans.numpy._manipulation import concatenate

    return concatenate(arrays, axis)


def hstack(tup, *, dtype=None):
    """Join along the second axis (the first for 1-D arrays).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.hstack([fnp.ones(2), fnp.zeros(1)]).tolist()
        [1.0, 1.0, 0.0]
    """
    arrays = [_atleast(1, a) for a in tup]
    out = _concat(arrays, 0 if arrays and len(arrays[0].shape) == 1 else 1)
    return out if dtype is None else convert_element_type(out, new_dtype=dtype)


def vstack(tup, *, dtype=None):
    """Join along the first axis, 1-D arrays as rows.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.vstack([fnp.ones(2), fnp.zeros(2)]).shape
        (2, 2)
    """
    out = _concat([_atleast(2, a) for a in tup], 0)
    return out if dtype is None else convert_element_type(out, new_dtype=dtype)


row_stack = vstack


def dstack(tup):
    """Join along the third axis.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.dstack([fnp.ones(2), fnp.zeros(2)]).shape
        (1, 2, 2)
    """
    return _concat([_atleast(3, a) for a in tup], 2)


def column_stack(tup):
    """Join 1-D arrays as columns (2-D arrays as they are) into a 2-D array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.column_stack([fnp.ones(2), fnp.zeros(2)]).shape
        (2, 2)
    """
    arrays = []
    for a in tup:
        a = _arr(a)
        arrays.append(_shape.reshape(a, (a.shape[0], 1)) if len(a.shape) == 1 else _atleast(2, a))
    return _concat(arrays, 1)


def append(arr, values, axis: int | None = None):
    """``values`` joined after ``arr`` along ``axis`` (both flattened when it is None).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.append(fnp.ones(2), 3.0).tolist()
        [1.0, 1.0, 3.0]
    """
    arr, values = _arr(arr), _arr(values)
    if axis is None:
        arr = _shape.reshape(arr, (math.prod(arr.shape),))
        values = _shape.reshape(values, (math.prod(values.shape),))
        axis = 0
    return _concat([arr, values], axis)


def _split_at(a, bounds, axis):
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        starts = [0] * len(a.shape)
        limits = list(a.shape)
        starts[axis], limits[axis] = lo, max(lo, hi)
        if any_tracer(a):
            parts.append(_shape.slice_(a, tuple(starts), tuple(limits)))
        else:
            parts.append(a[tuple(slice(s, l) for s, l in zip(starts, limits))])
    return parts


def array_split(ary, indices_or_sections, axis: int = 0):
    """Split into pieces along ``axis``: a number of sections (sizes differing by at most
    one), or the indices at which to cut. Returns a list.

    Example:
        >>> import functrans.numpy as fnp
        >>> [p.tolist() for p in fnp.array_split(fnp.arange(5.0), 2)]
        [[0.0, 1.0, 2.0], [3.0, 4.0]]
    """
    a = _arr(ary)
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


def split(ary, indices_or_sections, axis: int = 0):
    """Split into equal pieces along ``axis`` (an error if they cannot be equal), or at the
    given indices. Returns a list.

    Example:
        >>> import functrans.numpy as fnp
        >>> [p.shape for p in fnp.split(fnp.ones((4, 2)), 2)]
        [(2, 2), (2, 2)]
    """
    if isinstance(indices_or_sections, (int, np.integer)):
        n = _arr(ary).shape[normalize_axis(axis, len(_arr(ary).shape))]
        if n % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    """Split along the second axis (the first for 1-D arrays).

    Example:
        >>> import functrans.numpy as fnp
        >>> [p.shape for p in fnp.hsplit(fnp.ones((2, 4)), 2)]
        [(2, 2), (2, 2)]
    """
    a = _arr(ary)
    if len(a.shape) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(a, indices_or_sections, 1 if len(a.shape) > 1 else 0)


def vsplit(ary, indices_or_sections):
    """Split along the first axis (arrays of at least 2 dimensions).

    Example:
        >>> import functrans.numpy as fnp
        >>> [p.shape for p in fnp.vsplit(fnp.ones((4, 2)), 2)]
        [(2, 2), (2, 2)]
    """
    if len(_arr(ary).shape) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    """Split along the third axis (arrays of at least 3 dimensions).

    Example:
        >>> import functrans.numpy as fnp
        >>> [p.shape for p in fnp.dsplit(fnp.ones((1, 1, 4)), 2)]
        [(1, 1, 2), (1, 1, 2)]
    """
    if len(_arr(ary).shape) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


# --- tiling, repeating, flipping, rolling ------------------------------------------------------------


def tile(A, reps):
    """``A`` repeated ``reps`` times along each dimension.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tile(fnp.array([1.0, 2.0]), 2).tolist()
        [1.0, 2.0, 1.0, 2.0]
    """
    a = _arr(A)
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


def repeat(a, repeats, axis: int | None = None):
    """Each entry repeated ``repeats`` times (an int, or one count per entry) along ``axis``
    (of the flattened array by default). The derivative of an entry sums over its copies.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.repeat(fnp.array([1.0, 2.0]), 2).tolist()
        [1.0, 1.0, 2.0, 2.0]
    """
    a = _arr(a)
    counts = host_values(_concrete_index_array(repeats))  # the output's shape depends on them
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
    return _take_axis(a, placed_like(idx, a), axis)


def flip(m, axis=None):
    """Reverse the order of entries along ``axis`` (all axes by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.flip(fnp.array([1.0, 2.0, 3.0])).tolist()
        [3.0, 2.0, 1.0]
    """
    m = _arr(m)
    nd = len(m.shape)
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(normalize_axis(ax, nd) for ax in ((axis,) if isinstance(axis, int) else axis))
    return _shape.rev(m, axes)


def fliplr(m):
    """Reverse the order of columns (axis 1).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fliplr(fnp.array([[1.0, 2.0]])).tolist()
        [[2.0, 1.0]]
    """
    m = _arr(m)
    if len(m.shape) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


def flipud(m):
    """Reverse the order of rows (axis 0).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.flipud(fnp.array([[1.0], [2.0]])).tolist()
        [[2.0], [1.0]]
    """
    m = _arr(m)
    if len(m.shape) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


def roll(a, shift, axis=None):
    """Shift entries cyclically by ``shift`` along ``axis`` (the flattened array by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.roll(fnp.array([1.0, 2.0, 3.0]), 1).tolist()
        [3.0, 1.0, 2.0]
    """
    a = _arr(a)
    if axis is None:
        flat = _shape.reshape(a, (math.prod(a.shape),))
        return _shape.reshape(roll(flat, shift, 0), a.shape)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    shifts = (shift,) * len(axes) if isinstance(shift, (int, np.integer)) else tuple(shift)
    if len(axes) == 1 and len(shifts) > 1:
        axes = axes * len(shifts)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    if len(axes) != len(shifts):
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    nd = len(a.shape)
    total = {}
    for ax, s in zip(axes, shifts):
        ax = normalize_axis(ax, nd)
        total[ax] = total.get(ax, 0) + int(s)
    for ax, s in total.items():
        n = a.shape[ax]
        if n == 0 or s % n == 0:
            continue
        k = s % n
        head, tail = _split_at(a, [0, n - k, n], ax)
        a = _concat([tail, head], ax)
    return a


def rot90(m, k: int = 1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (from the first axis
    towards the second).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.rot90(fnp.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [[2.0, 4.0], [1.0, 3.0]]
    """
    from functrans.numpy._manipulation import swapaxes

    m = _arr(m)
    nd = len(m.shape)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    a0, a1 = normalize_axis(axes[0], nd), normalize_axis(axes[1], nd)
    if a0 == a1:
        raise ValueError("Axes must be different.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    if k == 1:
        return swapaxes(flip(m, a1), a0, a1)
    return flip(swapaxes(m, a0, a1), a1)


# --- padding -----------------------------------------------------------------------------------------


def pad(array, pad_width, mode: str = "constant", **kwargs):
    """Pad with ``mode``: ``'constant'`` (``constant_values``), ``'edge'``, ``'reflect'``,
    ``'symmetric'``, ``'wrap'``, ``'linear_ramp'`` (``end_values``), ``'maximum'``,
    ``'minimum'``, ``'mean'``, ``'median'`` (``stat_length``) or ``'empty'``; ``pad_width``
    as in NumPy (an int, a pair, or one pair per axis). Padding copies or computes entries
    from the array, so derivatives collect from every entry used.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.pad(fnp.array([1.0, 2.0]), 1, mode="edge").tolist()
        [1.0, 1.0, 2.0, 2.0]
    """
    a = _arr(array)
    nd = len(a.shape)
    # host-data: host values (parameters, lists, host_values)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (nd, 2)).tolist() if nd else []
    if np.any(np.asarray(widths) < 0):  # host-data: host values (parameters, lists, host_values)
        raise ValueError("index can't contain negative values")
    if type(a) is np.ndarray or (not any_tracer(a) and mode != "median"):  # CuPy has no median
        return array_module(a).pad(a, pad_width, mode=mode, **kwargs)
    if mode == "constant":
        values = kwargs.pop("constant_values", 0)
        if kwargs:
            raise TypeError(f"unexpected keyword arguments for mode 'constant': {sorted(kwargs)}")
        if any_tracer(values):
            raise NotImplementedError("constant_values must be numbers, not traced arrays")
        # host-data: host values (parameters, lists, host_values)
        values = np.broadcast_to(np.asarray(values), (nd, 2)).tolist() if nd else []
        for ax, ((lo, hi), (v_lo, v_hi)) in enumerate(zip(widths, values)):
            for width, value, before in ((lo, v_lo, True), (hi, v_hi, False)):
                if width:
                    config = [(0, 0, 0)] * nd
                    config[ax] = (width, 0, 0) if before else (0, width, 0)
                    # host-data: host values (parameters, lists, host_values)
                    a = _shape.pad(a, np.asarray(value).astype(a.dtype).item(), config)
        return a
    if mode in _PAD_STATISTICS or mode == "linear_ramp":
        return _pad_computed(a, widths, mode, kwargs)
    if mode == "empty":  # NumPy leaves the new entries undefined; zeros are a fine choice
        return pad(a, pad_width, "constant")
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(
            f"functrans.numpy.pad: unknown mode {mode!r}; the modes are constant, edge, "
            "linear_ramp, maximum, mean, median, minimum, reflect, symmetric, wrap and empty")
    if kwargs:
        raise NotImplementedError(f"functrans.numpy.pad: options {sorted(kwargs)} are not supported")
    for ax, (lo, hi) in enumerate(widths):
        if lo or hi:
            # host-data: made on the host, placed on the operand's device
            idx = np.pad(np.arange(a.shape[ax]), (lo, hi), mode=mode)
            a = _take_axis(a, placed_like(idx, a), ax)
    return a


_PAD_STATISTICS = ("maximum", "minimum", "mean", "median")


def _pad_computed(a, widths, mode, options):
    """The modes whose new entries are computed from the edge: a statistic of the
    ``stat_length`` entries next to it, or a ramp from the edge to ``end_values``. Axis by
    axis, as NumPy does (later axes see the padding of earlier ones)."""
    from functrans.numpy import _reductions, _reductions_more

    key = "end_values" if mode == "linear_ramp" else "stat_length"
    setting = options.pop(key, 0 if mode == "linear_ramp" else None)
    if options:
        raise TypeError(f"unexpected keyword arguments for mode {mode!r}: {sorted(options)}")
    if any_tracer(setting):
        raise NotImplementedError(f"functrans.numpy.pad: {key} must be numbers, not traced arrays")
    nd = len(a.shape)
    # host-data: host values (parameters, lists, host_values)
    settings = np.broadcast_to(np.asarray(setting, dtype=object), (nd, 2)).tolist() if nd else []
    statistic = {"maximum": _reductions.max, "minimum": _reductions.min, "mean": _reductions.mean,
                 "median": _reductions_more.median}.get(mode)
    for ax, ((lo, hi), (set_lo, set_hi)) in enumerate(zip(widths, settings)):
        n = a.shape[ax]
        parts = []
        for width, value, before in ((lo, set_lo, True), (hi, set_hi, False)):
            if not width:
                continue
            if statistic is not None:
                if n == 0:
                    raise ValueError(f"can't extend empty axis {ax} using modes other than "
                                     "'constant' or 'empty'")
                length = n if value is None else min(max(int(value), 1), n)
                # host-data: made on the host, placed on the operand's device
                near = np.arange(length) if before else np.arange(n - length, n)
                edge = statistic(_take_axis(a, placed_like(near, a), ax), axis=ax, keepdims=True)
                block = _take_axis(edge, placed_like(np.zeros(width, np.intp), a), ax)  # host-data: placed
            else:  # linear_ramp: from end_value at the outside to the edge entry
                # host-data: made on the host, placed on the operand's device
                edge = _take_axis(a, placed_like(np.array([0 if before else n - 1]), a), ax)
                # host-data: ramp steps, placed below
                steps = np.arange(width) / width if before else np.arange(width)[::-1] / width
                shape = [1] * nd
                shape[ax] = width
                # host-data: ramp weights, placed on the operand's device
                weight = placed_like(steps.reshape(shape).astype(a.dtype), a)
                block = _ew.add(float(value), _ew.mul(_ew.sub(edge, float(value)), weight))
            parts.append((before, block))
        if parts:
            a = _concat([b for before, b in parts if before] + [a]
                        + [b for before, b in parts if not before], ax)
    return a


# --- diagonals and triangles ----------------------------------------------------------------------


def diagonal(a, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """The diagonal ``offset`` above the main one of the planes ``axis1, axis2``; those two
    axes are removed and the diagonal becomes the last axis.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.diagonal(fnp.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [1.0, 4.0]
    """
    a = _arr(a)
    nd = len(a.shape)
    if nd < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    ax1, ax2 = normalize_axis(axis1, nd), normalize_axis(axis2, nd)
    if ax1 == ax2:
        raise ValueError("axis1 and axis2 cannot be the same")
    if not any_tracer(a):
        return array_module(a).diagonal(a, offset, ax1, ax2)
    rest = tuple(d for d in range(nd) if d not in (ax1, ax2))
    moved = _shape.transpose(a, rest + (ax1, ax2))
    n1, n2 = a.shape[ax1], a.shape[ax2]
    row0, col0 = max(-offset, 0), max(offset, 0)
    length = max(0, min(n1 - row0, n2 - col0))
    # host-data: made on the host, placed on the operand's device
    rows = placed_like(np.arange(length) + row0, a)
    # host-data: made on the host, placed on the operand's device
    cols = placed_like(np.arange(length) + col0, a)
    return gather_p.bind(moved, rows, cols, index=(Ellipsis, IndexArray(0), IndexArray(1)))


def diag(v, k: int = 0):
    """A 1-D ``v``: the square matrix with ``v`` on its ``k``-th diagonal. A 2-D ``v``: its
    ``k``-th diagonal.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.diag(fnp.array([1.0, 2.0])).tolist()
        [[1.0, 0.0], [0.0, 2.0]]
    """
    v = _arr(v)
    if len(v.shape) == 2:
        return diagonal(v, k)
    if len(v.shape) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    if not any_tracer(v):
        return array_module(v).diag(v, k)
    n = v.shape[0]
    size = n + abs(k)
    # host-data: made on the host, placed on the operand's device
    rows = placed_like(np.arange(n) + max(-k, 0), v)
    # host-data: made on the host, placed on the operand's device
    cols = placed_like(np.arange(n) + max(k, 0), v)
    zeros = full_like(v, 0, shape=(size, size))
    return scatter_add_p.bind(zeros, v, rows, cols, index=(IndexArray(0), IndexArray(1)))


def diagflat(v, k: int = 0):
    """The matrix with the flattened ``v`` on its ``k``-th diagonal.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.diagflat(fnp.array([[1.0, 2.0]])).shape
        (2, 2)
    """
    v = _arr(v)
    return diag(_shape.reshape(v, (math.prod(v.shape),)), k)


def _triangle(m, k, lower):
    m = _arr(m)
    if len(m.shape) < 2:
        if len(m.shape) == 1:  # NumPy broadcasts a vector to a square matrix first
            m = _shape.broadcast_to(m, (m.shape[0], m.shape[0]))
        else:
            raise ValueError("input array must be at least 1-d")
    n, p = m.shape[-2:]
    # host-data: made on the host, placed on the operand's device
    mask = placed_like(np.tri(n, p, k, dtype=bool) if lower else ~np.tri(n, p, k - 1, dtype=bool), m)
    if not any_tracer(m):
        return array_module(m).where(mask, m, m.dtype.type(0))
    return _ew.select(mask, m, 0)


def tril(m, k: int = 0):
    """The lower triangle: entries above the ``k``-th diagonal set to zero.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tril(fnp.ones((2, 2))).tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    return _triangle(m, k, lower=True)


def triu(m, k: int = 0):
    """The upper triangle: entries below the ``k``-th diagonal set to zero.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.triu(fnp.ones((2, 2))).tolist()
        [[1.0, 1.0], [0.0, 1.0]]
    """
    return _triangle(m, k, lower=False)


# --- choosing ------------------------------------------------------------------------------------


def select(condlist, choicelist, default=0):
    """From the first condition that holds, the matching choice; ``default`` where none
    holds (all broadcast together).

    Example:
        >>> import functrans.numpy as fnp
        >>> x = fnp.array([-1.0, 0.5, 3.0])
        >>> fnp.select([x < 0, x < 1], [-x, x * 10], default=0.0).tolist()
        [1.0, 5.0, 0.0]
    """
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    choices = [operand(c) for c in choicelist]
    default = operand(default)
    weak = default if isinstance(default, (int, float, complex, bool)) else dtype_of(default)
    dtype = np.result_type(*(dtype_of(c) for c in choices), weak)
    if isinstance(default, (int, float, complex, bool)):  # an array where the choices live
        witness = next((c for c in choices if type(c) not in PY_SCALARS), None)
        out = np.asarray(default, dtype)  # host-data: made on the host, placed on the operand's device
        out = out if witness is None else placed_like(out, witness)
    else:
        out = default
    shape = np.broadcast_shapes(*(shape_of(operand(c)) for c in list(condlist) + choices + [out]))
    out = _shape.broadcast_to(convert_element_type(out, new_dtype=dtype), shape)
    for cond, choice in zip(reversed(condlist), reversed(choices)):
        cond = operand(cond)
        if dtype_of(cond) != np.bool_:
            raise TypeError(f"invalid entry in condlist: should be boolean ndarray, got {dtype_of(cond)}")
        out = _ew.select(cond, convert_element_type(choice, new_dtype=dtype), out)
    return out


def choose(a, choices, out=None, mode: str = "raise"):
    """``choices[a[i]][i]`` for each position ``i`` (everything broadcast together).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.choose(fnp.array([0, 1]), [fnp.array([1.0, 2.0]), fnp.array([3.0, 4.0])]).tolist()
        [1.0, 4.0]
    """
    if out is not None:
        raise NotImplementedError("functrans.numpy.choose does not write into out=")
    idx = _concrete_index_array(operand(a))
    n = len(choices)
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = array_module(idx).clip(idx, 0, n - 1)
    elif type(idx) is np.ndarray and np.any((idx < 0) | (idx >= n)):  # numpy-only: checked on the host only
        raise ValueError("invalid entry in choice array")
    if type(idx) is np.ndarray and choices:
        idx = placed_like(idx, operand(choices[0]))
    return select([idx == k for k in range(n)], list(choices), default=0)


# --- creation ----------------------------------------------------------------------------------------


def identity(n: int, dtype=None, *, like=None):
    """The ``n`` by ``n`` identity matrix (on the device of ``like`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.identity(2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    out = np.identity(n, dtype=dtype)  # host-data: made from no array (like= places it)
    return out if like is None else placed_like(out, operand(like))


def tri(N: int, M: int | None = None, k: int = 0, dtype=float):
    """Ones at and below the ``k``-th diagonal, zeros above.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tri(2).tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    return np.tri(N, M, k, dtype=dtype)  # host-data: made from no array (like= places it)


def logspace(start, stop, num: int = 50, endpoint: bool = True, base: float = 10.0, dtype=None):
    """``base ** linspace(start, stop, num)``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logspace(0, 2, 3).tolist()
        [1.0, 10.0, 100.0]
    """
    # host-data: made from no array (like= places it)
    return np.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=dtype)


def empty_like(prototype, dtype=None, shape=None):
    """An array shaped like ``prototype`` (filled with zeros: nothing is left uninitialised).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.empty_like(fnp.ones(2)).shape
        (2,)
    """
    from functrans.numpy._creation import zeros_like

    return zeros_like(prototype, dtype=dtype, shape=shape)


def meshgrid(*xi, copy: bool = True, sparse: bool = False, indexing: str = "xy"):
    """Coordinate arrays from coordinate vectors (``'xy'``: Cartesian, the first two
    outputs' axes swapped; ``'ij'``: matrix indexing). Returns a tuple.

    Example:
        >>> import functrans.numpy as fnp
        >>> [g.shape for g in fnp.meshgrid(fnp.ones(2), fnp.ones(3))]
        [(3, 2), (3, 2)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    vectors = [_arr(x) for x in xi]
    vectors = [_shape.reshape(v, (math.prod(v.shape),)) for v in vectors]
    nd = len(vectors)
    out = []
    for i, v in enumerate(vectors):
        view = [1] * nd
        view[i] = v.shape[0]
        if indexing == "xy" and nd > 1 and i < 2:
            view[0], view[1] = view[1], view[0]
        out.append(_shape.reshape(v, tuple(view)))
    if not sparse:
        shape = np.broadcast_shapes(*(o.shape for o in out))
        out = [_shape.broadcast_to(o, shape) for o in out]
    return tuple(out)


class _Concatenator:
    """``r_[...]`` and ``c_[...]``: slices become ranges (a complex step ``5j`` means that many
    points, as ``linspace``), arrays and scalars are joined."""

    def __init__(self, columns: bool):
        self.columns = columns

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        parts = []
        for item in items:
            if isinstance(item, slice):
                start = 0 if item.start is None else item.start
                step = 1 if item.step is None else item.step
                if isinstance(step, complex):
                    # host-data: made on the host, placed on the operand's device
                    part = np.linspace(start, item.stop, int(abs(step)))
                else:
                    # host-data: made on the host, placed on the operand's device
                    part = np.arange(start, item.stop, step)
            elif isinstance(item, str):
                raise NotImplementedError("r_/c_ directive strings are not supported")
            else:
                part = _atleast(1, item)
            parts.append(part)
        witness = next((p for p in parts if type(p) is not np.ndarray), None)
        if witness is not None:  # ranges join the given arrays where they live
            parts = [placed_like(p, witness) if type(p) is np.ndarray else p for p in parts]
        if self.columns:
            parts = [_shape.reshape(p, (p.shape[0], 1)) if len(p.shape) == 1 else p for p in parts]
            return _concat(parts, -1)
        return _concat(parts, 0)


r_ = _Concatenator(columns=False)
r_.__doc__ = """Join slices (as ranges), arrays and scalars along the first axis: ``r_[1:3, [5.0]]``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.r_[0:2, fnp.array([5.0])].tolist()
        [0.0, 1.0, 5.0]
    """
c_ = _Concatenator(columns=True)
c_.__doc__ = """Join 1-D arrays as columns (along the last axis): ``c_[a, b]``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.c_[fnp.ones(2), fnp.zeros(2)].shape
        (2, 2)
    """
