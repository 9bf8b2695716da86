"""Adaptive pooling: [`AdaptiveAvgPool2d`][functrans.nn.AdaptiveAvgPool2d] averages ``(N, C, H, W)`` inputs down to a
requested output size whatever the input size, with PyTorch's window boundaries."""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.nn._layer import Layer
from functrans.nn.conv import _check_input
from functrans.primitives.conversion import constant_like
from functrans.typing import Array, Params

__all__ = ["AdaptiveAvgPool2d"]


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
