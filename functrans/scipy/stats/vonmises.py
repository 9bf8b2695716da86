"""``functrans.scipy.stats.vonmises``: the von Mises distribution of concentration ``kappa``
(a normal distribution wrapped around the circle), differentiable in ``x``, ``kappa``,
``loc`` and ``scale``."""
from __future__ import annotations

import math

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy.stats._util import distribution_function, floats, log, nan_unless, standardize
from functrans.typing import Array, ArrayLike

__all__ = ["logpdf", "pdf"]

_LOG_2PI = math.log(2.0 * math.pi)


@distribution_function
def logpdf(x: ArrayLike, kappa: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The log of the density ``exp(kappa cos(z)) / (2 pi I0(kappa) scale)``, periodic in
    ``z = (x - loc) / scale``; ``I0`` enters scaled (``i0e``), so large ``kappa`` does not overflow.

    Example:
        >>> from functrans.scipy.stats import vonmises
        >>> round(float(vonmises.logpdf(0.0, 1.0)), 12)
        -1.073791424917
    """
    z, scale_ok, scale = standardize(x, loc, scale)
    (kappa,) = floats(kappa)
    kappa_ok = fnp.greater_equal(kappa, 0)  # 0: the uniform distribution on the circle
    kappa = fnp.where(kappa_ok, kappa, 0.0)
    out = kappa * (fnp.cos(z) - 1.0) - _LOG_2PI - fnp.log(_special.i0e(kappa)) - log(scale)
    return nan_unless(fnp.logical_and(scale_ok, kappa_ok), out)


def pdf(x: ArrayLike, kappa: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> Array:
    """The density.

    Example:
        >>> from functrans.scipy.stats import vonmises
        >>> round(float(vonmises.pdf(0.0, 1.0)), 12)
        0.341710488623
    """
    return fnp.exp(logpdf(x, kappa, loc, scale))
