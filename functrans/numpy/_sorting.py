"""Sorting and searching with NumPy's names. ``sort`` moves each value, with its derivative,
to where the (stable) sorting permutation puts it; positions and counts (``argsort``,
``searchsorted``, ``unique``'s indices) are integers with no derivative."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from functrans._abstract import dtype_of, shape_of
from functrans.backend import array_module
from functrans.numpy._indexing import at, binned_counts, first_nonzero, take, take_along_axis, values_or_size
from functrans.numpy._joining import concatenate
from functrans.numpy._util import (
    any_tracer,
    as_array,
    concrete_index,
    flat_or_axis,
    host_values,
    normalize_axis,
    numbers_beside,
    operand,
    pair_beside,
    placed_like,
)
from functrans.primitives import elementwise as _ew
from functrans.primitives import shape as _shape
from functrans.primitives import sorting as _sorting
from functrans.primitives.conversion import convert_element_type
from functrans.primitives.cumulative import cumsum
from functrans.typing import Array, ArrayLike

#: The algorithms ``numpy.sort`` and ``numpy.argsort`` name (traced arrays always sort stably).
SortKind = Literal["quicksort", "mergesort", "heapsort", "stable"]


def sort(a: ArrayLike, axis: int | None = -1, kind: SortKind | None = None, order: None = None, *,
         stable: bool | None = None, descending: bool = False) -> Array:
    """The entries sorted along ``axis`` (the flattened array when it is None). Each
    entry's derivative moves with it; tied entries keep their original order (the sort is
    stable), which decides which of them receives which derivative.

    ``descending=True`` (JAX's and the array API's keyword) sorts from the largest entry
    down, NaNs first: the ascending result reversed.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> fnp.sort(fnp.array([3.0, 1.0, 2.0])).tolist()
        [1.0, 2.0, 3.0]
        >>> fnp.sort(fnp.array([3.0, 1.0, 2.0]), descending=True).tolist()
        [3.0, 2.0, 1.0]
        >>> ft.grad(lambda x: fnp.sort(x)[0])(fnp.array([3.0, 1.0, 2.0])).tolist()
        [0.0, 1.0, 0.0]
    """
    if descending:
        ascending = as_array(sort(a, axis, kind, order, stable=stable))
        return _shape.rev(ascending, (len(ascending.shape) - 1 if axis is None
                                      else normalize_axis(axis, len(ascending.shape)),))
    if type(a) is np.ndarray and stable is None and order is None:  # plain arrays: NumPy itself
        return np.sort(a, axis, kind)  # numpy-only: NumPy arrays only, by the check above
    if order is not None:
        raise NotImplementedError("functrans.numpy.sort does not support order= (structured arrays)")
    a = as_array(a)
    if not any_tracer(a):
        if type(a) is not np.ndarray:  # CuPy's sort is always stable and takes a, axis, kind
            return array_module(a).sort(a, axis=axis)
        # numpy-only: NumPy arrays only, by the check above
        return np.sort(a, axis=axis, kind=kind, stable=stable)
    a, axis = flat_or_axis(a, axis)
    if len(a.shape) == 0:
        return a
    perm = _sorting.argsort(a, axis)
    return take_along_axis(a, perm, axis)


def argsort(a: ArrayLike, axis: int | None = -1, kind: SortKind | None = None, order: None = None, *,
            stable: bool | None = None, descending: bool = False) -> Array:
    """The indices that sort ``a`` along ``axis``. No derivative. Ties keep their original
    order (the sort is stable, as JAX's) unless ``stable=False`` or a ``kind`` other than
    ``"stable"`` lets NumPy order them as it likes; traced arrays always sort stably, so eager
    and ``jit`` calls agree.

    ``descending=True`` (JAX's and the array API's keyword) orders from the largest entry
    down, NaNs first, tied entries still in their original order.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.argsort(fnp.array([3.0, 1.0, 2.0])).tolist()
        [1, 2, 0]
        >>> fnp.argsort(fnp.array([1.0, 3.0, 1.0]), descending=True).tolist()
        [1, 0, 2]
    """
    if order is not None:
        raise NotImplementedError("functrans.numpy.argsort does not support order= (structured arrays)")
    a = as_array(a)
    if descending:
        # Stable from the top: sort the reversed entries ascending, reverse the result, and
        # count positions from the other end.
        a, axis = flat_or_axis(a, axis)
        if len(a.shape) == 0:
            return argsort(a)
        n = a.shape[axis]
        reversed_order = as_array(argsort(_shape.rev(a, (axis,)), axis, kind, stable=stable))
        return _ew.sub(placed_like(np.asarray(n - 1, reversed_order.dtype), reversed_order),  # host-data: a count
                       _shape.rev(reversed_order, (axis,)))
    if not any_tracer(a):
        if type(a) is not np.ndarray:  # CuPy's argsort is always stable and takes a, axis, kind
            return array_module(a).argsort(a, axis=axis)
        if stable is None and kind is None:
            stable = True  # as a traced array sorts, and as JAX
        # numpy-only: NumPy arrays only, by the check above
        return np.argsort(a, axis=axis, kind=kind, stable=stable)
    a, axis = flat_or_axis(a, axis)
    if len(a.shape) == 0:
        # host-data: made on the host, placed on the operand's device
        return placed_like(np.zeros((), np.intp), a)
    return _sorting.argsort(a, axis)


def partition(a: ArrayLike, kth: int, axis: int | None = -1, kind: Literal["introselect"] = "introselect",
              order: str | Sequence[str] | None = None) -> Array:
    """An arrangement in which the entry at position ``kth`` is the one a sort would put
    there, smaller entries before it and larger after. On traced arrays the result is fully
    sorted (which is one such arrangement).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.partition(fnp.array([3.0, 1.0, 2.0]), 1)[1])
        2.0
    """
    a = as_array(a)
    if not any_tracer(a):
        if type(a) is not np.ndarray:  # CuPy's partition takes a, kth, axis
            return array_module(a).partition(a, kth, axis=axis)
        # numpy-only: NumPy arrays only, by the check above
        return np.partition(a, kth, axis=axis, kind=kind, order=order)
    return sort(a, axis)


def argpartition(a: ArrayLike, kth: int, axis: int | None = -1, kind: Literal["introselect"] = "introselect",
                 order: str | Sequence[str] | None = None) -> Array:
    """Indices that partition ``a`` (see ``partition``). No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.argpartition(fnp.array([3.0, 1.0, 2.0]), 0)[0])
        1
    """
    a = as_array(a)
    if not any_tracer(a):
        if type(a) is not np.ndarray:  # CuPy's argpartition takes a, kth, axis
            return array_module(a).argpartition(a, kth, axis=axis)
        # numpy-only: NumPy arrays only, by the check above
        return np.argpartition(a, kth, axis=axis, kind=kind, order=order)
    return argsort(a, axis)


def searchsorted(a: ArrayLike, v: ArrayLike, side: str = "left", sorter: ArrayLike | None = None) -> Array:
    """Indices at which ``v`` would be inserted into the sorted 1-D ``a`` to keep it sorted.
    No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.searchsorted(fnp.array([1.0, 2.0, 3.0]), fnp.array([2.5, 0.0])).tolist()
        [2, 0]
    """
    a, v = pair_beside(a, v)  # a number beside a device array
    a, v = as_array(a), operand(v)
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right' (got {side!r})")
    if sorter is not None:
        a = take(a, sorter)
    if not any_tracer(a, v):
        return array_module(a).searchsorted(a, v, side=side)
    if len(a.shape) != 1:
        raise ValueError("object too deep for desired array: searchsorted needs a 1-D array")
    return _sorting.searchsorted(a, v, side)


def unique(ar: ArrayLike, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, *, equal_nan: bool = True,
           sorted: bool = True, size: int | None = None,
           fill_value: ArrayLike | None = None) -> Array | tuple[Array, ...]:
    """The sorted unique entries (of the flattened array, or the unique slices along
    ``axis``), optionally with the index of each one's first occurrence, the inverse indices,
    and the counts. The values are differentiable: each takes its derivative from its first
    occurrence. Which entries are unique is read from concrete values, unless ``size`` is
    given (as in JAX; flattened arrays only): the first ``size`` unique entries, padded with
    ``fill_value`` (by default the smallest entry), their first indices padded with the
    smallest one's, counts with 0. A traced ``ar`` (under jit or vmap) needs ``size``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.unique(fnp.array([2.0, 1.0, 2.0])).tolist()
        [1.0, 2.0]
        >>> fnp.unique(fnp.array([2.0, 1.0, 2.0]), size=3, fill_value=0.0).tolist()
        [1.0, 2.0, 0.0]
    """
    if size is not None:
        if axis is not None:
            raise NotImplementedError("unique: size= works on the flattened array (axis=None)")
        sized = _unique_of_size(operand(ar), size, fill_value, equal_nan)
        kept = [sized[0]] + [x for x, wanted in zip(sized[1:], (return_index, return_inverse, return_counts))
                             if wanted]
        return kept[0] if len(kept) == 1 else tuple(kept)
    if fill_value is not None:
        raise ValueError("unique: fill_value needs size")
    values_or_size(ar, "unique (or union1d)", "unique")
    a = as_array(ar)
    if not any_tracer(a):
        return array_module(a).unique(a, return_index, return_inverse, return_counts,
                                      axis=axis, equal_nan=equal_nan)
    values = host_values(concrete_index(a))  # which entries are unique decides the shape
    # host-data: host values (parameters, lists, host_values)
    _, index, inverse, counts = np.unique(values, True, True, True, axis=axis, equal_nan=equal_nan)
    out = [take(a, index, axis=axis)]  # the first occurrence of each unique entry (or slice)
    if return_index:
        out.append(placed_like(index, a))
    if return_inverse:
        out.append(placed_like(inverse.reshape(values.shape) if axis is None else inverse, a))
    if return_counts:
        out.append(placed_like(counts, a))
    return out[0] if len(out) == 1 else tuple(out)


def _unique_of_size(a: Array, size: int, fill_value: ArrayLike | None,
                    equal_nan: bool) -> tuple[Array, Array, Array, Array]:
    """``unique``'s four results with ``size`` entries, from a stable sort: an entry starts a
    new value where it differs from the one before it (NaNs equal when ``equal_nan``), and the
    starts are gathered to their slots as ``nonzero``'s positions are."""
    shape = tuple(shape_of(a))
    flat = _shape.reshape(a, (math.prod(shape),))
    n = math.prod(shape)
    order = argsort(flat, kind="stable")  # equal entries keep their order: firsts first
    ordered = take(flat, order)
    if n:
        later, earlier = ordered[1:], ordered[:-1]
        differs = _ew.ne(later, earlier)
        if equal_nan and dtype_of(flat).kind in "fc":
            differs = _ew.logical_and(differs, _ew.logical_not(
                _ew.logical_and(_ew.ne(later, later), _ew.ne(earlier, earlier))))
        starts = concatenate([placed_like(np.ones(1, bool), flat), differs])  # host-data: placed
    else:  # nothing to take from: the fill, and no index or count
        zeros = placed_like(np.zeros(size, np.intp), flat)  # host-data: placed
        values = placed_like(np.zeros(size, dtype_of(flat)), flat)  # host-data: placed
        if fill_value is not None:
            values = _ew.add(values, fill_value)
        return values, zeros, _shape.reshape(zeros[:0], shape), zeros
    first, valid = first_nonzero(starts, size)
    values = take(ordered, first)
    index = take(order, first)
    fill = values[0] if fill_value is None and size else fill_value
    if size:
        values = _ew.select(valid, values, fill if fill is not None else 0)
        index = _ew.select(valid, index, index[0])
    group = _ew.sub(cumsum(convert_element_type(starts, new_dtype=np.intp), 0), 1)  # each sorted entry's
    inverse = placed_like(np.zeros(n, np.intp), flat)  # host-data: placed
    inverse = _shape.reshape(at(inverse)[order].set(group), shape)
    return values, index, inverse, binned_counts(group, size)


def flatnonzero(a: ArrayLike, *, size: int | None = None, fill_value: ArrayLike | None = None) -> Array:
    """Indices of the nonzero entries of the flattened array. A traced ``a`` needs ``size``
    (see ``nonzero``): the first ``size`` indices, padded with ``fill_value`` (0 by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.flatnonzero(fnp.array([0.0, 2.0, 3.0])).tolist()
        [1, 2]
        >>> fnp.flatnonzero(fnp.array([0.0, 2.0, 3.0]), size=1).tolist()
        [1]
    """
    if size is not None:
        positions, valid = first_nonzero(operand(a), size)
        return _ew.select(valid, positions, 0 if fill_value is None else fill_value)
    if fill_value is not None:
        raise ValueError("flatnonzero: fill_value needs size")
    values_or_size(a, "flatnonzero")
    value = concrete_index(operand(a))
    return array_module(value).flatnonzero(value)


def lexsort(keys: ArrayLike | Sequence[ArrayLike], axis: int = -1) -> Array:
    """The indices that sort by several keys, the last key primary, as ``numpy.lexsort``
    (stable: ties keep their order). No derivative. Works on traced keys: one stable sort per
    key, from the least significant.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.lexsort([fnp.array([3.0, 1.0, 2.0]), fnp.array([1.0, 0.0, 1.0])]).tolist()
        [1, 2, 0]
    """
    arrays = [as_array(k) for k in numbers_beside(keys)] if isinstance(keys, (list, tuple)) else \
        [as_array(keys)[i] for i in range(as_array(keys).shape[0])]
    if not arrays:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    if not any_tracer(*arrays):
        return array_module(arrays[0]).lexsort(array_module(arrays[0]).stack(arrays), axis=axis)
    if not arrays[0].shape:
        raise ValueError("lexsort of traced keys takes keys of at least one dimension")
    ax = axis % len(arrays[0].shape)
    order = _sorting.argsort(arrays[0], ax)
    for key in arrays[1:]:
        step = _sorting.argsort(take_along_axis(key, order, ax), ax)
        order = take_along_axis(order, step, ax)
    return order


def sort_complex(a: ArrayLike) -> Array:
    """The entries sorted by real part, then imaginary part, as a complex array, as
    ``numpy.sort_complex``. Each entry keeps its derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.sort_complex(fnp.array([1 + 2j, 1 - 1j, 0 + 5j])).tolist()
        [5j, (1-1j), (1+2j)]
    """
    a = as_array(a)
    if not any_tracer(a):
        return array_module(a).sort_complex(a)
    if a.dtype.kind == "c":
        order = lexsort([_ew.imag(a), _ew.real(a)])
    else:
        order = lexsort([a])
    out = take_along_axis(a, order, -1)
    if out.dtype.kind != "c":  # NumPy's choice: complex64 for small integers, complex128 otherwise
        out = convert_element_type(out, new_dtype=np.complex64 if out.dtype.char in "bhBH" else np.complex128)
    return out
