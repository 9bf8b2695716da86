"""Elementwise functions with NumPy's names, broadcasting and type promotion."""
from __future__ import annotations

import numpy as np

from functrans.backend import array_module
from functrans.core.trace import Tracer
from functrans.numpy._util import PASS_THROUGH, dtype_of, operand
from functrans.primitives import conversion as _conv
from functrans.primitives import elementwise as _ew
from functrans.primitives.elementwise import (
    abs_p, add_p, cos_p, div_p, eq_p, exp_p, expm1_p, ge_p, gt_p, integer_pow_p, le_p, log1p_p,
    log_p, lt_p, max_p, min_p, mul_p, ne_p, neg_p, pow_p, select_p, sign_p, sin_p, sqrt_p, sub_p,
    tan_p, tanh_p,
)


# Plain operands that NumPy's ufunc handles exactly as the primitive's implementation does:
# with a NumPy array among them, the ufunc is called directly (one call, no dispatch).
_PLAIN = frozenset((np.ndarray, float, int, bool, complex, np.float64, np.float32, np.int64, np.bool_))
_ndarray = np.ndarray


def _binary(prim, doc_name):
    bind = prim.bind
    ufunc = getattr(np, doc_name)

    def fn(x, y, /):
        tx, ty = type(x), type(y)
        if (tx is _ndarray and ty in _PLAIN) or (ty is _ndarray and tx in _PLAIN):
            return ufunc(x, y)
        if tx not in PASS_THROUGH:
            x = operand(x)
        if type(y) not in PASS_THROUGH:
            y = operand(y)
        return bind(x, y)

    fn.__name__ = doc_name
    fn.__qualname__ = doc_name
    fn.__doc__ = (f"Elementwise ``numpy.{doc_name}``, differentiable.\n\n"
                  f"    Example:\n        >>> import functrans.numpy as fnp\n"
                  f"        >>> fnp.{doc_name}(fnp.array([1.0, 2.0]), 2.0).shape\n        (2,)\n")
    return fn


def _unary(prim, doc_name):
    bind = prim.bind
    ufunc = getattr(np, doc_name)

    def fn(x, /):
        if type(x) is _ndarray:
            return ufunc(x)
        return bind(x if type(x) in PASS_THROUGH else operand(x))

    fn.__name__ = doc_name
    fn.__qualname__ = doc_name
    fn.__doc__ = (f"Elementwise ``numpy.{doc_name}``, differentiable.\n\n"
                  f"    Example:\n        >>> import functrans.numpy as fnp\n"
                  f"        >>> fnp.{doc_name}(fnp.array([0.5, 1.0])).shape\n        (2,)\n")
    return fn


add = _binary(add_p, "add")
subtract = _binary(sub_p, "subtract")
multiply = _binary(mul_p, "multiply")
divide = _binary(div_p, "divide")
true_divide = divide
maximum = _binary(max_p, "maximum")
minimum = _binary(min_p, "minimum")
equal = _binary(eq_p, "equal")
not_equal = _binary(ne_p, "not_equal")
less = _binary(lt_p, "less")
less_equal = _binary(le_p, "less_equal")
greater = _binary(gt_p, "greater")
greater_equal = _binary(ge_p, "greater_equal")

negative = _unary(neg_p, "negative")
exp = _unary(exp_p, "exp")
log = _unary(log_p, "log")
log1p = _unary(log1p_p, "log1p")
expm1 = _unary(expm1_p, "expm1")
sin = _unary(sin_p, "sin")
cos = _unary(cos_p, "cos")
tan = _unary(tan_p, "tan")
tanh = _unary(tanh_p, "tanh")
sqrt = _unary(sqrt_p, "sqrt")
abs = _unary(abs_p, "abs")
absolute = abs
sign = _unary(sign_p, "sign")


def positive(x, /):
    """``+x``: the same values.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.positive(fnp.array([-1.0])).tolist()
        [-1.0]
    """
    return operand(x)


def power(x, y, /):
    """``x ** y`` elementwise. A Python int exponent uses repeated multiplication, which is
    exact at ``x = 0`` and for negative ``x``.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> float(ft.grad(lambda x: fnp.power(x, 3))(2.0))
        12.0
    """
    x = operand(x)
    if type(y) is int:
        return integer_pow_p.bind(x, y=y)
    return pow_p.bind(x, operand(y))


def square(x, /):
    """``x * x`` elementwise.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.square(fnp.array([3.0])).tolist()
        [9.0]
    """
    return integer_pow_p.bind(operand(x), y=2)


def reciprocal(x, /):
    """``1 / x`` elementwise.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.reciprocal(fnp.array([4.0])).tolist()
        [0.25]
    """
    x = operand(x)
    if not dtype_of(x).kind in "fc":
        xp = np if isinstance(x, Tracer) else array_module(x)  # an integer tracer's value is NumPy's
        return xp.reciprocal(x)  # NumPy's integer semantics, no derivative involved
    return div_p.bind(1, x)


def where(condition, x=None, y=None, /):
    """``x`` where ``condition`` holds, else ``y`` (broadcast). With one argument, the
    indices where ``condition`` is true (as ``numpy.nonzero``).

    In reverse mode, an infinite or NaN derivative in the branch that is not chosen can still
    reach the gradient as ``0 * inf = nan`` when the condition differs between elements
    (a condition that is the same everywhere is handled exactly). The remedy is a second
    ``where`` that keeps the unused branch finite: ``where(x > 0, sqrt(where(x > 0, x, 1)), 0)``.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> float(ft.grad(lambda x: fnp.where(x < 1, x, fnp.sqrt(x)))(0.0))
        1.0
    """
    if x is None and y is None:
        from functrans.numpy._indexing import nonzero

        return nonzero(condition)
    if x is None or y is None:
        raise ValueError("where takes one argument (condition) or three (condition, x, y)")
    condition = operand(condition)
    if dtype_of(condition) != np.bool_:
        condition = ne_p.bind(condition, 0)
    return select_p.bind(condition, operand(x), operand(y))


def clip(a, a_min=None, a_max=None):
    """Limit the values of ``a`` to ``[a_min, a_max]`` (either may be None). The derivative
    is 1 strictly inside the interval and 0 outside it.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.clip(fnp.array([-2.0, 0.5, 3.0]), 0.0, 1.0).tolist()
        [0.0, 0.5, 1.0]
    """
    a = operand(a)
    if a_min is None and a_max is None:
        raise ValueError("clip needs at least one of a_min and a_max")
    if a_min is not None:
        a = select_p.bind(lt_p.bind(a, a_min), a_min, a)
    if a_max is not None:
        a = select_p.bind(gt_p.bind(a, a_max), a_max, a)
    return a


def logistic(x, /):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow; its
    derivative stays accurate far into the tails.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.logistic(0.0))
        0.5
    """
    return _ew.logistic(operand(x))


def rsqrt(x, /):
    """``1 / sqrt(x)`` elementwise.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.rsqrt(4.0))
        0.5
    """
    return _ew.rsqrt(operand(x))


def real(x, /):
    """The real part.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.real(1.0 + 2.0j))
        1.0
    """
    x = operand(x)
    return _ew.real(x) if dtype_of(x).kind == "c" else x


def imag(x, /):
    """The imaginary part.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.imag(1.0 + 2.0j))
        2.0
    """
    x = operand(x)
    if dtype_of(x).kind == "c":
        return _ew.imag(x)
    return _conv.zeros_like(x) if not isinstance(x, (int, float)) else 0.0


def conj(x, /):
    """The complex conjugate (the identity on real arrays).

    Example:
        >>> import functrans.numpy as fnp
        >>> complex(fnp.conj(1.0 + 2.0j))
        (1-2j)
    """
    x = operand(x)
    return _ew.conj(x) if dtype_of(x).kind == "c" else x


conjugate = conj
