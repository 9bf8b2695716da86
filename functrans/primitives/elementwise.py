"""The elementwise primitives: arithmetic, powers, exponentials and logarithms, trigonometric
and hyperbolic functions, rounding and remainders, comparisons and logic, ``select``, and the
parts of complex numbers.

One family, as NumPy's users know it (its ufuncs), in sections. Each block: the definition
(``elementwise`` and its ufunc shorthands supply the shape and batching rules), the JVP rule
written with existing primitives (so every derivative order follows; holomorphic rules hold
for complex inputs as written), then the transpose rule if the primitive is linear, then the
wrapper, which only binds. ``add`` and ``real`` are defined in ``_define`` (the registrars are
written in them) and re-exported here. Special functions (SciPy's) are in ``special``.

Example:
    >>> import numpy as np
    >>> from functrans.primitives import elementwise as ew
    >>> ew.mul(ew.add(np.float32(1), 2.0), 3.0)
    np.float32(9.0)
"""
from __future__ import annotations

import cmath
import functools
import math
import operator
from threading import get_ident
from typing import Any

import numpy as np

from functrans._abstract import PY_SCALARS, SCALARS, dtype_of
from functrans.backend import HOST_TYPES, array_module, array_module_of
from functrans.core.ir import Var, is_linear
from functrans.core.staging import LinearTrace
from functrans.core.trace import Tracer
from functrans.core.zeros import zero
from functrans.primitives._define import add as add
from functrans.primitives._define import add_cotangents as add_cotangents
from functrans.primitives._define import add_p as add_p
from functrans.primitives._define import (
    add_tangents,
    binary_ufunc,
    broadcast_to,
    convert_element_type,
    defjvp,
    defjvp_with_output,
    deflinear,
    defzero,
    elementwise,
    unary_ufunc,
    unbroadcast,
)
from functrans.primitives._define import real as real
from functrans.primitives._define import real_p as real_p

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _square(x):
    return mul(x, x)


# == arithmetic ===================================================================================

# --- sub -----------------------------------------------------------------------------------------
sub_p = elementwise("sub", operator.sub)  # (operator's functions: no Python frame per call)
defjvp(sub_p, lambda t, x, y: t, lambda t, x, y: neg(t), broadcast=True)
sub_p.transpose = lambda ct, x, y: (
    unbroadcast(ct, x) if is_linear(x) else zero,
    unbroadcast(neg(ct), y) if is_linear(y) else zero,
)
sub = sub_p.bind

# --- neg -----------------------------------------------------------------------------------------
neg_p = elementwise("neg", operator.neg)
deflinear(neg_p, lambda ct, x: (neg(ct),))
neg = neg_p.bind

# --- mul: linear in each argument separately -----------------------------------------------------
mul_p = elementwise("mul", operator.mul)
defjvp(mul_p, lambda t, x, y: scale(t, y), lambda t, x, y: scale_left(x, t))


def _mul_transpose(ct, x, y):
    # (is_linear inlined, and the product of host values computed without a second bind:
    # this runs once per multiplication in every backward pass)
    if type(x) is Var and x._trace.linear:
        if type(y) is Var and y._trace.linear:
            raise ValueError("mul is not linear in both arguments at once")
        if type(ct) in HOST_TYPES and type(y) in HOST_TYPES:
            return unbroadcast(mul_p.impl(ct, y), x), zero
        return unbroadcast(mul(ct, y), x), zero
    if type(ct) in HOST_TYPES and type(x) in HOST_TYPES:
        return zero, unbroadcast(mul_p.impl(x, ct), y)
    return zero, unbroadcast(mul(x, ct), y)


mul_p.transpose = _mul_transpose
mul = mul_p.bind

_ndarray = np.ndarray
_SCALAR_DTYPES = {np.dtype(code).type: np.dtype(code) for code in np.typecodes["All"]}


def scale(t: Any, c: Any) -> Any:
    """``mul(t, c)`` for a tangent ``t`` and a coefficient ``c``: the product nearly every JVP
    rule makes. Under ``grad`` (``t`` a variable of the linear recording, ``c`` a NumPy
    value or a Python number that keeps ``t``'s shape and dtype) the equation is recorded
    directly, without the dispatch of ``bind`` and the shape rule: this runs once per
    primitive of every differentiated function.

    Example:
        >>> import numpy as np, functrans as ft
        >>> float(ft.grad(lambda x: scale(x, np.float64(3.0)))(1.0))
        3.0
    """
    if type(t) is Var:
        trace = t._trace
        # (``_keeps_aval`` inlined for the commonest coefficients, a Python float and a NumPy
        # scalar of the tangent's dtype)
        if type(trace) is LinearTrace and trace.thread == get_ident() and (
                type(c) is float or _SCALAR_DTYPES.get(type(c)) is t.dtype or _keeps_aval(c, t)):
            return trace.record_like(mul_p, (t, c), t)
    return mul(t, c)


def scale_left(c: Any, t: Any) -> Any:
    """``mul(c, t)``: ``scale`` with the coefficient written first (the equation keeps that
    order).

    Example:
        >>> import numpy as np, functrans as ft
        >>> float(ft.grad(lambda x: scale_left(np.float64(3.0), x))(1.0))
        3.0
    """
    if type(t) is Var:
        trace = t._trace
        if type(trace) is LinearTrace and trace.thread == get_ident() and (
                type(c) is float or _SCALAR_DTYPES.get(type(c)) is t.dtype or _keeps_aval(c, t)):
            return trace.record_like(mul_p, (c, t), t)
    return mul(c, t)


def _keeps_aval(c: Any, t: Any) -> bool:
    """Whether ``t * c`` has ``t``'s shape and dtype, for a host value ``c`` (a Python int or
    float, which a float tangent keeps its dtype with; a NumPy scalar or array of ``t``'s dtype
    no larger than ``t``) or a tracer of an outer transformation of ``t``'s shape and dtype;
    false for anything else (other arrays, other tracers)."""
    kind = type(c)
    if kind is float or kind is int:
        return True
    if kind is _ndarray:
        return c.dtype is t.dtype and (c.shape == t.shape or not c.shape)
    if isinstance(c, Tracer):
        # a value of an outer transformation running in this thread (the coefficients of
        # the inner derivative of a nested grad), which ``t``'s recording keeps as a constant
        trace = c._trace
        return trace.thread == get_ident() and trace.level < t._trace.level \
            and c.dtype is t.dtype and c.shape == t.shape
    return _SCALAR_DTYPES.get(kind) is t.dtype


def _mul_jvp_args(x, t_x, y, t_y):
    """mul's JVP for forward mode (``Primitive.jvp_args``): the registrar's, without its
    per-input rule wrappers (mul is the commonest product of every derivative)."""
    out = x * y if type(x) in HOST_TYPES and type(y) in HOST_TYPES else mul(x, y)
    if t_y is zero:
        return out, (zero if t_x is zero else scale(t_x, y))
    if t_x is zero:
        return out, scale_left(x, t_y)
    return out, add_tangents(scale(t_x, y), scale_left(x, t_y))


mul_p.jvp_args = (mul_p.jvp, _mul_jvp_args)

# --- div: linear in the numerator ----------------------------------------------------------------
div_p = elementwise("div", operator.truediv)
defjvp(
    div_p,
    lambda t, x, y: div(t, y),
    lambda t, x, y: scale(t, neg(div(x, mul(y, y)))),
)


def _div_transpose(ct, x, y):
    if is_linear(y):
        raise ValueError("div is not linear in its denominator")
    return unbroadcast(div(ct, y), x), zero


div_p.transpose = _div_transpose
div = div_p.bind

# --- integer_pow: x ** y for a Python int y ------------------------------------------------------
integer_pow_p = elementwise("integer_pow", lambda x, *, y: x**y)


def _integer_pow_jvp(t, x, *, y):
    if y == 0:
        return zero
    if y == 1:
        return t
    if type(x) in HOST_TYPES:  # a NumPy value (first order): the implementations, without bind
        impl = mul_p.impl
        return scale(t, impl(y, x) if y == 2 else impl(y, integer_pow_p.impl(x, y=y - 1)))
    return scale(t, mul(y, x) if y == 2 else mul(y, integer_pow(x, y - 1)))


defjvp(integer_pow_p, _integer_pow_jvp)


def integer_pow(x, y: int):
    return integer_pow_p.bind(x, y=y)


# --- abs -----------------------------------------------------------------------------------------
abs_p = unary_ufunc("abs", "abs", preserves_float=False)


def _abs_jvp(t, x):
    # sign(0) = 0, so d|x|/dx at 0 is 0. For complex x, d|x| = Re(conj(x / |x|) dx): real.
    if dtype_of(x).kind == "c":
        at_zero = eq(x, 0)
        unit = div(x, select(at_zero, 1.0, abs(x)))  # x / |x| (0 at 0), differentiable
        return real(scale(t, conj(unit)))
    return scale(t, sign(x))


defjvp(abs_p, _abs_jvp)
abs = abs_p.bind

# --- sign ----------------------------------------------------------------------------------------
sign_p = unary_ufunc("sign", "sign")
defzero(sign_p)
sign = sign_p.bind


# --- max, min (elementwise): ties split the derivative evenly ------------------------------------
def _tie_weights(first_wins, tie, dtype):
    return add(convert_element_type(first_wins, new_dtype=dtype),
               mul(0.5, convert_element_type(tie, new_dtype=dtype)))


def _out_dtype(x, y):
    return np.result_type(*(v if type(v) in PY_SCALARS else v.dtype for v in (x, y)))


max_p = elementwise("max", lambda x, y: array_module_of(x, y).maximum(x, y))
defjvp(
    max_p,
    lambda t, x, y: scale(t, _tie_weights(gt(x, y), eq(x, y), _out_dtype(x, y))),
    lambda t, x, y: scale(t, _tie_weights(gt(y, x), eq(x, y), _out_dtype(x, y))),
    broadcast=True,
)
max = max_p.bind

min_p = elementwise("min", lambda x, y: array_module_of(x, y).minimum(x, y))
defjvp(
    min_p,
    lambda t, x, y: scale(t, _tie_weights(lt(x, y), eq(x, y), _out_dtype(x, y))),
    lambda t, x, y: scale(t, _tie_weights(lt(y, x), eq(x, y), _out_dtype(x, y))),
    broadcast=True,
)
min = min_p.bind


# == powers, roots, exponentials and logarithms ===================================================

# --- pow: x ** y for arrays ----------------------------------------------------------------------
pow_p = elementwise("pow", lambda x, y: x**y)


def _pow_jvp_x(t, x, y):
    # d/dx x**y = y x**(y-1), which is 0 where y == 0 (x**0 is 1 for every x), while the formula
    # gives 0 * 0**-1 = nan at x = 0. There the power is taken at y = 1 instead, so that no
    # infinity reaches a higher derivative either.
    if type(y) in SCALARS:  # a number (Python or NumPy): no device of its own
        return zero if y == 0 else scale(t, mul(y, pow(x, y - 1)))
    y_zero = eq(y, 0)
    y_safe = select(y_zero, 1, y)
    return scale(t, select(y_zero, 0, mul(y_safe, pow(x, sub(y_safe, 1)))))


def _pow_jvp_y(t, x, y):
    # d/dy x**y = log(x) x**y; at x == 0 the limit is 0 for y > 0, so log(0) is avoided.
    if type(x) in PY_SCALARS:  # stays a Python scalar, so it cannot widen float32
        log_x = 0.0 if x == 0 else _log_of_scalar(x)
        return scale(t, mul(log_x, pow(x, y)))
    safe_x = select(eq(x, 0), 1, x) if _may_be_zero(x) else x
    return scale(t, mul(log(safe_x), pow(x, y)))


def _log_of_scalar(x):
    """log of a nonzero Python number, as NumPy gives it (nan for negative reals)."""
    if type(x) is complex:
        return cmath.log(x)
    return math.log(x) if x > 0 else math.nan


def _may_be_zero(x):
    return not isinstance(x, (int, float)) or x == 0


defjvp(pow_p, _pow_jvp_x, _pow_jvp_y, broadcast=True)
pow = pow_p.bind

# --- sqrt, rsqrt ---------------------------------------------------------------------------------
sqrt_p = unary_ufunc("sqrt", "sqrt")
defjvp_with_output(sqrt_p, lambda t, out, x: scale(t, div(0.5, out)))
sqrt = sqrt_p.bind

rsqrt_p = elementwise("rsqrt", lambda x: 1 / array_module(x).sqrt(x))
defjvp_with_output(rsqrt_p, lambda t, out, x: scale(t, mul(-0.5, div(out, x))))
rsqrt = rsqrt_p.bind

# --- cbrt: d/dx x^(1/3) = 1 / (3 cbrt(x)^2) ------------------------------------------------------
cbrt_p = unary_ufunc("cbrt", "cbrt")
defjvp_with_output(cbrt_p, lambda t, out, x: div(t, mul(3, _square(out))))
cbrt = cbrt_p.bind

# --- exp, exp2, expm1 ----------------------------------------------------------------------------
exp_p = unary_ufunc("exp", "exp")
defjvp_with_output(exp_p, lambda t, out, x: scale(t, out))
exp = exp_p.bind

exp2_p = unary_ufunc("exp2", "exp2")
defjvp_with_output(exp2_p, lambda t, out, x: scale(t, mul(out, _LN2)))
exp2 = exp2_p.bind

expm1_p = unary_ufunc("expm1", "expm1")
defjvp_with_output(expm1_p, lambda t, out, x: scale(t, add(out, 1)))
expm1 = expm1_p.bind

# --- log, log1p, log2, log10 ---------------------------------------------------------------------
log_p = unary_ufunc("log", "log")
defjvp(log_p, lambda t, x: div(t, x))
log = log_p.bind

log1p_p = unary_ufunc("log1p", "log1p")
defjvp(log1p_p, lambda t, x: div(t, add(x, 1)))
log1p = log1p_p.bind

log2_p = unary_ufunc("log2", "log2")
defjvp(log2_p, lambda t, x: div(t, mul(x, _LN2)))
log2 = log2_p.bind

log10_p = unary_ufunc("log10", "log10")
defjvp(log10_p, lambda t, x: div(t, mul(x, _LN10)))
log10 = log10_p.bind


# --- logistic: 1 / (1 + exp(-x)), computed without overflow or cancellation ----------------------
def _logistic_impl(x):
    xp = array_module(x)
    if dtype_of(x).kind == "c":  # no overflow trick for the complex plane (|x| would drop the phase)
        return 1 / (1 + xp.exp(-x))
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


logistic_p = elementwise("logistic", _logistic_impl)
# out * (1 - out) loses everything when out rounds to 1; out * logistic(-x) does not.
defjvp_with_output(logistic_p, lambda t, out, x: scale(t, mul(out, logistic(neg(x)))))
logistic = logistic_p.bind


# --- logaddexp(x, y) = log(exp(x) + exp(y)); logaddexp2 in base 2 --------------------------------
def _logaddexp_weight(x, y, scale=1.0):
    """logistic(scale * (x - y)): the share of ``x`` in the sum. Where x - y is nan (both
    inputs the same infinity) the shares are 1/2 each."""
    delta = sub(x, y)
    if scale != 1.0:
        delta = mul(delta, scale)
    return logistic(select(isnan(delta), 0.0, delta))


logaddexp_p = binary_ufunc("logaddexp", "logaddexp")
defjvp(
    logaddexp_p,
    lambda t, x, y: scale(t, _logaddexp_weight(x, y)),
    lambda t, x, y: scale(t, _logaddexp_weight(y, x)),
    broadcast=True,
)
logaddexp = logaddexp_p.bind

logaddexp2_p = binary_ufunc("logaddexp2", "logaddexp2")
defjvp(
    logaddexp2_p,
    lambda t, x, y: scale(t, _logaddexp_weight(x, y, _LN2)),
    lambda t, x, y: scale(t, _logaddexp_weight(y, x, _LN2)),
    broadcast=True,
)
logaddexp2 = logaddexp2_p.bind


# == trigonometric and hyperbolic functions =======================================================

# --- sin, cos, tan -------------------------------------------------------------------------------
sin_p = unary_ufunc("sin", "sin")
defjvp(sin_p, lambda t, x: scale(t, cos(x)))
sin = sin_p.bind

cos_p = unary_ufunc("cos", "cos")
defjvp(cos_p, lambda t, x: scale(t, neg(sin(x))))
cos = cos_p.bind

tan_p = unary_ufunc("tan", "tan")
defjvp_with_output(tan_p, lambda t, out, x: scale(t, add(1, mul(out, out))))
tan = tan_p.bind

# --- arcsin, arccos, arctan ----------------------------------------------------------------------
arcsin_p = unary_ufunc("arcsin", "arcsin")
defjvp(arcsin_p, lambda t, x: scale(t, rsqrt(sub(1, _square(x)))))
arcsin = arcsin_p.bind

arccos_p = unary_ufunc("arccos", "arccos")
defjvp(arccos_p, lambda t, x: neg(scale(t, rsqrt(sub(1, _square(x))))))
arccos = arccos_p.bind

arctan_p = unary_ufunc("arctan", "arctan")
defjvp(arctan_p, lambda t, x: div(t, add(1, _square(x))))
arctan = arctan_p.bind

# --- arctan2(y, x): the angle of the point (x, y) ------------------------------------------------
arctan2_p = binary_ufunc("arctan2", "arctan2")
defjvp(
    arctan2_p,
    lambda t, y, x: scale(t, div(x, add(_square(x), _square(y)))),
    lambda t, y, x: scale(t, neg(div(y, add(_square(x), _square(y))))),
    broadcast=True,
)
arctan2 = arctan2_p.bind


# --- hypot(x, y) = sqrt(x^2 + y^2), without overflow; its derivative at the origin is taken as 0 -
def _hypot_partial(t, x, y):
    out = hypot(x, y)
    at_origin = eq(out, 0)
    return scale(t, select(at_origin, 0.0, div(x, select(at_origin, 1.0, out))))


hypot_p = binary_ufunc("hypot", "hypot")
defjvp(hypot_p, _hypot_partial, lambda t, x, y: _hypot_partial(t, y, x), broadcast=True)
hypot = hypot_p.bind

# --- sinh, cosh, tanh ----------------------------------------------------------------------------
sinh_p = unary_ufunc("sinh", "sinh")
defjvp(sinh_p, lambda t, x: scale(t, cosh(x)))
sinh = sinh_p.bind

cosh_p = unary_ufunc("cosh", "cosh")
defjvp(cosh_p, lambda t, x: scale(t, sinh(x)))
cosh = cosh_p.bind

tanh_p = unary_ufunc("tanh", "tanh")


def _tanh_slope(out: Any) -> Any:
    """``1 - out * out``; on a NumPy array the difference overwrites the fresh square (the
    same values, one array of the batch's size fewer to allocate and write under ``grad``)."""
    if type(out) is _ndarray:
        square = out * out
        if type(square) is _ndarray:  # (a 0-d product is a NumPy scalar)
            return np.subtract(1, square, out=square)  # numpy-only: a NumPy array's square
        return 1 - square
    return sub(1, mul(out, out))


defjvp_with_output(tanh_p, lambda t, out, x: scale(t, _tanh_slope(out)))
tanh = tanh_p.bind

# --- arcsinh, arccosh, arctanh -------------------------------------------------------------------
arcsinh_p = unary_ufunc("arcsinh", "arcsinh")
defjvp(arcsinh_p, lambda t, x: scale(t, rsqrt(add(_square(x), 1))))
arcsinh = arcsinh_p.bind

arccosh_p = unary_ufunc("arccosh", "arccosh")
# (x - 1)(x + 1) rather than x^2 - 1: no cancellation near x = 1.
defjvp(arccosh_p, lambda t, x: scale(t, rsqrt(mul(sub(x, 1), add(x, 1)))))
arccosh = arccosh_p.bind

arctanh_p = unary_ufunc("arctanh", "arctanh")
defjvp(arctanh_p, lambda t, x: div(t, mul(sub(1, x), add(1, x))))
arctanh = arctanh_p.bind

# --- sinc(x) = sin(pi x) / (pi x), 1 at 0, and its derivatives d_n ------------------------------
# Differentiating x sinc(x) = sin(pi x) / pi n times gives the recurrence
#     d_n(x) = (pi^(n-1) sin(pi x + n pi / 2) - n d_(n-1)(x)) / x,
# exact in real numbers but cancelling near 0, where its relative error grows like eps / x^n
# (float32's third derivative at 0.01 would get the wrong sign). Where |x| < 1/2 the Taylor series
#     d_n(x) = sum over k >= n/2 of (-1)^k pi^(2k) x^(2k-n) / ((2k + 1) (2k - n)!)
# is summed instead, with as many terms as the dtype's precision needs at |x| = 1/2; both stay
# within a few units in the last place in float32 and float64. The first two derivatives are
# primitives; the third is composed of primitives, so every higher order follows. Each branch is
# evaluated at a harmless point where the other is taken, so that no inf or nan of the unused
# branch reaches a derivative.
_SERIES_BELOW = 0.5
_PI2 = math.pi**2


@functools.cache
def _sinc_series(n: int, eps: float) -> tuple[float, ...]:
    """The Taylor coefficients of d_n, in powers of x^2 (times x for odd n), lowest first: terms
    are taken until the next one is below eps / 4 of their sum at |x| = 1/2."""
    coefficients: list[float] = []
    total, k = 0.0, (n + 1) // 2
    while True:
        a = (-1) ** k * math.pi ** (2 * k) / ((2 * k + 1) * math.factorial(2 * k - n))
        term = a * _SERIES_BELOW ** (2 * k - n)
        if coefficients and abs(term) < eps / 4 * abs(total):
            return tuple(coefficients)
        coefficients.append(a)
        total += term
        k += 1


def _sinc_series_sum(x, n, mul, add):
    """d_n(x) by its Taylor series, with ``mul`` and ``add`` on arrays or on tracers."""
    dtype = dtype_of(x)
    eps = float(np.finfo(dtype if dtype.kind in "fc" else np.float64).eps)
    coefficients = _sinc_series(n, eps)
    x2 = mul(x, x)
    acc = add(mul(x2, coefficients[-1]), coefficients[-2])
    for a in reversed(coefficients[:-2]):
        acc = add(mul(acc, x2), a)
    return add(mul(acc, x), 0.0) if n % 2 else acc  # + 0.0: 0, not -0.0, at x = 0


def _sinc_split(x):
    """The array module, where ``x`` is in the series' range, and the points the closed form
    and the series are evaluated at: ``x`` with 1 in the series' range, ``x`` with 0 outside it
    (floating, in ``x``'s dtype)."""
    xp = array_module(x)
    x = xp.asarray(x)
    if x.dtype.kind not in "fc":
        x = x.astype(float)
    near = xp.abs(x) < _SERIES_BELOW
    return xp, near, xp.where(near, 1, x).astype(x.dtype), xp.where(near, x, 0).astype(x.dtype)


def _sinc_derivative_impl(x):
    xp, near, far_x, near_x = _sinc_split(x)
    far = (xp.cos(math.pi * far_x) - xp.sinc(far_x)) / far_x
    return xp.where(near, _sinc_series_sum(near_x, 1, operator.mul, operator.add), far)


def _sinc_second_impl(x):
    xp, near, far_x, near_x = _sinc_split(x)
    far = (-math.pi * xp.sin(math.pi * far_x) - 2 * _sinc_derivative_impl(far_x)) / far_x
    return xp.where(near, _sinc_series_sum(near_x, 2, operator.mul, operator.add), far)


sinc_p = unary_ufunc("sinc", "sinc")
defjvp(sinc_p, lambda t, x: scale(t, sinc_derivative_p.bind(x)))
sinc = sinc_p.bind

sinc_derivative_p = elementwise("sinc_derivative", _sinc_derivative_impl)
defjvp(sinc_derivative_p, lambda t, x: scale(t, sinc_second_p.bind(x)))

sinc_second_p = elementwise("sinc_second", _sinc_second_impl)


def _sinc_third(t, x):
    near = lt(abs(x), _SERIES_BELOW)
    far_x = select(near, 1.0, x)
    far = div(sub(mul(-_PI2, cos(mul(math.pi, far_x))), mul(3, sinc_second_p.bind(far_x))), far_x)
    series = _sinc_series_sum(select(near, x, 0.0), 3, mul, add)
    return scale(t, select(near, series, far))


defjvp(sinc_second_p, _sinc_third)


# == rounding and remainders ======================================================================

# --- floor, ceil, rint, trunc, round, floor_divide: piecewise constant (zero derivative) ---------
floor_p = unary_ufunc("floor", "floor")
ceil_p = unary_ufunc("ceil", "ceil")
rint_p = unary_ufunc("rint", "rint")
trunc_p = unary_ufunc("trunc", "trunc")
round_p = elementwise("round", lambda x, *, decimals: array_module(x).round(x, decimals))
floor_divide_p = binary_ufunc("floor_divide", "floor_divide")
for _p in (floor_p, ceil_p, rint_p, trunc_p, round_p, floor_divide_p):
    defzero(_p)
floor = floor_p.bind
ceil = ceil_p.bind
rint = rint_p.bind
trunc = trunc_p.bind
floor_divide = floor_divide_p.bind


def round_(x, decimals: int = 0):
    return round_p.bind(x, decimals=decimals)


# --- mod (the sign of the divisor, as Python's %), fmod (the sign of the dividend) ---------------
mod_p = binary_ufunc("mod", "remainder")
defjvp(mod_p, lambda t, x, y: t, lambda t, x, y: neg(scale(t, floor(div(x, y)))), broadcast=True)
mod = mod_p.bind

fmod_p = binary_ufunc("fmod", "fmod")
defjvp(fmod_p, lambda t, x, y: t, lambda t, x, y: neg(scale(t, trunc(div(x, y)))), broadcast=True)
fmod = fmod_p.bind


# == comparisons, predicates, logic and select ====================================================

# --- eq, ne, lt, le, gt, ge (no derivative) ------------------------------------------------------
eq_p = elementwise("eq", preserves_float=False, impl=lambda x, y: x == y)
ne_p = elementwise("ne", preserves_float=False, impl=lambda x, y: x != y)
lt_p = elementwise("lt", preserves_float=False, impl=lambda x, y: x < y)
le_p = elementwise("le", preserves_float=False, impl=lambda x, y: x <= y)
gt_p = elementwise("gt", preserves_float=False, impl=lambda x, y: x > y)
ge_p = elementwise("ge", preserves_float=False, impl=lambda x, y: x >= y)
for _p in (eq_p, ne_p, lt_p, le_p, gt_p, ge_p):
    defzero(_p)
eq = eq_p.bind
ne = ne_p.bind
lt = lt_p.bind
le = le_p.bind
gt = gt_p.bind
ge = ge_p.bind

# --- signbit, isnan, isinf, isfinite, logical_not/and/or/xor (no derivative) ---------------------
signbit_p = unary_ufunc("signbit", "signbit", preserves_float=False)
isnan_p = unary_ufunc("isnan", "isnan", preserves_float=False)
isinf_p = unary_ufunc("isinf", "isinf", preserves_float=False)
isfinite_p = unary_ufunc("isfinite", "isfinite", preserves_float=False)
logical_not_p = unary_ufunc("logical_not", "logical_not", preserves_float=False)
logical_and_p = binary_ufunc("logical_and", "logical_and", preserves_float=False)
logical_or_p = binary_ufunc("logical_or", "logical_or", preserves_float=False)
logical_xor_p = binary_ufunc("logical_xor", "logical_xor", preserves_float=False)
for _p in (signbit_p, isnan_p, isinf_p, isfinite_p, logical_not_p, logical_and_p, logical_or_p,
           logical_xor_p):
    defzero(_p)
signbit = signbit_p.bind
isnan = isnan_p.bind
isinf = isinf_p.bind
isfinite = isfinite_p.bind
logical_not = logical_not_p.bind
logical_and = logical_and_p.bind
logical_or = logical_or_p.bind
logical_xor = logical_xor_p.bind


# --- select: where(pred, on_true, on_false), linear in the two branches --------------------------
def _select_impl(pred, on_true, on_false):
    xp = array_module_of(pred, on_true, on_false)
    return xp.where(pred, on_true, on_false)


select_p = elementwise("select", _select_impl)


def _select_jvp(primals, tangents):
    pred, on_true, on_false = primals
    _, t_true, t_false = tangents
    out = select(pred, on_true, on_false)
    if t_true is zero and t_false is zero:
        return out, zero
    # Both branches' tangents enter, whatever the predicate's values: the derivative is the same
    # program eagerly, under jit and under vmap, so an inf or nan in the branch not taken
    # reaches the gradient as 0 * inf = nan in every mode alike (docs/sharp-bits.md).
    t_out = select(pred, 0 if t_true is zero else t_true, 0 if t_false is zero else t_false)
    if t_out.shape != out.shape:
        t_out = broadcast_to(t_out, out.shape)
    if t_out.dtype != out.dtype:  # one branch's tangent, where the other branch is wider
        t_out = convert_element_type(t_out, new_dtype=out.dtype)
    return out, t_out


def _select_transpose(ct, pred, on_true, on_false):
    # The other branch's cotangent is 0: a Python 0 keeps ct's dtype (NumPy 2 promotion) and
    # costs no array.
    return (
        zero,
        unbroadcast(select(pred, ct, 0), on_true) if is_linear(on_true) else zero,
        unbroadcast(select(pred, 0, ct), on_false) if is_linear(on_false) else zero,
    )


select_p.jvp = _select_jvp
select_p.transpose = _select_transpose
select = select_p.bind


# == parts of complex numbers (real is in _define) ================================================

# --- imag, conj ----------------------------------------------------------------------------------
imag_p = unary_ufunc("imag", "imag", preserves_float=False)
deflinear(imag_p, lambda ct, x: (mul(convert_element_type(ct, new_dtype=x.dtype), -1j),))
imag = imag_p.bind

conj_p = unary_ufunc("conj", "conj")
deflinear(conj_p, lambda ct, x: (conj(ct),))
conj = conj_p.bind
