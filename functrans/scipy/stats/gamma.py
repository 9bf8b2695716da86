"""``functrans.scipy.stats.gamma``: the gamma distribution of shape ``a`` on ``x >= loc``,
differentiable in ``x``, ``a``, ``loc`` and ``scale`` (the distribution functions once in
``a``: see ``functrans.scipy.special.gammainc``)."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import (
    distribution_function,
    log,
    log_probability,
    nan_unless,
    outside,
    positive,
    standardize,
)
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


def standard_logpdf(z: Array, a: Array) -> Array:
    """The log density of the standard gamma distribution (``a > 0``): ``-inf`` for ``z < 0``;
    at ``z = 0``, ``inf``, ``0`` or ``-inf`` as ``a`` is below, at or above 1."""
    return outside(fnp.less(z, 0), z, 1.0,
                   lambda z: _special.xlogy(a - 1.0, z) - z - _special.gammaln(a), -fnp.inf)


@distribution_function
def logpdf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``z**(a - 1) exp(-z) / (Gamma(a) scale)``, ``z = (x - loc) / scale``.

    Example:
        >>> from functrans.scipy.stats import gamma
        >>> float(gamma.logpdf(1.0, 1.0))
        -1.0
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    a_ok, a = positive(a)
    return nan_unless(fnp.logical_and(scale_ok, a_ok), standard_logpdf(z, a) - log(scale))


def pdf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import gamma
        >>> float(gamma.pdf(0.0, 1.0))
        1.0
    """
    return fnp.exp(logpdf(x, a, loc, scale))


def standard_cdf_sf(z: Array, a: Array) -> tuple[Array, Array]:
    """``(P(Z <= z), P(Z > z))`` of the standard gamma distribution: ``(0, 1)`` below 0."""
    below = fnp.less(z, 0)
    inside = fnp.where(below, 0.0, z)
    return (fnp.where(below, 0.0, _special.gammainc(a, inside)),
            fnp.where(below, 1.0, _special.gammaincc(a, inside)))


def _cdf_sf(x: ArrayLike, a: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> tuple[Array, Array, Array]:
    z, scale_ok, _ = standardize(x, loc, scale)
    a_ok, a = positive(a)
    return (*standard_cdf_sf(z, a), fnp.logical_and(scale_ok, a_ok))


@distribution_function
def cdf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function, the regularized lower incomplete gamma function of ``z``.

    Example:
        >>> from functrans.scipy.stats import gamma
        >>> round(float(gamma.cdf(1.0, 1.0)), 12)  # 1 - exp(-1)
        0.632120558829
    """
    low, high, valid = _cdf_sf(x, a, loc, scale)
    return nan_unless(valid, low)


@distribution_function
def logcdf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function.

    Example:
        >>> from functrans.scipy.stats import gamma
        >>> float(gamma.logcdf(-1.0, 2.0))
        -inf
    """
    low, high, valid = _cdf_sf(x, a, loc, scale)
    return nan_unless(valid, log_probability(low, high))


@distribution_function
def sf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function, the regularized upper incomplete gamma function of ``z``.

    Example:
        >>> from functrans.scipy.stats import gamma
        >>> round(float(gamma.sf(1.0, 1.0)), 12)  # exp(-1)
        0.367879441171
    """
    low, high, valid = _cdf_sf(x, a, loc, scale)
    return nan_unless(valid, high)


@distribution_function
def logsf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function.

    Example:
        >>> from functrans.scipy.stats import gamma
        >>> round(float(gamma.logsf(3.0, 1.0)), 12)
        -3.0
    """
    low, high, valid = _cdf_sf(x, a, loc, scale)
    return nan_unless(valid, log_probability(high, low))
