"""Exponentials and logarithms with NumPy's names (and the logistic sigmoid), elementwise.

Integer input gives float64, as in NumPy. The logarithms' derivatives ``1 / x`` are infinite
at 0, and negative reals give NaN (pass complex input for complex logarithms).
"""
from __future__ import annotations

import numpy as np

from functrans.numpy._ufuncs import binary_ufunc, unary_ufunc
from functrans.numpy._util import floating, operand
from functrans.primitives import elementwise as _ew
from functrans.primitives import special as _special
from functrans.primitives.elementwise import (
    exp2_p,
    exp_p,
    expm1_p,
    log1p_p,
    log2_p,
    log10_p,
    log_p,
    logaddexp2_p,
    logaddexp_p,
)
from functrans.typing import Array, ArrayLike


@unary_ufunc(exp_p, np.exp)
def exp(x: ArrayLike, /) -> Array:
    """The exponential ``e**x``, elementwise; its own derivative.

    Args:
        x: An array or a scalar.

    Returns:
        ``exp(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.exp(fnp.array([0.0, 1.0])).tolist() == [1.0, fnp.e]
        True
    """


@unary_ufunc(expm1_p, np.expm1)
def expm1(x: ArrayLike, /) -> Array:
    """``exp(x) - 1``, accurate for small ``x``.

    Args:
        x: An array or a scalar.

    Returns:
        ``exp(x) - 1`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.expm1(fnp.array([0.0, 1e-20])).tolist()
        [0.0, 1e-20]
    """


@unary_ufunc(exp2_p, np.exp2)
def exp2(x: ArrayLike, /) -> Array:
    """``2**x``, elementwise.

    Args:
        x: An array or a scalar.

    Returns:
        ``2**x`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.exp2(fnp.array([3.0, -1.0])).tolist()
        [8.0, 0.5]
    """


@unary_ufunc(log_p, np.log)
def log(x: ArrayLike, /) -> Array:
    """The natural logarithm, elementwise. Defined for ``x > 0`` (real); its derivative
    ``1 / x`` is infinite at 0.

    Args:
        x: An array or a scalar.

    Returns:
        ``log(x)`` in a floating dtype (``-inf`` at 0, NaN below).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.log(fnp.array([1.0, fnp.e])).tolist()
        [0.0, 1.0]
    """


@unary_ufunc(log1p_p, np.log1p)
def log1p(x: ArrayLike, /) -> Array:
    """``log(1 + x)``, accurate for small ``x``. Defined for ``x > -1``; its derivative
    ``1 / (1 + x)`` is infinite at -1.

    Args:
        x: An array or a scalar.

    Returns:
        ``log(1 + x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.log1p(fnp.array([0.0, 1e-20])).tolist()
        [0.0, 1e-20]
    """


@unary_ufunc(log2_p, np.log2)
def log2(x: ArrayLike, /) -> Array:
    """The base-2 logarithm, elementwise. Defined for ``x > 0``; its derivative
    ``1 / (x log 2)`` is infinite at 0.

    Args:
        x: An array or a scalar.

    Returns:
        ``log2(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.log2(fnp.array([1.0, 8.0])).tolist()
        [0.0, 3.0]
    """


@unary_ufunc(log10_p, np.log10)
def log10(x: ArrayLike, /) -> Array:
    """The base-10 logarithm, elementwise. Defined for ``x > 0``; its derivative
    ``1 / (x log 10)`` is infinite at 0.

    Args:
        x: An array or a scalar.

    Returns:
        ``log10(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.log10(fnp.array([1.0, 100.0])).tolist()
        [0.0, 2.0]
    """


@binary_ufunc(logaddexp_p, np.logaddexp)
def logaddexp(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``log(exp(x1) + exp(x2))`` without overflow. The derivative in ``x1`` is
    ``logistic(x1 - x2)``, exactly 1/2 at ``x1 == x2`` (also when both are -inf).
    ``logaddexp(x, 0)`` is softplus and ``-logaddexp(0, -x)`` is log-sigmoid, with
    derivatives accurate at 0 and far into both tails.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        ``log(exp(x1) + exp(x2))`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logaddexp(fnp.array([0.0]), fnp.array([0.0])).tolist() == [fnp.log(2.0)]
        True
    """


@binary_ufunc(logaddexp2_p, np.logaddexp2)
def logaddexp2(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``log2(2**x1 + 2**x2)`` without overflow.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        ``log2(2**x1 + 2**x2)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logaddexp2(fnp.array([1.0]), fnp.array([1.0])).tolist()
        [2.0]
    """


def logistic(x: ArrayLike, /) -> Array:
    """The logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow; its
    derivative stays accurate far into the tails.

    Args:
        x: An array or a scalar.

    Returns:
        Values in ``[0, 1]``, in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.logistic(0.0))
        0.5
    """
    return _ew.logistic(operand(x))


def i0(x: ArrayLike) -> Array:
    """The modified Bessel function of the first kind of order 0, elementwise, as
    ``numpy.i0`` (which the Kaiser window uses); its derivative is ``i1(x)``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.i0(fnp.array([0.0, 1.0])).round(6).tolist()
        [1.0, 1.266066]
    """
    x = floating(x)
    if type(x) is np.ndarray:
        return np.i0(x)  # numpy-only: a NumPy array, by the check above
    return _special.i0(x)
