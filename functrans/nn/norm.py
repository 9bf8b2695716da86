"""Normalisation layers: [`LayerNorm`][functrans.nn.LayerNorm], [`GroupNorm`][functrans.nn.GroupNorm] and
[`BatchNorm`][functrans.nn.BatchNorm] (with
running statistics kept as explicit state), and the function
[`standardize`][functrans.nn.standardize]."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

import functrans.numpy as fnp
from functrans._abstract import python_number
from functrans.api import stop_gradient
from functrans.backend import device_put
from functrans.nn import initializers as _init
from functrans.nn._layer import Layer, check_param_names, check_param_shapes
from functrans.typing import Array, ArrayLike, DType, Key, Params

__all__ = ["BatchNorm", "BatchNormState", "GroupNorm", "LayerNorm", "standardize"]


def _is_half(x: Array) -> bool:
    dtype = fnp.result_type(x)
    return dtype.kind == "f" and dtype.itemsize < 4


def _in_float32(x: Array) -> Array:
    """Half-precision ``x`` as float32, the dtype its statistics are computed in: float16's
    variance overflows for entries past about 256 (the normalised values do not)."""
    return fnp.astype(x, np.float32) if _is_half(x) else x


def _like_input(y: Array, x: Array) -> Array:
    """``y``, normalised in float32 from a half-precision ``x``, back in ``x``'s dtype."""
    return fnp.astype(y, fnp.result_type(x)) if _is_half(x) else y


def _centred_and_variance(x: Array, axis: Any) -> tuple[Array, Array]:
    """``x - mean`` and the biased two-pass variance over ``axis`` (kept as length 1)."""
    centred = x - fnp.mean(x, axis=axis, keepdims=True)
    return centred, fnp.mean(centred * centred, axis=axis, keepdims=True)


def standardize(x: ArrayLike, axis: int | tuple[int, ...] | None = -1,
                mean: ArrayLike | None = None, variance: ArrayLike | None = None,
                epsilon: float = 1e-5, where: ArrayLike | None = None, *,
                algorithm: str = "fast") -> Array:
    """``(x - mean) / sqrt(variance + epsilon)`` over ``axis``, ``jax.nn.standardize``.

    ``mean`` and ``variance`` default to the mean and the biased variance of ``x`` over
    ``axis`` (of the entries where ``where`` is True, when it is given), kept with length 1 to
    broadcast. When the mean is computed here, the variance is the two-pass
    ``mean((x - mean)**2)`` whatever ``algorithm`` says: JAX's default ``"fast"`` formula,
    ``mean(x**2) - mean**2``, is the same number in exact arithmetic but can lose every
    digit, or go negative, when the mean is large against the spread. When ``mean`` is given
    (and ``variance`` is not) the two are different quantities, and ``algorithm`` picks as in
    JAX: ``"fast"`` (the default) is ``mean(x**2) - mean**2`` clipped at 0, ``"stable"`` is
    ``mean((x - mean)**2)``, the spread about the given mean. A float16 ``x`` is
    standardized in float32 and given back in float16 (its variance would overflow float16
    past entries of about 256).

    Args:
        x: The array.
        axis: An axis, a tuple of axes, or ``None`` for all.
        mean: Optional mean to use instead, broadcasting against ``x``.
        variance: Optional variance to use instead, broadcasting against ``x``.
        epsilon: Added to the variance.
        where: Optional boolean mask broadcasting against ``x``: the entries whose statistics
            count (every entry is standardized).
        algorithm: ``"fast"`` or ``"stable"``, ``jax.nn.standardize``'s; it matters only for
            a given ``mean`` (see above).

    Returns:
        An array of ``x``'s shape.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> np.round(nn.standardize(np.array([1.0, 2.0, 3.0]), epsilon=0.0), 6)
        array([-1.224745,  0.      ,  1.224745])
    """
    epsilon = python_number(epsilon)
    if algorithm not in ("fast", "stable"):
        raise ValueError(f"standardize: algorithm must be 'fast' or 'stable' (as in "
                         f"jax.nn.standardize), got {algorithm!r}")
    x = fnp.asarray(x)
    given, x = x, _in_float32(x)
    mean_given = mean is not None
    if mean is None:
        mean = fnp.mean(x, axis=axis, keepdims=True, where=where)
    if variance is None:
        if mean_given and algorithm == "fast":
            second = fnp.mean(x * x, axis=axis, keepdims=True, where=where)
            variance = fnp.maximum(second - fnp.square(mean), 0)
        else:
            centred = x - mean
            variance = fnp.mean(centred * centred, axis=axis, keepdims=True, where=where)
    return _like_input((x - mean) / fnp.sqrt(variance + epsilon), given)


@dataclasses.dataclass(frozen=True)
class LayerNorm(Layer):
    """Normalise over the trailing ``normalized_shape`` axes, PyTorch's ``nn.LayerNorm``:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the biased variance (of a
    float16 ``x`` computed in float32, where it cannot overflow).

    Reference: Ba, Kiros and Hinton, "Layer normalization", 2016.

    Args:
        normalized_shape: The trailing shape to normalise over (an int for the last axis).
        eps: Added to the variance.
        elementwise_affine: Learn ``weight`` (init 1) and ``bias`` (init 0) of that shape.
        bias: Learn a bias (with ``elementwise_affine``).
        dtype: Parameter dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> ln = nn.LayerNorm(3)
        >>> y = ln.apply(ln.init(random.key(0)), np.array([[1.0, 2.0, 3.0]]))
        >>> np.round(y, 4)
        array([[-1.2247,  0.    ,  1.2247]])
    """

    normalized_shape: int | Sequence[int]
    eps: float = 1e-5
    elementwise_affine: bool = True
    bias: bool = True
    dtype: DType = np.float64

    @property
    def _shape(self) -> tuple[int, ...]:
        s = self.normalized_shape
        return (int(s),) if isinstance(s, (int, np.integer)) else tuple(int(v) for v in s)

    def init(self, key: Key) -> Params:
        """``{"weight": ones, "bias": zeros}`` of ``normalized_shape`` (empty without affine)."""
        if not self.elementwise_affine:
            return {}
        params = {"weight": _init.ones(key, self._shape, self.dtype)}
        if self.bias:
            params["bias"] = _init.zeros(key, self._shape, self.dtype)
        return params

    def apply(self, params: Params, x: Array) -> Array:
        """Normalise ``x`` of shape ``(..., *normalized_shape)``."""
        x = fnp.asarray(x)
        shape = self._shape
        if fnp.shape(x)[fnp.ndim(x) - len(shape):] != shape:
            raise ValueError(f"LayerNorm: expected an input ending in {shape}, got "
                             f"{fnp.shape(x)}")
        check_param_shapes("LayerNorm", params, {"weight": shape, "bias": shape})
        names = ("weight", "bias")[:(1 + self.bias) * self.elementwise_affine]
        check_param_names("LayerNorm", params, names,
                          "or make the layer with elementwise_affine=False or bias=False")
        axes = tuple(range(-len(shape), 0))
        centred, var = _centred_and_variance(_in_float32(x), axes)
        y = _like_input(centred / fnp.sqrt(var + self.eps), x)
        if "weight" in params:
            y = y * params["weight"]
        if "bias" in params:
            y = y + params["bias"]
        return y


@dataclasses.dataclass(frozen=True)
class GroupNorm(Layer):
    """Normalise groups of channels of each example, PyTorch's ``nn.GroupNorm``.

    The ``C`` channels of ``(N, C, *spatial)`` inputs are split into ``num_groups`` groups of
    consecutive channels; each group of each example is normalised over its channels and
    spatial positions with its mean and biased variance, then each channel is scaled and
    shifted: ``y = (x - mean_g) / sqrt(var_g + eps) * weight[c] + bias[c]``. Unlike batch
    norm it uses no batch statistics, so training and evaluation agree. The parameters
    ``weight (C,)`` (init 1) and ``bias (C,)`` (init 0) carry PyTorch's names and shapes.
    The statistics of a float16 ``x`` are computed in float32.

    Reference: Wu and He, "Group normalization", ECCV 2018.

    Args:
        num_groups: Groups; must divide ``num_channels``.
        num_channels: Channels ``C`` (axis 1).
        eps: Added to the variance.
        affine: Learn ``weight`` and ``bias``.
        dtype: Parameter dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> gn = nn.GroupNorm(2, 4)
        >>> y = gn.apply(gn.init(random.key(0)), np.arange(8.0).reshape(1, 4, 2))
        >>> np.round(y[0], 3)
        array([[-1.342, -0.447],
               [ 0.447,  1.342],
               [-1.342, -0.447],
               [ 0.447,  1.342]])
    """

    num_groups: int
    num_channels: int
    eps: float = 1e-5
    affine: bool = True
    dtype: DType = np.float64

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("num_groups", "num_channels"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"GroupNorm: {name} must be a positive int, got {value!r}")
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({self.num_channels}) must be divisible "
                             f"by num_groups ({self.num_groups})")

    def init(self, key: Key) -> Params:
        """``{"weight": ones(C), "bias": zeros(C)}`` (empty without ``affine``)."""
        if not self.affine:
            return {}
        return {"weight": _init.ones(key, self.num_channels, self.dtype),
                "bias": _init.zeros(key, self.num_channels, self.dtype)}

    def apply(self, params: Params, x: Array) -> Array:
        """Normalise ``x`` of shape ``(N, C, *spatial)``."""
        x = fnp.asarray(x)
        shape = fnp.shape(x)
        if len(shape) < 2 or shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected an input (N, {self.num_channels}, ...), got "
                             f"{shape}")
        c = (self.num_channels,)
        check_param_shapes("GroupNorm", params, {"weight": c, "bias": c})
        check_param_names("GroupNorm", params, ("weight", "bias") if self.affine else (),
                          "or make the layer with affine=False")
        grouped = fnp.reshape(_in_float32(x), (shape[0], self.num_groups, -1))
        centred, var = _centred_and_variance(grouped, 2)
        y = fnp.reshape(_like_input(centred / fnp.sqrt(var + self.eps), x), shape)
        bshape = (1, self.num_channels) + (1,) * (len(shape) - 2)
        if "weight" in params:
            y = y * fnp.reshape(params["weight"], bshape)
        if "bias" in params:
            y = y + fnp.reshape(params["bias"], bshape)
        return y


class BatchNormState(NamedTuple):
    """Running statistics of [`BatchNorm`][functrans.nn.BatchNorm].

    Attributes:
        running_mean: Exponential moving average of the batch means, shape ``(C,)``.
        running_var: Exponential moving average of the unbiased batch variances, ``(C,)``.
        num_batches_tracked: Training batches seen.

    Example:
        >>> from functrans import nn
        >>> nn.BatchNorm(2).init_state()
        BatchNormState(running_mean=array([0., 0.]), running_var=array([1., 1.]), num_batches_tracked=0)
    """

    running_mean: Array
    running_var: Array
    num_batches_tracked: int


@dataclasses.dataclass(frozen=True)
class BatchNorm(Layer):
    """Batch normalisation over axis 1 of ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)``
    inputs: PyTorch's ``BatchNorm1d``/``BatchNorm2d`` in one layer.

    In training (``train=True``) each channel is normalised with the batch mean and biased
    variance, and the running statistics move by
    ``running = (1 - momentum) * running + momentum * batch_stat`` (the variance in its
    unbiased form, ``n / (n - 1)`` times the biased one). In evaluation the running
    statistics are used and the state is returned unchanged. The state is explicit:
    ``apply(params, x, state, train=...) -> (y, new_state)``.

    Reference: Ioffe and Szegedy, "Batch normalization", ICML 2015.

    Args:
        num_features: Channels ``C``.
        eps: Added to the variance.
        momentum: Weight of the new batch in the running averages; ``None`` for the
            cumulative average of all batches (weight ``1 / k`` for the ``k``-th), as PyTorch.
        affine: Learn ``weight`` (init 1) and ``bias`` (init 0).
        dtype: Parameter and state dtype; the running statistics keep it whatever the
            input's dtype (a float16 input's statistics are computed in float32).

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> bn = nn.BatchNorm(2)
        >>> params, state = bn.init(random.key(0)), bn.init_state()
        >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
        >>> y, state = bn.apply(params, x, state, train=True)
        >>> np.round(y, 3)
        array([[-1., -1.],
               [ 1.,  1.]])
        >>> state.running_mean, state.num_batches_tracked
        (array([0.2, 2. ]), 1)
    """

    num_features: int
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = True
    dtype: DType = np.float64

    stateful = True

    def init(self, key: Key) -> Params:
        """``{"weight": ones(C), "bias": zeros(C)}`` (empty without ``affine``)."""
        if not self.affine:
            return {}
        return {"weight": _init.ones(key, self.num_features, self.dtype),
                "bias": _init.zeros(key, self.num_features, self.dtype)}

    def init_state(self, device: str | None = None) -> BatchNormState:
        """Running mean 0, running variance 1, no batches seen; on ``device`` if given
        (e.g. ``"gpu"``), else on the host."""
        stats = (_init.zeros(None, self.num_features, self.dtype),
                 _init.ones(None, self.num_features, self.dtype))
        if device is not None:
            stats = device_put(stats, device)
        return BatchNormState(*stats, 0)

    def apply(self, params: Params, x: Array, state: BatchNormState,
              train: bool = True) -> tuple[Array, BatchNormState]:
        """Normalise ``x``; returns ``(y, new_state)``."""
        x = fnp.asarray(x)
        shape = fnp.shape(x)
        if len(shape) < 2 or shape[1] != self.num_features:
            raise ValueError(f"BatchNorm: expected an input (N, {self.num_features}, ...), got "
                             f"{shape}")
        if state is None:
            raise ValueError("BatchNorm: pass the state (bn.init_state() the first time): "
                             "apply(params, x, state, train=...) returns (y, new_state)")
        if not isinstance(state, BatchNormState):
            raise TypeError(f"BatchNorm: state must be the BatchNormState that init_state() or "
                            f"a previous apply made, got {type(state).__name__}; for loaded "
                            f"statistics pass BatchNormState(running_mean, running_var, "
                            f"num_batches_tracked)")
        c = (self.num_features,)
        check_param_shapes("BatchNorm", params, {"weight": c, "bias": c})
        check_param_names("BatchNorm", params, ("weight", "bias") if self.affine else (),
                          "or make the layer with affine=False")
        check_param_shapes("BatchNorm state", {"running_mean": state.running_mean,
                                                 "running_var": state.running_var},
                           {"running_mean": c, "running_var": c}, made_by="init_state()")
        axes = (0,) + tuple(range(2, len(shape)))
        bshape = (1, self.num_features) + (1,) * (len(shape) - 2)
        if train:
            count = math.prod(shape) // self.num_features
            if count < 2:
                raise ValueError(f"BatchNorm: training needs more than one value per channel "
                                 f"to estimate a variance, got an input of shape {shape}. Fix: "
                                 f"train on batches of 2 or more, evaluate this one with "
                                 f"train=False (the running statistics), or normalise per "
                                 f"example with LayerNorm or GroupNorm")
            mean = fnp.mean(_in_float32(x), axis=axes)
            centred = _in_float32(x) - fnp.reshape(mean, bshape)
            var = fnp.mean(centred * centred, axis=axes)
            m: Any = self.momentum
            if m is None:  # PyTorch's cumulative average: batch k has weight 1 / k
                m = 1.0 / (state.num_batches_tracked + 1)
                if not isinstance(m, float):  # a traced count: keep the state's dtype
                    m = fnp.astype(m, fnp.result_type(state.running_mean))
            running_mean = (1.0 - m) * state.running_mean + m * stop_gradient(mean)
            running_var = (1.0 - m) * state.running_var + (m * count / (count - 1)) * stop_gradient(var)
            # The statistics keep the state's dtype whatever the input's: a float64 batch
            # must not turn a float32 model's state into float64 (nor restage a jit step).
            new_state = BatchNormState(
                fnp.astype(running_mean, fnp.result_type(state.running_mean)),
                fnp.astype(running_var, fnp.result_type(state.running_var)),
                state.num_batches_tracked + 1,
            )
        else:
            centred = _in_float32(x) - fnp.reshape(state.running_mean, bshape)
            var = state.running_var
            new_state = state
        y = _like_input(centred / fnp.reshape(fnp.sqrt(var + self.eps), bshape), x)
        if "weight" in params:
            y = y * fnp.reshape(params["weight"], bshape)
        if "bias" in params:
            y = y + fnp.reshape(params["bias"], bshape)
        return y, new_state
