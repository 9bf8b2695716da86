"""``functrans.scipy.stats.binom``: the number of successes in ``n`` independent trials of
probability ``p`` (shifted by ``loc``), differentiable in ``p``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import (
    distribution_function,
    floats,
    in_unit_interval,
    nan_unless,
    off_integers,
    outside,
)
from functrans.typing import Array, ArrayLike

__all__ = ["logpmf", "pmf"]


@distribution_function
def logpmf(k: ArrayLike, n: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The log of ``P(K = k) = C(n, k) p**k (1 - p)**(n - k)``; ``-inf`` off the integers
    ``0 <= k <= n``, ``nan`` for ``n`` not a non-negative integer or ``p`` outside [0, 1].

    Example:
        >>> from functrans.scipy.stats import binom
        >>> round(float(binom.logpmf(1, 2, 0.5)), 12)  # log(1/2)
        -0.69314718056
    """
    k, n, p, loc = floats(k, n, p, loc)
    k = k - loc
    valid = fnp.logical_and(fnp.logical_not(off_integers(n, 0)), in_unit_interval(p))
    n, p = fnp.where(valid, n, 0.0), fnp.where(valid, p, 0.5)
    off = fnp.logical_or(off_integers(k, 0), fnp.greater(k, n))

    def inside(k: Array) -> Array:
        log_choose = _special.gammaln(n + 1.0) - _special.gammaln(k + 1.0) - _special.gammaln(n - k + 1.0)
        return log_choose + _special.xlogy(k, p) + _special.xlog1py(n - k, -p)

    return nan_unless(valid, outside(off, k, 0.0, inside, -fnp.inf))


def pmf(k: ArrayLike, n: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """``P(K = k)``.

    Example:
        >>> from functrans.scipy.stats import binom
        >>> float(binom.pmf(2, 2, 0.5))
        0.25
    """
    return fnp.exp(logpmf(k, n, p, loc))
