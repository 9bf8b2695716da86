"""``functrans.scipy.special``: special functions with SciPy's names, differentiable.

``erf``, ``erfc``, ``erfinv``, ``gamma``, ``gammaln``, ``digamma``, ``polygamma``, ``i0``,
``i1``, ``i0e``, ``i1e``, ``log_ndtr``, ``betaln``, ``betainc``, ``gammainc``, ``gammaincc``,
``zeta``, ``spence``, ``erfcx``, ``dawsn``, ``exp1``, ``expi``, ``expn``, ``poch``, ``sici``
and ``wofz`` take their values from SciPy when it is installed (an error says to
``pip install scipy`` otherwise; ``i0`` falls back to NumPy). ``expit``, ``logit``, ``xlogy``,
``xlog1py``, ``logsumexp``, ``softmax``, ``log_softmax``, ``ndtr``, ``ndtri``,
``multigammaln``, ``gammasgn``, ``bernoulli``, ``loggamma``, ``factorial``, ``comb``, ``beta``, ``entr``,
``rel_entr``, ``kl_div``, ``boxcox``, ``boxcox1p``, ``fresnel``, ``owens_t``, ``bessel_jn`` and the
spherical harmonics
``sph_harm_y`` and ``sph_harm`` are built on those and on functrans.numpy. The hypergeometric
functions ``hyp1f1`` and ``hyp2f1`` are summed with array operations of the inputs' backend
(NaN where that sum cannot be trusted; see their docstrings). Values at special points (poles,
0, infinities, NaN) are SciPy's.
"""
from __future__ import annotations

import decimal
import functools
import math
import operator
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans import errors
from functrans.core.staging import scalar_kind
from functrans.core.trace import Tracer
from functrans.numpy._reductions import any as _any
from functrans.numpy._reductions import logsumexp, max, sum
from functrans.numpy._util import any_tracer, as_array, host_values, normalize_axes, operand
from functrans.primitives import elementwise as _em
from functrans.primitives import elementwise as _ew
from functrans.primitives import hypergeometric as _hyp
from functrans.primitives import special as _sp
from functrans.primitives.conversion import convert_element_type, stop_gradient
from functrans.scipy._util import as_float
from functrans.typing import Array, ArrayLike

__all__ = [
    "bernoulli", "bessel_jn", "beta", "betainc", "betaln", "boxcox", "boxcox1p", "comb", "dawsn", "digamma",
    "entr", "erf", "erfc", "erfcx", "erfinv", "exp1", "expi", "expit", "expn", "factorial", "fresnel", "gamma",
    "gammainc", "gammaincc", "gammaincinv", "gammaln", "gammasgn", "hyp1f1", "hyp2f1", "i0", "i0e", "i1", "i1e",
    "kl_div", "log_ndtr",
    "log_softmax", "loggamma", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "owens_t", "poch",
    "polygamma", "psi", "rel_entr", "sici", "softmax", "spence", "sph_harm", "sph_harm_y", "xlog1py", "xlogy",
    "wofz", "zeta",
]


def _in_dtype_of(value: Any, like: Any) -> Any:
    """``value`` in the dtype of ``like`` where ``like`` is an array (so float32 stays float32);
    as it is for a Python number ``like``, which is weakly typed."""
    dtype = getattr(like, "dtype", None)
    if dtype is None or getattr(value, "dtype", None) == dtype:
        return value
    return convert_element_type(as_array(value), new_dtype=dtype)


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


def erfcx(x: ArrayLike) -> Array:
    """The scaled complementary error function ``exp(x**2) * erfc(x)``, without overflow for
    large ``x`` (where it tends to ``1 / (x sqrt(pi))``); its derivative is
    ``2 x erfcx(x) - 2 / sqrt(pi)``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.erfcx(0.0)), round(float(fsp.erfcx(1e5)) * 1e5, 12)  # tends to 1 / (x sqrt(pi))
        (1.0, 0.56418958352)
    """
    return _sp.erfcx(as_float(x))


def wofz(z: ArrayLike) -> Array:
    """The Faddeeva function ``exp(-z**2) * erfc(-1j * z)`` of complex ``z`` (real input is
    taken as complex, as SciPy and JAX: float32 gives complex64, float64 and integers
    complex128). Holomorphic, with derivative ``2j / sqrt(pi) - 2 z wofz(z)``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> w = complex(fsp.wofz(1.0))
        >>> round(w.real, 12), round(w.imag, 12)
        (0.367879441171, 0.607157705841)
    """
    z = as_float(z)
    if isinstance(z, float):
        z = complex(z)
    elif not isinstance(z, complex) and z.dtype.kind == "f":
        z = convert_element_type(z, new_dtype=np.result_type(z.dtype, np.complex64))
    return _sp.wofz(z)


# The power series of the Fresnel integrals in t = x**4, used below |x| = 1 (where their terms
# shrink from the first and 13 of them reach 1e-17 of the sum):
#   C(x) = x sum_n (-1)**n (pi/2)**2n t**n / ((2n)! (4n + 1)),
#   S(x) = x**3 sum_n (-1)**n (pi/2)**(2n+1) t**n / ((2n + 1)! (4n + 3)).
_FRESNEL_C = tuple((-1) ** n * (math.pi / 2) ** (2 * n) / (math.factorial(2 * n) * (4 * n + 1)) for n in range(13))
_FRESNEL_S = tuple((-1) ** n * (math.pi / 2) ** (2 * n + 1) / (math.factorial(2 * n + 1) * (4 * n + 3))
                   for n in range(13))


def _polynomial(coefficients: Sequence[float], t: Array) -> Array:
    """``sum_n coefficients[n] t**n`` by Horner's rule."""
    out: Any = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        out = out * t + c
    return out


def fresnel(x: ArrayLike) -> tuple[Array, Array]:
    """The Fresnel integrals ``(S(x), C(x))``: the integrals from 0 to ``x`` of
    ``sin(pi t**2 / 2)`` and ``cos(pi t**2 / 2)`` (SciPy's order: ``S`` first). Both are odd
    and tend to ``+-1/2``. Their derivatives are ``sin(pi x**2 / 2)`` and ``cos(pi x**2 / 2)``.

    Below ``|x| = 1`` by their power series; above, through the Faddeeva function ``wofz``
    (from ``C + iS = (1 + i)/2 erf(sqrt(pi) (1 - i) x / 2)`` and ``erf(z) = 1 - exp(-z**2)
    wofz(iz)``, where ``exp(-z**2)`` is ``exp(i pi x**2 / 2)``), which has no cancellation there
    since ``|C + iS|`` stays above 0.3; above ``|x| = 36974`` by the first term of the
    asymptotic expansion, as SciPy. For large ``x`` the values are as exact as ``x`` allows:
    their relative condition number is about ``2 |x|``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> s, c = fsp.fresnel(1.0)
        >>> round(float(s), 12), round(float(c), 12)
        (0.43825914739, 0.779893400377)
    """
    x = as_float(x)
    if isinstance(x, complex) or getattr(x, "dtype", np.dtype(float)).kind == "c":
        raise NotImplementedError("functrans.scipy.special.fresnel takes real input only (complex x: "
                                  "scipy.special.fresnel on the host)")
    magnitude = fnp.abs(x)
    small = fnp.less(magnitude, 1.0)
    near = fnp.where(small, x, 0.0)  # the series are odd in x: taken on x itself (smooth through 0)
    t = (near * near) * (near * near)
    s_small = near * ((near * near) * _polynomial(_FRESNEL_S, t))  # one rounding into the subnormals
    c_small = near * _polynomial(_FRESNEL_C, t)
    far = fnp.where(small, 1.0, fnp.where(fnp.isinf(magnitude), 1.0, magnitude))
    w = wofz(far * complex(math.sqrt(math.pi) / 2, math.sqrt(math.pi) / 2))
    angle = (math.pi / 2) * (far * far)
    turn = fnp.cos(angle) + 1j * fnp.sin(angle)
    rest = (1.0 - turn * w) * complex(0.5, 0.5)
    # Above x = 36974 (as SciPy) the first term of the asymptotic expansion,
    # 1/2 + (sin, -cos)(pi x**2 / 2) / (pi x), is exact to double precision
    huge = fnp.greater(magnitude, 36974.0)
    phase = math.pi * far * far / 2.0
    s_far = fnp.where(huge, 0.5 - fnp.cos(phase) / (math.pi * far), fnp.imag(rest))
    c_far = fnp.where(huge, 0.5 + fnp.sin(phase) / (math.pi * far), fnp.real(rest))
    at_inf = fnp.isinf(magnitude)
    s_far, c_far = fnp.where(at_inf, 0.5, s_far), fnp.where(at_inf, 0.5, c_far)
    negative = fnp.less(x, 0.0)
    s_far, c_far = fnp.where(negative, -s_far, s_far), fnp.where(negative, -c_far, c_far)
    s_out, c_out = fnp.where(small, s_small, s_far), fnp.where(small, c_small, c_far)
    nan = fnp.isnan(x)
    return fnp.where(nan, x, s_out), fnp.where(nan, x, c_out)


def dawsn(x: ArrayLike) -> Array:
    """Dawson's integral ``exp(-x**2) * integral from 0 to x of exp(t**2)``; its derivative is
    ``1 - 2 x dawsn(x)``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.dawsn(1.0)), 12)
        0.538079506913
    """
    return _sp.dawsn(as_float(x))


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
    """The gamma function (``inf`` at 0, NaN at the negative integers, as SciPy); its
    derivative is ``gamma(x) * digamma(x)``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.gamma(5.0)), 9)
        24.0
    """
    return _sp.gamma(as_float(x))


def gammasgn(x: ArrayLike) -> Array:
    """The sign of the gamma function: 1 for ``x > 0`` (and ``+0``), -1 for ``-0``, and on
    the negative axis ``(-1)**k`` between ``-k`` and ``-k + 1``; NaN at the negative integers
    (the poles), at ``-inf`` and for NaN, as SciPy. No derivative (piecewise constant).

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> fsp.gammasgn(np.array([2.5, -0.5, -1.5, -2.0])).tolist()
        [1.0, -1.0, 1.0, nan]
    """
    x = as_float(x)
    x = stop_gradient(x) if isinstance(x, Tracer) else x
    below = fnp.floor(x)
    negative = fnp.where(fnp.equal(fnp.remainder(below, 2.0), 0.0), 1.0, -1.0)
    pole = fnp.logical_or(fnp.equal(below, x), fnp.isnan(x))  # a non-positive integer, -inf, NaN
    out = fnp.where(fnp.greater(x, 0.0), 1.0, fnp.where(pole, np.nan, negative))
    out = fnp.where(fnp.equal(x, 0.0), fnp.copysign(1.0, x), out)  # +0 and -0 carry their sign
    return _in_dtype_of(out, x)


def loggamma(x: ArrayLike) -> Array:
    """The principal branch of ``log(Gamma(x))`` for real ``x``: ``gammaln(x)`` for
    ``x > 0``, ``inf`` at 0 and NaN for ``x < 0`` (where ``Gamma`` is negative or has poles),
    as SciPy and JAX give for real input. Complex input is not supported. Its derivative is
    ``digamma``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.loggamma(4.0)), 12)  # log(3!)
        1.791759469228
    """
    x = as_float(x)
    if getattr(x, "dtype", np.dtype(float)).kind == "c" or isinstance(x, complex):
        raise NotImplementedError("functrans.scipy.special.loggamma takes real input only; for complex "
                                  "input there is no implementation")
    positive = fnp.greater(x, 0.0)
    value = gammaln(fnp.where(positive, x, 1.0))  # the other points see 1: finite derivatives
    elsewhere = _in_dtype_of(fnp.where(fnp.equal(x, 0.0), np.inf, np.nan), value)
    return fnp.where(positive, value, elsewhere)


def factorial(n: ArrayLike, exact: bool = False) -> Array:
    """``n!`` as ``Gamma(n + 1)`` (for every real ``n``, not only integers), 0 for ``n < 0``,
    as SciPy's ``factorial(n, exact=False)``; differentiable in ``n``. ``exact=True``
    (arbitrary-precision integers) is not offered, as in JAX. A float32 ``n`` gives float32.

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> [round(v, 6) for v in fsp.factorial(np.array([0, 3, 4.5, -1])).tolist()]
        [1.0, 6.0, 52.342778, 0.0]
    """
    if exact:
        raise NotImplementedError("factorial(exact=True) needs arbitrary-precision integers: use "
                                  "exact=False (Gamma(n + 1) in floating point), or math.factorial")
    n = as_float(n)
    negative = fnp.less(n, 0.0)
    return fnp.where(negative, 0.0, gamma(fnp.where(negative, 0.0, n) + 1.0))


def comb(N: ArrayLike, k: ArrayLike, *, exact: bool = False, repetition: bool = False) -> Array:
    """The number of combinations of ``N`` things taken ``k`` at a time,
    ``Gamma(N + 1) / (Gamma(k + 1) Gamma(N - k + 1))``, 0 unless ``0 <= k <= N``, as SciPy's
    ``comb(N, k, exact=False)``. ``repetition=True`` counts with repetition,
    ``comb(N + k - 1, k)`` and 1 for ``k = 0``: SciPy's values for ``N >= 1`` and for integer
    ``N``; elsewhere (where SciPy evaluates a generalised binomial coefficient) 0, as JAX.
    Differentiable in ``N`` and ``k``. ``exact=True`` is not offered, as in JAX.

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> [round(v, 9) for v in fsp.comb(5, np.array([0, 2, 6])).tolist()]
        [1.0, 10.0, 0.0]
    """
    if exact:
        raise NotImplementedError("comb(exact=True) needs arbitrary-precision integers: use "
                                  "exact=False (through the gamma function), or math.comb")
    N, k = as_float(N), as_float(k)
    if repetition:
        return fnp.where(fnp.logical_and(fnp.equal(k, 0.0), fnp.greater_equal(N, 0.0)), 1.0,
                         comb(N + k - 1.0, k))
    valid = fnp.logical_and(fnp.logical_and(fnp.greater_equal(k, 0.0), fnp.less_equal(k, N)),
                            fnp.greater_equal(N, 0.0))
    safe_n, safe_k = fnp.where(valid, N, 1.0), fnp.where(valid, k, 0.0)
    log_count = gammaln(safe_n + 1.0) - gammaln(safe_k + 1.0) - gammaln(safe_n - safe_k + 1.0)
    return fnp.where(valid, fnp.exp(log_count), 0.0)


def beta(a: ArrayLike, b: ArrayLike) -> Array:
    """The beta function ``Gamma(a) Gamma(b) / Gamma(a + b)``, as ``exp(betaln(a, b))`` with
    the sign of the gamma functions (so it does not overflow where they do). Differentiable
    in both arguments.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.beta(2.0, 3.0)), 12)  # 1/12
        0.083333333333
    """
    a, b = as_float(a), as_float(b)
    sign = gammasgn(a) * gammasgn(b) * gammasgn(a + b)
    sign = fnp.where(fnp.isnan(sign), 1.0, sign)  # at a pole betaln is inf (or NaN for NaN input)
    magnitude = fnp.exp(betaln(a, b))
    return _in_dtype_of(sign, magnitude) * magnitude  # (a Python number's sign is float64: not promoting)


def digamma(x: ArrayLike) -> Array:
    """The logarithmic derivative of the gamma function.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.digamma(1.0)), 12)  # minus the Euler-Mascheroni constant
        -0.577215664902
    """
    return _sp.digamma(as_float(x))


psi = digamma


def polygamma(n: ArrayLike, x: ArrayLike) -> Array:
    """The ``n``-th derivative of ``digamma`` (``n`` a non-negative integer; NaN for others, as
    in SciPy). An ``n`` that is an array, or traced, broadcasts against ``x`` and gives SciPy's
    formula ``(-1)**(n + 1) * gamma(n + 1) * zeta(n + 1, x)`` (``digamma`` where ``n = 0``).
    Differentiable in ``x``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.polygamma(1, 1.0)), 12)  # pi**2 / 6
        1.644934066848
        >>> [round(v, 6) for v in fsp.polygamma([0, 1], 1.0).tolist()]
        [-0.577216, 1.644934]
    """
    number: Any = n
    on_host = isinstance(n, (int, float, np.integer, np.floating)) or (
        type(n) is np.ndarray and n.ndim == 0)
    if on_host and float(number).is_integer():
        return _sp.polygamma(int(number), as_float(x))  # a Python int: the order is a static parameter
    x = as_float(x)
    order = stop_gradient(_in_dtype_of(as_float(n), x))
    # (-1)**(n + 1), NaN for an n that is not an integer, as SciPy's real power gives
    sign = 2.0 * fnp.remainder(order, 2.0) - 1.0
    sign = fnp.where(fnp.equal(fnp.floor(order), order), sign, sign * np.nan)
    higher = sign * gamma(order + 1.0) * zeta(order + 1.0, x)
    return fnp.where(fnp.equal(order, 0.0), digamma(x), higher)


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


def log_ndtr(x: ArrayLike, series_order: int = 3) -> Array:
    """``log(ndtr(x))``, accurate far into the left tail. ``series_order`` (JAX's: terms of
    its asymptotic series, 0 to 30) is checked and changes nothing: the values are SciPy's.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.log_ndtr(0.0)), 12)
        -0.69314718056
    """
    if not isinstance(series_order, int) or not 0 <= series_order <= 30:
        raise ValueError(f"log_ndtr: series_order must be an integer from 0 to 30, got {series_order!r}")
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
    """The inverse of ``ndtr`` (the standard normal quantile), accurate in both tails
    (``ndtri(1e-300)`` is about -37, where ``sqrt(2) * erfinv(2p - 1)`` gives -inf).

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.ndtri(0.5))
        0.0
    """
    return _sp.ndtri(as_float(p))


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


def betaln(a: ArrayLike, b: ArrayLike) -> Array:
    """``log|B(a, b)|``, the log of the beta function ``Gamma(a) Gamma(b) / Gamma(a + b)``,
    accurate where the gamma functions overflow. Differentiable in both arguments.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.betaln(1.0, 2.0)), 12)  # log(1/2)
        -0.69314718056
    """
    return _sp.betaln(as_float(a), as_float(b))


def betainc(a: ArrayLike, b: ArrayLike, x: ArrayLike) -> Array:
    """The regularized incomplete beta function ``I_x(a, b)`` (``a, b > 0``, ``0 <= x <= 1``).

    Differentiable in ``x`` only: its derivative in ``a`` and ``b`` is not implemented (JAX has
    none either), and differentiating in them raises ``UnsupportedError`` rather than giving a
    wrong zero; pass them as constants (or through ``stop_gradient``).

    Example:
        >>> import functrans as ft, functrans.scipy.special as fsp
        >>> float(fsp.betainc(1.0, 1.0, 0.25)), float(ft.grad(fsp.betainc, argnums=2)(1.0, 1.0, 0.25))
        (0.25, 1.0)
    """
    return _sp.betainc(as_float(a), as_float(b), as_float(x))


def gammainc(a: ArrayLike, x: ArrayLike) -> Array:
    """The regularized lower incomplete gamma function ``P(a, x)`` (``a > 0``, ``x >= 0``).

    Differentiable in ``x`` to any order, and once in ``a`` (by its series, summed term by
    term; accurate to about 1e-16 in absolute terms, so not in relative terms far in the
    upper tail, ``x >> a``, where the derivative itself is below that). A second derivative
    in ``a`` raises ``UnsupportedError``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.gammainc(1.0, 1.0)), 12)  # 1 - exp(-1)
        0.632120558829
    """
    return _sp.gammainc(as_float(a), as_float(x))


def gammaincc(a: ArrayLike, x: ArrayLike) -> Array:
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``, accurate
    where ``P`` is close to 1. Differentiable as ``gammainc`` (its derivatives are minus those
    of ``P``).

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.gammaincc(1.0, 1.0)), 12)  # exp(-1)
        0.367879441171
    """
    return _sp.gammaincc(as_float(a), as_float(x))


def gammaincinv(a: ArrayLike, p: ArrayLike) -> Array:
    """The inverse of ``gammainc`` in ``x``: the ``x >= 0`` with ``P(a, x) = p`` (``a > 0``,
    ``0 <= p <= 1``). Differentiable in ``p`` to any order and once in ``a``, by the implicit
    function theorem on ``P(a, x) = p`` (as ``gammainc`` is once in ``a``).

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.gammaincinv(1.0, 1.0 - 2.0 ** -1)), 12)  # P(1, x) = 1 - exp(-x)
        0.69314718056
    """
    return _sp.gammaincinv(as_float(a), as_float(p))


def zeta(x: ArrayLike, q: ArrayLike | None = None) -> Array:
    """The Hurwitz zeta function ``sum over k >= 0 of (k + q)**-x`` (the Riemann zeta function
    for ``q=None``). Differentiable in ``q`` (``-x * zeta(x + 1, q)``); its derivative in ``x``
    is not implemented (JAX 0.10 has one) and raises ``UnsupportedError``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.zeta(2.0)), 12)  # pi**2 / 6
        1.644934066848
    """
    return _sp.zeta(as_float(x), 1.0 if q is None else as_float(q))


def spence(z: ArrayLike) -> Array:
    """The dilogarithm in SciPy's convention: the integral from 1 to ``z`` of
    ``log(t) / (1 - t)`` (real ``z >= 0``); its derivative is ``log(z) / (1 - z)``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.spence(1.0))
        0.0
    """
    return _sp.spence(as_float(z))


def exp1(x: ArrayLike) -> Array:
    """The exponential integral ``E_1(x)``, the integral from ``x`` to ``inf`` of
    ``exp(-t) / t`` (``inf`` at 0, NaN for ``x < 0``, as SciPy for real input); its derivative
    is ``-exp(-x) / x``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.exp1(1.0)), 12)
        0.219383934396
    """
    return _sp.exp1(as_float(x))


def expi(x: ArrayLike) -> Array:
    """The exponential integral ``Ei(x)``, the principal value of the integral from ``-inf``
    to ``x`` of ``exp(t) / t`` (``-inf`` at 0); its derivative is ``exp(x) / x``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.expi(1.0)), 12)
        1.895117816356
    """
    return _sp.expi(as_float(x))


def expn(n: ArrayLike, x: ArrayLike) -> Array:
    """The generalized exponential integral ``E_n(x)``, the integral from 1 to ``inf`` of
    ``exp(-x t) / t**n``, for an integer order ``n >= 0`` (a float ``n`` is truncated toward
    zero, as SciPy; NaN for ``n < 0`` or ``x < 0``). ``n`` broadcasts against ``x`` and may be
    traced; the result has ``x``'s float dtype (float32 stays float32). Differentiable in ``x``
    (``-E_{n-1}(x)``, for ``n = 0`` too); differentiating in ``n`` raises ``UnsupportedError``.

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> [round(v, 12) for v in fsp.expn(np.array([0, 1, 2]), 1.0).tolist()]
        [0.367879441171, 0.219383934396, 0.148495506776]
    """
    return _sp.expn(as_float(n), as_float(x))


def sici(x: ArrayLike) -> tuple[Array, Array]:
    """The sine and cosine integrals ``(Si(x), Ci(x))``: ``Si`` is the integral from 0 to ``x``
    of ``sin(t) / t``, ``Ci(x) = gamma + log(x) + integral from 0 to x of (cos(t) - 1) / t``
    (``-inf`` at 0; for ``x < 0`` SciPy's real value ``Ci(|x|)``). Their derivatives are
    ``sin(x) / x`` (1 at 0) and ``cos(x) / x``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> si, ci = fsp.sici(1.0)
        >>> round(float(si), 12), round(float(ci), 12)
        (0.946083070367, 0.337403922901)
    """
    x = as_float(x)
    return _sp.sici_si(x), _sp.sici_ci(x)


def poch(z: ArrayLike, m: ArrayLike) -> Array:
    """The Pochhammer symbol (rising factorial) ``Gamma(z + m) / Gamma(z)``, SciPy's values
    (finite where the ratio is, at the poles of the gamma functions too). Differentiable in
    both arguments: ``poch (digamma(z + m) - digamma(z))`` in ``z`` and
    ``poch digamma(z + m)`` in ``m``.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> float(fsp.poch(3.0, 2.0)), float(fsp.poch(-2.0, 1.0))  # 3 * 4 and -2
        (12.0, -2.0)
    """
    return _sp.poch(as_float(z), as_float(m))


def _real_float(name: str, *args: ArrayLike) -> list[Any]:
    out = [as_float(a) for a in args]
    if any(isinstance(v, complex) or getattr(v, "dtype", np.dtype(float)).kind == "c" for v in out):
        raise ValueError(f"{name} takes real arguments only (as JAX's); got a complex one")
    return out


def hyp1f1(a: ArrayLike, b: ArrayLike, x: ArrayLike) -> Array:
    """Kummer's confluent hypergeometric function ``1F1(a; b; x)``, the sum over ``k >= 0`` of
    ``(a)_k / (b)_k x**k / k!``, for real arguments (as JAX's ``hyp1f1``; SciPy's values).

    Computed in float64 (float32 in, float32 out) by the power series, after Kummer's
    transformation ``1F1(a; b; x) = e^x 1F1(b - a; b; -x)`` for ``x < 0``, accurate to about
    1e-10 relative for ``|x|`` up to about 700. Where the series cannot give that, the value is
    NaN, not a wrong number: chiefly ``a < 0`` (``b - a < 0`` for ``x < 0``) with ``|x|``
    beyond a few units, where 1F1 oscillates and its terms cancel, and near its zeros. ``inf`` at the poles
    ``b = 0, -1, ...`` (unless the series ends first), as SciPy.

    Differentiable in ``x`` to any order (``d/dx 1F1(a; b; x) = a / b 1F1(a + 1; b + 1; x)``).
    Its derivatives in ``a`` and ``b`` are not implemented and raise ``UnsupportedError``
    (JAX's, truncated power series, are inaccurate away from small ``|x|``); pass them as
    constants or through ``stop_gradient``.

    Example:
        >>> import functrans as ft, functrans.scipy.special as fsp
        >>> round(float(fsp.hyp1f1(1.0, 1.0, 1.0)), 12), round(float(ft.grad(fsp.hyp1f1, argnums=2)(1.0, 2.0, 0.0)), 12)
        (2.718281828459, 0.5)
    """
    return _hyp.hyp1f1(*_real_float("hyp1f1", a, b, x))


def hyp2f1(a: ArrayLike, b: ArrayLike, c: ArrayLike, x: ArrayLike) -> Array:
    """Gauss's hypergeometric function ``2F1(a, b; c; x)``, the sum over ``k >= 0`` of
    ``(a)_k (b)_k / (c)_k x**k / k!`` and its continuation, for real arguments and ``x <= 1``
    (as JAX's ``hyp2f1``; SciPy's values).

    Computed in float64 (float32 in, float32 out): the series for ``0 <= x <= 0.9``, Pfaff's
    transformation to ``x / (x - 1)`` for ``x < 0``, and the connection formula in ``1 - x``
    near 1 (its logarithmic form when ``c - a - b`` is an integer); accurate to about 1e-10
    relative. Where that cannot be trusted the value is NaN, not a wrong number: chiefly within
    0.1 of ``x = 1`` (or below ``x = -9``) with ``c - a - b`` within about 1e-5 of an integer
    but not one, and parameters of magnitude beyond about 20 where the terms cancel. At ``x = 1``
    Gauss's sum (``inf`` for ``c - a - b <= 0``); ``inf`` at the poles ``c = 0, -1, ...`` (unless
    the series ends first), as SciPy. For ``x > 1`` 2F1 is complex: NaN (SciPy gives ``inf``),
    except for the polynomials (``a`` or ``b`` a non-positive integer), summed for every ``x``.

    Differentiable in ``x`` to any order (``d/dx = a b / c 2F1(a + 1, b + 1; c + 1; x)``). Its
    derivatives in ``a``, ``b`` and ``c`` are not implemented and raise ``UnsupportedError``
    (JAX's, truncated power series, are inaccurate away from small ``|x|``); pass them as
    constants or through ``stop_gradient``.

    Example:
        >>> import functrans.scipy.special as fsp, math
        >>> round(float(fsp.hyp2f1(1.0, 1.0, 2.0, 0.5)), 12), round(2 * math.log(2), 12)  # -log(1-x)/x
        (1.38629436112, 1.38629436112)
    """
    return _hyp.hyp2f1(*_real_float("hyp2f1", a, b, c, x))


# The first terms of (exp(u) - 1) / u = sum over k >= 0 of u**k / (k + 1)!; below |u| = 1e-3 the
# next term is under 1e-21 of the sum, and the sum is smooth in lambda through lambda = 0.
_EXPRELR_TERMS = (1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0)


def _box_cox(log_x: Array, lmbda: Array) -> Array:
    """``(exp(lmbda log_x) - 1) / lmbda``: a Taylor series in ``u = lmbda log_x`` for small
    ``|u|`` (and ``lmbda = 0``, where it is ``log_x``), ``expm1(u) / lmbda`` elsewhere, and
    above ``u = 709`` (where ``expm1`` overflows but the quotient may not)
    ``sign(lmbda) exp(u - log|lmbda|) - 1 / lmbda``, as SciPy."""
    u = lmbda * log_x
    # SciPy takes log_x itself for |lmbda| < 1e-19 (so (0**lmbda - 1) / lmbda is -inf there)
    small = fnp.logical_or(fnp.less(fnp.abs(u), 1e-3), fnp.less(fnp.abs(lmbda), 1e-19))
    finite_log = fnp.where(fnp.isfinite(log_x), log_x, 0.0)
    u_small = fnp.where(small, lmbda * finite_log, 0.0)  # 0 * inf would be NaN
    series = _EXPRELR_TERMS[-1]
    for c in reversed(_EXPRELR_TERMS[:-1]):
        series = series * u_small + c
    safe_lmbda = fnp.where(small, 1.0, lmbda)
    safe_u = fnp.where(small, 0.0, u)
    big = fnp.greater(safe_u, 709.0)
    power = fnp.where(big, fnp.sign(safe_lmbda) * fnp.exp(fnp.where(big, safe_u, 0.0) - fnp.log(fnp.abs(safe_lmbda)))
                      - 1.0 / safe_lmbda, fnp.expm1(fnp.where(big, 0.0, safe_u)) / safe_lmbda)
    return fnp.where(small, log_x * series, power)


def _weak_pair(x: Array, lmbda: Array) -> tuple[Array, Array]:
    return _weak_as(x, lmbda), _weak_as(lmbda, x)


def boxcox(x: ArrayLike, lmbda: ArrayLike) -> Array:
    """The Box-Cox transformation ``(x**lmbda - 1) / lmbda``, ``log(x)`` for ``lmbda = 0``;
    NaN for ``x < 0``, as SciPy. Differentiable in ``x`` and ``lmbda``, smoothly through
    ``lmbda = 0`` (where the derivative in ``lmbda`` is ``log(x)**2 / 2``).

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> fsp.boxcox(np.array([1.0, 4.0]), 0.5).tolist()
        [0.0, 2.0]
    """
    x, lmbda = _weak_pair(as_float(x), as_float(lmbda))
    return _box_cox(fnp.log(x), lmbda)


def boxcox1p(x: ArrayLike, lmbda: ArrayLike) -> Array:
    """The Box-Cox transformation of ``1 + x``, ``((1 + x)**lmbda - 1) / lmbda``
    (``log1p(x)`` for ``lmbda = 0``), accurate for small ``x``; NaN for ``x < -1``, as SciPy.
    Differentiable in ``x`` and ``lmbda``.

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> fsp.boxcox1p(np.array([0.0, 3.0]), 0.5).tolist()
        [0.0, 2.0]
    """
    x, lmbda = _weak_pair(as_float(x), as_float(lmbda))
    return _box_cox(fnp.log1p(x), lmbda)


# Bernoulli numbers up to B_60 exactly, by the Akiyama-Tanigawa algorithm on fractions; above,
# B_2k = (-1)**(k + 1) 2 (2k)! zeta(2k) / (2 pi)**2k in 60-digit decimal arithmetic, where the
# zeta series needs a handful of terms. Both are then rounded once to float64.
_EXACT_UP_TO = 60
_PI = decimal.Decimal("3.14159265358979323846264338327950288419716939937510582097494459")


@functools.lru_cache(maxsize=8)
def _bernoulli_numbers(n: int) -> tuple[float, ...]:
    row: list[Fraction] = []
    numbers: list[float] = []
    for m in range(min(n, _EXACT_UP_TO) + 1):
        row.append(Fraction(1, m + 1))
        for j in range(m, 0, -1):
            row[j - 1] = j * (row[j - 1] - row[j])
        numbers.append(float(row[0]))
    if n >= 1:
        numbers[1] = -0.5  # SciPy's convention, B_1 = -1/2 (the algorithm gives +1/2)
    with decimal.localcontext() as context:
        context.prec = 60
        context.traps[decimal.Overflow] = False
        two_pi_squared = (2 * _PI) ** 2
        scale = 2 * math.factorial(_EXACT_UP_TO) / two_pi_squared ** (_EXACT_UP_TO // 2)
        for m in range(_EXACT_UP_TO + 1, n + 1):
            if m % 2:
                numbers.append(0.0)
                continue
            scale = scale * (m - 1) * m / two_pi_squared  # 2 m! / (2 pi)**m
            zeta, j = decimal.Decimal(1), 2
            while (term := decimal.Decimal(j) ** -m) > decimal.Decimal(10) ** -62:
                zeta, j = zeta + term, j + 1
            value = float(scale * zeta)  # inf beyond the float64 range, as SciPy
            numbers.append(value if m % 4 == 2 else -value)
    return tuple(numbers)


def bernoulli(n: int) -> Array:
    """The Bernoulli numbers ``B_0, ..., B_n`` (``n + 1`` of them) in float64, with
    ``B_1 = -1/2`` as SciPy and JAX; ``inf`` (with the sign) beyond the float64 range, from
    ``B_260``. Each is the exact number rounded once. ``n`` is a Python integer (a static
    length, as in JAX), not an array.

    Raises:
        TypeError: ``n`` is not an integer.
        ValueError: ``n`` is negative.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> [round(v, 12) for v in fsp.bernoulli(4).tolist()]
        [1.0, -0.5, 0.166666666667, 0.0, -0.033333333333]
    """
    try:
        count = operator.index(n)
    except TypeError:
        raise TypeError(f"bernoulli: n must be a Python integer (the number of terms is static), got "
                        f"{n!r}; under jit, mark it static or pass a Python int") from None
    if count < 0:
        raise ValueError(f"bernoulli: n must be a non-negative integer, got {count}")
    return np.array(_bernoulli_numbers(count), dtype=np.float64)  # host-metadata: a static length


# Owen's T function. For |a| <= 1: Gauss-Legendre quadrature of
#   T(h, a) = exp(-h**2 / 2) / (2 pi) * integral from 0 to a of exp(-h**2 x**2 / 2) / (1 + x**2) dx,
# the range cut at |x| = 10 / |h| (beyond, the integrand is below exp(-50) of its start). The
# integrand is analytic in a Bernstein ellipse around the range that reaches the poles at +-i or
# the Gaussian's width, so 40 nodes give full double precision. For |a| > 1: Owen's identity
#   T(h, a) = Q(h) / 2 + Q(a h) / 2 - Q(h) Q(a h) - T(a h, 1 / a)   (h, a > 0; Q = 1 - ndtr),
# written with the upper tails Q so nothing cancels for large h. T is even in h, odd in a.
_LEGENDRE_40 = np.polynomial.legendre.leggauss(40)  # host-data: Python numbers, at import
_OWENS_NODES, _OWENS_WEIGHTS = (tuple(float(v) for v in part) for part in _LEGENDRE_40)


def _owens_t_small_a(h: Array, a: Array) -> Array:
    """``T(h, a)`` for ``|a| <= 1`` by the quadrature above (signed ``a``: smooth through 0)."""
    infinite = fnp.greater(fnp.abs(h), 40.0)  # T < exp(-h**2 / 2) / 4 underflows to 0 there (and inf)
    h = fnp.where(infinite, 0.0, h)
    h2 = h * h
    # the cut moves the range where the integrand is below exp(-50): it carries no derivative
    scale = stop_gradient(h2) if any_tracer(h2) else h2
    reach = 10.0 / fnp.sqrt(fnp.where(fnp.greater(scale, 0.0), scale, 1e-300))
    top = fnp.clip(a, -reach, reach)
    total: Any = 0.0
    for node, weight in zip(_OWENS_NODES, _OWENS_WEIGHTS):
        x = top * (0.5 * (node + 1.0))
        x2 = x * x
        total = total + weight * fnp.exp(-0.5 * h2 * x2) / (1.0 + x2)
    return fnp.where(infinite, 0.0 * a, fnp.exp(-0.5 * h2) * (0.5 * top) * total / (2.0 * math.pi))


def owens_t(h: ArrayLike, a: ArrayLike) -> Array:
    """Owen's T function ``T(h, a)``: the integral from 0 to ``a`` of
    ``exp(-h**2 (1 + x**2) / 2) / (2 pi (1 + x**2))``, the probability of the region
    ``x > h, 0 < y < a x`` under the standard bivariate normal. Even in ``h``, odd in ``a``.
    Differentiable in both (``-exp(-h**2 / 2) erf(a h / sqrt(2)) / (2 sqrt(2 pi))`` in ``h``,
    ``exp(-h**2 (1 + a**2) / 2) / (2 pi (1 + a**2))`` in ``a``).

    Computed by Gauss-Legendre quadrature for ``|a| <= 1`` and Owen's identity relating
    ``T(h, a)`` to ``T(a h, 1 / a)`` above.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.owens_t(0.0, 1.0)), 12)  # arctan(1) / (2 pi) = 1/8
        0.125
        >>> round(float(fsp.owens_t(1.0, 0.5)), 12)
        0.043064691121
    """
    h, a = as_float(h), as_float(a)
    h, a = _weak_as(h, a), _weak_as(a, h)
    wide = fnp.greater(fnp.abs(a), 1.0)
    a_small = fnp.where(wide, 0.0, a)
    inner = _owens_t_small_a(h, a_small)
    # |a| > 1: every argument is made safe where the other branch is taken
    abs_h = fnp.abs(h)
    abs_a = fnp.where(wide, fnp.abs(a), 2.0)
    ah = abs_a * abs_h
    q_h, q_ah = ndtr(-abs_h), ndtr(-ah)
    mirrored = _owens_t_small_a(ah, 1.0 / abs_a)
    outer = 0.5 * q_h + 0.5 * q_ah - q_h * q_ah - mirrored
    outer = fnp.where(fnp.isinf(abs_a), 0.5 * q_h, outer)  # T(h, inf) = Q(|h|) / 2
    outer = fnp.where(fnp.less(a, 0.0), -outer, outer)
    out = fnp.where(wide, outer, inner)
    out = fnp.where(fnp.isinf(h), fnp.copysign(0.0, a), out)  # (-0.0 for a < 0, as SciPy)
    nan = fnp.logical_or(fnp.isnan(h), fnp.isnan(a))
    return fnp.where(nan, h + a, out)


def bessel_jn(z: ArrayLike, *, v: int, n_iter: int = 50) -> Array:
    """The Bessel functions of the first kind ``J_0(z), ..., J_v(z)`` of integer order, stacked
    on a new first axis (shape ``(v + 1,) + z.shape``), as JAX's ``bessel_jn``; real ``z``, any
    magnitude. Differentiable in ``z`` (``J_k' = (J_{k-1} - J_{k+1}) / 2``). ``n_iter`` (JAX's
    count of backward-recurrence steps) is checked and changes nothing: the start of the
    recurrence here is set from ``v``.

    ``J_0`` and ``J_1`` are SciPy's ``j0`` and ``j1``; the orders up to ``|z|`` follow by the
    forward recurrence ``J_{k+1} = 2k/z J_k - J_{k-1}``, stable there, and the orders above
    by Miller's backward recurrence on the ratios ``r_k = J_k / J_{k-1} = z / (2k - z r_{k+1})``
    started ``20 + 4 sqrt(v)`` orders above ``v``, where the forward recurrence is unstable.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> [round(j, 12) for j in fsp.bessel_jn(1.0, v=2).tolist()]
        [0.765197686558, 0.440050585745, 0.114903484932]
    """
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
        raise TypeError(f"bessel_jn: v must be a non-negative Python integer (a static order), got {v!r}")
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"bessel_jn: n_iter must be a positive integer, got {n_iter!r}")
    v = int(v)
    z = as_float(z)
    if isinstance(z, complex) or getattr(z, "dtype", np.dtype(float)).kind == "c":
        raise ValueError("bessel_jn takes real z only")
    orders = [_sp.j0(z)]
    if v >= 1:
        orders.append(_sp.j1(z))
    if v >= 2:
        magnitude = fnp.abs(z)
        # the highest order the forward recurrence gives (0 below |z| = 1, where 2k/z is large)
        level = fnp.floor(fnp.minimum(magnitude, float(v)))
        level = stop_gradient(level) if any_tracer(level) else level
        safe_z = fnp.where(fnp.less(magnitude, 1.0), 1.0, z)
        start = v + 20 + int(4 * math.sqrt(v))
        ratio: Any = 0.0
        ratios: dict[int, Any] = {}
        for k in range(start, 1, -1):
            ratio = z / (2.0 * k - z * ratio)
            if k <= v:
                ratios[k] = ratio
        before, current = orders[0], orders[1]
        # order 1 itself: j1 where the forward recurrence would start, else J_0 r_1
        ratio_1 = z / (2.0 - z * ratios[2])
        current = fnp.where(fnp.greater_equal(level, 1.0), current, before * ratio_1)
        orders[1] = current
        forward_before, forward = orders[0], _sp.j1(z)
        for k in range(2, v + 1):
            forward_before, forward = forward, (2.0 * (k - 1)) / safe_z * forward - forward_before
            current = fnp.where(fnp.greater_equal(level, float(k)), forward, current * ratios[k])
            orders.append(current)
    return fnp.stack([fnp.asarray(o) for o in orders], axis=0)


def multigammaln(a: ArrayLike, d: int) -> Array:
    """The log of the multivariate gamma function of dimension ``d``:
    ``d (d - 1) / 4 log(pi) + sum over j < d of gammaln(a - j / 2)``, for ``a > (d - 1) / 2``.

    Raises:
        ValueError: ``d`` is not a positive integer, or a concrete ``a`` is not above
            ``(d - 1) / 2`` (SciPy's condition).

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.multigammaln(3.0, 1)), 12)  # gammaln(3) = log(2)
        0.69314718056
    """
    if isinstance(d, bool) or int(d) != d or d < 1:
        raise ValueError(f"multigammaln: d must be a positive integer, got {d!r}")
    d = int(d)
    a = as_float(a)
    if not any_tracer(a):
        if host_values(_any(_em.le(a, 0.5 * (d - 1)))):
            raise ValueError(f"multigammaln: every a must be greater than (d - 1) / 2 = {0.5 * (d - 1)}")
    total = _sp.lgamma(a)
    for j in range(1, d):
        total = _ew.add(total, _sp.lgamma(_ew.sub(a, 0.5 * j)))
    return _ew.add(total, 0.25 * d * (d - 1) * math.log(math.pi))


def _positive(x: Array) -> tuple[Array, Array]:
    """(where ``x > 0``, ``x`` with 1 elsewhere): a safe argument for the branch that needs it."""
    positive = _ew.gt(x, 0.0)
    return positive, _ew.select(positive, x, 1.0)


def entr(x: ArrayLike) -> Array:
    """The elementwise entropy ``-x log(x)``: 0 at 0, ``-inf`` for ``x < 0`` (as SciPy).

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> fsp.entr(np.array([0.0, 1.0, -1.0])).tolist()
        [0.0, -0.0, -inf]
    """
    x = as_float(x)
    positive, safe = _positive(x)
    inside = _ew.neg(_ew.mul(x, _ew.log(safe)))
    zero = _ew.mul(x, 0.0)  # in x's dtype (read only where x == 0)
    out = _ew.select(positive, inside, _ew.select(_ew.eq(x, 0.0), zero, -math.inf))
    return _ew.select(_em.isnan(x), x, out)  # NaN stays NaN


def _weak_as(a: Any, other: Any) -> Any:
    """``a`` in ``other``'s dtype if ``a`` stands for a Python number and ``other`` is an array."""
    return a if scalar_kind(a) is None or scalar_kind(other) is not None else _in_dtype_of(a, other)


def _relative_entropy(x: Array, y: Array, plus: bool) -> Array:
    # A Python number (or, under jit, a variable standing for one) takes the other argument's
    # dtype, as in SciPy's ufuncs: the branches below would otherwise make it a float64 array,
    # which promotes a float32 operand.
    x, y = _weak_as(x, y), _weak_as(y, x)
    x_pos, x_safe = _positive(x)
    y_pos, y_safe = _positive(y)
    inside = _ew.mul(x, _ew.log(_ew.div(x_safe, y_safe)))
    if plus:
        inside = _ew.add(_ew.sub(inside, x), y)
    at_zero = _em.logical_and(_ew.eq(x, 0.0), _ew.ge(y, 0.0))
    edge = _ew.select(at_zero, y if plus else _ew.mul(x, 0.0), math.inf)  # x * 0: x's dtype
    out = _ew.select(_em.logical_and(x_pos, y_pos), inside, edge)
    nan = _em.logical_or(_em.isnan(x), _em.isnan(y))
    return _ew.select(nan, _ew.add(x, y), out)  # NaN in either argument gives NaN


def rel_entr(x: ArrayLike, y: ArrayLike) -> Array:
    """The elementwise relative entropy ``x log(x / y)`` for ``x, y > 0``; 0 where ``x == 0``
    and ``y >= 0``; ``inf`` elsewhere (as SciPy).

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> fsp.rel_entr(np.array([0.0, 1.0, 1.0]), np.array([1.0, 1.0, -1.0])).tolist()
        [0.0, 0.0, inf]
    """
    return _relative_entropy(as_float(x), as_float(y), plus=False)


def kl_div(x: ArrayLike, y: ArrayLike) -> Array:
    """The elementwise Kullback-Leibler divergence ``x log(x / y) - x + y`` for ``x, y > 0``;
    ``y`` where ``x == 0`` and ``y >= 0``; ``inf`` elsewhere (as SciPy).

    Example:
        >>> import functrans.scipy.special as fsp, numpy as np
        >>> fsp.kl_div(np.array([0.0, 1.0]), np.array([2.0, 1.0])).tolist()
        [2.0, 0.0]
    """
    return _relative_entropy(as_float(x), as_float(y), plus=True)


def _integer_operand(n: ArrayLike) -> Any:
    """A Python int stays one (it meets arrays on any device); anything else becomes an array."""
    n = operand(n)
    return int(n) if isinstance(n, (int, np.integer)) and not isinstance(n, bool) else as_array(n)


def _in_float(v: Any, dtype: Any) -> Any:
    return float(v) if isinstance(v, int) else convert_element_type(v, new_dtype=dtype)


def _degree_bound(n: ArrayLike, what: str) -> int:
    """The largest entry of the integer ``n``, read on the host (a Python int)."""
    n = _integer_operand(n)
    if isinstance(n, int):
        return n
    if n.dtype.kind not in "iu":
        raise TypeError(f"sph_harm_y: {what} must be integers, got dtype {n.dtype}")
    return int(host_values(max(n))) if math.prod(n.shape) else 0


def sph_harm_y(n: ArrayLike, m: ArrayLike, theta: ArrayLike, phi: ArrayLike, *, diff_n: int = 0,
               n_max: int | None = None) -> Array:
    """The spherical harmonic ``Y_n^m(theta, phi)`` in SciPy's convention: degree ``n``, order
    ``m`` (integers, ``|m| <= n``, 0 otherwise), polar angle ``theta``, azimuthal angle ``phi``;
    orthonormal on the sphere, with the Condon-Shortley phase. Differentiable in ``theta`` and
    ``phi``. ``n`` and ``m`` are read on the host for the largest degree, so they cannot be
    traced under ``jit`` or ``vmap`` unless JAX's ``n_max`` (a Python int, at least every
    ``n``) gives that bound.

    Computed by the stable recurrence of the normalized associated Legendre functions in
    ``cos(theta)`` and ``|sin(theta)|`` (as SciPy), up to the largest degree asked for.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.sph_harm_y(0, 0, 0.3, 0.4).real), 12)  # 1 / sqrt(4 pi)
        0.282094791774
    """
    if diff_n != 0:
        raise NotImplementedError("sph_harm_y(diff_n=...) is not offered: differentiate with "
                                  "functrans.grad or jacfwd in theta and phi instead")
    n_, m_ = _integer_operand(n), _integer_operand(m)
    m_abs = _em.abs(m_)
    if n_max is None:
        try:
            top_n = _degree_bound(n_, "n")
            top_m = min(_degree_bound(m_abs, "m"), top_n)
        except errors.TracerConversionError:
            raise errors.TracerConversionError(
                "sph_harm_y: the largest degree n is read to size the recurrence, and n's values are "
                "not known under jit or vmap: pass n_max=<the largest n> (a Python int), as in JAX") from None
    else:
        top_n = top_m = int(n_max)
        if not any_tracer(n_) and _degree_bound(n_, "n") > top_n:
            raise ValueError(f"sph_harm_y: n has a degree above n_max={n_max}")
    theta, phi = as_float(theta), as_float(phi)
    x = _em.cos(theta)
    s = _em.abs(_em.sin(theta))
    # the normalized P_n^|m|(cos theta), 0 where |m| > n: zeros of the broadcast shape, in the
    # angles' float dtype (float64 for Python numbers), on the arrays' device
    ftype = getattr(x, "dtype", np.dtype(np.float64))
    legendre = _ew.add(_ew.mul(x, 0.0), _ew.add(_ew.mul(_in_float(n_, ftype), 0.0),
                                                _ew.mul(_in_float(m_, ftype), 0.0)))
    diagonal: ArrayLike = 1.0 / math.sqrt(4.0 * math.pi)  # P_k^k
    for k in range(top_m + 1):
        if k > 0:
            diagonal = _ew.mul(_ew.mul(s, -math.sqrt((2 * k + 1) / (2 * k))), diagonal)
        order_k = _ew.eq(m_abs, k)
        legendre = _ew.select(_em.logical_and(order_k, _ew.eq(n_, k)), diagonal, legendre)
        before, current = None, diagonal
        for degree in range(k + 1, top_n + 1):
            a = math.sqrt((4 * degree * degree - 1) / (degree * degree - k * k))
            if before is None:
                following = _ew.mul(_ew.mul(x, a), current)
            else:
                a_before = math.sqrt((4 * (degree - 1) ** 2 - 1) / ((degree - 1) ** 2 - k * k))
                following = _ew.mul(a, _ew.sub(_ew.mul(x, current), _ew.div(before, a_before)))
            before, current = current, following
            legendre = _ew.select(_em.logical_and(order_k, _ew.eq(n_, degree)), current, legendre)
    # Y_n^-m = (-1)^m conj(Y_n^m): the same Legendre part, the sign (-1)^m, and exp(-i m phi)
    odd_negative = _em.logical_and(_ew.lt(m_, 0), _ew.eq(_em.mod(m_abs, 2), 1))
    legendre = _ew.select(odd_negative, _ew.neg(legendre), legendre)
    angle = _ew.mul(phi, _in_float(m_, ftype))
    return _ew.mul(legendre, fnp.exp(_ew.mul(angle, 1j)))


def sph_harm(m: ArrayLike, n: ArrayLike, theta: ArrayLike, phi: ArrayLike, n_max: int | None = None) -> Array:
    """The spherical harmonic in the older convention of SciPy's ``sph_harm`` and of JAX: order
    ``m`` first, ``theta`` the azimuthal and ``phi`` the polar angle; equal to
    ``sph_harm_y(n, m, phi, theta)``, ``n_max`` as there.

    Example:
        >>> import functrans.scipy.special as fsp
        >>> round(float(fsp.sph_harm(0, 1, 0.4, 0.0).real), 12)  # sqrt(3 / (4 pi))
        0.488602511903
    """
    return sph_harm_y(n, m, phi, theta, n_max=n_max)
