"""``functrans.scipy.special``: special functions with SciPy's names, differentiable.

``erf``, ``erfc``, ``erfinv``, ``gammaln``, ``digamma``, ``polygamma``, ``i0``, ``i1``, ``i0e``,
``i1e`` and ``log_ndtr`` take their values from SciPy when it is installed (an error says to
``pip install scipy`` otherwise; ``i0`` falls back to NumPy). ``expit``, ``logit``, ``xlogy``,
``xlog1py``, ``logsumexp``, ``softmax``, ``log_softmax``, ``ndtr`` and ``gamma`` are built
from functrans.numpy and need nothing else.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from functrans.core.trace import Tracer
from functrans.numpy._reductions import logsumexp, max, sum
from functrans.numpy._util import any_tracer, as_array, normalize_axes
from functrans.primitives import elementwise as _em
from functrans.primitives import elementwise as _ew
from functrans.primitives import special as _sp
from functrans.primitives.conversion import stop_gradient
from functrans.scipy._util import as_float
from functrans.typing import Array, ArrayLike

__all__ = [
    "digamma", "erf", "erfc", "erfinv", "expit", "gamma", "gammaln", "i0", "i0e", "i1", "i1e",
    "log_ndtr", "log_softmax", "logit", "logsumexp", "ndtr", "ndtri", "polygamma", "psi",
    "softmax", "xlog1py", "xlogy",
]


def erf(x: ArrayLike) -> Array:
    """The error function ``2/sqrt(pi) * integral of exp(-t**2) from 0 to x``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.erf(0.0))
        0.0
    """
    return _sp.erf(as_float(x))


def erfc(x: ArrayLike) -> Array:
    """The complementary error function ``1 - erf(x)``, accurate for large ``x``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.erfc(0.0))
        1.0
    """
    return _sp.erfc(as_float(x))


def erfinv(y: ArrayLike) -> Array:
    """The inverse of ``erf`` on (-1, 1).

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.erfinv(0.0))
        0.0
    """
    return _sp.erfinv(as_float(y))


def gammaln(x: ArrayLike) -> Array:
    """``log|Gamma(x)|``; its derivative is ``digamma``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.gammaln(4.0)), 12)  # log(3!)
        1.791759469228
    """
    return _sp.lgamma(as_float(x))


def gamma(x: ArrayLike) -> Array:
    """The gamma function, ``exp(gammaln(x))`` with the sign of Gamma (for real ``x``).

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.gamma(5.0)), 9)
        24.0
    """
    x = as_float(x)
    # Gamma is negative on (-2k-1, -2k) for k >= 0: where floor(x) is odd and x < 0.
    negative = _em.logical_and(_ew.lt(x, 0), _ew.eq(_em.mod(_em.floor(x), 2.0), 1.0))
    return _ew.mul(_ew.select(negative, -1.0, 1.0), _ew.exp(_sp.lgamma(x)))


def digamma(x: ArrayLike) -> Array:
    """The logarithmic derivative of the gamma function.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.digamma(1.0)), 12)  # minus the Euler-Mascheroni constant
        -0.577215664902
    """
    return _sp.digamma(as_float(x))


psi = digamma


def polygamma(n: int, x: ArrayLike) -> Array:
    """The ``n``-th derivative of ``digamma`` (``n`` a non-negative integer, not traced).

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.polygamma(1, 1.0)), 12)  # pi**2 / 6
        1.644934066848
    """
    n = int(n.to_concrete() if isinstance(n, Tracer) else n)  # a Python int: the order is static
    return _sp.polygamma(n, as_float(x))


def i0(x: ArrayLike) -> Array:
    """The modified Bessel function of the first kind of order 0.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.i0(0.0))
        1.0
    """
    return _sp.i0(as_float(x))


def i1(x: ArrayLike) -> Array:
    """The modified Bessel function of the first kind of order 1.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.i1(0.0))
        0.0
    """
    return _sp.i1(as_float(x))


def i0e(x: ArrayLike) -> Array:
    """``exp(-|x|) * i0(x)``, without overflow.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.i0e(0.0))
        1.0
    """
    return _sp.i0e(as_float(x))


def i1e(x: ArrayLike) -> Array:
    """``exp(-|x|) * i1(x)``, without overflow.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.i1e(0.0))
        0.0
    """
    return _sp.i1e(as_float(x))


def log_ndtr(x: ArrayLike) -> Array:
    """``log(ndtr(x))``, accurate far into the left tail.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.log_ndtr(0.0)), 12)
        -0.69314718056
    """
    return _sp.log_ndtr(as_float(x))


def ndtr(x: ArrayLike) -> Array:
    """The standard normal distribution function ``0.5 * erfc(-x / sqrt(2))``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.ndtr(0.0))
        0.5
    """
    return _ew.mul(0.5, _sp.erfc(_ew.mul(as_float(x), -1.0 / math.sqrt(2.0))))


def ndtri(p: ArrayLike) -> Array:
    """The inverse of ``ndtr``: ``sqrt(2) * erfinv(2p - 1)``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.ndtri(0.5))
        0.0
    """
    return _ew.mul(math.sqrt(2.0), _sp.erfinv(_ew.sub(_ew.mul(2.0, as_float(p)), 1.0)))


def expit(x: ArrayLike) -> Array:
    """The logistic sigmoid ``1 / (1 + exp(-x))``, without overflow.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.expit(0.0))
        0.5
    """
    return _ew.logistic(as_float(x))


def logit(p: ArrayLike) -> Array:
    """The inverse of ``expit``: ``log(p / (1 - p))``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.logit(0.5))
        0.0
    """
    p = as_float(p)
    return _ew.sub(_ew.log(p), _ew.log1p(_ew.neg(p)))


def xlogy(x: ArrayLike, y: ArrayLike) -> Array:
    """``x * log(y)``, 0 where ``x == 0`` (even for ``y == 0``). Its derivative in ``x`` is
    ``log(y)`` and in ``y`` it is ``x / y`` (0 where ``x == 0``).

    Example:
        >>> import functrans as ft, functrans.scipy.special as fsp
        >>> float(fsp.xlogy(0.0, 0.0)), float(ft.grad(fsp.xlogy, argnums=1)(0.0, 0.0))
        (0.0, 0.0)
    """
    return _x_times(x, y, _ew.log, shift=0.0)


def xlog1py(x: ArrayLike, y: ArrayLike) -> Array:
    """``x * log1p(y)``, 0 where ``x == 0`` (even for ``y == -1``).

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.xlog1py(0.0, -1.0))
        0.0
    """
    return _x_times(x, y, _ew.log1p, shift=1.0)


def _x_times(x: ArrayLike, y: ArrayLike, log_fn: Callable[[Array], Array], shift: float) -> Array:
    return (_sp.xlogy if shift == 0.0 else _sp.xlog1py)(as_float(x), as_float(y))


def softmax(x: ArrayLike, axis: int | Sequence[int] | None = None) -> Array:
    """``exp(x) / sum(exp(x))`` over ``axis`` (all axes by default, as SciPy), computed with
    the maximum taken out first.

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> fsp.softmax(np.array([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """
    x = as_float(x)
    x = as_array(x)
    axes = normalize_axes(axis, len(x.shape))
    shifted = _ew.sub(x, _max_shift(x, axes))
    e = _ew.exp(shifted)
    return _ew.div(e, sum(e, axes, keepdims=True))


def log_softmax(x: ArrayLike, axis: int | Sequence[int] | None = None) -> Array:
    """``x - logsumexp(x)`` over ``axis`` (all axes by default), without overflow.

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> [round(v, 6) for v in fsp.log_softmax(np.array([0.0, 0.0])).tolist()]
        [-0.693147, -0.693147]
    """
    x = as_float(x)
    x = as_array(x)
    axes = normalize_axes(axis, len(x.shape))
    shifted = _ew.sub(x, _max_shift(x, axes))
    return _ew.sub(shifted, _ew.log(sum(_ew.exp(shifted), axes, keepdims=True)))


def _max_shift(x: Array, axes: tuple[int, ...]) -> Array:
    """The maximum over ``axes`` (kept), without derivative; 0 where it is not finite."""
    if math.prod(x.shape[a] for a in axes) == 0:
        return 0.0
    m = max(stop_gradient(x) if any_tracer(x) else x, axes, keepdims=True)
    return _ew.select(_em.isfinite(m), m, 0.0)
