"""Samplers built on the gamma distribution, differentiable in their shape parameters.

``gamma`` draws by Marsaglia and Tsang's squeeze method ("A simple method for generating
gamma variables", ACM TOMS 2000), in log space so that small shapes keep their precision, and
differentiates by implicit reparameterization (Figurnov, Mohamed and Mnih, NeurIPS 2018): at a
fixed key the sample ``x`` keeps its CDF value ``F(x; a)`` as ``a`` moves, so
``dx/da = -(dF/da) / pdf(x; a)``. With ``F`` the regularized lower incomplete gamma function,
its series ``F = x^a e^-x / Gamma(a+1) * sum_k t_k``, ``t_k = x^k / ((a+1)...(a+k))``, gives

    d log x / da = -(1/a) * ((log x - digamma(a+1)) * sum_k t_k - sum_k t_k * H_k),

``H_k = sum_{j<=k} 1/(a+j)``: no exponential, so it holds where ``x`` underflows. That slope is
a first derivative only, as in JAX: differentiating it again raises a clear error. ``beta``,
``dirichlet``, ``chisquare``, ``t``, ``f`` and ``generalized_normal`` are built from
``loggamma`` and inherit its derivative.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.api import custom_jvp
from functrans.backend import array_module, to_host
from functrans.errors import UnsupportedError
from functrans.random._bits import _F64, _unit
from functrans.random._checks import (
    Shape,
    _check_any_key,
    _draw_with,
    _finish,
    _float_dtype,
    _float_param,
    _on,
    _public,
    _sample_shape,
    _Shaped,
)
from functrans.random._continuous import normal
from functrans.random._discrete import rademacher
from functrans.random._keys import fold_in, split
from functrans.scipy.special import digamma
from functrans.typing import Array, DType, Key

_MAX_ROUNDS = 1000  # squeeze rounds; each accepts with probability above 0.95
_MAX_TERMS = 1_000_000  # series terms of the slope; about x - a + 10 sqrt(a) are needed


def _log_gamma_draw(key: Array, a: Array) -> Array:
    """``log`` of Gamma(a, 1) samples for a concrete float64 array ``a`` (NaN where a <= 0).

    Round ``r`` of the squeeze draws for every element from ``fold_in(key, r)``, and each
    element keeps its first accepted value, so element ``i`` depends on the key, ``a[i]`` and
    ``i`` only. Shapes below 1 draw Gamma(a + 1) and multiply by ``u^(1/a)`` (in logs).
    """
    xp = array_module(key)
    a = xp.asarray(a, dtype=_F64)  # (a Python float: the primal of grad at a number)
    flat = a.reshape(-1)
    n = flat.shape[0]
    valid = flat > 0
    safe = xp.where(valid, flat, 1.0)
    boost = valid & (safe < 1.0)
    d = xp.where(boost, safe + 1.0, safe) - 1.0 / 3.0
    c = 1.0 / xp.sqrt(9.0 * d)
    loop_key, boost_key = split(key)
    log_x = xp.full(n, math.nan, dtype=_F64)
    done = ~valid
    for r in range(_MAX_ROUNDS):
        if bool(to_host(done.all())):
            break
        kz, ku = split(fold_in(loop_key, r))
        z = normal(kz, n)
        u = _unit(xp, ku, n, _F64, open_interval=True)
        v = (1.0 + c * z) ** 3
        positive = v > 0
        v_safe = xp.where(positive, v, 1.0)
        log_v = xp.log(v_safe)
        accept = positive & (xp.log(u) < 0.5 * z * z + d - d * v_safe + d * log_v) & ~done
        log_x = xp.where(accept, xp.log(d) + log_v, log_x)
        done = done | accept
    u = _unit(xp, boost_key, n, _F64, open_interval=True)
    log_x = xp.where(boost, log_x + xp.log(u) / safe, log_x)
    return log_x.reshape(a.shape)


def _log_gamma_slope(log_x: Array, a: Array) -> Array:
    """``d log x / d a`` of Gamma(a) samples at a fixed CDF value, on concrete arrays."""
    xp = array_module(a)
    valid = a > 0
    a = xp.where(valid, a, 1.0)
    x = xp.exp(log_x)
    term = xp.ones_like(a)
    harmonic = xp.zeros_like(a)
    total = xp.ones_like(a)
    weighted = xp.zeros_like(a)
    for k in range(1, _MAX_TERMS):
        step = 1.0 / (a + k)
        term = term * x * step
        harmonic = harmonic + step
        total = total + term
        weighted = weighted + term * harmonic
        if k % 8 == 0 and bool(to_host((term * (1.0 + harmonic) <= 1e-17 * total).all())):
            break
    slope = -((log_x - digamma(a + 1.0)) * total - weighted) / a
    return xp.where(valid, slope, math.nan)


@custom_jvp
def _slope(a: Array, log_x: Array) -> Array:
    return _draw_with(_log_gamma_slope, log_x, a)  # on the device of the samples


@_slope.defjvp
def _slope_jvp(primals: tuple, tangents: tuple) -> tuple:
    raise UnsupportedError(
        "functrans.random: the second derivative of gamma samples (and of beta, dirichlet, "
        "chisquare, t, f and generalized_normal samples) with respect to their shape "
        "parameters is not implemented; the first derivative is. Differentiate once, or "
        "stop_gradient the parameter in the outer derivative."
    )


@custom_jvp
def _log_gamma(key: Array, a: Array) -> Array:
    return _draw_with(_log_gamma_draw, key, a)


@_log_gamma.defjvp
def _log_gamma_jvp(primals: tuple, tangents: tuple) -> tuple:
    key, a = primals
    log_x = _log_gamma(key, a)
    return log_x, tangents[1] * _slope(a, log_x)


def _loggamma(key: Any, a: Any, shape: tuple[int, ...]) -> Array:
    """Differentiable log-Gamma(a) samples of ``shape`` (``a`` broadcasts to it), float64."""
    if isinstance(a, float):
        a = fnp.full(shape, a, dtype=_F64)  # moved to the key's device by the draw
    elif tuple(a.shape) != shape:
        a = fnp.broadcast_to(a, shape)
    return _log_gamma(key, a)


@_public
def gamma(key: Key, a: float | Array, shape: Shape | None = None, dtype: DType = np.float64, *,
          device: str | None = None) -> Array:
    """Gamma samples with shape ``a`` and scale 1, differentiable in ``a``.

    The derivative is the implicit reparameterization ``dx/da = -(dF/da)/pdf(x)`` with ``F``
    the gamma CDF, at the sample (first order, as JAX's).

    Args:
        key: A key.
        a: Shape parameter, positive; a number or an array (may be traced).
        shape: Shape of the result; ``None`` means the shape of ``a``, which must broadcast
            to it.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``; NaN where ``a <= 0``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``a`` does not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> x = gamma(key(0), 3.0, (10_000,))
        >>> abs(float(x.mean()) - 3.0) < 0.1
        True
    """
    dtype = _float_dtype(dtype, "gamma")
    return _finish(fnp.exp(loggamma(key, a, shape, dtype=_F64, device=device)), dtype)


@_public
def loggamma(key: Key, a: float | Array, shape: Shape | None = None, dtype: DType = np.float64, *,
             device: str | None = None) -> Array:
    """Logarithms of Gamma(a) samples, accurate also for small ``a`` where the samples
    themselves underflow; differentiable in ``a``.

    Args:
        key: A key.
        a: Shape parameter, positive; a number or an array (may be traced).
        shape: Shape of the result; ``None`` means the shape of ``a``.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``a`` does not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> bool(loggamma(key(0), 1e-3, (5,)).min() < -100)
        True
    """
    key = _on(key, device)
    _check_any_key(key, "loggamma")
    dtype = _float_dtype(dtype, "loggamma")
    a = _float_param(a, "a", "loggamma", key)
    out_shape = _sample_shape("loggamma", shape, a=a)
    return _finish(_loggamma(key, a, out_shape), dtype)


@_public
def beta(key: Key, a: float | Array, b: float | Array, shape: Shape | None = None,
         dtype: DType = np.float64, *, device: str | None = None) -> Array:
    """Beta(a, b) samples, ``Ga / (Ga + Gb)`` from two gamma draws, differentiable in both.

    Computed as ``expit(log Ga - log Gb)`` so that small ``a`` or ``b`` keep precision.

    Args:
        key: A key.
        a: First shape parameter, positive; a number or an array (may be traced).
        b: Second shape parameter, positive; a number or an array (may be traced).
        shape: Shape of the result; ``None`` means the broadcast shape of ``a`` and ``b``.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` with values in [0, 1].

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: the parameters do not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> x = beta(key(0), 2.0, 6.0, (10_000,))
        >>> abs(float(x.mean()) - 0.25) < 0.01
        True
    """
    key = _on(key, device)
    _check_any_key(key, "beta")
    dtype = _float_dtype(dtype, "beta")
    a = _float_param(a, "a", "beta", key)
    b = _float_param(b, "b", "beta", key)
    out_shape = _sample_shape("beta", shape, a=a, b=b)
    ka, kb = split(key)
    log_a = _loggamma(ka, a, out_shape)
    log_b = _loggamma(kb, b, out_shape)
    return _finish(1.0 / (1.0 + fnp.exp(log_b - log_a)), dtype)


@_public
def dirichlet(key: Key, alpha: Array, shape: Shape | None = None, dtype: DType = np.float64, *,
              device: str | None = None) -> Array:
    """Dirichlet(alpha) samples: normalized gamma draws along the last axis, differentiable
    in ``alpha``.

    Args:
        key: A key.
        alpha: Concentrations, positive, with the categories along the last axis (may be
            traced).
        shape: Batch shape of the result (without the categories axis); ``None`` means
            ``alpha.shape[:-1]``, which must broadcast to it.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape + alpha.shape[-1:]`` and ``dtype``; each row sums to 1.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``alpha`` has no categories axis, or its batch shape does not broadcast.

    Example:
        >>> from functrans.random import key
        >>> import numpy as np
        >>> x = dirichlet(key(0), np.array([1.0, 2.0, 3.0]), (4,))
        >>> x.shape, bool(np.allclose(x.sum(-1), 1.0))
        ((4, 3), True)
    """
    key = _on(key, device)
    _check_any_key(key, "dirichlet")
    dtype = _float_dtype(dtype, "dirichlet")
    alpha = _float_param(alpha, "alpha", "dirichlet", key)
    if isinstance(alpha, float) or alpha.ndim == 0:
        raise ValueError(
            "functrans.random.dirichlet: alpha must have at least one dimension (the "
            "categories), got a scalar"
        )
    batch = _sample_shape("dirichlet", shape, alpha=_Shaped(tuple(alpha.shape[:-1])))
    logs = _loggamma(key, alpha, batch + tuple(alpha.shape[-1:]))
    logs = logs - fnp.max(logs, axis=-1, keepdims=True)  # the shift cancels in the ratio
    weights = fnp.exp(logs)
    return _finish(weights / fnp.sum(weights, axis=-1, keepdims=True), dtype)


@_public
def chisquare(key: Key, df: float | Array, shape: Shape | None = None, dtype: DType = np.float64,
              *, device: str | None = None) -> Array:
    """Chi-square samples with ``df`` degrees of freedom, ``2 Gamma(df/2)``; differentiable
    in ``df``.

    Args:
        key: A key.
        df: Degrees of freedom, positive; a number or an array (may be traced).
        shape: Shape of the result; ``None`` means the shape of ``df``.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``df`` does not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> x = chisquare(key(0), 4.0, (10_000,))
        >>> abs(float(x.mean()) - 4.0) < 0.15
        True
    """
    key = _on(key, device)
    _check_any_key(key, "chisquare")
    dtype = _float_dtype(dtype, "chisquare")
    df = _float_param(df, "df", "chisquare", key)
    out_shape = _sample_shape("chisquare", shape, df=df)
    return _finish(2.0 * fnp.exp(_loggamma(key, df / 2.0, out_shape)), dtype)


@_public
def t(key: Key, df: float | Array, shape: Shape | None = None, dtype: DType = np.float64, *,
      device: str | None = None) -> Array:
    """Student's t samples, ``z sqrt(df / chi2(df))``; differentiable in ``df``.

    Args:
        key: A key.
        df: Degrees of freedom, positive; a number or an array (may be traced).
        shape: Shape of the result; ``None`` means the shape of ``df``.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``df`` does not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> x = t(key(0), 5.0, (10_000,))
        >>> abs(float(x.mean())) < 0.05
        True
    """
    key = _on(key, device)
    _check_any_key(key, "t")
    dtype = _float_dtype(dtype, "t")
    df = _float_param(df, "df", "t", key)
    out_shape = _sample_shape("t", shape, df=df)
    kz, kg = split(key)
    z = normal(kz, out_shape)
    half = df / 2.0
    return _finish(z * fnp.sqrt(half) * fnp.exp(-0.5 * _loggamma(kg, half, out_shape)), dtype)


@_public
def f(key: Key, dfnum: float | Array, dfden: float | Array, shape: Shape | None = None,
      dtype: DType = np.float64, *, device: str | None = None) -> Array:
    """F-distribution samples, ``(chi2(dfnum)/dfnum) / (chi2(dfden)/dfden)``; differentiable
    in both degrees of freedom.

    Args:
        key: A key.
        dfnum: Degrees of freedom of the numerator, positive (may be traced).
        dfden: Degrees of freedom of the denominator, positive (may be traced).
        shape: Shape of the result; ``None`` means the broadcast shape of the parameters.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: the parameters do not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> x = f(key(0), 5.0, 10.0, (10_000,))
        >>> abs(float(x.mean()) - 1.25) < 0.06
        True
    """
    key = _on(key, device)
    _check_any_key(key, "f")
    dtype = _float_dtype(dtype, "f")
    dfnum = _float_param(dfnum, "dfnum", "f", key)
    dfden = _float_param(dfden, "dfden", "f", key)
    out_shape = _sample_shape("f", shape, dfnum=dfnum, dfden=dfden)
    kn, kd = split(key)
    log_num = _loggamma(kn, dfnum / 2.0, out_shape)
    log_den = _loggamma(kd, dfden / 2.0, out_shape)
    return _finish(fnp.exp(log_num - log_den) * (dfden / dfnum), dtype)


@_public
def generalized_normal(key: Key, p: float | Array, shape: Shape | None = None,
                       dtype: DType = np.float64, *, device: str | None = None) -> Array:
    """Samples of density proportional to ``exp(-|x|^p)``: ``sign * Gamma(1/p)^(1/p)``;
    differentiable in ``p``.

    Args:
        key: A key.
        p: Positive exponent (2: normal with variance 1/2; 1: Laplace); may be traced.
        shape: Shape of the result; ``None`` means the shape of ``p``.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``p`` does not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> x = generalized_normal(key(0), 2.0, (10_000,))
        >>> abs(float(x.var()) - 0.5) < 0.03
        True
    """
    key = _on(key, device)
    _check_any_key(key, "generalized_normal")
    dtype = _float_dtype(dtype, "generalized_normal")
    p = _float_param(p, "p", "generalized_normal", key)
    out_shape = _sample_shape("generalized_normal", shape, p=p)
    ks, kg = split(key)
    sign = rademacher(ks, out_shape, dtype=_F64)
    return _finish(sign * fnp.exp(_loggamma(kg, 1.0 / p, out_shape) / p), dtype)
