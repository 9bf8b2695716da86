"""``functrans.scipy.stats.multivariate_normal``: the normal distribution of vectors with mean
``mean`` and covariance ``cov``, differentiable in ``x``, ``mean`` and ``cov``; SciPy's
arguments (``allow_singular`` included), JAX's batching over leading axes."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans import errors
from functrans.numpy._util import host_values
from functrans.scipy._util import as_float
from functrans.scipy.linalg import solve_triangular
from functrans.scipy.stats._util import distribution_function
from functrans.typing import Array, ArrayLike

__all__ = ["logpdf", "pdf"]

_LOG_2PI = math.log(2.0 * math.pi)


def _dimension(mean: Any, cov: Any) -> int:
    """The dimension of the vectors, from ``mean`` or else ``cov`` (SciPy's rule: 1 if neither says)."""
    if mean is not None and fnp.ndim(mean) >= 1:
        return int(fnp.shape(mean)[-1])
    return int(fnp.shape(cov)[-1]) if fnp.ndim(cov) >= 1 else 1


def _arguments(x: ArrayLike, mean: ArrayLike | None, cov: ArrayLike) -> tuple[Array, Array, Array, int]:
    """``x`` as (..., dim), ``mean`` as (..., dim) and ``cov`` as (..., dim, dim): a scalar
    ``cov`` is a multiple of the identity, a vector one its diagonal (SciPy's forms); a 1-D
    ``x`` of a one-dimensional distribution holds several points."""
    cov = fnp.asarray(as_float(cov))
    dim = _dimension(mean, cov)
    x = fnp.asarray(as_float(x))
    center = fnp.zeros((dim,), x.dtype, like=x) if mean is None else fnp.asarray(as_float(mean))
    if center.ndim == 0:
        center = fnp.broadcast_to(center, (dim,))
    if cov.ndim == 0:
        cov = cov * fnp.eye(dim, dtype=cov.dtype, like=cov)
    elif cov.ndim == 1:
        cov = fnp.diag(cov)
    if x.ndim == 0 or (dim == 1 and x.shape[-1:] != (1,)):
        x = x[..., None]
    if x.shape[-1] != dim or cov.shape[-2:] != (dim, dim):
        raise ValueError(
            f"multivariate_normal: x of shape {x.shape}, mean of shape {center.shape} and cov of shape "
            f"{cov.shape} do not fit: the last axis of x and of mean and the last two of cov must "
            f"all have the dimension of the vectors ({dim}).")
    return x, center, cov, dim


def _check_semidefinite(cov: Array, allow_singular: bool) -> None:
    """SciPy's test, on the eigenvalues of a concrete ``cov``: an eigenvalue below ``-eps`` (not
    positive semidefinite) or, unless ``allow_singular``, not above ``eps`` (singular) is an
    error, where ``eps`` is ``1e6`` (``1e3`` in float32) machine epsilons times the largest
    eigenvalue. Without a concrete value (under ``jit`` or ``vmap``) there is nothing to test."""
    try:
        values = host_values(cov)
    except errors.TracerConversionError:
        return
    # host-data: the eigenvalues of a concrete cov, on the host, for this check alone
    spectrum = np.linalg.eigvalsh(values)
    factor = 1e3 if spectrum.dtype == np.float32 else 1e6
    # host-data: the cutoff of each matrix of the batch, from its largest eigenvalue
    eps = factor * np.finfo(spectrum.dtype).eps * np.max(np.abs(spectrum), axis=-1)
    smallest = spectrum[..., 0]
    negative, singular = bool(np.any(smallest < -eps)), bool(np.any(smallest <= eps))  # host-data: flags
    low, high = float(np.min(smallest)), float(np.max(spectrum[..., -1]))  # host-data: for the message
    if negative:
        raise ValueError(
            "multivariate_normal: cov must be symmetric positive semidefinite, but it has the "
            f"eigenvalue {low:.3g}. Build it as A @ A.T (plus a small multiple of the identity), "
            "or check how it was computed.")
    if singular and not allow_singular:
        raise fnp.linalg.LinAlgError(
            f"multivariate_normal: cov is singular (its smallest eigenvalue {low:.3g} is negligible "
            f"next to its largest, {high:.3g}), so the distribution has no density in every "
            "direction. Pass allow_singular=True for the density on the subspace the distribution "
            "lives on (as SciPy), or add a small multiple of the identity to cov (jitter).")


def _definite_logpdf(x: Array, mean: Array, cov: Array, dim: int) -> Array:
    low = fnp.linalg.cholesky(cov)
    dev = x - mean
    if low.ndim == 2:  # one covariance for every point: one solve with the points as columns
        batch = dev.shape[:-1]
        solved = solve_triangular(low, fnp.reshape(dev, (-1, dim)).T, lower=True)
        maha = fnp.reshape(fnp.sum(solved * solved, axis=0), batch)
    else:
        solved = solve_triangular(low, dev[..., None], lower=True)[..., 0]
        maha = fnp.sum(solved * solved, axis=-1)
    log_det = 2.0 * fnp.sum(fnp.log(fnp.diagonal(low, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * (dim * _LOG_2PI + log_det + maha)


def _degenerate_logpdf(x: Array, mean: Array, cov: Array) -> Array:
    """SciPy's density of a possibly singular ``cov``: on the span of the eigenvectors whose
    eigenvalues pass the cutoff, with the pseudo-determinant; ``-inf`` off that span."""
    values, vectors = fnp.linalg.eigh(cov)
    factor = 1e3 if values.dtype == np.float32 else 1e6
    eps = factor * float(np.finfo(values.dtype).eps) * fnp.max(fnp.abs(values), axis=-1, keepdims=True)
    kept = fnp.greater(values, eps)
    safe = fnp.where(kept, values, 1.0)
    rank = fnp.sum(kept, axis=-1)
    log_pdet = fnp.sum(fnp.where(kept, fnp.log(safe), 0.0), axis=-1)
    dev = x - mean
    coords = fnp.einsum("...i,...ij->...j", dev, vectors)  # dev in the eigenvector basis
    maha = fnp.sum(fnp.where(kept, coords * coords / safe, 0.0), axis=-1)
    residual = fnp.sqrt(fnp.sum(fnp.where(kept, 0.0, coords * coords), axis=-1))
    density = -0.5 * (rank * _LOG_2PI + log_pdet + maha)
    return fnp.where(fnp.less(residual, 1e3 * eps[..., 0]), density, -fnp.inf)


@distribution_function
def logpdf(x: ArrayLike, mean: ArrayLike | None = None, cov: ArrayLike = 1,
           allow_singular: bool = False) -> Array:
    """The log of the density at the vectors along the last axis of ``x``.

    Args:
        x: points, shape ``(..., dim)`` (for ``dim == 1`` also ``(...)``, each entry a point).
        mean: the mean, shape ``(dim,)`` or batched ``(..., dim)``; ``None``: zero.
        cov: the covariance ``(dim, dim)`` or batched ``(..., dim, dim)``, its diagonal
            ``(dim,)``, or a scalar times the identity. Only its lower triangle is read.
        allow_singular: for a singular ``cov``, the density on the subspace the distribution
            lives on (pseudo-determinant, ``-inf`` off it) instead of an error.

    Returns:
        The log densities, of the batch shape of ``x``, ``mean`` and ``cov`` broadcast together
        (SciPy also squeezes axes of length 1 away; this keeps them).

    Raises:
        numpy.linalg.LinAlgError: ``cov`` is singular and ``allow_singular`` is false (checked
            when ``cov`` has a value: not under ``jit`` or ``vmap``, where a singular ``cov``
            gives ``nan``).
        ValueError: ``cov`` has a negative eigenvalue, or the shapes do not fit.

    Example:
        >>> import numpy as np
        >>> from functrans.scipy.stats import multivariate_normal
        >>> round(float(multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.eye(2))), 12)
        -1.837877066409
    """
    x, mean, cov, dim = _arguments(x, mean, cov)
    _check_semidefinite(cov, allow_singular)
    if allow_singular:
        return _degenerate_logpdf(x, mean, cov)
    return _definite_logpdf(x, mean, cov, dim)


def pdf(x: ArrayLike, mean: ArrayLike | None = None, cov: ArrayLike = 1,
        allow_singular: bool = False) -> Array:
    """The density (see ``logpdf`` for the arguments).

    Example:
        >>> import numpy as np
        >>> from functrans.scipy.stats import multivariate_normal
        >>> round(float(multivariate_normal.pdf(np.zeros(2), np.zeros(2), np.eye(2))), 12)
        0.159154943092
    """
    return fnp.exp(logpdf(x, mean, cov, allow_singular))
