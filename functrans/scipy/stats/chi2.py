"""``functrans.scipy.stats.chi2``: the chi-squared distribution with ``df`` degrees of freedom
(the gamma distribution of shape ``df / 2`` and scale 2), differentiable in ``x``, ``df``,
``loc`` and ``scale``."""
from __future__ import annotations

import math

import functrans.numpy as fnp
from functrans.scipy.stats._util import log, nan_unless, positive, quiet, standardize
from functrans.scipy.stats.gamma import standard_logpdf
from functrans.typing import Array, ArrayLike

__all__ = ["logpdf", "pdf"]

_LOG2 = math.log(2.0)


@quiet
def logpdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> round(float(chi2.logpdf(0.0, 2.0)), 12)  # log(1/2)
        -0.69314718056
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    df_ok, df = positive(df)
    out = standard_logpdf(0.5 * z, 0.5 * df) - _LOG2 - log(scale)
    return nan_unless(fnp.logical_and(scale_ok, df_ok), out)


def pdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import chi2
        >>> float(chi2.pdf(0.0, 2.0))
        0.5
    """
    return fnp.exp(logpdf(x, df, loc, scale))
