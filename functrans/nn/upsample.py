"""Resizing of feature maps: [`Upsample`][functrans.nn.Upsample] (PyTorch's ``nn.Upsample``) by nearest-neighbour
or bilinear interpolation, with PyTorch's source-coordinate formulas."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.nn._layer import Layer
from functrans.primitives.conversion import constant_like
from functrans.typing import Array, Params

__all__ = ["Upsample"]


def _source(out: int, size: int, scale: float | None, align_corners: bool) -> list[float]:
    """PyTorch's source coordinate of each output position ``0..out-1`` for linear modes."""
    if align_corners:
        step = (size - 1) / (out - 1) if out > 1 else 0.0
        return [i * step for i in range(out)]
    ratio = size / out if scale is None else 1.0 / scale
    return [max((i + 0.5) * ratio - 0.5, 0.0) for i in range(out)]


def _nearest_index(out: int, size: int, scale: float | None) -> np.ndarray:
    ratio = size / out if scale is None else 1.0 / scale
    # host-metadata: positions computed from the sizes alone (no user data)
    return np.array([min(math.floor(i * ratio), size - 1) for i in range(out)], dtype=np.int64)


def _linear_indices(out: int, size: int, scale: float | None,
                    align_corners: bool) -> tuple[np.ndarray, np.ndarray]:
    low = [min(math.floor(s), size - 1) for s in _source(out, size, scale, align_corners)]
    # host-metadata: positions computed from the sizes alone (no user data)
    return np.array(low, dtype=np.int64), np.array([min(i + 1, size - 1) for i in low], dtype=np.int64)


def _linear_weight(xp: Any, out: int, size: int, scale: float | None, align_corners: bool,
                   dtype: str) -> Any:
    src = _source(out, size, scale, align_corners)
    return xp.asarray([s - min(math.floor(s), size - 1) for s in src], dtype=dtype)


@dataclasses.dataclass(frozen=True)
class Upsample(Layer):
    """Resize the spatial axes of ``(N, C, L)`` or ``(N, C, H, W)`` inputs, PyTorch's
    ``nn.Upsample`` (and ``F.interpolate``) for the modes ``"nearest"``, ``"linear"`` and
    ``"bilinear"``.

    Output position ``i`` of an axis of input size ``n`` and output size ``m`` reads:

    - ``"nearest"``: input ``min(floor(i * r), n - 1)`` with ``r = n / m``, or
      ``1 / scale_factor`` when ``scale_factor`` is given (PyTorch's rule, which is not
      ``round``: it always takes the entry at or before the exact position);
    - ``"linear"``/``"bilinear"``: the source coordinate ``c = i * (n - 1) / (m - 1)`` with
      ``align_corners=True`` (corner pixels' centres align), else
      ``c = max((i + 0.5) * r - 0.5, 0)``; then ``(1 - t) * x[i0] + t * x[i1]`` with
      ``i0 = floor(c)``, ``i1 = min(i0 + 1, n - 1)``, ``t = c - i0``, along each axis in turn.

    Args:
        size: The output spatial size (an int for every axis, or a tuple).
        scale_factor: Alternatively, a multiplier per axis (an output size of
            ``floor(n * scale_factor)``); exactly one of ``size`` and ``scale_factor``.
        mode: ``"nearest"``, ``"linear"`` (1-d inputs) or ``"bilinear"`` (2-d inputs).
        align_corners: For the linear modes, as above (PyTorch's default ``False``; must stay
            ``None`` or ``False`` for ``"nearest"``).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> nn.Upsample(scale_factor=2, mode="nearest").apply({}, x)[0, 0]
        array([[1., 1., 2., 2.],
               [1., 1., 2., 2.],
               [3., 3., 4., 4.],
               [3., 3., 4., 4.]])
        >>> nn.Upsample(size=3, mode="bilinear", align_corners=True).apply({}, x)[0, 0]
        array([[1. , 1.5, 2. ],
               [2. , 2.5, 3. ],
               [3. , 3.5, 4. ]])
    """

    size: int | Sequence[int] | None = None
    scale_factor: float | Sequence[float] | None = None
    mode: str = "nearest"
    align_corners: bool | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.size is None) == (self.scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        if self.mode not in ("nearest", "linear", "bilinear"):
            raise ValueError(f"Upsample: mode must be 'nearest', 'linear' or 'bilinear', got "
                             f"{self.mode!r}")
        if self.mode == "nearest" and self.align_corners:
            raise ValueError("Upsample: align_corners applies to the linear modes only; leave "
                             "it None for mode='nearest'")

    def _plan(self, spatial: tuple) -> list:
        """``(output size, scale or None)`` per spatial axis."""
        nd = len(spatial)
        if self.size is not None:
            sizes = (self.size,) * nd if isinstance(self.size, (int, np.integer)) else tuple(self.size)
            if len(sizes) != nd or any(int(s) < 1 for s in sizes):
                raise ValueError(f"Upsample: size must be a positive int or {nd} of them for an "
                                 f"input with {nd} spatial axes, got {self.size!r}")
            return [(int(s), None) for s in sizes]
        factor = self.scale_factor
        scales = (factor,) * nd if isinstance(factor, (int, float, np.number)) else tuple(factor)  # type: ignore[arg-type]
        if len(scales) != nd or any(float(s) <= 0 for s in scales):
            raise ValueError(f"Upsample: scale_factor must be a positive number or {nd} of them, "
                             f"got {factor!r}")
        plan = [(math.floor(n * float(s)), float(s)) for n, s in zip(spatial, scales)]
        if any(out < 1 for out, _ in plan):  # as PyTorch: no empty output
            raise ValueError(f"Upsample: scale_factor {factor!r} leaves no output for an input "
                             f"of spatial shape {spatial} (floor(size * scale_factor) = "
                             f"{tuple(out for out, _ in plan)}); use a larger factor or size=")
        return plan

    def apply(self, params: Params, x: Array) -> Array:
        """Resize ``x`` of shape ``(N, C, L)`` or ``(N, C, H, W)``."""
        x = fnp.asarray(x)
        expected = {"nearest": (3, 4), "linear": (3,), "bilinear": (4,)}[self.mode]
        if fnp.ndim(x) not in expected:
            shapes = " or ".join(("(N, C, L)", "(N, C, H, W)")[n - 3] for n in expected)
            raise ValueError(f"Upsample: mode {self.mode!r} takes inputs of shape {shapes} (a "
                             f"batch axis first, as in PyTorch), got {fnp.shape(x)}")
        spatial = tuple(fnp.shape(x)[2:])
        for axis, (size, (out, scale)) in enumerate(zip(spatial, self._plan(spatial)), start=2):
            # Index arrays are host constants (take places them on x's device); the
            # interpolation weights are data, made on x's device.
            if self.mode == "nearest":
                x = fnp.take(x, _nearest_index(out, size, scale), axis=axis)
                continue
            corners = bool(self.align_corners)
            i0, i1 = _linear_indices(out, size, scale, corners)
            low, high = fnp.take(x, i0, axis=axis), fnp.take(x, i1, axis=axis)
            t = constant_like(x, _linear_weight, out, size, scale, corners,
                              str(fnp.result_type(x, 1.0)))
            t = fnp.reshape(t, (out,) + (1,) * (fnp.ndim(x) - 1 - axis))
            x = (1.0 - t) * low + t * high
        return x
