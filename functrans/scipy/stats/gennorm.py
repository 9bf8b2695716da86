"""``functrans.scipy.stats.gennorm``: the generalized normal distribution of shape ``beta``
(density proportional to ``exp(-|z|**beta)``: Laplace for 1, normal for 2), differentiable in
``x``, ``beta``, ``loc`` and ``scale`` (the distribution function once in ``beta``)."""
from __future__ import annotations

import math

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import distribution_function, log, nan_unless, positive, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "logpdf", "pdf", "ppf"]

_LOG2 = math.log(2.0)


def _power(z: Array, beta: Array) -> Array:
    """``|z|**beta`` as ``exp(beta log|z|)``, with ``z = 0`` kept out of the log (its power is 0)."""
    size = fnp.abs(z)
    zero = fnp.equal(size, 0)
    return fnp.where(zero, 0.0, fnp.exp(beta * fnp.log(fnp.where(zero, 1.0, size))))


@distribution_function
def logpdf(x: ArrayLike, beta: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``beta / (2 Gamma(1/beta)) exp(-|z|**beta) / scale``.

    Example:
        >>> from functrans.scipy.stats import gennorm
        >>> round(float(gennorm.logpdf(0.0, 1.0)), 12)  # Laplace's
        -0.69314718056
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    beta_ok, beta = positive(beta)
    out = log(beta) - _LOG2 - _special.gammaln(1.0 / beta) - _power(z, beta) - log(scale)
    return nan_unless(fnp.logical_and(scale_ok, beta_ok), out)


def pdf(x: ArrayLike, beta: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import gennorm
        >>> float(gennorm.pdf(0.0, 1.0))
        0.5
    """
    return fnp.exp(logpdf(x, beta, loc, scale))


@distribution_function
def cdf(x: ArrayLike, beta: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``1/2 + sign(z) P(1/beta, |z|**beta) / 2``, written with the
    upper incomplete gamma function so that the left tail keeps its digits.

    Example:
        >>> from functrans.scipy.stats import gennorm
        >>> float(gennorm.cdf(0.0, 1.5))
        0.5
    """
    z, scale_ok, _ = standardize(x, loc, scale)
    beta_ok, beta = positive(beta)
    half = 0.5 * fnp.sign(z)
    out = (0.5 + half) - half * _special.gammaincc(1.0 / beta, _power(z, beta))
    return nan_unless(fnp.logical_and(scale_ok, beta_ok), out)


@distribution_function
def ppf(q: ArrayLike, beta: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function, the inverse of ``cdf``:
    ``loc + scale * sign(q - 1/2) * gammaincinv(1/beta, |2q - 1|)**(1/beta)``. Outside
    ``[0, 1]``, and for a non-positive ``beta`` or ``scale``, NaN.

    Example:
        >>> from functrans.scipy.stats import gennorm
        >>> round(float(gennorm.ppf(0.75, 1.0)), 12)  # Laplace's: log 2
        0.69314718056
    """
    q = fnp.asarray(q)
    beta_ok, beta = positive(beta)
    scale_ok, scale = positive(scale)
    in_range = fnp.logical_and(q >= 0, q <= 1)
    size = fnp.abs(2.0 * fnp.where(in_range, q, 0.5) - 1.0)
    root = _special.gammaincinv(1.0 / beta, size)
    z = fnp.sign(q - 0.5) * _power(root, 1.0 / beta)
    ok = fnp.logical_and(fnp.logical_and(beta_ok, scale_ok), in_range)
    return nan_unless(ok, loc + scale * z)
