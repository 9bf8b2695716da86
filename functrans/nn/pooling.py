"""Adaptive pooling: [`AdaptiveAvgPool2d`][functrans.nn.AdaptiveAvgPool2d] averages ``(N, C, H, W)`` inputs down to a
requested output size whatever the input size, with PyTorch's window boundaries.

flax's functional pooling: [`max_pool`][functrans.nn.max_pool],
[`avg_pool`][functrans.nn.avg_pool] and [`min_pool`][functrans.nn.min_pool] take
channels-last inputs ``(*batch, *spatial, C)`` and flax.linen's arguments (``strides``
default to 1, not to the window), built on the same patch machinery as the PyTorch-layout
pooling layers of ``functrans.nn.conv``."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.nn._layer import Layer
from functrans.nn.conv import _check_input, _lowest, _padding_pairs, _patches, _window_counts
from functrans.primitives.conversion import constant_like
from functrans.typing import Array, ArrayLike, Params

__all__ = ["AdaptiveAvgPool2d", "avg_pool", "max_pool", "min_pool"]

FlaxPadding = str | Sequence[tuple[int, int]]


def _averaging_matrix(xp: Any, size: int, out: int, dtype: str) -> Any:
    """``(out, size)``: row ``i`` averages the entries ``floor(i * size / out)`` to
    ``ceil((i + 1) * size / out)`` (exclusive), PyTorch's adaptive windows."""
    m = np.zeros((out, size), dtype=dtype)  # host-metadata: weights from the sizes alone, placed below
    for i in range(out):
        start = (i * size) // out
        end = -((-(i + 1) * size) // out)
        m[i, start:end] = 1.0 / (end - start)
    return xp.asarray(m)


@dataclasses.dataclass(frozen=True)
class AdaptiveAvgPool2d(Layer):
    """Average pooling to a fixed output size, PyTorch's ``nn.AdaptiveAvgPool2d``.

    Output entry ``(i, j)`` is the mean of the input window of rows
    ``floor(i * H / oH)`` to ``ceil((i + 1) * H / oH) - 1`` and columns likewise; when the
    output size does not divide the input size, neighbouring windows overlap by one entry or
    differ in size, exactly as PyTorch's. Computed as two matrix products with the (constant)
    averaging matrices, so it is linear and cheap to differentiate.

    Args:
        output_size: ``(oH, oW)``, or an int for a square output; an entry ``None`` keeps
            that input size.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> x = np.arange(10.0).reshape(1, 1, 2, 5)
        >>> nn.AdaptiveAvgPool2d((1, 2)).apply({}, x)
        array([[[[3.5, 5.5]]]])
    """

    output_size: int | None | Sequence[int | None]

    def __post_init__(self) -> None:
        super().__post_init__()
        self._sizes  # validates  # noqa: B018

    @property
    def _sizes(self) -> tuple:
        size = self.output_size
        sizes = (size, size) if size is None or isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) != 2 or not all(
                s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                              and s >= 1) for s in sizes):
            raise ValueError(f"AdaptiveAvgPool2d: output_size must be a positive int or a pair "
                             f"of positive ints (or None), got {size!r}")
        return sizes

    def apply(self, params: Params, x: Array) -> Array:
        """Pool ``x`` of shape ``(N, C, H, W)`` or ``(C, H, W)`` to ``(..., oH, oW)``."""
        x, added = _check_input(x, None, 2, "AdaptiveAvgPool2d")
        h, w = fnp.shape(x)[2:]
        out_h, out_w = (s if o is None else int(o) for s, o in zip((h, w), self._sizes))
        dtype = str(fnp.result_type(x, 1.0))
        if out_h != h:
            rows = constant_like(x, _averaging_matrix, h, out_h, dtype)
            x = fnp.matmul(rows, x)
        if out_w != w:
            cols = constant_like(x, _averaging_matrix, w, out_w, dtype)
            x = fnp.matmul(x, fnp.swapaxes(cols, 0, 1))
        return x[0] if added else x


def _positive_ints(value: Any, name: str, what: str, n: int | None = None) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) or isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{name}: {what} must be a tuple of ints, one per spatial axis (as in "
                        f"flax: {what}=(2, 2)), got {value!r}")
    out = tuple(value)
    if (n is not None and len(out) != n) or not out or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in out):
        size = f"{n} " if n is not None else ""
        raise ValueError(f"{name}: {what} must be a tuple of {size}positive ints, got {value!r}")
    return tuple(int(v) for v in out)


def _flax_pads(name: str, padding: FlaxPadding, window: tuple, strides: tuple,
               spatial: tuple) -> tuple:
    """flax's ``padding``: ``'SAME'``/``'VALID'`` (either case; lax's rule, the odd entry at the
    end) or one ``(low, high)`` pair of non-negative ints per spatial axis."""
    if isinstance(padding, str):
        if padding.lower() not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be 'SAME', 'VALID' or a sequence of "
                             f"(low, high) pairs, one per spatial axis, got {padding!r}")
        pairs = _padding_pairs(padding, window, (1,) * len(window), strides, name, spatial)
        assert pairs is not None  # the spatial shape is given: never deferred
        return pairs
    try:
        pads = tuple(tuple(pair) for pair in padding)
    except TypeError:
        pads = ()
    if len(pads) != len(window) or not all(
            len(pair) == 2 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   and v >= 0 for v in pair) for pair in pads):
        raise ValueError(f"{name}: padding must be 'SAME', 'VALID' or {len(window)} (low, high) "
                         f"pairs of non-negative ints, one per spatial axis, got {padding!r}")
    return tuple((int(lo), int(hi)) for lo, hi in pads)


def _pool_channels_last(name: str, inputs: ArrayLike, window_shape: Sequence[int],
                        strides: Sequence[int] | None, padding: FlaxPadding,
                        reduce: Callable[..., Array], pad_value: Any) -> tuple[Array, tuple]:
    """``reduce`` over the windows of ``inputs (*batch, *spatial, C)``: the result
    ``(*batch, *out, C)`` and the padding pairs used."""
    x = fnp.asarray(inputs)
    window = _positive_ints(window_shape, name, "window_shape")
    nd = len(window)
    stride = (1,) * nd if strides is None else _positive_ints(strides, name, "strides", nd)
    shape = tuple(fnp.shape(x))
    if len(shape) < nd + 1:
        raise ValueError(f"{name}: a window of {nd} spatial axes needs an input of shape "
                         f"(*batch, {', '.join(['S'] * nd)}, C) (channels last, as in flax), "
                         f"got {shape}")
    batch, spatial, channels = shape[:-nd - 1], shape[-nd - 1:-1], shape[-1]
    pads = _flax_pads(name, padding, window, stride, spatial)
    x = fnp.moveaxis(fnp.reshape(x, (math.prod(batch),) + spatial + (channels,)), -1, 1)
    try:
        patches, out = _patches(x, window, stride, (1,) * nd, pads, pad_value)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    y = fnp.moveaxis(reduce(patches, axis=2), 1, -1)
    return fnp.reshape(y, batch + tuple(out) + (channels,)), pads


def max_pool(inputs: ArrayLike, window_shape: Sequence[int], strides: Sequence[int] | None = None,
             padding: FlaxPadding = "VALID") -> Array:
    """The maximum over windows of a channels-last input, flax.linen's ``max_pool``.

    ``inputs`` is ``(*batch, *spatial, C)`` with any number of batch axes (none included);
    ``window_shape`` and ``strides`` have one entry per spatial axis, and ``strides`` default
    to 1 (flax's default, where PyTorch's ``MaxPool2d`` strides by the window). ``padding`` is
    ``"VALID"`` (none), ``"SAME"`` (``ceil(size / stride)`` outputs, the odd padding entry at
    the end) or one ``(low, high)`` pair per spatial axis; padded entries are ``-inf`` (the
    dtype's minimum for integers) and never win. Where entries of a window tie for the
    maximum the derivative is shared equally among them (JAX gives it all to one); both are
    valid subgradients and they agree wherever the maximum is unique.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> x = np.arange(16.0).reshape(4, 4, 1)  # (H, W, C), no batch axis
        >>> nn.max_pool(x, (2, 2), strides=(2, 2))[..., 0]
        array([[ 5.,  7.],
               [13., 15.]])
        >>> nn.max_pool(x, (3, 3), padding="SAME").shape
        (4, 4, 1)
    """
    x = fnp.asarray(inputs)
    return _pool_channels_last("max_pool", x, window_shape, strides, padding, fnp.max, _lowest(x))[0]


def _highest(x: ArrayLike) -> float | int | bool:
    """The padding of min pooling: ``inf``, or the largest value of an integer or bool dtype."""
    dtype = fnp.result_type(x)
    if np.issubdtype(dtype, np.integer):
        return int(np.iinfo(dtype).max)
    if dtype == np.bool_:
        return True
    return np.inf


def min_pool(inputs: ArrayLike, window_shape: Sequence[int], strides: Sequence[int] | None = None,
             padding: FlaxPadding = "VALID") -> Array:
    """The minimum over windows of a channels-last input, flax.linen's ``min_pool``: the
    arguments and the derivative at ties are [`max_pool`][functrans.nn.max_pool]'s, and
    padded entries are ``+inf`` (the dtype's maximum for integers).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.min_pool(np.array([[3.0], [1.0], [2.0], [0.0]]), (2,))[:, 0]
        array([1., 1., 0.])
    """
    x = fnp.asarray(inputs)
    return _pool_channels_last("min_pool", x, window_shape, strides, padding, fnp.min, _highest(x))[0]


def avg_pool(inputs: ArrayLike, window_shape: Sequence[int], strides: Sequence[int] | None = None,
             padding: FlaxPadding = "VALID", count_include_pad: bool = True) -> Array:
    """The mean over windows of a channels-last input, flax.linen's ``avg_pool``.

    The arguments are [`max_pool`][functrans.nn.max_pool]'s (``strides`` default to 1).
    Padded entries are zeros; with ``count_include_pad=True`` (flax's default) every window
    is divided by its full size, padding included, and with ``False`` by the number of real
    entries it covers.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> x = np.array([[1.0], [3.0], [2.0]])  # (W, C)
        >>> nn.avg_pool(x, (2,), padding="SAME")[:, 0]
        array([2. , 2.5, 1. ])
        >>> nn.avg_pool(x, (2,), padding="SAME", count_include_pad=False)[:, 0]
        array([2. , 2.5, 2. ])
    """
    x = fnp.asarray(inputs)
    total, pads = _pool_channels_last("avg_pool", x, window_shape, strides, padding, fnp.sum, 0)
    window = tuple(window_shape)
    if count_include_pad or not any(lo or hi for lo, hi in pads):
        return total / math.prod(window)
    nd = len(window)
    spatial = tuple(fnp.shape(x))[-nd - 1:-1]
    stride = (1,) * nd if strides is None else tuple(strides)
    counts = _window_counts(x, spatial, window, stride, (1,) * nd, pads, fnp.result_type(total))
    return total / fnp.expand_dims(counts, -1)  # (*out, 1): the channels share the count
