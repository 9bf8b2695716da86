"""``functrans.scipy.stats.wrapcauchy``: the wrapped Cauchy distribution of shape ``0 < c < 1``
on ``[0, 2 pi]`` (the Cauchy distribution wound around the circle), differentiable in ``x``,
``c``, ``loc`` and ``scale``."""
from __future__ import annotations

import math

import functrans.numpy as fnp
from functrans.scipy.stats._util import distribution_function, floats, log, nan_unless, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["logpdf", "pdf"]

_LOG_2PI = math.log(2.0 * math.pi)


@distribution_function
def logpdf(x: ArrayLike, c: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``(1 - c**2) / (2 pi (1 + c**2 - 2 c cos(z)) scale)`` of
    ``z = (x - loc) / scale`` in ``[0, 2 pi]``; ``-inf`` outside, ``nan`` for ``c`` outside
    (0, 1) or a scale that is not positive.

    Example:
        >>> from functrans.scipy.stats import wrapcauchy
        >>> round(float(wrapcauchy.logpdf(0.0, 0.5)), 12)  # log(3 / (2 pi))
        -0.739264777741
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    (c,) = floats(c)
    c_ok = fnp.logical_and(fnp.greater(c, 0), fnp.less(c, 1))
    c = fnp.where(c_ok, c, 0.5)
    off = fnp.logical_or(fnp.less(z, 0), fnp.greater(z, 2.0 * math.pi))
    z = fnp.where(off, 0.0, z)
    out = fnp.log1p(-c * c) - _LOG_2PI - fnp.log1p(c * c - 2.0 * c * fnp.cos(z)) - log(scale)
    return nan_unless(fnp.logical_and(scale_ok, c_ok), fnp.where(off, -fnp.inf, out))


def pdf(x: ArrayLike, c: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import wrapcauchy
        >>> round(float(wrapcauchy.pdf(0.0, 0.5)), 12)
        0.477464829276
    """
    return fnp.exp(logpdf(x, c, loc, scale))
