"""Parameter initializers: plain functions ``(key, shape, dtype=float64, ...) -> array``.

Shapes follow PyTorch's weight layout: ``(out, in)`` for a linear layer and
``(out, in / groups, *kernel)`` for a convolution, so ``fan_in = shape[1] * receptive`` and
``fan_out = shape[0] * receptive`` where ``receptive`` is the product of ``shape[2:]``.
Hyperparameters are keywords; bind them with ``functools.partial`` to hand an initializer to
a layer.

Example:
    >>> from functrans import nn, random
    >>> w = nn.initializers.glorot_uniform(random.key(0), (3, 4))
    >>> w.shape, w.dtype
    ((3, 4), dtype('float64'))
"""
from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from functrans import random
from functrans.backend import array_module, backend_of
from functrans.typing import Array, DType, Key

__all__ = [
    "Initializer", "calculate_gain", "compute_fans", "constant", "glorot_normal",
    "glorot_uniform", "he_normal", "he_uniform", "kaiming_normal", "kaiming_uniform",
    "lecun_normal", "lecun_uniform", "normal", "ones", "orthogonal", "truncated_normal",
    "uniform", "variance_scaling", "xavier_normal", "xavier_uniform", "zeros",
]

Initializer = Callable[..., Array]
"""``init(key, shape, dtype) -> array``."""


_F = TypeVar("_F", bound=Callable[..., Array])


def _jax_form(jax_name: str, equivalent: str) -> Callable[[_F], _F]:
    """A call that does not fit the initializer's own ``(key, shape, dtype)`` arguments, most
    often JAX's factory spelling ``jax.nn.initializers.<jax_name>(...)`` ported as is, raises a
    TypeError that says so and names ``equivalent``, the functrans spelling of JAX's (whose
    ``variance_scaling`` has JAX's ``(in, out)`` fans)."""
    def wrap(f: _F) -> _F:
        signature = inspect.signature(f)

        @functools.wraps(f)
        def init(*args: object, **kwargs: object) -> Array:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(
                    f"{f.__name__}: {e}. functrans's initializers are the initializer itself, "
                    f"{f.__name__}(key, shape, dtype), not a factory as "
                    f"jax.nn.initializers.{jax_name}(...); for JAX's, write {equivalent}") from None
            return f(*args, **kwargs)
        return init  # type: ignore[return-value]
    return wrap


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def compute_fans(shape: int | Sequence[int]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of this shape, in PyTorch's layout.

    Args:
        shape: ``(out, in, *receptive_field)``; a 1-d shape counts as ``fan_in = fan_out``.

    Returns:
        The two fans.

    Raises:
        ValueError: for a 0-d shape.

    Example:
        >>> from functrans import nn
        >>> nn.initializers.compute_fans((8, 3, 5, 5))
        (75, 200)
    """
    shape = _shape(shape)
    if len(shape) == 0:
        raise ValueError("compute_fans: a scalar has no fans; give a shape with >= 1 dimension")
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain PyTorch recommends for a nonlinearity (scales the standard deviation).

    Args:
        nonlinearity: ``"linear"``, ``"conv"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``,
            ``"leaky_relu"`` or ``"selu"``.
        param: The negative slope for ``"leaky_relu"`` (default 0.01).

    Returns:
        The gain.

    Raises:
        ValueError: an unknown nonlinearity.

    Example:
        >>> from functrans import nn
        >>> round(nn.initializers.calculate_gain("relu"), 6)
        1.414214
    """
    if nonlinearity in ("linear", "conv", "conv1d", "conv2d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; use one of linear, "
                     f"conv, sigmoid, tanh, relu, leaky_relu, selu")


def full_on_device_of(key: Key | None, shape: int | Sequence[int], value: float,
                      dtype: DType = np.float64) -> Array:
    """``value`` everywhere, on the device of ``key`` (on the host if ``key`` is None): layers
    make all their parameters where their key lives."""
    backend = backend_of(key)
    return backend.full(_shape(shape), value, dtype, None if key is None else backend.device_of(key))


def zeros(key: Key | None, shape: int | Sequence[int], dtype: DType = np.float64) -> Array:
    """Zeros on the key's device (only its device is used; None: the host).

    Example:
        >>> from functrans import nn
        >>> nn.initializers.zeros(None, 2)
        array([0., 0.])
    """
    return full_on_device_of(key, shape, 0, dtype)


def ones(key: Key | None, shape: int | Sequence[int], dtype: DType = np.float64) -> Array:
    """Ones on the key's device (only its device is used; None: the host).

    Example:
        >>> from functrans import nn
        >>> nn.initializers.ones(None, 2)
        array([1., 1.])
    """
    return full_on_device_of(key, shape, 1, dtype)


@_jax_form("constant", "functools.partial(nn.initializers.constant, value=value)")
def constant(key: Key | None, shape: int | Sequence[int], dtype: DType = np.float64, *,
             value: float = 0.0) -> Array:
    """Every entry ``value``, on the key's device (only its device is used; None: the host).

    Example:
        >>> from functrans import nn
        >>> nn.initializers.constant(None, 2, value=0.5)
        array([0.5, 0.5])
    """
    return full_on_device_of(key, shape, value, dtype)


@_jax_form("normal", "functools.partial(nn.initializers.normal, std=stddev)")
def normal(key: Key, shape: int | Sequence[int], dtype: DType = np.float64, *,
           mean: float = 0.0, std: float = 1.0) -> Array:
    """Normal with the given mean and standard deviation.

    Example:
        >>> from functrans import nn, random
        >>> nn.initializers.normal(random.key(0), (2, 2), std=0.01).shape
        (2, 2)
    """
    return random.normal(key, _shape(shape), dtype) * std + mean


@_jax_form("uniform", "functools.partial(nn.initializers.uniform, high=scale)")
def uniform(key: Key, shape: int | Sequence[int], dtype: DType = np.float64, *,
            low: float = 0.0, high: float = 1.0) -> Array:
    """Uniform on ``[low, high)``.

    Example:
        >>> from functrans import nn, random
        >>> w = nn.initializers.uniform(random.key(0), 100, low=-2.0, high=2.0)
        >>> bool((abs(w) <= 2).all())
        True
    """
    return random.uniform(key, _shape(shape), dtype, minval=low, maxval=high)


@_jax_form("truncated_normal", "functools.partial(nn.initializers.truncated_normal, std=stddev)")
def truncated_normal(key: Key, shape: int | Sequence[int], dtype: DType = np.float64, *,
                     std: float = 1.0, lower: float = -2.0, upper: float = 2.0) -> Array:
    """Normal with standard deviation ``std`` (before truncation) restricted to
    ``[lower * std, upper * std]``.

    Example:
        >>> from functrans import nn, random
        >>> w = nn.initializers.truncated_normal(random.key(0), 1000, std=0.1)
        >>> bool((abs(w) <= 0.2).all())
        True
    """
    return random.truncated_normal(key, lower, upper, _shape(shape), dtype) * std


def _variance_scaling(key: Key, shape: int | Sequence[int], dtype: DType, scale: float, mode: str,
                      distribution: str) -> Array:
    fan_in, fan_out = compute_fans(shape)
    fans = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
    if mode not in fans:
        raise ValueError(f"kaiming initializers: mode must be 'fan_in' or 'fan_out', got "
                         f"{mode!r}")
    fan = fans[mode]
    std = math.sqrt(scale / max(fan, 1))
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        return uniform(key, shape, dtype, low=-bound, high=bound)
    return normal(key, shape, dtype, std=std)


_TRUNCATED_STD = 0.87962566103423978  # the standard deviation of N(0, 1) truncated to [-2, 2]
_FAN_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
_DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")


def _axes_size(shape: tuple[int, ...], axes: int | Sequence[int]) -> int:
    if isinstance(axes, (int, np.integer)):
        return shape[int(axes)]
    return math.prod(shape[int(a)] for a in axes)


def variance_scaling(scale: float, mode: str, distribution: str,
                     in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
                     batch_axis: int | Sequence[int] = (),
                     dtype: DType = np.float64) -> Initializer:
    """An initializer ``init(key, shape, dtype=dtype)`` drawing weights of variance
    ``scale / fan``, ``jax.nn.initializers.variance_scaling``.

    The fans come from the axes named here, JAX's layout by default (inputs on axis -2,
    outputs on -1, as in ``(in, out)`` or ``(H, W, in, out)``), not the ``(out, in, ...)``
    layout of this module's other initializers; the other axes not in ``batch_axis`` form
    the receptive field, which multiplies both fans.

    Args:
        scale: The variance numerator (2.0 for He, 1.0 for Glorot and LeCun).
        mode: ``"fan_in"``, ``"fan_out"``, ``"fan_avg"`` (their mean) or ``"fan_geo_avg"``
            (their geometric mean).
        distribution: ``"truncated_normal"`` (a normal cut at two standard deviations,
            rescaled to keep the variance), ``"normal"`` or ``"uniform"``.
        in_axis: The input axis or axes.
        out_axis: The output axis or axes.
        batch_axis: Axes left out of both fans.
        dtype: The default dtype of the weights (a float dtype).

    Returns:
        The initializer.

    Raises:
        ValueError: an unknown mode or distribution (at once), or, when called, a shape
            with fewer than 2 dimensions and the default ``in_axis``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> init = nn.initializers.variance_scaling(2.0, "fan_in", "normal")
        >>> w = init(random.key(0), (3, 3, 16, 32), np.float32)   # fan_in = 3 * 3 * 16
        >>> w.dtype, bool(abs(float(w.std()) * np.sqrt(144 / 2) - 1) < 0.05)
        (dtype('float32'), True)
    """
    if mode not in _FAN_MODES:
        raise ValueError(f"variance_scaling: mode must be one of {_FAN_MODES}, got {mode!r}")
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"variance_scaling: distribution must be one of {_DISTRIBUTIONS}, "
                         f"got {distribution!r}")

    def init(key: Key, shape: int | Sequence[int], dtype: DType = dtype) -> Array:
        shape = _shape(shape)
        if isinstance(in_axis, int) and in_axis == -2 and len(shape) < 2:
            raise ValueError(f"variance_scaling: a weight of shape {shape} has no axis -2 for "
                             f"the inputs; give a shape with >= 2 dimensions or in_axis")
        in_size = _axes_size(shape, in_axis)
        out_size = _axes_size(shape, out_axis)
        receptive = math.prod(shape) / max(in_size * out_size * _axes_size(shape, batch_axis), 1)
        fan_in, fan_out = in_size * receptive, out_size * receptive
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
               "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
        std = math.sqrt(scale / fan) if fan else 0.0
        if distribution == "truncated_normal":
            return random.truncated_normal(key, -2.0, 2.0, shape, dtype) * (std / _TRUNCATED_STD)
        if distribution == "normal":
            return normal(key, shape, dtype, std=std)
        bound = math.sqrt(3.0) * std
        return uniform(key, shape, dtype, low=-bound, high=bound)

    return init


@_jax_form("glorot_uniform", "nn.initializers.variance_scaling(1.0, 'fan_avg', 'uniform')")
def xavier_uniform(key: Key, shape: int | Sequence[int], dtype: DType = np.float64, *,
                   gain: float = 1.0) -> Array:
    """Glorot/Xavier uniform: ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Reference: Glorot and Bengio, "Understanding the difficulty of training deep feedforward
    neural networks", AISTATS 2010.

    Example:
        >>> from functrans import nn, random
        >>> w = nn.initializers.xavier_uniform(random.key(0), (30, 20))
        >>> bool((abs(w) <= (6 / 50) ** 0.5).all())
        True
    """
    return _variance_scaling(key, shape, dtype, gain**2, "fan_avg", "uniform")


@_jax_form("glorot_normal", "nn.initializers.variance_scaling(1.0, 'fan_avg', 'truncated_normal')")
def xavier_normal(key: Key, shape: int | Sequence[int], dtype: DType = np.float64, *,
                  gain: float = 1.0) -> Array:
    """Glorot/Xavier normal: std ``gain * sqrt(2 / (fan_in + fan_out))``.

    Example:
        >>> from functrans import nn, random
        >>> nn.initializers.xavier_normal(random.key(0), (30, 20)).shape
        (30, 20)
    """
    return _variance_scaling(key, shape, dtype, gain**2, "fan_avg", "normal")


@_jax_form("he_uniform", "nn.initializers.variance_scaling(2.0, 'fan_in', 'uniform')")
def kaiming_uniform(key: Key, shape: int | Sequence[int], dtype: DType = np.float64, *,
                    a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Array:
    """He/Kaiming uniform: ``U(-b, b)`` with ``b = gain * sqrt(3 / fan)``, as in PyTorch.

    Reference: He, Zhang, Ren and Sun, "Delving deep into rectifiers", ICCV 2015.

    Args:
        key: A random key.
        shape: The weight shape ``(out, in, *kernel)``.
        dtype: A float dtype.
        a: Negative slope of the leaky ReLU that follows (0 means ReLU).
        mode: ``"fan_in"`` (default) or ``"fan_out"``.
        nonlinearity: Passed to ``calculate_gain`` with ``a``.

    Returns:
        The weight.

    Example:
        >>> from functrans import nn, random
        >>> w = nn.initializers.kaiming_uniform(random.key(0), (10, 8))
        >>> bool((abs(w) <= (6 / 8) ** 0.5).all())
        True
    """
    gain = calculate_gain(nonlinearity, a)
    return _variance_scaling(key, shape, dtype, gain**2, mode, "uniform")


@_jax_form("he_normal", "nn.initializers.variance_scaling(2.0, 'fan_in', 'truncated_normal')")
def kaiming_normal(key: Key, shape: int | Sequence[int], dtype: DType = np.float64, *,
                   a: float = 0.0, mode: str = "fan_in",
                   nonlinearity: str = "leaky_relu") -> Array:
    """He/Kaiming normal: std ``gain / sqrt(fan)``, as in PyTorch.

    Example:
        >>> from functrans import nn, random
        >>> nn.initializers.kaiming_normal(random.key(0), (10, 8)).shape
        (10, 8)
    """
    gain = calculate_gain(nonlinearity, a)
    return _variance_scaling(key, shape, dtype, gain**2, mode, "normal")


@_jax_form("lecun_uniform", "nn.initializers.variance_scaling(1.0, 'fan_in', 'uniform')")
def lecun_uniform(key: Key, shape: int | Sequence[int], dtype: DType = np.float64) -> Array:
    """LeCun uniform: ``U(-b, b)`` with ``b = sqrt(3 / fan_in)`` (variance ``1 / fan_in``).

    Example:
        >>> from functrans import nn, random
        >>> w = nn.initializers.lecun_uniform(random.key(0), (10, 12))
        >>> bool((abs(w) <= 0.5).all())
        True
    """
    return _variance_scaling(key, shape, dtype, 1.0, "fan_in", "uniform")


@_jax_form("lecun_normal", "nn.initializers.variance_scaling(1.0, 'fan_in', 'truncated_normal')")
def lecun_normal(key: Key, shape: int | Sequence[int], dtype: DType = np.float64) -> Array:
    """LeCun normal: std ``1 / sqrt(fan_in)``.

    Example:
        >>> from functrans import nn, random
        >>> nn.initializers.lecun_normal(random.key(0), (10, 12)).shape
        (10, 12)
    """
    return _variance_scaling(key, shape, dtype, 1.0, "fan_in", "normal")


@_jax_form("orthogonal", "functools.partial(nn.initializers.orthogonal, gain=scale) (for 2-D shapes)")
def orthogonal(key: Key, shape: int | Sequence[int], dtype: DType = np.float64, *,
               gain: float = 1.0) -> Array:
    """A (semi-)orthogonal matrix times ``gain``, from the QR decomposition of a normal
    matrix (signs fixed so the distribution is uniform); dimensions after the first are
    flattened, as in PyTorch.

    Reference: Saxe, McClelland and Ganguli, "Exact solutions to the nonlinear dynamics of
    learning in deep linear neural networks", ICLR 2014.

    Raises:
        ValueError: a shape with fewer than 2 dimensions.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> q = nn.initializers.orthogonal(random.key(0), (4, 4))
        >>> bool(np.allclose(q @ q.T, np.eye(4)))
        True
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal: needs a shape with >= 2 dimensions, got {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    a = random.normal(key, (max(rows, cols), min(rows, cols)), np.float64)
    xp = array_module(a)  # on the key's device
    q, r = xp.linalg.qr(a)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape).astype(dtype)


glorot_uniform = xavier_uniform
glorot_normal = xavier_normal
he_uniform = kaiming_uniform
he_normal = kaiming_normal
