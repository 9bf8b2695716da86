"""More elementwise primitives: inverse trigonometric and hyperbolic functions, base-2 and
base-10 exponentials and logarithms, ``logaddexp``, ``arctan2``, ``hypot``, ``sinc``,
remainders, and the piecewise-constant functions (rounding, predicates, logical operators).

Each block: definition, then its JVP rule written with existing primitives (so every
derivative order follows). Holomorphic rules hold for complex inputs as written.
"""
from __future__ import annotations

import math

from functrans.backend import array_module, array_module_of
from functrans.primitives._define import defjvp, defjvp_with_output, defzero, elementwise
from functrans.primitives.elementwise import (
    _unary, add, cos, div, eq, logistic, mul, neg, rsqrt, select, sub,
)

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _binary_ufunc(name, ufunc_name, preserves_float=True):
    def impl(x, y):
        return getattr(array_module_of(x, y), ufunc_name)(x, y)

    impl.__name__ = f"_{name}_impl"
    return elementwise(name, impl, preserves_float)


def _square(x):
    return mul(x, x)


# --- exp2, log2, log10 ---------------------------------------------------------------------
exp2_p = _unary("exp2", "exp2")
defjvp_with_output(exp2_p, lambda t, out, x: mul(t, mul(out, _LN2)))

log2_p = _unary("log2", "log2")
defjvp(log2_p, lambda t, x: div(t, mul(x, _LN2)))

log10_p = _unary("log10", "log10")
defjvp(log10_p, lambda t, x: div(t, mul(x, _LN10)))

# --- cbrt: d/dx x^(1/3) = 1 / (3 cbrt(x)^2) ------------------------------------------------------
cbrt_p = _unary("cbrt", "cbrt")
defjvp_with_output(cbrt_p, lambda t, out, x: div(t, mul(3, _square(out))))

# --- sinh, cosh ------------------------------------------------------------------------------------
sinh_p = _unary("sinh", "sinh")
defjvp(sinh_p, lambda t, x: mul(t, cosh(x)))

cosh_p = _unary("cosh", "cosh")
defjvp(cosh_p, lambda t, x: mul(t, sinh(x)))

# --- arcsin, arccos, arctan --------------------------------------------------------------------------
arcsin_p = _unary("arcsin", "arcsin")
defjvp(arcsin_p, lambda t, x: mul(t, rsqrt(sub(1, _square(x)))))

arccos_p = _unary("arccos", "arccos")
defjvp(arccos_p, lambda t, x: neg(mul(t, rsqrt(sub(1, _square(x))))))

arctan_p = _unary("arctan", "arctan")
defjvp(arctan_p, lambda t, x: div(t, add(1, _square(x))))

# --- arcsinh, arccosh, arctanh -------------------------------------------------------------------------
arcsinh_p = _unary("arcsinh", "arcsinh")
defjvp(arcsinh_p, lambda t, x: mul(t, rsqrt(add(_square(x), 1))))

arccosh_p = _unary("arccosh", "arccosh")
# (x - 1)(x + 1) rather than x^2 - 1: no cancellation near x = 1.
defjvp(arccosh_p, lambda t, x: mul(t, rsqrt(mul(sub(x, 1), add(x, 1)))))

arctanh_p = _unary("arctanh", "arctanh")
defjvp(arctanh_p, lambda t, x: div(t, mul(sub(1, x), add(1, x))))

# --- arctan2(y, x): the angle of the point (x, y) --------------------------------------------------------
arctan2_p = _binary_ufunc("arctan2", "arctan2")
defjvp(
    arctan2_p,
    lambda t, y, x: mul(t, div(x, add(_square(x), _square(y)))),
    lambda t, y, x: mul(t, neg(div(y, add(_square(x), _square(y))))),
    broadcast=True,
)

# --- hypot(x, y) = sqrt(x^2 + y^2), without overflow; its derivative at the origin is taken as 0 --------


def _hypot_partial(t, x, y):
    out = hypot(x, y)
    at_origin = eq(out, 0)
    return mul(t, select(at_origin, 0.0, div(x, select(at_origin, 1.0, out))))


hypot_p = _binary_ufunc("hypot", "hypot")
defjvp(hypot_p, _hypot_partial, lambda t, x, y: _hypot_partial(t, y, x), broadcast=True)


# --- logaddexp(x, y) = log(exp(x) + exp(y)); logaddexp2 in base 2 ------------------------------------------
def _logaddexp_weight(x, y, scale=1.0):
    """logistic(scale * (x - y)): the share of ``x`` in the sum. Where x - y is nan (both
    inputs the same infinity) the shares are 1/2 each."""
    delta = sub(x, y)
    if scale != 1.0:
        delta = mul(delta, scale)
    return logistic(select(isnan(delta), 0.0, delta))


logaddexp_p = _binary_ufunc("logaddexp", "logaddexp")
defjvp(
    logaddexp_p,
    lambda t, x, y: mul(t, _logaddexp_weight(x, y)),
    lambda t, x, y: mul(t, _logaddexp_weight(y, x)),
    broadcast=True,
)

logaddexp2_p = _binary_ufunc("logaddexp2", "logaddexp2")
defjvp(
    logaddexp2_p,
    lambda t, x, y: mul(t, _logaddexp_weight(x, y, _LN2)),
    lambda t, x, y: mul(t, _logaddexp_weight(y, x, _LN2)),
    broadcast=True,
)


# --- sinc(x) = sin(pi x) / (pi x), 1 at 0 ------------------------------------------------------------------
# Its derivative (cos(pi x) - sinc(x)) / x is computed by ``sinc_derivative``, whose own
# derivative is written out the same way; near 0 both use Taylor series, so the first and
# second derivatives are exact at 0 (0 and -pi^2/3) and free of cancellation near it.
_SMALL = 1e-3
_PI2 = math.pi**2


def _sinc_derivative_impl(x):
    xp = array_module(x)
    x = xp.asarray(x)
    small = xp.abs(x) < _SMALL
    safe = xp.where(small, 1.0, x).astype(x.dtype if x.dtype.kind in "fc" else float)
    far = (xp.cos(math.pi * safe) - xp.sinc(safe)) / safe
    near = -_PI2 / 3 * x + _PI2**2 / 30 * x**3
    return xp.where(small, near, far)


def _sinc_second_impl(x):
    # d/dx [(cos(pi x) - sinc(x)) / x] = (-pi sin(pi x) - 2 sinc'(x)) / x
    xp = array_module(x)
    x = xp.asarray(x)
    small = xp.abs(x) < _SMALL
    safe = xp.where(small, 1.0, x).astype(x.dtype if x.dtype.kind in "fc" else float)
    far = (-math.pi * xp.sin(math.pi * safe) - 2 * _sinc_derivative_impl(safe)) / safe
    near = -_PI2 / 3 + _PI2**2 / 10 * x**2
    return xp.where(small, near, far)


sinc_p = _unary("sinc", "sinc")
defjvp(sinc_p, lambda t, x: mul(t, sinc_derivative_p.bind(x)))

sinc_derivative_p = elementwise("sinc_derivative", _sinc_derivative_impl)
defjvp(sinc_derivative_p, lambda t, x: mul(t, sinc_second_p.bind(x)))

sinc_second_p = elementwise("sinc_second", _sinc_second_impl)


def _sinc_third(t, x):
    # Beyond the second derivative: differentiate the closed form (exact away from 0).
    safe = select(eq(x, 0), 1.0, x)
    d2 = sinc_second_p.bind(safe)
    value = div(sub(mul(-_PI2, cos(mul(math.pi, safe))), mul(3, d2)), safe)
    return mul(t, select(eq(x, 0), 0.0, value))


defjvp(sinc_second_p, _sinc_third)


# --- remainders: mod (sign of the divisor, as Python's %), fmod (sign of the dividend) ----------------
mod_p = _binary_ufunc("mod", "remainder")
defjvp(mod_p, lambda t, x, y: t, lambda t, x, y: neg(mul(t, floor(div(x, y)))), broadcast=True)

fmod_p = _binary_ufunc("fmod", "fmod")
defjvp(fmod_p, lambda t, x, y: t, lambda t, x, y: neg(mul(t, trunc(div(x, y)))), broadcast=True)

# --- piecewise constant: rounding, predicates, logical operators (zero derivative) ----------------------
floor_p = _unary("floor", "floor")
ceil_p = _unary("ceil", "ceil")
rint_p = _unary("rint", "rint")
trunc_p = _unary("trunc", "trunc")
round_p = elementwise("round", lambda x, *, decimals: array_module(x).round(x, decimals))
floor_divide_p = _binary_ufunc("floor_divide", "floor_divide")
signbit_p = _unary("signbit", "signbit", preserves_float=False)
isnan_p = _unary("isnan", "isnan", preserves_float=False)
isinf_p = _unary("isinf", "isinf", preserves_float=False)
isfinite_p = _unary("isfinite", "isfinite", preserves_float=False)
logical_not_p = _unary("logical_not", "logical_not", preserves_float=False)
logical_and_p = _binary_ufunc("logical_and", "logical_and", preserves_float=False)
logical_or_p = _binary_ufunc("logical_or", "logical_or", preserves_float=False)
logical_xor_p = _binary_ufunc("logical_xor", "logical_xor", preserves_float=False)
for _p in (floor_p, ceil_p, rint_p, trunc_p, round_p, floor_divide_p, signbit_p, isnan_p, isinf_p,
           isfinite_p, logical_not_p, logical_and_p, logical_or_p, logical_xor_p):
    defzero(_p)

# --- wrappers ------------------------------------------------------------------------------------------
exp2 = exp2_p.bind
log2 = log2_p.bind
log10 = log10_p.bind
cbrt = cbrt_p.bind
sinh = sinh_p.bind
cosh = cosh_p.bind
arcsin = arcsin_p.bind
arccos = arccos_p.bind
arctan = arctan_p.bind
arcsinh = arcsinh_p.bind
arccosh = arccosh_p.bind
arctanh = arctanh_p.bind
arctan2 = arctan2_p.bind
hypot = hypot_p.bind
logaddexp = logaddexp_p.bind
logaddexp2 = logaddexp2_p.bind
sinc = sinc_p.bind
mod = mod_p.bind
fmod = fmod_p.bind
floor = floor_p.bind
ceil = ceil_p.bind
rint = rint_p.bind
trunc = trunc_p.bind
floor_divide = floor_divide_p.bind
signbit = signbit_p.bind
isnan = isnan_p.bind
isinf = isinf_p.bind
isfinite = isfinite_p.bind
logical_not = logical_not_p.bind
logical_and = logical_and_p.bind
logical_or = logical_or_p.bind
logical_xor = logical_xor_p.bind


def round_(x, decimals: int = 0):
    return round_p.bind(x, decimals=decimals)

