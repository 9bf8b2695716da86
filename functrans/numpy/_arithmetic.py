"""Elementwise arithmetic with NumPy's names: sums, products, quotients, powers, remainders,
roots, absolute values and signs, elementwise extrema, clipping.

All broadcast their arguments and follow NumPy 2's type promotion (a Python scalar takes the
dtype of the array it meets).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from functrans._abstract import PY_SCALARS, dtype_of
from functrans.backend import array_module
from functrans.core.staging import scalar_kind
from functrans.core.trace import Tracer
from functrans.numpy._ufuncs import binary_ufunc, numpy_number, unary_ufunc
from functrans.numpy._util import floating, number_beside, operand, pair_beside, refuse_out
from functrans.primitives import elementwise as _ew
from functrans.primitives.conversion import convert_element_type
from functrans.primitives.elementwise import (
    abs_p,
    add_p,
    cbrt_p,
    div_p,
    floor_divide_p,
    fmod_p,
    gt_p,
    integer_pow_p,
    isnan,
    lt_p,
    max_p,
    min_p,
    mod_p,
    mul_p,
    neg_p,
    pow_p,
    select_p,
    sign_p,
    signbit,
    sqrt_p,
    sub_p,
)
from functrans.typing import Array, ArrayLike

# --- sums, products, quotients ------------------------------------------------------------------


@binary_ufunc(add_p, np.add)
def add(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The sum ``x1 + x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        ``x1 + x2`` in the dtype NumPy's promotion gives the pair.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.add(fnp.array([1.0, 2.0]), 10.0).tolist()
        [11.0, 12.0]
    """


@binary_ufunc(sub_p, np.subtract)
def subtract(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The difference ``x1 - x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        ``x1 - x2`` in the promoted dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.subtract(fnp.array([5.0, 7.0]), 2.0).tolist()
        [3.0, 5.0]
    """


@binary_ufunc(mul_p, np.multiply)
def multiply(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The product ``x1 * x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        ``x1 * x2`` in the promoted dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.multiply(fnp.array([1.0, 2.0]), fnp.array([3.0, 4.0])).tolist()
        [3.0, 8.0]
    """


@binary_ufunc(div_p, np.divide)
def divide(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The true quotient ``x1 / x2``, elementwise (integers give floats). The derivative is
    ``1 / x2`` in ``x1`` and ``-x1 / x2**2`` in ``x2``, undefined where ``x2 == 0``.
    ``true_divide`` is the same function.

    Args:
        x1: The dividend.
        x2: The divisor, broadcast against ``x1``.

    Returns:
        ``x1 / x2`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.divide(fnp.array([1.0, 3.0]), 2.0).tolist()
        [0.5, 1.5]
    """


@binary_ufunc(floor_divide_p, np.floor_divide)
def floor_divide(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The largest integer not above ``x1 / x2`` (Python's ``//``), elementwise. Piecewise
    constant: its derivative is zero (where it exists).

    Args:
        x1: The dividend.
        x2: The divisor, broadcast against ``x1``.

    Returns:
        ``x1 // x2`` in the promoted dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.floor_divide(fnp.array([7.0, -7.0]), 2.0).tolist()
        [3.0, -4.0]
    """


@binary_ufunc(mod_p, np.remainder)
def mod(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The remainder of ``x1 / x2`` with the sign of the divisor (Python's ``%``). Its
    derivative is 1 in ``x1`` and ``-floor(x1 / x2)`` in ``x2``; it jumps where ``x1 / x2`` is
    an integer.
    ``remainder`` is the same function.

    Args:
        x1: The dividend.
        x2: The divisor, broadcast against ``x1``.

    Returns:
        ``x1 - floor(x1 / x2) * x2`` in the promoted dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.mod(fnp.array([-5.0, 5.0]), 3.0).tolist()
        [1.0, 2.0]
    """


@binary_ufunc(fmod_p, np.fmod)
def fmod(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The remainder of ``x1 / x2`` with the sign of the dividend (C's ``fmod``). Its
    derivative is 1 in ``x1`` and ``-trunc(x1 / x2)`` in ``x2``; it jumps where ``x1 / x2`` is
    an integer.

    Args:
        x1: The dividend.
        x2: The divisor, broadcast against ``x1``.

    Returns:
        ``x1 - trunc(x1 / x2) * x2`` in the promoted dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fmod(fnp.array([-5.0, 5.0]), 3.0).tolist()
        [-2.0, 2.0]
    """


def divmod(x1: ArrayLike, x2: ArrayLike, /) -> tuple[Array, Array]:
    """The pair ``(x1 // x2, x1 % x2)``, elementwise, as Python's ``divmod``: ``floor_divide``
    (no derivative) and ``mod``.

    Args:
        x1: The dividend.
        x2: The divisor, broadcast against ``x1``.

    Returns:
        ``(floor_divide(x1, x2), mod(x1, x2))``.

    Example:
        >>> import functrans.numpy as fnp
        >>> q, r = fnp.divmod(fnp.array([7.0, -7.0]), 2.0)
        >>> q.tolist(), r.tolist()
        ([3.0, -4.0], [1.0, 1.0])
    """
    return floor_divide(x1, x2), mod(x1, x2)


@unary_ufunc(neg_p, np.negative)
def negative(x: ArrayLike, /) -> Array:
    """The negation ``-x``, elementwise.

    Args:
        x: An array or a scalar.

    Returns:
        ``-x`` in the dtype of ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.negative(fnp.array([1.0, -2.0])).tolist()
        [-1.0, 2.0]
    """


def positive(x: ArrayLike, /) -> Array:
    """``+x``: the same values.

    Args:
        x: An array or a scalar.

    Returns:
        ``x`` itself.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.positive(fnp.array([-1.0])).tolist()
        [-1.0]
    """
    return operand(x)


# --- powers and roots --------------------------------------------------------------------------------


def power(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 ** x2`` elementwise. A Python int exponent uses repeated multiplication, which is
    exact at ``x1 = 0`` and for negative ``x1``; otherwise the derivative in ``x2`` is
    ``log(x1) * x1 ** x2`` (taken as 0 at ``x1 = 0``).

    Args:
        x1: The base.
        x2: The exponent, broadcast against ``x1``.

    Returns:
        ``x1 ** x2`` in the promoted dtype.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> float(ft.grad(lambda x: fnp.power(x, 3))(2.0))
        12.0
    """
    if type(x1) in PY_SCALARS and type(x2) in PY_SCALARS:  # NumPy's value, not Python's:
        # numpy-only: two Python numbers, no array; (-8.0) ** (1/3) is nan, 2 ** -1 an error
        return np.power(x1, x2)
    x1 = numpy_number(operand(x1), x2)
    if type(x2) is int:
        return integer_pow_p.bind(x1, y=x2)
    return pow_p.bind(x1, operand(x2))


def _power_operator(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``**`` of traced arrays: Python's rules for numbers, as the function without jit."""
    x1 = operand(x1)
    if type(x2) is int:
        return integer_pow_p.bind(x1, y=x2)
    return pow_p.bind(x1, operand(x2))


power.operator_form = _power_operator  # type: ignore[attr-defined]


def float_power(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 ** x2`` computed in float64 (or complex128), as NumPy's ``float_power``.

    Args:
        x1: The base.
        x2: The exponent, broadcast against ``x1``.

    Returns:
        ``x1 ** x2`` in float64 (complex128 for complex input).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.float_power(fnp.array([2]), 3).tolist()
        [8.0]
    """

    def widen(v: ArrayLike) -> Array:
        v = operand(v)
        return convert_element_type(v, new_dtype=np.complex128 if dtype_of(v).kind == "c" else np.float64)

    base = widen(x1)
    if isinstance(x2, (int, float, complex, np.number, np.bool_)) \
            and type(base) not in (np.float64, np.complex128):
        # a number exponent beside an array base: a Python float (or complex), which the
        # widened base keeps its dtype beside, meets the base on every device and keeps the
        # derivative rules on their path for a number
        return power(base, complex(x2) if isinstance(x2, (complex, np.complexfloating)) else float(x2))
    return power(base, widen(x2))


def square(x: ArrayLike, /) -> Array:
    """``x * x`` elementwise.

    Args:
        x: An array or a scalar.

    Returns:
        ``x ** 2`` in the dtype of ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.square(fnp.array([3.0])).tolist()
        [9.0]
    """
    return integer_pow_p.bind(operand(x), y=2)


@unary_ufunc(sqrt_p, np.sqrt)
def sqrt(x: ArrayLike, /) -> Array:
    """The non-negative square root, elementwise. Its derivative ``1 / (2 sqrt(x))`` is
    infinite at 0; negative reals give NaN (pass complex input for complex roots).

    Args:
        x: An array or a scalar.

    Returns:
        ``sqrt(x)`` in a floating dtype (integers give float64).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.sqrt(fnp.array([4.0, 9.0])).tolist()
        [2.0, 3.0]
    """


@unary_ufunc(cbrt_p, np.cbrt)
def cbrt(x: ArrayLike, /) -> Array:
    """The real cube root, elementwise (negative for negative ``x``). Its derivative
    ``1 / (3 cbrt(x)**2)`` is infinite at 0.

    Args:
        x: A real array or scalar.

    Returns:
        ``cbrt(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.round(fnp.cbrt(fnp.array([8.0, -27.0])), 12).tolist()  # -3 within an ulp, by CPU
        [2.0, -3.0]
    """


def rsqrt(x: ArrayLike, /) -> Array:
    """``1 / sqrt(x)`` elementwise.

    Args:
        x: An array or a scalar.

    Returns:
        ``1 / sqrt(x)`` in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.rsqrt(4.0))
        0.5
    """
    return _ew.rsqrt(operand(x))


def reciprocal(x: ArrayLike, /) -> Array:
    """``1 / x`` elementwise (integers keep NumPy's integer semantics, with no derivative).

    Args:
        x: An array or a scalar.

    Returns:
        ``1 / x`` in the dtype of ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.reciprocal(fnp.array([4.0])).tolist()
        [0.25]
    """
    x = operand(x)
    if dtype_of(x).kind not in "fc":
        xp = np if isinstance(x, Tracer) else array_module(x)  # an integer tracer's value is NumPy's
        return xp.reciprocal(x)  # NumPy's integer semantics, no derivative involved
    return div_p.bind(1, x)


# --- absolute values and signs -----------------------------------------------------------------------


@unary_ufunc(abs_p, np.abs)
def abs(x: ArrayLike, /) -> Array:
    """The absolute value ``|x|``, elementwise (the modulus for complex ``x``). Its derivative
    is ``sign(x)``, taken as 0 at 0.
    ``absolute`` is the same function.

    Args:
        x: An array or a scalar.

    Returns:
        ``|x|``, real (complex input gives its real dtype).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.abs(fnp.array([-1.5, 2.0])).tolist()
        [1.5, 2.0]
    """


def fabs(x: ArrayLike, /) -> Array:
    """The absolute value of real numbers, as a float.

    Args:
        x: A real array or scalar.

    Returns:
        ``|x|`` in a floating dtype (integers give float64).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fabs(fnp.array([-2.0])).tolist()
        [2.0]
    """
    x = floating(x)
    if dtype_of(x).kind == "c":
        raise TypeError("fabs is not defined for complex numbers; use fnp.abs")
    return _ew.abs(x)


@unary_ufunc(sign_p, np.sign)
def sign(x: ArrayLike, /) -> Array:
    """-1, 0 or 1 by the sign of ``x``, elementwise (``x / |x|`` for complex ``x``).
    Piecewise constant: its derivative is zero.

    Args:
        x: An array or a scalar.

    Returns:
        The signs, in the dtype of ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.sign(fnp.array([-2.0, 0.0, 3.0])).tolist()
        [-1.0, 0.0, 1.0]
    """


def copysign(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``|x1|`` with the sign of ``x2`` (the sign bit, so -0.0 counts as negative).

    Args:
        x1: The magnitudes.
        x2: The signs, broadcast against ``x1``.

    Returns:
        The magnitudes of ``x1`` carrying the signs of ``x2``, in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.copysign(fnp.array([2.0]), -1.0).tolist()
        [-2.0]
    """
    x1, x2 = operand(x1), operand(x2)
    # The result's dtype is NumPy's promotion of both (x2 only gives signs, but a float32 x2
    # keeps copysign(1.0, x2) float32, and a float64 one widens a float32 x1).
    dtype = np.result_type(_dtype_or_weak(x1), _dtype_or_weak(x2))
    magnitude = _ew.abs(floating(x1))
    if dtype.kind in "fc" and dtype_of(magnitude) != dtype:
        magnitude = convert_element_type(magnitude, new_dtype=dtype)
    return _ew.select(signbit(x2), _ew.neg(magnitude), magnitude)


def _dtype_or_weak(x: ArrayLike) -> Any:
    """What ``np.result_type`` takes for ``x``: a Python number itself (weak), or a dtype."""
    kind = scalar_kind(x)
    return kind(0) if kind is not None else dtype_of(x)


def heaviside(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The step function: 0 for ``x1 < 0``, ``x2`` at 0, 1 for ``x1 > 0``. The derivative in
    ``x1`` is zero; ``x2`` passes its derivative through where ``x1 == 0``.

    Args:
        x1: Where to evaluate the step.
        x2: The value at ``x1 == 0``, broadcast against ``x1``.

    Returns:
        The step values, in a floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.heaviside(fnp.array([-1.0, 0.0, 2.0]), 0.5).tolist()
        [0.0, 0.5, 1.0]
    """
    x1, x2 = floating(x1), floating(x2)
    dtype = np.result_type(dtype_of(x1), dtype_of(x2))
    one = convert_element_type(_ew.gt(x1, 0), new_dtype=dtype)
    return _ew.select(_ew.eq(x1, 0), x2, one)


# --- elementwise extrema, clipping, non-finite values ------------------------------------------------


@binary_ufunc(max_p, np.maximum)
def maximum(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The larger of ``x1`` and ``x2``, elementwise (NaN if either is NaN). Where they are
    equal, each gets half of the derivative.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        The elementwise maxima in the promoted dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.maximum(fnp.array([1.0, 5.0]), 3.0).tolist()
        [3.0, 5.0]
    """


@binary_ufunc(min_p, np.minimum)
def minimum(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The smaller of ``x1`` and ``x2``, elementwise (NaN if either is NaN). Where they are
    equal, each gets half of the derivative.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        The elementwise minima in the promoted dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.minimum(fnp.array([1.0, 5.0]), 3.0).tolist()
        [1.0, 3.0]
    """


def fmax(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Elementwise maximum that ignores NaN (returns the other value where one is NaN).

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        The elementwise maxima of the values that are not NaN.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fmax(fnp.array([fnp.nan, 1.0]), fnp.array([2.0, 0.0])).tolist()
        [2.0, 1.0]
    """
    return _nan_ignoring(_ew.max, x1, x2)


def fmin(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Elementwise minimum that ignores NaN (returns the other value where one is NaN).

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        The elementwise minima of the values that are not NaN.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fmin(fnp.array([fnp.nan, 1.0]), fnp.array([2.0, 0.0])).tolist()
        [2.0, 0.0]
    """
    return _nan_ignoring(_ew.min, x1, x2)


def _nan_ignoring(op: Callable[[Array, Array], Array], x1: ArrayLike, x2: ArrayLike) -> Array:
    if type(x1) in (list, tuple) or type(x2) in (list, tuple):  # lists: where the arrays are
        x1, x2 = pair_beside(x1, x2)
    x1, x2 = operand(x1), operand(x2)
    out = op(x1, x2)
    out = _ew.select(isnan(x2), x1, out)
    return _ew.select(isnan(x1), x2, out)


def clip(a: ArrayLike, a_min: ArrayLike | None = None, a_max: ArrayLike | None = None, *, out: None = None,
         min: ArrayLike | None = None, max: ArrayLike | None = None) -> Array:
    """Limit the values of ``a`` to ``[a_min, a_max]`` (either may be None). The derivative
    is 1 strictly inside the interval and 0 outside it.

    Args:
        a: The array.
        a_min: The lower bound (broadcast), or None.
        a_max: The upper bound (broadcast), or None.
        min: ``a_min`` by the name NumPy 2 and JAX also give it (``fnp.clip(x, min=0.0)``).
        max: ``a_max`` by its other name.

    Returns:
        ``a`` with values below ``a_min`` and above ``a_max`` replaced by the bounds.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.clip(fnp.array([-2.0, 0.5, 3.0]), 0.0, 1.0).tolist()
        [0.0, 0.5, 1.0]
    """
    refuse_out("clip", out)
    a = operand(a)
    if min is not None:
        if a_min is not None:
            raise TypeError("clip got both a_min and min, two names of its lower bound: pass one")
        a_min = min
    if max is not None:
        if a_max is not None:
            raise TypeError("clip got both a_max and max, two names of its upper bound: pass one")
        a_max = max
    if a_min is None and a_max is None:
        raise ValueError("clip needs at least one of a_min and a_max")
    if type(a_min) in (list, tuple) or type(a_max) in (list, tuple):  # bounds made where a is
        a_min, a_max = (None if v is None else number_beside(v, a) for v in (a_min, a_max))
    if a_min is not None:
        a = select_p.bind(lt_p.bind(a, a_min), a_min, a)
    if a_max is not None:
        a = select_p.bind(gt_p.bind(a, a_max), a_max, a)
    return a


def nan_to_num(x: ArrayLike, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Array:
    """Replace NaN by ``nan`` and infinities by ``posinf`` / ``neginf`` (by default the
    largest finite values of the dtype). Finite entries keep their derivative.

    Args:
        x: An array or a scalar.
        copy: Accepted for NumPy's signature (a new array is always returned).
        nan: The value for NaN.
        posinf: The value for +inf (the dtype's largest finite value by default).
        neginf: The value for -inf (the dtype's smallest finite value by default).

    Returns:
        ``x`` with its non-finite entries replaced.

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
    out = _ew.select(isnan(x), nan, x)
    out = _ew.select(_ew.eq(x, np.inf), posinf, out)
    return _ew.select(_ew.eq(x, -np.inf), neginf, out)
