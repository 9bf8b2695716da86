"""``functrans.scipy.stats.norm``: the normal distribution with mean ``loc`` and standard
deviation ``scale``, differentiable in ``x``, ``loc`` and ``scale``."""
from __future__ import annotations

import math

from functrans.primitives import elementwise as _ew
from functrans.scipy import special as _special
from functrans.scipy._util import as_float
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "logcdf", "logpdf", "pdf", "ppf", "sf", "logsf"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _standard(x: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> Array:
    return _ew.div(_ew.sub(as_float(x), loc), scale)


def logpdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> round(float(norm.logpdf(0.0)), 12)
        -0.918938533205
    """
    z = _standard(x, loc, scale)
    return _ew.sub(_ew.sub(_ew.mul(-0.5, _ew.mul(z, z)), _LOG_SQRT_2PI), _ew.log(as_float(scale)))


def pdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> round(float(norm.pdf(0.0)), 12)
        0.398942280401
    """
    return _ew.exp(logpdf(x, loc, scale))


def cdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``P(X <= x)``.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> float(norm.cdf(0.0))
        0.5
    """
    return _special.ndtr(_standard(x, loc, scale))


def logcdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function, accurate far into the left tail.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> round(float(norm.logcdf(-40.0)), 3)
        -804.608
    """
    return _special.log_ndtr(_standard(x, loc, scale))


def sf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function ``P(X > x) = cdf(-x)`` for the standard variable.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> float(norm.sf(0.0))
        0.5
    """
    return _special.ndtr(_ew.neg(_standard(x, loc, scale)))


def logsf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function.

    Example:
        >>> from functrans.scipy.stats import norm
        >>> round(float(norm.logsf(0.0)), 12)
        -0.69314718056
    """
    return _special.log_ndtr(_ew.neg(_standard(x, loc, scale)))


def ppf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function (the inverse of ``cdf``).

    Example:
        >>> from functrans.scipy.stats import norm
        >>> float(norm.ppf(0.5))
        0.0
    """
    return _ew.add(_ew.mul(_special.ndtri(q), scale), loc)
