"""Statistics with NumPy's names: means, variances and standard deviations (also ignoring
NaN), weighted averages, ranges, and order statistics (median, quantiles, percentiles).

Integers are averaged in float64, as in NumPy. Order statistics sort the data: each quantile's
derivative flows to the one or two entries it interpolates.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans._abstract import shape_of
from functrans.api import custom_jvp
from functrans.backend import array_module
from functrans.numpy._indexing import take, take_along_axis
from functrans.numpy._joining import concatenate
from functrans.numpy._products import matmul
from functrans.numpy._reductions import boolean_mask, max, min, nansum, sum
from functrans.numpy._shape import atleast_2d, transpose
from functrans.numpy._sorting import sort
from functrans.numpy._util import (
    any_tracer,
    as_array,
    host_values,
    in_dtype,
    inexact,
    keep_dims,
    normalize_axes,
    normalize_axis,
    number_beside,
    placed_like,
    plain_module,
    reduction_operand,
    refuse_out,
)
from functrans.primitives import elementwise as _ew
from functrans.primitives import reduction as _red
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.primitives.elementwise import ceil, floor, isnan, logical_not, rint
from functrans.typing import Array, ArrayLike, DType, Shape

# --- means and spreads ---------------------------------------------------------------------------


def _count(shape: Shape, axes: Sequence[int]) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def mean(a: ArrayLike, axis: int | Sequence[int] | None = None, dtype: DType | None = None,
         keepdims: bool = False, *, out: None = None, where: ArrayLike | None = None) -> Array:
    """Arithmetic mean over ``axis``, of the entries where ``where`` (a boolean mask broadcast
    against ``a``) is true. Integers are averaged in float64, as in NumPy.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.mean(fnp.array([1.0, 2.0, 3.0])))
        2.0
        >>> float(fnp.mean(fnp.array([1.0, 2.0, 9.0]), where=fnp.array([True, True, False])))
        1.5
    """
    refuse_out("mean", out)
    xp = plain_module(a)
    if xp is not None:
        if where is None:
            return xp.mean(a, axis=axis, dtype=dtype, keepdims=keepdims)
        if not any_tracer(where):
            return xp.mean(a, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    a, axes = reduction_operand(a, axis, dtype)
    if a.dtype.kind not in "fc":
        a = convert_element_type(a, new_dtype=np.float64)
    if where is not None:
        total = sum(a, axes, keepdims=keepdims, where=where)
        return in_dtype(_ew.div(total, _masked_count(a, axes, where, keepdims)), dtype)
    total = _red.reduce_sum(a, axes)
    return in_dtype(keep_dims(_ew.div(total, _count(a.shape, axes)), a.shape, axes, keepdims), dtype)




def _masked_count(a: Array, axes: tuple[int, ...], where: ArrayLike, keepdims: bool) -> Array:
    """How many entries of ``a`` over ``axes`` the mask ``where`` keeps, in ``a``'s real dtype."""
    where = boolean_mask(where)
    ones = _shape.broadcast_to(convert_element_type(where, new_dtype=np.finfo(a.dtype).dtype), tuple(a.shape))
    return sum(ones, axes, keepdims=keepdims)


def var(a: ArrayLike, axis: int | Sequence[int] | None = None, dtype: DType | None = None, ddof: float = 0,
        keepdims: bool = False, *, out: None = None, where: ArrayLike | None = None,
        mean: ArrayLike | None = None, correction: float | None = None) -> Array:
    """Variance over ``axis``, ``sum((a - mean)**2) / (n - ddof)``, of the entries where
    ``where`` (a boolean mask broadcast against ``a``) is true. ``correction`` is NumPy 2's
    and JAX's other name for ``ddof``; ``mean`` (NumPy 2's and JAX's), if given, is used
    instead of computing it, shaped as with ``keepdims=True`` (and differentiated as given).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.var(fnp.array([1.0, 3.0])))
        1.0
        >>> float(fnp.var(fnp.array([1.0, 3.0]), mean=fnp.array([1.0])))  # ((1-1)**2 + (3-1)**2) / 2
        2.0
    """
    refuse_out("var", out)
    ddof = _ddof(ddof, correction)
    xp = plain_module(a)
    if xp is not None and (mean is None or plain_module(mean) is xp):
        extra = {} if mean is None else {"mean": mean}
        if where is None:
            return xp.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **extra)
        if not any_tracer(where):
            return xp.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where,
                          **extra)
    a, axes = reduction_operand(a, axis, dtype)
    if a.dtype.kind not in "fc":
        a = convert_element_type(a, new_dtype=np.float64)
    if where is not None:
        return _masked_var(a, axes, ddof, keepdims, where, mean)
    centered = _ew.sub(a, _mean_of(a, axes, mean))
    if a.dtype.kind == "c":
        squares = _ew.real(_ew.mul(centered, _ew.conj(centered)))
    else:
        squares = _ew.integer_pow(centered, 2)
    total = _red.reduce_sum(squares, axes)
    return keep_dims(_ew.div(total, _count(a.shape, axes) - ddof), a.shape, axes, keepdims)


def std(a: ArrayLike, axis: int | Sequence[int] | None = None, dtype: DType | None = None, ddof: float = 0,
        keepdims: bool = False, *, out: None = None, where: ArrayLike | None = None,
        mean: ArrayLike | None = None, correction: float | None = None) -> Array:
    """Standard deviation over ``axis``: ``sqrt(var(a, axis, ddof=ddof, where=where,
    mean=mean))``; ``correction`` is another name for ``ddof``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.std(fnp.array([1.0, 3.0])))
        1.0
    """
    refuse_out("std", out)
    ddof = _ddof(ddof, correction)
    xp = plain_module(a)
    if xp is not None and (mean is None or plain_module(mean) is xp):
        extra = {} if mean is None else {"mean": mean}
        if where is None:
            return xp.std(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **extra)
        if not any_tracer(where):
            return xp.std(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where,
                          **extra)
    return _sqrt_of_variance(var(a, axis, dtype, ddof, keepdims, where=where, mean=mean))


def _mean_of(a: Array, axes: tuple[int, ...], given: ArrayLike | None,
             where: ArrayLike | None = None) -> Array:
    """The mean ``var`` centres on: the caller's (checked to broadcast as with keepdims) or
    the computed one."""
    if given is None:
        return mean(a, axes, keepdims=True, where=where)
    kept = tuple(1 if d in axes else n for d, n in enumerate(a.shape))
    centre = as_array(given)
    if not _broadcasts(tuple(centre.shape), kept):
        raise ValueError(f"var/std: mean must have the shape of the mean with keepdims=True, "
                         f"{kept} (or broadcast to it), got {tuple(centre.shape)}")
    return centre


def _broadcasts(src: tuple[int, ...], dst: tuple[int, ...]) -> bool:
    return len(src) <= len(dst) and all(s in (1, d) for s, d in zip(reversed(src), reversed(dst)))


def _masked_var(a: Array, axes: tuple[int, ...], ddof: float, keepdims: bool, where: ArrayLike,
                given_mean: ArrayLike | None = None) -> Array:
    # The deviations outside the mask are zeroed before they are squared: there an entry may
    # be inf or nan, and a zero cotangent times it would be nan.
    where = boolean_mask(where)
    centered = _ew.select(where, _ew.sub(a, _mean_of(a, axes, given_mean, where)), 0.0)
    if a.dtype.kind == "c":
        squares = _ew.real(_ew.mul(centered, _ew.conj(centered)))
    else:
        squares = _ew.mul(centered, centered)
    total = sum(squares, axes, keepdims=keepdims)
    return _ew.div(total, _ew.sub(_masked_count(a, axes, where, keepdims), ddof))


@custom_jvp
def _sqrt_of_variance(v: Array) -> Array:
    """``sqrt(v)`` for a variance ``v``. Where ``v`` is 0 (a constant slice, or one element)
    every deviation is 0 and so is the variance's tangent; the derivative is then taken as 0,
    as the Euclidean norm's is at 0, instead of sqrt's 0 * inf = nan."""
    return _ew.sqrt(v)


@_sqrt_of_variance.defjvp
def _sqrt_of_variance_jvp(primals: tuple[Array, ...], tangents: tuple[Array, ...]) -> tuple[Array, Array]:
    (v,), (t,) = primals, tangents
    out = _sqrt_of_variance(v)  # so that higher orders use this rule too
    at_zero = _ew.eq(out, 0)
    return out, _ew.select(at_zero, 0.0, _ew.div(t, _ew.mul(2.0, _ew.select(at_zero, 1.0, out))))


def nanmean(a: ArrayLike, axis: int | Sequence[int] | None = None, dtype: DType | None = None,
            keepdims: bool = False, *, out: None = None, where: ArrayLike | None = None) -> Array:
    """Mean of the entries that are not NaN (NaN where all are), among those where ``where``
    (a boolean mask broadcast against ``a``) is true.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanmean(fnp.array([1.0, fnp.nan, 3.0])))
        2.0
    """
    refuse_out("nanmean", out)
    a = inexact(a)
    if dtype is not None:
        a = convert_element_type(a, new_dtype=dtype)
    present = logical_not(isnan(a))
    count = sum(present, axis, keepdims=keepdims, where=where)
    return _ew.div(nansum(a, axis, keepdims=keepdims, where=where), convert_element_type(count, new_dtype=a.dtype))


def nanvar(a: ArrayLike, axis: int | Sequence[int] | None = None, dtype: DType | None = None, ddof: float = 0,
           keepdims: bool = False, *, out: None = None,
           where: ArrayLike | None = None, correction: float | None = None) -> Array:
    """Variance of the entries that are not NaN (among those where ``where`` is true).
    ``correction`` is NumPy 2's other name for ``ddof``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanvar(fnp.array([1.0, fnp.nan, 3.0])))
        1.0
    """
    refuse_out("nanvar", out)
    a = inexact(a)
    if dtype is not None:
        a = convert_element_type(a, new_dtype=dtype)
    ddof = _ddof(ddof, correction)
    nan = isnan(a)
    if where is not None:
        nan = _ew.logical_or(nan, logical_not(boolean_mask(where)))  # (left out as NaN entries are)
    # NaN entries are zeroed before the squares, not after: a zero cotangent times a NaN
    # deviation would be NaN, and reach every entry of the slice through the mean.
    centered = _ew.select(nan, 0.0, _ew.sub(a, nanmean(a, axis, keepdims=True, where=where)))
    squares = _ew.real(_ew.mul(centered, _ew.conj(centered))) if a.dtype.kind == "c" else \
        _ew.mul(centered, centered)
    total = sum(squares, axis, keepdims=keepdims)
    count = sum(logical_not(nan), axis, keepdims=keepdims)
    return _ew.div(total, convert_element_type(_ew.sub(count, ddof), new_dtype=total.dtype))


def nanstd(a: ArrayLike, axis: int | Sequence[int] | None = None, dtype: DType | None = None, ddof: float = 0,
           keepdims: bool = False, *, out: None = None,
           where: ArrayLike | None = None, correction: float | None = None) -> Array:
    """Standard deviation of the entries that are not NaN (among those where ``where`` is
    true). ``correction`` is NumPy 2's other name for ``ddof``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanstd(fnp.array([1.0, fnp.nan, 3.0])))
        1.0
    """
    refuse_out("nanstd", out)
    return _sqrt_of_variance(nanvar(a, axis, dtype, ddof, keepdims, where=where, correction=correction))


def _ddof(ddof: float, correction: float | None) -> float:
    """The degrees of freedom subtracted, given as ``ddof`` or as NumPy 2's ``correction``."""
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError("var and std got both ddof and correction, two names of one number: pass one")
    return correction


def average(a: ArrayLike, axis: int | Sequence[int] | None = None, weights: ArrayLike | None = None,
            returned: bool = False, *, keepdims: bool = False) -> Array | tuple[Array, Array]:
    """Weighted average ``sum(a * w) / sum(w)`` over ``axis``; 1-D ``weights`` lie along
    ``axis``. Differentiable in ``a`` and in ``weights``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.average(fnp.array([1.0, 3.0]), weights=fnp.array([3.0, 1.0])))
        1.5
    """
    a = as_array(a)
    if weights is None:
        out = mean(a, axis, keepdims=keepdims)
        if not returned:
            return out
        axes = normalize_axes(axis, len(a.shape))
        count = math.prod(a.shape[i] for i in axes)
        # host-data: made on the host, placed on the operand's device
        return out, placed_like(np.full(shape_of(out), count, dtype=out.dtype), out)
    w = number_beside(weights, a)
    nd = len(a.shape)
    if w.shape != a.shape:
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        if len(w.shape) != 1:
            raise TypeError("1D weights expected when shapes of a and weights differ.")
        if isinstance(axis, Sequence):
            raise TypeError("Axis must be one axis (an int) when shapes of a and weights differ.")
        ax = normalize_axis(axis, nd)
        if w.shape[0] != a.shape[ax]:
            raise ValueError("Length of weights not compatible with specified axis.")
        w = _shape.broadcast_in_dim(w, a.shape, (ax,))
    a = inexact(a)
    scale = sum(w, axis, keepdims=keepdims)
    scale = _shape.broadcast_to(scale, shape_of(sum(a, axis, keepdims=keepdims)))
    out = _ew.div(sum(_ew.mul(a, w), axis, keepdims=keepdims), scale)
    if returned:
        return out, convert_element_type(scale, new_dtype=out.dtype)
    return out


def ptp(a: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Array:
    """Range of values (maximum minus minimum) over ``axis``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.ptp(fnp.array([4.0, 1.0, 3.0])))
        3.0
    """
    return _ew.sub(max(a, axis, keepdims), min(a, axis, keepdims))


# --- order statistics ----------------------------------------------------------------------------


# NumPy's methods that pick or interpolate sorted entries by position q * (n - 1) (the
# discontinuous Hyndman-Fan estimators other than 'nearest' are not here).
_QUANTILE_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def quantile(a: ArrayLike, q: ArrayLike, axis: int | Sequence[int] | None = None, out: None = None,
             overwrite_input: bool = False, method: str = "linear", keepdims: bool = False) -> Array:
    """The ``q``-th quantiles (``q`` in [0, 1], a scalar or an array) over ``axis``, by
    linear interpolation between the sorted values (``method``: also ``'lower'``,
    ``'higher'``, ``'nearest'``, ``'midpoint'``, as in NumPy). The derivative flows to the one
    or two entries each quantile uses (tied entries: to the ones the stable sort puts there).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.quantile(fnp.array([1.0, 2.0, 3.0, 4.0]), 0.5))
        2.5
    """
    refuse_out("quantile", out)
    if method not in _QUANTILE_METHODS:
        raise NotImplementedError(
            f"functrans.numpy.quantile: method={method!r} is not supported; use one of "
            f"{', '.join(map(repr, _QUANTILE_METHODS))}")
    a = as_array(a)
    q_arr = host_values(q).astype(np.float64)  # the output's shape and positions depend on q
    if np.any((q_arr < 0) | (q_arr > 1)):  # host-data: host values (parameters, lists, host_values)
        raise ValueError("Quantiles must be in the range [0, 1]")
    if not any_tracer(a):
        if type(a) is not np.ndarray and not isinstance(q, (int, float)):
            q = placed_like(q_arr, a)  # an array of quantiles where a lives (CuPy takes no host array)
        return array_module(a).quantile(a, q, axis=axis, keepdims=keepdims, method=method)
    a = inexact(a)
    nd = len(a.shape)
    axes = normalize_axes(axis, nd)
    kept = tuple(d for d in range(nd) if d not in axes)
    rows = _shape.transpose(a, kept + axes)
    n = math.prod(a.shape[d] for d in axes)
    rows = _shape.reshape(rows, tuple(a.shape[d] for d in kept) + (n,))
    s = sort(rows, axis=-1)
    position = q_arr * (n - 1)
    if method in ("lower", "higher", "nearest"):
        roundings: dict[str, Callable[[np.ndarray], np.ndarray]] = {
            "lower": np.floor, "higher": np.ceil, "nearest": np.around}
        rounding = roundings[method]
        result = take(s, rounding(position).astype(np.intp), axis=-1)  # kept + q.shape
    else:
        lo = np.floor(position).astype(np.intp)  # host-data: host values (parameters, lists, host_values)
        hi = np.minimum(lo + 1, n - 1)  # host-data: host values (parameters, lists, host_values)
        frac = position - lo  # float64, as NumPy's interpolation weights
        if method == "midpoint":  # halfway between neighbours, unless the position is one
            frac = np.where(frac == 0, 0.0, 0.5)  # host-data: host values (parameters, lists, host_values)
        if type(frac) is np.ndarray:  # weights of an array of quantiles: where the data lives
            frac = placed_like(frac, s)
        below = take(s, lo, axis=-1)  # kept + q.shape
        above = take(s, hi, axis=-1)
        gap = _ew.sub(above, below)
        # NumPy's two-sided linear interpolation (from the nearer end), for identical values
        result = _ew.select(frac >= 0.5, _ew.sub(above, _ew.mul(gap, 1 - frac)),
                            _ew.add(below, _ew.mul(gap, frac)))
    weak_q = q if isinstance(q, (int, float)) else q_arr.dtype  # a Python float does not widen
    result = convert_element_type(result, new_dtype=np.result_type(a.dtype, weak_q))
    k = len(kept)
    qn = q_arr.ndim
    result = _shape.transpose(result, tuple(range(k, k + qn)) + tuple(range(k)))
    if keepdims:
        shape = q_arr.shape + tuple(1 if d in axes else a.shape[d] for d in range(nd))
        result = _shape.reshape(result, shape)
    return result


def percentile(a: ArrayLike, q: ArrayLike, axis: int | Sequence[int] | None = None, out: None = None,
               overwrite_input: bool = False, method: str = "linear", keepdims: bool = False) -> Array:
    """The ``q``-th percentiles (``q`` in [0, 100]) over ``axis``; see ``quantile``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.percentile(fnp.array([1.0, 2.0, 3.0]), 50))
        2.0
    """
    # A Python number stays one, so that it does not promote float32 data to float64 (as NumPy)
    refuse_out("percentile", out)
    q = q / 100 if type(q) in (int, float) else host_values(q).astype(np.float64) / 100  # host-data: q
    return quantile(a, q, axis, out, overwrite_input, method, keepdims)


def median(a: ArrayLike, axis: int | Sequence[int] | None = None, out: None = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Array:
    """The median over ``axis`` (the mean of the two middle values for an even count).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> float(fnp.median(fnp.array([3.0, 1.0, 2.0])))
        2.0
        >>> ft.grad(fnp.median)(fnp.array([4.0, 1.0, 3.0, 2.0])).tolist()
        [0.0, 0.0, 0.5, 0.5]
    """
    refuse_out("median", out)
    a = as_array(a)
    if not any_tracer(a):
        return array_module(a).median(a, axis=axis, keepdims=keepdims)
    return quantile(a, 0.5, axis, out, overwrite_input, keepdims=keepdims)


# --- covariance and correlation ------------------------------------------------------------------


def cov(m: ArrayLike, y: ArrayLike | None = None, rowvar: bool = True, bias: bool = False,
        ddof: int | None = None, fweights: ArrayLike | None = None, aweights: ArrayLike | None = None, *,
        dtype: DType | None = None) -> Array:
    """The covariance matrix of the variables in the rows of ``m`` (columns when ``rowvar``
    is False), with ``y``'s variables appended, as ``numpy.cov``: normalised by ``N - 1``
    (``N`` with ``bias``, ``N - ddof`` with ``ddof``), with optional integer frequency weights
    and observation weights. Differentiable in the data and the observation weights.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.cov(fnp.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
    """
    X: Any = atleast_2d(as_array(m))
    if len(X.shape) > 2:
        raise ValueError("m has more than 2 dimensions")
    if not rowvar and X.shape[0] != 1:
        X = transpose(X)
    if y is not None:
        Y: Any = atleast_2d(number_beside(y, X))
        if not rowvar and Y.shape[0] != 1:
            Y = transpose(Y)
        X = concatenate([X, Y], axis=0)
    # NumPy computes in at least float64 (or the dtype asked for)
    work = np.result_type(X.dtype, np.float64) if dtype is None else np.dtype(dtype)  # host-metadata: dtypes
    if X.dtype != work:
        X = convert_element_type(X, new_dtype=work)
    if ddof is None:
        ddof = 0 if bias else 1
    w: Any = None
    if fweights is not None:
        w = as_array(fweights)
        if w.dtype.kind not in "iub":
            raise TypeError("fweights must be integer")
    if aweights is not None:
        aw = as_array(aweights)
        w = aw if w is None else _ew.mul(w, aw)
    n = X.shape[1]
    if w is None:
        avg = mean(X, axis=1)
        fact: Any = n - ddof
    else:
        w_sum = sum(w)
        avg = _ew.div(sum(_ew.mul(X, w), axis=1), w_sum)
        if aweights is None:
            fact = _ew.sub(w_sum, ddof)
        else:
            fact = _ew.sub(w_sum, _ew.div(_ew.mul(ddof, sum(_ew.mul(w, aw))), w_sum))
    Xc = _ew.sub(X, _shape.expand_dims(avg, (1,)))
    weighted = Xc if w is None else _ew.mul(Xc, w)
    Xt = transpose(Xc)
    if Xc.dtype.kind == "c":
        Xt = _ew.conj(Xt)
    c = _ew.div(matmul(weighted, Xt), fact)
    return _shape.squeeze(c, tuple(d for d in range(2) if c.shape[d] == 1)) if c.shape == (1, 1) else c


def corrcoef(x: ArrayLike, y: ArrayLike | None = None, rowvar: bool = True, *, dtype: DType | None = None) -> Array:
    """The Pearson correlation coefficients of the variables in the rows of ``x`` (columns
    when ``rowvar`` is False), with ``y``'s appended, as ``numpy.corrcoef``: the covariance
    matrix scaled by the standard deviations, real parts clipped to [-1, 1].
    Differentiable in the data.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.corrcoef(fnp.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]])).round(6).tolist()
        [[1.0, -0.981981], [-0.981981, 1.0]]
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if len(c.shape) == 0:
        return _ew.div(c, c)
    diagonal_mask = placed_like(np.eye(c.shape[0], dtype=bool), c)  # host-data: the diagonal's mask
    d = _shape.reshape(_red.reduce_sum(_ew.mul(c, diagonal_mask), (1,)), (c.shape[0],))
    stddev = _ew.sqrt(_ew.real(d) if d.dtype.kind == "c" else d)
    c = _ew.div(c, _shape.expand_dims(stddev, (1,)))
    c = _ew.div(c, _shape.expand_dims(stddev, (0,)))
    if c.dtype.kind == "c":
        return c
    return _ew.max(_ew.min(c, 1.0), -1.0)


# --- order statistics ignoring NaN ---------------------------------------------------------------


def nanquantile(a: ArrayLike, q: ArrayLike, axis: int | Sequence[int] | None = None, out: None = None,
                overwrite_input: bool = False, method: str = "linear", keepdims: bool = False) -> Array:
    """``quantile`` ignoring NaN entries (a slice of NaNs only gives NaN), as
    ``numpy.nanquantile``; under ``jit`` and ``vmap`` too (the positions interpolated are
    computed from the count of valid entries in the program). The derivative flows to the
    one or two entries each quantile uses.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanquantile(fnp.array([1.0, fnp.nan, 3.0, 4.0]), 0.5))
        3.0
    """
    refuse_out("nanquantile", out)
    if method not in _QUANTILE_METHODS:
        raise NotImplementedError(f"functrans.numpy.nanquantile: method={method!r} is not supported; use one of "
                                  f"{', '.join(map(repr, _QUANTILE_METHODS))}")
    a = as_array(a)
    q_arr = host_values(q).astype(np.float64)  # the output's shape and positions depend on q
    if np.any((q_arr < 0) | (q_arr > 1)):  # host-data: host values of q
        raise ValueError("Quantiles must be in the range [0, 1]")
    if not any_tracer(a):
        if type(a) is not np.ndarray and not isinstance(q, (int, float)):
            q = placed_like(q_arr, a)
        return array_module(a).nanquantile(a, q, axis=axis, keepdims=keepdims, method=method)
    if a.dtype.kind not in "fc":  # no NaN in integers
        return quantile(a, q, axis, None, overwrite_input, method, keepdims)
    nd = len(a.shape)
    axes = normalize_axes(axis, nd)
    kept = tuple(d for d in range(nd) if d not in axes)
    kept_shape = tuple(a.shape[d] for d in kept)
    n = math.prod(a.shape[d] for d in axes)
    m = math.prod(kept_shape)
    rows = _shape.reshape(_shape.transpose(a, kept + axes), (m, n))
    # Which entries are NaN is data: the positions are computed from traced counts (integers,
    # so no derivative flows through them), and the same program serves jit and vmap.
    missing = isnan(rows)
    counts = sum(convert_element_type(logical_not(missing), new_dtype=np.intp), axis=1)
    last = _ew.max(_ew.sub(counts, 1), 0)  # the index of each row's largest valid entry
    s = sort(_ew.select(missing, np.inf, rows), axis=-1)  # NaNs last, as +inf
    position = _ew.mul(placed_like(q_arr.reshape(1, -1), s),
                       _shape.reshape(convert_element_type(last, new_dtype=np.float64), (m, 1)))
    lo_float = floor(position)
    frac = _ew.sub(position, lo_float)
    if method in _PICKING:
        rounding = {"lower": floor, "higher": ceil, "nearest": rint}[method]  # rint: half to even, as np.around
        picked = convert_element_type(rounding(position), new_dtype=np.intp)
        result = take_along_axis(s, picked, axis=-1)
    else:
        lo = convert_element_type(lo_float, new_dtype=np.intp)
        hi = _ew.min(_ew.add(lo, 1), _shape.reshape(last, (m, 1)))
        if method == "midpoint":
            frac = _ew.select(_ew.eq(frac, 0.0), 0.0, 0.5)
        below = take_along_axis(s, lo, axis=-1)
        above = take_along_axis(s, hi, axis=-1)
        gap = _ew.sub(above, below)
        result = _ew.select(_ew.ge(frac, 0.5), _ew.sub(above, _ew.mul(gap, _ew.sub(1.0, frac))),
                            _ew.add(below, _ew.mul(gap, frac)))
    empty = _shape.reshape(_ew.eq(counts, 0), (m, 1))  # a row of NaNs only gives NaN
    result = _ew.select(empty, np.nan, result)
    weak_q = q if isinstance(q, (int, float)) else q_arr.dtype
    dtype = a.dtype if method in _PICKING else np.result_type(a.dtype, weak_q)  # host-metadata: dtypes
    result = convert_element_type(result, new_dtype=dtype)
    result = _shape.reshape(result, kept_shape + q_arr.shape)
    k, qn = len(kept), q_arr.ndim
    result = _shape.transpose(result, tuple(range(k, k + qn)) + tuple(range(k)))
    if keepdims:
        result = _shape.reshape(result, q_arr.shape + tuple(1 if d in axes else a.shape[d] for d in range(nd)))
    return result


_PICKING = ("lower", "higher", "nearest")  # the methods that return entries, not interpolations


def nanpercentile(a: ArrayLike, q: ArrayLike, axis: int | Sequence[int] | None = None, out: None = None,
                  overwrite_input: bool = False, method: str = "linear", keepdims: bool = False) -> Array:
    """``percentile`` ignoring NaN entries (``q`` in [0, 100]); see ``nanquantile``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanpercentile(fnp.array([1.0, fnp.nan, 3.0]), 50))
        2.0
    """
    # a Python number stays one (weakly typed: it does not widen float32 data)
    refuse_out("nanpercentile", out)
    q = q / 100 if type(q) in (int, float) else host_values(q).astype(np.float64) / 100  # host-data: q
    return nanquantile(a, q, axis, out, overwrite_input, method, keepdims)


def nanmedian(a: ArrayLike, axis: int | Sequence[int] | None = None, out: None = None,
              overwrite_input: bool = False, keepdims: bool = False) -> Array:
    """``median`` ignoring NaN entries; see ``nanquantile``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanmedian(fnp.array([4.0, fnp.nan, 1.0, 3.0])))
        3.0
    """
    refuse_out("nanmedian", out)
    a = as_array(a)
    if not any_tracer(a):
        return array_module(a).nanmedian(a, axis=axis, keepdims=keepdims)
    return nanquantile(a, 0.5, axis, out, overwrite_input, keepdims=keepdims)
