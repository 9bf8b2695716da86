"""``functrans.numpy.fft``: NumPy's discrete Fourier transforms, differentiable.

Every transform is linear; its reverse-mode derivative is the adjoint transform with the
matching normalisation (``norm`` is ``"backward"``, ``"ortho"`` or ``"forward"``, as in NumPy).
Real input to a complex transform is converted to complex first, and cotangents of real
inputs are real.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from functrans.backend import array_module
from functrans.numpy._shape import roll
from functrans.numpy._util import any_tracer, as_array, normalize_axis
from functrans.numpy._util import refuse_out_everywhere as _refuse_out_everywhere
from functrans.primitives import fft as _fft
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike, DType

__all__ = [
    "fft", "fft2", "fftfreq", "fftn", "fftshift", "ifft", "ifft2", "ifftn", "ifftshift", "irfft",
    "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn",
]


def _check_norm(norm: str | None) -> str:
    norm = "backward" if norm is None else norm
    if norm not in ("backward", "ortho", "forward"):
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')
    return norm


def _resize(a: Array, axis: int, n: int) -> Array:
    """Crop or zero-pad ``a`` along ``axis`` to length ``n``."""
    size = a.shape[axis]
    if n == size:
        return a
    if n < size:
        starts = [0] * len(a.shape)
        limits = list(a.shape)
        limits[axis] = n
        return _shape.slice_(a, tuple(starts), tuple(limits))
    config = [(0, 0, 0)] * len(a.shape)
    config[axis] = (0, n - size, 0)
    return _shape.pad(a, 0, config)


def _axes_and_sizes(a: Array, s: Sequence[int] | None, axes: Sequence[int] | None,
                    default_all: bool = True) -> tuple[tuple[int, ...], tuple[int, ...]]:
    nd = len(a.shape)
    if axes is None:
        axes = tuple(range(nd - len(s), nd)) if s is not None else tuple(range(nd))
    axes = tuple(normalize_axis(ax, nd) for ax in axes)
    if s is None:
        s = tuple(a.shape[ax] for ax in axes)
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    return axes, tuple(int(n) for n in s)


def _to_complex(a: Array) -> Array:
    if a.dtype.kind == "c":
        return a
    dtype = np.result_type(a.dtype if a.dtype.kind == "f" else np.float64, np.complex64)
    return convert_element_type(a, new_dtype=dtype)


def _to_real(a: Array) -> Array:
    if a.dtype.kind == "f":
        return a
    if a.dtype.kind == "c":
        raise TypeError("a real transform (rfft) needs real input; use fft for complex input")
    return convert_element_type(a, new_dtype=np.float64)


def _complex_transform(kind: str, a: Array, s: Sequence[int] | None, axes: Sequence[int] | None,
                       norm: str) -> Array:
    axes, sizes = _axes_and_sizes(a, s, axes)
    for ax, n in zip(axes, sizes):
        if n < 1:
            raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
        a = _resize(a, ax, n)
    if not axes:
        return _to_complex(a)
    return _fft.fft(_to_complex(a), kind, axes, None, norm)


def _numpy_call(name: str, a: Array, *args: Any, **kwargs: Any) -> Array:
    return getattr(array_module(a).fft, name)(a, *args, **kwargs)


# --- complex transforms ---------------------------------------------------------------------------


def fft(a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None) -> Array:
    """The one-dimensional discrete Fourier transform along ``axis`` (cropped or zero-padded
    to ``n`` points).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.fft(fnp.array([1.0, 0.0, 0.0, 0.0])).tolist()
        [(1+0j), (1+0j), (1+0j), (1+0j)]
    """
    a = as_array(a)
    if not any_tracer(a):
        return _numpy_call("fft", a, n, axis, norm)
    return _complex_transform("fft", a, None if n is None else (n,), (axis,), _check_norm(norm))


def ifft(a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None) -> Array:
    """The inverse of ``fft`` along ``axis``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.ifft(fnp.array([4.0, 0.0, 0.0, 0.0])).real.tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    a = as_array(a)
    if not any_tracer(a):
        return _numpy_call("ifft", a, n, axis, norm)
    return _complex_transform("ifft", a, None if n is None else (n,), (axis,), _check_norm(norm))


def fftn(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
         norm: str | None = None) -> Array:
    """The n-dimensional transform over ``axes`` (all by default, or the last ``len(s)``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.fftn(fnp.ones((2, 2))).real.tolist()
        [[4.0, 0.0], [0.0, 0.0]]
    """
    a = as_array(a)
    if not any_tracer(a):
        return _numpy_call("fftn", a, s, axes, norm)
    return _complex_transform("fft", a, s, axes, _check_norm(norm))


def ifftn(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str | None = None) -> Array:
    """The inverse of ``fftn``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.ifftn(fnp.ones((2, 2))).real.tolist()
        [[1.0, 0.0], [0.0, 0.0]]
    """
    a = as_array(a)
    if not any_tracer(a):
        return _numpy_call("ifftn", a, s, axes, norm)
    return _complex_transform("ifft", a, s, axes, _check_norm(norm))


def fft2(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
         norm: str | None = None) -> Array:
    """The two-dimensional transform over ``axes`` (the last two by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.fft2(fnp.ones((2, 2))).real.tolist()
        [[4.0, 0.0], [0.0, 0.0]]
    """
    return fftn(a, s, axes, norm)


def ifft2(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Array:
    """The inverse of ``fft2``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.ifft2(fnp.ones((2, 2))).real.tolist()
        [[1.0, 0.0], [0.0, 0.0]]
    """
    return ifftn(a, s, axes, norm)


# --- real transforms ---------------------------------------------------------------------------------


def _rfftn(a: Array, s: Sequence[int] | None, axes: Sequence[int] | None, norm: str) -> Array:
    a = _to_real(a)
    axes, sizes = _axes_and_sizes(a, s, axes)
    if not axes:
        raise ValueError("rfftn needs at least one axis")
    for ax, n in zip(axes, sizes):
        if n < 1:
            raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
        a = _resize(a, ax, n)
    return _fft.fft(a, "rfft", axes, None, norm)


def _irfftn(a: Array, s: Sequence[int] | None, axes: Sequence[int] | None, norm: str) -> Array:
    a = _to_complex(a)
    nd = len(a.shape)
    if axes is None:
        axes = tuple(range(nd - len(s), nd)) if s is not None else tuple(range(nd))
    axes = tuple(normalize_axis(ax, nd) for ax in axes)
    if not axes:
        raise ValueError("irfftn needs at least one axis")
    if s is None:
        s = tuple(a.shape[ax] for ax in axes[:-1]) + (2 * (a.shape[axes[-1]] - 1),)
    s = tuple(int(n) for n in s)
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    if s[-1] < 1:
        raise ValueError(f"Invalid number of FFT data points ({s[-1]}) specified.")
    for ax, n in zip(axes[:-1], s[:-1]):
        a = _resize(a, ax, n)
    a = _resize(a, axes[-1], s[-1] // 2 + 1)
    return _fft.fft(a, "irfft", axes, s[-1], norm)


def rfft(a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None) -> Array:
    """The transform of a real signal along ``axis``: its ``n // 2 + 1`` non-negative
    frequency terms.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.rfft(fnp.array([1.0, 1.0, 1.0, 1.0])).tolist()
        [(4+0j), 0j, 0j]
    """
    a = as_array(a)
    if not any_tracer(a):
        return _numpy_call("rfft", a, n, axis, norm)
    return _rfftn(a, None if n is None else (n,), (axis,), _check_norm(norm))


def irfft(a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None) -> Array:
    """The inverse of ``rfft``: a real signal of ``n`` points (``2 * (m - 1)`` by default)
    from its non-negative frequency terms.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.irfft(fnp.array([4.0, 0.0, 0.0])).tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    a = as_array(a)
    if not any_tracer(a):
        return _numpy_call("irfft", a, n, axis, norm)
    return _irfftn(a, None if n is None else (n,), (axis,), _check_norm(norm))


def rfftn(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str | None = None) -> Array:
    """The n-dimensional transform of a real array; the last axis keeps the non-negative
    frequencies.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.rfftn(fnp.ones((2, 2))).shape
        (2, 2)
    """
    a = as_array(a)
    if not any_tracer(a):
        return _numpy_call("rfftn", a, s, axes, norm)
    return _rfftn(a, s, axes, _check_norm(norm))


def irfftn(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
           norm: str | None = None) -> Array:
    """The inverse of ``rfftn``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.irfftn(fnp.fft.rfftn(fnp.ones((2, 2)))).tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """
    a = as_array(a)
    if not any_tracer(a):
        return _numpy_call("irfftn", a, s, axes, norm)
    return _irfftn(a, s, axes, _check_norm(norm))


def rfft2(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Array:
    """``rfftn`` over two axes (the last two by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.rfft2(fnp.ones((2, 4))).shape
        (2, 3)
    """
    return rfftn(a, s, axes, norm)


def irfft2(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Array:
    """The inverse of ``rfft2``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.irfft2(fnp.fft.rfft2(fnp.ones((2, 4)))).shape
        (2, 4)
    """
    return irfftn(a, s, axes, norm)


# --- frequencies and shifts ------------------------------------------------------------------------


def fftfreq(n: int, d: float = 1.0, *, dtype: DType | None = None, device: str | None = None) -> Array:
    """The sample frequencies of an ``n``-point transform with sample spacing ``d``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.fftfreq(4).tolist()
        [0.0, 0.25, -0.5, -0.25]
    """
    out = np.fft.fftfreq(n, d)  # host-data: made from no array (like= places it)
    return out if dtype is None else out.astype(dtype)


def rfftfreq(n: int, d: float = 1.0, *, dtype: DType | None = None, device: str | None = None) -> Array:
    """The sample frequencies of ``rfft`` (the non-negative ones).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.rfftfreq(4).tolist()
        [0.0, 0.25, 0.5]
    """
    out = np.fft.rfftfreq(n, d)  # host-data: made from no array (like= places it)
    return out if dtype is None else out.astype(dtype)


def _shift(x: ArrayLike, axes: int | Sequence[int] | None, sign: int) -> Array:
    x = as_array(x)
    nd = len(x.shape)
    if axes is None:
        axes = tuple(range(nd))
    elif isinstance(axes, (int, np.integer)):
        axes = (axes,)
    shifts = [sign * (x.shape[normalize_axis(ax, nd)] // 2) for ax in axes]
    return roll(x, shifts, axes) if axes else x


def fftshift(x: ArrayLike, axes: int | Sequence[int] | None = None) -> Array:
    """Move the zero frequency to the centre (rolls by half the length).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.fftshift(fnp.fft.fftfreq(4)).tolist()
        [-0.5, -0.25, 0.0, 0.25]
    """
    return _shift(x, axes, 1)


def ifftshift(x: ArrayLike, axes: int | Sequence[int] | None = None) -> Array:
    """The inverse of ``fftshift``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fft.ifftshift(fnp.fft.fftshift(fnp.fft.fftfreq(5))).tolist() == fnp.fft.fftfreq(5).tolist()
        True
    """
    return _shift(x, axes, -1)


_refuse_out_everywhere(globals(), np.fft, "fft.")
