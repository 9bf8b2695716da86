"""Logic functions with NumPy's names, elementwise: comparisons, logical operators, and tests
for NaN, infinities and the sign bit. All return booleans and carry no derivative."""
from __future__ import annotations

import numpy as np

from functrans.numpy._ufuncs import binary_ufunc, unary_ufunc
from functrans.numpy._util import operand
from functrans.primitives import elementwise as _ew
from functrans.primitives.elementwise import (
    eq_p,
    ge_p,
    gt_p,
    isfinite_p,
    isinf_p,
    isnan_p,
    le_p,
    logical_and_p,
    logical_not_p,
    logical_or_p,
    logical_xor_p,
    lt_p,
    ne_p,
    signbit_p,
)
from functrans.typing import Array, ArrayLike

# --- comparisons ---------------------------------------------------------------------------------


@binary_ufunc(eq_p, np.equal)
def equal(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 == x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.equal(fnp.array([1.0, 2.0]), 2.0).tolist()
        [False, True]
    """


@binary_ufunc(ne_p, np.not_equal)
def not_equal(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 != x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.not_equal(fnp.array([1.0, 2.0]), 2.0).tolist()
        [True, False]
    """


@binary_ufunc(lt_p, np.less)
def less(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 < x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.less(fnp.array([1.0, 2.0]), 2.0).tolist()
        [True, False]
    """


@binary_ufunc(le_p, np.less_equal)
def less_equal(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 <= x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.less_equal(fnp.array([1.0, 3.0]), 2.0).tolist()
        [True, False]
    """


@binary_ufunc(gt_p, np.greater)
def greater(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 > x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.greater(fnp.array([1.0, 3.0]), 2.0).tolist()
        [False, True]
    """


@binary_ufunc(ge_p, np.greater_equal)
def greater_equal(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 >= x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.greater_equal(fnp.array([1.0, 2.0]), 2.0).tolist()
        [False, True]
    """


# --- logical operators ---------------------------------------------------------------------------


@binary_ufunc(logical_and_p, np.logical_and)
def logical_and(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Elementwise logical AND (nonzero values count as true).

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logical_and(fnp.array([True, True]), fnp.array([True, False])).tolist()
        [True, False]
    """


@binary_ufunc(logical_or_p, np.logical_or)
def logical_or(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Elementwise logical OR (nonzero values count as true).

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logical_or(fnp.array([True, False]), fnp.array([False, False])).tolist()
        [True, False]
    """


@binary_ufunc(logical_xor_p, np.logical_xor)
def logical_xor(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Elementwise logical exclusive OR (nonzero values count as true).

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logical_xor(fnp.array([True, True]), fnp.array([True, False])).tolist()
        [False, True]
    """


@unary_ufunc(logical_not_p, np.logical_not)
def logical_not(x: ArrayLike, /) -> Array:
    """Elementwise logical NOT (nonzero values count as true).

    Args:
        x: An array or a scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logical_not(fnp.array([True, False])).tolist()
        [False, True]
    """


# --- NaN, infinities, the sign bit -----------------------------------------------------------------


@unary_ufunc(isnan_p, np.isnan)
def isnan(x: ArrayLike, /) -> Array:
    """True where ``x`` is NaN (for complex ``x``: either part).

    Args:
        x: An array or a scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isnan(fnp.array([fnp.nan, 1.0])).tolist()
        [True, False]
    """


@unary_ufunc(isinf_p, np.isinf)
def isinf(x: ArrayLike, /) -> Array:
    """True where ``x`` is +inf or -inf.

    Args:
        x: An array or a scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isinf(fnp.array([fnp.inf, 1.0])).tolist()
        [True, False]
    """


@unary_ufunc(isfinite_p, np.isfinite)
def isfinite(x: ArrayLike, /) -> Array:
    """True where ``x`` is neither infinite nor NaN.

    Args:
        x: An array or a scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isfinite(fnp.array([fnp.inf, 1.0])).tolist()
        [False, True]
    """


def isposinf(x: ArrayLike, /) -> Array:
    """True where ``x`` is +inf.

    Args:
        x: A real array or scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isposinf(fnp.array([fnp.inf, -fnp.inf])).tolist()
        [True, False]
    """
    return _ew.eq(operand(x), np.inf)


def isneginf(x: ArrayLike, /) -> Array:
    """True where ``x`` is -inf.

    Args:
        x: A real array or scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isneginf(fnp.array([fnp.inf, -fnp.inf])).tolist()
        [False, True]
    """
    return _ew.eq(operand(x), -np.inf)


@unary_ufunc(signbit_p, np.signbit)
def signbit(x: ArrayLike, /) -> Array:
    """True where the sign bit is set: negative numbers, -0.0 and -inf.

    Args:
        x: A real array or scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.signbit(fnp.array([-0.0, 1.0])).tolist()
        [True, False]
    """
