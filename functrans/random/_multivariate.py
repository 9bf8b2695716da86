"""Samplers of vectors and matrices: multivariate normal, random orthogonal matrices, and
points in the unit ball."""
from __future__ import annotations

import numpy as np

import functrans.numpy as fnp
from functrans.core.trace import Tracer
from functrans.random._checks import (
    Shape,
    _check_any_key,
    _check_shape,
    _finish,
    _float_dtype,
    _float_param,
    _is_int,
    _on,
    _public,
    _refuse_traced_size,
    _sample_shape,
    _Shaped,
)
from functrans.random._continuous import normal
from functrans.random._gamma import generalized_normal
from functrans.random._keys import split
from functrans.random._transforms import exponential
from functrans.typing import Array, DType, Key

_METHODS = ("cholesky", "eigh", "svd")


@_public
def multivariate_normal(key: Key, mean: Array, cov: Array, shape: Shape | None = None,
                        dtype: DType | None = None, method: str = "cholesky", *,
                        device: str | None = None) -> Array:
    """Multivariate normal samples ``mean + A z`` with ``A A^T = cov``; differentiable in
    ``mean`` and ``cov``.

    Args:
        key: A key.
        mean: Mean vectors, shape ``(..., n)`` (may be traced).
        cov: Covariance matrices, shape ``(..., n, n)``, symmetric positive (semi-)definite
            (may be traced).
        shape: Batch shape of the result (without the last axis); ``None`` means the
            broadcast of ``mean.shape[:-1]`` and ``cov.shape[:-2]``, which must broadcast to
            it.
        dtype: float16, float32 or float64; ``None`` means float64.
        method: How ``A`` is found: ``"cholesky"`` (fastest, needs a positive definite
            ``cov``), ``"eigh"`` or ``"svd"`` (both accept a singular ``cov``).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape + (n,)`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: an unknown ``method``, or shapes that do not fit.

    Example:
        >>> from functrans.random import key
        >>> import numpy as np
        >>> cov = np.array([[2.0, 0.5], [0.5, 1.0]])
        >>> x = multivariate_normal(key(0), np.zeros(2), cov, (20_000,))
        >>> bool(np.allclose(np.cov(x.T), cov, atol=0.06))
        True
    """
    if method not in _METHODS:
        raise ValueError(
            f"functrans.random.multivariate_normal: method must be one of {_METHODS}, got "
            f"{method!r}"
        )
    key = _on(key, device)
    _check_any_key(key, "multivariate_normal")
    dtype = _float_dtype(np.float64 if dtype is None else dtype, "multivariate_normal")
    mean = _float_param(mean, "mean", "multivariate_normal", key)
    cov = _float_param(cov, "cov", "multivariate_normal", key)
    m_shape = tuple(getattr(mean, "shape", ()))
    c_shape = tuple(getattr(cov, "shape", ()))
    if len(m_shape) < 1 or len(c_shape) < 2 or c_shape[-2:] != (m_shape[-1], m_shape[-1]):
        raise ValueError(
            f"functrans.random.multivariate_normal: mean must have shape (..., n) and cov "
            f"shape (..., n, n), got mean {m_shape} and cov {c_shape}"
        )
    batch = _sample_shape("multivariate_normal", shape, mean=_Shaped(m_shape[:-1]),
                          cov=_Shaped(c_shape[:-2]))
    if method == "cholesky":
        factor = fnp.linalg.cholesky(cov)
    elif method == "eigh":
        w, v = fnp.linalg.eigh(cov)
        factor = v * fnp.sqrt(fnp.maximum(w, 0.0))[..., None, :]
    else:
        u, s, _ = fnp.linalg.svd(cov)
        factor = u * fnp.sqrt(s)[..., None, :]
    z = normal(key, (*batch, m_shape[-1]))
    return _finish(mean + fnp.sum(factor * z[..., None, :], axis=-1), dtype)


@_public
def orthogonal(key: Key, n: int, shape: Shape = (), dtype: DType = np.float64, m: int | None = None,
               *, device: str | None = None) -> Array:
    """Matrices drawn uniformly (Haar measure) from the ``n x m`` matrices with orthonormal
    columns (``n >= m``) or rows (``n < m``): the Q of a QR factorization of a normal matrix,
    with the signs of R's diagonal moved into Q.

    Args:
        key: A key.
        n: Number of rows.
        shape: Batch shape of the result.
        dtype: float16, float32 or float64 (the default).
        m: Number of columns; ``None`` means ``n`` (square orthogonal matrices).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape + (n, m)`` and ``dtype``.

    Raises:
        TypeError: ``n`` or ``m`` is not an int, or ``dtype`` is not a floating dtype.
        ValueError: ``n`` or ``m`` is negative.

    Example:
        >>> from functrans.random import key
        >>> import numpy as np
        >>> q = orthogonal(key(0), 3)
        >>> bool(np.allclose(q @ q.T, np.eye(3)))
        True
    """
    key = _on(key, device)
    _check_any_key(key, "orthogonal")
    dtype = _float_dtype(dtype, "orthogonal")
    shape = _check_shape(shape, "orthogonal")
    m = n if m is None else m
    for name, value in (("n", n), ("m", m)):
        if not _is_int(value) or value < 0:
            _refuse_traced_size((value,), name, "orthogonal")
            raise TypeError(
                f"functrans.random.orthogonal: '{name}' must be a non-negative int, got {value!r}")
    tall, wide = max(n, m), min(n, m)
    z = normal(key, (*shape, tall, wide))
    q, r = fnp.linalg.qr(z)
    d = fnp.diagonal(r, 0, -2, -1)
    q = q * fnp.where(d < 0, -1.0, 1.0)[..., None, :]
    if n < m:
        q = fnp.swapaxes(q, -1, -2)
    return _finish(q, dtype)


@_public
def ball(key: Key, d: int, p: float = 2, shape: Shape = (), dtype: DType = np.float64, *,
         device: str | None = None) -> Array:
    """Points drawn uniformly from the unit ``p``-norm ball in ``d`` dimensions: ``g /
    (||g||_p^p + E)^(1/p)`` with ``g`` generalized normal and ``E`` exponential (Barthe,
    Guédon, Mendelson and Naor, 2005).

    Args:
        key: A key.
        d: Dimension, a positive int.
        p: The norm's exponent, positive (2: the Euclidean ball). It may be traced (the
            points then differentiate in it, to first order like ``gamma``); a traced ``p``
            is not checked, and ``p <= 0`` gives NaN.
        shape: Batch shape of the result.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape + (d,)`` and ``dtype``.

    Raises:
        TypeError: ``d`` is not an int, or ``dtype`` is not a floating dtype.
        ValueError: ``d`` or ``p`` is not positive.

    Example:
        >>> from functrans.random import key
        >>> import numpy as np
        >>> x = ball(key(0), 3, shape=(1000,))
        >>> x.shape, bool((np.linalg.norm(x, axis=-1) <= 1).all())
        ((1000, 3), True)
    """
    key = _on(key, device)
    _check_any_key(key, "ball")
    dtype = _float_dtype(dtype, "ball")
    shape = _check_shape(shape, "ball")
    if not _is_int(d):
        _refuse_traced_size((d,), "d", "ball")
        raise TypeError(f"functrans.random.ball: 'd' must be an int, got {d!r}")
    traced = isinstance(p, Tracer)
    if traced and tuple(fnp.shape(p)) != ():
        raise ValueError(f"functrans.random.ball: p must be a number, got a traced array of "
                         f"shape {tuple(fnp.shape(p))}")
    if d < 1 or not (traced or p > 0):
        raise ValueError(f"functrans.random.ball: d and p must be positive, got d={d}, p={p}")
    k_g, k_e = split(key)
    g = generalized_normal(k_g, p if traced else float(p), (*shape, d))
    e = exponential(k_e, shape)
    norm = fnp.sum(fnp.abs(g) ** p, axis=-1) + e
    return _finish(g / (norm ** (1.0 / p))[..., None], dtype)
