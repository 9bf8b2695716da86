"""``functrans.scipy.stats.cauchy``: the Cauchy distribution with location ``loc`` and scale
``scale``, differentiable in ``x``, ``loc`` and ``scale``."""
from __future__ import annotations

import math

import functrans.numpy as fnp
from functrans.scipy.stats._util import distribution_function, loc_scale_ppf, log, nan_unless, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]

_LOG_PI = math.log(math.pi)


@distribution_function
def logpdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``1 / (pi scale (1 + z**2))``, ``z = (x - loc) / scale``.

    Example:
        >>> from functrans.scipy.stats import cauchy
        >>> round(float(cauchy.logpdf(0.0)), 12)
        -1.144729885849
    """
    z, valid, scale = standardize(x, loc, scale)
    return nan_unless(valid, -_LOG_PI - fnp.log1p(z * z) - log(scale))


def pdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import cauchy
        >>> round(float(cauchy.pdf(0.0)), 12)
        0.318309886184
    """
    return fnp.exp(logpdf(x, loc, scale))


@distribution_function
def cdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``atan2(1, -z) / pi``, accurate in both tails.

    Example:
        >>> from functrans.scipy.stats import cauchy
        >>> float(cauchy.cdf(1.0))
        0.75
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, fnp.arctan2(1.0, -z) / math.pi)


def logcdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function.

    Example:
        >>> from functrans.scipy.stats import cauchy
        >>> round(float(cauchy.logcdf(-1e300)), 6)
        -691.920258
    """
    return fnp.log(cdf(x, loc, scale))


@distribution_function
def sf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function ``atan2(1, z) / pi``.

    Example:
        >>> from functrans.scipy.stats import cauchy
        >>> float(cauchy.sf(1.0))
        0.25
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, fnp.arctan2(1.0, z) / math.pi)


def logsf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function.

    Example:
        >>> from functrans.scipy.stats import cauchy
        >>> round(float(cauchy.logsf(0.0)), 12)
        -0.69314718056
    """
    return fnp.log(sf(x, loc, scale))


def _ppf(q: Array) -> Array:
    # tan(pi (q - 1/2)), with the infinite ends exact
    return fnp.where(fnp.equal(q, 0), -fnp.inf,
                     fnp.where(fnp.equal(q, 1), fnp.inf, fnp.tan(math.pi * (q - 0.5))))


@distribution_function
def ppf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function ``tan(pi (q - 1/2))``.

    Example:
        >>> from functrans.scipy.stats import cauchy
        >>> float(cauchy.ppf(0.5))
        0.0
    """
    return loc_scale_ppf(_ppf, q, loc, scale)


@distribution_function
def isf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The inverse of the survival function.

    Example:
        >>> from functrans.scipy.stats import cauchy
        >>> float(cauchy.isf(0.5))
        0.0
    """
    return loc_scale_ppf(lambda q: -_ppf(q), q, loc, scale)
