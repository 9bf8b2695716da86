"""``functrans.scipy.stats.expon``: the exponential distribution on ``x >= loc`` with mean
``loc + scale``, differentiable in ``x``, ``loc`` and ``scale``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy.stats._util import (
    distribution_function,
    loc_scale_ppf,
    log,
    log1mexp,
    nan_unless,
    outside,
    standardize,
)
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


@distribution_function
def logpdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``exp(-z) / scale``, ``z = (x - loc) / scale``; ``-inf`` below ``loc``.

    Example:
        >>> from functrans.scipy.stats import expon
        >>> float(expon.logpdf(1.0))
        -1.0
    """
    z, valid, scale = standardize(x, loc, scale)
    return nan_unless(valid, outside(fnp.less(z, 0), z, 0.0, fnp.negative, -fnp.inf) - log(scale))


def pdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import expon
        >>> float(expon.pdf(0.0))
        1.0
    """
    return fnp.exp(logpdf(x, loc, scale))


@distribution_function
def cdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``1 - exp(-z)``.

    Example:
        >>> from functrans.scipy.stats import expon
        >>> round(float(expon.cdf(1.0)), 12)
        0.632120558829
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, outside(fnp.less(z, 0), z, 0.0, lambda z: -fnp.expm1(-z), 0.0))


@distribution_function
def logcdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function, accurate near ``loc``.

    Example:
        >>> from functrans.scipy.stats import expon
        >>> round(float(expon.logcdf(1e-20)), 6)
        -46.051702
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, outside(fnp.less(z, 0), z, 1.0, log1mexp, -fnp.inf))


@distribution_function
def sf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function ``exp(-z)``.

    Example:
        >>> from functrans.scipy.stats import expon
        >>> float(expon.sf(0.0))
        1.0
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, outside(fnp.less(z, 0), z, 0.0, lambda z: fnp.exp(-z), 1.0))


@distribution_function
def logsf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function, ``-z``.

    Example:
        >>> from functrans.scipy.stats import expon
        >>> float(expon.logsf(3.0))
        -3.0
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, outside(fnp.less(z, 0), z, 0.0, fnp.negative, 0.0))


@distribution_function
def ppf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function ``loc - scale * log(1 - q)``.

    Example:
        >>> from functrans.scipy.stats import expon
        >>> float(expon.ppf(0.0))
        0.0
    """
    return loc_scale_ppf(lambda q: -fnp.log1p(-q), q, loc, scale)


@distribution_function
def isf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The inverse of the survival function, ``loc - scale * log(q)``.

    Example:
        >>> from functrans.scipy.stats import expon
        >>> float(expon.isf(1.0))
        0.0
    """
    return loc_scale_ppf(lambda q: -fnp.log(q), q, loc, scale)

