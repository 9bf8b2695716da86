"""More reductions and scans with NumPy's names: running sums and products, differences,
NaN-ignoring reductions, weighted averages, quantiles, ``logsumexp``, ``trace``.

On plain arrays every function calls NumPy directly; on traced arrays it is built from
primitives (running products from a scan of multiplications, quantiles from a sort), so
every derivative order follows.
"""
from __future__ import annotations

import builtins
import functools
import math

import numpy as np

from functrans.backend import array_module
from functrans.numpy._util import (
    any_tracer, host_values, normalize_axes, normalize_axis, operand, placed_like, shape_of,
)
from functrans.primitives import elementwise as _ew
from functrans.primitives import elementwise_more as _em
from functrans.primitives import reduction as _red
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type, stop_gradient
from functrans.primitives.cumulative import cumsum as _cumsum
from functrans.lax.custom import custom_jvp


def _arr(a):
    a = operand(a)
    return np.asarray(a) if isinstance(a, (int, float, complex, bool)) else a  # host-data: a Python scalar


def _inexact(a):
    """``a`` in a float dtype (integers and booleans become float64), as NumPy's means do."""
    return a if a.dtype.kind in "fc" else convert_element_type(a, new_dtype=np.float64)


def _keep(result, x_shape, axes, keepdims):
    if not keepdims:
        return result
    return _shape.reshape(result, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))


def _flat_or_axis(a, axis):
    """(array, axis): the flattened array and 0 when ``axis`` is None."""
    if axis is None:
        return _shape.reshape(a, (math.prod(a.shape),)), 0
    return a, normalize_axis(axis, len(a.shape))


def _to_last(a, axis):
    nd = len(a.shape)
    return _shape.transpose(a, tuple(d for d in range(nd) if d != axis) + (axis,))


def _from_last(a, axis):
    nd = len(a.shape)
    perm = list(range(nd - 1))
    perm.insert(axis, nd - 1)
    return _shape.transpose(a, tuple(perm))


def _slice_axis(a, axis, start, stop):
    starts = [0] * len(a.shape)
    limits = list(a.shape)
    starts[axis], limits[axis] = start, stop
    return _shape.slice_(a, tuple(starts), tuple(limits))


# --- running sums and products -----------------------------------------------------------------


def cumsum(a, axis: int | None = None, dtype=None):
    """Running sums along ``axis`` (of the flattened array when ``axis`` is None).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> fnp.cumsum(fnp.array([1.0, 2.0, 3.0])).tolist()
        [1.0, 3.0, 6.0]
        >>> ft.grad(lambda x: fnp.cumsum(x)[1])(fnp.ones(3)).tolist()
        [1.0, 1.0, 0.0]
    """
    if type(a) is np.ndarray:
        return np.cumsum(a, axis, dtype)  # numpy-only: NumPy arrays only, by the check above
    a = _arr(a)
    if dtype is not None:
        a = convert_element_type(a, new_dtype=dtype)
    a, axis = _flat_or_axis(a, axis)
    return _cumsum(a, axis)


def cumprod(a, axis: int | None = None, dtype=None):
    """Running products along ``axis`` (of the flattened array when ``axis`` is None).
    The derivative is exact when entries are zero: no division is involved.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> fnp.cumprod(fnp.array([2.0, 0.0, 3.0])).tolist()
        [2.0, 0.0, 0.0]
        >>> ft.grad(lambda x: fnp.cumprod(x)[2])(fnp.array([2.0, 0.0, 3.0])).tolist()
        [0.0, 6.0, 0.0]
    """
    a = _arr(a)
    if dtype is not None:
        a = convert_element_type(a, new_dtype=dtype)
    if not any_tracer(a):
        return array_module(a).cumprod(a, axis=axis)
    a, axis = _flat_or_axis(a, axis)
    if a.dtype.kind in "biu":
        a = convert_element_type(a, new_dtype=_red._sum_dtype(a.dtype))
    return _from_last(_red.cumprod_last(_to_last(a, axis)), axis)


def cumulative_sum(x, /, *, axis: int | None = None, dtype=None, include_initial: bool = False):
    """``cumsum`` with the array API's signature: ``include_initial`` puts a 0 first.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.cumulative_sum(fnp.array([1.0, 2.0]), include_initial=True).tolist()
        [0.0, 1.0, 3.0]
    """
    x = _arr(x)
    if axis is None:
        if len(x.shape) > 1:
            raise ValueError("cumulative_sum needs an axis for arrays of more than one dimension")
        axis = 0
    out = cumsum(x, axis, dtype)
    return _pad_initial(out, axis, 0) if include_initial else out


def cumulative_prod(x, /, *, axis: int | None = None, dtype=None, include_initial: bool = False):
    """``cumprod`` with the array API's signature: ``include_initial`` puts a 1 first.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.cumulative_prod(fnp.array([2.0, 3.0]), include_initial=True).tolist()
        [1.0, 2.0, 6.0]
    """
    x = _arr(x)
    if axis is None:
        if len(x.shape) > 1:
            raise ValueError("cumulative_prod needs an axis for arrays of more than one dimension")
        axis = 0
    out = cumprod(x, axis, dtype)
    return _pad_initial(out, axis, 1) if include_initial else out


def _pad_initial(out, axis, value):
    axis = normalize_axis(axis, len(out.shape))
    config = [(0, 0, 0)] * len(out.shape)
    config[axis] = (1, 0, 0)
    return _shape.pad(out, value, config)  # the tangent is padded with zeros


def diff(a, n: int = 1, axis: int = -1, prepend=None, append=None):
    """The ``n``-th discrete difference along ``axis``: ``a[1:] - a[:-1]``, repeated.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.diff(fnp.array([1.0, 4.0, 9.0])).tolist()
        [3.0, 5.0]
    """
    a = _arr(a)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n}")
    if n == 0:
        return a
    nd = len(a.shape)
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, nd)
    from functrans.numpy._manipulation import broadcast_to, concatenate

    def extend(v):
        v = _arr(v)
        if len(v.shape) == 0:
            shape = list(a.shape)
            shape[axis] = 1
            v = broadcast_to(v, tuple(shape))
        return v

    parts = ([extend(prepend)] if prepend is not None else []) + [a] \
        + ([extend(append)] if append is not None else [])
    if len(parts) > 1:
        a = concatenate(parts, axis)
    for _ in range(n):
        size = a.shape[axis]
        if a.dtype == np.bool_:
            a = _ew.ne(_slice_axis(a, axis, 1, size), _slice_axis(a, axis, 0, max(size - 1, 0)))
        else:
            a = _ew.sub(_slice_axis(a, axis, 1, size), _slice_axis(a, axis, 0, max(size - 1, 0)))
    return a


def gradient(f, *varargs, axis=None, edge_order: int = 1):
    """Second-order central differences inside, first- or second-order one-sided differences
    at the edges (``edge_order`` 1 or 2), with uniform spacing given by scalars in ``varargs``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.gradient(fnp.array([1.0, 4.0, 9.0, 16.0])).tolist()
        [3.0, 4.0, 6.0, 7.0]
    """
    f = _inexact(_arr(f))
    nd = len(f.shape)
    axes = normalize_axes(axis, nd)
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    if len(varargs) == 0:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1:
        spacing = [varargs[0]] * len(axes)
    else:
        spacing = list(varargs)
    if len(spacing) != len(axes):
        raise TypeError("invalid number of arguments: give one spacing, or one per axis")
    if builtins.any(shape_of(operand(h)) for h in spacing):  # any backend's arrays
        raise NotImplementedError("functrans.numpy.gradient supports scalar spacings only")
    from functrans.numpy._manipulation import concatenate

    outs = []
    for ax, h in zip(axes, spacing):
        n = f.shape[ax]
        if n < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")

        def at(i):
            return _slice_axis(f, ax, i % n, i % n + 1)

        if edge_order == 1:
            first = _ew.div(_ew.sub(at(1), at(0)), h)
            last = _ew.div(_ew.sub(at(-1), at(-2)), h)
        else:  # the one-sided second-order stencils (-3, 4, -1) / 2h and (3, -4, 1) / 2h
            first = _ew.div(_ew.sub(_ew.sub(_ew.mul(at(1), 4.0), _ew.mul(at(0), 3.0)), at(2)), 2.0 * h)
            last = _ew.div(_ew.add(_ew.sub(_ew.mul(at(-1), 3.0), _ew.mul(at(-2), 4.0)), at(-3)), 2.0 * h)
        inner = _ew.div(_ew.sub(_slice_axis(f, ax, 2, n), _slice_axis(f, ax, 0, n - 2)), 2.0 * h)
        outs.append(concatenate([first, inner, last], ax))
    return outs[0] if len(outs) == 1 else tuple(outs)


# --- NaN-ignoring reductions -------------------------------------------------------------------------


def _nan_filled(a, fill):
    a = _arr(a)
    if a.dtype.kind not in "fc":
        return a
    return _ew.select(_em.isnan(a), fill, a)


def nansum(a, axis=None, dtype=None, keepdims: bool = False):
    """Sum treating NaN as zero. NaN entries get a zero derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nansum(fnp.array([1.0, fnp.nan, 2.0])))
        3.0
    """
    from functrans.numpy._reductions import sum

    return sum(_nan_filled(a, 0.0), axis, dtype, keepdims)


def nanprod(a, axis=None, dtype=None, keepdims: bool = False):
    """Product treating NaN as one.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanprod(fnp.array([2.0, fnp.nan, 3.0])))
        6.0
    """
    from functrans.numpy._reductions import prod

    return prod(_nan_filled(a, 1.0), axis, dtype, keepdims)


def nanmean(a, axis=None, dtype=None, keepdims: bool = False):
    """Mean of the entries that are not NaN (NaN where all are).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanmean(fnp.array([1.0, fnp.nan, 3.0])))
        2.0
    """
    from functrans.numpy._reductions import sum

    a = _inexact(_arr(a))
    if dtype is not None:
        a = convert_element_type(a, new_dtype=dtype)
    present = _em.logical_not(_em.isnan(a))
    count = sum(present, axis, keepdims=keepdims)
    return _ew.div(nansum(a, axis, keepdims=keepdims), convert_element_type(count, new_dtype=a.dtype))


def nanvar(a, axis=None, dtype=None, ddof: int = 0, keepdims: bool = False):
    """Variance of the entries that are not NaN.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanvar(fnp.array([1.0, fnp.nan, 3.0])))
        1.0
    """
    from functrans.numpy._reductions import sum

    a = _inexact(_arr(a))
    if dtype is not None:
        a = convert_element_type(a, new_dtype=dtype)
    nan = _em.isnan(a)
    centered = _ew.sub(a, nanmean(a, axis, keepdims=True))
    squares = _ew.real(_ew.mul(centered, _ew.conj(centered))) if a.dtype.kind == "c" else \
        _ew.mul(centered, centered)
    total = sum(_ew.select(nan, 0.0, squares), axis, keepdims=keepdims)
    count = sum(_em.logical_not(nan), axis, keepdims=keepdims)
    return _ew.div(total, convert_element_type(_ew.sub(count, ddof), new_dtype=total.dtype))


def nanstd(a, axis=None, dtype=None, ddof: int = 0, keepdims: bool = False):
    """Standard deviation of the entries that are not NaN.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanstd(fnp.array([1.0, fnp.nan, 3.0])))
        1.0
    """
    return _ew.sqrt(nanvar(a, axis, dtype, ddof, keepdims))


def _nan_extreme(reducer, fill, a, axis, keepdims):
    a = _arr(a)
    if a.dtype.kind not in "fc":
        return reducer(a, axis, keepdims)
    nan = _em.isnan(a)
    out = reducer(_ew.select(nan, fill, a), axis, keepdims)
    from functrans.numpy._reductions import min as amin

    all_nan = amin(nan, axis, keepdims)  # True where every entry is NaN
    return _ew.select(all_nan, np.nan, out)


def nanmax(a, axis=None, keepdims: bool = False):
    """Largest entry ignoring NaN (NaN where all entries are NaN).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanmax(fnp.array([1.0, fnp.nan, 3.0])))
        3.0
    """
    from functrans.numpy._reductions import max

    return _nan_extreme(max, -np.inf, a, axis, keepdims)


def nanmin(a, axis=None, keepdims: bool = False):
    """Smallest entry ignoring NaN (NaN where all entries are NaN).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanmin(fnp.array([1.0, fnp.nan, 3.0])))
        1.0
    """
    from functrans.numpy._reductions import min

    return _nan_extreme(min, np.inf, a, axis, keepdims)


def nanargmax(a, axis=None, keepdims: bool = False):
    """Index of the largest entry ignoring NaN. No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.nanargmax(fnp.array([1.0, fnp.nan, 3.0])))
        2
    """
    from functrans.numpy._reductions import argmax

    return argmax(_nan_filled(a, -np.inf), axis, keepdims)


def nanargmin(a, axis=None, keepdims: bool = False):
    """Index of the smallest entry ignoring NaN. No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.nanargmin(fnp.array([1.0, fnp.nan, 3.0])))
        0
    """
    from functrans.numpy._reductions import argmin

    return argmin(_nan_filled(a, np.inf), axis, keepdims)


def nancumsum(a, axis=None, dtype=None):
    """Running sums treating NaN as zero.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.nancumsum(fnp.array([1.0, fnp.nan, 2.0])).tolist()
        [1.0, 1.0, 3.0]
    """
    return cumsum(_nan_filled(a, 0.0), axis, dtype)


# --- other reductions ------------------------------------------------------------------------------


def average(a, axis=None, weights=None, returned: bool = False, *, keepdims: bool = False):
    """Weighted average ``sum(a * w) / sum(w)`` over ``axis``; 1-D ``weights`` lie along
    ``axis``. Differentiable in ``a`` and in ``weights``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.average(fnp.array([1.0, 3.0]), weights=fnp.array([3.0, 1.0])))
        1.5
    """
    from functrans.numpy._reductions import mean, sum

    a = _arr(a)
    if weights is None:
        out = mean(a, axis, keepdims=keepdims)
        if not returned:
            return out
        axes = normalize_axes(axis, len(a.shape))
        count = math.prod(a.shape[i] for i in axes)
        # host-data: made on the host, placed on the operand's device
        return out, placed_like(np.full(shape_of(out), count, dtype=out.dtype), out)
    w = _arr(weights)
    nd = len(a.shape)
    if w.shape != a.shape:
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        if len(w.shape) != 1:
            raise TypeError("1D weights expected when shapes of a and weights differ.")
        ax = normalize_axis(axis, nd)
        if w.shape[0] != a.shape[ax]:
            raise ValueError("Length of weights not compatible with specified axis.")
        w = _shape.broadcast_in_dim(w, a.shape, (ax,))
    a = _inexact(a)
    scale = sum(w, axis, keepdims=keepdims)
    scale = _shape.broadcast_to(scale, shape_of(sum(a, axis, keepdims=keepdims)))
    out = _ew.div(sum(_ew.mul(a, w), axis, keepdims=keepdims), scale)
    if returned:
        return out, convert_element_type(scale, new_dtype=out.dtype)
    return out


def ptp(a, axis=None, keepdims: bool = False):
    """Range of values (maximum minus minimum) over ``axis``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.ptp(fnp.array([4.0, 1.0, 3.0])))
        3.0
    """
    from functrans.numpy._reductions import max, min

    return _ew.sub(max(a, axis, keepdims), min(a, axis, keepdims))


def all(a, axis=None, keepdims: bool = False):
    """True where every entry over ``axis`` is nonzero. No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> bool(fnp.all(fnp.array([1.0, 2.0])))
        True
    """
    a = _arr(a)
    if not any_tracer(a):
        return array_module(a).all(a, axis=axis, keepdims=keepdims)
    from functrans.numpy._reductions import sum

    return _ew.eq(sum(_ew.eq(a, 0), axis, keepdims=keepdims), 0)  # no zero entry (empty: True)


def any(a, axis=None, keepdims: bool = False):
    """True where some entry over ``axis`` is nonzero. No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> bool(fnp.any(fnp.array([0.0, 2.0])))
        True
    """
    a = _arr(a)
    if not any_tracer(a):
        return array_module(a).any(a, axis=axis, keepdims=keepdims)
    from functrans.numpy._reductions import sum

    return _ew.gt(sum(_ew.ne(a, 0), axis, keepdims=keepdims), 0)


def count_nonzero(a, axis=None, *, keepdims: bool = False):
    """Number of nonzero entries over ``axis``.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.count_nonzero(fnp.array([0.0, 2.0, 3.0])))
        2
    """
    from functrans.numpy._reductions import sum

    a = _arr(a)
    if type(a) is np.ndarray:
        # numpy-only: NumPy arrays only, by the check above
        return np.count_nonzero(a, axis=axis, keepdims=keepdims)
    if not any_tracer(a) and not keepdims:  # CuPy's count_nonzero takes a, axis
        return array_module(a).count_nonzero(a, axis=axis)
    return sum(_ew.ne(a, 0), axis, keepdims=keepdims)


def trace(a, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype=None):
    """Sum along a diagonal (``offset`` above the main one) of the planes ``axis1, axis2``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.trace(fnp.array([[1.0, 2.0], [3.0, 4.0]])))
        5.0
    """
    from functrans.numpy._manipulation_more import diagonal
    from functrans.numpy._reductions import sum

    return sum(diagonal(a, offset, axis1, axis2), -1, dtype)


def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False):
    """``log(sum(b * exp(a)))`` over ``axis``, computed without overflow (the maximum is
    taken out first). Its gradient is the softmax: with equal entries every one gets
    ``1/n``, and entries equal to -inf get exactly 0 (all of
    them, when all are -inf).

    Args:
        a: the array.
        axis: the axes to reduce (all by default).
        b: optional weights, broadcast against ``a`` (may be negative with ``return_sign``).
        keepdims: keep the reduced axes with size 1.
        return_sign: also return the sign of the sum (then the value is ``log|sum|``).

    Returns:
        The reduced array (and its sign with ``return_sign``).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> float(fnp.logsumexp(fnp.array([0.0, 0.0])))  # log 2
        0.6931471805599453
        >>> ft.grad(fnp.logsumexp)(fnp.array([1.0, 1.0, -fnp.inf])).tolist()
        [0.5, 0.5, 0.0]
    """
    a = _inexact(_arr(a))
    axes = normalize_axes(axis, len(a.shape))
    if b is None and not return_sign:
        return _logsumexp(a, tuple(axes), keepdims)
    return _logsumexp_weighted(a, axes, b, keepdims, return_sign)


@functools.partial(custom_jvp, nondiff_argnums=(1, 2))
def _logsumexp(a, axes: tuple, keepdims: bool):
    """The unweighted logsumexp, with its derivative (the softmax) as a rule of its own: one
    weighted sum instead of the reverse pass through max, exp, sum and log."""
    return _logsumexp_weighted(a, axes, None, keepdims, False)


@_logsumexp.defjvp
def _logsumexp_jvp(axes, keepdims, primals, tangents):
    from functrans.numpy._reductions import max, sum

    (a,), (t,) = primals, tangents
    # softmax(a), shifted by the maximum (exact: equal entries get exactly 1/n); entries equal
    # to -inf weigh 0, and so does every entry of an all -inf slice (a sum of 0, not 0/0).
    shift = max(stop_gradient(a), axes, keepdims=True)
    e = _ew.exp(_ew.sub(a, _ew.select(_em.isfinite(shift), shift, 0.0)))
    total = sum(e, axes, keepdims=True)
    weights = _ew.div(e, _ew.select(_ew.eq(total, 0), 1.0, total))
    tangent = sum(_ew.mul(weights, t), axes, keepdims=keepdims)
    return _logsumexp(a, axes, keepdims), tangent


def _logsumexp_weighted(a, axes, b, keepdims, return_sign):
    from functrans.numpy._reductions import max, sum

    if math.prod(a.shape[i] for i in axes) == 0:  # the sum of nothing: -inf, no derivative
        a = stop_gradient(a) if any_tracer(a) else a
        shift = a.dtype.type(0)  # a NumPy scalar: it fits every device
    else:
        m = max(stop_gradient(a) if any_tracer(a) else a, axes, keepdims=True)
        shift = _ew.select(_em.isfinite(m), m, 0.0)
        if not any_tracer(shift):
            shift = array_module(a).asarray(shift, dtype=a.dtype) if a.dtype.kind != "c" else shift
    e = _ew.exp(_ew.sub(a, shift))
    if b is not None:
        e = _ew.mul(e, _arr(b))
    total = sum(e, axes, keepdims=True)
    if return_sign:
        sign = _ew.sign(total)
        total = _ew.abs(total)
    # A sum of zero (every entry -inf) gives -inf with a zero derivative, not 0/0.
    empty = _ew.eq(total, 0)
    out = _ew.add(_ew.log(_ew.select(empty, 1.0, total)), _ew.select(empty, -np.inf, shift))
    if not keepdims:
        out = _shape.squeeze(out, axes)
    if return_sign:
        return out, (sign if keepdims else _shape.squeeze(sign, axes))
    return out


# --- quantiles ------------------------------------------------------------------------------------


# NumPy's methods that pick or interpolate sorted entries by position q * (n - 1) (the
# discontinuous Hyndman-Fan estimators other than 'nearest' are not here).
_QUANTILE_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def quantile(a, q, axis=None, out=None, overwrite_input: bool = False, method: str = "linear",
             keepdims: bool = False):
    """The ``q``-th quantiles (``q`` in [0, 1], a scalar or an array) over ``axis``, by
    linear interpolation between the sorted values (``method``: also ``'lower'``,
    ``'higher'``, ``'nearest'``, ``'midpoint'``, as in NumPy). The derivative flows to the one
    or two entries each quantile uses (tied entries: to the ones the stable sort puts there).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.quantile(fnp.array([1.0, 2.0, 3.0, 4.0]), 0.5))
        2.5
    """
    if out is not None:
        raise NotImplementedError("functrans.numpy.quantile does not write into out=")
    if method not in _QUANTILE_METHODS:
        raise NotImplementedError(
            f"functrans.numpy.quantile: method={method!r} is not supported; use one of "
            f"{', '.join(map(repr, _QUANTILE_METHODS))}")
    a = _arr(a)
    q_arr = host_values(q).astype(np.float64)  # the output's shape and positions depend on q
    if np.any((q_arr < 0) | (q_arr > 1)):  # host-data: host values (parameters, lists, host_values)
        raise ValueError("Quantiles must be in the range [0, 1]")
    if not any_tracer(a):
        if type(a) is not np.ndarray and not isinstance(q, (int, float)):
            q = placed_like(q_arr, a)  # an array of quantiles where a lives (CuPy takes no host array)
        return array_module(a).quantile(a, q, axis=axis, keepdims=keepdims, method=method)
    from functrans.numpy._sorting import sort

    a = _inexact(a)
    nd = len(a.shape)
    axes = normalize_axes(axis, nd)
    kept = tuple(d for d in range(nd) if d not in axes)
    rows = _shape.transpose(a, kept + axes)
    n = math.prod(a.shape[d] for d in axes)
    rows = _shape.reshape(rows, tuple(a.shape[d] for d in kept) + (n,))
    s = sort(rows, axis=-1)
    position = q_arr * (n - 1)
    from functrans.numpy._manipulation_more import take

    if method in ("lower", "higher", "nearest"):
        rounding = {"lower": np.floor, "higher": np.ceil, "nearest": np.around}[method]
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


def percentile(a, q, axis=None, out=None, overwrite_input: bool = False, method: str = "linear",
               keepdims: bool = False):
    """The ``q``-th percentiles (``q`` in [0, 100]) over ``axis``; see ``quantile``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.percentile(fnp.array([1.0, 2.0, 3.0]), 50))
        2.0
    """
    q = host_values(q).astype(np.float64) / 100  # host-data: host values (parameters, lists, host_values)
    return quantile(a, q, axis, out, overwrite_input, method, keepdims)


def median(a, axis=None, out=None, overwrite_input: bool = False, keepdims: bool = False):
    """The median over ``axis`` (the mean of the two middle values for an even count).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> float(fnp.median(fnp.array([3.0, 1.0, 2.0])))
        2.0
        >>> ft.grad(fnp.median)(fnp.array([4.0, 1.0, 3.0, 2.0])).tolist()
        [0.0, 0.0, 0.5, 0.5]
    """
    a = _arr(a)
    if not any_tracer(a):
        return array_module(a).median(a, axis=axis, keepdims=keepdims)
    return quantile(a, 0.5, axis, out, overwrite_input, keepdims=keepdims)
