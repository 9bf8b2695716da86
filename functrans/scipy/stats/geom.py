"""``functrans.scipy.stats.geom``: the number of trials up to the first success, each of
probability ``p``, on ``k = 1, 2, ...`` (shifted by ``loc``), differentiable in ``p``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import distribution_function, floats, nan_unless, off_integers, outside
from functrans.typing import Array, ArrayLike

__all__ = ["logpmf", "pmf"]


@distribution_function
def logpmf(k: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The log of ``P(K = k) = (1 - p)**(k - 1) p``; ``-inf`` off the integers ``k >= 1``,
    ``nan`` for ``p`` outside (0, 1].

    Example:
        >>> from functrans.scipy.stats import geom
        >>> round(float(geom.logpmf(2, 0.5)), 12)  # log(1/4)
        -1.38629436112
    """
    k, p, loc = floats(k, p, loc)
    k = k - loc
    valid = fnp.logical_and(fnp.greater(p, 0), fnp.less_equal(p, 1))
    p = fnp.where(valid, p, 0.5)
    off = off_integers(k, 1)
    inside = outside(off, k, 1.0, lambda k: _special.xlog1py(k - 1.0, -p) + fnp.log(p), -fnp.inf)
    return nan_unless(valid, inside)


def pmf(k: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """``P(K = k)``.

    Example:
        >>> from functrans.scipy.stats import geom
        >>> float(geom.pmf(2, 0.5))
        0.25
    """
    return fnp.exp(logpmf(k, p, loc))
