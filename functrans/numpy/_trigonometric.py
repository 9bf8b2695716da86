"""Trigonometric and hyperbolic functions, their inverses, and angle conversions with NumPy's
names (and the array API's short names ``asin``, ``acosh``, ...), elementwise.

Angles are in radians; integer input gives float64. The inverse functions' derivatives are
infinite at the ends of their domains (``arcsin`` and ``arccos`` at -1 and 1, ``arccosh`` at 1,
``arctanh`` at -1 and 1).
"""
from __future__ import annotations

import math

import numpy as np

from functrans.numpy._cumulative import cumsum, diff
from functrans.numpy._joining import concatenate
from functrans.numpy._ufuncs import binary_ufunc, unary_ufunc
from functrans.numpy._util import as_array, floating, normalize_axis, slice_axis
from functrans.primitives import elementwise as _ew
from functrans.primitives.elementwise import (
    arccos_p,
    arccosh_p,
    arcsin_p,
    arcsinh_p,
    arctan2_p,
    arctan_p,
    arctanh_p,
    cos_p,
    cosh_p,
    hypot_p,
    sin_p,
    sinc_p,
    sinh_p,
    tan_p,
    tanh_p,
)
from functrans.typing import Array, ArrayLike

# --- trigonometric functions ---------------------------------------------------------------------


@unary_ufunc(sin_p, np.sin)
def sin(x: ArrayLike, /) -> Array:
    """The sine, elementwise; its derivative is ``cos(x)``.

    Args:
        x: Angles in radians.

    Returns:
        ``sin(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.sin(fnp.array([0.0, fnp.pi / 2])).tolist()
        [0.0, 1.0]
    """


@unary_ufunc(cos_p, np.cos)
def cos(x: ArrayLike, /) -> Array:
    """The cosine, elementwise; its derivative is ``-sin(x)``.

    Args:
        x: Angles in radians.

    Returns:
        ``cos(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.cos(fnp.array([0.0, fnp.pi])).tolist()
        [1.0, -1.0]
    """


@unary_ufunc(tan_p, np.tan)
def tan(x: ArrayLike, /) -> Array:
    """The tangent ``sin(x) / cos(x)``, elementwise; its derivative ``1 + tan(x)**2`` is
    infinite at odd multiples of pi/2.

    Args:
        x: Angles in radians.

    Returns:
        ``tan(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tan(fnp.array([0.0])).tolist()
        [0.0]
    """


@unary_ufunc(arcsin_p, np.arcsin)
def arcsin(x: ArrayLike, /) -> Array:
    """The inverse sine, in ``[-pi/2, pi/2]``. Defined on ``[-1, 1]`` (NaN outside); its
    derivative ``1 / sqrt(1 - x**2)`` is infinite at -1 and 1.
    ``asin`` is the same function (the array API's name).

    Args:
        x: Values in ``[-1, 1]``.

    Returns:
        The angles, in radians.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.arcsin(fnp.array([0.0, 1.0])).tolist() == [0.0, fnp.pi / 2]
        True
    """


@unary_ufunc(arccos_p, np.arccos)
def arccos(x: ArrayLike, /) -> Array:
    """The inverse cosine, in ``[0, pi]``. Defined on ``[-1, 1]`` (NaN outside); its
    derivative ``-1 / sqrt(1 - x**2)`` is infinite at -1 and 1.
    ``acos`` is the same function (the array API's name).

    Args:
        x: Values in ``[-1, 1]``.

    Returns:
        The angles, in radians.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.arccos(fnp.array([1.0, -1.0])).tolist() == [0.0, fnp.pi]
        True
    """


@unary_ufunc(arctan_p, np.arctan)
def arctan(x: ArrayLike, /) -> Array:
    """The inverse tangent, in ``(-pi/2, pi/2)``; its derivative is ``1 / (1 + x**2)``.
    ``atan`` is the same function (the array API's name).

    Args:
        x: An array or a scalar.

    Returns:
        The angles, in radians.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.arctan(fnp.array([0.0, 1.0])).tolist() == [0.0, fnp.pi / 4]
        True
    """


@binary_ufunc(arctan2_p, np.arctan2)
def arctan2(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The angle of the point ``(x2, x1)`` from the positive x axis, in ``[-pi, pi]``: the
    quadrant-aware ``arctan(x1 / x2)``. Its derivative is undefined at the origin.
    ``atan2`` is the same function (the array API's name).

    Args:
        x1: The y coordinates.
        x2: The x coordinates, broadcast against ``x1``.

    Returns:
        The angles, in radians.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.arctan2(fnp.array([1.0, 0.0]), fnp.array([0.0, -1.0])).tolist() == [fnp.pi / 2, fnp.pi]
        True
    """


@binary_ufunc(hypot_p, np.hypot)
def hypot(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The length ``sqrt(x1**2 + x2**2)`` of the hypotenuse, without overflow. Its
    derivative at the origin is taken as 0.

    Args:
        x1: One leg.
        x2: The other leg, broadcast against ``x1``.

    Returns:
        The lengths, in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.hypot(fnp.array([3.0]), fnp.array([4.0])).tolist()
        [5.0]
    """


def sinc(x: ArrayLike, /) -> Array:
    """The normalised sinc function ``sin(pi x) / (pi x)``, 1 at 0. Its first and second
    derivatives are exact at and near 0 (0 and ``-pi**2 / 3`` at 0).

    Args:
        x: An array or a scalar.

    Returns:
        ``sinc(x)`` in a floating dtype.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> float(fnp.sinc(0.0)), float(ft.grad(fnp.sinc)(0.0))
        (1.0, 0.0)
    """
    return sinc_p.bind(floating(x))


# --- hyperbolic functions ------------------------------------------------------------------------


@unary_ufunc(sinh_p, np.sinh)
def sinh(x: ArrayLike, /) -> Array:
    """The hyperbolic sine ``(exp(x) - exp(-x)) / 2``; its derivative is ``cosh(x)``.

    Args:
        x: An array or a scalar.

    Returns:
        ``sinh(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.sinh(fnp.array([0.0])).tolist()
        [0.0]
    """


@unary_ufunc(cosh_p, np.cosh)
def cosh(x: ArrayLike, /) -> Array:
    """The hyperbolic cosine ``(exp(x) + exp(-x)) / 2``; its derivative is ``sinh(x)``.

    Args:
        x: An array or a scalar.

    Returns:
        ``cosh(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.cosh(fnp.array([0.0])).tolist()
        [1.0]
    """


@unary_ufunc(tanh_p, np.tanh)
def tanh(x: ArrayLike, /) -> Array:
    """The hyperbolic tangent, in ``(-1, 1)``; its derivative is ``1 - tanh(x)**2``.

    Args:
        x: An array or a scalar.

    Returns:
        ``tanh(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tanh(fnp.array([0.0, fnp.inf])).tolist()
        [0.0, 1.0]
    """


@unary_ufunc(arcsinh_p, np.arcsinh)
def arcsinh(x: ArrayLike, /) -> Array:
    """The inverse hyperbolic sine; its derivative is ``1 / sqrt(x**2 + 1)``.
    ``asinh`` is the same function (the array API's name).

    Args:
        x: An array or a scalar.

    Returns:
        ``arcsinh(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.arcsinh(fnp.array([0.0])).tolist()
        [0.0]
    """


@unary_ufunc(arccosh_p, np.arccosh)
def arccosh(x: ArrayLike, /) -> Array:
    """The inverse hyperbolic cosine, non-negative. Defined for ``x >= 1`` (NaN below); its
    derivative ``1 / sqrt((x - 1)(x + 1))`` is infinite at 1.
    ``acosh`` is the same function (the array API's name).

    Args:
        x: Values of at least 1.

    Returns:
        ``arccosh(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.arccosh(fnp.array([1.0])).tolist()
        [0.0]
    """


@unary_ufunc(arctanh_p, np.arctanh)
def arctanh(x: ArrayLike, /) -> Array:
    """The inverse hyperbolic tangent. Defined on ``(-1, 1)`` (infinite at -1 and 1, NaN
    outside); its derivative ``1 / ((1 - x)(1 + x))`` is infinite at -1 and 1.
    ``atanh`` is the same function (the array API's name).

    Args:
        x: Values in ``(-1, 1)``.

    Returns:
        ``arctanh(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.arctanh(fnp.array([0.0])).tolist()
        [0.0]
    """


# --- angle conversions ---------------------------------------------------------------------------


def deg2rad(x: ArrayLike, /) -> Array:
    """Degrees to radians: ``x * pi / 180``.
    ``radians`` is the same function.

    Args:
        x: Angles in degrees.

    Returns:
        The angles in radians, in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.deg2rad(fnp.array([180.0])).tolist() == [fnp.pi]
        True
    """
    return _ew.mul(floating(x), math.pi / 180)


def rad2deg(x: ArrayLike, /) -> Array:
    """Radians to degrees: ``x * 180 / pi``.
    ``degrees`` is the same function.

    Args:
        x: Angles in radians.

    Returns:
        The angles in degrees, in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.rad2deg(fnp.array([fnp.pi])).tolist()
        [180.0]
    """
    return _ew.mul(floating(x), 180 / math.pi)


def unwrap(p: ArrayLike, discont: float | None = None, axis: int = -1, *, period: float = 2 * math.pi) -> Array:
    """The phases ``p`` with jumps larger than ``discont`` (``period / 2`` by default)
    along ``axis`` undone by adding multiples of ``period``, as ``numpy.unwrap``. The
    corrections are piecewise constant: the derivative is that of ``p``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.unwrap(fnp.array([0.0, 3.0, -3.0])).round(6).tolist()
        [0.0, 3.0, 3.283185]
    """
    x = as_array(p)
    if x.dtype.kind not in "fc":
        x = floating(x)
    nd = len(x.shape)
    axis = normalize_axis(axis, nd)
    if discont is None:
        discont = period / 2
    dd = diff(x, axis=axis)
    half = period / 2
    ddmod = _ew.sub(_ew.mod(_ew.add(dd, half), period), half)
    if x.dtype.kind in "f":  # NumPy's boundary case: a jump of exactly +half stays +half
        ddmod = _ew.select(_ew.logical_and(_ew.eq(ddmod, -half), _ew.gt(dd, 0)), half, ddmod)
    correction = _ew.sub(ddmod, dd)
    correction = _ew.select(_ew.lt(_ew.abs(dd), discont), 0.0, correction)
    first = slice_axis(x, axis, 0, 1)
    rest = _ew.add(slice_axis(x, axis, 1, x.shape[axis]), cumsum(correction, axis=axis))
    return concatenate([first, rest], axis=axis) if x.shape[axis] else x
