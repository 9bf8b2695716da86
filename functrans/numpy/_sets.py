"""NumPy's set routines on arrays: the unique variants of the array API, union, intersection,
differences and membership. The values they return are entries of their inputs and carry
those entries' derivatives; which entries they are (and so the result's shape) is read from
concrete values, so under ``jit`` and ``vmap`` they raise an error that says so, except
``isin``, whose result has the shape of its first argument."""
from __future__ import annotations

from typing import Literal, NamedTuple, cast

import numpy as np

from functrans import errors
from functrans.backend import array_module
from functrans.core.trace import Tracer
from functrans.numpy._indexing import take
from functrans.numpy._joining import concatenate
from functrans.numpy._reductions import any as _any
from functrans.numpy._shape import expand_dims, ravel
from functrans.numpy._sorting import unique
from functrans.numpy._util import any_tracer, as_array, host_values, pair_beside, placed_like
from functrans.primitives import elementwise as _ew
from functrans.typing import Array, ArrayLike


class UniqueAllResult(NamedTuple):
    """``unique_all``'s result: the values, the index of each one's first occurrence, the
    inverse indices (of the input's shape) and the counts."""

    values: Array
    indices: Array
    inverse_indices: Array
    counts: Array


class UniqueCountsResult(NamedTuple):
    """``unique_counts``'s result: the values and how often each occurs."""

    values: Array
    counts: Array


class UniqueInverseResult(NamedTuple):
    """``unique_inverse``'s result: the values and the inverse indices (of the input's shape)."""

    values: Array
    inverse_indices: Array


def _values(a: Array, name: str) -> np.ndarray:
    """The host values of ``a``, whose values decide the shape of ``name``'s result."""
    if isinstance(a, Tracer):
        try:
            a.to_concrete()
        except errors.TracerConversionError:
            raise errors.UnsupportedError(
                f"fnp.{name} needs the values of its arguments: they decide the length of its "
                "result, which jit and vmap must know before any value exists. Call it outside "
                "jit and vmap (for example on the data before the jitted step), or use fnp.isin "
                "for a mask of the input's shape.") from None
    return host_values(a)


def unique_values(x: ArrayLike, /, *, size: int | None = None, fill_value: ArrayLike | None = None) -> Array:
    """The unique entries of the flattened ``x``, sorted (the array API's ``unique_values``).
    Each value carries the derivative of its first occurrence. ``size`` and ``fill_value``
    are ``unique``'s, as in JAX: under ``jit`` and ``vmap``, the first ``size`` values, padded.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.unique_values(fnp.array([3.0, 1.0, 3.0])).tolist()
        [1.0, 3.0]
        >>> fnp.unique_values(fnp.array([3.0, 1.0, 3.0]), size=3, fill_value=0.0).tolist()
        [1.0, 3.0, 0.0]
    """
    return unique(x, equal_nan=False, size=size, fill_value=fill_value)


def unique_counts(x: ArrayLike, /, *, size: int | None = None,
                  fill_value: ArrayLike | None = None) -> UniqueCountsResult:
    """The unique entries of the flattened ``x`` and how often each occurs. ``size`` and
    ``fill_value`` are ``unique``'s (padding counts are 0), as in JAX.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.unique_counts(fnp.array([3.0, 1.0, 3.0])).counts.tolist()
        [1, 2]
    """
    return UniqueCountsResult(*unique(x, return_counts=True, equal_nan=False, size=size, fill_value=fill_value))


def unique_inverse(x: ArrayLike, /, *, size: int | None = None,
                   fill_value: ArrayLike | None = None) -> UniqueInverseResult:
    """The unique entries of the flattened ``x`` and, for each entry of ``x``, the position
    of its value among them (an array of ``x``'s shape). ``size`` and ``fill_value`` are
    ``unique``'s, as in JAX.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.unique_inverse(fnp.array([3.0, 1.0, 3.0])).inverse_indices.tolist()
        [1, 0, 1]
    """
    values, inverse = unique(x, return_inverse=True, equal_nan=False, size=size, fill_value=fill_value)
    return UniqueInverseResult(values, inverse)


def unique_all(x: ArrayLike, /, *, size: int | None = None,
               fill_value: ArrayLike | None = None) -> UniqueAllResult:
    """The unique entries of the flattened ``x`` with their first indices, the inverse
    indices (of ``x``'s shape) and the counts. ``size`` and ``fill_value`` are ``unique``'s,
    as in JAX.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.unique_all(fnp.array([3.0, 1.0, 3.0])).indices.tolist()
        [1, 0]
    """
    return UniqueAllResult(*unique(x, return_index=True, return_inverse=True, return_counts=True,
                                   equal_nan=False, size=size, fill_value=fill_value))


def union1d(ar1: ArrayLike, ar2: ArrayLike, *, size: int | None = None,
            fill_value: ArrayLike | None = None) -> Array:
    """The sorted unique values of both arrays (flattened). A value present in both takes its
    derivative from its first occurrence in ``ar1``. ``size`` and ``fill_value`` are
    ``unique``'s (traced arrays need ``size``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.union1d(fnp.array([3.0, 1.0]), fnp.array([2.0, 3.0])).tolist()
        [1.0, 2.0, 3.0]
    """
    ar1, ar2 = pair_beside(ar1, ar2)
    both = concatenate([ravel(as_array(ar1)), ravel(as_array(ar2))])
    return cast(Array, unique(both, size=size, fill_value=fill_value))


def intersect1d(ar1: ArrayLike, ar2: ArrayLike, assume_unique: bool = False,
                return_indices: bool = False) -> Array | tuple[Array, Array, Array]:
    """The sorted unique values found in both arrays (flattened); with ``return_indices``,
    also the index of each in the flattened ``ar1`` and ``ar2`` (first occurrences). The
    values carry ``ar1``'s derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.intersect1d(fnp.array([3.0, 1.0, 2.0]), fnp.array([2.0, 3.0, 5.0])).tolist()
        [2.0, 3.0]
    """
    ar1, ar2 = pair_beside(ar1, ar2)
    a, b = as_array(ar1), as_array(ar2)
    if not any_tracer(a, b):
        return array_module(a).intersect1d(a, b, assume_unique, return_indices)
    # host-data: which entries are common decides the result's length
    _, i1, i2 = np.intersect1d(_values(a, "intersect1d"), _values(b, "intersect1d"), assume_unique, True)
    values = take(ravel(a), placed_like(i1, a))
    if not return_indices:
        return values
    return values, placed_like(i1, a), placed_like(i2, b)


def setdiff1d(ar1: ArrayLike, ar2: ArrayLike, assume_unique: bool = False) -> Array:
    """The values of ``ar1`` not in ``ar2``: unique and sorted, or, with ``assume_unique``,
    in ``ar1``'s order. They carry ``ar1``'s derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.setdiff1d(fnp.array([3.0, 1.0, 2.0]), fnp.array([2.0])).tolist()
        [1.0, 3.0]
    """
    ar1, ar2 = pair_beside(ar1, ar2)
    a, b = as_array(ar1), as_array(ar2)
    if not any_tracer(a, b):
        return array_module(a).setdiff1d(a, b, assume_unique)
    va, vb = _values(a, "setdiff1d").ravel(), _values(b, "setdiff1d")
    if assume_unique:
        index = np.flatnonzero(~np.isin(va, vb))  # host-data: positions decide the length
    else:
        # host-data: positions decide the length
        uniques, first = np.unique(va, return_index=True)
        index = first[~np.isin(uniques, vb)]  # host-data: as above
    return take(ravel(a), placed_like(index, a))


def setxor1d(ar1: ArrayLike, ar2: ArrayLike, assume_unique: bool = False) -> Array:
    """The sorted unique values found in exactly one of the arrays (flattened); each carries
    the derivative of its first occurrence in the array that holds it.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.setxor1d(fnp.array([3.0, 1.0]), fnp.array([2.0, 3.0])).tolist()
        [1.0, 2.0]
    """
    ar1, ar2 = pair_beside(ar1, ar2)
    a, b = as_array(ar1), as_array(ar2)
    if not any_tracer(a, b):
        return array_module(a).setxor1d(a, b, assume_unique)
    both = concatenate([ravel(a), ravel(b)])
    # host-data: positions decide the length
    values = np.concatenate([_values(a, "setxor1d").ravel(), _values(b, "setxor1d").ravel()])
    uniques, first, counts = np.unique(values, return_index=True, return_counts=True)  # host-data: as above
    if assume_unique:
        return take(both, placed_like(first[counts == 1], both))
    n_a = _values(a, "setxor1d").size
    # host-data: positions decide the length
    in_a, in_b = np.isin(uniques, values[:n_a]), np.isin(uniques, values[n_a:])
    return take(both, placed_like(first[in_a != in_b], both))


def isin(element: ArrayLike, test_elements: ArrayLike, assume_unique: bool = False, invert: bool = False, *,
         kind: Literal["sort", "table"] | None = None) -> Array:
    """A boolean array of ``element``'s shape: which of its entries occur in
    ``test_elements``. No derivative. The result's shape is known without values, so it works
    under ``jit`` and ``vmap`` (by comparing every pair of entries).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isin(fnp.array([1.0, 2.0, 4.0]), fnp.array([4.0, 1.0])).tolist()
        [True, False, True]
    """
    element, test_elements = pair_beside(element, test_elements)
    e, t = as_array(element), as_array(test_elements)
    if not any_tracer(e, t):
        if type(e) is np.ndarray:  # NumPy takes kind=
            return np.isin(e, t, assume_unique, invert, kind=kind)  # numpy-only: by the check above
        return array_module(e).isin(e, t, assume_unique, invert)
    found = _any(_ew.eq(expand_dims(e, -1), ravel(t)), axis=-1)
    return _ew.logical_not(found) if invert else found
