"""The hypergeometric functions of real arguments: Kummer's ``hyp1f1(a, b, x)`` = 1F1(a; b; x)
and Gauss's ``hyp2f1(a, b, c, x)`` = 2F1(a, b; c; x).

Both are computed with the array operations of their inputs' backend (NumPy, CuPy), a power
series of a fixed number of terms summed for every element at once, never on the host, in
float64 (float32 results are rounded from it). The series is taken where it converges well,
after a transformation that takes the argument there:

- 1F1: for ``x < 0`` Kummer's ``1F1(a; b; x) = e^x 1F1(b - a; b; -x)``, so the series runs on a
  positive argument; ``x`` up to about 700 (beyond, the value overflows float64 unless it is a
  polynomial). The running sum is rescaled as it grows, so ``e^x`` times a large series is
  formed in logarithms.
- 2F1 (``x <= 1``): the series for ``0 <= x <= 0.9``; Pfaff's
  ``2F1(a, b; c; x) = (1 - x)^-a 2F1(a, c - b; c; x / (x - 1))`` for ``x < 0``; and for a
  transformed argument ``z > 0.9`` the connection formula in ``1 - z`` (two series of argument
  at most 0.1, with gamma-function coefficients).

Where the result cannot be trusted, the value is NaN rather than a wrong number: when the
series has not converged within its terms, or when its terms (or the two parts of the
connection formula) cancel by more than a factor 1e5 (a relative error above about 1e-10).
That happens for 1F1 with ``a < 0`` (``b - a < 0`` for ``x < 0``) and ``|x|`` beyond a few
units, where the function oscillates (and near its zeros), and for 2F1 within 0.1 of ``x = 1``
(or below ``x = -9``) when ``c - a - b`` is within about 1e-5 of an integer but not one (up to
rounding, which counts as one), and for parameters beyond about 20 in magnitude where the
terms cancel. Poles follow SciPy: ``inf`` for ``b`` (``c``) a non-positive
integer unless the series ends before it; 2F1 at ``x = 1`` is Gauss's sum, ``inf`` for
``c - a - b <= 0``. For ``x > 1`` 2F1 is complex (SciPy gives ``inf``): NaN here, except for the
polynomials (``a`` or ``b`` a non-positive integer), which are summed for every ``x``.

Example:
    >>> round(float(hyp1f1(1.0, 2.0, 1.0)), 12)  # (e - 1) / 1
    1.718281828459
"""
from __future__ import annotations

import functools
import math

import numpy as np

from functrans import errors
from functrans.backend import array_module_of, backend_of
from functrans.primitives._define import defjvp, elementwise
from functrans.primitives.elementwise import add, div, mul

_EPS = 2.0 ** -52
_CANCELLATION = 1e5  # the most the terms may exceed the sum by (a relative error about 1e-10)
_RESCALE = 1e150  # the running sums are divided by this whenever they pass it
_TERMS_1F1 = 1200  # enough for |x| up to about 700 with moderate a and b
_TERMS_2F1 = 400  # enough for arguments up to 0.9 with |a|, |b| up to about 100


def _float64(xp, *args):
    """The arguments as float64 arrays of their broadcast shape, on the device of the arrays
    among them (Python numbers join them by arithmetic, never through xp.asarray)."""
    zero = xp.zeros(())
    arrays = [a for a in args if hasattr(a, "dtype") and getattr(a, "ndim", 0) >= 0 and not isinstance(a, float)]
    if arrays:
        zero = sum((xp.zeros_like(a, dtype=xp.float64) for a in arrays[1:]), xp.zeros_like(arrays[0], dtype=xp.float64))
    return [zero + (a.astype(xp.float64) if hasattr(a, "astype") else float(a)) for a in args]


def _result_dtype(*args):
    dtype = np.result_type(*(a.dtype if hasattr(a, "dtype") else a for a in args))
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _quietly(impl):
    """``impl`` without NumPy's warnings: the divisions by 0 and overflows of the branches and
    terms not taken are expected."""
    @functools.wraps(impl)
    def run(*args):
        with np.errstate(all="ignore"):
            return impl(*args)

    return run


def _non_positive_integer(xp, v):
    return (v <= 0) & (v == xp.floor(v))


def _series(xp, uppers, lower, z, terms):
    """sum over k of prod(upper)_k / (lower)_k z^k / k!, its log scale, and whether it is
    trustworthy (converged, no cancellation beyond _CANCELLATION). A term that reaches 0 (an
    upper parameter a non-positive integer) ends the series."""
    total = xp.ones_like(z)
    term = xp.ones_like(z)
    largest = xp.ones_like(z)
    log_scale = xp.zeros_like(z)
    backend = backend_of(z)
    for k in range(terms):
        ratio = z / ((lower + k) * (k + 1.0))
        for upper in uppers:
            ratio = ratio * (upper + k)
        term = xp.where(term == 0.0, 0.0, term * ratio)
        total = total + term
        largest = xp.maximum(largest, xp.abs(term))
        if k % 8 == 7:  # (a sum grows by less than 1e150 in 8 terms before it overflows)
            big = xp.abs(total) > _RESCALE
            factor = xp.where(big, 1.0 / _RESCALE, 1.0)
            total, term, largest = total * factor, term * factor, largest * factor
            log_scale = log_scale + xp.where(big, math.log(_RESCALE), 0.0)
            # every remaining term below the rounding of the sum: past the poles of the lower
            # parameter and shrinking by half a term or more (the terms left add nothing). One
            # boolean read back every 8 terms: on a device that costs a synchronization, where
            # the full loop would cost over a thousand more kernel launches.
            done = (term == 0.0) | ((xp.abs(term) <= _EPS * xp.abs(total)) & (lower + k > 0.0)
                                    & (xp.abs(ratio) <= 0.5))
            if bool(backend.to_host(done.all())):
                break
    converged = xp.abs(term) <= _EPS * xp.abs(total)
    trusted = converged & (largest <= _CANCELLATION * xp.abs(total))
    return total, log_scale, trusted | xp.isinf(total)


# --- hyp1f1(a, b, x) = 1F1(a; b; x): d/dx = a / b 1F1(a + 1; b + 1; x); no derivative in a, b ------
def _hyp1f1_impl(a, b, x):
    xp = array_module_of(a, b, x)
    dtype = _result_dtype(a, b, x)
    a, b, x = _float64(xp, a, b, x)
    b_pole = _non_positive_integer(xp, b)
    # Kummer's transformation for x < 0 (not at a pole of b, where it does not hold)
    kummer = (x < 0) & ~b_pole
    upper = xp.where(kummer, b - a, a)
    total, log_scale, trusted = _series(xp, (upper,), b, xp.where(kummer, -x, x), _TERMS_1F1)
    exponent = log_scale + xp.where(kummer, x, 0.0)
    out = total * xp.exp(xp.minimum(exponent, 800.0))  # (800: overflow to inf, not inf * 0)
    out = xp.where(trusted, out, xp.nan)
    # a pole of b that the series does not end before: SciPy's inf
    ends_first = _non_positive_integer(xp, a) & (a > b)
    out = xp.where(b_pole & ~ends_first & ~xp.isnan(a + x), xp.inf, out)
    return out.astype(dtype, copy=False)


hyp1f1_p = elementwise("hyp1f1", _quietly(_hyp1f1_impl))


# --- hyp2f1(a, b, c, x) = 2F1(a, b; c; x) (x <= 1): d/dx = a b / c 2F1(a + 1, b + 1; c + 1; x) ------
def _gamma(xp, v):
    return backend_of(v).special.gamma(v)


def _rgamma(xp, v):
    """1 / Gamma(v), 0 at the poles (where SciPy's gamma gives inf or NaN)."""
    pole = _non_positive_integer(xp, v)
    return xp.where(pole, 0.0, 1.0 / _gamma(xp, xp.where(pole, 1.0, v)))


def _hyp2f1_impl(a, b, c, x):
    xp = array_module_of(a, b, c, x)
    dtype = _result_dtype(a, b, c, x)
    a, b, c, x = _float64(xp, a, b, c, x)
    a_end, b_end = _non_positive_integer(xp, a), _non_positive_integer(xp, b)
    polynomial = a_end | b_end
    # Pfaff's transformation for x < 0, keeping the parameter that ends a polynomial (b's
    # variant when only b is a non-positive integer): z = x / (x - 1) in (0, 1)
    pfaff = x < 0
    b_variant = b_end & ~a_end
    z = xp.where(pfaff, x / (x - 1.0), x)
    a1 = xp.where(pfaff & b_variant, c - a, a)
    b1 = xp.where(pfaff & ~b_variant, c - b, b)
    prefactor_log = xp.where(pfaff, -xp.where(b_variant, b, a) * xp.log1p(-xp.where(pfaff, x, 0.0)), 0.0)

    # the series in z (for z <= 0.9, and for the polynomials at every x)
    direct = polynomial | (z <= 0.9)
    zs = xp.where(direct, z, 0.0)
    total, log_scale, trusted = _series(xp, (a1, b1), c, zs, _TERMS_2F1)
    series = xp.where(trusted, total * xp.exp(log_scale + prefactor_log), xp.nan)

    # the connection formula in w = 1 - z for 0.9 < z <= 1 (w formed without rounding: 1 - x,
    # or 1 / (1 - x) after Pfaff's transformation)
    connect = ~direct & (z <= 1.0)
    w = xp.where(connect, xp.where(pfaff, 1.0 / (1.0 - xp.where(pfaff, x, 0.0)), 1.0 - x), 0.0)
    d = c - a1 - b1
    # (an integer up to the rounding of c - a - b: c = a + b + 1 computed in floats counts)
    integer_d = xp.abs(d - xp.round(d)) <= 64.0 * _EPS * (xp.abs(a1) + xp.abs(b1) + xp.abs(c))
    d = xp.where(integer_d, xp.round(d), d)
    general = connect & ~integer_d
    dg = xp.where(general, d, 0.5)
    f1, s1, ok1 = _series(xp, (a1, b1), 1.0 - dg, w, _TERMS_2F1 // 4)
    f2, s2, ok2 = _series(xp, (c - a1, c - b1), 1.0 + dg, w, _TERMS_2F1 // 4)
    g1 = _gamma(xp, c) * _gamma(xp, dg) * _rgamma(xp, c - a1) * _rgamma(xp, c - b1)
    g2 = _gamma(xp, c) * _gamma(xp, -dg) * _rgamma(xp, a1) * _rgamma(xp, b1)
    with_w = xp.where(w > 0.0, w, 1.0)
    part1 = g1 * f1 * xp.exp(s1)
    part2 = g2 * f2 * xp.exp(s2 + dg * xp.log(with_w))
    part2 = xp.where(w > 0.0, part2, xp.where(dg > 0.0, 0.0, xp.inf))  # (1 - z)^d at z = 1
    ok = ok1 & ok2
    # c - a - b an integer: the logarithmic form
    logarithmic = connect & integer_d
    part1, part2, ok = [xp.where(logarithmic, u, v) for u, v in
                        zip(_hyp2f1_logarithmic(xp, a1, b1, c, d, w, logarithmic), (part1, part2, ok))]
    joined = part1 + part2
    sound = ok & xp.isfinite(joined) & (xp.abs(part1) + xp.abs(part2) <= _CANCELLATION * xp.abs(joined))
    connected = xp.where(sound, joined * xp.exp(prefactor_log), xp.nan)
    # Gauss's sum at x = 1 diverges for d <= 0 (any d: the logarithmic case included)
    connected = xp.where((x == 1.0) & (d <= 0.0), xp.inf, connected)

    out = xp.where(direct, series, xp.where(connect, connected, xp.nan))
    # a pole of c that the series does not end before: SciPy's inf
    c_pole = _non_positive_integer(xp, c)
    ends_first = (a_end & (a > c)) | (b_end & (b > c))
    out = xp.where(c_pole & ~ends_first & ~xp.isnan(a + b + x), xp.inf, out)
    return out.astype(dtype, copy=False)


hyp2f1_p = elementwise("hyp2f1", _quietly(_hyp2f1_impl))

_MAX_M = 64  # the largest integer |c - a - b| the logarithmic form takes


def _hyp2f1_logarithmic(xp, a, b, c, d, w, chosen):
    """2F1(a, b; c; 1 - w) for an integer m = c - a - b, as two parts (and whether they are
    sound): for m >= 0 the finite sum and the series with logarithms and digammas of the
    limit of the connection formula (Abramowitz and Stegun 15.3.10-11); for m < 0 the same
    after Euler's transformation 2F1(a, b; c; z) = w^m 2F1(c - a, c - b; c; z)."""
    special = backend_of(w).special
    euler = chosen & (d < 0)
    m = xp.where(chosen, xp.abs(d), 1.0)
    a, b = xp.where(euler, c - a, a), xp.where(euler, c - b, b)
    a, b = xp.where(chosen, a, 0.5), xp.where(chosen, b, 0.5)
    w = xp.where(chosen, w, 0.5)
    log_w = xp.log(xp.where(w > 0.0, w, 1.0))
    scale = xp.exp(xp.where(euler, -m * log_w, 0.0))  # w^d for d < 0
    gamma_c = special.gamma(a + b + m)
    # the finite sum over n < m of (a)_n (b)_n / (n! (1 - m)_n) w^n, times Gamma(m) Gamma(c) /
    # (Gamma(a + m) Gamma(b + m))
    term = xp.ones_like(w)
    first = xp.where(m > 0.0, 1.0, 0.0)
    for n in range(_MAX_M - 1):
        step = (a + n) * (b + n) / ((n + 1.0) * xp.where(m - 1.0 == n, 1.0, 1.0 - m + n)) * w
        term = term * step
        first = first + xp.where(n + 1.0 < m, term, 0.0)
    first = first * xp.where(m > 0.0, special.gamma(xp.maximum(m, 1.0)), 0.0) * gamma_c * (
        _rgamma(xp, a + m) * _rgamma(xp, b + m))
    # the series over n of (a + m)_n (b + m)_n / (n! (n + m)!) w^(n + m) [log w - psi(n + 1)
    # - psi(n + m + 1) + psi(a + n + m) + psi(b + n + m)]
    term = xp.exp(m * log_w - special.gammaln(m + 1.0))
    psi_n, psi_nm = special.digamma(xp.ones_like(w)), special.digamma(m + 1.0)
    psi_a, psi_b = special.digamma(a + m), special.digamma(b + m)
    second = xp.zeros_like(w)
    largest = xp.zeros_like(w)
    for n in range(_TERMS_2F1 // 4):
        piece = term * (log_w - psi_n - psi_nm + psi_a + psi_b)
        second = second + piece
        largest = xp.maximum(largest, xp.abs(piece))
        term = term * (a + m + n) * (b + m + n) / ((n + 1.0) * (n + m + 1.0)) * w
        psi_n, psi_nm = psi_n + 1.0 / (n + 1.0), psi_nm + 1.0 / (n + m + 1.0)
        psi_a, psi_b = psi_a + 1.0 / (a + m + n), psi_b + 1.0 / (b + m + n)
    second = xp.where(w > 0.0, second, 0.0)
    sign = xp.where(m % 2.0 == 1.0, 1.0, -1.0)  # -(-1)^m
    second = sign * second * gamma_c * _rgamma(xp, a) * _rgamma(xp, b)
    converged = (xp.abs(term) <= _EPS * xp.abs(second) + 1e-300) & (largest <= _CANCELLATION * xp.abs(second) + 1e-300)
    return first * scale, second * scale, (m <= _MAX_M) & (converged | (w == 0.0))


def _not_differentiable(function, argument):
    def rule(t, *primals):
        raise errors.UnsupportedError(
            f"{function} is not differentiable in {argument} here (only in x); wrap {argument} in "
            f"stop_gradient if it is a constant")

    return rule


defjvp(hyp1f1_p,
       _not_differentiable("hyp1f1", "a"),
       _not_differentiable("hyp1f1", "b"),
       lambda t, a, b, x: mul(t, mul(div(a, b), hyp1f1_p.bind(add(a, 1.0), add(b, 1.0), x))))
defjvp(hyp2f1_p,
       _not_differentiable("hyp2f1", "a"),
       _not_differentiable("hyp2f1", "b"),
       _not_differentiable("hyp2f1", "c"),
       lambda t, a, b, c, x: mul(t, mul(div(mul(a, b), c), hyp2f1_p.bind(add(a, 1.0), add(b, 1.0), add(c, 1.0), x))))

hyp1f1 = hyp1f1_p.bind
hyp2f1 = hyp2f1_p.bind
