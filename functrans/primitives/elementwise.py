"""Elementwise primitives: arithmetic, transcendental functions, comparisons, select.

Each block: definition, then its JVP rule, then its transpose rule if it is linear. The
implementations use Python operators where NumPy and CuPy agree on them (they are the
cheapest call), and otherwise the array module of their input.
"""
from __future__ import annotations

import cmath
import math

import numpy as np

from functrans.backend import array_module, array_module_of
from functrans.core.ir import Var, is_linear
from functrans.core.zeros import zero
_NUMPY_TYPES = {np.ndarray, np.float64, np.float32, float, int}

from functrans.primitives._define import (
    defjvp, defjvp_with_output, deflinear, defzero, dtype_of, elementwise, unbroadcast,
)


def _unary(name, ufunc_name, preserves_float=True):
    numpy_ufunc = getattr(np, ufunc_name)

    def impl(x):
        if type(x) in _NUMPY_TYPES:
            return numpy_ufunc(x)
        return getattr(array_module(x), ufunc_name)(x)

    impl.__name__ = f"_{name}_impl"
    return elementwise(name, impl, preserves_float)


# --- add -------------------------------------------------------------------------------
add_p = elementwise("add", lambda x, y: x + y)
defjvp(add_p, lambda t, x, y: t, lambda t, x, y: t, broadcast=True)
add_p.transpose = lambda ct, x, y: (
    unbroadcast(ct, x) if is_linear(x) else None,
    unbroadcast(ct, y) if is_linear(y) else None,
)

# --- sub -------------------------------------------------------------------------------
sub_p = elementwise("sub", lambda x, y: x - y)
defjvp(sub_p, lambda t, x, y: t, lambda t, x, y: neg(t), broadcast=True)
sub_p.transpose = lambda ct, x, y: (
    unbroadcast(ct, x) if is_linear(x) else None,
    unbroadcast(neg(ct), y) if is_linear(y) else None,
)

# --- neg -------------------------------------------------------------------------------
neg_p = elementwise("neg", lambda x: -x)
deflinear(neg_p, lambda ct, x: (neg(ct),))

# --- mul: linear in each argument separately --------------------------------------------
mul_p = elementwise("mul", lambda x, y: x * y)
defjvp(mul_p, lambda t, x, y: mul(t, y), lambda t, x, y: mul(x, t))


def _mul_transpose(ct, x, y):
    if type(x) is Var and x._trace.transposing:  # is_linear(x), inlined: a hot path
        if type(y) is Var and y._trace.transposing:
            raise ValueError("mul is not linear in both arguments at once")
        return unbroadcast(mul(ct, y), x), None
    return None, unbroadcast(mul(x, ct), y)


mul_p.transpose = _mul_transpose

# --- div: linear in the numerator -------------------------------------------------------
div_p = elementwise("div", lambda x, y: x / y)
defjvp(
    div_p,
    lambda t, x, y: div(t, y),
    lambda t, x, y: mul(t, neg(div(x, mul(y, y)))),
)


def _div_transpose(ct, x, y):
    if is_linear(y):
        raise ValueError("div is not linear in its denominator")
    return unbroadcast(div(ct, y), x), None


div_p.transpose = _div_transpose

# --- integer_pow: x ** y for a Python int y ---------------------------------------------
integer_pow_p = elementwise("integer_pow", lambda x, *, y: x**y)


def _integer_pow_jvp(t, x, *, y):
    if y == 0:
        return zero
    if y == 1:
        return t
    return mul(t, mul(y, x) if y == 2 else mul(y, integer_pow(x, y - 1)))


defjvp(integer_pow_p, _integer_pow_jvp)

# --- pow: x ** y for arrays -------------------------------------------------------------
pow_p = elementwise("pow", lambda x, y: x**y)


def _pow_jvp_y(t, x, y):
    # d/dy x**y = log(x) x**y; at x == 0 the limit is 0 for y > 0, so log(0) is avoided.
    if type(x) in (int, float, complex):  # stays a Python scalar, so it cannot widen float32
        log_x = 0.0 if x == 0 else _log_of_scalar(x)
        return mul(t, mul(log_x, pow(x, y)))
    safe_x = select(eq(x, 0), 1, x) if _may_be_zero(x) else x
    return mul(t, mul(log(safe_x), pow(x, y)))


def _log_of_scalar(x):
    """log of a nonzero Python number, as NumPy gives it (nan for negative reals)."""
    if type(x) is complex:
        return cmath.log(x)
    return math.log(x) if x > 0 else math.nan


def _may_be_zero(x):
    return not isinstance(x, (int, float)) or x == 0


defjvp(
    pow_p,
    lambda t, x, y: mul(t, mul(y, pow(x, sub(y, 1)))),
    _pow_jvp_y,
    broadcast=True,
)

# --- exp, log, log1p, expm1 --------------------------------------------------------------
exp_p = _unary("exp", "exp")
defjvp_with_output(exp_p, lambda t, out, x: mul(t, out))

log_p = _unary("log", "log")
defjvp(log_p, lambda t, x: div(t, x))

log1p_p = _unary("log1p", "log1p")
defjvp(log1p_p, lambda t, x: div(t, add(x, 1)))

expm1_p = _unary("expm1", "expm1")
defjvp_with_output(expm1_p, lambda t, out, x: mul(t, add(out, 1)))

# --- sin, cos, tan, tanh ------------------------------------------------------------------
sin_p = _unary("sin", "sin")
defjvp(sin_p, lambda t, x: mul(t, cos(x)))

cos_p = _unary("cos", "cos")
defjvp(cos_p, lambda t, x: mul(t, neg(sin(x))))

tan_p = _unary("tan", "tan")
defjvp_with_output(tan_p, lambda t, out, x: mul(t, add(1, mul(out, out))))

tanh_p = _unary("tanh", "tanh")
defjvp_with_output(tanh_p, lambda t, out, x: mul(t, sub(1, mul(out, out))))


# --- logistic: 1 / (1 + exp(-x)), computed without overflow or cancellation --------------
def _logistic_impl(x):
    xp = array_module(x)
    if dtype_of(x).kind == "c":  # no overflow trick for the complex plane (|x| would drop the phase)
        return 1 / (1 + xp.exp(-x))
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


logistic_p = elementwise("logistic", _logistic_impl)
# out * (1 - out) loses everything when out rounds to 1; out * logistic(-x) does not.
defjvp_with_output(logistic_p, lambda t, out, x: mul(t, mul(out, logistic(neg(x)))))

# --- sqrt, rsqrt ------------------------------------------------------------------------
sqrt_p = _unary("sqrt", "sqrt")
defjvp_with_output(sqrt_p, lambda t, out, x: mul(t, div(0.5, out)))

rsqrt_p = elementwise("rsqrt", lambda x: 1 / array_module(x).sqrt(x))
defjvp_with_output(rsqrt_p, lambda t, out, x: mul(t, mul(-0.5, div(out, x))))

# --- abs, sign --------------------------------------------------------------------------
abs_p = _unary("abs", "abs", preserves_float=False)


def _abs_jvp(t, x):
    # sign(0) = 0, so d|x|/dx at 0 is 0. For complex x, d|x| = Re(conj(x / |x|) dx): real.
    if dtype_of(x).kind == "c":
        at_zero = eq(x, 0)
        unit = div(x, select(at_zero, 1.0, abs(x)))  # x / |x| (0 at 0), differentiable
        return real(mul(t, conj(unit)))
    return mul(t, sign(x))


defjvp(abs_p, _abs_jvp)

sign_p = _unary("sign", "sign")
defzero(sign_p)


# --- max, min (elementwise): ties split the derivative evenly ----------------------------
def _tie_weights(first_wins, tie, dtype):
    return add(convert_element_type(first_wins, new_dtype=dtype),
               mul(0.5, convert_element_type(tie, new_dtype=dtype)))


def _out_dtype(x, y):
    return np.result_type(*(v if isinstance(v, (int, float, complex)) else v.dtype for v in (x, y)))


max_p = elementwise("max", lambda x, y: array_module_of(x, y).maximum(x, y))
defjvp(
    max_p,
    lambda t, x, y: mul(t, _tie_weights(gt(x, y), eq(x, y), _out_dtype(x, y))),
    lambda t, x, y: mul(t, _tie_weights(gt(y, x), eq(x, y), _out_dtype(x, y))),
    broadcast=True,
)

min_p = elementwise("min", lambda x, y: array_module_of(x, y).minimum(x, y))
defjvp(
    min_p,
    lambda t, x, y: mul(t, _tie_weights(lt(x, y), eq(x, y), _out_dtype(x, y))),
    lambda t, x, y: mul(t, _tie_weights(lt(y, x), eq(x, y), _out_dtype(x, y))),
    broadcast=True,
)

# --- comparisons (no derivative) ----------------------------------------------------------
eq_p = elementwise("eq", preserves_float=False, impl=lambda x, y: x == y)
ne_p = elementwise("ne", preserves_float=False, impl=lambda x, y: x != y)
lt_p = elementwise("lt", preserves_float=False, impl=lambda x, y: x < y)
le_p = elementwise("le", preserves_float=False, impl=lambda x, y: x <= y)
gt_p = elementwise("gt", preserves_float=False, impl=lambda x, y: x > y)
ge_p = elementwise("ge", preserves_float=False, impl=lambda x, y: x >= y)
for _p in (eq_p, ne_p, lt_p, le_p, gt_p, ge_p):
    defzero(_p)


# --- select: where(pred, on_true, on_false), linear in the two branches ---------------------
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
    # A predicate that picks one branch everywhere leaves the other branch out of the
    # derivative entirely, so an inf in the unused branch cannot become 0 * inf = nan.
    uniform = _uniform_choice(pred)
    if uniform is True:
        t_out = t_true
        if t_out is zero:
            return out, zero
    elif uniform is False:
        t_out = t_false
        if t_out is zero:
            return out, zero
    else:
        t_out = select(pred, 0 if t_true is zero else t_true, 0 if t_false is zero else t_false)
    if t_out.shape != out.shape:
        t_out = broadcast_to(t_out, out.shape)
    if t_out.dtype != out.dtype:  # one branch's tangent, where the other branch is wider
        t_out = convert_element_type(t_out, new_dtype=out.dtype)
    return out, t_out


def _uniform_choice(pred):
    """True or False if a concrete predicate is the same everywhere, else None."""
    if isinstance(pred, (bool, np.bool_)):
        return bool(pred)
    if type(pred) is np.ndarray:
        if pred.all():
            return True
        if not pred.any():
            return False
    return None


def _select_transpose(ct, pred, on_true, on_false):
    # The other branch's cotangent is 0: a Python 0 keeps ct's dtype (NumPy 2 promotion) and
    # costs no array.
    return (
        None,
        unbroadcast(select(pred, ct, 0), on_true) if is_linear(on_true) else None,
        unbroadcast(select(pred, 0, ct), on_false) if is_linear(on_false) else None,
    )


select_p.jvp = _select_jvp
select_p.transpose = _select_transpose

# --- real, imag, conj (complex numbers) -----------------------------------------------------
real_p = _unary("real", "real", preserves_float=False)
deflinear(real_p, lambda ct, x: (convert_element_type(ct, new_dtype=x.dtype),))

imag_p = _unary("imag", "imag", preserves_float=False)
deflinear(imag_p, lambda ct, x: (mul(convert_element_type(ct, new_dtype=x.dtype), -1j),))

conj_p = _unary("conj", "conj")
deflinear(conj_p, lambda ct, x: (conj(ct),))


# --- wrappers: these only bind (bound methods, so a rule's call costs one call) ----------------
add = add_p.bind
sub = sub_p.bind
mul = mul_p.bind
div = div_p.bind
neg = neg_p.bind
def integer_pow(x, y: int): return integer_pow_p.bind(x, y=y)
pow = pow_p.bind
exp = exp_p.bind
log = log_p.bind
log1p = log1p_p.bind
expm1 = expm1_p.bind
sin = sin_p.bind
cos = cos_p.bind
tan = tan_p.bind
tanh = tanh_p.bind
logistic = logistic_p.bind
sqrt = sqrt_p.bind
rsqrt = rsqrt_p.bind
abs = abs_p.bind
sign = sign_p.bind
max = max_p.bind
min = min_p.bind
eq = eq_p.bind
ne = ne_p.bind
lt = lt_p.bind
le = le_p.bind
gt = gt_p.bind
ge = ge_p.bind
select = select_p.bind
real = real_p.bind
imag = imag_p.bind
conj = conj_p.bind


# Sums two cotangents of the same variable (the backward pass's accumulation).
add_cotangents = add_p.bind


# Late imports: these families import this one.
from functrans.primitives.conversion import convert_element_type  # noqa: E402
from functrans.primitives.shape import broadcast_to  # noqa: E402
