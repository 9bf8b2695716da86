"""``functrans.scipy.stats.chi2``: the chi-squared distribution with ``df`` degrees of freedom
(the gamma distribution of shape ``df / 2`` and scale 2), differentiable in ``x``, ``df``,
``loc`` and ``scale`` (the distribution functions once in ``df``)."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy.stats import gamma
from functrans.scipy.stats._util import distribution_function
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]

# Each function is gamma's at shape df / 2 and scale 2 * scale, in the dtype chi2's own
# arguments give (an integer df is converted before it is halved).


@distribution_function
def logpdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> round(float(chi2.logpdf(0.0, 2.0)), 12)  # log(1/2)
        -0.69314718056
    """
    return gamma.logpdf(x, 0.5 * df, loc, 2 * scale)


def pdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> float(chi2.pdf(0.0, 2.0))
        0.5
    """
    return fnp.exp(logpdf(x, df, loc, scale))


@distribution_function
def cdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> round(float(chi2.cdf(2.0, 2.0)), 12)  # 1 - exp(-1)
        0.632120558829
    """
    return gamma.cdf(x, 0.5 * df, loc, 2 * scale)


@distribution_function
def logcdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> float(chi2.logcdf(0.0, 2.0))
        -inf
    """
    return gamma.logcdf(x, 0.5 * df, loc, 2 * scale)


@distribution_function
def sf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> round(float(chi2.sf(2.0, 2.0)), 12)  # exp(-1)
        0.367879441171
    """
    return gamma.sf(x, 0.5 * df, loc, 2 * scale)


@distribution_function
def logsf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> round(float(chi2.logsf(6.0, 2.0)), 12)
        -3.0
    """
    return gamma.logsf(x, 0.5 * df, loc, 2 * scale)
