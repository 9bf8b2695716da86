"""``functrans.scipy.stats.betabinom``: the number of successes in ``n`` trials whose
probability is drawn from ``Beta(a, b)`` (shifted by ``loc``), differentiable in ``a`` and ``b``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import distribution_function, floats, nan_unless, off_integers, outside
from functrans.typing import Array, ArrayLike

__all__ = ["logpmf", "pmf"]


@distribution_function
def logpmf(k: ArrayLike, n: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The log of ``P(K = k) = C(n, k) B(k + a, n - k + b) / B(a, b)``; ``-inf`` off the
    integers ``0 <= k <= n``, ``nan`` for ``n`` not a non-negative integer or ``a, b <= 0``.

    Example:
        >>> from functrans.scipy.stats import betabinom
        >>> round(float(betabinom.logpmf(1, 2, 1.0, 1.0)), 12)  # uniform on {0, 1, 2}
        -1.098612288668
    """
    k, n, a, b, loc = floats(k, n, a, b, loc)
    k = k - loc
    valid = fnp.logical_and(fnp.logical_not(off_integers(n, 0)),
                            fnp.logical_and(fnp.greater(a, 0), fnp.greater(b, 0)))
    n, a, b = fnp.where(valid, n, 0.0), fnp.where(valid, a, 1.0), fnp.where(valid, b, 1.0)
    off = fnp.logical_or(off_integers(k, 0), fnp.greater(k, n))

    def inside(k: Array) -> Array:
        log_choose = -fnp.log1p(n) - _special.betaln(n - k + 1.0, k + 1.0)
        return log_choose + _special.betaln(k + a, n - k + b) - _special.betaln(a, b)

    return nan_unless(valid, outside(off, k, 0.0, inside, -fnp.inf))


def pmf(k: ArrayLike, n: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0) -> Array:
    """``P(K = k)``.

    Example:
        >>> from functrans.scipy.stats import betabinom
        >>> round(float(betabinom.pmf(1, 2, 1.0, 1.0)), 12)
        0.333333333333
    """
    return fnp.exp(logpmf(k, n, a, b, loc))
