"""``functrans.scipy.stats.multinomial``: the counts of ``n`` draws among categories of
probabilities ``p``, differentiable in ``p``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy._util import as_float
from functrans.scipy.stats._util import distribution_function, nan_unless, off_integers
from functrans.typing import Array, ArrayLike

__all__ = ["logpmf", "pmf"]


@distribution_function
def logpmf(x: ArrayLike, n: ArrayLike, p: ArrayLike) -> Array:
    """The log of ``P(X = x) = n! prod(p_i**x_i / x_i!)`` for counts ``x`` along the last axis.

    ``-inf`` unless the counts are non-negative integers that add up to ``n``; ``nan`` for an
    ``n`` that is not a non-negative integer or a probability outside [0, 1]. ``p`` is used as
    given and should add up to 1 (SciPy replaces its last entry by ``1 - sum`` of the others:
    the same values for a ``p`` on the simplex, such as a softmax output).

    Example:
        >>> import numpy as np
        >>> from functrans.scipy.stats import multinomial
        >>> float(multinomial.pmf(np.array([1, 1]), 2, np.array([0.5, 0.5])))
        0.5
    """
    x, n, p = fnp.asarray(as_float(x)), fnp.asarray(as_float(n)), fnp.asarray(as_float(p))
    p_ok = fnp.all(fnp.logical_and(fnp.greater_equal(p, 0), fnp.less_equal(p, 1)), axis=-1)
    valid = fnp.logical_and(fnp.logical_not(off_integers(n, 0)), p_ok)
    n = fnp.where(valid, n, 0.0)
    p = fnp.where(fnp.expand_dims(valid, -1), p, 0.5)
    off = fnp.logical_or(fnp.any(off_integers(x, 0), axis=-1), fnp.not_equal(fnp.sum(x, axis=-1), n))
    safe_x = fnp.where(fnp.expand_dims(off, -1), 0.0, x)
    log_prob = (_special.gammaln(n + 1.0)
                + fnp.sum(_special.xlogy(safe_x, p) - _special.gammaln(safe_x + 1.0), axis=-1))
    return nan_unless(valid, fnp.where(off, -fnp.inf, log_prob))


def pmf(x: ArrayLike, n: ArrayLike, p: ArrayLike) -> Array:
    """``P(X = x)`` (see ``logpmf`` for the arguments).

    Example:
        >>> import numpy as np
        >>> from functrans.scipy.stats import multinomial
        >>> round(float(multinomial.pmf(np.array([2, 0]), 2, np.array([0.5, 0.5]))), 12)
        0.25
    """
    return fnp.exp(logpmf(x, n, p))
