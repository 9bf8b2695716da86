"""``functrans.scipy.stats.logistic``: the logistic distribution (its distribution function is
the sigmoid ``expit``) with location ``loc`` and scale ``scale``, differentiable in ``x``,
``loc`` and ``scale``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special
from functrans.scipy.stats._util import distribution_function, loc_scale_ppf, log, nan_unless, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


def _log_expit(z: Array) -> Array:
    return -fnp.logaddexp(0.0, -z)


@distribution_function
def logpdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``expit(z) expit(-z) / scale``, ``z = (x - loc) / scale``.

    Example:
        >>> from functrans.scipy.stats import logistic
        >>> round(float(logistic.logpdf(0.0)), 12)
        -1.38629436112
    """
    z, valid, scale = standardize(x, loc, scale)
    return nan_unless(valid, _log_expit(z) + _log_expit(-z) - log(scale))


def pdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import logistic
        >>> float(logistic.pdf(0.0))
        0.25
    """
    return fnp.exp(logpdf(x, loc, scale))


@distribution_function
def cdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``expit(z)``.

    Example:
        >>> from functrans.scipy.stats import logistic
        >>> float(logistic.cdf(0.0))
        0.5
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, special.expit(z))


@distribution_function
def logcdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function, ``-log(1 + exp(-z))``, accurate in both tails.

    Example:
        >>> from functrans.scipy.stats import logistic
        >>> float(logistic.logcdf(-800.0))
        -800.0
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, _log_expit(z))


@distribution_function
def sf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function ``expit(-z)``.

    Example:
        >>> from functrans.scipy.stats import logistic
        >>> float(logistic.sf(0.0))
        0.5
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, special.expit(-z))


@distribution_function
def logsf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function.

    Example:
        >>> from functrans.scipy.stats import logistic
        >>> float(logistic.logsf(800.0))
        -800.0
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, _log_expit(-z))


@distribution_function
def ppf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function ``logit(q)``.

    Example:
        >>> from functrans.scipy.stats import logistic
        >>> float(logistic.ppf(0.5))
        0.0
    """
    return loc_scale_ppf(special.logit, q, loc, scale)


@distribution_function
def isf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The inverse of the survival function, ``-logit(q)``.

    Example:
        >>> from functrans.scipy.stats import logistic
        >>> float(logistic.isf(0.5))
        0.0
    """
    return loc_scale_ppf(lambda q: -special.logit(q), q, loc, scale)
