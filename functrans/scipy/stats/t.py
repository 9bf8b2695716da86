"""``functrans.scipy.stats.t``: Student's t distribution with ``df`` degrees of freedom,
location ``loc`` and scale ``scale``, differentiable in ``x``, ``df``, ``loc`` and ``scale``."""
from __future__ import annotations

import math

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import distribution_function, log, nan_unless, positive, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["logpdf", "pdf"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@distribution_function
def logpdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density; ``df = inf`` gives the normal distribution, as SciPy.

    Example:
        >>> from functrans.scipy.stats import t
        >>> round(float(t.logpdf(0.0, 1.0)), 12)  # Cauchy's
        -1.144729885849
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    df_ok, df = positive(df)
    infinite = fnp.isinf(df)
    df = fnp.where(infinite, 1.0, df)  # the normal's branch below; no inf - inf here
    half = 0.5 * (df + 1.0)
    student = (_special.gammaln(half) - _special.gammaln(0.5 * df) - 0.5 * fnp.log(df * math.pi)
               - half * fnp.log1p(z * z / df))
    normal = -0.5 * (z * z) - _LOG_SQRT_2PI
    return nan_unless(fnp.logical_and(scale_ok, df_ok), fnp.where(infinite, normal, student) - log(scale))


def pdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import t
        >>> round(float(t.pdf(0.0, 1.0)), 12)
        0.318309886184
    """
    return fnp.exp(logpdf(x, df, loc, scale))
