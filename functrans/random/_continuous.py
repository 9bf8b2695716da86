"""Continuous samplers drawn from uniform mantissas: uniform, normal, truncated normal."""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.api import custom_jvp
from functrans.core.trace import Tracer
from functrans.primitives.opaque import opaque_call_p
from functrans.random._bits import _F64, ArrayModule, _unit
from functrans.random._checks import (
    Shape,
    _broadcasts_to,
    _check_any_key,
    _check_key,
    _check_shape,
    _Draw,
    _draw_with,
    _float_dtype,
    _float_param,
    _is_real,
    _on,
    _param,
    _same,
    _sample_shape,
    _sampler,
    _size,
)
from functrans.typing import Array, DType, Key


def uniform(
    key: Key,
    shape: Shape = (),
    dtype: DType = np.float64,
    minval: float | Array = 0.0,
    maxval: float | Array = 1.0,
    *,
    device: str | None = None,
) -> Array:
    """Uniform floats on ``[minval, maxval)``.

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default).
        minval: Lower bound (inclusive); a number or an array that broadcasts to ``shape``.
        maxval: Upper bound (exclusive); a number or an array that broadcasts to ``shape``.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``maxval <= minval`` (for number bounds), or a bound does not broadcast.

    Traced bounds (inside ``jit``, ``vmap`` or ``grad``) give the eager numbers, and the
    sample ``minval + (maxval - minval) * u`` differentiates in them, as in JAX.

    Example:
        >>> from functrans.random import key
        >>> x = uniform(key(0), (1000,), minval=-1.0, maxval=1.0)
        >>> bool((x >= -1.0).all() and (x < 1.0).all())
        True
        >>> uniform(key(0), 3, dtype="float32").dtype
        dtype('float32')
    """
    if isinstance(minval, Tracer) or isinstance(maxval, Tracer):
        return _traced_uniform(key, shape, dtype, minval, maxval, device)
    return _uniform(key, shape, dtype, minval, maxval, device=device)


uniform.__module__ = "functrans.random"  # the public path, for help() and reprs


def _traced_uniform(key: Key, shape: Shape, dtype: DType, minval: Any, maxval: Any,
                    device: str | None) -> Array:
    """``uniform`` with a traced bound: the same unit draw, scaled with traced arithmetic."""
    shape = _check_shape(shape, "uniform")
    dtype = _float_dtype(dtype, "uniform")
    key = _on(key, device)
    traced = minval if isinstance(minval, Tracer) else maxval
    bounds = []
    for name, value in (("minval", minval), ("maxval", maxval)):
        try:
            bound = fnp.asarray(value)
        except (TypeError, ValueError):
            bound = None
        if bound is None or np.dtype(getattr(bound, "dtype", object)).kind not in "biuf":
            raise TypeError(
                f"functrans.random.uniform: '{name}' must be a real number or an array, got "
                f"{type(value).__name__} {value!r:.60}"
            )
        if not _broadcasts_to(tuple(fnp.shape(bound)), shape):
            raise ValueError(
                f"functrans.random.uniform: '{name}' of shape {tuple(fnp.shape(bound))} does not "
                f"broadcast to the requested shape {shape}; pass a shape it broadcasts to"
            )
        if _is_real(value):  # a number goes where the traced bound is
            bound = fnp.full_like(traced, value, dtype=dtype, shape=())
        elif not isinstance(value, Tracer):  # an array goes where the draw is, as eagerly
            bound = _draw_with(_same, key, bound)
        bounds.append(fnp.astype(bound, dtype))
    lo, hi = bounds
    u = lo + (hi - lo) * _uniform(key, shape, dtype)
    # Rounding of lo + (hi - lo) * u can reach hi; keep the upper end open. (Not broadcast
    # first: a bound from a Python number passed to jit is a host scalar until it meets the
    # draw, which it then joins on its device.)
    return fnp.minimum(u, fnp.nextafter(hi, lo))


@_sampler
def _uniform(
    key: Key,
    shape: Shape = (),
    dtype: DType = np.float64,
    minval: float | Array = 0.0,
    maxval: float | Array = 1.0,
    *,
    device: str | None = None,
) -> Array:
    xp = _check_key(key, "uniform")
    shape = _check_shape(shape, "uniform")
    dtype = _float_dtype(dtype, "uniform")
    lo = _param(xp, minval, "minval", "uniform", shape, dtype)
    hi = _param(xp, maxval, "maxval", "uniform", shape, dtype)
    if isinstance(lo, float) and isinstance(hi, float) and not lo < hi:
        raise ValueError(
            f"functrans.random.uniform: maxval must be greater than minval (the range is "
            f"[minval, maxval)), got minval={minval!r}, maxval={maxval!r}"
        )
    u = _unit(xp, key, _size(shape), dtype)
    if not (isinstance(lo, float) and isinstance(hi, float) and lo == 0.0 and hi == 1.0):
        lo_a = xp.asarray(lo, dtype=dtype).reshape(-1)
        hi_a = xp.asarray(hi, dtype=dtype).reshape(-1)
        u = lo_a + (hi_a - lo_a) * u
        # Rounding of lo + (hi - lo) * u can reach hi; keep the upper end open.
        u = xp.minimum(u, xp.nextafter(hi_a, lo_a))
    return u.reshape(shape)


@_sampler
def _open_uniform(key: Key, shape: Shape, dtype: DType, *, device: str | None = None) -> Array:
    """Uniform floats on the open interval (0, 1), where logarithms are finite."""
    xp = _check_key(key, "uniform")
    shape = _check_shape(shape, "uniform")
    return _unit(xp, key, _size(shape), np.dtype(dtype), open_interval=True).reshape(shape)


@_sampler
def normal(key: Key, shape: Shape = (), dtype: DType = np.float64, *,
           device: str | None = None) -> Array:
    """Standard normal floats (mean 0, variance 1), by the Box-Muller transform.

    A complex dtype gives JAX's complex normal: real and imaginary parts independent with
    variance 1/2 each, so ``E|z|^2 = 1``.

    Values come in pairs ``r cos(t), r sin(t)`` with ``r = sqrt(-2 log(1 - u1))`` and
    ``u1`` on [0, 1), so the logarithm never sees 0. With 52 mantissa bits the largest
    magnitude is about 8.5 (float64); with 23 bits about 5.6 (float32).

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default), or complex64 or complex128.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device.

    Raises:
        TypeError: ``dtype`` is not a floating or complex dtype.

    Example:
        >>> from functrans.random import key
        >>> z = normal(key(1), (100_000,))
        >>> abs(float(z.mean())) < 0.02, abs(float(z.std()) - 1) < 0.02
        (True, True)
    """
    xp = _check_key(key, "normal")
    shape = _check_shape(shape, "normal")
    if _is_complex_dtype(dtype):  # JAX's complex normal: E|z|^2 = 1
        part = np.dtype(np.float32) if np.dtype(dtype) == np.complex64 else _F64
        pair = normal(key, (2,) + shape, part)
        z = (pair[0] + 1j * pair[1]) * math.sqrt(0.5)
        return xp.asarray(z, dtype=dtype).reshape(shape)  # a 0-d result stays an array
    dtype = _float_dtype(dtype, "normal")
    work = np.dtype(np.float32) if dtype == np.float16 else dtype
    n = _size(shape)
    pairs = (n + 1) // 2
    u = _unit(xp, key, 2 * pairs, work)
    radius = xp.sqrt(-2.0 * xp.log(1.0 - u[:pairs]))
    angle = (2.0 * math.pi) * u[pairs:]
    z = xp.concatenate([radius * xp.cos(angle), radius * xp.sin(angle)])[:n]
    return z.astype(dtype, copy=False).reshape(shape)


def _is_complex_dtype(dtype: DType) -> bool:
    try:
        return np.dtype(dtype) in (np.complex64, np.complex128)
    except TypeError:
        return False


# Special functions for truncated_normal, evaluated in float64 with array operations only.

_SERIES_TERMS = 40
_FRACTION_TERMS = 100
_SWITCH = 1.5  # below: power series for erf; above: continued fraction for erfc


def _erfc(xp: ArrayModule, x: Array) -> Array:
    """Complementary error function of a float64 array, accurate to about 1e-13 relative.

    For ``|x| < 1.5`` it uses ``erf(x) = 2x/sqrt(pi) exp(-x^2) sum_k (2x^2)^k / (1*3*...*(2k+1))``
    (all terms positive, so nothing cancels); beyond, the continued fraction
    ``erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))``.
    """
    ax = xp.abs(x)
    xs = xp.minimum(ax, _SWITCH)
    z = 2.0 * xs * xs
    term = xp.ones_like(xs)
    total = xp.ones_like(xs)
    for k in range(1, _SERIES_TERMS):
        term = term * z / (2 * k + 1)
        total = total + term
    near = 1.0 - (2.0 / math.sqrt(math.pi)) * xs * xp.exp(-xs * xs) * total
    xl = xp.clip(ax, _SWITCH, 40.0)
    frac = xl
    for k in range(_FRACTION_TERMS, 0, -1):
        frac = xl + (0.5 * k) / frac
    far = xp.exp(-xl * xl) / (math.sqrt(math.pi) * frac)
    pos = xp.where(ax < _SWITCH, near, far)
    return xp.where(x < 0, 2.0 - pos, pos)


def _ndtr(xp: ArrayModule, x: Array) -> Array:
    """Standard normal CDF, with full relative precision in the lower tail."""
    return 0.5 * _erfc(xp, -x * (1.0 / math.sqrt(2.0)))


def _ndtri(xp: ArrayModule, p: Array) -> Array:
    """Inverse standard normal CDF of a float64 array with values in (0, 1).

    A rational first guess (Abramowitz and Stegun 26.2.23, error below 5e-4) refined by
    three Halley steps on ``ndtr(x) = q`` in the lower tail, where ``q = min(p, 1 - p)``.
    Probabilities below 1e-300 are treated as 1e-300 (about -37 standard deviations).
    """
    upper = p > 0.5
    q = xp.maximum(xp.where(upper, 1.0 - p, p), 1e-300)
    t = xp.sqrt(-2.0 * xp.log(q))
    numerator = 2.515517 + t * (0.802853 + t * 0.010328)
    denominator = 1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))
    x = numerator / denominator - t
    for _ in range(3):
        density = xp.maximum(xp.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi)), 1e-300)
        r = (_ndtr(xp, x) - q) / density
        x = x - r / (1.0 + 0.5 * x * r)
    return xp.where(upper, -x, x)


def _has_value_between(lower: float, upper: float, dtype: np.dtype) -> bool:
    """Whether some ``dtype`` value lies strictly between two Python floats (host only)."""
    with np.errstate(over="ignore"):
        lo, hi = dtype.type(lower), dtype.type(upper)
        return bool(np.nextafter(lo, dtype.type(np.inf)) <= np.nextafter(hi, dtype.type(-np.inf)))


def truncated_normal(
    key: Key,
    lower: float | Array,
    upper: float | Array,
    shape: Shape | None = None,
    dtype: DType = np.float64,
    *,
    device: str | None = None,
) -> Array:
    """Standard normal floats conditioned to lie strictly inside ``(lower, upper)``.

    Sampled by the inverse CDF: ``x = ndtri(ndtr(a) + u (ndtr(b) - ndtr(a)))`` for ``u`` on
    (0, 1), computed in float64 in whichever tail keeps precision, then cast to ``dtype`` and
    kept strictly inside the bounds. Accurate for bounds up to about 37 in magnitude.

    Traced bounds (inside ``jit``, ``vmap`` or ``grad``) give the eager numbers (number
    bounds then follow the rule for array bounds: NaN where ``lower >= upper``), and the
    sample differentiates in them, to any order, as in JAX: at a fixed key ``x`` keeps its
    CDF fraction ``u`` in ``(a, b)``, so ``dx/da = (1 - u) pdf(a) / pdf(x)`` and
    ``dx/db = u pdf(b) / pdf(x)``.

    Args:
        key: A key.
        lower: Lower bound; a number (may be ``-inf``) or an array broadcasting to ``shape``.
        upper: Upper bound; a number (may be ``inf``) or an array broadcasting to ``shape``.
        shape: Shape of the result; ``None`` (the default, as in JAX) means the broadcast
            shape of ``lower`` and ``upper``.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device. Where array bounds have
        ``lower >= upper``, or no ``dtype`` value lies strictly between them, the result is
        NaN.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: number bounds with ``lower >= upper`` or with no ``dtype`` value strictly
            between them, or a bound that does not broadcast.

    Example:
        >>> from functrans.random import key
        >>> x = truncated_normal(key(0), -2.0, 2.0, (1000,))
        >>> bool((x > -2.0).all() and (x < 2.0).all())
        True
        >>> import functrans as ft
        >>> slope = ft.grad(lambda a: truncated_normal(key(0), a, 2.0))(0.5)
        >>> bool(0.0 < slope < 1.0)
        True
    """
    if isinstance(lower, Tracer) or isinstance(upper, Tracer):
        return _traced_truncated_normal(key, lower, upper, shape, dtype, device)
    return _truncated_normal(key, lower, upper, shape, dtype, device=device)


truncated_normal.__module__ = "functrans.random"  # the public path, for help() and reprs


def _traced_truncated_normal(key: Key, lower: Any, upper: Any, shape: Shape | None,
                             dtype: DType, device: str | None) -> Array:
    """``truncated_normal`` with a traced bound: the eager draw on the bounds broadcast to the
    sample's shape, with its derivative in them."""
    key = _on(key, device)
    _check_any_key(key, "truncated_normal")
    d = _float_dtype(dtype, "truncated_normal")
    lo = _float_param(lower, "lower", "truncated_normal", key)
    hi = _float_param(upper, "upper", "truncated_normal", key)
    dims = _sample_shape("truncated_normal", shape, lower=lo, upper=hi)
    traced = lo if isinstance(lo, Tracer) else hi  # a number bound goes where it is
    bounds = [fnp.full_like(traced, b, dtype=_F64, shape=dims) if isinstance(b, float)
              else fnp.broadcast_to(fnp.astype(b, _F64), dims) for b in (lo, hi)]
    return _bounded_normal(key, bounds[0], bounds[1], d)


@functools.partial(custom_jvp, nondiff_argnums=(3,))
def _bounded_normal(key: Array, lower: Array, upper: Array, dtype: np.dtype) -> Array:
    """``truncated_normal`` of float64 bounds of the sample's shape, drawn on their values
    (when the program runs, if the key or a bound is traced)."""
    draw = _Draw(_truncated_normal, (), {"dtype": dtype}, ("lower", "upper"))
    if isinstance(key, Tracer) or isinstance(lower, Tracer) or isinstance(upper, Tracer):
        return opaque_call_p.bind(key, lower, upper, fn=draw)
    return draw(key, lower, upper)


@_bounded_normal.defjvp
def _bounded_normal_jvp(dtype: np.dtype, primals: tuple, tangents: tuple) -> tuple:
    # At a fixed key x keeps its CDF fraction u of (a, b), ndtr(x) = (1 - u) ndtr(a) + u ndtr(b),
    # so dx/da = (1 - u) pdf(a) / pdf(x) and dx/db = u pdf(b) / pdf(x).
    key, lower, upper = primals
    _, t_lower, t_upper = tangents
    x = _bounded_normal(key, lower, upper, dtype)
    x64 = fnp.astype(x, _F64)
    u = _open_uniform(key, tuple(fnp.shape(lower)), _F64)
    slope_lower = (1.0 - u) * _density_ratio(lower, x64)
    slope_upper = u * _density_ratio(upper, x64)
    return x, fnp.astype(slope_lower * t_lower + slope_upper * t_upper, dtype)


def _density_ratio(bound: Array, x: Array) -> Array:
    """``pdf(bound) / pdf(x)`` of the standard normal: 0 at an infinite bound, where its own
    derivative is 0 as well (not NaN)."""
    finite = fnp.isfinite(bound)
    b = fnp.where(finite, bound, 0.0)
    return fnp.where(finite, fnp.exp(0.5 * (x - b) * (x + b)), 0.0)


@_sampler
def _truncated_normal(
    key: Key,
    lower: float | Array,
    upper: float | Array,
    shape: Shape | None = None,
    dtype: DType = np.float64,
    *,
    device: str | None = None,
) -> Array:
    xp = _check_key(key, "truncated_normal")
    shape = _sample_shape("truncated_normal", shape, lower=lower, upper=upper)
    dtype = _float_dtype(dtype, "truncated_normal")
    lo = _param(xp, lower, "lower", "truncated_normal", shape, _F64)
    hi = _param(xp, upper, "upper", "truncated_normal", shape, _F64)
    if isinstance(lo, float) and isinstance(hi, float):
        if not lo < hi:
            raise ValueError(
                f"functrans.random.truncated_normal: lower must be less than upper, got "
                f"lower={lower!r}, upper={upper!r}"
            )
        if not _has_value_between(lo, hi, dtype):
            raise ValueError(
                f"functrans.random.truncated_normal: no {dtype} value lies strictly between "
                f"lower={lower!r} and upper={upper!r}; widen the interval or use a wider dtype"
            )
    n = _size(shape)
    a = xp.broadcast_to(xp.asarray(lo, dtype=_F64).reshape(-1), (n,))
    b = xp.broadcast_to(xp.asarray(hi, dtype=_F64).reshape(-1), (n,))
    valid = a < b
    inf = xp.asarray([np.inf], dtype=dtype)
    big = float(np.finfo(dtype).max)  # clip first: casting huge float64 bounds would overflow
    floor = xp.nextafter(xp.clip(a, -big, big).astype(dtype), inf)
    ceiling = xp.nextafter(xp.clip(b, -big, big).astype(dtype), -inf)
    valid &= floor <= ceiling
    a = xp.where(valid, a, 0.0)
    b = xp.where(valid, b, 1.0)
    # Work in the lower tail, where the CDF keeps relative precision: mirror intervals that
    # lie mostly above zero (b > -a is a + b > 0 without computing inf - inf), drawing them at
    # the mirrored fraction 1 - u (exact), so that x keeps its CDF fraction u in (a, b) either
    # way and moves continuously with the bounds.
    flip = b > -a
    a_w = xp.where(flip, -b, a)
    b_w = xp.where(flip, -a, b)
    # Clip before the CDF so that infinite bounds give exact 0 and 1 without inf arithmetic.
    cdf_a = _ndtr(xp, xp.clip(a_w, -60.0, 60.0))
    cdf_b = _ndtr(xp, xp.clip(b_w, -60.0, 60.0))
    u = _unit(xp, key, n, _F64, open_interval=True)
    x = _ndtri(xp, cdf_a + xp.where(flip, 1.0 - u, u) * (cdf_b - cdf_a))
    x = xp.where(flip, -x, x).astype(dtype)
    x = xp.minimum(xp.maximum(x, floor), ceiling)
    x = xp.where(valid, x, xp.asarray([np.nan], dtype=dtype))
    return x.reshape(shape)
