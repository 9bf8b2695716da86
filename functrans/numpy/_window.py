"""NumPy's window functions (bartlett, blackman, hamming, hanning, kaiser): tapers of a given
length, made on the host as NumPy makes them; kaiser's shape parameter may be traced, and the
window is then differentiable in it."""
from __future__ import annotations

import numpy as np

from functrans.core.trace import Tracer
from functrans.numpy._util import floating, placed_like
from functrans.primitives import elementwise as _ew
from functrans.primitives.special import i0
from functrans.typing import Array, ArrayLike


def _length(M: int, name: str) -> int:
    if isinstance(M, Tracer):
        raise TypeError(f"fnp.{name}'s length M must be a Python int, not a traced value: it is the "
                        "shape of the result. Pass it as a static argument (jit's static_argnums).")
    return int(M)


def bartlett(M: int) -> Array:
    """The Bartlett (triangular) window of ``M`` points, as ``numpy.bartlett``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.bartlett(5).tolist()
        [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return np.bartlett(_length(M, "bartlett"))  # host-data: made from no array


def blackman(M: int) -> Array:
    """The Blackman window of ``M`` points, as ``numpy.blackman``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.blackman(3).round(6).tolist()
        [-0.0, 1.0, -0.0]
    """
    return np.blackman(_length(M, "blackman"))  # host-data: made from no array


def hamming(M: int) -> Array:
    """The Hamming window of ``M`` points, as ``numpy.hamming``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.hamming(3).round(6).tolist()
        [0.08, 1.0, 0.08]
    """
    return np.hamming(_length(M, "hamming"))  # host-data: made from no array


def hanning(M: int) -> Array:
    """The Hann window of ``M`` points, as ``numpy.hanning``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.hanning(3).tolist()
        [0.0, 1.0, 0.0]
    """
    return np.hanning(_length(M, "hanning"))  # host-data: made from no array


def kaiser(M: int, beta: ArrayLike) -> Array:
    """The Kaiser window of ``M`` points with shape parameter ``beta``, as ``numpy.kaiser``:
    ``I0(beta * sqrt(1 - (2n/(M-1) - 1)**2)) / I0(beta)``. Differentiable in ``beta``.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> fnp.kaiser(3, 0.0).tolist()
        [1.0, 1.0, 1.0]
        >>> round(float(ft.grad(lambda b: fnp.kaiser(3, b)[0])(1.0)), 6)
        -0.35258
    """
    M = _length(M, "kaiser")
    if isinstance(beta, (int, float, np.ndarray, np.generic)):
        return np.kaiser(M, float(beta))  # host-data: a host beta
    beta = floating(beta)
    if M <= 1:
        return placed_like(np.ones(max(M, 0)), beta)  # host-data: made from no array, placed by beta
    alpha = (M - 1) / 2.0
    ratio = (np.arange(M) - alpha) / alpha  # host-data: made from no array
    taper = placed_like(np.sqrt(np.clip(1.0 - ratio * ratio, 0.0, None)), beta)  # host-data: as above
    return _ew.div(i0(_ew.mul(beta, taper)), i0(beta))
