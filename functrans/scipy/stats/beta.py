"""``functrans.scipy.stats.beta``: the beta distribution of shapes ``a`` and ``b`` on
``[loc, loc + scale]``, differentiable in ``x``, ``a``, ``b``, ``loc`` and ``scale`` (the
distribution functions in ``x``, ``loc`` and ``scale``: see ``functrans.scipy.special.betainc``)."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import (
    distribution_function,
    keep_nan,
    log,
    log_probability,
    nan_unless,
    outside,
    positive,
    standardize,
)
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


@distribution_function
def logpdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``z**(a - 1) (1 - z)**(b - 1) / (B(a, b) scale)`` on
    ``0 <= z <= 1``, ``z = (x - loc) / scale``.

    Example:
        >>> from functrans.scipy.stats import beta
        >>> round(float(beta.logpdf(0.0, 1.0, 2.0)), 12)  # log 2
        0.69314718056
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    a_ok, a = positive(a)
    b_ok, b = positive(b)
    off = fnp.logical_or(fnp.less(z, 0), fnp.greater(z, 1))
    inside = outside(off, z, 0.5, lambda z: _special.xlogy(a - 1.0, z) + _special.xlog1py(b - 1.0, -z), -fnp.inf)
    valid = fnp.logical_and(scale_ok, fnp.logical_and(a_ok, b_ok))
    return nan_unless(valid, keep_nan(z, inside - _special.betaln(a, b) - log(scale)))


def pdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import beta
        >>> float(beta.pdf(0.5, 2.0, 2.0))
        1.5
    """
    return fnp.exp(logpdf(x, a, b, loc, scale))


def _cdf_sf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike,
            scale: ArrayLike) -> tuple[Array, Array, Array]:
    z, scale_ok, _ = standardize(x, loc, scale)
    a_ok, a = positive(a)
    b_ok, b = positive(b)
    below, above = fnp.less(z, 0), fnp.greater(z, 1)
    inside = fnp.clip(z, 0.0, 1.0)
    low = fnp.where(below, 0.0, fnp.where(above, 1.0, _special.betainc(a, b, inside)))
    high = fnp.where(below, 1.0, fnp.where(above, 0.0, _special.betainc(b, a, 1.0 - inside)))
    return low, high, fnp.logical_and(scale_ok, fnp.logical_and(a_ok, b_ok))


@distribution_function
def cdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function, the regularized incomplete beta function of ``z``.

    Example:
        >>> from functrans.scipy.stats import beta
        >>> float(beta.cdf(0.5, 2.0, 2.0))
        0.5
    """
    low, high, valid = _cdf_sf(x, a, b, loc, scale)
    return nan_unless(valid, low)


@distribution_function
def logcdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function.

    Example:
        >>> from functrans.scipy.stats import beta
        >>> round(float(beta.logcdf(0.5, 1.0, 1.0)), 12)
        -0.69314718056
    """
    low, high, valid = _cdf_sf(x, a, b, loc, scale)
    return nan_unless(valid, log_probability(low, high))


@distribution_function
def sf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function, ``I_{1 - z}(b, a)``, accurate near ``z = 1``.

    Example:
        >>> from functrans.scipy.stats import beta
        >>> float(beta.sf(0.25, 1.0, 1.0))
        0.75
    """
    low, high, valid = _cdf_sf(x, a, b, loc, scale)
    return nan_unless(valid, high)


@distribution_function
def logsf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function.

    Example:
        >>> from functrans.scipy.stats import beta
        >>> round(float(beta.logsf(0.5, 1.0, 1.0)), 12)
        -0.69314718056
    """
    low, high, valid = _cdf_sf(x, a, b, loc, scale)
    return nan_unless(valid, log_probability(high, low))
