"""Rounding with NumPy's names, elementwise. Every rounding function is piecewise constant:
its derivative is zero (where it exists; at the jumps it does not)."""
from __future__ import annotations

import numpy as np

from functrans.numpy._ufuncs import unary_ufunc
from functrans.numpy._util import operand, refuse_out
from functrans.primitives.elementwise import ceil_p, floor_p, rint_p, round_, trunc_p
from functrans.typing import Array, ArrayLike


@unary_ufunc(floor_p, np.floor)
def floor(x: ArrayLike, /) -> Array:
    """The largest integer not above ``x``, elementwise. Zero derivative.

    Args:
        x: A real array or scalar.

    Returns:
        ``floor(x)``, in the dtype of ``x`` (floats stay floats).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.floor(fnp.array([1.5, -1.5])).tolist()
        [1.0, -2.0]
    """


@unary_ufunc(ceil_p, np.ceil)
def ceil(x: ArrayLike, /) -> Array:
    """The smallest integer not below ``x``, elementwise. Zero derivative.

    Args:
        x: A real array or scalar.

    Returns:
        ``ceil(x)``, in the dtype of ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ceil(fnp.array([1.5, -1.5])).tolist()
        [2.0, -1.0]
    """


@unary_ufunc(rint_p, np.rint)
def rint(x: ArrayLike, /) -> Array:
    """The nearest integer, elementwise; halves round to even. Zero derivative.

    Args:
        x: An array or a scalar.

    Returns:
        The rounded values, in the dtype of ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.rint(fnp.array([0.5, 1.5])).tolist()
        [0.0, 2.0]
    """


@unary_ufunc(trunc_p, np.trunc)
def trunc(x: ArrayLike, /) -> Array:
    """The integer part of ``x`` (rounded towards zero), elementwise. Zero derivative.
    ``fix`` is the same function.

    Args:
        x: A real array or scalar.

    Returns:
        ``trunc(x)``, in the dtype of ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.trunc(fnp.array([1.5, -1.5])).tolist()
        [1.0, -1.0]
    """


def round(a: ArrayLike, decimals: int = 0, *, out: None = None) -> Array:
    """Round to ``decimals`` decimal places (halves to even). Zero derivative.
    ``around`` is the same function.

    Args:
        a: An array or a scalar.
        decimals: The number of decimal places (negative: to tens, hundreds, ...).

    Returns:
        The rounded values, in the dtype of ``a``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.round(fnp.array([1.25, 2.5]), 1).tolist()
        [1.2, 2.5]
    """
    refuse_out("round", out)
    return round_(operand(a), decimals)
