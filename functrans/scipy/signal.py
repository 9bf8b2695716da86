"""``functrans.scipy.signal``: SciPy's convolutions and correlations, differentiable in both inputs.

A convolution is computed either directly, as a sum over the entries of the smaller input of
shifted slices of the larger one (exact, and the right choice for small kernels), or through
the FFT (``fnp.fft``), for large ones. Both are built from functrans.numpy, so derivatives of
every order in either input follow: the derivative of a convolution is a correlation, and
reverse mode turns each slice into a pad of its cotangent. ``correlate`` is the convolution
with the second input reversed and conjugated, as SciPy defines it.
"""
from __future__ import annotations

import math
from itertools import product
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.lax import Precision, canonicalize_precision
from functrans.numpy._util import operand
from functrans.typing import Array, ArrayLike

__all__ = ["choose_conv_method", "convolve", "convolve2d", "correlate", "correlate2d", "fftconvolve"]

_MODES = ("full", "same", "valid")
_METHODS = ("auto", "direct", "fft")
_BOUNDARIES = {"fill": "constant", "pad": "constant", "wrap": "wrap", "circular": "wrap",
               "symm": "symmetric", "symmetric": "symmetric"}
#: Above this many products per output entry ``method='auto'`` goes through the FFT.
_DIRECT_LIMIT = 64


def _check(in1: Array, in2: Array, mode: str, name: str) -> None:
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")
    if len(in1.shape) != len(in2.shape):
        raise ValueError(f"{name}: in1 and in2 must have the same number of dimensions, got "
                         f"shapes {in1.shape} and {in2.shape}")
    if mode == "valid" and not _fits(in1.shape, in2.shape) and not _fits(in2.shape, in1.shape):
        raise ValueError(f"{name}: for mode='valid' one input must be at least as large as the "
                         f"other in every dimension, got shapes {in1.shape} and {in2.shape}")


def _fits(small: tuple, big: tuple) -> bool:
    return all(s <= b for s, b in zip(small, big))


def _window(n1: int, n2: int, mode: str) -> tuple[int, int]:
    """(start, length) of the output inside the full convolution along one axis, as SciPy."""
    if mode == "full":
        return 0, n1 + n2 - 1
    if mode == "same":
        return (n2 - 1) // 2, n1
    return min(n1, n2) - 1, abs(n1 - n2) + 1


def _slide(x: Array, kernel: Array, windows: list[tuple[int, int]], pad_mode: Any,
           fillvalue: ArrayLike) -> Array:
    """The entries ``windows`` of the full convolution of ``x`` and ``kernel``, directly: ``x``
    padded (or cut) so that each output entry is a valid correlation with the reversed kernel,
    then one shifted slice of it per kernel entry, weighted and summed."""
    pads, cuts = [], []
    for (start, length), n, k in zip(windows, x.shape, kernel.shape):
        lo, hi = k - 1 - start, start + length - n
        pads.append((max(lo, 0), max(hi, 0)))
        cuts.append(slice(max(-lo, 0), n - max(-hi, 0)))
    x = x[tuple(cuts)]
    if any(p != (0, 0) for p in pads):
        kwargs = {"constant_values": fillvalue} if pad_mode == "constant" else {}
        x = fnp.pad(x, pads, mode=pad_mode, **kwargs)
    out_shape = tuple(length for _, length in windows)
    flipped = fnp.flip(kernel)
    count = math.prod(kernel.shape)
    if count == 0 or math.prod(out_shape) == 0:
        dtype = np.result_type(x.dtype, kernel.dtype)
        return fnp.zeros_like(x, dtype, shape=out_shape)
    shifted = [x[tuple(slice(j, j + o) for j, o in zip(offset, out_shape))]
               for offset in product(*(range(k) for k in kernel.shape))]
    if count == 1:
        return shifted[0] * fnp.reshape(flipped, ())
    return fnp.tensordot(fnp.reshape(flipped, (count,)), fnp.stack(shifted), axes=1)


def _direct(in1: Array, in2: Array, mode: str) -> Array:
    windows = [_window(n1, n2, mode) for n1, n2 in zip(in1.shape, in2.shape)]
    # The full convolution is symmetric in its inputs: slide the one with fewer entries.
    swap = (_fits(in1.shape, in2.shape) and in1.shape != in2.shape) if mode == "valid" \
        else math.prod(in2.shape) > math.prod(in1.shape)
    x, kernel = (in2, in1) if swap else (in1, in2)
    return _slide(x, kernel, windows, "constant", 0)


def _by_fft(in1: Array, in2: Array, mode: str) -> Array:
    full = tuple(n1 + n2 - 1 for n1, n2 in zip(in1.shape, in2.shape))
    if min(math.prod(in1.shape), math.prod(in2.shape)) == 0:
        return _direct(in1, in2, mode)
    axes = tuple(range(len(full)))
    complex_ = in1.dtype.kind == "c" or in2.dtype.kind == "c"
    if complex_:
        out = fnp.fft.ifftn(fnp.fft.fftn(in1, full, axes) * fnp.fft.fftn(in2, full, axes), full, axes)
    else:
        out = fnp.fft.irfftn(fnp.fft.rfftn(in1, full, axes) * fnp.fft.rfftn(in2, full, axes), full, axes)
    windows = [_window(n1, n2, mode) for n1, n2 in zip(in1.shape, in2.shape)]
    return out[tuple(slice(s, s + n) for s, n in windows)]


def _inexact_pair(a: Array, b: Array) -> tuple[Array, Array]:
    """Both inputs in their common inexact dtype (float64 for integers), for the FFT."""
    dtype = np.result_type(a.dtype, b.dtype)
    dtype = dtype if dtype.kind in "fc" else np.dtype(np.float64)
    return fnp.astype(a, dtype), fnp.astype(b, dtype)


def choose_conv_method(in1: ArrayLike, in2: ArrayLike, mode: str = "full", measure: bool = False) -> str:
    """The method ``convolve`` and ``correlate`` take with ``method='auto'``: ``'direct'`` when
    the smaller input has at most 64 entries or either input has an integer or boolean dtype
    (exact results), ``'fft'`` otherwise. ``measure=True`` (timing both) is not offered.

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> fss.choose_conv_method(np.ones(1000), np.ones(3))
        'direct'
    """
    if measure:
        raise NotImplementedError("choose_conv_method(measure=True) is not offered: functrans "
                                  "chooses by size; pass method='direct' or 'fft' to convolve")
    a, b = fnp.asarray(operand(in1)), fnp.asarray(operand(in2))
    if a.dtype.kind in "iub" or b.dtype.kind in "iub":
        return "direct"
    return "direct" if min(math.prod(a.shape), math.prod(b.shape)) <= _DIRECT_LIMIT else "fft"


def convolve(in1: ArrayLike, in2: ArrayLike, mode: str = "full", method: str = "auto", *,
             precision: Precision | str | tuple | None = None) -> Array:
    """The n-dimensional convolution of ``in1`` and ``in2`` (same number of dimensions).

    Args:
        in1, in2: the inputs; differentiable in both.
        mode: ``'full'`` (every overlap, shape ``n1 + n2 - 1``), ``'same'`` (the shape of
            ``in1``, centred on the full output) or ``'valid'`` (where the inputs overlap
            fully; one must be at least as large as the other in every dimension).
        method: ``'direct'`` (sums of shifted slices, exact for integers), ``'fft'`` or
            ``'auto'`` (see ``choose_conv_method``).
        precision: JAX's; checked, and changes nothing (NumPy computes in the inputs' dtype).

    Returns:
        The convolution, in the result dtype of the inputs (a float for ``method='fft'``).

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> fss.convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5])).tolist()
        [0.0, 1.0, 2.5, 4.0, 1.5]
    """
    if precision is not None:
        canonicalize_precision(precision)
    a, b = fnp.asarray(operand(in1)), fnp.asarray(operand(in2))
    _check(a, b, mode, "convolve")
    if method not in _METHODS:
        raise ValueError(f"convolve: method must be one of {_METHODS}, got {method!r}")
    if method == "auto":
        method = choose_conv_method(a, b, mode)
    if method == "fft":
        return _by_fft(*_inexact_pair(a, b), mode)
    if len(a.shape) == 0:
        return a * b
    return _direct(a, b, mode)


def _reverse_and_conj(x: Array) -> Array:
    x = fnp.flip(x) if len(x.shape) else x
    return fnp.conj(x) if x.dtype.kind == "c" else x


def correlate(in1: ArrayLike, in2: ArrayLike, mode: str = "full", method: str = "auto", *,
              precision: Precision | str | tuple | None = None) -> Array:
    """The n-dimensional cross-correlation ``z[k] = sum_l in1[l] * conj(in2[l - k])``: the
    convolution of ``in1`` with ``in2`` reversed and conjugated. Arguments as ``convolve``.

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> fss.correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), mode="same").tolist()
        [2.0, 3.5, 3.0]
    """
    if precision is not None:
        canonicalize_precision(precision)
    a, b = fnp.asarray(operand(in1)), fnp.asarray(operand(in2))
    _check(a, b, mode, "correlate")
    if mode == "valid" and _fits(a.shape, b.shape) and a.shape != b.shape:
        # SciPy swaps the inputs, which reverses and conjugates the result
        return _reverse_and_conj(convolve(b, _reverse_and_conj(a), mode, method))
    return convolve(a, _reverse_and_conj(b), mode, method)


def fftconvolve(in1: ArrayLike, in2: ArrayLike, mode: str = "full", axes: None = None) -> Array:
    """``convolve(in1, in2, mode, method='fft')``: the convolution through the FFT, fast for
    large inputs. ``axes`` (a convolution over some axes only) is not offered: leave it None.

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> [round(v, 12) for v in fss.fftconvolve(np.array([1.0, 2.0]), np.array([1.0, 1.0])).tolist()]
        [1.0, 3.0, 2.0]
    """
    if axes is not None:
        raise NotImplementedError("fftconvolve(axes=...) is not offered: convolve over every axis "
                                  "(axes=None), or vmap the convolution over the other axes")
    return convolve(in1, in2, mode, method="fft")


def _two_d(in1: ArrayLike, in2: ArrayLike, mode: str, boundary: str, fillvalue: ArrayLike,
           name: str, precision: Precision | str | tuple | None) -> tuple[Array, Array]:
    if precision is not None:
        canonicalize_precision(precision)
    a, b = fnp.asarray(operand(in1)), fnp.asarray(operand(in2))
    if len(a.shape) != 2 or len(b.shape) != 2:
        raise ValueError(f"{name}: in1 and in2 must be 2-D arrays, got shapes {a.shape} and {b.shape}")
    _check(a, b, mode, name)
    if boundary not in _BOUNDARIES:
        raise ValueError(f"{name}: boundary must be 'fill', 'wrap' or 'symm', got {boundary!r}")
    return a, b


def convolve2d(in1: ArrayLike, in2: ArrayLike, mode: str = "full", boundary: str = "fill",
               fillvalue: ArrayLike = 0, *, precision: Precision | str | tuple | None = None) -> Array:
    """The 2-D convolution of ``in1`` and ``in2``, with ``in1`` extended past its edges by
    ``boundary``: ``'fill'`` (``fillvalue``), ``'wrap'`` (periodic) or ``'symm'`` (mirrored,
    the edge repeated). ``mode`` and ``precision`` as ``convolve``. Differentiable in both inputs.

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> fss.convolve2d(np.eye(2), np.ones((1, 2))).tolist()
        [[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]
    """
    a, b = _two_d(in1, in2, mode, boundary, fillvalue, "convolve2d", precision)
    if mode == "valid" and _fits(a.shape, b.shape) and a.shape != b.shape:
        a, b = b, a
    windows = [_window(n1, n2, mode) for n1, n2 in zip(a.shape, b.shape)]
    return _slide(a, b, windows, _BOUNDARIES[boundary], fillvalue)


def correlate2d(in1: ArrayLike, in2: ArrayLike, mode: str = "full", boundary: str = "fill",
                fillvalue: ArrayLike = 0, *, precision: Precision | str | tuple | None = None) -> Array:
    """The 2-D cross-correlation of ``in1`` and ``in2``: ``convolve2d`` with ``in2`` reversed and
    conjugated. Arguments as ``convolve2d``.

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> fss.correlate2d(np.eye(2), np.ones((1, 2))).tolist()
        [[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]
    """
    a, b = _two_d(in1, in2, mode, boundary, fillvalue, "correlate2d", precision)
    if mode == "valid" and _fits(a.shape, b.shape) and a.shape != b.shape:
        # SciPy swaps the inputs and reverses the result (without conjugating it)
        return fnp.flip(convolve2d(b, _reverse_and_conj(a), mode, boundary, fillvalue))
    windows = [_window(n1, n2, mode) for n1, n2 in zip(a.shape, b.shape)]
    if mode == "same":  # SciPy centres a 2-D correlation on the other side of an even kernel
        windows = [(n2 // 2, n1) for n1, n2 in zip(a.shape, b.shape)]
    return _slide(a, _reverse_and_conj(b), windows, _BOUNDARIES[boundary], fillvalue)
