"""``functrans.scipy.stats.poisson``: the Poisson distribution of mean ``mu`` on the integers
``k >= loc``, differentiable in ``mu`` (``k`` counts: no derivative)."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import distribution_function, floats, nan_unless, off_integers, outside
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "logpmf", "pmf"]


@distribution_function
def logpmf(k: ArrayLike, mu: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The log of ``P(K = k) = mu**k exp(-mu) / k!``; ``-inf`` off the integers ``k >= loc``,
    ``nan`` for ``mu < 0``.

    Example:
        >>> from functrans.scipy.stats import poisson
        >>> float(poisson.logpmf(0, 2.0))
        -2.0
    """
    k, mu, loc = floats(k, mu, loc)
    k = k - loc
    valid = fnp.greater_equal(mu, 0)
    mu = fnp.where(valid, mu, 1.0)
    off = off_integers(k, 0)
    inside = outside(off, k, 0.0, lambda k: _special.xlogy(k, mu) - mu - _special.gammaln(k + 1.0), -fnp.inf)
    return nan_unless(valid, inside)


def pmf(k: ArrayLike, mu: ArrayLike, loc: ArrayLike = 0) -> Array:
    """``P(K = k)``.

    Example:
        >>> from functrans.scipy.stats import poisson
        >>> round(float(poisson.pmf(1, 2.0)), 12)
        0.270670566473
    """
    return fnp.exp(logpmf(k, mu, loc))


@distribution_function
def cdf(k: ArrayLike, mu: ArrayLike, loc: ArrayLike = 0) -> Array:
    """``P(K <= k)``, the regularized upper incomplete gamma function ``Q(floor(k) + 1, mu)``;
    0 below ``loc``.

    Example:
        >>> from functrans.scipy.stats import poisson
        >>> round(float(poisson.cdf(0, 1.0)), 12)  # exp(-1)
        0.367879441171
    """
    k, mu, loc = floats(k, mu, loc)
    k = k - loc
    valid = fnp.greater_equal(mu, 0)
    mu = fnp.where(valid, mu, 1.0)
    below = fnp.less(k, 0)
    count = fnp.floor(fnp.where(below, 0.0, k))
    return nan_unless(valid, fnp.where(below, 0.0, _special.gammaincc(count + 1.0, mu)))
