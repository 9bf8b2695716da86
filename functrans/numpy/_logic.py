"""Logic functions with NumPy's names: elementwise comparisons, logical operators, tests for
NaN, infinities and the sign bit, and closeness and equality of whole arrays. All return
booleans and carry no derivative."""
from __future__ import annotations

import builtins

import numpy as np

from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.numpy._reductions import all
from functrans.numpy._ufuncs import binary_ufunc, unary_ufunc
from functrans.numpy._util import as_array, holds_device_value, operand, pair_beside
from functrans.primitives import conversion as _conv
from functrans.primitives import elementwise as _ew
from functrans.primitives.elementwise import (
    eq_p,
    ge_p,
    gt_p,
    isfinite_p,
    isinf_p,
    isnan_p,
    le_p,
    logical_and_p,
    logical_not_p,
    logical_or_p,
    logical_xor_p,
    lt_p,
    ne_p,
    signbit_p,
)
from functrans.typing import Array, ArrayLike

# --- comparisons ---------------------------------------------------------------------------------


@binary_ufunc(eq_p, np.equal)
def equal(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 == x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.equal(fnp.array([1.0, 2.0]), 2.0).tolist()
        [False, True]
    """


@binary_ufunc(ne_p, np.not_equal)
def not_equal(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 != x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.not_equal(fnp.array([1.0, 2.0]), 2.0).tolist()
        [True, False]
    """


@binary_ufunc(lt_p, np.less)
def less(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 < x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.less(fnp.array([1.0, 2.0]), 2.0).tolist()
        [True, False]
    """


@binary_ufunc(le_p, np.less_equal)
def less_equal(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 <= x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.less_equal(fnp.array([1.0, 3.0]), 2.0).tolist()
        [True, False]
    """


@binary_ufunc(gt_p, np.greater)
def greater(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 > x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.greater(fnp.array([1.0, 3.0]), 2.0).tolist()
        [False, True]
    """


@binary_ufunc(ge_p, np.greater_equal)
def greater_equal(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 >= x2``, elementwise.

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.greater_equal(fnp.array([1.0, 2.0]), 2.0).tolist()
        [False, True]
    """


# --- logical operators ---------------------------------------------------------------------------


@binary_ufunc(logical_and_p, np.logical_and)
def logical_and(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Elementwise logical AND (nonzero values count as true).

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logical_and(fnp.array([True, True]), fnp.array([True, False])).tolist()
        [True, False]
    """


@binary_ufunc(logical_or_p, np.logical_or)
def logical_or(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Elementwise logical OR (nonzero values count as true).

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logical_or(fnp.array([True, False]), fnp.array([False, False])).tolist()
        [True, False]
    """


@binary_ufunc(logical_xor_p, np.logical_xor)
def logical_xor(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Elementwise logical exclusive OR (nonzero values count as true).

    Args:
        x1: An array or a scalar.
        x2: An array or a scalar, broadcast against ``x1``.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logical_xor(fnp.array([True, True]), fnp.array([True, False])).tolist()
        [False, True]
    """


@unary_ufunc(logical_not_p, np.logical_not)
def logical_not(x: ArrayLike, /) -> Array:
    """Elementwise logical NOT (nonzero values count as true).

    Args:
        x: An array or a scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logical_not(fnp.array([True, False])).tolist()
        [False, True]
    """


# --- NaN, infinities, the sign bit -----------------------------------------------------------------


@unary_ufunc(isnan_p, np.isnan)
def isnan(x: ArrayLike, /) -> Array:
    """True where ``x`` is NaN (for complex ``x``: either part).

    Args:
        x: An array or a scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isnan(fnp.array([fnp.nan, 1.0])).tolist()
        [True, False]
    """


@unary_ufunc(isinf_p, np.isinf)
def isinf(x: ArrayLike, /) -> Array:
    """True where ``x`` is +inf or -inf.

    Args:
        x: An array or a scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isinf(fnp.array([fnp.inf, 1.0])).tolist()
        [True, False]
    """


@unary_ufunc(isfinite_p, np.isfinite)
def isfinite(x: ArrayLike, /) -> Array:
    """True where ``x`` is neither infinite nor NaN.

    Args:
        x: An array or a scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isfinite(fnp.array([fnp.inf, 1.0])).tolist()
        [False, True]
    """


def isposinf(x: ArrayLike, /) -> Array:
    """True where ``x`` is +inf.

    Args:
        x: A real array or scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isposinf(fnp.array([fnp.inf, -fnp.inf])).tolist()
        [True, False]
    """
    return _ew.eq(operand(x), np.inf)


def isneginf(x: ArrayLike, /) -> Array:
    """True where ``x`` is -inf.

    Args:
        x: A real array or scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isneginf(fnp.array([fnp.inf, -fnp.inf])).tolist()
        [False, True]
    """
    return _ew.eq(operand(x), -np.inf)


@unary_ufunc(signbit_p, np.signbit)
def signbit(x: ArrayLike, /) -> Array:
    """True where the sign bit is set: negative numbers, -0.0 and -inf.

    Args:
        x: A real array or scalar.

    Returns:
        A boolean array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.signbit(fnp.array([-0.0, 1.0])).tolist()
        [True, False]
    """


# --- closeness and equality of whole arrays -------------------------------------------------------


def _on_host(*xs: ArrayLike) -> bool:
    """True if every argument is a host value (Python numbers, NumPy arrays, lists of them):
    NumPy's own function answers."""
    return not builtins.any(holds_device_value(x) for x in xs)


def isclose(a: ArrayLike, b: ArrayLike, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Array:
    """True where ``a`` and ``b`` are equal within a tolerance: ``|a - b| <= atol + rtol * |b|``
    (not symmetric in ``a`` and ``b``, as in NumPy), with infinities equal only to themselves
    and NaN equal to NaN only with ``equal_nan``. No derivative.

    Args:
        a: An array or a scalar.
        b: The reference values, broadcast against ``a``.
        rtol: The tolerance relative to ``|b|``.
        atol: The absolute tolerance.
        equal_nan: Count NaN in both as equal.

    Returns:
        A boolean array (a NumPy bool for scalars).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isclose(fnp.array([1.0, 1.1]), 1.0 + 1e-9).tolist()
        [True, False]
    """
    if _on_host(a, b):
        # host-data: NumPy's function on host values
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if type(a) in (list, tuple) or type(b) in (list, tuple):  # lists: where the arrays are
        a, b = pair_beside(a, b)
    x, y = operand(a), operand(b)
    # NumPy compares in the inexact dtype of b (a Python float stays weakly typed)
    if type(y) is int:
        y = float(y)
    elif type(y) not in PY_SCALARS and dtype_of(y).kind not in "fc":
        y = _conv.convert_element_type(y, new_dtype=np.result_type(dtype_of(y), 1.0))
    finite = _ew.isfinite(y)
    # where b is not finite only x == y counts: the distance is taken to 0 there, so that no
    # inf - inf is computed
    if type(y) in PY_SCALARS:
        near = y if finite else 0.0
    else:
        near = _ew.select(finite, y, _conv.zeros_like(y))
    within = _ew.le(_ew.abs(_ew.sub(x, near)), _ew.add(atol, _ew.mul(rtol, _ew.abs(near))))
    result = _ew.logical_or(_ew.logical_and(within, finite), _ew.eq(x, y))
    if equal_nan:
        result = _ew.logical_or(result, _ew.logical_and(_ew.isnan(x), _ew.isnan(y)))
    return result


def allclose(a: ArrayLike, b: ArrayLike, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool | Array:
    """True if ``isclose(a, b, rtol, atol, equal_nan)`` holds everywhere. A Python bool for
    host values, as in NumPy; a 0-d boolean array for traced and device arrays (``bool()`` of
    it works where values are known, as under ``grad``, not under ``jit``).

    Args:
        a: An array or a scalar.
        b: The reference values, broadcast against ``a``.
        rtol: The tolerance relative to ``|b|``.
        atol: The absolute tolerance.
        equal_nan: Count NaN in both as equal.

    Returns:
        Whether all entries are close.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.allclose(fnp.array([1.0, 2.0]), fnp.array([1.0, 2.0 + 1e-9]))
        True
    """
    if _on_host(a, b):
        # host-data: NumPy's function on host values
        return np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def array_equal(a1: ArrayLike, a2: ArrayLike, equal_nan: bool = False) -> bool | Array:
    """True if ``a1`` and ``a2`` have the same shape and the same entries (NaN equal to NaN
    with ``equal_nan``). A Python bool for host values and for shapes that differ; a 0-d
    boolean array for traced and device arrays.

    Args:
        a1: An array or a scalar.
        a2: An array or a scalar.
        equal_nan: Count NaN in both as equal.

    Returns:
        Whether the arrays are equal.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.array_equal(fnp.array([1.0, 2.0]), [1.0, 2.0]), fnp.array_equal(fnp.ones(2), fnp.ones(3))
        (True, False)
    """
    if _on_host(a1, a2):
        # host-data: NumPy's function on host values
        return np.array_equal(a1, a2, equal_nan=equal_nan)
    a1, a2 = pair_beside(a1, a2)
    x, y = as_array(a1), as_array(a2)
    if shape_of(x) != shape_of(y):
        return False
    same = _ew.eq(x, y)
    if equal_nan:
        same = _ew.logical_or(same, _ew.logical_and(_ew.isnan(x), _ew.isnan(y)))
    return all(same)


def array_equiv(a1: ArrayLike, a2: ArrayLike) -> bool | Array:
    """True if ``a1`` and ``a2`` broadcast together and are equal everywhere. A Python bool
    for host values and for shapes that do not broadcast; a 0-d boolean array for traced and
    device arrays.

    Args:
        a1: An array or a scalar.
        a2: An array or a scalar.

    Returns:
        Whether the arrays are equal after broadcasting.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.array_equiv(fnp.array([1.0, 2.0]), fnp.array([[1.0, 2.0], [1.0, 2.0]]))
        True
    """
    if _on_host(a1, a2):
        # host-data: NumPy's function on host values
        return np.array_equiv(a1, a2)
    a1, a2 = pair_beside(a1, a2)
    x, y = as_array(a1), as_array(a2)
    try:
        np.broadcast_shapes(shape_of(x), shape_of(y))
    except ValueError:
        return False
    return all(_ew.eq(x, y))


def isscalar(element: object) -> bool:
    """Whether ``element`` is a scalar (a Python number, string or bytes, or a NumPy scalar),
    as ``numpy.isscalar``: arrays are not, 0-d ones and traced ones included.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isscalar(3.0), fnp.isscalar(fnp.array(3.0))
        (True, False)
    """
    return bool(np.isscalar(element))  # host-metadata: a type test, no array computed


def iterable(y: object) -> bool:
    """Whether ``y`` can be iterated over, as ``numpy.iterable`` (a 0-d array cannot).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.iterable([1, 2]), fnp.iterable(2.0)
        (True, False)
    """
    try:
        iter(y)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True
