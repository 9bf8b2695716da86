"""SciPy's descriptive statistics that JAX offers: ``rankdata``, ``mode`` and ``sem``. Ranks
and modes come from one stable sort and two searches of it per slice (static shapes, so jit
and vmap take them as they are); ``sem`` is a standard deviation, differentiable."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

import functrans.numpy as fnp
from functrans.api import vmap
from functrans.numpy._util import operand
from functrans.typing import Array, ArrayLike

__all__ = ["ModeResult", "mode", "rankdata", "sem"]

_RANK_METHODS = ("average", "min", "max", "dense", "ordinal")


def _nan_policy(policy: str, name: str, allowed: tuple[str, ...]) -> None:
    if policy not in ("propagate", "omit", "raise"):
        raise ValueError(f"{name}: nan_policy must be 'propagate', 'omit' or 'raise', got {policy!r}")
    if policy not in allowed:
        raise NotImplementedError(
            f"{name}: nan_policy={policy!r} is not offered (it would make the result's shape or the "
            f"control flow depend on values, which jit cannot follow): use nan_policy='propagate' and "
            f"check for nan with functrans.numpy.isnan before the call")


def _at_least_1d(a: ArrayLike) -> Array:
    x = fnp.asarray(operand(a))
    return fnp.reshape(x, (1,)) if len(x.shape) == 0 else x


def _as_slices(x: Array, axis: int | None) -> tuple[Array, tuple[int, ...], int | None]:
    """``x`` as rows (the axis last, every other axis flattened in front), the shape of the
    other axes, and the canonical axis (None: the whole array is one row)."""
    if axis is None:
        return fnp.reshape(x, (1, -1)), (), None
    ndim = max(len(x.shape), 1)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array of {len(x.shape)} dimensions")
    axis = axis % ndim
    x = fnp.moveaxis(_at_least_1d(x), axis, -1)
    outer = tuple(x.shape[:-1])
    return fnp.reshape(x, (math.prod(outer), x.shape[-1])), outer, axis


def _ranks(row: Array, method: str) -> Array:
    # One stable sort: the order, and where each entry lands in it (the inverse permutation,
    # written by a scatter rather than a second sort)
    order = fnp.argsort(row, stable=True)
    ordered = row[order]
    n = row.shape[0]
    position = fnp.at(fnp.zeros(n, dtype=order.dtype, like=row))[order].set(fnp.arange(n, dtype=order.dtype, like=row))
    if method == "ordinal":
        ranks = position + 1
    elif method == "dense":
        new = fnp.concatenate([fnp.ones(1, dtype=bool, like=row), ordered[1:] != ordered[:-1]])
        ranks = fnp.cumsum(new)[position]
    else:
        below = fnp.searchsorted(ordered, row, side="left")  # entries less than each: min rank - 1
        upto = fnp.searchsorted(ordered, row, side="right")  # entries at most each: the max rank
        ranks = {"min": below + 1, "max": upto, "average": (below + 1 + upto) / 2.0}[method]
    ranks = fnp.astype(ranks, np.float64)
    return fnp.where(fnp.any(fnp.isnan(row)), fnp.nan, ranks) if row.dtype.kind == "f" else ranks


def rankdata(a: ArrayLike, method: str = "average", *, axis: int | None = None,
             nan_policy: str = "propagate") -> Array:
    """The ranks (from 1) of the entries of ``a``, over the whole array or along ``axis``.

    Ties take the mean of the ranks they span (``method='average'``), the least (``'min'``),
    the greatest (``'max'``), consecutive ranks by value (``'dense'``) or ranks in order of
    appearance (``'ordinal'``). As JAX's, the result is float64 for every method (SciPy's is
    an integer for all but ``'average'``), and a slice holding ``nan`` is all ``nan``. Ranks
    are piecewise constant: their derivative is zero.

    Example:
        >>> from functrans.scipy import stats
        >>> stats.rankdata([3.0, 1.0, 1.0, 2.0]).tolist()
        [4.0, 1.5, 1.5, 3.0]
    """
    _nan_policy(nan_policy, "rankdata", ("propagate",))
    if method not in _RANK_METHODS:
        raise ValueError(f"rankdata: method must be one of {_RANK_METHODS}, got {method!r}")
    x = _at_least_1d(a)
    if x.size == 0:
        return fnp.astype(fnp.reshape(x, (-1,)) if axis is None else x, np.float64)
    rows, outer, axis = _as_slices(x, axis)
    ranks = vmap(lambda row: _ranks(row, method))(rows)
    if axis is None:
        return fnp.reshape(ranks, (-1,))
    return fnp.moveaxis(fnp.reshape(ranks, (*outer, rows.shape[-1])), -1, axis)


class ModeResult(NamedTuple):
    """``mode``'s result: the most frequent values and how often each occurs."""

    mode: Array
    count: Array


def _mode_of_row(row: Array) -> tuple[Array, Array]:
    ordered = fnp.sort(row)
    counts = fnp.searchsorted(ordered, ordered, side="right") - fnp.searchsorted(ordered, ordered, side="left")
    first = fnp.argmax(counts)  # the first of the most frequent in sorted order: the least value
    return ordered[first], counts[first]


def mode(a: ArrayLike, axis: int | None = 0, nan_policy: str = "propagate", keepdims: bool = False) -> ModeResult:
    """The most frequent value along ``axis`` (over the whole array for None), the least of
    them on a tie, and its count. ``nan`` counts as one value, as in SciPy.

    Example:
        >>> from functrans.scipy import stats
        >>> m = stats.mode([3, 1, 3, 1, 2])
        >>> int(m.mode), int(m.count)
        (1, 2)
    """
    _nan_policy(nan_policy, "mode", ("propagate",))
    x = _at_least_1d(a)
    rows, outer, canonical = _as_slices(x, axis)
    shape = outer if canonical is not None else ()
    if keepdims:
        shape = tuple(1 for _ in x.shape) if canonical is None else \
            tuple(1 if i == canonical else s for i, s in enumerate(x.shape))
    if rows.shape[-1] == 0:
        return ModeResult(fnp.full(shape, fnp.nan, like=x), fnp.zeros(shape, dtype=np.int64, like=x))
    values, counts = vmap(_mode_of_row)(rows)
    return ModeResult(fnp.reshape(values, shape), fnp.reshape(counts, shape))


def sem(a: ArrayLike, axis: int | None = 0, ddof: int = 1, nan_policy: str = "propagate", *,
        keepdims: bool = False) -> Array:
    """The standard error of the mean along ``axis`` (the whole array for None):
    ``std(a, ddof=ddof) / sqrt(n)``; ``nan_policy='omit'`` leaves ``nan`` entries out of both.
    Differentiable in ``a``.

    Example:
        >>> from functrans.scipy import stats
        >>> round(float(stats.sem([1.0, 2.0, 3.0, 4.0])), 12)
        0.645497224368
    """
    _nan_policy(nan_policy, "sem", ("propagate", "omit"))
    x = _at_least_1d(a)
    x = x if x.dtype.kind in "fc" else fnp.astype(x, np.float64)
    if axis is not None:
        ndim = max(len(x.shape), 1)
        if not -ndim <= axis < ndim:
            raise ValueError(f"sem: axis {axis} is out of bounds for an array of {len(x.shape)} dimensions")
    if nan_policy == "omit":
        count = fnp.sum(fnp.logical_not(fnp.isnan(x)), axis=axis, keepdims=keepdims)
        return fnp.nanstd(x, axis=axis, ddof=ddof, keepdims=keepdims) / fnp.sqrt(fnp.astype(count, x.dtype))
    size = x.size if axis is None else x.shape[axis]
    return fnp.std(x, axis=axis, ddof=ddof, keepdims=keepdims) / math.sqrt(size)
