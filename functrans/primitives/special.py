"""Special functions: ``erf``, ``erfc``, ``erfinv``, ``lgamma``, ``gamma``, ``digamma``,
``polygamma``, the modified Bessel functions ``i0``, ``i1`` and their scaled forms ``i0e``,
``i1e``, ``log_ndtr`` (the log of the standard normal distribution function), ``betaln``, the
regularized incomplete beta and gamma functions ``betainc``, ``gammainc``, ``gammaincc``,
``gammaincinv`` (and
``gammainc_grad_a``, the derivative of ``gammainc`` in ``a``), the
Hurwitz zeta function ``zeta``, the dilogarithm ``spence``, the scaled complementary error
function ``erfcx``, Dawson's integral ``dawsn``, the exponential integrals ``exp1``, ``expi``,
``expn``, the Pochhammer symbol ``poch``, the sine and cosine integrals ``sici_si``,
``sici_ci``, the Faddeeva function ``wofz`` and the Bessel functions of the first kind ``j0``,
``j1``.

Values come from SciPy (``scipy.special``) when it is installed; SciPy is not a dependency
of functrans, so without it these primitives raise an error that says to
``pip install scipy`` (``i0`` falls back to ``numpy.i0``). Derivatives are written with
these same primitives, so every order follows.

Example:
    >>> float(xlogy(0.0, 0.0)), float(i0(0.0))
    (0.0, 1.0)
"""
from __future__ import annotations

import math

import numpy as np

from functrans import errors
from functrans.backend import array_module, backend_of, to_host
from functrans.primitives._define import defjvp, defjvp_with_output, elementwise
from functrans.primitives.elementwise import abs as absolute
from functrans.primitives.elementwise import (
    add,
    cos,
    div,
    eq,
    exp,
    floor,
    gt,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    lt,
    mul,
    neg,
    rint,
    select,
    sign,
    sin,
    sub,
)

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _special_module(x, name: str):
    """The special functions of ``x``'s backend (``scipy.special``, ``cupyx.scipy.special``),
    or an error naming the fix."""
    try:
        return backend_of(x).special
    except ImportError:  # pragma: no cover - the test environment has SciPy
        raise ImportError(
            f"functrans needs SciPy for {name}: install it with `pip install scipy` (it is an "
            "optional dependency of functrans)."
        ) from None


#: The scipy.special (and cupyx.scipy.special) functions the primitives call; tests/backend/test_gpu.py
#: checks that CuPy has each of them.
SPECIAL_FUNCTIONS: list[str] = []


def _special(name, scipy_name=None, fallback=None, complex_valued=False):
    """The primitive of ``scipy.special``'s ``scipy_name`` (on the backend of its argument).
    ``complex_valued``: a function of complex numbers (SciPy has no real loop), whose real
    argument is taken as the complex number of its precision (float32 gives complex64)."""
    scipy_name = scipy_name or name
    SPECIAL_FUNCTIONS.append(scipy_name)

    def impl(x, **params):
        if complex_valued:
            x = _as_complex(x)
        try:
            special = _special_module(x, name)
        except ImportError:
            if fallback is None:
                raise
            return fallback(x, **params)
        out = getattr(special, scipy_name)(*params.values(), x)
        dtype = getattr(x, "dtype", None)
        if dtype is not None and dtype.kind == "f" == out.dtype.kind and out.dtype != dtype:
            out = out.astype(dtype)  # polygamma computes float32 input in float64 (wofz: complex out)
        return out

    impl.__name__ = f"_{name}_impl"
    return elementwise(name, impl, preserves_float=not complex_valued)


def _as_complex(x):
    """``x`` as a complex number or array of its precision (float32 and smaller: complex64)."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return complex(x)
    if dtype.kind == "c":
        return x
    return x.astype(np.complex64 if dtype.kind == "f" and dtype.itemsize <= 4 else np.complex128)


# --- erf, erfc: d erf(x) = 2 / sqrt(pi) exp(-x^2) -----------------------------------------------
erf_p = _special("erf")
defjvp(erf_p, lambda t, x: mul(t, mul(_TWO_OVER_SQRT_PI, exp(neg(mul(x, x))))))

erfc_p = _special("erfc")
defjvp(erfc_p, lambda t, x: mul(t, mul(-_TWO_OVER_SQRT_PI, exp(neg(mul(x, x))))))

# --- erfinv: d erfinv(x) = sqrt(pi) / 2 exp(erfinv(x)^2) --------------------------------------------
erfinv_p = _special("erfinv")
defjvp_with_output(erfinv_p, lambda t, out, x: mul(t, mul(_SQRT_PI_OVER_2, exp(mul(out, out)))))

# --- ndtri, the inverse of the normal CDF: d ndtri(p) = sqrt(2 pi) exp(ndtri(p)^2 / 2) ----------------
# Its own primitive rather than sqrt(2) erfinv(2p - 1): 2p - 1 rounds to -1 below p ~ 1e-16, so
# the tails (where ndtri is used most: log-likelihoods, truncated normals) would become -inf.
ndtri_p = _special("ndtri")
defjvp_with_output(ndtri_p, lambda t, out, p: mul(t, mul(math.sqrt(2.0 * math.pi), exp(mul(0.5, mul(out, out))))))

# --- lgamma (log |Gamma|), digamma, polygamma(n, .) ---------------------------------------------------
lgamma_p = _special("lgamma", "gammaln", fallback=None)
defjvp(lgamma_p, lambda t, x: mul(t, digamma(x)))

digamma_p = _special("digamma", "psi")
defjvp(digamma_p, lambda t, x: mul(t, polygamma(1, x)))

polygamma_p = _special("polygamma")
defjvp(polygamma_p, lambda t, x, *, n: mul(t, polygamma(n + 1, x)))

# --- i0, i1 and the scaled i0e = exp(-|x|) i0, i1e ----------------------------------------------------
i0_p = _special("i0", fallback=lambda x: array_module(x).i0(x))
defjvp(i0_p, lambda t, x: mul(t, i1(x)))


def _i1_derivative(x):
    # i1'(x) = i0(x) - i1(x) / x, which tends to 1/2 at 0
    at_zero = eq(x, 0)
    safe = select(at_zero, 1.0, x)
    return select(at_zero, 0.5, sub(i0(x), div(i1(x), safe)))


i1_p = _special("i1")
defjvp(i1_p, lambda t, x: mul(t, _i1_derivative(x)))

i0e_p = _special("i0e")
defjvp(i0e_p, lambda t, x: mul(t, sub(i1e(x), mul(sign(x), i0e(x)))))


def _i1e_derivative(x):
    at_zero = eq(x, 0)
    safe = select(at_zero, 1.0, x)
    value = sub(sub(i0e(x), div(i1e(x), safe)), mul(sign(x), i1e(x)))
    return select(at_zero, 0.5, value)


i1e_p = _special("i1e")
defjvp(i1e_p, lambda t, x: mul(t, _i1e_derivative(x)))


# --- log_ndtr: log Phi(x), accurate far into the left tail; d/dx = phi(x) / Phi(x) -------------------
log_ndtr_p = _special("log_ndtr")
defjvp_with_output(
    log_ndtr_p,
    lambda t, out, x: mul(t, exp(sub(sub(mul(-0.5, mul(x, x)), _LOG_SQRT_2PI), out))),
)


# --- xlogy(x, y) = x log(y) and xlog1py(x, y) = x log1p(y), both 0 where x == 0 ---------------------
def _x_log_impl(log_name, shift):
    def impl(x, y):
        like = x if not isinstance(x, (int, float)) else y
        backend = backend_of(like)
        xp = backend.xp
        x_zero = (x == 0) & ~xp.isnan(y)  # 0 * log(NaN) is NaN, as SciPy
        dtype = xp.result_type(x, y)  # a Python number is weak: a float32 x with y = 0.5 stays float32
        one = backend.full((), 1.0 - shift, dtype, backend.device_of(like))
        safe = xp.where(x_zero, one, y)
        zero = backend.full((), 0, dtype, backend.device_of(like))
        return xp.where(x_zero, zero, x * getattr(xp, log_name)(safe))

    return impl


def _x_over(x, y_plus):
    """``x / y_plus``, 0 where ``x == 0`` (the derivative in y of x log(y) there)."""
    x_zero = eq(x, 0)
    return select(x_zero, 0.0, div(x, select(x_zero, 1.0, y_plus)))


xlogy_p = elementwise("xlogy", _x_log_impl("log", 0.0))
defjvp(
    xlogy_p,
    lambda t, x, y: mul(t, log(y)),
    lambda t, x, y: mul(t, _x_over(x, y)),
    broadcast=True,
)

xlog1py_p = elementwise("xlog1py", _x_log_impl("log1p", 1.0))
defjvp(
    xlog1py_p,
    lambda t, x, y: mul(t, log1p(y)),
    lambda t, x, y: mul(t, _x_over(x, add(y, 1.0))),
    broadcast=True,
)

# --- functions of several arguments, valued by scipy.special: the array module of the first array
def _special_n(name, scipy_name=None):
    scipy_name = scipy_name or name
    SPECIAL_FUNCTIONS.append(scipy_name)

    def impl(*args):
        like = next((a for a in args if hasattr(a, "dtype")), args[0])
        out = getattr(_special_module(like, name), scipy_name)(*args)
        dtype = np.result_type(*(a.dtype if hasattr(a, "dtype") else a for a in args))
        if dtype.kind == "f" and out.dtype != dtype:
            out = out.astype(dtype)
        return out

    impl.__name__ = f"_{name}_impl"
    return elementwise(name, impl)


def _not_differentiable_in(function, argument, fix):
    """A JVP rule for an argument the function has no derivative in: an error naming it."""
    def rule(t, *primals):
        raise errors.UnsupportedError(
            f"{function} is not differentiable in {argument} (its derivative there is not "
            f"implemented); {fix}")

    return rule


# --- gamma: Gamma(x), NaN at the poles (0 excepted: +-inf) as SciPy; d Gamma = Gamma digamma ----------
gamma_p = _special("gamma")
defjvp_with_output(gamma_p, lambda t, out, x: mul(t, mul(out, digamma(x))))

def _is_python_number(x):
    return isinstance(x, (int, float))


def _lgamma_of(a):
    """``lgamma(a)``, a Python float for a Python number (weakly typed: it keeps float32)."""
    return math.lgamma(a) if _is_python_number(a) else lgamma(a)


def _digamma_of(a):
    return float(digamma(a)) if _is_python_number(a) else digamma(a)


def _betaln_of(a, b):
    if _is_python_number(a) and _is_python_number(b):
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    return betaln(a, b)


# --- betaln(a, b) = log|B(a, b)|: d/da = digamma(a) - digamma(a + b) ---------------------------
betaln_p = _special_n("betaln")
defjvp(betaln_p,
       lambda t, a, b: mul(t, sub(digamma(a), digamma(add(a, b)))),
       lambda t, a, b: mul(t, sub(digamma(b), digamma(add(a, b)))))

# --- betainc(a, b, x) = I_x(a, b): d/dx = x^(a-1) (1-x)^(b-1) / B(a, b); in a and b: none -------
_BETAINC_FIX = "wrap a and b in stop_gradient if they are constants"
betainc_p = _special_n("betainc")
defjvp(betainc_p,
       _not_differentiable_in("betainc", "a", _BETAINC_FIX),
       _not_differentiable_in("betainc", "b", _BETAINC_FIX),
       lambda t, a, b, x: mul(t, exp(sub(add(xlogy(sub(a, 1.0), x), xlog1py(sub(b, 1.0), neg(x))),
                                         _betaln_of(a, b)))))


# --- gammainc(a, x) = P(a, x) and gammaincc = Q = 1 - P: d/dx P = x^(a-1) e^-x / Gamma(a) ---------
def _gamma_density(a, x):
    return exp(sub(sub(xlogy(sub(a, 1.0), x), x), _lgamma_of(a)))


# The derivative of P in a, by the series P = e^-x x^a / Gamma(a + 1) sum_n x^n / ((a+1)...(a+n)),
# differentiated term by term: d/da log(term_n) = -(1/(a+1) + ... + 1/(a+n)). The terms are
# scaled by the prefactor from the start, so nothing overflows; far in the upper tail (x >> a)
# the prefactor underflows to 0, where the derivative is below the smallest float anyway.
# The sum converges for every x, in about x - a + 40 sqrt(x) terms.
def _gammainc_grad_a_impl(a, x):
    like = next((v for v in (a, x) if hasattr(v, "dtype")), None)
    if like is None:  # two Python numbers: a NumPy float64 result
        a, x = np.asarray(float(a)), np.asarray(float(x))  # host-metadata: Python scalars
        like = a
    xp = array_module(like)
    special = _special_module(like, "gammainc")
    out_dtype = np.result_type(*(v.dtype if hasattr(v, "dtype") else v for v in (a, x)))
    zero = x * 0.0 + a * 0.0  # the broadcast shape, on like's device
    a = (a + zero).astype(np.float64)
    x = (x + zero).astype(np.float64)
    with np.errstate(all="ignore"):
        valid = (a > 0) & (x > 0)
        a_safe, x_safe = xp.where(valid, a, 1.0), xp.where(valid, x, 1.0)
        term = xp.exp(a_safe * xp.log(x_safe) - x_safe - special.gammaln(a_safe + 1.0))
        total, d_total, harmonic = term, zero.astype(np.float64), zero.astype(np.float64)
        n = 0
        while True:
            n += 1
            term = term * x_safe / (a_safe + n)
            harmonic = harmonic + 1.0 / (a_safe + n)
            total = total + term
            d_total = d_total - term * harmonic
            if n % 8 == 0 and bool(to_host(
                    xp.all(term * (1.0 + harmonic) <= 1e-17 * (total + xp.abs(d_total))))):
                break
        grad = total * (xp.log(x_safe) - special.psi(a_safe + 1.0)) + d_total
        grad = xp.where(valid, grad, xp.where((x == 0) & (a > 0), 0.0, xp.nan))
    return grad.astype(out_dtype) if out_dtype.kind == "f" else grad


def _gamma_density_log_derivative(a, x):
    """d/da of the density x^(a-1) e^-x / Gamma(a): the density times log(x) - digamma(a)."""
    return mul(_gamma_density(a, x), sub(log(x), _digamma_of(a)))


gammainc_grad_a_p = elementwise("gammainc_grad_a", _gammainc_grad_a_impl)
defjvp(gammainc_grad_a_p,
       _not_differentiable_in("the derivative of gammainc in a", "a (the second derivative in a)",
                              "differentiate gammainc once in a, or in x"),
       lambda t, a, x: mul(t, _gamma_density_log_derivative(a, x)))

gammainc_p = _special_n("gammainc")
defjvp(gammainc_p, lambda t, a, x: mul(t, gammainc_grad_a(a, x)),
       lambda t, a, x: mul(t, _gamma_density(a, x)))
gammaincc_p = _special_n("gammaincc")
defjvp(gammaincc_p, lambda t, a, x: neg(mul(t, gammainc_grad_a(a, x))),
       lambda t, a, x: neg(mul(t, _gamma_density(a, x))))


# --- gammaincinv(a, p): the x with P(a, x) = p. By the implicit function theorem on P(a, x) = p:
# dx/dp = 1 / density(a, x) and dx/da = -(dP/da)(a, x) / density(a, x) -----------------------------
gammaincinv_p = _special_n("gammaincinv")


def _gammaincinv_density(a, p):
    return _gamma_density(a, gammaincinv_p.bind(a, p))


defjvp(gammaincinv_p,
       lambda t, a, p: neg(div(mul(t, gammainc_grad_a(a, gammaincinv_p.bind(a, p))), _gammaincinv_density(a, p))),
       lambda t, a, p: div(t, _gammaincinv_density(a, p)))

# --- zeta(x, q) = sum_k (k + q)^-x (Hurwitz): d/dq = -x zeta(x + 1, q); in x: none ---------------
zeta_p = _special_n("zeta")
defjvp(zeta_p, _not_differentiable_in("zeta", "x", "wrap x in stop_gradient if it is a constant"),
       lambda t, x, q: mul(t, neg(mul(x, zeta(add(x, 1.0), q)))))


# --- spence(z) = integral from 1 to z of log(t) / (1 - t): d/dz = log(z) / (1 - z), -1 at z = 1 ---
def _spence_derivative(z):
    at_one = eq(z, 1.0)
    safe = select(at_one, 2.0, z)
    return select(at_one, -1.0, div(log(safe), sub(1.0, safe)))


spence_p = _special("spence")
defjvp(spence_p, lambda t, z: mul(t, _spence_derivative(z)))

# --- erfcx(x) = exp(x^2) erfc(x): d/dx = 2 x erfcx(x) - 2 / sqrt(pi) ------------------------------
erfcx_p = _special("erfcx")
defjvp_with_output(erfcx_p, lambda t, out, x: mul(t, sub(mul(mul(2.0, x), out), _TWO_OVER_SQRT_PI)))

# --- dawsn(x) = exp(-x^2) integral from 0 to x of exp(t^2): d/dx = 1 - 2 x dawsn(x) ----------------
dawsn_p = _special("dawsn")
defjvp_with_output(dawsn_p, lambda t, out, x: mul(t, sub(1.0, mul(mul(2.0, x), out))))

# --- exp1(x) = E_1(x) = integral from x to inf of exp(-t) / t: d/dx = -exp(-x) / x -----------------
exp1_p = _special("exp1")
defjvp(exp1_p, lambda t, x: mul(t, neg(div(exp(neg(x)), x))))

# --- expi(x) = Ei(x) = the principal value of the integral from -inf to x of exp(t) / t:
# d/dx = exp(x) / x ------------------------------------------------------------------------------
expi_p = _special("expi")
defjvp(expi_p, lambda t, x: mul(t, div(exp(x), x)))


# --- expn(n, x) = E_n(x) = integral from 1 to inf of exp(-x t) / t^n (n an integer; SciPy truncates
# a float n toward zero): d/dx = -E_{n-1}(x), where E_{-1}(x) = exp(-x) (1 + x) / x^2 (SciPy's expn
# gives NaN for n < 0). No derivative in n (it is an integer). -------------------------------------
def _expn_impl(n, x):
    like = x if hasattr(x, "dtype") else n
    xp = array_module(like)
    # truncated here, and -1 (NaN out, as SciPy) for NaN, inf and orders outside the C int range,
    # where SciPy's own cast would warn
    if hasattr(n, "dtype"):
        if n.dtype.kind in "fc":
            n = xp.where(abs(n) < 2.0 ** 31, xp.trunc(n), -1.0)
    else:
        n = float(math.trunc(n)) if abs(n) < 2.0 ** 31 else -1.0
    out = _special_module(like, "expn").expn(n, x)
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and out.dtype != dtype:
        out = out.astype(dtype)  # an integer (or float64) n keeps a float32 x float32, as JAX
    return out


SPECIAL_FUNCTIONS.append("expn")
expn_p = elementwise("expn", _expn_impl)


def _expn_derivative(n, x):
    e_minus_one = div(mul(exp(neg(x)), add(1.0, x)), mul(x, x))
    if _is_python_number(n):  # decided on the host: n - 1 stays a Python number, on no device
        return neg(e_minus_one) if math.isfinite(n) and math.trunc(n) == 0 else neg(expn_p.bind(n - 1.0, x))
    at_zero = eq(n, 0.0)
    return select(at_zero, neg(e_minus_one), neg(expn_p.bind(select(at_zero, 1.0, sub(n, 1.0)), x)))


defjvp(expn_p, _not_differentiable_in("expn", "n", "n is an integer order: pass it as a constant"),
       lambda t, n, x: mul(t, _expn_derivative(n, x)))

# --- poch(z, m) = Gamma(z + m) / Gamma(z) (the Pochhammer symbol): d/dz = poch (digamma(z + m) -
# digamma(z)), d/dm = poch digamma(z + m) ----------------------------------------------------------
poch_p = _special_n("poch")


def _poch_z_derivative(z, m):
    """d/dz poch(z, m), accurate near and at the poles ``z = 0, -1, ...`` of Gamma(z) (the limit
    there), where digamma(z + m) - digamma(z) is a difference of two large numbers or NaN.

    For an integer ``m`` with ``z, z + m < 1/2`` it is digamma(1 - z - m) - digamma(1 - z) (the
    cotangents of the reflection formula cancel), both arguments above 1/2. Otherwise, within
    1/4 of a pole, 1 / Gamma(z) = sin(pi z) Gamma(1 - z) / pi makes poch a smooth product whose
    derivative is written out. Both are identities on a neighbourhood, so their own derivatives
    are the higher derivatives of poch.
    """
    m_integer = eq(m, floor(m))
    reflect = logical_and(logical_and(m_integer, lt(z, 0.5)), lt(add(z, m), 0.5))
    near_pole = logical_and(logical_and(lt(z, 0.25), lt(absolute(sub(z, rint(z))), 0.25)), gt(z, -170.0))
    product = logical_and(near_pole, logical_not(reflect))
    regular = logical_not(logical_or(reflect, product))

    # Each form takes arguments where it is finite (z = 0.5, m = 0) wherever it is not chosen,
    # so that no NaN reaches the derivatives through a branch not taken.
    zb, mb = select(reflect, z, 0.5), select(reflect, m, 0.0)
    reflected = mul(poch_p.bind(zb, mb), sub(digamma(sub(sub(1.0, zb), mb)), digamma(sub(1.0, zb))))
    zp, mp = select(product, z, 0.5), select(product, m, 0.0)
    pi_z, zm, one_minus_z = mul(math.pi, zp), add(zp, mp), sub(1.0, zp)
    of_product = mul(mul(gamma(zm), gamma(one_minus_z)),
                     add(mul(div(sin(pi_z), math.pi), sub(digamma(zm), digamma(one_minus_z))), cos(pi_z)))
    zr = select(regular, z, 0.5)
    direct = mul(poch_p.bind(zr, m), sub(digamma(add(zr, m)), digamma(zr)))
    return select(reflect, reflected, select(product, of_product, direct))


defjvp(poch_p,
       lambda t, z, m: mul(t, _poch_z_derivative(z, m)),
       lambda t, z, m: mul(t, mul(poch_p.bind(z, m), digamma(add(z, m)))))



# --- sici(x) = (Si(x), Ci(x)), the sine and cosine integrals, as two primitives (each takes its
# half of SciPy's sici): d Si = sin(x) / x (1 at 0), d Ci = cos(x) / x (SciPy's Ci(x) for x < 0
# is Ci(|x|), whose derivative is cos(x) / x too) ----------------------------------------------------
def _sici_half(index):
    def impl(x):
        out = _special_module(x, "sici").sici(x)[index]
        dtype = getattr(x, "dtype", None)
        return out.astype(dtype) if dtype is not None and dtype.kind == "f" and out.dtype != dtype else out

    impl.__name__ = f"_sici_{'si' if index == 0 else 'ci'}_impl"
    return impl


def _sinc(x):
    """``sin(x) / x``; below ``|x| = 1e-2`` its Taylor series to ``x**6`` (the next term is under
    1e-21), so that every derivative is right at 0 too."""
    near = lt(absolute(x), 1e-2)
    safe = select(near, 1.0, x)
    x2 = mul(x, x)
    series = add(1.0, mul(x2, add(-1.0 / 6.0, mul(x2, add(1.0 / 120.0, mul(x2, -1.0 / 5040.0))))))
    return select(near, series, div(sin(safe), safe))


SPECIAL_FUNCTIONS.append("sici")
sici_si_p = elementwise("sici_si", _sici_half(0))
defjvp(sici_si_p, lambda t, x: mul(t, _sinc(x)))
sici_ci_p = elementwise("sici_ci", _sici_half(1))
defjvp(sici_ci_p, lambda t, x: mul(t, div(cos(x), x)))

# --- wofz(z) = exp(-z^2) erfc(-i z), the Faddeeva function (complex z): d/dz = 2 i / sqrt(pi) - 2 z w(z)
wofz_p = _special("wofz", complex_valued=True)
defjvp_with_output(wofz_p, lambda t, out, z: mul(t, sub(2j / math.sqrt(math.pi), mul(mul(2.0, z), out))))

# --- j0, j1: the Bessel functions of the first kind of orders 0 and 1: j0' = -j1,
# j1' = j0 - j1 / x (1/2 at 0) -----------------------------------------------------------------------
j0_p = _special("j0")
j1_p = _special("j1")
defjvp(j0_p, lambda t, x: neg(mul(t, j1_p.bind(x))))


def _j1_derivative(x):
    at_zero = eq(x, 0)
    safe = select(at_zero, 1.0, x)
    return select(at_zero, 0.5, sub(j0_p.bind(x), div(j1_p.bind(x), safe)))


defjvp(j1_p, lambda t, x: mul(t, _j1_derivative(x)))

xlogy = xlogy_p.bind
xlog1py = xlog1py_p.bind
gamma = gamma_p.bind
betaln = betaln_p.bind
betainc = betainc_p.bind
gammainc = gammainc_p.bind
gammaincc = gammaincc_p.bind
gammaincinv = gammaincinv_p.bind
gammainc_grad_a = gammainc_grad_a_p.bind
zeta = zeta_p.bind
spence = spence_p.bind
erf = erf_p.bind
erfc = erfc_p.bind
erfinv = erfinv_p.bind
ndtri = ndtri_p.bind
lgamma = lgamma_p.bind
digamma = digamma_p.bind
i0 = i0_p.bind
i1 = i1_p.bind
i0e = i0e_p.bind
i1e = i1e_p.bind
log_ndtr = log_ndtr_p.bind
erfcx = erfcx_p.bind
dawsn = dawsn_p.bind
exp1 = exp1_p.bind
expi = expi_p.bind
expn = expn_p.bind
poch = poch_p.bind
sici_si = sici_si_p.bind
sici_ci = sici_ci_p.bind
wofz = wofz_p.bind
j0 = j0_p.bind
j1 = j1_p.bind


def polygamma(n: int, x):
    return polygamma_p.bind(x, n=n)

