"""``functrans.scipy.stats.chi2``: the chi-squared distribution with ``df`` degrees of freedom
(the gamma distribution of shape ``df / 2`` and scale 2), differentiable in ``x``, ``df``,
``loc`` and ``scale`` (the distribution functions once in ``df``)."""
from __future__ import annotations

import math

import functrans.numpy as fnp
from functrans.scipy.stats._util import distribution_function, log, log_probability, nan_unless, positive, standardize
from functrans.scipy.stats.gamma import standard_cdf_sf, standard_logpdf
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]

_LOG2 = math.log(2.0)


@distribution_function
def logpdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> round(float(chi2.logpdf(0.0, 2.0)), 12)  # log(1/2)
        -0.69314718056
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    df_ok, df = positive(df)
    out = standard_logpdf(0.5 * z, 0.5 * df) - _LOG2 - log(scale)
    return nan_unless(fnp.logical_and(scale_ok, df_ok), out)


def pdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> float(chi2.pdf(0.0, 2.0))
        0.5
    """
    return fnp.exp(logpdf(x, df, loc, scale))


def _cdf_sf(x: ArrayLike, df: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> tuple[Array, Array, Array]:
    z, scale_ok, _ = standardize(x, loc, scale)
    df_ok, df = positive(df)
    return (*standard_cdf_sf(0.5 * z, 0.5 * df), fnp.logical_and(scale_ok, df_ok))


@distribution_function
def cdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> round(float(chi2.cdf(2.0, 2.0)), 12)  # 1 - exp(-1)
        0.632120558829
    """
    low, high, valid = _cdf_sf(x, df, loc, scale)
    return nan_unless(valid, low)


@distribution_function
def logcdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> float(chi2.logcdf(0.0, 2.0))
        -inf
    """
    low, high, valid = _cdf_sf(x, df, loc, scale)
    return nan_unless(valid, log_probability(low, high))


@distribution_function
def sf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> round(float(chi2.sf(2.0, 2.0)), 12)  # exp(-1)
        0.367879441171
    """
    low, high, valid = _cdf_sf(x, df, loc, scale)
    return nan_unless(valid, high)


@distribution_function
def logsf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> round(float(chi2.logsf(6.0, 2.0)), 12)
        -3.0
    """
    low, high, valid = _cdf_sf(x, df, loc, scale)
    return nan_unless(valid, log_probability(high, low))
