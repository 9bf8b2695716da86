"""``functrans.scipy.stats.beta``: the beta distribution of shapes ``a`` and ``b`` on
``[loc, loc + scale]``, differentiable in ``x``, ``a``, ``b``, ``loc`` and ``scale``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import log, nan_unless, outside, positive, quiet, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["logpdf", "pdf"]


def log_beta_function(a: Array, b: Array) -> Array:
    """``log B(a, b) = gammaln(a) + gammaln(b) - gammaln(a + b)`` for positive ``a``, ``b``."""
    return _special.gammaln(a) + _special.gammaln(b) - _special.gammaln(a + b)


@quiet
def logpdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``z**(a - 1) (1 - z)**(b - 1) / (B(a, b) scale)`` on
    ``0 <= z <= 1``, ``z = (x - loc) / scale``.

    Example:
        >>> from functrans.scipy.stats import beta
        >>> round(float(beta.logpdf(0.0, 1.0, 2.0)), 12)  # log 2
        0.69314718056
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    a_ok, a = positive(a)
    b_ok, b = positive(b)
    off = fnp.logical_or(fnp.less(z, 0), fnp.greater(z, 1))
    inside = outside(off, z, 0.5, lambda z: _special.xlogy(a - 1.0, z) + _special.xlog1py(b - 1.0, -z), -fnp.inf)
    valid = fnp.logical_and(scale_ok, fnp.logical_and(a_ok, b_ok))
    return nan_unless(valid, inside - log_beta_function(a, b) - log(scale))


def pdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import beta
        >>> float(beta.pdf(0.5, 2.0, 2.0))
        1.5
    """
    return fnp.exp(logpdf(x, a, b, loc, scale))
