"""NumPy's index tricks: index arrays of shapes and triangles (``indices``,
``tril_indices``, ``diag_indices``, ...), conversions between flat and multi-dimensional
indices, open meshes (``ix_``), and NumPy's index-building objects (``mgrid``, ``ogrid``,
``s_``, ``index_exp``, ``ndindex``). Indices are integers: they carry no derivative."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from functrans import errors
from functrans._abstract import shape_of
from functrans.backend import array_module
from functrans.core.trace import Tracer
from functrans.numpy._indexing import at, first_nonzero, nonzero, take, values_or_size, where
from functrans.numpy._shape import ravel, reshape
from functrans.numpy._util import (
    any_tracer,
    as_array,
    clamped,
    host_values,
    normalize_axis,
    operand,
    placed_like,
    without_values,
)
from functrans.primitives import elementwise as _ew
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike, DType

# NumPy's objects that build grids and index tuples from slices, and iterate over a shape's
# indices: they work on Python numbers and shapes, so NumPy's own serve.
mgrid, ogrid, s_, index_exp, ndindex = np.mgrid, np.ogrid, np.s_, np.index_exp, np.ndindex


def indices(dimensions: Sequence[int], dtype: DType = int, sparse: bool = False) -> Array | tuple[Array, ...]:
    """The index of every position of a grid of shape ``dimensions``, one array per axis
    (stacked, or, with ``sparse``, as broadcastable arrays), as ``numpy.indices``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.indices((2, 2))[1].tolist()
        [[0, 1], [0, 1]]
    """
    return cast(Any, np.indices)(tuple(dimensions), dtype=dtype, sparse=sparse)  # host-data: made from a shape


def diag_indices(n: int, ndim: int = 2) -> tuple[Array, ...]:
    """The indices of the main diagonal of an ``n`` by ... by ``n`` array of ``ndim``
    dimensions, as ``numpy.diag_indices``.

    Example:
        >>> import functrans.numpy as fnp
        >>> [i.tolist() for i in fnp.diag_indices(2)]
        [[0, 1], [0, 1]]
    """
    return np.diag_indices(n, ndim)  # host-data: made from a size


def diag_indices_from(arr: ArrayLike) -> tuple[Array, ...]:
    """The indices of the main diagonal of ``arr`` (every side of the same length; traced
    arrays count by their shape), as ``numpy.diag_indices_from``.

    Example:
        >>> import functrans.numpy as fnp
        >>> len(fnp.diag_indices_from(fnp.ones((3, 3))))
        2
    """
    a = operand(arr)
    shape = tuple(shape_of(a))
    if len(shape) < 2:
        raise ValueError("input array must be at least 2-d")
    if len(set(shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    return tuple(placed_like(i, a) for i in np.diag_indices(shape[0], len(shape)))  # host-data: from a shape


def tril_indices(n: int, k: int = 0, m: int | None = None) -> tuple[Array, Array]:
    """The row and column indices of the lower triangle (on and below diagonal ``k``) of an
    ``n`` by ``m`` array, as ``numpy.tril_indices``.

    Example:
        >>> import functrans.numpy as fnp
        >>> [i.tolist() for i in fnp.tril_indices(2)]
        [[0, 1, 1], [0, 0, 1]]
    """
    return np.tril_indices(n, k, m)  # host-data: made from sizes


def triu_indices(n: int, k: int = 0, m: int | None = None) -> tuple[Array, Array]:
    """The row and column indices of the upper triangle (on and above diagonal ``k``) of an
    ``n`` by ``m`` array, as ``numpy.triu_indices``.

    Example:
        >>> import functrans.numpy as fnp
        >>> [i.tolist() for i in fnp.triu_indices(2)]
        [[0, 0, 1], [0, 1, 1]]
    """
    return np.triu_indices(n, k, m)  # host-data: made from sizes


def _matrix_shape(arr: ArrayLike) -> tuple[int, int]:
    shape = tuple(shape_of(operand(arr)))
    if len(shape) != 2:
        raise ValueError(f"input array must be 2-d, got shape {shape}")
    return shape[0], shape[1]


def tril_indices_from(arr: ArrayLike, k: int = 0) -> tuple[Array, ...]:
    """``tril_indices`` for the shape of the 2-D ``arr`` (traced arrays count by their shape).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tril_indices_from(fnp.ones((2, 3)))[1].tolist()
        [0, 0, 1]
    """
    n, m = _matrix_shape(arr)
    return tuple(placed_like(i, operand(arr)) for i in np.tril_indices(n, k, m))  # host-data: from a shape


def triu_indices_from(arr: ArrayLike, k: int = 0) -> tuple[Array, ...]:
    """``triu_indices`` for the shape of the 2-D ``arr`` (traced arrays count by their shape).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.triu_indices_from(fnp.ones((2, 3)))[1].tolist()
        [0, 1, 2, 1, 2]
    """
    n, m = _matrix_shape(arr)
    return tuple(placed_like(i, operand(arr)) for i in np.triu_indices(n, k, m))  # host-data: from a shape


def mask_indices(n: int, mask_func: Callable[[Any, int], Any], k: int = 0) -> tuple[Array, ...]:
    """The indices of the nonzero entries of ``mask_func(ones((n, n)), k)`` (for example
    ``fnp.triu``), as ``numpy.mask_indices``.

    Example:
        >>> import functrans.numpy as fnp
        >>> [i.tolist() for i in fnp.mask_indices(2, fnp.triu)]
        [[0, 0, 1], [0, 1, 1]]
    """
    mask = mask_func(np.ones((n, n), int), k)  # host-data: made from a size
    return np.nonzero(np.asarray(mask) != 0)  # host-data: the mask made on the host above


def ix_(*args: ArrayLike) -> tuple[Array, ...]:
    """Open-mesh index arrays from 1-D sequences: the ``i``-th has its entries along axis
    ``i`` (a boolean one stands for its nonzero positions), so that ``a[ix_(rows, cols)]``
    picks a cross product, as ``numpy.ix_``.

    Example:
        >>> import functrans.numpy as fnp
        >>> [i.shape for i in fnp.ix_([0, 1], [2, 3, 4])]
        [(2, 1), (1, 3)]
    """
    arrays = [as_array(a) for a in args]
    if not any_tracer(*arrays):
        return tuple(array_module(arrays[0]).ix_(*arrays)) if arrays else ()
    out = []
    for i, a in enumerate(arrays):
        if len(a.shape) != 1:
            raise ValueError("Cross index must be 1 dimensional")
        if a.dtype == np.bool_:
            raise errors.UnsupportedError(
                "fnp.ix_ of a traced boolean mask: its nonzero positions decide the shape. Pass "
                "integer positions (fnp.nonzero of a concrete mask) instead.")
        shape = [1] * len(arrays)
        shape[i] = a.shape[0]
        out.append(_shape.reshape(a, tuple(shape)))
    return tuple(out)


def _strides(dims: Sequence[int], order: str) -> list[int]:
    dims = list(dims)
    if order == "C":
        strides = [math.prod(dims[i + 1:]) for i in range(len(dims))]
    elif order == "F":
        strides = [math.prod(dims[:i]) for i in range(len(dims))]
    else:
        raise ValueError("only 'C' or 'F' order is permitted")
    return strides


def ravel_multi_index(multi_index: Sequence[ArrayLike], dims: Sequence[int], mode: str = "raise",
                      order: str = "C") -> Array:
    """Flat indices into an array of shape ``dims`` from one index array per axis, as
    ``numpy.ravel_multi_index`` (``mode``: 'raise' for out-of-range indices, 'wrap' or
    'clip'). Traced indices work with 'wrap' and 'clip'; 'raise' needs their values.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ravel_multi_index(([0, 1], [2, 0]), (2, 3)).tolist()
        [2, 3]
    """
    index = [operand(i) for i in multi_index]
    dims = tuple(int(d) for d in dims)
    if len(index) != len(dims):
        raise ValueError(f"parameter multi_index must be a sequence of length {len(dims)}")
    if not any(isinstance(i, Tracer) for i in index):
        return array_module(*[as_array(i) for i in index][:1]).ravel_multi_index(tuple(index), dims, mode, order)
    flat: Any = 0
    for i, d, stride in zip(index, dims, _strides(dims, order)):
        i = convert_element_type(i, new_dtype=np.intp)
        if mode == "wrap":
            i = _ew.mod(i, d)
        elif mode == "clip":
            i = _ew.max(_ew.min(i, d - 1), 0)
        elif mode == "raise":
            values = _value(i, "ravel_multi_index", "use mode='wrap' or mode='clip'")
            if np.any((values < 0) | (values >= d)):  # host-data: the checked values
                raise ValueError("invalid entry in coordinates array")
        else:
            raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap', not {mode!r}")
        flat = _ew.add(flat, _ew.mul(i, stride))
    return flat


def _value(x: Tracer, name: str, fix: str) -> np.ndarray:
    try:
        return np.asarray(x.to_concrete())  # host-data: a concrete index
    except errors.TracerConversionError:
        raise errors.UnsupportedError(
            f"fnp.{name} checks the values of its indices, which jit and vmap do not have yet: {fix}.") from None


def unravel_index(indices: ArrayLike, shape: Sequence[int], order: str = "C") -> tuple[Array, ...]:
    """The multi-dimensional index, one array per axis of ``shape``, of each flat index, as
    ``numpy.unravel_index``, which raises for an index out of range. Traced indices without
    values (under ``jit`` or ``vmap``) cannot be checked; they are converted as JAX converts
    them: a negative one counts from the end, and one out of range is clipped to the nearest
    end (to the first or the last position).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> [i.tolist() for i in fnp.unravel_index([2, 3], (2, 3))]
        [[0, 1], [2, 0]]
        >>> [i.tolist() for i in ft.jit(lambda i: fnp.unravel_index(i, (2, 3)))(fnp.array([-1, 9]))]
        [[1, 1], [2, 2]]
    """
    shape = tuple(int(d) for d in shape)
    idx = operand(indices)
    if not without_values(idx):  # values to check, as NumPy does (an integer has no derivative)
        idx = idx.to_concrete() if isinstance(idx, Tracer) else idx
        return tuple(array_module(as_array(idx)).unravel_index(idx, shape, order))
    idx = convert_element_type(idx, new_dtype=np.intp)
    total = math.prod(shape)
    if total:
        idx = _ew.max(_ew.min(idx, total - 1), -total)
        idx = _ew.select(_ew.lt(idx, 0), _ew.add(idx, total), idx)
    return tuple(_ew.mod(_ew.floor_divide(idx, stride), d) if d else idx
                 for d, stride in zip(shape, _strides(shape, order)))


def _concrete(x: Any, name: str, what: str) -> np.ndarray:
    """Host values of ``x``, which decide the shape of ``name``'s result."""
    if isinstance(x, Tracer):
        try:
            x.to_concrete()
        except errors.TracerConversionError:
            raise errors.UnsupportedError(
                f"fnp.{name} needs the values of {what}: they decide the shape of the result, which "
                "jit and vmap must know before any value exists. Compute them outside the "
                "transformation, or use fnp.where to choose values at fixed positions.") from None
    return host_values(x)


def argwhere(a: ArrayLike, *, size: int | None = None, fill_value: ArrayLike | None = None) -> Array:
    """The indices of the nonzero entries, one row per entry, as ``numpy.argwhere``. Which
    entries are nonzero decides the shape: a traced ``a`` needs concrete values, or ``size``
    (see ``nonzero``): the first ``size`` rows, padded with ``fill_value`` (0 by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.argwhere(fnp.array([[0.0, 1.0], [2.0, 0.0]])).tolist()
        [[0, 1], [1, 0]]
        >>> fnp.argwhere(fnp.array([[0.0, 1.0], [2.0, 0.0]]), size=3, fill_value=9).tolist()
        [[0, 1], [1, 0], [9, 9]]
    """
    if size is not None:
        a = as_array(a)
        if not shape_of(a):  # NumPy's rows of a 0-d array have no entries
            return placed_like(np.zeros((size, 0), np.intp), a)  # host-data: a shape
        columns = nonzero(a, size=size, fill_value=fill_value)
        return _shape.concatenate([_shape.reshape(c, (size, 1)) for c in columns], 1)
    if fill_value is not None:
        raise ValueError("argwhere: fill_value needs size")
    values_or_size(a, "argwhere")
    a = as_array(a)
    if not any_tracer(a):
        return array_module(a).argwhere(a)
    return placed_like(np.argwhere(_concrete(a, "argwhere", "its argument")), a)  # host-data: positions


def compress(condition: ArrayLike, a: ArrayLike, axis: int | None = None, *, size: int | None = None,
             fill_value: ArrayLike = 0) -> Array:
    """The slices of ``a`` along ``axis`` (entries of the flattened ``a`` when None) where
    ``condition`` is true, as ``numpy.compress``; they keep their derivatives. How many are
    true decides the shape, so a traced ``condition`` (under jit or vmap) needs ``size``, as in
    JAX: the first ``size`` slices, padded with ``fill_value``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.compress([True, False, True], fnp.array([1.0, 2.0, 3.0])).tolist()
        [1.0, 3.0]
        >>> fnp.compress([True, False, True], fnp.array([1.0, 2.0, 3.0]), size=3, fill_value=-1).tolist()
        [1.0, 3.0, -1.0]
    """
    a = as_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    if size is not None:
        return _first_slices(operand(condition), a, axis, size, fill_value)
    values_or_size(condition, "compress", "true")
    # host-data: positions read from the condition's values
    positions = np.flatnonzero(_concrete(operand(condition), "compress", "its condition"))
    return take(a, positions, axis=axis)


def extract(condition: ArrayLike, arr: ArrayLike, *, size: int | None = None, fill_value: ArrayLike = 0) -> Array:
    """The entries of the flattened ``arr`` where the flattened ``condition`` is nonzero, as
    ``numpy.extract``; they keep their derivatives. A traced ``condition`` (under jit or vmap)
    needs ``size``, as in JAX: the first ``size`` entries, padded with ``fill_value``.

    Example:
        >>> import functrans.numpy as fnp
        >>> x = fnp.array([1.0, -2.0, 3.0])
        >>> fnp.extract(x > 0, x).tolist()
        [1.0, 3.0]
        >>> fnp.extract(x > 0, x, size=1).tolist()
        [1.0]
    """
    a = ravel(as_array(arr))
    if size is not None:
        return _first_slices(ravel(operand(condition)), a, 0, size, fill_value)
    values_or_size(condition, "extract")
    # host-data: positions read from the condition's values
    positions = np.flatnonzero(_concrete(operand(condition), "extract", "its condition"))
    return take(a, positions)


def _first_slices(condition: Array, a: Array, axis: int, size: int, fill_value: ArrayLike) -> Array:
    """The first ``size`` slices of ``a`` along ``axis`` where the 1-d ``condition`` holds,
    padded with ``fill_value``: positions found by primitives, so the condition may be traced."""
    if len(shape_of(condition)) != 1:
        raise ValueError("condition must be a 1-d array")
    positions, valid = first_nonzero(condition, size)
    taken = take(a, positions, axis=axis)
    view = [1] * len(shape_of(taken))
    view[normalize_axis(axis, len(view))] = size
    return where(_shape.reshape(valid, tuple(view)), taken, fill_value)


def _in_place_or_functional(name: str, a: Any, inplace: bool, *others: Any) -> bool:
    """Whether to write into ``a`` as NumPy does: only a NumPy array, only when asked, and
    only with ``others`` (the positions and values written) untraced."""
    if not inplace:
        return False
    if type(a) is np.ndarray and any_tracer(*others):
        raise errors.InPlaceUpdateError(
            f"fnp.{name} writes into its NumPy argument by default, as NumPy's does, but what "
            "it would write is traced (by grad, jit or vmap), and a NumPy array cannot hold it. "
            f"Pass inplace=False to get the updated array back: a = fnp.{name}(a, ..., "
            "inplace=False).")
    if type(a) is np.ndarray:
        return True
    raise errors.InPlaceUpdateError(
        f"fnp.{name} writes into its argument by default, as NumPy's does, and this argument "
        f"({type(a).__name__}) cannot be written into: traced arrays never change in place. Pass "
        f"inplace=False to get the updated array back: a = fnp.{name}(a, ..., inplace=False).")


def _scattered(a: Array, positions: np.ndarray, values: ArrayLike) -> Array:
    """``a`` with its flattened entries at ``positions`` replaced by ``values``, repeated
    cyclically as NumPy's flat assignment repeats them."""
    flat = ravel(a)
    values = ravel(as_array(values))
    size = values.shape[0]
    if positions.size and size == 0:
        raise ValueError("cannot place or put an empty set of values into a non-empty selection")
    if size:
        values = take(values, np.arange(positions.size) % size)  # host-data: cycling positions
    return reshape(at(flat)[positions].set(values), tuple(a.shape))


def fill_diagonal(a: ArrayLike, val: ArrayLike, wrap: bool = False, *, inplace: bool = True) -> Array | None:
    """``a`` with its main diagonal set to ``val`` (repeated if shorter), as
    ``numpy.fill_diagonal``. NumPy writes into ``a`` and returns None, which this does for a
    NumPy array by default; ``inplace=False`` (as in JAX) returns the updated array instead,
    and is required for traced arrays. Differentiable in both.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fill_diagonal(fnp.zeros((2, 2)), 5.0, inplace=False).tolist()
        [[5.0, 0.0], [0.0, 5.0]]
    """
    if _in_place_or_functional("fill_diagonal", a, inplace, val):
        np.fill_diagonal(cast(Any, a), val, wrap)  # numpy-only: a NumPy array, written into as NumPy does
        return None
    a = as_array(a)
    shape = tuple(a.shape)
    if len(shape) < 2:
        raise ValueError("array must be at least 2-d")
    if len(shape) == 2:
        step, end = shape[1] + 1, None if wrap else shape[1] * shape[1]
    else:
        if len(set(shape)) != 1:
            raise ValueError("All dimensions of input must be of equal length")
        step, end = 1 + int(np.cumprod(shape[:-1]).sum()), None  # host-metadata: a shape
    positions = np.arange(math.prod(shape))[:end:step]  # host-data: positions from the shape
    return _scattered(a, positions, val)


def put(a: ArrayLike, ind: ArrayLike, v: ArrayLike, mode: str = "raise", *, inplace: bool = True) -> Array | None:
    """``a`` with its flattened entries at ``ind`` replaced by ``v`` (repeated if shorter),
    as ``numpy.put`` (``mode`` 'raise', 'wrap' or 'clip' for positions out of range). NumPy
    writes into ``a`` and returns None, which this does for a NumPy array by default;
    ``inplace=False`` returns the updated array instead, and is required for traced arrays.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.put(fnp.zeros(4), [0, 2], [1.0, 2.0], inplace=False).tolist()
        [1.0, 0.0, 2.0, 0.0]
    """
    if _in_place_or_functional("put", a, inplace, ind, v):
        # numpy-only: a NumPy array, written into as NumPy does
        np.put(cast(Any, a), cast(Any, ind), v, cast(Any, mode))
        return None
    a = as_array(a)
    size = math.prod(a.shape)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap', not {mode!r}")
    ind = operand(ind)
    if without_values(ind):  # positions known by their shape only
        positions = _shape.reshape(ind, (math.prod(shape_of(ind)),))
        if mode == "wrap" and size:
            positions = positions % size
        elif mode == "clip":
            positions = clamped(positions, size)
        # 'raise': positions out of range raise when the program runs, as NumPy's indexing does
        return _scattered(a, positions, v)
    # host-data: positions read from the index's values
    positions = np.asarray(_concrete(ind, "put", "its positions")).ravel()
    if mode == "wrap":
        positions = positions % size if size else positions
    elif mode == "clip":
        positions = np.clip(positions, 0, size - 1)  # host-data: positions
    elif mode == "raise":
        if np.any((positions < -size) | (positions >= size)):  # host-data: positions
            raise IndexError(f"index out of range for array of size {size}")
        positions = positions % size if size else positions
    return _scattered(a, positions, v)


def place(arr: ArrayLike, mask: ArrayLike, vals: ArrayLike, *, inplace: bool = True) -> Array | None:
    """``arr`` with its entries where ``mask`` is true replaced by ``vals`` in order
    (repeated if shorter), as ``numpy.place``. NumPy writes into ``arr`` and returns None,
    which this does for a NumPy array by default; ``inplace=False`` returns the updated array
    instead, and is required for traced arrays. A traced ``mask`` needs concrete values.

    Example:
        >>> import functrans.numpy as fnp
        >>> x = fnp.array([1.0, -2.0, 3.0, -4.0])
        >>> fnp.place(x, x < 0, [0.0], inplace=False).tolist()
        [1.0, 0.0, 3.0, 0.0]
    """
    if _in_place_or_functional("place", arr, inplace, mask, vals):
        np.place(cast(Any, arr), cast(Any, mask), vals)  # numpy-only: a NumPy array, written into as NumPy does
        return None
    a = as_array(arr)
    # host-data: positions read from the mask's values
    positions = np.flatnonzero(_concrete(operand(mask), "place", "its mask"))
    return _scattered(a, positions, vals)
