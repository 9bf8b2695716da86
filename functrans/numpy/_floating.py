"""NumPy's floating-point routines: splitting numbers into mantissa and exponent (``frexp``,
``ldexp``) or into fractional and integral parts (``modf``), and the neighbours and gaps of
representable numbers (``nextafter``, ``spacing``). Derivatives follow the values: the
mantissa and the fractional part move with ``x``; exponents, integral parts and gaps are
piecewise constant."""
from __future__ import annotations

import numpy as np

from functrans._abstract import dtype_of
from functrans.backend import array_module
from functrans.numpy._arithmetic import copysign
from functrans.numpy._indexing import where
from functrans.numpy._util import any_tracer, floating, inexact, operand, pair_beside
from functrans.primitives import elementwise as _ew
from functrans.primitives.conversion import convert_element_type, full_like, stop_gradient
from functrans.primitives.opaque import opaque_call_p
from functrans.typing import Array, ArrayLike


def _exponent(x: Array) -> Array:
    return array_module(x).frexp(x)[1]


def _spacing(x: Array) -> Array:
    return array_module(x).spacing(x)


def _next_after(x1: Array, x2: Array) -> Array:
    return array_module(x1).nextafter(x1, x2)


def frexp(x: ArrayLike, /) -> tuple[Array, Array]:
    """``(mantissa, exponent)`` with ``x == mantissa * 2**exponent`` and ``0.5 <= |mantissa| <
    1`` (both 0 for 0), elementwise, as ``numpy.frexp``. The mantissa's derivative is
    ``2**-exponent``; the integer exponent has none.

    Example:
        >>> import functrans.numpy as fnp
        >>> m, e = fnp.frexp(fnp.array([8.0, 0.75]))
        >>> m.tolist(), e.tolist()
        ([0.5, 0.75], [4, 0])
    """
    x = floating(x)
    if not any_tracer(x):
        return array_module(x).frexp(x)
    exponent = opaque_call_p.bind(x, fn=_exponent)
    return ldexp(x, _ew.neg(exponent)), exponent


def ldexp(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 * 2**x2`` for integer ``x2``, elementwise, as ``numpy.ldexp`` (exact: a change
    of exponent). Differentiable in ``x1``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ldexp(fnp.array([0.5, 3.0]), fnp.array([4, -1])).tolist()
        [8.0, 1.5]
    """
    x1, x2 = pair_beside(x1, x2)
    x1, x2 = floating(x1), operand(x2)
    if not any_tracer(x1, x2):
        return array_module(x1).ldexp(x1, x2)
    scale = _ew.exp2(convert_element_type(x2, new_dtype=np.float64))
    out = _ew.mul(x1, scale)
    # host-metadata: NumPy's result dtype, from zero stand-ins of the operands' dtypes
    dtype = np.ldexp(np.zeros((), dtype_of(x1)), np.zeros((), dtype_of(x2))).dtype
    return convert_element_type(out, new_dtype=dtype) if out.dtype != dtype else out


def modf(x: ArrayLike, /) -> tuple[Array, Array]:
    """``(fractional part, integral part)`` of each entry, both with the sign of ``x``, as
    ``numpy.modf``. The fractional part's derivative is 1 (away from integers); the integral
    part's is 0.

    Example:
        >>> import functrans.numpy as fnp
        >>> f, i = fnp.modf(fnp.array([2.5, -1.25]))
        >>> f.tolist(), i.tolist()
        ([0.5, -0.25], [2.0, -1.0])
    """
    x = floating(x)
    if not any_tracer(x):
        return array_module(x).modf(x)
    whole = _ew.trunc(x)
    # an infinity's fractional part is a signed zero, not inf - inf
    return where(_ew.isinf(x), copysign(full_like(x, 0), x), _ew.sub(x, whole)), whole


def nextafter(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The next representable number after ``x1`` towards ``x2``, elementwise, as
    ``numpy.nextafter``. Its derivative is that of ``x1`` (the step is a constant gap).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.nextafter(1.0, 2.0)) - 1.0 == float(fnp.finfo(float).eps)
        True
    """
    if not any_tracer(operand(x1), operand(x2)):
        first = operand(x1)
        return array_module(first if hasattr(first, "shape") else operand(x2)).nextafter(x1, x2)
    x1, x2 = inexact(x1), inexact(x2)
    step = _ew.sub(opaque_call_p.bind(x1, x2, fn=_next_after), x1)
    return _ew.add(x1, stop_gradient(step))


def spacing(x: ArrayLike, /) -> Array:
    """The gap between ``x`` and the next representable number away from zero, elementwise,
    as ``numpy.spacing``. Piecewise constant: no derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.spacing(1.0)) == float(fnp.finfo(float).eps)
        True
    """
    x = floating(x)
    if not any_tracer(x):
        return array_module(x).spacing(x)
    return opaque_call_p.bind(x, fn=_spacing)
