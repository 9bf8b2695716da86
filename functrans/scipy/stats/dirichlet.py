"""``functrans.scipy.stats.dirichlet``: the Dirichlet distribution of concentrations ``alpha``
on the probability simplex, differentiable in ``x`` and ``alpha``."""
from __future__ import annotations

import functrans.numpy as fnp
from functrans.scipy import special as _special
from functrans.scipy._util import as_float
from functrans.scipy.stats._util import distribution_function, nan_unless
from functrans.typing import Array, ArrayLike

__all__ = ["logpdf", "pdf"]


@distribution_function
def logpdf(x: ArrayLike, alpha: ArrayLike) -> Array:
    """The log of the density ``prod(x_i**(alpha_i - 1)) / B(alpha)``.

    As SciPy, the components run along the first axis of ``x`` (shape ``(K,)`` or ``(K, ...)``
    for ``K = len(alpha)``), and ``x`` may leave out the last one (``K - 1`` entries; it is
    then ``1 - sum``). Off the simplex (a negative entry, or a sum away from 1 by more than
    ``1e-6``) the result is ``-inf`` where SciPy raises; ``nan`` for an ``alpha`` that is not
    positive.

    Example:
        >>> import numpy as np
        >>> from functrans.scipy.stats import dirichlet
        >>> round(float(dirichlet.logpdf(np.array([0.25, 0.75]), np.array([1.0, 2.0]))), 12)
        0.405465108108
    """
    x, alpha = fnp.asarray(as_float(x)), fnp.asarray(as_float(alpha))
    if alpha.ndim != 1 or x.ndim < 1 or x.shape[0] not in (alpha.shape[0], alpha.shape[0] - 1):
        raise ValueError(
            f"dirichlet: alpha must be a vector of K concentrations and x have K (or K - 1) "
            f"components along its first axis; got alpha of shape {alpha.shape} and x of shape {x.shape}.")
    if x.shape[0] == alpha.shape[0] - 1:
        x = fnp.concatenate([x, 1.0 - fnp.sum(x, axis=0, keepdims=True)], axis=0)
    alpha = fnp.reshape(alpha, alpha.shape + (1,) * (x.ndim - 1))
    valid = fnp.all(fnp.greater(alpha, 0), axis=0)
    alpha = fnp.where(fnp.greater(alpha, 0), alpha, 1.0)
    on_simplex = fnp.logical_and(fnp.all(fnp.greater_equal(x, 0), axis=0),
                                 fnp.less(fnp.abs(fnp.sum(x, axis=0) - 1.0), 1e-6))
    safe_x = fnp.where(on_simplex, x, 1.0 / alpha.shape[0])
    log_norm = fnp.sum(_special.gammaln(alpha), axis=0) - _special.gammaln(fnp.sum(alpha, axis=0))
    density = fnp.sum(_special.xlogy(alpha - 1.0, safe_x), axis=0) - log_norm
    return nan_unless(valid, fnp.where(on_simplex, density, -fnp.inf))


def pdf(x: ArrayLike, alpha: ArrayLike) -> Array:
    """The density (see ``logpdf`` for the arguments).

    Example:
        >>> import numpy as np
        >>> from functrans.scipy.stats import dirichlet
        >>> float(dirichlet.pdf(np.array([0.25, 0.75]), np.array([1.0, 2.0])))
        1.5
    """
    return fnp.exp(logpdf(x, alpha))
