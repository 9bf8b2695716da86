"""``functrans.scipy.stats.gennorm``: the generalized normal distribution of shape ``beta``
(density proportional to ``exp(-|z|**beta)``: Laplace for 1, normal for 2), differentiable in
``x``, ``beta``, ``loc`` and ``scale``."""
from __future__ import annotations

import math

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import log, nan_unless, positive, quiet, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["logpdf", "pdf"]

_LOG2 = math.log(2.0)


@quiet
def logpdf(x: ArrayLike, beta: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``beta / (2 Gamma(1/beta)) exp(-|z|**beta) / scale``.

    Example:
        >>> from functrans.scipy.stats import gennorm
        >>> round(float(gennorm.logpdf(0.0, 1.0)), 12)  # Laplace's
        -0.69314718056
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    beta_ok, beta = positive(beta)
    size = fnp.abs(z)
    zero = fnp.equal(size, 0)
    # |z|**beta as exp(beta log|z|), with |z| = 0 kept out of the log (its power is 0)
    power = fnp.where(zero, 0.0, fnp.exp(beta * fnp.log(fnp.where(zero, 1.0, size))))
    out = log(beta) - _LOG2 - _special.gammaln(1.0 / beta) - power - log(scale)
    return nan_unless(fnp.logical_and(scale_ok, beta_ok), out)


def pdf(x: ArrayLike, beta: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import gennorm
        >>> float(gennorm.pdf(0.0, 1.0))
        0.5
    """
    return fnp.exp(logpdf(x, beta, loc, scale))
