"""``functrans.scipy.stats.laplace``: the Laplace (double exponential) distribution with
location ``loc`` and scale ``scale``, differentiable in ``x``, ``loc`` and ``scale``."""
from __future__ import annotations

import math

import functrans.numpy as fnp
from functrans.scipy.stats._util import distribution_function, loc_scale_ppf, log, nan_unless, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]

_LOG2 = math.log(2.0)


def _logcdf(z: Array) -> Array:
    # each branch sees only its own half of the line, so neither overflows
    below, above = fnp.minimum(z, 0.0), fnp.maximum(z, 0.0)
    return fnp.where(fnp.less(z, 0), below - _LOG2, fnp.log1p(-0.5 * fnp.exp(-above)))


@distribution_function
def logpdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``exp(-|z|) / (2 scale)``, ``z = (x - loc) / scale``.

    Example:
        >>> from functrans.scipy.stats import laplace
        >>> round(float(laplace.logpdf(0.0)), 12)
        -0.69314718056
    """
    z, valid, scale = standardize(x, loc, scale)
    return nan_unless(valid, -fnp.abs(z) - _LOG2 - log(scale))


def pdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import laplace
        >>> float(laplace.pdf(0.0))
        0.5
    """
    return fnp.exp(logpdf(x, loc, scale))


@distribution_function
def logcdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function.

    Example:
        >>> from functrans.scipy.stats import laplace
        >>> round(float(laplace.logcdf(-50.0)), 9)
        -50.693147181
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, _logcdf(z))


def cdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function.

    Example:
        >>> from functrans.scipy.stats import laplace
        >>> float(laplace.cdf(0.0))
        0.5
    """
    return fnp.exp(logcdf(x, loc, scale))


@distribution_function
def logsf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function (``logcdf`` of ``-z``).

    Example:
        >>> from functrans.scipy.stats import laplace
        >>> round(float(laplace.logsf(50.0)), 9)
        -50.693147181
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, _logcdf(-z))


def sf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function.

    Example:
        >>> from functrans.scipy.stats import laplace
        >>> float(laplace.sf(0.0))
        0.5
    """
    return fnp.exp(logsf(x, loc, scale))


def _ppf(q: Array) -> Array:
    low, high = fnp.minimum(q, 0.5), fnp.maximum(q, 0.5)
    return fnp.where(fnp.greater(q, 0.5), -fnp.log(2.0 - 2.0 * high), fnp.log(2.0 * low))


@distribution_function
def ppf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function.

    Example:
        >>> from functrans.scipy.stats import laplace
        >>> float(laplace.ppf(0.5))
        0.0
    """
    return loc_scale_ppf(_ppf, q, loc, scale)


@distribution_function
def isf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The inverse of the survival function.

    Example:
        >>> from functrans.scipy.stats import laplace
        >>> round(float(laplace.isf(0.25)), 12)
        0.69314718056
    """
    return loc_scale_ppf(lambda q: -_ppf(q), q, loc, scale)

