"""``functrans.scipy.stats.gumbel_r``: the right-skewed Gumbel distribution (of maxima), with
distribution function ``exp(-exp(-z))``, ``z = (x - loc) / scale``; differentiable in ``x``,
``loc`` and ``scale``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy.stats._util import (
    distribution_function,
    loc_scale_ppf,
    log,
    log1mexp_exp_minus,
    nan_unless,
    standardize,
)
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


def _exp_minus(z: Array) -> Array:
    """``exp(-z)``, the quantity every function below is written with."""
    return fnp.exp(-z)


@distribution_function
def logpdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``exp(-z - exp(-z)) / scale``.

    Example:
        >>> from functrans.scipy.stats import gumbel_r
        >>> round(float(gumbel_r.logpdf(0.0)), 12)
        -1.0
    """
    z, valid, scale = standardize(x, loc, scale)
    return nan_unless(valid, -z - _exp_minus(z) - log(scale))  # NaN at x = -inf, as SciPy


def pdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import gumbel_r
        >>> round(float(gumbel_r.pdf(0.0)), 12)
        0.367879441171
    """
    return fnp.exp(logpdf(x, loc, scale))


@distribution_function
def logcdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function, ``-exp(-z)``.

    Example:
        >>> from functrans.scipy.stats import gumbel_r
        >>> float(gumbel_r.logcdf(0.0))
        -1.0
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, -_exp_minus(z))


@distribution_function
def cdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``exp(-exp(-z))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_r
        >>> round(float(gumbel_r.cdf(0.0)), 12)
        0.367879441171
    """
    return fnp.exp(logcdf(x, loc, scale))


@distribution_function
def logsf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function, ``log(1 - exp(-exp(-z)))``, accurate in both tails.

    Example:
        >>> from functrans.scipy.stats import gumbel_r
        >>> float(gumbel_r.logsf(800.0))
        -800.0
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, log1mexp_exp_minus(z))



@distribution_function
def sf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function ``1 - exp(-exp(-z))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_r
        >>> round(float(gumbel_r.sf(0.0)), 12)
        0.632120558829
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, -fnp.expm1(-_exp_minus(z)))


@distribution_function
def ppf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function ``-log(-log(q))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_r
        >>> round(float(gumbel_r.ppf(0.5)), 9)
        0.366512921
    """
    return loc_scale_ppf(lambda q: -fnp.log(-fnp.log(q)), q, loc, scale)


@distribution_function
def isf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The inverse of the survival function, ``-log(-log1p(-q))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_r
        >>> round(float(gumbel_r.isf(0.5)), 9)
        0.366512921
    """
    return loc_scale_ppf(lambda q: -fnp.log(-fnp.log1p(-q)), q, loc, scale)
