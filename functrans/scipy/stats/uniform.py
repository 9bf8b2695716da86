"""``functrans.scipy.stats.uniform``: the uniform distribution on ``[loc, loc + scale]``,
differentiable in ``x``, ``loc`` and ``scale``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy.stats._util import (
    distribution_function,
    keep_nan,
    loc_scale_ppf,
    log,
    nan_unless,
    outside,
    standardize,
)
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


@distribution_function
def logpdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """``-log(scale)`` on ``[loc, loc + scale]`` (ends included, as SciPy), ``-inf`` elsewhere.

    Example:
        >>> from functrans.scipy.stats import uniform
        >>> float(uniform.logpdf(0.5)), float(uniform.logpdf(2.0))
        (0.0, -inf)
    """
    z, valid, scale = standardize(x, loc, scale)
    off = fnp.logical_or(fnp.less(z, 0), fnp.greater(z, 1))
    return nan_unless(valid, keep_nan(z, fnp.where(off, -fnp.inf, -log(scale) + 0.0 * z)))


def pdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import uniform
        >>> float(uniform.pdf(0.5, 0.0, 2.0))
        0.5
    """
    return fnp.exp(logpdf(x, loc, scale))


@distribution_function
def cdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``clip(z, 0, 1)``, ``z = (x - loc) / scale``.

    Example:
        >>> from functrans.scipy.stats import uniform
        >>> float(uniform.cdf(0.25))
        0.25
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, fnp.clip(z, 0.0, 1.0))


@distribution_function
def logcdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function.

    Example:
        >>> from functrans.scipy.stats import uniform
        >>> float(uniform.logcdf(2.0))
        0.0
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, outside(fnp.less_equal(z, 0), z, 0.5, lambda z: fnp.log(fnp.minimum(z, 1.0)),
                                     -fnp.inf))


@distribution_function
def sf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function ``clip(1 - z, 0, 1)``.

    Example:
        >>> from functrans.scipy.stats import uniform
        >>> float(uniform.sf(0.25))
        0.75
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, fnp.clip(1.0 - z, 0.0, 1.0))


@distribution_function
def logsf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function.

    Example:
        >>> from functrans.scipy.stats import uniform
        >>> float(uniform.logsf(-1.0))
        0.0
    """
    z, valid, _ = standardize(x, loc, scale)
    return nan_unless(valid, outside(fnp.greater_equal(z, 1), z, 0.5,
                                     lambda z: fnp.log(fnp.minimum(1.0 - z, 1.0)), -fnp.inf))


@distribution_function
def ppf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function ``loc + q scale``.

    Example:
        >>> from functrans.scipy.stats import uniform
        >>> float(uniform.ppf(0.5, 1.0, 2.0))
        2.0
    """
    return loc_scale_ppf(lambda q: q, q, loc, scale)


@distribution_function
def isf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The inverse of the survival function, ``loc + (1 - q) scale``.

    Example:
        >>> from functrans.scipy.stats import uniform
        >>> float(uniform.isf(0.25))
        0.75
    """
    return loc_scale_ppf(lambda q: 1.0 - q, q, loc, scale)
