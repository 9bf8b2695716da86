"""Convolution and pooling layers (PyTorch's layout: ``(N, C, *spatial)`` inputs, weights
``(out_channels, in_channels / groups, *kernel)``).

Everything is built from slicing, padding, stacking and one matrix product ("im2col"): the
input is padded, the ``prod(kernel)`` shifted and strided views of it are stacked into a
patch array of shape ``(N, C, prod(kernel), *out_spatial)``, and the convolution is a matrix
product of the flattened weight with the patches. Reverse mode turns each slice into a pad
of its cotangent, so the backward pass is as cheap as the forward one. Pooling reduces the
same patch array (or, for the usual non-overlapping windows, a reshape of the input).

As in PyTorch, "convolution" is cross-correlation (the kernel is not flipped) and padding is
with zeros (``-inf`` for max pooling).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

import functrans.numpy as fnp
from functrans import random
from functrans.nn import initializers as _init
from functrans.nn._layer import Layer, check_param_names, check_param_shapes
from functrans.primitives.conversion import full_like
from functrans.primitives.shape import pad as _pad_prim
from functrans.primitives.shape import slice_ as _slice_prim
from functrans.typing import Array, ArrayLike, DType, Key, Params

__all__ = ["AvgPool1d", "AvgPool2d", "Conv1d", "Conv2d", "Flatten", "MaxPool1d", "MaxPool2d"]

IntOrTuple = int | Sequence[int]
Padding = int | Sequence[int] | str


def _check_channels(layer: str, in_channels: Any, out_channels: Any, groups: Any) -> None:
    """The channel counts and groups of a convolution layer: positive ints, the channels
    divisible by the groups."""
    for field, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{layer}: {field} must be a positive int, got {value!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{layer}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                         f"must both be divisible by groups ({groups})")


def _ntuple(value: IntOrTuple, n: int, name: str, layer: str, minimum: int = 1) -> tuple:
    if isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, (int, np.integer)):
        out = (int(value),) * n
    else:
        out = tuple(value)
        if len(out) != n or not all(isinstance(v, (int, np.integer)) for v in out):
            raise ValueError(f"{layer}: {name} must be an int or a tuple of {n} ints, got "
                             f"{value!r}")
        out = tuple(int(v) for v in out)
    if any(v < minimum for v in out):
        raise ValueError(f"{layer}: {name} must be >= {minimum}, got {value!r}")
    return out


def _padding_pairs(padding: Padding, kernel: tuple, dilation: tuple, stride: tuple,
                   layer: str, spatial: tuple | None = None) -> tuple | None:
    """``((lo, hi), ...)`` per spatial axis, for an int/tuple/'valid'/'same' padding (in
    either case: PyTorch spells them in lower case, JAX and flax in upper case). A strided
    'same' depends on the input's ``spatial`` shape: ``None`` without it."""
    n = len(kernel)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * n
        if mode == "same":
            # JAX's rule: ceil(size / stride) outputs, the padding they need split with the
            # odd element at the end (PyTorch's too, which has stride 1 only)
            if any(s != 1 for s in stride) and spatial is None:
                return None
            sizes = spatial if spatial is not None else (1,) * n
            totals = [max((-(-size // s) - 1) * s + d * (k - 1) + 1 - size, 0) if s != 1
                      else d * (k - 1)
                      for size, k, d, s in zip(sizes, kernel, dilation, stride)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"{layer}: padding must be an int, a tuple, 'valid' or 'same', got "
                         f"{padding!r}")
    return tuple((p, p) for p in _ntuple(padding, n, "padding", layer, minimum=0))


def _out_size(size: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def _check_input(x: Array, channels: int | None, nd: int, layer: str) -> tuple[Array, bool]:
    """The input with a batch axis (added if it was missing) and whether one was added."""
    x = fnp.asarray(x)
    shape = fnp.shape(x)
    if len(shape) == nd + 1:
        x, added = fnp.expand_dims(x, 0), True
    elif len(shape) == nd + 2:
        added = False
    else:
        spatial = ("L",) if nd == 1 else ("H", "W")
        raise ValueError(f"{layer}: expected an input of shape (N, C, {', '.join(spatial)}) or "
                         f"(C, {', '.join(spatial)}), got {shape}")
    if channels is not None and fnp.shape(x)[1] != channels:
        hint = ""
        if shape[-1] == channels:
            hint = (f"; this input looks channels-last: move its channels to axis 1 first, "
                    f"fnp.moveaxis(x, -1, {len(shape) - nd - 1})")
        raise ValueError(f"{layer}: expected {channels} input channels (axis 1), got input of "
                         f"shape {shape}{hint}")
    return x, added


def _patches(x: Array, kernel: tuple, stride: tuple, dilation: tuple, pads: tuple,
             pad_value: float) -> tuple[Array, tuple]:
    """The stacked windows ``(N, C, prod(kernel), *out)`` and the output spatial shape."""
    n, c, *spatial = fnp.shape(x)
    if any(lo or hi for lo, hi in pads):
        x = _pad_prim(x, pad_value, ((0, 0, 0), (0, 0, 0)) + tuple((lo, hi, 0) for lo, hi in pads))
    out = tuple(_out_size(size, k, s, d, lo, hi)
                for size, k, s, d, (lo, hi) in zip(spatial, kernel, stride, dilation, pads))
    if any(o < 1 for o in out):
        raise ValueError(f"the input's spatial shape {tuple(spatial)} is smaller than the "
                         f"(dilated) kernel {kernel} after padding {pads}")
    views = []
    for offsets in np.ndindex(*kernel):
        start = (0, 0) + tuple(i * d for i, d in zip(offsets, dilation))
        limit = (n, c) + tuple(st + s * (o - 1) + 1 for st, s, o in zip(start[2:], stride, out))
        views.append(_slice_prim(x, start, limit, (1, 1) + stride))
    stacked = fnp.expand_dims(views[0], 2) if len(views) == 1 else fnp.stack(views, axis=2)
    return stacked, out


def _window_counts(like: Array, spatial: Sequence[int], kernel: tuple, stride: tuple,
                   dilation: tuple, pads: tuple, dtype: Any) -> Array:
    """``(*out)``: how many real (unpadded) entries each window covers, the same pooling of
    an array of ones (of ``dtype``, on ``like``'s device)."""
    ones = full_like(like, 1, shape=(1, 1) + tuple(spatial), dtype=dtype)
    counts, _ = _patches(ones, kernel, stride, dilation, pads, 0.0)
    return fnp.sum(counts, axis=2)[0, 0]


def _convolve(x: Array, w: Array, groups: int, stride: tuple, dilation: tuple,
              pads: tuple) -> Array:
    """The cross-correlation of ``x (N, C, *spatial)`` with ``w (O, C / groups, *kernel)``,
    without bias: one matrix product of the weight with the patches."""
    out_channels, in_per_group, *kernel = fnp.shape(w)
    patches, out = _patches(x, tuple(kernel), stride, dilation, pads, 0.0)
    n, in_channels = fnp.shape(x)[:2]
    k = math.prod(kernel)
    p = math.prod(out)
    if groups == 1:
        cols = fnp.reshape(patches, (n, in_channels * k, p))
        y = fnp.matmul(fnp.reshape(w, (out_channels, -1)), cols)  # (N, O, P)
    else:
        cols = fnp.reshape(patches, (n, groups, in_per_group * k, p))
        wg = fnp.reshape(w, (groups, out_channels // groups, in_per_group * k))
        y = fnp.matmul(wg, cols)  # (N, G, O / G, P)
    return fnp.reshape(y, (n, out_channels) + out)


@dataclasses.dataclass(frozen=True)
class _ConvNd(Layer):
    in_channels: int
    out_channels: int
    kernel_size: IntOrTuple
    stride: IntOrTuple = 1
    padding: Padding = 0
    dilation: IntOrTuple = 1
    groups: int = 1
    bias: bool = True
    dtype: DType = np.float64

    _nd: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        name = type(self).__name__
        _check_channels(name, self.in_channels, self.out_channels, self.groups)
        kernel = _ntuple(self.kernel_size, self._nd, "kernel_size", name)
        stride = _ntuple(self.stride, self._nd, "stride", name)
        dilation = _ntuple(self.dilation, self._nd, "dilation", name)
        _padding_pairs(self.padding, kernel, dilation, stride, name)  # validates

    @property
    def _geometry(self) -> tuple:
        name = type(self).__name__
        kernel = _ntuple(self.kernel_size, self._nd, "kernel_size", name)
        stride = _ntuple(self.stride, self._nd, "stride", name)
        dilation = _ntuple(self.dilation, self._nd, "dilation", name)
        return kernel, stride, dilation, _padding_pairs(self.padding, kernel, dilation, stride,
                                                        name)

    def init(self, key: Key) -> Params:
        """``{"weight": (out, in / groups, *kernel), "bias": (out,)}``, uniform on
        ``+-1/sqrt(fan_in)`` as PyTorch initialises them."""
        kernel = self._geometry[0]
        shape = (self.out_channels, self.in_channels // self.groups) + kernel
        bound = 1.0 / math.sqrt(_init.compute_fans(shape)[0])
        k_w, k_b = random.split(key)
        params = {"weight": _init.uniform(k_w, shape, self.dtype, low=-bound, high=bound)}
        if self.bias:
            params["bias"] = _init.uniform(k_b, (self.out_channels,), self.dtype, low=-bound,
                                           high=bound)
        return params

    def apply(self, params: Params, x: Array) -> Array:
        """The convolution of ``x`` of shape ``(N, C_in, *spatial)`` (or without ``N``)."""
        kernel, stride, dilation, pads = self._geometry
        name = type(self).__name__
        x, added = _check_input(x, self.in_channels, self._nd, name)
        if pads is None:  # a strided 'same': the padding depends on the input's size
            pads = _padding_pairs(self.padding, kernel, dilation, stride, name,
                                  tuple(fnp.shape(x)[2:]))
        check_param_shapes(name, params, {"bias": (self.out_channels,)}, required=("weight",))
        expected = (self.out_channels, self.in_channels // self.groups) + kernel
        if fnp.shape(params["weight"]) != expected:  # the padding was made for this kernel
            raise ValueError(f"{name}: weight must have shape {expected} (out_channels, "
                             f"in_channels / groups, *kernel_size), got "
                             f"{fnp.shape(params['weight'])}")
        check_param_names(name, params, ("weight", "bias") if self.bias else ("weight",),
                          "or make the layer with bias=False")
        y = _convolve(x, params["weight"], self.groups, stride, dilation, pads)
        if "bias" in params:
            y = y + fnp.reshape(params["bias"], (self.out_channels,) + (1,) * self._nd)
        return y[0] if added else y


@dataclasses.dataclass(frozen=True)
class Conv2d(_ConvNd):
    """2-d convolution (cross-correlation), PyTorch's ``nn.Conv2d``.

    ``y[n, o] = bias[o] + sum over c in o's group, i, j of weight[o, c, i, j] *
    x_padded[n, c, s0 * h + d0 * i, s1 * w + d1 * j]``; output size per axis
    ``floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1``.

    Args:
        in_channels: Channels of the input (axis 1).
        out_channels: Channels of the output.
        kernel_size: An int or a pair.
        stride: An int or a pair.
        padding: An int, a pair, ``"valid"`` (none) or ``"same"`` (output size = input size
            over the stride, rounded up, as JAX; PyTorch has it for stride 1 only; an odd
            total puts the extra zero at the end, as both). The strings in either case
            (JAX's ``"SAME"``, ``"VALID"``).
        dilation: Spacing between kernel elements, an int or a pair.
        groups: Split the channels into this many independent convolutions.
        bias: Whether to add a bias.
        dtype: Parameter dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> conv = nn.Conv2d(1, 4, 3, padding="same")
        >>> params = conv.init(random.key(0))
        >>> params["weight"].shape
        (4, 1, 3, 3)
        >>> conv.apply(params, np.ones((2, 1, 8, 8))).shape
        (2, 4, 8, 8)
    """

    _nd: ClassVar[int] = 2


@dataclasses.dataclass(frozen=True)
class Conv1d(_ConvNd):
    """1-d convolution (cross-correlation) over inputs ``(N, C, L)``, PyTorch's ``nn.Conv1d``;
    arguments as [`Conv2d`][functrans.nn.Conv2d] with single ints.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> conv = nn.Conv1d(2, 3, kernel_size=3, stride=2)
        >>> conv.apply(conv.init(random.key(0)), np.ones((5, 2, 9))).shape
        (5, 3, 4)
    """

    _nd: ClassVar[int] = 1


@dataclasses.dataclass(frozen=True)
class _PoolNd(Layer):
    kernel_size: IntOrTuple
    stride: IntOrTuple | None = None
    padding: Padding = 0

    _nd: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        self._geometry  # validates  # noqa: B018

    @property
    def _geometry(self) -> tuple:
        """Kernel, stride, dilation and the padding pairs (``None`` for a strided 'same',
        whose padding depends on the input's size)."""
        name = type(self).__name__
        kernel = _ntuple(self.kernel_size, self._nd, "kernel_size", name)
        stride = kernel if self.stride is None else _ntuple(self.stride, self._nd, "stride", name)
        dilation = (1,) * self._nd
        if isinstance(self.padding, str):
            if self.padding.lower() not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same' "
                                 f"(either case), got {self.padding!r}")
            return kernel, stride, dilation, _padding_pairs(self.padding, kernel, dilation,
                                                            stride, name)
        pads = _ntuple(self.padding, self._nd, "padding", name, minimum=0)
        if any(2 * p > k for p, k in zip(pads, kernel)):
            raise ValueError(f"{name}: padding {pads} must be at most half the kernel {kernel}")
        return kernel, stride, dilation, tuple((p, p) for p in pads)

    def _resolved(self, spatial: Sequence[int]) -> tuple:
        """The geometry with the padding pairs for an input of spatial shape ``spatial``."""
        kernel, stride, dilation, pads = self._geometry
        if pads is None:
            pads = _padding_pairs(self.padding, kernel, dilation, stride, type(self).__name__,
                                  tuple(spatial))
        return kernel, stride, dilation, pads

    def _pool(self, x: Array, reduce: Callable[[Array, Any], Array], pad_value: float) -> Array:
        x, added = _check_input(x, None, self._nd, type(self).__name__)
        n, c, *spatial = fnp.shape(x)
        kernel, stride, dilation, pads = self._resolved(spatial)
        if stride == kernel and not any(lo or hi for lo, hi in pads):
            # Non-overlapping windows: crop the remainder, reshape, reduce (no copies).
            out = tuple(size // k for size, k in zip(spatial, kernel))
            if any(o < 1 for o in out):
                raise ValueError(f"{type(self).__name__}: input {tuple(spatial)} is smaller "
                                 f"than the kernel {kernel}")
            limit = (n, c) + tuple(o * k for o, k in zip(out, kernel))
            if limit[2:] != tuple(spatial):
                x = _slice_prim(x, (0,) * len(limit), limit)
            split = (n, c) + tuple(v for o, k in zip(out, kernel) for v in (o, k))
            y = reduce(fnp.reshape(x, split), tuple(3 + 2 * i for i in range(self._nd)))
        else:
            patches, out = _patches(x, kernel, stride, dilation, pads, pad_value)
            y = reduce(patches, 2)
        return y[0] if added else y


def _max(x: Array, axis: int | tuple[int, ...]) -> Array:
    return fnp.max(x, axis=axis)


def _lowest(x: ArrayLike) -> float | int | bool:
    """The padding of max pooling: ``-inf``, or the smallest value of an integer or bool
    dtype (where ``-inf`` does not exist and would be cast to an arbitrary integer)."""
    dtype = fnp.result_type(x)
    if np.issubdtype(dtype, np.integer):
        return int(np.iinfo(dtype).min)
    if dtype == np.bool_:
        return False
    return -np.inf


@dataclasses.dataclass(frozen=True)
class MaxPool2d(_PoolNd):
    """Maximum over ``kernel_size`` windows, PyTorch's ``nn.MaxPool2d`` (``stride`` defaults to
    the kernel size; padding is with ``-inf``, the dtype's minimum for integers, and at most
    half the kernel). ``padding`` may also be ``"valid"`` (none) or ``"same"`` (either case):
    JAX's ``reduce_window`` padding, ``ceil(size / stride)`` outputs per axis, the padding
    they need split with the odd entry at the end (flax's ``max_pool``).

    Where several entries of a window tie for the maximum, the derivative is shared equally
    among them (PyTorch gives it all to one of them); both are valid subgradients.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
        >>> nn.MaxPool2d(2).apply({}, x)
        array([[[[ 5.,  7.],
                 [13., 15.]]]])
    """

    _nd: ClassVar[int] = 2

    def apply(self, params: Params, x: Array) -> Array:
        """Pool ``x`` of shape ``(N, C, H, W)`` or ``(C, H, W)``."""
        return self._pool(x, _max, _lowest(x))


@dataclasses.dataclass(frozen=True)
class MaxPool1d(_PoolNd):
    """Maximum over windows of ``(N, C, L)`` inputs, PyTorch's ``nn.MaxPool1d``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.MaxPool1d(2).apply({}, np.array([[[1.0, 3.0, 2.0, 0.0, 9.0]]]))
        array([[[3., 2.]]])
    """

    _nd: ClassVar[int] = 1

    def apply(self, params: Params, x: Array) -> Array:
        """Pool ``x`` of shape ``(N, C, L)`` or ``(C, L)``."""
        return self._pool(x, _max, _lowest(x))


@dataclasses.dataclass(frozen=True)
class _AvgPoolNd(_PoolNd):
    count_include_pad: bool = True

    def apply(self, params: Params, x: Array) -> Array:
        """Average-pool ``x`` of shape ``(N, C, *spatial)`` or without ``N``."""
        spatial = fnp.shape(x)[-self._nd:]
        kernel, stride, dilation, pads = self._resolved(spatial)
        y = self._pool(x, fnp.sum, 0.0)
        if self.count_include_pad or not any(lo or hi for lo, hi in pads):
            return y / math.prod(kernel)
        return y / _window_counts(x, spatial, kernel, stride, dilation, pads, fnp.result_type(x))


@dataclasses.dataclass(frozen=True)
class AvgPool2d(_AvgPoolNd):
    """Mean over ``kernel_size`` windows, PyTorch's ``nn.AvgPool2d``. Padding is with zeros,
    which count in the mean unless ``count_include_pad=False``. ``padding`` may also be
    ``"valid"`` or ``"same"`` (either case), with JAX's rule (see
    [`MaxPool2d`][functrans.nn.MaxPool2d]); flax's ``avg_pool`` counts the padding too, by
    default.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
        >>> nn.AvgPool2d(2).apply({}, x)
        array([[[[ 2.5,  4.5],
                 [10.5, 12.5]]]])
    """

    _nd: ClassVar[int] = 2


@dataclasses.dataclass(frozen=True)
class AvgPool1d(_AvgPoolNd):
    """Mean over windows of ``(N, C, L)`` inputs, PyTorch's ``nn.AvgPool1d``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.AvgPool1d(2).apply({}, np.array([[[1.0, 3.0, 2.0, 0.0]]]))
        array([[[2., 1.]]])
    """

    _nd: ClassVar[int] = 1


@dataclasses.dataclass(frozen=True)
class Flatten(Layer):
    """Flatten axes ``start_dim`` to ``end_dim`` into one, PyTorch's ``nn.Flatten`` (by default
    every axis but the batch axis).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.Flatten().apply({}, np.ones((2, 3, 4))).shape
        (2, 12)
    """

    start_dim: int = 1
    end_dim: int = -1

    def apply(self, params: Params, x: Array) -> Array:
        """``x`` with the axes ``start_dim..end_dim`` merged."""
        x = fnp.asarray(x)
        shape = fnp.shape(x)
        nd = len(shape)
        if not nd:  # as torch.flatten: a 0-d input becomes one entry
            return fnp.reshape(x, (1,))
        for name, dim in (("start_dim", self.start_dim), ("end_dim", self.end_dim)):
            if not -nd <= dim < nd:  # % nd would wrap it onto another axis
                raise ValueError(f"Flatten: {name} {dim} is not an axis of an input of shape "
                                 f"{shape} (axes -{nd} to {nd - 1}); Flatten() keeps axis 0 "
                                 f"as the batch axis, so its input needs at least two axes")
        start, end = self.start_dim % nd, self.end_dim % nd
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim "
                             f"{self.end_dim} for an input of shape {shape}")
        return fnp.reshape(x, shape[:start] + (math.prod(shape[start:end + 1]),)
                           + shape[end + 1:])
