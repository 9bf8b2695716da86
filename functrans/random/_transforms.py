"""Continuous samplers made from uniform or normal draws by a closed-form transform (inverse
CDF, location-scale, norms), differentiable in their parameters at a fixed key."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.api import custom_jvp
from functrans.random._checks import (
    Shape,
    _check_any_key,
    _check_shape,
    _finish,
    _float_dtype,
    _float_param,
    _on,
    _public,
    _sample_shape,
)
from functrans.random._continuous import _open_uniform, normal, uniform
from functrans.random._keys import split
from functrans.scipy.special import log_ndtr
from functrans.typing import Array, DType, Key


def _work(dtype: np.dtype) -> np.dtype:
    """The dtype the draws are made in: float16 works in float32, as ``normal`` does."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def _standard(key: Any, shape: Shape, dtype: DType, device: str | None, fn: str
              ) -> tuple[Any, tuple[int, ...], np.dtype]:
    """The checked key (moved to ``device``), shape and dtype of a parameterless sampler."""
    key = _on(key, device)
    _check_any_key(key, fn)
    return key, _check_shape(shape, fn), _float_dtype(dtype, fn)


@_public
def exponential(key: Key, shape: Shape = (), dtype: DType = np.float64, *,
                device: str | None = None) -> Array:
    """Exponential samples with rate 1, ``-log(1 - u)``.

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.

    Example:
        >>> from functrans.random import key
        >>> x = exponential(key(0), (10_000,))
        >>> abs(float(x.mean()) - 1.0) < 0.05
        True
    """
    key, shape, dtype = _standard(key, shape, dtype, device, "exponential")
    return _finish(-fnp.log1p(-uniform(key, shape, _work(dtype))), dtype)


@_public
def laplace(key: Key, shape: Shape = (), dtype: DType = np.float64, *,
            device: str | None = None) -> Array:
    """Laplace samples (location 0, scale 1) by the inverse CDF; for location ``m`` and scale
    ``s`` use ``m + s * laplace(key)``, differentiable in both.

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.

    Example:
        >>> from functrans.random import key
        >>> x = laplace(key(0), (10_000,))
        >>> abs(float(x.var()) - 2.0) < 0.2
        True
    """
    key, shape, dtype = _standard(key, shape, dtype, device, "laplace")
    w = 2.0 * _open_uniform(key, shape, _work(dtype)) - 1.0
    return _finish(-fnp.sign(w) * fnp.log1p(-fnp.abs(w)), dtype)


@_public
def cauchy(key: Key, shape: Shape = (), dtype: DType = np.float64, *,
           device: str | None = None) -> Array:
    """Standard Cauchy samples, ``tan(pi (u - 1/2))``.

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.

    Example:
        >>> from functrans.random import key
        >>> import numpy as np
        >>> x = cauchy(key(0), (10_000,))
        >>> abs(float(np.median(x))) < 0.05
        True
    """
    key, shape, dtype = _standard(key, shape, dtype, device, "cauchy")
    u = _open_uniform(key, shape, _work(dtype))
    return _finish(fnp.tan(math.pi * (u - 0.5)), dtype)


@_public
def logistic(key: Key, shape: Shape = (), dtype: DType = np.float64, *,
             device: str | None = None) -> Array:
    """Standard logistic samples, ``log(u / (1 - u))``.

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.

    Example:
        >>> from functrans.random import key
        >>> x = logistic(key(0), (10_000,))
        >>> abs(float(x.var()) - 3.29) < 0.2
        True
    """
    key, shape, dtype = _standard(key, shape, dtype, device, "logistic")
    u = _open_uniform(key, shape, _work(dtype))
    return _finish(fnp.log(u) - fnp.log1p(-u), dtype)


@_public
def gumbel(key: Key, shape: Shape = (), dtype: DType = np.float64, mode: str = "low", *,
           device: str | None = None) -> Array:
    """Standard Gumbel samples (of maxima), ``-log(-log(u))``.

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default).
        mode: ``"low"`` computes ``-log(-log(u))``; ``"high"`` computes ``-log(E)`` from an
            exponential draw ``E``, more accurate in the upper tail.
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``mode`` is neither ``"low"`` nor ``"high"``.

    Example:
        >>> from functrans.random import key
        >>> x = gumbel(key(0), (10_000,))
        >>> abs(float(x.mean()) - 0.5772) < 0.05
        True
    """
    if mode not in ("low", "high"):
        raise ValueError(f"functrans.random.gumbel: mode must be 'low' or 'high', got {mode!r}")
    key, shape, dtype = _standard(key, shape, dtype, device, "gumbel")
    u = _open_uniform(key, shape, _work(dtype))
    if mode == "low":
        return _finish(-fnp.log(-fnp.log(u)), dtype)
    return _finish(-fnp.log(-fnp.log1p(-u)), dtype)


def _with_params(key: Any, fn: str, shape: Shape | None, dtype: DType, device: str | None,
                 **params: Any) -> tuple[Any, tuple[int, ...], np.dtype, list]:
    """Checked key, sample shape, dtype and parameters of a parameterized sampler."""
    key = _on(key, device)
    _check_any_key(key, fn)
    dtype = _float_dtype(dtype, fn)
    values = {k: _float_param(v, k, fn, key) for k, v in params.items()}
    return key, _sample_shape(fn, shape, **values), dtype, list(values.values())


@_public
def pareto(key: Key, b: float | Array, shape: Shape | None = None, dtype: DType = np.float64, *,
           device: str | None = None) -> Array:
    """Pareto samples with shape ``b`` and scale 1 (values from 1 up), ``exp(E / b)``;
    differentiable in ``b``.

    Args:
        key: A key.
        b: Shape parameter, positive; a number or an array (may be traced).
        shape: Shape of the result; ``None`` means the shape of ``b``.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``b`` does not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> x = pareto(key(0), 3.0, (10_000,))
        >>> bool(x.min() >= 1.0), abs(float(x.mean()) - 1.5) < 0.05
        (True, True)
    """
    key, shape, dtype, (b,) = _with_params(key, "pareto", shape, dtype, device, b=b)
    e = -fnp.log1p(-uniform(key, shape, _work(dtype)))
    return _finish(fnp.exp(e / b), dtype)


@_public
def weibull_min(key: Key, scale: float | Array, concentration: float | Array,
                shape: Shape | None = None, dtype: DType = np.float64, *,
                device: str | None = None) -> Array:
    """Weibull samples, ``scale * E^(1/concentration)``; differentiable in both parameters.

    Args:
        key: A key.
        scale: Scale, positive; a number or an array (may be traced).
        concentration: Shape (concentration), positive; a number or an array (may be traced).
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
        >>> x = weibull_min(key(0), 2.0, 1.0, (10_000,))
        >>> abs(float(x.mean()) - 2.0) < 0.1
        True
    """
    key, shape, dtype, (scale, conc) = _with_params(
        key, "weibull_min", shape, dtype, device, scale=scale, concentration=concentration)
    e = -fnp.log(_open_uniform(key, shape, _work(dtype)))
    return _finish(scale * fnp.exp(fnp.log(e) / conc), dtype)


@_public
def rayleigh(key: Key, scale: float | Array = 1.0, shape: Shape | None = None,
             dtype: DType = np.float64, *, device: str | None = None) -> Array:
    """Rayleigh samples, ``scale * sqrt(2 E)``; differentiable in ``scale``.

    Args:
        key: A key.
        scale: Scale, positive; a number or an array (may be traced).
        shape: Shape of the result; ``None`` means the shape of ``scale``.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``scale`` does not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> x = rayleigh(key(0), 1.0, (10_000,))
        >>> abs(float(x.mean()) - 1.2533) < 0.03
        True
    """
    key, shape, dtype, (scale,) = _with_params(key, "rayleigh", shape, dtype, device, scale=scale)
    e = -fnp.log1p(-uniform(key, shape, _work(dtype)))
    return _finish(scale * fnp.sqrt(2.0 * e), dtype)


@_public
def maxwell(key: Key, shape: Shape = (), dtype: DType = np.float64, *,
            device: str | None = None) -> Array:
    """Maxwell samples (scale 1): the length of a standard normal vector in three dimensions.

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.

    Example:
        >>> from functrans.random import key
        >>> x = maxwell(key(0), (10_000,))
        >>> abs(float(x.mean()) - 1.5958) < 0.03
        True
    """
    key, shape, dtype = _standard(key, shape, dtype, device, "maxwell")
    z = normal(key, (*shape, 3), _work(dtype))
    return _finish(fnp.sqrt(fnp.sum(z * z, axis=-1)), dtype)


@_public
def double_sided_maxwell(key: Key, loc: float | Array, scale: float | Array,
                         shape: Shape | None = None, dtype: DType = np.float64, *,
                         device: str | None = None) -> Array:
    """Double-sided Maxwell samples, ``loc + scale * sign * maxwell``; differentiable in
    ``loc`` and ``scale``.

    Args:
        key: A key.
        loc: Location; a number or an array (may be traced).
        scale: Scale, positive; a number or an array (may be traced).
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
        >>> x = double_sided_maxwell(key(0), 1.0, 2.0, (10_000,))
        >>> abs(float(x.mean()) - 1.0) < 0.15
        True
    """
    key, shape, dtype, (loc, scale) = _with_params(
        key, "double_sided_maxwell", shape, dtype, device, loc=loc, scale=scale)
    k_len, k_sign = split(key)
    length = maxwell(k_len, shape, _work(dtype))
    sign = 2.0 * (uniform(k_sign, shape, _work(dtype)) < 0.5) - 1.0
    return _finish(loc + scale * sign * length, dtype)


@_public
def wald(key: Key, mean: float | Array, shape: Shape | None = None, dtype: DType = np.float64, *,
         device: str | None = None) -> Array:
    """Wald (inverse Gaussian) samples with ``mean`` and shape 1, by Michael, Schucany and
    Haas's transformation with multiple roots; differentiable in ``mean`` (to any order) by
    implicit reparameterization, since the choice of root jumps as the mean moves.

    Args:
        key: A key.
        mean: Mean, positive; a number or an array (may be traced).
        shape: Shape of the result; ``None`` means the shape of ``mean``.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``mean`` does not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> x = wald(key(0), 2.0, (10_000,))
        >>> abs(float(x.mean()) - 2.0) < 0.15
        True
    """
    key, shape, dtype, (mean,) = _with_params(key, "wald", shape, dtype, device, mean=mean)
    k_v, k_z = split(key)
    return _finish(_wald(normal(k_v, shape), uniform(k_z, shape), mean), dtype)


@custom_jvp
def _wald(v: Array, z: Array, mean: Any) -> Array:
    """Wald(mean, 1) from a normal ``v`` and a uniform ``z``: the smaller root of the
    quadratic that ``v^2`` fixes, or its reflection ``mean^2 / x``, chosen by ``z``."""
    y = v * v
    x = mean + 0.5 * mean * mean * y - 0.5 * mean * fnp.sqrt(4.0 * mean * y + mean * mean * y * y)
    return fnp.where(z <= mean / (mean + x), x, mean * mean / x)


@_wald.defjvp
def _wald_jvp(primals: tuple, tangents: tuple) -> tuple:
    # The choice between the two roots jumps as the mean moves, so the path above has the
    # wrong derivative; the implicit one keeps the CDF value: dx/dmean = -(dF/dmean) / pdf.
    # With F = Phi(a) + e^(2/m) Phi(-b), a = (x/m - 1)/sqrt(x), b = (x/m + 1)/sqrt(x), the
    # phi terms cancel (b^2 - a^2 = 4/m), leaving dF/dmean = -(2/m^2) e^(2/m) Phi(-b).
    v, z, mean = primals
    x = _wald(v, z, mean)
    b = (x / mean + 1.0) / fnp.sqrt(x)
    log_pdf = -0.5 * math.log(2.0 * math.pi) - 1.5 * fnp.log(x) - (x - mean) ** 2 / (2.0 * mean * mean * x)
    slope = 2.0 / (mean * mean) * fnp.exp(2.0 / mean + log_ndtr(-b) - log_pdf)
    return x, tangents[2] * slope


@_public
def triangular(key: Key, left: float | Array, mode: float | Array, right: float | Array,
               shape: Shape | None = None, dtype: DType = np.float64, *,
               device: str | None = None) -> Array:
    """Triangular samples on ``[left, right]`` peaking at ``mode``, by the inverse CDF;
    differentiable in the three parameters.

    Args:
        key: A key.
        left: Lower end; a number or an array (may be traced).
        mode: Peak, between ``left`` and ``right``; a number or an array (may be traced).
        right: Upper end, above ``left``; a number or an array (may be traced).
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
        >>> x = triangular(key(0), 0.0, 1.0, 4.0, (10_000,))
        >>> abs(float(x.mean()) - 5.0 / 3.0) < 0.05
        True
    """
    key, shape, dtype, (lo, peak, hi) = _with_params(
        key, "triangular", shape, dtype, device, left=left, mode=mode, right=right)
    u = uniform(key, shape, _work(dtype))
    width = hi - lo
    below = lo + fnp.sqrt(u * width * (peak - lo))
    above = hi - fnp.sqrt((1.0 - u) * width * (hi - peak))
    return _finish(fnp.where(u < (peak - lo) / width, below, above), dtype)


@_public
def lognormal(key: Key, sigma: float | Array = 1.0, shape: Shape | None = None,
              dtype: DType = np.float64, *, device: str | None = None) -> Array:
    """Log-normal samples, ``exp(sigma * z)``; differentiable in ``sigma``.

    Args:
        key: A key.
        sigma: Standard deviation of the logarithm; a number or an array (may be traced).
        shape: Shape of the result; ``None`` means the shape of ``sigma``.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``sigma`` does not broadcast to ``shape``.

    Example:
        >>> from functrans.random import key
        >>> x = lognormal(key(0), 0.5, (10_000,))
        >>> abs(float(x.mean()) - 1.1331) < 0.02
        True
    """
    key, shape, dtype, (sigma,) = _with_params(key, "lognormal", shape, dtype, device, sigma=sigma)
    return _finish(fnp.exp(sigma * normal(key, shape, _work(dtype))), dtype)

