"""Special functions: ``erf``, ``erfc``, ``erfinv``, ``lgamma``, ``digamma``, ``polygamma``,
the modified Bessel functions ``i0``, ``i1`` and their scaled forms ``i0e``, ``i1e``, and
``log_ndtr`` (the log of the standard normal distribution function).

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

from functrans.backend import array_module, backend_of
from functrans.primitives._define import defjvp, defjvp_with_output, elementwise
from functrans.primitives.elementwise import add, div, eq, exp, log, log1p, mul, neg, select, sign, sub

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


def _special(name, scipy_name=None, fallback=None):
    scipy_name = scipy_name or name
    SPECIAL_FUNCTIONS.append(scipy_name)

    def impl(x, **params):
        try:
            special = _special_module(x, name)
        except ImportError:
            if fallback is None:
                raise
            return fallback(x, **params)
        out = getattr(special, scipy_name)(*params.values(), x)
        dtype = getattr(x, "dtype", None)
        if dtype is not None and dtype.kind == "f" and out.dtype != dtype:
            out = out.astype(dtype)  # polygamma computes float32 input in float64
        return out

    impl.__name__ = f"_{name}_impl"
    return elementwise(name, impl)


# --- erf, erfc: d erf(x) = 2 / sqrt(pi) exp(-x^2) -----------------------------------------------
erf_p = _special("erf")
defjvp(erf_p, lambda t, x: mul(t, mul(_TWO_OVER_SQRT_PI, exp(neg(mul(x, x))))))

erfc_p = _special("erfc")
defjvp(erfc_p, lambda t, x: mul(t, mul(-_TWO_OVER_SQRT_PI, exp(neg(mul(x, x))))))

# --- erfinv: d erfinv(x) = sqrt(pi) / 2 exp(erfinv(x)^2) --------------------------------------------
erfinv_p = _special("erfinv")
defjvp_with_output(erfinv_p, lambda t, out, x: mul(t, mul(_SQRT_PI_OVER_2, exp(mul(out, out)))))

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
        x_zero = x == 0
        safe = xp.where(x_zero, 1.0 - shift, y)
        zero = backend.full((), 0, xp.result_type(x, y), backend.device_of(like))
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

xlogy = xlogy_p.bind
xlog1py = xlog1py_p.bind
erf = erf_p.bind
erfc = erfc_p.bind
erfinv = erfinv_p.bind
lgamma = lgamma_p.bind
digamma = digamma_p.bind
i0 = i0_p.bind
i1 = i1_p.bind
i0e = i0e_p.bind
i1e = i1e_p.bind
log_ndtr = log_ndtr_p.bind


def polygamma(n: int, x):
    return polygamma_p.bind(x, n=n)

