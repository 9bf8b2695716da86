"""``functrans.scipy.stats.nbinom``: the number of failures before the ``n``-th success in
trials of probability ``p`` (shifted by ``loc``), differentiable in ``n`` (a positive real)
and ``p``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import distribution_function, floats, nan_unless, off_integers, outside
from functrans.typing import Array, ArrayLike

__all__ = ["logpmf", "pmf"]


@distribution_function
def logpmf(k: ArrayLike, n: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The log of ``P(K = k) = C(k + n - 1, k) p**n (1 - p)**k``; ``-inf`` off the integers
    ``k >= 0``, ``nan`` for ``n <= 0`` or ``p`` outside (0, 1].

    Example:
        >>> from functrans.scipy.stats import nbinom
        >>> round(float(nbinom.logpmf(1, 2, 0.5)), 12)  # log(2 / 8)
        -1.38629436112
    """
    k, n, p, loc = floats(k, n, p, loc)
    k = k - loc
    valid = fnp.logical_and(fnp.greater(n, 0), fnp.logical_and(fnp.greater(p, 0), fnp.less_equal(p, 1)))
    n, p = fnp.where(valid, n, 1.0), fnp.where(valid, p, 0.5)

    def inside(k: Array) -> Array:
        log_choose = _special.gammaln(k + n) - _special.gammaln(k + 1.0) - _special.gammaln(n)
        return log_choose + n * fnp.log(p) + _special.xlog1py(k, -p)

    return nan_unless(valid, outside(off_integers(k, 0), k, 0.0, inside, -fnp.inf))


def pmf(k: ArrayLike, n: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """``P(K = k)``.

    Example:
        >>> from functrans.scipy.stats import nbinom
        >>> float(nbinom.pmf(1, 2, 0.5))
        0.25
    """
    return fnp.exp(logpmf(k, n, p, loc))
