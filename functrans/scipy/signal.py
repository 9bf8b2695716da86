"""``functrans.scipy.signal``: SciPy's convolutions and correlations, differentiable in both
inputs, and its spectral analysis (``stft``, ``istft``, ``welch``, ``csd``, ``detrend``).

A convolution is computed either directly, as a sum over the entries of the smaller input of
shifted slices of the larger one (exact, and the right choice for small kernels), or through
the FFT (``fnp.fft``), for large ones. Both are built from functrans.numpy, so derivatives of
every order in either input follow: the derivative of a convolution is a correlation, and
reverse mode turns each slice into a pad of its cotangent. ``correlate`` is the convolution
with the second input reversed and conjugated, as SciPy defines it.

The spectral functions cut the signal into overlapping segments (one gather of a fixed index
table), window them and take their FFTs, all through functrans.numpy: derivatives in the
signal (and in ``fs``) follow as for any other program. Windows named by a string are made on
the host by NumPy (they are constants of the call) and placed where the signal lives.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.lax import Precision, canonicalize_precision
from functrans.numpy._util import operand, placed_like
from functrans.typing import Array, ArrayLike

__all__ = ["choose_conv_method", "convolve", "convolve2d", "correlate", "correlate2d", "csd", "detrend",
           "fftconvolve", "istft", "stft", "welch"]

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


def fftconvolve(in1: ArrayLike, in2: ArrayLike, mode: str = "full", axes: int | Sequence[int] | None = None) -> Array:
    """``convolve(in1, in2, mode, method='fft')``: the convolution through the FFT, fast for
    large inputs. With ``axes``, only along those axes, as SciPy's: the other axes broadcast
    (equal lengths, or one of them 1), and so does a listed axis where either input has length
    1; ``mode`` then acts on the convolved axes (``'same'``: ``in1``'s shape). Differentiable
    in both inputs.

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> [round(v, 12) for v in fss.fftconvolve(np.array([1.0, 2.0]), np.array([1.0, 1.0])).tolist()]
        [1.0, 3.0, 2.0]
        >>> fss.fftconvolve(np.ones((2, 3)), np.ones((2, 2)), axes=1).round(12).tolist()
        [[1.0, 2.0, 2.0, 1.0], [1.0, 2.0, 2.0, 1.0]]
    """
    if axes is None:
        return convolve(in1, in2, mode, method="fft")
    a, b = _inexact_pair(fnp.asarray(operand(in1)), fnp.asarray(operand(in2)))
    _check(a, b, mode if mode != "valid" else "full", "fftconvolve")
    ndim = len(a.shape)
    listed = [axes] if isinstance(axes, int) else list(axes)
    if not listed:
        raise ValueError("fftconvolve: when given, axes cannot be empty")
    if any(not -ndim <= ax < ndim for ax in listed):
        raise ValueError(f"fftconvolve: axes {axes} out of bounds for inputs of {ndim} dimensions")
    listed = [ax % ndim for ax in listed]
    if len(set(listed)) != len(listed):
        raise ValueError(f"fftconvolve: axes must be unique, got {axes}")
    # SciPy's rules: a listed axis where an input has length 1 broadcasts instead
    conv = sorted(ax for ax in listed if a.shape[ax] != 1 and b.shape[ax] != 1)
    for ax in range(ndim):
        if ax not in conv and a.shape[ax] != b.shape[ax] and 1 not in (a.shape[ax], b.shape[ax]):
            raise ValueError(f"fftconvolve: shapes {a.shape} and {b.shape} do not broadcast along axis {ax}, "
                             "which is not convolved")
    if mode == "valid" and not all(a.shape[ax] >= b.shape[ax] for ax in conv):
        if not all(a.shape[ax] <= b.shape[ax] for ax in conv):
            raise ValueError(f"fftconvolve: for mode='valid' one input must be at least as large as the other "
                             f"along every convolved axis, got shapes {a.shape} and {b.shape}")
        a, b = b, a  # the convolution is symmetric
    if math.prod(a.shape) == 0 or math.prod(b.shape) == 0:
        return fnp.zeros((0,), dtype=a.dtype, like=a)
    if conv:
        sizes = [a.shape[ax] + b.shape[ax] - 1 for ax in conv]
        if a.dtype.kind == "c":
            out = fnp.fft.ifftn(fnp.fft.fftn(a, sizes, conv) * fnp.fft.fftn(b, sizes, conv), sizes, conv)
        else:
            out = fnp.fft.irfftn(fnp.fft.rfftn(a, sizes, conv) * fnp.fft.rfftn(b, sizes, conv), sizes, conv)
    else:
        out = a * b
    if mode == "full":
        return out
    target = a.shape if mode == "same" else tuple(
        a.shape[ax] - b.shape[ax] + 1 if ax in conv else out.shape[ax] for ax in range(ndim))
    starts = [(have - want) // 2 for have, want in zip(out.shape, target)]
    return out[tuple(slice(start, start + want) for start, want in zip(starts, target))]


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


# -- spectral analysis ------------------------------------------------------------------------------

def _cosine_sum(m: int, coefficients: tuple[float, ...]) -> np.ndarray:
    """The symmetric window ``sum_k (-1)**k a_k cos(2 pi k n / (m - 1))`` of length ``m``."""
    phase = np.linspace(0.0, 2.0 * np.pi, m)  # host-data: a window is a constant of the call
    return sum((-1) ** k * a * np.cos(k * phase) for k, a in enumerate(coefficients))  # host-data: window


def _triangle(m: int) -> np.ndarray:
    n = np.arange(1, (m + 1) // 2 + 1)  # host-data: a window is a constant of the call
    if m % 2 == 0:
        half = (2 * n - 1.0) / m
        return np.concatenate([half, half[::-1]])  # host-data: as above
    half = 2 * n / (m + 1.0)
    return np.concatenate([half, half[-2::-1]])  # host-data: as above


def _kaiser(m: int, beta: float) -> np.ndarray:
    edge = np.maximum(1 - np.linspace(-1.0, 1.0, m) ** 2, 0)  # host-data: a window
    return np.i0(beta * np.sqrt(edge)) / np.i0(beta)  # host-data: a window


def _tukey(m: int, alpha: float) -> np.ndarray:
    if alpha <= 0:
        return np.ones(m)  # host-data: a window is a constant of the call
    if alpha >= 1:
        return _cosine_sum(m, (0.5, 0.5))
    n = np.arange(m)  # host-data: as above
    width = int(np.floor(alpha * (m - 1) / 2.0))  # host-data: a window's shape
    ramp = 0.5 * (1 + np.cos(np.pi * (-1 + 2.0 * n[:width + 1] / alpha / (m - 1))))  # host-data: a window
    tail_phase = np.pi * (-2.0 / alpha + 1 + 2.0 * n[m - width - 1:] / alpha / (m - 1))
    tail = 0.5 * (1 + np.cos(tail_phase))  # host-data: a window
    return np.concatenate([ramp, np.ones(m - 2 * width - 2), tail])  # host-data: as above


_WINDOWS: dict[str, Callable[..., np.ndarray]] = {
    "hann": lambda m: _cosine_sum(m, (0.5, 0.5)),
    "hamming": lambda m: _cosine_sum(m, (0.54, 0.46)),
    "blackman": lambda m: _cosine_sum(m, (0.42, 0.5, 0.08)),
    "bartlett": lambda m: 1.0 - np.abs(np.linspace(-1.0, 1.0, m)),  # host-data: a constant window
    "triang": _triangle,
    "boxcar": np.ones,
    "tukey": _tukey,
    "kaiser": _kaiser,
    "gaussian": lambda m, std: np.exp(-0.5 * ((np.arange(m) - (m - 1) / 2.0) / std) ** 2),  # host-data: as above
}
_ALIASES = {"hann_periodic": "hann", "hanning": "hann", "han": "hann", "ones": "boxcar", "rect": "boxcar",
            "rectangular": "boxcar", "box": "boxcar", "triangle": "triang", "bart": "bartlett",
            "hamm": "hamming", "black": "blackman", "gauss": "gaussian", "ksr": "kaiser", "tuk": "tukey"}


def _named_window(window: str | tuple, m: int) -> np.ndarray:
    """SciPy's ``get_window(window, m)``: the periodic window (for spectral analysis) of one of
    the names above, a tuple ``(name, parameter)`` for the windows that take one."""
    name, *params = (window,) if isinstance(window, str) else window
    key = _ALIASES.get(name, name) if isinstance(name, str) else None
    if key not in _WINDOWS:
        raise ValueError(f"window {window!r} is not offered: name one of {sorted(_WINDOWS)} (tukey, kaiser and "
                         "gaussian as a tuple with their parameter, e.g. ('kaiser', 8.0)), or pass the "
                         "window as a 1-D array, e.g. scipy.signal.get_window(...)")
    wants = 1 if key in ("tukey", "kaiser", "gaussian") else 0
    if key == "tukey" and not params:
        params = [0.5]
    if len(params) != wants:
        raise ValueError(f"window {window!r}: {key} takes {wants} parameter(s), got {len(params)}")
    if m <= 1:
        return np.ones(max(m, 0))  # host-data: a window is a constant of the call
    return np.asarray(_WINDOWS[key](m + 1, *params)[:m], np.float64)  # host-data: periodic: one longer, cut


def _window_and_length(window: Any, nperseg: int | None, input_length: int | None, dtype: np.dtype,
                       like: Any, default: int | None) -> tuple[Array, np.ndarray | None, int]:
    """The window (placed like the signal, in its real dtype; and its host copy when it was
    named) and the segment length, as SciPy's spectral functions choose them. ``input_length``
    None: no signal to fit in (``istft``, whose segment length is known)."""
    if isinstance(window, (str, tuple)):
        n = default if nperseg is None else _positive_int(nperseg, "nperseg")
        if n is None:
            n = 256
        if input_length is not None and n > input_length:
            warnings.warn(f"nperseg = {n} is greater than the input length {input_length}, using "
                          f"nperseg = {input_length}", stacklevel=3)
            n = input_length
        host = _named_window(window, n).astype(dtype)
        return placed_like(host, like), host, n
    win = fnp.asarray(operand(window))
    if len(win.shape) != 1:
        raise ValueError(f"window must be 1-D, got shape {win.shape}")
    if input_length is not None and input_length < win.shape[0]:
        raise ValueError(f"window (length {win.shape[0]}) is longer than the input signal ({input_length})")
    if nperseg is not None and int(nperseg) != win.shape[0]:
        raise ValueError(f"nperseg={nperseg} differs from the length of the window ({win.shape[0]}): "
                         f"pass nperseg={win.shape[0]} (or None, in welch and csd) with an array window")
    win = fnp.astype(win, dtype) if win.dtype.kind != "c" else win
    return win, None, win.shape[0]


def _window_sums(win: Array, host: np.ndarray | None) -> tuple[Any, Any]:
    """``(sum |w|^2, sum w)``: Python numbers for a named window (weakly typed, so that a
    float32 signal stays float32), arrays for an array window (differentiable)."""
    if host is not None:
        return float(np.sum(host * host)), float(np.sum(host))  # host-data: the window's host copy
    return fnp.sum(win * fnp.conj(win)), fnp.sum(win)


def _positive_int(n: Any, name: str) -> int:
    value = int(n)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return value


def _inexact(x: Array) -> Array:
    return x if x.dtype.kind in "fc" else fnp.astype(x, np.float64)


def _real_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float32) if dtype in (np.float32, np.complex64) else np.dtype(np.float64)


def _odd_extension(x: Array, n: int) -> Array:
    """``x`` extended by ``n`` points at both ends of its last axis, point-symmetric about the ends."""
    if n < 1:
        return x
    if n > x.shape[-1] - 1:
        raise ValueError(f"boundary='odd' extends by nperseg // 2 = {n} points, which needs a signal of at "
                         f"least {n + 1} points, got {x.shape[-1]}")
    left = 2 * x[..., :1] - fnp.flip(x[..., 1:n + 1], axis=-1)
    right = 2 * x[..., -1:] - fnp.flip(x[..., -n - 1:-1], axis=-1)
    return fnp.concatenate([left, x, right], axis=-1)


def _extend(x: Array, boundary: str | None, n: int) -> Array:
    if boundary is None:
        return x
    if boundary == "odd":
        return _odd_extension(x, n)
    widths = [(0, 0)] * (len(x.shape) - 1) + [(n, n)]
    mode: Any = {"even": "reflect", "constant": "edge", "zeros": "constant"}[boundary]
    return fnp.pad(x, widths, mode=mode)


def _detrend_function(detrend_type: Any, axis: int) -> Callable[[Array], Array]:
    if callable(detrend_type):
        if axis == -1:
            return detrend_type
        # SciPy hands a detrending function the segments with their time axis where ``axis`` says
        return lambda d: fnp.moveaxis(detrend_type(fnp.moveaxis(d, -1, axis)), axis, -1)
    if isinstance(detrend_type, str):
        return lambda d: detrend(d, axis=-1, type=detrend_type)
    if detrend_type is False or detrend_type is None:
        return lambda d: d
    raise ValueError(f"detrend must be 'constant', 'linear', False or a function, got {detrend_type!r}")


def _segment_ffts(x: Array, win: Array, detrend_func: Callable[[Array], Array], nperseg: int, noverlap: int,
                  nfft: int, onesided: bool) -> Array:
    """The FFTs (last axis) of the windowed, detrended segments (second to last axis) of ``x``."""
    step = nperseg - noverlap
    count = (x.shape[-1] - nperseg) // step + 1
    index = np.arange(count)[:, None] * step + np.arange(nperseg)  # host-data: an index table
    segments = detrend_func(x[..., placed_like(index, x)])
    segments = win * segments
    return fnp.fft.rfft(segments, n=nfft) if onesided else fnp.fft.fft(segments, n=nfft)


def _spectral(x: ArrayLike, y: ArrayLike | None, fs: ArrayLike, window: Any, nperseg: int | None,
              noverlap: int | None, nfft: int | None, detrend_type: Any, return_onesided: bool, scaling: str,
              axis: int, mode: str, boundary: str | None, padded: bool, name: str,
              default_nperseg: int | None = None) -> tuple[Array, Array, Array]:
    """SciPy's ``_spectral_helper``: frequencies, segment times and the segments' spectra
    (``mode='stft'``) or (cross) periodograms (``mode='psd'``), frequency at ``axis``,
    segments last."""
    if boundary not in (None, "even", "odd", "constant", "zeros"):
        raise ValueError(f"{name}: boundary must be one of 'even', 'odd', 'constant', 'zeros' or None, "
                         f"got {boundary!r}")
    if scaling not in ("density", "spectrum"):
        raise ValueError(f"{name}: scaling must be 'density' or 'spectrum', got {scaling!r}")
    xa = _inexact(fnp.asarray(operand(x)))
    ya = None if y is None else _inexact(fnp.asarray(operand(y)))
    ndim = len(xa.shape)
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{name}: axis {axis} is out of bounds for an input of {ndim} dimensions")
    axis = axis % max(ndim, 1)
    if ya is not None:
        dtype = np.result_type(xa.dtype, ya.dtype)
        xa, ya = fnp.astype(xa, dtype), fnp.astype(ya, dtype)
        if len(ya.shape) != ndim:
            raise ValueError(f"{name}: x and y must have the same number of dimensions, got shapes "
                             f"{xa.shape} and {ya.shape}")
        outer = [s for i, s in enumerate(xa.shape) if i != axis], [s for i, s in enumerate(ya.shape) if i != axis]
        try:
            np.broadcast_shapes(tuple(outer[0]), tuple(outer[1]))
        except ValueError:
            raise ValueError(f"{name}: x and y (shapes {xa.shape} and {ya.shape}) do not broadcast outside "
                             f"axis {axis}") from None
    real = _real_dtype(xa.dtype)
    complex_dtype = np.result_type(real, np.complex64)
    if len(xa.shape) == 0:
        xa = fnp.reshape(xa, (1,))
    xa = fnp.moveaxis(xa, axis, -1)
    if xa.size == 0 or (ya is not None and ya.size == 0):  # SciPy's answer: empty arrays of the input's shape
        n = xa.shape[-1] if ya is None else min(xa.shape[-1], ya.shape[-1])
        outer = xa.shape[:-1] if ya is None else np.broadcast_shapes(xa.shape[:-1], ya.shape[:-1])
        shape = tuple(np.insert(np.array(outer, dtype=int), axis, n))  # host-metadata: a shape
        empty = fnp.zeros(shape, dtype=real, like=xa)
        return empty, empty, fnp.astype(empty, complex_dtype)
    if ya is not None:
        ya = fnp.moveaxis(ya, axis, -1)
        if xa.shape[-1] != ya.shape[-1]:  # the shorter is padded with zeros
            n = max(xa.shape[-1], ya.shape[-1])
            xa, ya = (fnp.pad(a, [(0, 0)] * (len(a.shape) - 1) + [(0, n - a.shape[-1])]) for a in (xa, ya))
    win, host_win, nperseg = _window_and_length(window, nperseg, xa.shape[-1], real, xa, default_nperseg)
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    nfft = nperseg if nfft is None else int(nfft)
    if nfft < nperseg:
        raise ValueError(f"{name}: nfft ({nfft}) must be at least nperseg ({nperseg})")
    if noverlap >= nperseg:  # a negative overlap leaves gaps between the segments, as SciPy's
        raise ValueError(f"{name}: noverlap ({noverlap}) must be less than nperseg ({nperseg})")
    step = nperseg - noverlap
    signals = [xa] if ya is None else [xa, ya]
    signals = [_extend(s, boundary, nperseg // 2) for s in signals]
    if padded:
        extra = (-(signals[0].shape[-1] - nperseg) % step) % nperseg
        signals = [fnp.pad(s, [(0, 0)] * (len(s.shape) - 1) + [(0, extra)]) for s in signals]
    length = signals[0].shape[-1]

    squares, total = _window_sums(win, host_win)
    scale: Any = 1.0 / (fs * squares) if scaling == "density" else 1.0 / (total * total)
    if mode == "stft":
        scale = fnp.sqrt(scale) if hasattr(scale, "dtype") else math.sqrt(scale)
    onesided = return_onesided
    if onesided and any(s.dtype.kind == "c" for s in signals) or (onesided and win.dtype.kind == "c"):
        warnings.warn(f"{name}: the input is complex, switching to return_onesided=False", stacklevel=3)
        onesided = False
    grid = np.fft.rfftfreq(nfft) if onesided else np.fft.fftfreq(nfft)  # host-data: the frequency grid
    freqs = placed_like(grid.astype(real), xa) * fs
    detrend_func = _detrend_function(detrend_type, axis)
    spectra = [_segment_ffts(s, win, detrend_func, nperseg, noverlap, nfft, onesided) for s in signals]
    if mode == "stft":
        result = spectra[0]
    else:
        result = fnp.conj(spectra[0]) * spectra[-1]
    result = result * scale
    if onesided and mode == "psd":
        doubled = np.full(result.shape[-1], 2.0, real)  # host-data: a constant factor per frequency
        doubled[0] = 1.0
        if nfft % 2 == 0:
            doubled[-1] = 1.0
        result = result * placed_like(doubled, xa)
    centres = np.arange(nperseg / 2, length - nperseg / 2 + 1, step)  # host-data: segment times
    if boundary is not None:
        centres = centres - nperseg / 2
    times = placed_like(centres.astype(real), xa) / fs
    result = fnp.astype(result, complex_dtype)
    if ya is None and mode != "stft":
        result = fnp.real(result)
    return freqs, times, fnp.moveaxis(result, -1, axis)


def _fs_check(fs: ArrayLike, name: str) -> ArrayLike:
    fs = operand(fs)
    if isinstance(fs, (int, float)) and not fs > 0:
        raise ValueError(f"{name}: fs must be positive, got {fs!r}")
    return float(fs) if isinstance(fs, int) else fs


def stft(x: ArrayLike, fs: ArrayLike = 1.0, window: str | tuple | ArrayLike = "hann", nperseg: int = 256,
         noverlap: int | None = None, nfft: int | None = None, detrend: Any = False, return_onesided: bool = True,
         boundary: str | None = "zeros", padded: bool = True, axis: int = -1) -> tuple[Array, Array, Array]:
    """The short-time Fourier transform: the FFTs of overlapping windowed segments of ``x``.

    Args:
        x: the signal (real or complex), differentiable.
        fs: the sampling frequency.
        window: a window name (``'hann'``, ``'hamming'``, ``'blackman'``, ``'bartlett'``,
            ``'triang'``, ``'boxcar'``; ``('tukey', alpha)``, ``('kaiser', beta)``,
            ``('gaussian', std)``), made periodic as SciPy's ``get_window``, or a 1-D array.
        nperseg: segment length (the input length if shorter; the window's length for an array).
        noverlap: points shared by neighbouring segments (default ``nperseg // 2``).
        nfft: FFT length, at least ``nperseg`` (default ``nperseg``).
        detrend: ``False``, ``'constant'``, ``'linear'`` or a function, applied to each segment.
        return_onesided: only the non-negative frequencies of a real signal.
        boundary: how ``x`` is extended by ``nperseg // 2`` points at each end: ``'zeros'``,
            ``'even'``, ``'odd'``, ``'constant'`` or None.
        padded: zero-pad the end so the segments cover the whole signal.
        axis: the time axis of ``x``.

    Returns:
        ``(f, t, Zxx)``: the frequencies, the segment times, and the transform, whose axis
        ``axis`` is the frequency and whose last axis is the segment.

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> f, t, Z = fss.stft(np.ones(8), nperseg=4)
        >>> Z.shape, f.tolist(), t.tolist()
        ((3, 5), [0.0, 0.25, 0.5], [0.0, 2.0, 4.0, 6.0, 8.0])
    """
    return _spectral(x, None, _fs_check(fs, "stft"), window, nperseg, noverlap, nfft, detrend, return_onesided,
                     "spectrum", axis, "stft", boundary, padded, "stft")


def csd(x: ArrayLike, y: ArrayLike | None, fs: ArrayLike = 1.0, window: str | tuple | ArrayLike = "hann",
        nperseg: int | None = None, noverlap: int | None = None, nfft: int | None = None, detrend: Any = "constant",
        return_onesided: bool = True, scaling: str = "density", axis: int = -1,
        average: str = "mean") -> tuple[Array, Array]:
    """The cross power spectral density of ``x`` and ``y`` by Welch's method: the average of
    ``conj(X) * Y`` over overlapping windowed segments. ``y=None`` is ``x``'s own (``welch``).

    Args:
        x, y: the signals (the shorter zero-padded to the longer along ``axis``), differentiable.
        fs, window, noverlap, nfft, return_onesided, axis: as ``stft``.
        nperseg: segment length, default 256 (the input length if shorter).
        detrend: as ``stft``, default ``'constant'``.
        scaling: ``'density'`` (per unit frequency, V**2/Hz) or ``'spectrum'`` (V**2).
        average: ``'mean'`` or ``'median'`` (bias-corrected) over the segments.

    Returns:
        ``(f, Pxy)``: frequencies and the complex cross spectral density (frequency at ``axis``).

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> f, p = fss.csd(np.arange(8.0), np.ones(8), nperseg=4)
        >>> p.shape, bool(abs(p).max() < 1e-12)
        ((3,), True)
    """
    if average not in ("mean", "median"):
        raise ValueError(f"csd: average must be 'mean' or 'median', got {average!r}")
    freqs, _, pxy = _spectral(x, y, _fs_check(fs, "csd"), window, nperseg, noverlap, nfft, detrend,
                              return_onesided, scaling, axis, "psd", None, False, "csd", 256)
    if y is not None and pxy.dtype.kind != "c":
        pxy = fnp.astype(pxy, np.result_type(pxy.dtype, np.complex64))
    if len(pxy.shape) >= 2 and pxy.size > 0:
        count = pxy.shape[-1]
        if count == 1:
            return freqs, fnp.reshape(pxy, pxy.shape[:-1])
        if average == "mean":
            return freqs, fnp.mean(pxy, axis=-1)
        even = np.arange(2.0, count, 2)  # host-data: the median's bias, a constant of the count
        bias = 1 + float(np.sum(1.0 / (even + 1) - 1.0 / even))  # host-data: the median's bias
        if pxy.dtype.kind == "c":
            median = fnp.median(fnp.real(pxy), axis=-1) + 1j * fnp.median(fnp.imag(pxy), axis=-1)
        else:
            median = fnp.median(pxy, axis=-1)
        return freqs, median / bias
    return freqs, pxy


def welch(x: ArrayLike, fs: ArrayLike = 1.0, window: str | tuple | ArrayLike = "hann", nperseg: int | None = None,
          noverlap: int | None = None, nfft: int | None = None, detrend: Any = "constant",
          return_onesided: bool = True, scaling: str = "density", axis: int = -1,
          average: str = "mean") -> tuple[Array, Array]:
    """The power spectral density of ``x`` by Welch's method: the average periodogram of
    overlapping windowed segments. Arguments as ``csd``; differentiable in ``x``.

    Returns:
        ``(f, Pxx)``: frequencies and the (real) power spectral density, frequency at ``axis``.

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> f, p = fss.welch(np.cos(np.pi * np.arange(16) / 2), nperseg=8)
        >>> f.tolist(), int(np.argmax(p))
        ([0.0, 0.125, 0.25, 0.375, 0.5], 2)
    """
    freqs, pxx = csd(x, None, fs, window, nperseg, noverlap, nfft, detrend, return_onesided, scaling, axis, average)
    return freqs, fnp.real(pxx) if pxx.dtype.kind == "c" else pxx


def _overlap_add(frames: Array, step: int) -> Array:
    """``frames`` (..., count, length) summed into one signal, frame ``k`` starting at ``k * step``:
    each frame is cut into chunks of ``step`` points, and chunk ``j`` of frame ``k`` lands on
    block ``k + j`` of the output."""
    *batch, count, length = frames.shape
    chunks = -(-length // step)
    widths = [(0, 0)] * len(batch)
    frames = fnp.pad(frames, [*widths, (0, 0), (0, chunks * step - length)])
    frames = fnp.reshape(frames, (*batch, count, chunks, step))
    blocks = sum(fnp.pad(frames[..., j, :], [*widths, (j, chunks - 1 - j), (0, 0)]) for j in range(chunks))
    out = fnp.reshape(blocks, (*batch, (count + chunks - 1) * step))
    return out[..., :(count - 1) * step + length]


def istft(Zxx: ArrayLike, fs: ArrayLike = 1.0, window: str | tuple | ArrayLike = "hann", nperseg: int | None = None,
          noverlap: int | None = None, nfft: int | None = None, input_onesided: bool = True, boundary: bool = True,
          time_axis: int = -1, freq_axis: int = -2) -> tuple[Array, Array]:
    """The inverse of ``stft``: the segments' inverse FFTs, windowed again and overlap-added,
    divided by the overlap-added squared window. Differentiable in ``Zxx``.

    Args:
        Zxx: the transform, at least 2-D.
        fs, window, noverlap: as ``stft``.
        nperseg: segment length (default from the frequency axis: ``2 * (n - 1)`` one-sided).
        nfft: FFT length (default: the segment length a one-sided ``Zxx`` implies).
        input_onesided: whether ``Zxx`` holds the non-negative frequencies of a real signal.
        boundary: whether the ``stft`` extended the signal (its ends are then cut off).
        time_axis, freq_axis: the axes of ``Zxx`` that hold segments and frequencies.

    Returns:
        ``(t, x)``: the sample times and the signal (real for a one-sided input), time last.

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> x = np.sin(np.arange(16.0))
        >>> _, _, Z = fss.stft(x, nperseg=8)
        >>> t, y = fss.istft(Z, nperseg=8)
        >>> bool(np.allclose(y[:16], x))
        True
    """
    z = fnp.asarray(operand(Zxx))
    ndim = len(z.shape)
    if ndim < 2:
        raise ValueError(f"istft: Zxx must be at least 2-D (frequencies and segments), got shape {z.shape}")
    if not (-ndim <= freq_axis < ndim and -ndim <= time_axis < ndim):
        raise ValueError(f"istft: time_axis {time_axis} or freq_axis {freq_axis} out of bounds for {ndim} dimensions")
    freq_axis, time_axis = freq_axis % ndim, time_axis % ndim
    if freq_axis == time_axis:
        raise ValueError("istft: time_axis and freq_axis must differ")
    z = z if z.dtype.kind == "c" else fnp.astype(z, np.result_type(_inexact(z).dtype, np.complex64))
    real = _real_dtype(z.dtype)
    count = z.shape[time_axis]
    n_default = 2 * (z.shape[freq_axis] - 1) if input_onesided else z.shape[freq_axis]
    nperseg = n_default if nperseg is None else _positive_int(nperseg, "nperseg")
    if nfft is None:
        nfft = nperseg if input_onesided and nperseg == n_default + 1 else n_default
    elif int(nfft) < nperseg:
        raise ValueError(f"istft: nfft ({nfft}) must be at least nperseg ({nperseg})")
    nfft = int(nfft)
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    if noverlap >= nperseg:
        raise ValueError(f"istft: noverlap ({noverlap}) must be less than nperseg ({nperseg})")
    step = nperseg - noverlap
    outer = [i for i in range(ndim) if i not in (freq_axis, time_axis)]
    z = fnp.transpose(z, (*outer, time_axis, freq_axis))  # segments, then frequencies
    pieces = (fnp.fft.irfft(z, n=nfft) if input_onesided else fnp.fft.ifft(z, n=nfft))[..., :nperseg]
    win, host, _ = _window_and_length(window, nperseg, None, real, z, None)
    total = _window_sums(win, host)[1]
    x = _overlap_add(pieces * (win * total), step)
    half = nperseg // 2 if boundary else 0
    if boundary:
        x = x[..., half:x.shape[-1] - half]
    if host is not None:
        norm_host = np.zeros((count - 1) * step + nperseg, real)  # host-data: the window's overlap sum
        for k in range(count):
            norm_host[k * step:k * step + nperseg] += host * host
        norm_host = norm_host[half:norm_host.shape[0] - half]
        if not np.all(norm_host > 1e-10):  # host-data: the window's host copy
            warnings.warn("istft: the window does not satisfy the NOLA condition, the STFT may not be invertible"
                          + ("" if boundary else " (possibly because boundary=False)"), stacklevel=2)
        norm: Any = placed_like(norm_host, z)
    else:
        norm = _overlap_add(fnp.broadcast_to(win * win, (count, nperseg)), step)
        norm = norm[..., half:norm.shape[-1] - half]
    x = x / fnp.where(norm > 1e-10, norm, 1.0)
    if len(x.shape) > 1 and time_axis != ndim - 1:
        x = fnp.moveaxis(x, -1, time_axis - 1 if freq_axis < time_axis else time_axis)
    times = placed_like(np.arange(x.shape[0], dtype=real), z) / fs  # host-data: sample indices
    return times, x


def detrend(data: ArrayLike, axis: int = -1, type: str = "linear", bp: int | Sequence[int] | np.ndarray = 0,
            overwrite_data: None = None) -> Array:
    """``data`` less its least-squares line (``type='linear'``, piecewise between the
    breakpoints ``bp``) or its mean (``'constant'``) along ``axis``. Differentiable in ``data``.

    Example:
        >>> import functrans.scipy.signal as fss, numpy as np
        >>> fss.detrend(np.array([1.0, 3.0, 2.0, 4.0])).round(12).tolist()
        [-0.3, 0.9, -0.9, 0.3]
    """
    if overwrite_data is not None:
        raise NotImplementedError("detrend(overwrite_data=...) is not offered: functrans never writes into its "
                                  "inputs; leave it None")
    kind = {"constant": "constant", "c": "constant", "linear": "linear", "l": "linear"}.get(type)
    if kind is None:
        raise ValueError(f"detrend: type must be 'linear' or 'constant', got {type!r}")
    x = _inexact(fnp.asarray(operand(data)))
    ndim = len(x.shape)
    if ndim == 0:
        raise ValueError("detrend: data must have at least one dimension, got a scalar")
    if not -ndim <= axis < ndim:
        raise ValueError(f"detrend: axis {axis} is out of bounds for an input of {ndim} dimensions")
    if kind == "constant":
        return x - fnp.mean(x, axis=axis, keepdims=True)
    x = fnp.moveaxis(x, axis, -1)
    n = x.shape[-1]
    bounds = np.unique(np.concatenate([[0], np.atleast_1d(bp), [n]]).astype(int))  # host-data: breakpoints
    if bounds[0] < 0 or bounds[-1] > n:
        raise ValueError(f"detrend: breakpoints must lie in [0, {n}] (the length along axis {axis}), got {bp!r}")
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        piece = x[..., start:stop]
        t = np.arange(stop - start, dtype=float)  # host-data: the abscissae of the fit
        t -= t.mean()
        centred = piece - fnp.mean(piece, axis=-1, keepdims=True)
        if stop - start > 1:
            t_placed = placed_like(t.astype(_real_dtype(x.dtype)), x)
            slope = fnp.sum(centred * t_placed, axis=-1, keepdims=True) / float(t @ t)
            centred = centred - slope * t_placed
        pieces.append(centred)
    out = pieces[0] if len(pieces) == 1 else fnp.concatenate(pieces, axis=-1)
    return fnp.moveaxis(out, -1, axis)
