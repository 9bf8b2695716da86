"""JAX's running reductions other than ``cumsum``: ``cummax``, ``cummin``, ``cumprod`` and
``cumlogsumexp``, each the ``associative_scan`` of its pairwise primitive, so that their
derivatives are those of the pairwise steps (tied maxima share theirs equally; products with
zeros are exact, no division).
"""
from __future__ import annotations

from collections.abc import Callable

from functrans._abstract import shape_of
from functrans.lax.associative_scan import associative_scan
from functrans.primitives import elementwise as _ew
from functrans.typing import Array, ArrayLike


def _running(pairwise: Callable[[Array, Array], Array], operand: ArrayLike, axis: int, reverse: bool) -> Array:
    ndim = len(shape_of(operand))
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for an operand of {ndim} dimension(s)")
    return associative_scan(pairwise, operand, reverse=bool(reverse), axis=axis % ndim)


def cummax(operand: ArrayLike, axis: int = 0, reverse: bool = False) -> Array:
    """The running maximum along ``axis`` (from the end with ``reverse``); tied entries
    share the derivative equally.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.cummax(np.array([1.0, 3.0, 2.0, 5.0]))
        array([1., 3., 3., 5.])
    """
    return _running(_ew.max, operand, axis, reverse)


def cummin(operand: ArrayLike, axis: int = 0, reverse: bool = False) -> Array:
    """The running minimum along ``axis`` (from the end with ``reverse``).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.cummin(np.array([3.0, 1.0, 2.0]), reverse=True)
        array([1., 1., 2.])
    """
    return _running(_ew.min, operand, axis, reverse)


def cumprod(operand: ArrayLike, axis: int = 0, reverse: bool = False) -> Array:
    """The running product along ``axis`` (from the end with ``reverse``), with exact
    derivatives where entries are zero.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.cumprod(np.array([2.0, 3.0, 4.0]))
        array([ 2.,  6., 24.])
    """
    return _running(_ew.mul, operand, axis, reverse)


def cumlogsumexp(operand: ArrayLike, axis: int = 0, reverse: bool = False) -> Array:
    """The running ``log(sum(exp(x)))`` along ``axis`` (from the end with ``reverse``),
    without overflow.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.cumlogsumexp(np.array([0.0, 0.0, 1000.0])).round(4).tolist()
        [0.0, 0.6931, 1000.0]
    """
    return _running(_ew.logaddexp, operand, axis, reverse)
