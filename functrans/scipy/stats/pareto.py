"""``functrans.scipy.stats.pareto``: the Pareto distribution of shape ``b`` on
``x >= loc + scale``, differentiable in ``x``, ``b``, ``loc`` and ``scale``."""
from __future__ import annotations

from typing import Any

import functrans.numpy as fnp
from functrans.scipy.stats._util import (
    distribution_function,
    floats,
    loc_scale_ppf,
    log,
    log1mexp,
    nan_unless,
    outside,
    positive,
    standardize,
)
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


def _standard(x: ArrayLike, b: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> tuple[Array, Array, Any, Any]:
    z, scale_ok, scale = standardize(x, loc, scale)
    b_ok, b = positive(b)
    return z, fnp.logical_and(scale_ok, b_ok), b, scale


def _log_tail(z: Array, b: Array) -> Array:
    """``log P(Z > z) = -b log z`` for ``z >= 1``, 0 below."""
    return outside(fnp.less(z, 1), z, 1.0, lambda z: -b * fnp.log(z), 0.0)


@distribution_function
def logpdf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``b / z**(b + 1) / scale`` for ``z = (x - loc) / scale >= 1``.

    Example:
        >>> from functrans.scipy.stats import pareto
        >>> round(float(pareto.logpdf(1.0, 2.0)), 12)
        0.69314718056
    """
    z, valid, b, scale = _standard(x, b, loc, scale)
    inside = outside(fnp.less(z, 1), z, 1.0, lambda z: log(b) - (b + 1.0) * fnp.log(z), -fnp.inf)
    return nan_unless(valid, inside - log(scale))


def pdf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import pareto
        >>> float(pareto.pdf(1.0, 2.0))
        2.0
    """
    return fnp.exp(logpdf(x, b, loc, scale))


@distribution_function
def logsf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function, ``-b log(z)``.

    Example:
        >>> from functrans.scipy.stats import pareto
        >>> round(float(pareto.logsf(2.0, 1.0)), 12)
        -0.69314718056
    """
    z, valid, b, _ = _standard(x, b, loc, scale)
    return nan_unless(valid, _log_tail(z, b))


def sf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function ``z**-b``.

    Example:
        >>> from functrans.scipy.stats import pareto
        >>> float(pareto.sf(2.0, 1.0))
        0.5
    """
    return fnp.exp(logsf(x, b, loc, scale))


@distribution_function
def cdf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``1 - z**-b``.

    Example:
        >>> from functrans.scipy.stats import pareto
        >>> float(pareto.cdf(2.0, 1.0))
        0.5
    """
    z, valid, b, _ = _standard(x, b, loc, scale)
    return nan_unless(valid, -fnp.expm1(_log_tail(z, b)))


@distribution_function
def logcdf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function, accurate near the lower end.

    Example:
        >>> from functrans.scipy.stats import pareto
        >>> round(float(pareto.logcdf(2.0, 1.0)), 12)
        -0.69314718056
    """
    z, valid, b, _ = _standard(x, b, loc, scale)
    return nan_unless(valid, outside(fnp.less_equal(z, 1), z, 2.0,
                                     lambda z: log1mexp(b * fnp.log(z)), -fnp.inf))


@distribution_function
def ppf(q: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function ``(1 - q)**(-1/b)``.

    Example:
        >>> from functrans.scipy.stats import pareto
        >>> float(pareto.ppf(0.5, 1.0))
        2.0
    """
    b_ok, b = positive(floats(b)[0])
    return nan_unless(b_ok, loc_scale_ppf(lambda q: fnp.exp(-fnp.log1p(-q) / b), q, loc, scale))


@distribution_function
def isf(q: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The inverse of the survival function, ``q**(-1/b)``.

    Example:
        >>> from functrans.scipy.stats import pareto
        >>> float(pareto.isf(0.5, 1.0))
        2.0
    """
    b_ok, b = positive(floats(b)[0])
    return nan_unless(b_ok, loc_scale_ppf(lambda q: fnp.exp(-fnp.log(q) / b), q, loc, scale))
