"""Running sums and products, and differences, with NumPy's names: ``cumsum``, ``cumprod``
(and the array API's ``cumulative_*``), ``nancumsum``, ``diff``, ``gradient``.

On plain arrays each calls the array's own module; on traced arrays running products are a
scan of multiplications, so their derivatives stay exact where entries are zero.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans._abstract import shape_of
from functrans.backend import array_module
from functrans.numpy._joining import concatenate
from functrans.numpy._shape import broadcast_to
from functrans.numpy._util import (
    any_tracer,
    as_array,
    flat_or_axis,
    in_dtype,
    inexact,
    nan_filled,
    normalize_axes,
    normalize_axis,
    number_beside,
    operand,
    refuse_out,
    route_through_primitives,
    slice_axis,
)
from functrans.primitives import elementwise as _ew
from functrans.primitives import reduction as _red
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.primitives.cumulative import cumsum as _cumsum
from functrans.typing import Array, ArrayLike, DType

_ndarray: type[np.ndarray] = np.ndarray  # (np.ndarray, or no type while config.debug_nans is on)
route_through_primitives(globals())

# --- running sums and products -------------------------------------------------------------------


def _to_last(a: Array, axis: int) -> Array:
    nd = len(a.shape)
    return _shape.transpose(a, tuple(d for d in range(nd) if d != axis) + (axis,))


def _from_last(a: Array, axis: int) -> Array:
    nd = len(a.shape)
    perm = list(range(nd - 1))
    perm.insert(axis, nd - 1)
    return _shape.transpose(a, tuple(perm))


def cumsum(a: ArrayLike, axis: int | None = None, dtype: DType | None = None, *, out: None = None) -> Array:
    """Running sums along ``axis`` (of the flattened array when ``axis`` is None).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> fnp.cumsum(fnp.array([1.0, 2.0, 3.0])).tolist()
        [1.0, 3.0, 6.0]
        >>> ft.grad(lambda x: fnp.cumsum(x)[1])(fnp.ones(3)).tolist()
        [1.0, 1.0, 0.0]
    """
    refuse_out("cumsum", out)
    if type(a) is _ndarray:
        return np.cumsum(a, axis, dtype)  # numpy-only: NumPy arrays only, by the check above
    a = as_array(a)
    if dtype is not None:
        a = convert_element_type(a, new_dtype=dtype)
    a, axis = flat_or_axis(a, axis)
    return in_dtype(_cumsum(a, axis), dtype)


def cumprod(a: ArrayLike, axis: int | None = None, dtype: DType | None = None, *, out: None = None) -> Array:
    """Running products along ``axis`` (of the flattened array when ``axis`` is None).
    The derivative is exact when entries are zero: no division is involved.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> fnp.cumprod(fnp.array([2.0, 0.0, 3.0])).tolist()
        [2.0, 0.0, 0.0]
        >>> ft.grad(lambda x: fnp.cumprod(x)[2])(fnp.array([2.0, 0.0, 3.0])).tolist()
        [0.0, 6.0, 0.0]
    """
    refuse_out("cumprod", out)
    a = as_array(a)
    if dtype is not None:
        a = convert_element_type(a, new_dtype=dtype)
    if not any_tracer(a):
        return array_module(a).cumprod(a, axis=axis, dtype=dtype)
    a, axis = flat_or_axis(a, axis)
    if a.dtype.kind in "biu":
        a = convert_element_type(a, new_dtype=_red.sum_dtype(a.dtype))
    return in_dtype(_from_last(_red.cumprod_last(_to_last(a, axis)), axis), dtype)


def cumulative_sum(x: ArrayLike, /, *, axis: int | None = None, dtype: DType | None = None,
                   include_initial: bool = False) -> Array:
    """``cumsum`` with the array API's signature: ``include_initial`` puts a 0 first.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.cumulative_sum(fnp.array([1.0, 2.0]), include_initial=True).tolist()
        [0.0, 1.0, 3.0]
    """
    return _cumulative("cumulative_sum", cumsum, 0, x, axis, dtype, include_initial)


def cumulative_prod(x: ArrayLike, /, *, axis: int | None = None, dtype: DType | None = None,
                    include_initial: bool = False) -> Array:
    """``cumprod`` with the array API's signature: ``include_initial`` puts a 1 first.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.cumulative_prod(fnp.array([2.0, 3.0]), include_initial=True).tolist()
        [1.0, 2.0, 6.0]
    """
    return _cumulative("cumulative_prod", cumprod, 1, x, axis, dtype, include_initial)


def _cumulative(name: str, running: Callable[..., Array], initial: int, x: ArrayLike, axis: int | None,
                dtype: DType | None, include_initial: bool) -> Array:
    """The array API's cumulative functions: ``running`` (cumsum or cumprod) along ``axis``
    (which only a 1-d array may leave out), with ``initial`` first if ``include_initial``."""
    x = as_array(x)
    if axis is None:
        if len(x.shape) > 1:
            raise ValueError(f"{name} needs an axis for arrays of more than one dimension")
        axis = 0
    out = running(x, axis, dtype)
    return _pad_initial(out, axis, initial) if include_initial else out


def _pad_initial(out: Array, axis: int, value: float) -> Array:
    axis = normalize_axis(axis, len(out.shape))
    config = [(0, 0, 0)] * len(out.shape)
    config[axis] = (1, 0, 0)
    return _shape.pad(out, value, config)  # the tangent is padded with zeros


def nancumsum(a: ArrayLike, axis: int | None = None, dtype: DType | None = None, *, out: None = None) -> Array:
    """Running sums treating NaN as zero.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.nancumsum(fnp.array([1.0, fnp.nan, 2.0])).tolist()
        [1.0, 1.0, 3.0]
    """
    refuse_out("nancumsum", out)
    return cumsum(nan_filled(a, 0.0), axis, dtype)


# --- differences ---------------------------------------------------------------------------------


def diff(a: ArrayLike, n: int = 1, axis: int = -1, prepend: ArrayLike | None = None,
         append: ArrayLike | None = None) -> Array:
    """The ``n``-th discrete difference along ``axis``: ``a[1:] - a[:-1]``, repeated.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.diff(fnp.array([1.0, 4.0, 9.0])).tolist()
        [3.0, 5.0]
    """
    a = as_array(a)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n}")
    if n == 0:
        return a
    nd = len(a.shape)
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, nd)
    def extend(v: ArrayLike) -> Array:
        v = number_beside(v, a)
        if len(v.shape) == 0:
            shape = list(shape_of(a))
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
            a = _ew.ne(slice_axis(a, axis, 1, size), slice_axis(a, axis, 0, max(size - 1, 0)))
        else:
            a = _ew.sub(slice_axis(a, axis, 1, size), slice_axis(a, axis, 0, max(size - 1, 0)))
    return a


def gradient(f: ArrayLike, *varargs: ArrayLike, axis: int | Sequence[int] | None = None,
             edge_order: int = 1) -> Array | tuple[Array, ...]:
    """Second-order central differences inside, first- or second-order one-sided differences
    at the edges (``edge_order`` 1 or 2), as ``numpy.gradient``. Each entry of ``varargs`` is
    a scalar spacing, or the 1-D coordinates of the samples along its axis (differentiable
    too); one entry serves every axis.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.gradient(fnp.array([1.0, 4.0, 9.0, 16.0])).tolist()
        [3.0, 4.0, 6.0, 7.0]
        >>> fnp.gradient(fnp.array([0.0, 1.0, 9.0]), fnp.array([0.0, 1.0, 3.0])).tolist()
        [1.0, 2.0, 4.0]
    """
    f = inexact(f)
    nd = len(f.shape)
    axes = normalize_axes(axis, nd)
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    spacing: list[ArrayLike]
    if len(varargs) == 0:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1:
        spacing = [varargs[0]] * len(axes)
    else:
        spacing = list(varargs)
    if len(spacing) != len(axes):
        raise TypeError("invalid number of arguments: give one spacing, or one per axis")
    outs = []
    for ax, h in zip(axes, spacing):
        n = f.shape[ax]
        if n < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")
        h_shape = shape_of(operand(h))
        if h_shape:
            if len(h_shape) != 1:
                raise ValueError("distances must be either scalars or 1d")
            if h_shape[0] != n:
                raise ValueError("when 1d, distances must match the length of the corresponding dimension")
            out = _gradient_at_coordinates(f, inexact(h), ax, edge_order)
            outs.append(out if out.dtype == f.dtype else convert_element_type(out, new_dtype=f.dtype))  # NumPy's
            continue

        def at(i: int, ax: int = ax, n: int = n) -> Array:  # the entry at position i (negative from the end)
            return slice_axis(f, ax, i % n, i % n + 1)

        if edge_order == 1:
            first = _ew.div(_ew.sub(at(1), at(0)), h)
            last = _ew.div(_ew.sub(at(-1), at(-2)), h)
        else:  # the one-sided second-order stencils (-3, 4, -1) / 2h and (3, -4, 1) / 2h
            first = _ew.div(_ew.sub(_ew.sub(_ew.mul(at(1), 4.0), _ew.mul(at(0), 3.0)), at(2)), 2.0 * h)
            last = _ew.div(_ew.add(_ew.sub(_ew.mul(at(-1), 3.0), _ew.mul(at(-2), 4.0)), at(-3)), 2.0 * h)
        inner = _ew.div(_ew.sub(slice_axis(f, ax, 2, n), slice_axis(f, ax, 0, n - 2)), 2.0 * h)
        outs.append(concatenate([first, inner, last], ax))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _gradient_at_coordinates(f: Array, x: Array, ax: int, edge_order: int) -> Array:
    """``gradient`` along ``ax`` for samples at the coordinates ``x``: the derivative at each
    sample of the parabola through it and its two neighbours (inside; at the edges the line
    through two samples, or the parabola through three for ``edge_order`` 2)."""
    n = f.shape[ax]
    dx = diff(x)

    def along(c: Array) -> Array:  # a 1-D coefficient lying along ax
        return _shape.reshape(c, tuple(shape_of(c)[0] if i == ax else 1 for i in range(len(f.shape))))

    def at(i: int) -> Array:
        return slice_axis(f, ax, i % n, i % n + 1)

    def combine(ca: Array, fa: Array, cb: Array, fb: Array, cc: Array, fc: Array) -> Array:
        return _ew.add(_ew.add(_ew.mul(ca, fa), _ew.mul(cb, fb)), _ew.mul(cc, fc))

    d1, d2 = slice_axis(dx, 0, 0, n - 2), slice_axis(dx, 0, 1, n - 1)
    d12 = _ew.add(d1, d2)
    inner = combine(along(_ew.div(_ew.neg(d2), _ew.mul(d1, d12))), slice_axis(f, ax, 0, n - 2),
                    along(_ew.div(_ew.sub(d2, d1), _ew.mul(d1, d2))), slice_axis(f, ax, 1, n - 1),
                    along(_ew.div(d1, _ew.mul(d2, d12))), slice_axis(f, ax, 2, n))
    first_dx, last_dx = slice_axis(dx, 0, 0, 1), slice_axis(dx, 0, n - 2, n - 1)
    if edge_order == 1:
        first = _ew.div(_ew.sub(at(1), at(0)), along(first_dx))
        last = _ew.div(_ew.sub(at(-1), at(-2)), along(last_dx))
    else:
        a, b = first_dx, slice_axis(dx, 0, 1, 2)  # the first two steps
        ab = _ew.add(a, b)
        first = combine(along(_ew.div(_ew.neg(_ew.add(_ew.mul(a, 2.0), b)), _ew.mul(a, ab))), at(0),
                        along(_ew.div(ab, _ew.mul(a, b))), at(1),
                        along(_ew.div(_ew.neg(a), _ew.mul(b, ab))), at(2))
        a, b = slice_axis(dx, 0, n - 3, n - 2), last_dx  # the last two steps
        ab = _ew.add(a, b)
        last = combine(along(_ew.div(b, _ew.mul(a, ab))), at(-3),
                       along(_ew.div(_ew.neg(ab), _ew.mul(a, b))), at(-2),
                       along(_ew.div(_ew.add(_ew.mul(b, 2.0), a), _ew.mul(b, ab))), at(-1))
    return concatenate([first, inner, last], ax)


def nancumprod(a: ArrayLike, axis: int | None = None, dtype: DType | None = None) -> Array:
    """Running products treating NaN as one, as ``numpy.nancumprod``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.nancumprod(fnp.array([2.0, fnp.nan, 3.0])).tolist()
        [2.0, 2.0, 6.0]
    """
    return cumprod(nan_filled(a, 1.0), axis, dtype)


def ediff1d(ary: ArrayLike, to_end: ArrayLike | None = None, to_begin: ArrayLike | None = None) -> Array:
    """The differences between consecutive entries of the flattened array, with optional
    entries before and after, as ``numpy.ediff1d``. Differentiable in all three.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ediff1d(fnp.array([1.0, 4.0, 9.0]), to_begin=0.0).tolist()
        [0.0, 3.0, 5.0]
    """
    flat = _flat(ary)
    if not any_tracer(flat, to_end, to_begin):
        return array_module(flat).ediff1d(flat, to_end, to_begin)
    parts = [diff(flat)]
    if to_begin is not None:
        parts.insert(0, _flat(number_beside(to_begin, flat)))
    if to_end is not None:
        parts.append(_flat(number_beside(to_end, flat)))
    return concatenate(parts)


def _flat(x: ArrayLike) -> Array:
    x = as_array(x)
    return _shape.reshape(x, (math.prod(x.shape),))


def trapezoid(y: ArrayLike, x: ArrayLike | None = None, dx: float = 1.0, axis: int = -1) -> Array:
    """The integral of ``y`` along ``axis`` by the trapezoidal rule, at the points ``x`` (a
    1-D array of the axis's length, or ``y``'s shape) or spaced ``dx`` apart, as
    ``numpy.trapezoid``. Differentiable in ``y`` and ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.trapezoid(fnp.array([1.0, 2.0, 3.0]), dx=0.5))
        2.0
    """
    values: Any = as_array(y)
    if not any_tracer(values, x, dx):
        return array_module(values).trapezoid(values, x, dx, axis)
    y = values
    nd = len(y.shape)
    axis = normalize_axis(axis, nd)
    n = y.shape[axis]
    if x is None:
        d: Any = dx
    else:
        points: Any = number_beside(x, y)
        d = diff(points, axis=axis if len(points.shape) > 1 else -1)
        if len(points.shape) == 1 and nd > 1:
            shape = [1] * nd
            shape[axis] = d.shape[0]
            d = _shape.reshape(d, tuple(shape))
    upper = slice_axis(y, axis, 1, n)
    lower = slice_axis(y, axis, 0, n - 1)
    terms = _ew.mul(d, _ew.div(_ew.add(upper, lower), 2.0))
    return _red.reduce_sum(terms, (axis,))
