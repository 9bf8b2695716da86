"""Reductions with NumPy's names and its ``axis`` / ``keepdims`` / ``dtype`` arguments: sums
and products, extrema and their positions, truth tests, their NaN-ignoring forms,
``logsumexp`` and ``trace``.

On plain arrays each calls the array's own module; on traced arrays it binds the reduction
primitives, whose derivatives hold to every order.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np

from functrans._abstract import shape_of
from functrans.api import custom_jvp
from functrans.backend import array_module
from functrans.core.staging import scalar_kind
from functrans.numpy._indexing import diagonal
from functrans.numpy._indexing import where as _where
from functrans.numpy._util import (
    any_tracer,
    as_array,
    in_dtype,
    inexact,
    keep_dims,
    nan_filled,
    normalize_axes,
    normalize_axis,
    operand,
    plain_module,
    reduction_operand,
    refuse_out,
)
from functrans.primitives import elementwise as _ew
from functrans.primitives import reduction as _red
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type, stop_gradient
from functrans.primitives.elementwise import isfinite, isnan
from functrans.typing import Array, ArrayLike, DType

# --- sums, products, extrema ------------------------------------------------------------------


def sum(a: ArrayLike, axis: int | Sequence[int] | None = None, dtype: DType | None = None,
        keepdims: bool = False, *, out: None = None,
        initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """Sum of elements over ``axis`` (all axes by default), of the entries where ``where``
    (a boolean mask broadcast against ``a``) is true, plus ``initial``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.sum(fnp.array([[1.0, 2.0], [3.0, 4.0]]), axis=0).tolist()
        [4.0, 6.0]
        >>> float(fnp.sum(fnp.array([1.0, 2.0, 3.0]), where=fnp.array([True, False, True]), initial=10.0))
        14.0
    """
    refuse_out("sum", out)
    xp = plain_module(a)
    if xp is not None:
        if initial is None and where is None:
            return xp.sum(a, axis=axis, dtype=dtype, keepdims=keepdims)
        if not any_tracer(initial, where):
            return xp.sum(a, axis=axis, dtype=dtype, keepdims=keepdims, **_options(initial, where))
    a, axes = reduction_operand(a, axis, dtype)
    if where is not None:
        a = _masked(a, where, 0)
    total = keep_dims(_red.reduce_sum(a, axes), a.shape, axes, keepdims)
    total = in_dtype(total, dtype)
    return total if initial is None else _ew.add(total, _initial(initial, total))


def prod(a: ArrayLike, axis: int | Sequence[int] | None = None, dtype: DType | None = None,
         keepdims: bool = False, *, out: None = None,
         initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """Product of elements over ``axis`` (of the entries where ``where`` is true, times
    ``initial``). Its derivative is exact when entries are zero.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> ft.grad(fnp.prod)(fnp.array([2.0, 0.0, 3.0])).tolist()
        [0.0, 6.0, 0.0]
    """
    refuse_out("prod", out)
    xp = plain_module(a)
    if xp is not None:
        if initial is None and where is None:
            return xp.prod(a, axis=axis, dtype=dtype, keepdims=keepdims)
        if not any_tracer(initial, where):
            return xp.prod(a, axis=axis, dtype=dtype, keepdims=keepdims, **_options(initial, where))
    a, axes = reduction_operand(a, axis, dtype)
    if where is not None:
        a = _masked(a, where, 1)
    product = keep_dims(_red.reduce_prod(a, axes), a.shape, axes, keepdims)
    product = in_dtype(product, dtype)
    return product if initial is None else _ew.mul(product, _initial(initial, product))


def max(a: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False, *, out: None = None,
        initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """Largest element over ``axis``; tied maxima share the derivative equally. With
    ``initial``, the largest of it and the elements; ``where`` (a boolean mask broadcast
    against ``a``, which needs ``initial``) picks the elements. ``amax`` is the same function.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> ft.grad(fnp.max)(fnp.array([1.0, 1.0, 0.0])).tolist()
        [0.5, 0.5, 0.0]
    """
    refuse_out("max", out)
    xp = plain_module(a)
    if xp is not None:
        if initial is None and where is None:
            short = _short_axis(np.maximum, a, axis, keepdims)
            return xp.max(a, axis=axis, keepdims=keepdims) if short is None else short
        if not any_tracer(initial, where):
            return xp.max(a, axis=axis, keepdims=keepdims, **_options(initial, where))
    return _extreme(_red.reduce_max, _ew.max, "maximum", a, axis, keepdims, initial, where)


def min(a: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False, *, out: None = None,
        initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """Smallest element over ``axis``; tied minima share the derivative equally. With
    ``initial``, the smallest of it and the elements; ``where`` (a boolean mask broadcast
    against ``a``, which needs ``initial``) picks the elements. ``amin`` is the same function.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.min(fnp.array([3.0, 1.0, 2.0])))
        1.0
    """
    refuse_out("min", out)
    xp = plain_module(a)
    if xp is not None:
        if initial is None and where is None:
            short = _short_axis(np.minimum, a, axis, keepdims)
            return xp.min(a, axis=axis, keepdims=keepdims) if short is None else short
        if not any_tracer(initial, where):
            return xp.min(a, axis=axis, keepdims=keepdims, **_options(initial, where))
    return _extreme(_red.reduce_min, _ew.min, "minimum", a, axis, keepdims, initial, where)


def _extreme(reduce: Callable[..., Array], pairwise: Callable[..., Array], name: str, a: ArrayLike,
             axis: int | Sequence[int] | None, keepdims: bool, initial: ArrayLike | None,
             where: ArrayLike | None) -> Array:
    a, axes = reduction_operand(a, axis, None)
    if initial is None:
        if where is not None:
            bound = "-fnp.inf" if name == "maximum" else "fnp.inf"
            raise ValueError(f"reduction operation '{name}' does not have an identity, so to use a "
                             f"where mask one has to specify 'initial', as in NumPy: for example "
                             f"initial={bound}, the value where the mask keeps no entry")
        return keep_dims(reduce(a, axes), a.shape, axes, keepdims)
    init = _initial(initial, a)
    if math.prod(a.shape[i] for i in axes) == 0:  # nothing to compare: initial itself
        return _ew.add(keep_dims(_red.reduce_sum(a, axes), a.shape, axes, keepdims), init)
    if where is not None:
        a = _masked(a, where, init)  # a masked entry is initial, which the result includes anyway
    return pairwise(keep_dims(reduce(a, axes), a.shape, axes, keepdims), init)


def _options(initial: ArrayLike | None, where: ArrayLike | None) -> dict:
    """The ``initial`` and ``where`` keywords for a NumPy-like reduction, those given."""
    options = {}
    if initial is not None:
        options["initial"] = initial
    if where is not None:
        options["where"] = where
    return options


def _initial(initial: ArrayLike, like: Array) -> Array:
    """A reduction's ``initial`` in the dtype of ``like`` (NumPy casts it to the result's)."""
    if type(initial) in (int, float, complex, bool):
        return initial  # a Python number: NumPy's promotion keeps the operand's dtype
    return convert_element_type(operand(initial), new_dtype=like.dtype)


def boolean_mask(where: ArrayLike) -> Array:
    """A reduction's ``where=`` as an array, refused unless it is boolean: NumPy refuses
    another dtype (it does not cast to bool safely), and reading it as ``!= 0`` on traced
    arrays only would make eager and jit disagree. A Python ``True`` is a 0-d mask."""
    where = as_array(where)
    if where.dtype != np.bool_:
        raise TypeError(f"where= must be a boolean mask, as in NumPy (which cannot cast "
                        f"{where.dtype} to bool safely); got dtype {where.dtype}. Pass "
                        "where=(mask != 0).")
    return where


def _masked(a: Array, where: ArrayLike, fill: ArrayLike) -> Array:
    """``a`` with ``fill`` where the mask ``where`` (broadcast against ``a``) is false."""
    where = boolean_mask(where)
    where_shape = tuple(shape_of(where))
    if np.broadcast_shapes(where_shape, tuple(a.shape)) != tuple(a.shape):  # host-metadata: shapes
        raise ValueError(f"where= has shape {where_shape}, which does not broadcast to the shape "
                         f"{tuple(a.shape)} of the array it masks")
    return _ew.select(where, a, fill)


def _short_axis(ufunc: np.ufunc, a: ArrayLike, axis: object, keepdims: bool) -> Array | None:
    """On a NumPy array, ``ufunc`` (``np.maximum`` or ``np.minimum``) over the last axis as
    the primitives take a short one (``reduction.short_axis_extreme``: one ufunc call per
    entry, 0.1-0.6x the time of NumPy's reduce), or ``None`` where NumPy's own is used."""
    if type(a) is not np.ndarray or type(axis) is not int or a.ndim < 2 or axis not in (-1, a.ndim - 1):
        return None
    out = _red.short_axis_extreme(ufunc, a, (a.ndim - 1,))
    if out is None or not keepdims:
        return out
    return out.reshape(*out.shape, 1)


def _arg(reducer: Callable[[Array, int], Array], a: ArrayLike, axis: int | None, keepdims: bool) -> Array:
    a = operand(a)
    if axis is None:
        flat = _shape.reshape(a, (int(np.prod(shape_of(a), dtype=np.int64)),))  # host-metadata: shapes only
        out = reducer(flat, 0)
        return _shape.reshape(out, (1,) * len(shape_of(a))) if keepdims else out
    ax = normalize_axis(axis, len(shape_of(a)))
    out = reducer(a, ax)
    return keep_dims(out, shape_of(a), (ax,), keepdims)


def argmax(a: ArrayLike, axis: int | None = None, keepdims: bool = False) -> Array:
    """Index of the largest element (along ``axis``, or of the flattened array). No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.argmax(fnp.array([1.0, 5.0, 2.0])))
        1
    """
    return _arg(_red.argmax, a, axis, keepdims)


def argmin(a: ArrayLike, axis: int | None = None, keepdims: bool = False) -> Array:
    """Index of the smallest element (along ``axis``, or of the flattened array). No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.argmin(fnp.array([1.0, 5.0, 0.5])))
        2
    """
    return _arg(_red.argmin, a, axis, keepdims)


# --- truth tests and counts ------------------------------------------------------------------


def all(a: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False, *, out: None = None,
        where: ArrayLike | None = None) -> Array:
    """True where every entry over ``axis`` (among those where ``where`` is true) is
    nonzero. No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> bool(fnp.all(fnp.array([1.0, 2.0])))
        True
    """
    refuse_out("all", out)
    a = as_array(a)
    if where is None and not any_tracer(a):
        return array_module(a).all(a, axis=axis, keepdims=keepdims)
    if not any_tracer(a, where):
        return array_module(a).all(a, axis=axis, keepdims=keepdims, where=where)
    # no zero entry (empty: True)
    return _ew.eq(sum(_ew.eq(a, 0), axis, keepdims=keepdims, where=where), 0)


def any(a: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False, *, out: None = None,
        where: ArrayLike | None = None) -> Array:
    """True where some entry over ``axis`` (among those where ``where`` is true) is
    nonzero. No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> bool(fnp.any(fnp.array([0.0, 2.0])))
        True
    """
    refuse_out("any", out)
    a = as_array(a)
    if where is None and not any_tracer(a):
        return array_module(a).any(a, axis=axis, keepdims=keepdims)
    if not any_tracer(a, where):
        return array_module(a).any(a, axis=axis, keepdims=keepdims, where=where)
    return _ew.gt(sum(_ew.ne(a, 0), axis, keepdims=keepdims, where=where), 0)


def count_nonzero(a: ArrayLike, axis: int | Sequence[int] | None = None, *, keepdims: bool = False) -> Array:
    """Number of nonzero entries over ``axis``.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.count_nonzero(fnp.array([0.0, 2.0, 3.0])))
        2
    """
    a = as_array(a)
    if type(a) is np.ndarray:
        # numpy-only: NumPy arrays only, by the check above
        return np.count_nonzero(a, axis=axis, keepdims=keepdims)
    if not any_tracer(a) and not keepdims:  # CuPy's count_nonzero takes a, axis
        return array_module(a).count_nonzero(a, axis=axis)
    return sum(_ew.ne(a, 0), axis, keepdims=keepdims)


# --- ignoring NaN -------------------------------------------------------------------------------


def nansum(a: ArrayLike, axis: int | Sequence[int] | None = None, dtype: DType | None = None,
           keepdims: bool = False, *, out: None = None,
           initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """Sum treating NaN as zero. NaN entries get a zero derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nansum(fnp.array([1.0, fnp.nan, 2.0])))
        3.0
    """
    refuse_out("nansum", out)
    return sum(nan_filled(a, 0.0), axis, dtype, keepdims, initial=initial, where=where)


def nanprod(a: ArrayLike, axis: int | Sequence[int] | None = None, dtype: DType | None = None,
            keepdims: bool = False, *, out: None = None,
            initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """Product treating NaN as one.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanprod(fnp.array([2.0, fnp.nan, 3.0])))
        6.0
    """
    refuse_out("nanprod", out)
    return prod(nan_filled(a, 1.0), axis, dtype, keepdims, initial=initial, where=where)


def _nan_extreme(reducer: Callable[..., Array], fill: float, a: ArrayLike, axis: int | Sequence[int] | None,
                 keepdims: bool, initial: ArrayLike | None, where: ArrayLike | None) -> Array:
    a = as_array(a)
    if a.dtype.kind not in "fc":
        return reducer(a, axis, keepdims, initial=initial, where=where)
    nan = isnan(a)
    out = reducer(_ew.select(nan, fill, a), axis, keepdims, initial=initial, where=where)
    if initial is not None:
        return out  # a slice without numbers gives initial, as in JAX (and NumPy along an axis)
    all_nan = min(nan, axis, keepdims)  # True where every entry is NaN
    return _ew.select(all_nan, np.nan, out)


def nanmax(a: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False, *, out: None = None,
           initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """Largest entry ignoring NaN (NaN where all entries are NaN, ``initial`` if given).
    ``initial`` and ``where`` are ``max``'s.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanmax(fnp.array([1.0, fnp.nan, 3.0])))
        3.0
    """
    refuse_out("nanmax", out)
    return _nan_extreme(max, -np.inf, a, axis, keepdims, initial, where)


def nanmin(a: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False, *, out: None = None,
           initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """Smallest entry ignoring NaN (NaN where all entries are NaN, ``initial`` if given).
    ``initial`` and ``where`` are ``min``'s.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nanmin(fnp.array([1.0, fnp.nan, 3.0])))
        1.0
    """
    refuse_out("nanmin", out)
    return _nan_extreme(min, np.inf, a, axis, keepdims, initial, where)


def nanargmax(a: ArrayLike, axis: int | None = None, keepdims: bool = False) -> Array:
    """Index of the largest entry ignoring NaN. No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.nanargmax(fnp.array([1.0, fnp.nan, 3.0])))
        2
    """
    return argmax(nan_filled(a, -np.inf), axis, keepdims)


def nanargmin(a: ArrayLike, axis: int | None = None, keepdims: bool = False) -> Array:
    """Index of the smallest entry ignoring NaN. No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.nanargmin(fnp.array([1.0, fnp.nan, 3.0])))
        0
    """
    return argmin(nan_filled(a, np.inf), axis, keepdims)


# --- logsumexp and trace ------------------------------------------------------------------------


def logsumexp(a: ArrayLike, axis: int | Sequence[int] | None = None, b: ArrayLike | None = None,
              keepdims: bool = False, return_sign: bool = False, *,
              where: ArrayLike | None = None) -> Array | tuple[Array, Array]:
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
        where: as in JAX, a mask broadcast against ``a``: only the entries where it is True
            count (the others weigh 0 and get a derivative of 0).

    Returns:
        The reduced array (and its sign with ``return_sign``).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> float(fnp.logsumexp(fnp.array([0.0, 0.0])))  # log 2
        0.6931471805599453
        >>> ft.grad(fnp.logsumexp)(fnp.array([1.0, 1.0, -fnp.inf])).tolist()
        [0.5, 0.5, 0.0]
    """
    a = inexact(a)
    if where is not None:
        mask = as_array(where)
        if mask.dtype != np.bool_:
            mask = _ew.ne(mask, 0)
        a = _where(mask, a, -np.inf)
        if b is not None and scalar_kind(b) is None:  # (a Python number stays weak)
            b = _where(mask, inexact(b), 0.0)
    axes = normalize_axes(axis, len(a.shape))
    if b is None and not return_sign:
        return _logsumexp(a, tuple(axes), keepdims)
    return _logsumexp_weighted(a, axes, b, keepdims, return_sign)


@functools.partial(custom_jvp, nondiff_argnums=(1, 2))
def _logsumexp(a: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
    """The unweighted logsumexp, with its derivative (the softmax) as a rule of its own: one
    weighted sum instead of the reverse pass through max, exp, sum and log."""
    return _logsumexp_weighted(a, axes, None, keepdims, False)


@_logsumexp.defjvp
def _logsumexp_jvp(axes: tuple[int, ...], keepdims: bool, primals: tuple[Array, ...],
                   tangents: tuple[Array, ...]) -> tuple[Array, Array]:
    (a,), (t,) = primals, tangents
    # softmax(a), shifted by the maximum (exact: equal entries get exactly 1/n); entries equal
    # to -inf weigh 0, and so does every entry of an all -inf slice (a sum of 0, not 0/0).
    shift = max(stop_gradient(a), axes, keepdims=True)
    e = _ew.exp(_ew.sub(a, _ew.select(isfinite(shift), shift, 0.0)))
    total = sum(e, axes, keepdims=True)
    weights = _ew.div(e, _ew.select(_ew.eq(total, 0), 1.0, total))
    tangent = sum(_ew.mul(weights, t), axes, keepdims=keepdims)
    return _logsumexp(a, axes, keepdims), tangent


def _logsumexp_weighted(a: Array, axes: tuple[int, ...], b: ArrayLike | None, keepdims: bool,
                        return_sign: bool) -> Array | tuple[Array, Array]:
    if math.prod(a.shape[i] for i in axes) == 0:  # the sum of nothing: -inf, no derivative
        a = stop_gradient(a) if any_tracer(a) else a
        shift = a.dtype.type(0)  # a NumPy scalar: it fits every device
    else:
        m = max(stop_gradient(a) if any_tracer(a) else a, axes, keepdims=True)
        shift = _ew.select(isfinite(m), m, 0.0)
        if not any_tracer(shift):
            shift = array_module(a).asarray(shift, dtype=a.dtype) if a.dtype.kind != "c" else shift
    e = _ew.exp(_ew.sub(a, shift))
    if b is not None:
        e = _ew.mul(e, operand(b))  # a Python number stays weak: float32 a keeps float32
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


def trace(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: DType | None = None) -> Array:
    """Sum along a diagonal (``offset`` above the main one) of the planes ``axis1, axis2``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.trace(fnp.array([[1.0, 2.0], [3.0, 4.0]])))
        5.0
    """
    return sum(diagonal(a, offset, axis1, axis2), -1, dtype)
