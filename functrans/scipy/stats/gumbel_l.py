"""``functrans.scipy.stats.gumbel_l``: the left-skewed Gumbel distribution (of minima), the
mirror image of ``gumbel_r``: distribution function ``1 - exp(-exp(z))``,
``z = (x - loc) / scale``; differentiable in ``x``, ``loc`` and ``scale``.

Each function is ``gumbel_r``'s at the mirrored point: ``x`` below ``loc`` here is ``-x`` above
``-loc`` there, with the distribution and survival functions trading places. Negation is
exact, so the values are those of the formulas written out."""
from __future__ import annotations

from functrans.scipy.stats import gumbel_r as _right
from functrans.scipy.stats._util import distribution_function
from functrans.typing import Array, ArrayLike

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


@distribution_function
def logpdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``exp(z - exp(z)) / scale``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.logpdf(0.0)), 12)
        -1.0
    """
    return _right.logpdf(-x, -loc, scale)  # NaN at x = inf, as SciPy


@distribution_function
def pdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.pdf(0.0)), 12)
        0.367879441171
    """
    return _right.pdf(-x, -loc, scale)


@distribution_function
def logcdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the distribution function, ``log(1 - exp(-exp(z)))``, accurate in both tails.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> float(gumbel_l.logcdf(-800.0))
        -800.0
    """
    return _right.logsf(-x, -loc, scale)


@distribution_function
def cdf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The distribution function ``1 - exp(-exp(z))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.cdf(0.0)), 12)
        0.632120558829
    """
    return _right.sf(-x, -loc, scale)


@distribution_function
def logsf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the survival function, ``-exp(z)``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> float(gumbel_l.logsf(0.0))
        -1.0
    """
    return _right.logcdf(-x, -loc, scale)


@distribution_function
def sf(x: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The survival function ``exp(-exp(z))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.sf(0.0)), 12)
        0.367879441171
    """
    return _right.cdf(-x, -loc, scale)


@distribution_function
def ppf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The quantile function ``log(-log1p(-q))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.ppf(0.5)), 9)
        -0.366512921
    """
    return -_right.isf(q, -loc, scale)


@distribution_function
def isf(q: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The inverse of the survival function, ``log(-log(q))``.

    Example:
        >>> from functrans.scipy.stats import gumbel_l
        >>> round(float(gumbel_l.isf(0.5)), 9)
        -0.366512921
    """
    return -_right.ppf(q, -loc, scale)
