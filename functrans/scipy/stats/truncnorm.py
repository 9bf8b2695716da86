"""``functrans.scipy.stats.truncnorm``: the normal distribution truncated to ``[a, b]`` (in
standard units: the interval ``[loc + a scale, loc + b scale]``), differentiable in ``x``,
``a``, ``b``, ``loc`` and ``scale``; accurate when the interval lies far in a tail."""
from __future__ import annotations

import math
from typing import Any

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import distribution_function, floats, log, log1mexp, nan_unless, outside, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG2 = math.log(2.0)


def _log_diff(big: Array, small: Array) -> Array:
    """``log(exp(big) - exp(small))`` for ``big >= small``."""
    return big + log1mexp(big - small)


def _log_mass(a: Array, b: Array) -> Array:
    """``log(ndtr(b) - ndtr(a))`` for ``a <= b``: from the left tail when ``b <= 0``, the right
    tail when ``a >= 0``, directly otherwise. Each branch sees stand-in bounds where it is not
    chosen, so no branch computes ``log(0)`` for another's points."""
    left, right = fnp.less_equal(b, 0), fnp.greater_equal(a, 0)
    middle = fnp.logical_not(fnp.logical_or(left, right))
    a_l, b_l = fnp.where(left, a, -2.0), fnp.where(left, b, -1.0)
    a_r, b_r = fnp.where(right, a, 1.0), fnp.where(right, b, 2.0)
    a_m, b_m = fnp.where(middle, a, -1.0), fnp.where(middle, b, 1.0)
    from_left = _log_diff(_special.log_ndtr(b_l), _special.log_ndtr(a_l))
    from_right = _log_diff(_special.log_ndtr(-a_r), _special.log_ndtr(-b_r))
    direct = fnp.log1p(-_special.ndtr(a_m) - _special.ndtr(-b_m))
    return fnp.where(left, from_left, fnp.where(right, from_right, direct))


def _log_cdf_sf(z: Array, a: Array, b: Array) -> tuple[Array, Array]:
    """``(log cdf, log sf)`` at ``z`` of the standard normal truncated to ``[a, b]``. The one of
    the two that is at most ``log(1/2)`` comes from its own mass, the other as ``log(1 - it)``,
    so neither loses the digits of a probability near 1."""
    below, above = fnp.less_equal(z, a), fnp.greater_equal(z, b)
    inner = fnp.where(fnp.logical_or(below, above), 0.5 * (a + b), z)
    log_total = _log_mass(a, b)
    left = _log_mass(a, inner) - log_total
    right = _log_mass(inner, b) - log_total
    left_small = fnp.less(left, -_LOG2)
    # the stand-in -1.0 keeps the branch that is not chosen away from log(1 - 1)
    log_cdf = fnp.where(left_small, left, log1mexp(-fnp.where(left_small, -1.0, right)))
    log_sf = fnp.where(left_small, log1mexp(-fnp.where(left_small, left, -1.0)), right)
    log_cdf = fnp.where(below, -fnp.inf, fnp.where(above, 0.0, log_cdf))
    log_sf = fnp.where(below, 0.0, fnp.where(above, -fnp.inf, log_sf))
    return log_cdf, log_sf


def _standard(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike,
              scale: ArrayLike) -> tuple[Array, Array, Array, Array, Any]:
    z, scale_ok, scale = standardize(x, loc, scale)
    a, b = floats(a, b)
    valid = fnp.logical_and(scale_ok, fnp.less(a, b))
    return z, fnp.where(valid, a, -1.0), fnp.where(valid, b, 1.0), valid, scale


@distribution_function
def logpdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density: the normal's, divided by the mass of ``[a, b]``, ``-inf`` outside.

    Example:
        >>> from functrans.scipy.stats import truncnorm
        >>> round(float(truncnorm.logpdf(0.5, 0.0, 1.0)), 12)
        0.030923793657
    """
    z, a, b, valid, scale = _standard(x, a, b, loc, scale)
    off = fnp.logical_or(fnp.less(z, a), fnp.greater(z, b))
    inside = outside(off, z, 0.5 * (a + b), lambda z: -0.5 * (z * z) - _LOG_SQRT_2PI, -fnp.inf)
    return nan_unless(valid, inside - _log_mass(a, b) - log(scale))


def pdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import truncnorm
        >>> round(float(truncnorm.pdf(0.5, 0.0, 1.0)), 12)
        1.031406901144
    """
    return fnp.exp(logpdf(x, a, b, loc, scale))


@distribution_function
def logcdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function: ``-inf`` below ``a``, ``0`` above ``b``.

    Example:
        >>> from functrans.scipy.stats import truncnorm
        >>> float(truncnorm.logcdf(2.0, 0.0, 1.0))
        0.0
    """
    z, a, b, valid, _ = _standard(x, a, b, loc, scale)
    return nan_unless(valid, _log_cdf_sf(z, a, b)[0])


def cdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function.

    Example:
        >>> from functrans.scipy.stats import truncnorm
        >>> round(float(truncnorm.cdf(0.0, -1.0, 1.0)), 12)
        0.5
    """
    return fnp.exp(logcdf(x, a, b, loc, scale))


@distribution_function
def logsf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function: ``0`` below ``a``, ``-inf`` above ``b``.

    Example:
        >>> from functrans.scipy.stats import truncnorm
        >>> float(truncnorm.logsf(-2.0, 0.0, 1.0))
        0.0
    """
    z, a, b, valid, _ = _standard(x, a, b, loc, scale)
    return nan_unless(valid, _log_cdf_sf(z, a, b)[1])


def sf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function.

    Example:
        >>> from functrans.scipy.stats import truncnorm
        >>> round(float(truncnorm.sf(0.0, -1.0, 1.0)), 12)
        0.5
    """
    return fnp.exp(logsf(x, a, b, loc, scale))
