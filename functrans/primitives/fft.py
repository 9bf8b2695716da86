"""Discrete Fourier transforms: one primitive, ``fft``, with ``fft_type`` one of ``"fft"``,
``"ifft"`` (complex to complex), ``"rfft"`` (real to the non-negative frequencies) and
``"irfft"`` (back to real), over ``axes``, with NumPy's ``norm``.

All are linear. The DFT matrix is symmetric, so the transpose of a complex transform is the
same transform. ``rfft`` keeps half of the output of a full transform of a real signal: its
transpose pads the cotangent with zeros to the full length, transforms it and keeps the real
part. ``irfft`` reads each positive frequency twice (as itself and as its conjugate), except
the zero frequency and, for an even length, the last one: its transpose is the conjugate of
an ``rfft`` of the cotangent with those weights and the dual normalisation.

Example:
    >>> import numpy as np
    >>> fft(np.array([1.0, 0.0, 0.0, 0.0]), "rfft", (0,))
    array([1.+0.j, 1.+0.j, 1.+0.j])
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from functrans.backend import array_module
from functrans.core.primitive import Primitive
from functrans.primitives._define import deflinear, per_example_axis
from functrans.primitives.elementwise import conj, mul, real
from functrans.primitives.shape import concatenate, pad, slice_

_DUAL_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _fft_impl(x, *, fft_type, axes, length, norm):
    fft = array_module(x).fft
    if fft_type == "fft":
        return fft.fftn(x, axes=axes, norm=norm)
    if fft_type == "ifft":
        return fft.ifftn(x, axes=axes, norm=norm)
    if fft_type == "rfft":
        return fft.rfftn(x, axes=axes, norm=norm)
    sizes = [x.shape[a] for a in axes[:-1]] + [length]
    return fft.irfftn(x, s=sizes, axes=axes, norm=norm)


def _complex_of(dtype):
    return np.result_type(dtype, np.complex64)


def _fft_shape(x, *, fft_type, axes, length, norm):
    shape = list(x.shape)
    if fft_type in ("fft", "ifft"):
        return tuple(shape), _complex_of(x.dtype)
    if fft_type == "rfft":
        shape[axes[-1]] = shape[axes[-1]] // 2 + 1
        return tuple(shape), _complex_of(x.dtype)
    shape[axes[-1]] = length
    return tuple(shape), np.dtype(_complex_of(x.dtype).char.lower())


def _fft_transpose(ct, x, *, fft_type, axes, length, norm):
    last = axes[-1]
    if fft_type in ("fft", "ifft"):
        return (fft(ct, fft_type, axes, None, norm),)
    if fft_type == "rfft":
        n = x.shape[last]
        config = [(0, 0, 0)] * ct.ndim
        config[last] = (0, n - ct.shape[last], 0)
        padded = pad(ct, 0, config)
        return (real(fft(padded, "fft", axes, None, norm)),)
    # irfft: output length `length` along the last axis; its input has length // 2 + 1 there
    half = fft(ct, "rfft", axes, None, _DUAL_NORM[norm])
    # irfft counts every frequency twice except 0 and, for even lengths, the last one: weight
    # 2 on the middle part (built from slices, so no constant array has to meet a device).
    m = half.shape[last]
    stop = m - 1 if length % 2 == 0 else m
    parts = [_part(half, last, 0, 1), mul(_part(half, last, 1, stop), 2.0), _part(half, last, stop, m)]
    parts = [p for p in parts if p.shape[last]]
    weighted = parts[0] if len(parts) == 1 else concatenate(parts, last)
    return (conj(weighted),)


def _part(x, axis, start, stop):
    """``x[..., start:stop, ...]`` along ``axis``."""
    starts = [0] * x.ndim
    limits = list(x.shape)
    starts[axis], limits[axis] = start, max(start, stop)
    return slice_(x, tuple(starts), tuple(limits), (1,) * x.ndim)


fft_p = Primitive("fft")
fft_p.impl = _fft_impl
fft_p.shape_rule = _fft_shape
deflinear(fft_p, _fft_transpose)


def _fft_batch(values, dims, *, fft_type, axes, length, norm):
    (x,), (d,) = values, dims
    n = x.ndim - 1
    moved = tuple(per_example_axis(a % n, d) for a in axes)
    return fft(x, fft_type, moved, length, norm), d


fft_p.batch = _fft_batch


def fft(x, fft_type: str, axes: Sequence[int], length: int | None = None, norm: str = "backward"):
    return fft_p.bind(x, fft_type=fft_type, axes=tuple(axes), length=length, norm=norm)

