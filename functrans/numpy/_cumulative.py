"""More elementwise functions with NumPy's names: inverse trigonometric and hyperbolic
functions, logarithms in other bases, ``logaddexp``, rounding, remainders, predicates,
logical operators, and the complex-number helpers (``angle``)."""
from __future__ import annotations

import math

import numpy as np

from functrans.numpy._util import PASS_THROUGH, dtype_of, operand
from functrans.primitives import elementwise as _ew
from functrans.primitives import elementwise_more as _em
from functrans.primitives.conversion import convert_element_type, zeros_like


def _doc(name, what, example, result):
    return (f"{what}\n\n    Example:\n        >>> import functrans.numpy as fnp\n"
            f"        >>> fnp.{name}({example}).tolist()\n        {result}\n")


_ndarray = np.ndarray
_PLAIN = frozenset((np.ndarray, float, int, bool, complex, np.float64, np.float32, np.int64, np.bool_))


def _unary(prim, name, what, example="fnp.array([0.5])", result=None):
    bind = prim.bind
    ufunc = getattr(np, name)  # NumPy's own ufunc: the implementation, called directly on arrays

    def fn(x, /):
        if type(x) is _ndarray:
            return ufunc(x)
        return bind(x if type(x) in PASS_THROUGH else operand(x))

    fn.__name__ = fn.__qualname__ = name
    if result is None:
        # host-data: host values (parameters, lists, host_values)
        result = getattr(np, name)(np.array([0.5])).tolist()
    fn.__doc__ = _doc(name, what, example, result)
    return fn


def _binary(prim, name, what, example, result):
    bind = prim.bind
    ufunc = getattr(np, name)

    def fn(x1, x2, /):
        t1, t2 = type(x1), type(x2)
        if (t1 is _ndarray and t2 in _PLAIN) or (t2 is _ndarray and t1 in _PLAIN):
            return ufunc(x1, x2)
        if t1 not in PASS_THROUGH:
            x1 = operand(x1)
        if type(x2) not in PASS_THROUGH:
            x2 = operand(x2)
        return bind(x1, x2)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = _doc(name, what, example, result)
    return fn


_SMOOTH = "Elementwise ``numpy.{}``, differentiable."
_FLAT = ("Elementwise ``numpy.{}``. Piecewise constant: its derivative is zero (where it "
         "exists).")

exp2 = _unary(_em.exp2_p, "exp2", _SMOOTH.format("exp2"))
log2 = _unary(_em.log2_p, "log2", _SMOOTH.format("log2"))
log10 = _unary(_em.log10_p, "log10", _SMOOTH.format("log10"))
cbrt = _unary(_em.cbrt_p, "cbrt", _SMOOTH.format("cbrt"), "fnp.array([8.0])", [2.0])
sinh = _unary(_em.sinh_p, "sinh", _SMOOTH.format("sinh"), "fnp.array([0.0])", [0.0])
cosh = _unary(_em.cosh_p, "cosh", _SMOOTH.format("cosh"), "fnp.array([0.0])", [1.0])
arcsin = _unary(_em.arcsin_p, "arcsin", _SMOOTH.format("arcsin"), "fnp.array([0.0])", [0.0])
arccos = _unary(_em.arccos_p, "arccos", _SMOOTH.format("arccos"), "fnp.array([1.0])", [0.0])
arctan = _unary(_em.arctan_p, "arctan", _SMOOTH.format("arctan"), "fnp.array([0.0])", [0.0])
arcsinh = _unary(_em.arcsinh_p, "arcsinh", _SMOOTH.format("arcsinh"), "fnp.array([0.0])", [0.0])
arccosh = _unary(_em.arccosh_p, "arccosh", _SMOOTH.format("arccosh"), "fnp.array([1.0])", [0.0])
arctanh = _unary(_em.arctanh_p, "arctanh", _SMOOTH.format("arctanh"), "fnp.array([0.0])", [0.0])
asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh
floor = _unary(_em.floor_p, "floor", _FLAT.format("floor"), "fnp.array([1.5, -1.5])", [1.0, -2.0])
ceil = _unary(_em.ceil_p, "ceil", _FLAT.format("ceil"), "fnp.array([1.5, -1.5])", [2.0, -1.0])
rint = _unary(_em.rint_p, "rint", _FLAT.format("rint") + " Halves round to even.",
              "fnp.array([0.5, 1.5])", [0.0, 2.0])
trunc = _unary(_em.trunc_p, "trunc", _FLAT.format("trunc"), "fnp.array([1.5, -1.5])", [1.0, -1.0])
fix = trunc
signbit = _unary(_em.signbit_p, "signbit", "True where the sign bit is set (also for -0.0).",
                 "fnp.array([-0.0, 1.0])", [True, False])
isnan = _unary(_em.isnan_p, "isnan", "True where the value is NaN.", "fnp.array([fnp.nan, 1.0])",
               [True, False])
isinf = _unary(_em.isinf_p, "isinf", "True where the value is infinite.", "fnp.array([fnp.inf, 1.0])",
               [True, False])
isfinite = _unary(_em.isfinite_p, "isfinite", "True where the value is neither infinite nor NaN.",
                  "fnp.array([fnp.inf, 1.0])", [False, True])
logical_not = _unary(_em.logical_not_p, "logical_not", "Elementwise logical NOT.",
                     "fnp.array([True, False])", [False, True])
arctan2 = _binary(_em.arctan2_p, "arctan2", "The angle of the point ``(x2, x1)``, in ``[-pi, pi]``.",
                  "fnp.array([0.0]), fnp.array([1.0])", [0.0])
atan2 = arctan2
hypot = _binary(_em.hypot_p, "hypot",
                "``sqrt(x1**2 + x2**2)`` without overflow. Its derivative at the origin is 0.",
                "fnp.array([3.0]), fnp.array([4.0])", [5.0])
logaddexp = _binary(
    _em.logaddexp_p, "logaddexp",
    "``log(exp(x1) + exp(x2))`` without overflow. The derivative in ``x1`` is "
    "``logistic(x1 - x2)``, exactly 1/2 at ``x1 == x2`` (also when both are -inf). "
    "``logaddexp(x, 0)`` is softplus and ``-logaddexp(0, -x)`` is log-sigmoid, with "
    "derivatives accurate at 0 and far into both tails.",
    "fnp.array([0.0]), fnp.array([0.0])", [math.log(2.0)])
logaddexp2 = _binary(_em.logaddexp2_p, "logaddexp2", "``log2(2**x1 + 2**x2)`` without overflow.",
                     "fnp.array([1.0]), fnp.array([1.0])", [2.0])
fmod = _binary(_em.fmod_p, "fmod",
               "Remainder of division with the sign of the dividend (C's ``fmod``). Derivative 1 "
               "in ``x1`` and ``-trunc(x1 / x2)`` in ``x2``.",
               "fnp.array([-5.0]), fnp.array([3.0])", [-2.0])
mod = _binary(_em.mod_p, "mod",
              "Remainder of division with the sign of the divisor (Python's ``%``). Derivative "
              "1 in ``x1`` and ``-floor(x1 / x2)`` in ``x2``.",
              "fnp.array([-5.0]), fnp.array([3.0])", [1.0])
remainder = mod
floor_divide = _binary(_em.floor_divide_p, "floor_divide", _FLAT.format("floor_divide"),
                       "fnp.array([7.0]), fnp.array([2.0])", [3.0])
logical_and = _binary(_em.logical_and_p, "logical_and", "Elementwise logical AND.",
                      "fnp.array([True, True]), fnp.array([True, False])", [True, False])
logical_or = _binary(_em.logical_or_p, "logical_or", "Elementwise logical OR.",
                     "fnp.array([True, False]), fnp.array([False, False])", [True, False])
logical_xor = _binary(_em.logical_xor_p, "logical_xor", "Elementwise logical XOR.",
                      "fnp.array([True, True]), fnp.array([True, False])", [False, True])


def sinc(x, /):
    """The normalised sinc function ``sin(pi x) / (pi x)``, 1 at 0. Its first and second
    derivatives are exact at and near 0 (0 and ``-pi**2 / 3`` at 0).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> float(fnp.sinc(0.0)), float(ft.grad(fnp.sinc)(0.0))
        (1.0, 0.0)
    """
    return _em.sinc_p.bind(_float(x))


def _float(x):
    """``x`` as an array of an inexact dtype (integers become float64, as NumPy's ufuncs do)."""
    x = operand(x)
    if type(x) in (int, bool) or dtype_of(x).kind not in "fc":
        return convert_element_type(x, new_dtype=np.float64)
    return x


def round(a, decimals: int = 0):
    """Round to ``decimals`` decimal places (halves to even). Piecewise constant: zero
    derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.round(fnp.array([1.25, 2.5]), 1).tolist()
        [1.2, 2.5]
    """
    return _em.round_(operand(a), decimals)


around = round


def fabs(x, /):
    """Absolute value of real numbers, as a float.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fabs(fnp.array([-2.0])).tolist()
        [2.0]
    """
    x = _float(x)
    if dtype_of(x).kind == "c":
        raise TypeError("fabs is not defined for complex numbers; use fnp.abs")
    return _ew.abs(x)


def float_power(x1, x2, /):
    """``x1 ** x2`` computed in float64 (or complex128), as NumPy's ``float_power``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.float_power(fnp.array([2]), 3).tolist()
        [8.0]
    """
    from functrans.numpy._ufuncs import power

    def widen(v):
        v = operand(v)
        kind = dtype_of(v).kind
        return convert_element_type(v, new_dtype=np.complex128 if kind == "c" else np.float64)

    x1, x2 = widen(x1), widen(x2)
    return power(x1, x2)


def deg2rad(x, /):
    """Degrees to radians.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.deg2rad(fnp.array([180.0])).tolist() == [fnp.pi]
        True
    """
    return _ew.mul(_float(x), math.pi / 180)


def rad2deg(x, /):
    """Radians to degrees.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.rad2deg(fnp.array([fnp.pi])).tolist()
        [180.0]
    """
    return _ew.mul(_float(x), 180 / math.pi)


radians = deg2rad
degrees = rad2deg


def copysign(x1, x2, /):
    """``|x1|`` with the sign of ``x2`` (the sign bit, so -0.0 counts as negative).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.copysign(fnp.array([2.0]), -1.0).tolist()
        [-2.0]
    """
    x1 = _float(x1)
    x2 = operand(x2)
    magnitude = _ew.abs(x1)
    return _ew.select(_em.signbit(x2), _ew.neg(magnitude), magnitude)


def heaviside(x1, x2, /):
    """The step function: 0 for ``x1 < 0``, ``x2`` at 0, 1 for ``x1 > 0``. The derivative in
    ``x1`` is zero; ``x2`` passes its derivative through where ``x1 == 0``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.heaviside(fnp.array([-1.0, 0.0, 2.0]), 0.5).tolist()
        [0.0, 0.5, 1.0]
    """
    x1, x2 = _float(x1), _float(x2)
    dtype = np.result_type(dtype_of(x1), dtype_of(x2))
    one = convert_element_type(_ew.gt(x1, 0), new_dtype=dtype)
    return _ew.select(_ew.eq(x1, 0), x2, one)


def fmax(x1, x2, /):
    """Elementwise maximum that ignores NaN (returns the other value where one is NaN).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fmax(fnp.array([fnp.nan, 1.0]), fnp.array([2.0, 0.0])).tolist()
        [2.0, 1.0]
    """
    return _nan_ignoring(_ew.max, x1, x2)


def fmin(x1, x2, /):
    """Elementwise minimum that ignores NaN (returns the other value where one is NaN).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fmin(fnp.array([fnp.nan, 1.0]), fnp.array([2.0, 0.0])).tolist()
        [2.0, 0.0]
    """
    return _nan_ignoring(_ew.min, x1, x2)


def _nan_ignoring(op, x1, x2):
    x1, x2 = operand(x1), operand(x2)
    out = op(x1, x2)
    out = _ew.select(_em.isnan(x2), x1, out)
    return _ew.select(_em.isnan(x1), x2, out)


def nan_to_num(x, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None):
    """Replace NaN by ``nan`` and infinities by ``posinf`` / ``neginf`` (by default the
    largest finite values of the dtype). Finite entries keep their derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.nan_to_num(fnp.array([fnp.nan, 1.0]), nan=-1.0).tolist()
        [-1.0, 1.0]
    """
    x = operand(x)
    dtype = dtype_of(x)
    if dtype.kind == "c":
        return _ew.add(nan_to_num(_ew.real(x), copy, nan, posinf, neginf),
                       _ew.mul(nan_to_num(_ew.imag(x), copy, nan, posinf, neginf), 1j))
    if dtype.kind != "f":
        return x
    info = np.finfo(dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    out = _ew.select(_em.isnan(x), nan, x)
    out = _ew.select(_ew.eq(x, np.inf), posinf, out)
    return _ew.select(_ew.eq(x, -np.inf), neginf, out)


def angle(z, deg: bool = False):
    """The argument (phase) of complex numbers, in radians (degrees with ``deg``): the
    angle of the point ``(real, imag)``. Real input gives 0 or pi.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.angle(1j))
        1.5707963267948966
    """
    z = operand(z)
    if dtype_of(z).kind == "c":
        out = _em.arctan2(_ew.imag(z), _ew.real(z))
    else:
        z = _float(z)
        if isinstance(z, float):
            z = np.asarray(z)  # host-data: a Python scalar
        out = _em.arctan2(zeros_like(z), z)  # +0 imaginary part: pi for negative numbers
    return _ew.mul(out, 180 / math.pi) if deg else out


def isposinf(x, /):
    """True where the value is +inf.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isposinf(fnp.array([fnp.inf, -fnp.inf])).tolist()
        [True, False]
    """
    return _ew.eq(operand(x), np.inf)


def isneginf(x, /):
    """True where the value is -inf.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isneginf(fnp.array([fnp.inf, -fnp.inf])).tolist()
        [False, True]
    """
    return _ew.eq(operand(x), -np.inf)
