"""``functrans.scipy.stats.gumbel_l``: the left-skewed Gumbel distribution (of minima), the
mirror image of ``gumbel_r``: distribution function ``1 - exp(-exp(z))``,
``z = (x - loc) / scale``; differentiable in ``x``, ``loc`` and ``scale``."""
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


@distribution_function
def logpdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``exp(z - exp(z)) / scale``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.logpdf(0.0)), 12)
        -1.0
    """
    z, valid, scale = standardize(x, loc, scale)
    return nan_unless(valid, z - fnp.exp(z) - log(scale))  # NaN at x = inf, as SciPy


def pdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.pdf(0.0)), 12)
        0.367879441171
    """
    return fnp.exp(logpdf(x, loc, scale))


@distribution_function
def logcdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function, ``log(1 - exp(-exp(z)))``, accurate in both tails.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> float(gumbel_l.logcdf(-800.0))
        -800.0
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, log1mexp_exp_minus(-z))


@distribution_function
def cdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``1 - exp(-exp(z))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.cdf(0.0)), 12)
        0.632120558829
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, -fnp.expm1(-fnp.exp(z)))


@distribution_function
def logsf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function, ``-exp(z)``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> float(gumbel_l.logsf(0.0))
        -1.0
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, -fnp.exp(z))


@distribution_function
def sf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function ``exp(-exp(z))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.sf(0.0)), 12)
        0.367879441171
    """
    return fnp.exp(logsf(x, loc, scale))


@distribution_function
def ppf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function ``log(-log1p(-q))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.ppf(0.5)), 9)
        -0.366512921
    """
    return loc_scale_ppf(lambda q: fnp.log(-fnp.log1p(-q)), q, loc, scale)


@distribution_function
def isf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The inverse of the survival function, ``log(-log(q))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.isf(0.5)), 9)
        -0.366512921
    """
    return loc_scale_ppf(lambda q: fnp.log(-fnp.log(q)), q, loc, scale)
