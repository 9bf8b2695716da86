"""``functrans.scipy.stats.norm``: the normal distribution with mean ``loc`` and standard
deviation ``scale``, differentiable in ``x``, ``loc`` and ``scale``."""
from __future__ import annotations

import math

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import distribution_function, loc_scale_ppf, log, nan_unless, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@distribution_function
def logpdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> round(float(norm.logpdf(0.0)), 12)
        -0.918938533205
    """
    z, valid, scale = standardize(x, loc, scale)
    return nan_unless(valid, -0.5 * (z * z) - _LOG_SQRT_2PI - log(scale))


def pdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> round(float(norm.pdf(0.0)), 12)
        0.398942280401
    """
    return fnp.exp(logpdf(x, loc, scale))


@distribution_function
def cdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``P(X <= x)``.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> float(norm.cdf(0.0))
        0.5
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, _special.ndtr(z))


@distribution_function
def logcdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function, accurate far into the left tail.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> round(float(norm.logcdf(-40.0)), 3)
        -804.608
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, _special.log_ndtr(z))


@distribution_function
def sf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function ``P(X > x)``, the ``cdf`` of ``-z`` for the standard variable ``z``.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> float(norm.sf(0.0))
        0.5
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, _special.ndtr(-z))


@distribution_function
def logsf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> round(float(norm.logsf(0.0)), 12)
        -0.69314718056
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, _special.log_ndtr(-z))


@distribution_function
def ppf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function (the inverse of ``cdf``).

    Example:
        >>> from functrans.scipy.stats import norm
        >>> float(norm.ppf(0.5))
        0.0
    """
    return loc_scale_ppf(_special.ndtri, q, loc, scale)


@distribution_function
def isf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The inverse of the survival function, ``ppf(1 - q)`` computed without the rounding of ``1 - q``.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> round(float(norm.isf(0.025)), 6)
        1.959964
    """
    return loc_scale_ppf(lambda q: -_special.ndtri(q), q, loc, scale)
