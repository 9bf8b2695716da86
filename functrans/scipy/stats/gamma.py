"""``functrans.scipy.stats.gamma``: the gamma distribution of shape ``a`` on ``x >= loc``,
differentiable in ``x``, ``a``, ``loc`` and ``scale``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import log, nan_unless, outside, positive, quiet, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["logpdf", "pdf"]


def standard_logpdf(z: Array, a: Array) -> Array:
    """The log density of the standard gamma distribution (``a > 0``): ``-inf`` for ``z < 0``;
    at ``z = 0``, ``inf``, ``0`` or ``-inf`` as ``a`` is below, at or above 1."""
    return outside(fnp.less(z, 0), z, 1.0,
                   lambda z: _special.xlogy(a - 1.0, z) - z - _special.gammaln(a), -fnp.inf)


@quiet
def logpdf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``z**(a - 1) exp(-z) / (Gamma(a) scale)``, ``z = (x - loc) / scale``.

    Example:
        >>> from functrans.scipy.stats import gamma
        >>> float(gamma.logpdf(1.0, 1.0))
        -1.0
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    a_ok, a = positive(a)
    return nan_unless(fnp.logical_and(scale_ok, a_ok), standard_logpdf(z, a) - log(scale))


def pdf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import gamma
        >>> float(gamma.pdf(0.0, 1.0))
        1.0
    """
    return fnp.exp(logpdf(x, a, loc, scale))
