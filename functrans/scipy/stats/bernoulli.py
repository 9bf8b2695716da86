"""``functrans.scipy.stats.bernoulli``: the distribution of one coin toss, 1 with
probability ``p`` and 0 otherwise (shifted by ``loc``), differentiable in ``p``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import (
    distribution_function,
    floats,
    in_unit_interval,
    nan_unless,
    off_support,
    outside,
)
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "logpmf", "pmf", "ppf"]


def _probability(p: ArrayLike) -> tuple[Array, Array]:
    (p,) = floats(p)
    valid = in_unit_interval(p)
    return valid, fnp.where(valid, p, 0.5)


@distribution_function
def logpmf(k: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """``log p`` at ``k = 1``, ``log(1 - p)`` at ``k = 0``, ``-inf`` elsewhere; ``nan`` for
    ``p`` outside [0, 1].

    Example:
        >>> from functrans.scipy.stats import bernoulli
        >>> round(float(bernoulli.logpmf(1, 0.5)), 12)
        -0.69314718056
    """
    k, loc = floats(k, loc)
    k = k - loc
    valid, p = _probability(p)
    off = off_support(fnp.logical_and(fnp.not_equal(k, 0), fnp.not_equal(k, 1)), k)
    inside = outside(off, k, 0.0, lambda k: _special.xlogy(k, p) + _special.xlog1py(1.0 - k, -p), -fnp.inf)
    return nan_unless(valid, inside)


def pmf(k: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """``P(K = k)``.

    Example:
        >>> from functrans.scipy.stats import bernoulli
        >>> float(bernoulli.pmf(0, 0.25))
        0.75
    """
    return fnp.exp(logpmf(k, p, loc))


@distribution_function
def cdf(k: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """``P(K <= k)``: 0 below 0, ``1 - p`` on [0, 1), 1 from 1 on.

    Example:
        >>> from functrans.scipy.stats import bernoulli
        >>> float(bernoulli.cdf(0.5, 0.25))
        0.75
    """
    k, loc = floats(k, loc)
    k = k - loc
    valid, p = _probability(p)
    out = fnp.where(fnp.less(k, 0), 0.0, fnp.where(fnp.less(k, 1), 1.0 - p, 1.0 + 0.0 * p))
    return nan_unless(valid, fnp.where(fnp.isnan(k), k, out))


@distribution_function
def ppf(q: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The smallest ``k`` with ``cdf(k) >= q``: 0 for ``0 < q <= 1 - p``, 1 above, and (as
    SciPy) ``-1`` at ``q = 0``; ``nan`` for ``q`` outside [0, 1].

    Example:
        >>> from functrans.scipy.stats import bernoulli
        >>> float(bernoulli.ppf(0.9, 0.25))
        1.0
    """
    q, loc = floats(q, loc)
    valid, p = _probability(p)
    valid = fnp.logical_and(valid, in_unit_interval(q))
    k = fnp.where(fnp.equal(q, 0), -1.0, fnp.where(fnp.logical_or(fnp.equal(q, 1), fnp.greater(q, 1.0 - p)), 1.0, 0.0))
    return nan_unless(valid, k + loc)
