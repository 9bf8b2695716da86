"""Transposed convolution layers (PyTorch's ``nn.ConvTranspose1d``/``nn.ConvTranspose2d``): the
derivative of a convolution with respect to its input, used to upsample feature maps.

A transposed convolution with stride ``s``, padding ``p`` and dilation ``d`` is an ordinary
stride-1 convolution (``conv._convolve``) of the input spread out by ``s - 1`` zeros between
its entries and padded by ``d * (k - 1) - p`` on each side (plus ``output_padding`` at the
end), with the kernel flipped and its two channel axes exchanged. Each step is a primitive
with its own derivative rules, so every order and mode of derivative follows.
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

import functrans.numpy as fnp
from functrans import random
from functrans.nn import initializers as _init
from functrans.nn._layer import Layer, check_param_names, check_param_shapes
from functrans.nn.conv import (
    IntOrTuple,
    Padding,
    _check_channels,
    _check_input,
    _convolve,
    _ntuple,
)
from functrans.primitives.shape import pad as _pad_prim
from functrans.primitives.shape import slice_ as _slice_prim
from functrans.typing import Array, DType, Key, Params

__all__ = ["ConvTranspose1d", "ConvTranspose2d"]


@dataclasses.dataclass(frozen=True)
class _ConvTransposeNd(Layer):
    in_channels: int
    out_channels: int
    kernel_size: IntOrTuple
    stride: IntOrTuple = 1
    padding: Padding = 0
    output_padding: IntOrTuple = 0
    groups: int = 1
    bias: bool = True
    dilation: IntOrTuple = 1
    dtype: DType = np.float64

    _nd: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        name = type(self).__name__
        _check_channels(name, self.in_channels, self.out_channels, self.groups)
        _, stride, _, dilation, output_padding = self._geometry
        for op, s, d in zip(output_padding, stride, dilation):
            if op >= max(s, d):
                raise ValueError(f"{name}: output_padding {output_padding} must be smaller than "
                                 f"the stride {stride} or the dilation {dilation} on each axis "
                                 f"(as in PyTorch); it only picks among the output sizes a "
                                 f"strided input could come from")

    @property
    def _geometry(self) -> tuple:
        """Kernel, stride, padding (a tuple, or 'same'/'valid' in lower case), dilation and
        output padding."""
        name = type(self).__name__
        n = self._nd
        output_padding = _ntuple(self.output_padding, n, "output_padding", name, minimum=0)
        padding: tuple | str
        if isinstance(self.padding, str):
            padding = self.padding.lower()
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid' "
                                 f"(either case), got {self.padding!r}")
            if any(output_padding):
                raise ValueError(f"{name}: output_padding {output_padding} goes with an int "
                                 f"padding; padding={self.padding!r} fixes the output size "
                                 f"itself. Fix: drop output_padding, or give an int padding")
        else:
            padding = _ntuple(self.padding, n, "padding", name, minimum=0)
        return (_ntuple(self.kernel_size, n, "kernel_size", name),
                _ntuple(self.stride, n, "stride", name),
                padding,
                _ntuple(self.dilation, n, "dilation", name),
                output_padding)

    @staticmethod
    def _pads(kernel: tuple, stride: tuple, padding: tuple | str, dilation: tuple,
              output_padding: tuple) -> tuple[list, list]:
        """The padding ``(lo, hi)`` per axis of the spread input before the stride-1
        convolution. An int ``p`` removes ``p`` from both ends (PyTorch); 'same' and 'valid'
        are ``lax.conv_transpose``'s rule (flax's ``ConvTranspose``): 'same' gives
        ``size * stride`` outputs, 'valid' ``size * stride + max(k - stride, 0)``, with
        ``k`` the dilated kernel size."""
        if isinstance(padding, str):
            lo, hi = [], []
            for k, s, d in zip(kernel, stride, dilation):
                k = d * (k - 1) + 1
                if padding == "same":
                    total = k + s - 2
                    low = k - 1 if s > k - 1 else -(-total // 2)
                else:
                    total, low = k + s - 2 + max(k - s, 0), k - 1
                lo.append(low)
                hi.append(total - low)
            return lo, hi
        lo = [d * (k - 1) - p for k, d, p in zip(kernel, dilation, padding)]
        return lo, [low + op for low, op in zip(lo, output_padding)]

    def init(self, key: Key) -> Params:
        """``{"weight": (in, out / groups, *kernel), "bias": (out,)}``, uniform on
        ``+-1/sqrt(out / groups * prod(kernel))`` as PyTorch initialises them."""
        shape = (self.in_channels, self.out_channels // self.groups) + self._geometry[0]
        bound = 1.0 / math.sqrt(_init.compute_fans(shape)[0])
        k_w, k_b = random.split(key)
        params = {"weight": _init.uniform(k_w, shape, self.dtype, low=-bound, high=bound)}
        if self.bias:
            params["bias"] = _init.uniform(k_b, (self.out_channels,), self.dtype, low=-bound,
                                           high=bound)
        return params

    def apply(self, params: Params, x: Array) -> Array:
        """The transposed convolution of ``x (N, C_in, *spatial)`` (or without ``N``)."""
        kernel, stride, padding, dilation, output_padding = self._geometry
        name = type(self).__name__
        x, added = _check_input(x, self.in_channels, self._nd, name)
        spatial = fnp.shape(x)[2:]
        lo, hi = self._pads(kernel, stride, padding, dilation, output_padding)
        out = [(size - 1) * s + low + high - d * (k - 1) + 1
               for size, s, low, high, k, d in zip(spatial, stride, lo, hi, kernel, dilation)]
        if any(o < 1 for o in out):
            raise ValueError(f"{name}: padding {padding} leaves no output for an input of "
                             f"spatial shape {tuple(spatial)}; use a smaller padding")
        # Spread the input by stride - 1 zeros and pad it; a negative pad (padding larger
        # than the dilated kernel) crops instead.
        config = ((0, 0, 0), (0, 0, 0)) + tuple((max(a, 0), max(b, 0), s - 1)
                                                 for a, b, s in zip(lo, hi, stride))
        x = _pad_prim(x, 0.0, config)
        if any(a < 0 or b < 0 for a, b in zip(lo, hi)):
            shape = fnp.shape(x)
            start = (0, 0) + tuple(max(-a, 0) for a in lo)
            limit = shape[:2] + tuple(size - max(-b, 0) for size, b in zip(shape[2:], hi))
            x = _slice_prim(x, start, limit)
        # The kernel of the equivalent convolution: (out, in / groups, *kernel), flipped.
        check_param_shapes(name, params, {"bias": (self.out_channels,)}, required=("weight",))
        w = params["weight"]
        g = self.groups
        expected = (self.in_channels, self.out_channels // g) + kernel
        if fnp.shape(w) != expected:  # a reshape below would scramble one of the same size
            raise ValueError(f"{name}: weight must have shape {expected} (in_channels, "
                             f"out_channels / groups, *kernel_size), got {fnp.shape(w)}")
        check_param_names(name, params, ("weight", "bias") if self.bias else ("weight",),
                          "or make the layer with bias=False")
        w = fnp.reshape(w, (g, self.in_channels // g, self.out_channels // g) + kernel)
        w = fnp.reshape(fnp.swapaxes(w, 1, 2), (self.out_channels, self.in_channels // g) + kernel)
        w = fnp.flip(w, axis=tuple(range(2, 2 + self._nd)))
        y = _convolve(x, w, g, (1,) * self._nd, dilation, ((0, 0),) * self._nd)
        if "bias" in params:
            y = y + fnp.reshape(params["bias"], (self.out_channels,) + (1,) * self._nd)
        return y[0] if added else y


@dataclasses.dataclass(frozen=True)
class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution, PyTorch's ``nn.ConvTranspose2d``: each input entry scatters
    a copy of the kernel, scaled by it, into the output::

        y[n, o, s0*h + d0*i - p0, s1*w + d1*j - p1] += x[n, c, h, w] * weight[c, o', i, j]

    over the input channels ``c`` of ``o``'s group (``o'`` is ``o``'s index in its group),
    plus ``bias[o]``. Output size per axis:
    ``(size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.
    It is the derivative of [`Conv2d`][functrans.nn.Conv2d] with the same arguments with respect to its input.

    Parameters have PyTorch's names and shapes (``weight (in, out / groups, kH, kW)``,
    ``bias (out,)``), so a PyTorch ``state_dict`` converts entry by entry with
    ``.numpy()``. Arguments follow PyTorch's order.

    Args:
        in_channels: Channels of the input (axis 1).
        out_channels: Channels of the output.
        kernel_size: An int or a pair.
        stride: Spacing of the input entries in the output, an int or a pair.
        padding: Removed from both ends of each output axis, an int or a pair; or
            ``"same"`` (``size * stride`` outputs) or ``"valid"`` (``size * stride +
            max(dilation * (kernel - 1) + 1 - stride, 0)``), in either case, with the padding
            rule of JAX's ``lax.conv_transpose`` and flax's ``ConvTranspose`` (the weight
            keeps PyTorch's layout and meaning: flax's ``transpose_kernel=True``).
        output_padding: Added at the end of each output axis (smaller than the stride or the
            dilation), to choose among the sizes a strided convolution maps to one size;
            with an int padding only.
        groups: Split the channels into this many independent transposed convolutions.
        bias: Whether to add a bias.
        dilation: Spacing between kernel elements.
        dtype: Parameter dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
        >>> params = up.init(random.key(0))
        >>> params["weight"].shape
        (4, 2, 3, 3)
        >>> up.apply(params, np.ones((1, 4, 5, 5))).shape
        (1, 2, 10, 10)
    """

    _nd: ClassVar[int] = 2


@dataclasses.dataclass(frozen=True)
class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution over ``(N, C, L)`` inputs, PyTorch's ``nn.ConvTranspose1d``;
    arguments and parameters as [`ConvTranspose2d`][functrans.nn.ConvTranspose2d] with single ints
    (``weight (in, out / groups, k)``).

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> up = nn.ConvTranspose1d(2, 3, kernel_size=4, stride=2, padding=1)
        >>> up.apply(up.init(random.key(0)), np.ones((5, 2, 8))).shape
        (5, 3, 16)
    """

    _nd: ClassVar[int] = 1
