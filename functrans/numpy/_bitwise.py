"""NumPy's bitwise and integer-arithmetic functions (``bitwise_and``, ``invert``,
``left_shift``, ``bitwise_count``, ``gcd``, ``lcm``, ...), elementwise on integers and
booleans. They have no derivative; traced integer arrays (under ``jit`` and ``vmap``) go
through one opaque primitive that calls the array library's function."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from functrans._abstract import PY_SCALARS
from functrans.backend import array_module
from functrans.core.staging import scalar_kind
from functrans.numpy._util import any_tracer, as_array, placed_like
from functrans.primitives.conversion import convert_element_type
from functrans.primitives.opaque import opaque_call_p
from functrans.typing import Array, ArrayLike


def _inexact_error(name: str, x: Array) -> TypeError:
    return TypeError(f"fnp.{name} takes integer or boolean arrays, not {x.dtype}: bitwise and integer "
                     "operations have no meaning (and no derivative) on floating-point values. Convert "
                     "with .astype(int) first if that is what you mean.")


def _library_call(name: str) -> Callable[..., Array]:
    """``xp.<name>(*arrays)`` for the array library of the first array: the function
    ``opaque_call`` runs on concrete values (one object per name, so staged programs that
    use it compare equal)."""
    def call(*arrays: Array) -> Array:
        return getattr(array_module(arrays[0]), name)(*arrays)
    call.__name__ = call.__qualname__ = f"xp_{name}"
    return call


_CALLS = {name: _library_call(name) for name in (
    "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift", "bitwise_count",
    "gcd", "lcm")}


def _apply(name: str, *xs: ArrayLike) -> Array:
    arrays = [as_array(x) for x in xs]
    for a in arrays:
        if a.dtype.kind not in "biu":
            raise _inexact_error(name, a)
    kinds = [scalar_kind(x) for x in xs]
    if any(k is not None for k in kinds) and not all(k is not None for k in kinds):
        arrays = _weak_operands_cast(xs, arrays, kinds)
    if not any_tracer(*arrays):
        return getattr(array_module(arrays[0]), name)(*arrays)
    return opaque_call_p.bind(*arrays, fn=_CALLS[name])


def _weak_operands_cast(xs: tuple[ArrayLike, ...], arrays: list[Array],
                        kinds: list[type | None]) -> list[Array]:
    """``arrays`` with each Python integer or boolean among the operands (or a ``jit``
    variable standing for one) in the dtype NumPy 2 and JAX give it beside the arrays: the
    array's (``int32 << 2`` stays int32), not int64. A Python integer out of that dtype's
    range raises NumPy's OverflowError."""
    dtype = np.result_type(*(x if type(x) in PY_SCALARS else k(0) if k is not None else a.dtype
                             for x, a, k in zip(xs, arrays, kinds)))
    like = next(a for a, k in zip(arrays, kinds) if k is None)
    out = []
    for x, a, k in zip(xs, arrays, kinds):
        if k is not None and a.dtype != dtype:
            if type(x) in PY_SCALARS:
                a = placed_like(np.asarray(x, dtype=dtype), like)  # host-data: a Python number
            else:
                a = convert_element_type(a, new_dtype=dtype)
        out.append(a)
    return out


def bitwise_and(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The bitwise AND of integers (logical AND of booleans), elementwise, as
    ``numpy.bitwise_and``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.bitwise_and(fnp.array([12, 10]), 6).tolist()
        [4, 2]
    """
    return _apply("bitwise_and", x1, x2)


def bitwise_or(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The bitwise OR of integers (logical OR of booleans), elementwise, as
    ``numpy.bitwise_or``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.bitwise_or(fnp.array([12, 10]), 1).tolist()
        [13, 11]
    """
    return _apply("bitwise_or", x1, x2)


def bitwise_xor(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The bitwise exclusive OR of integers (of booleans: inequality), elementwise, as
    ``numpy.bitwise_xor``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.bitwise_xor(fnp.array([12, 10]), 6).tolist()
        [10, 12]
    """
    return _apply("bitwise_xor", x1, x2)


def invert(x: ArrayLike, /) -> Array:
    """The bitwise NOT of integers (two's complement: ``~x == -x - 1`` for signed ones;
    logical NOT of booleans), elementwise, as ``numpy.invert`` (also ``bitwise_not`` and
    ``bitwise_invert``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.invert(fnp.array([0, 5])).tolist()
        [-1, -6]
    """
    return _apply("invert", x)


def left_shift(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The bits of ``x1`` shifted left by ``x2`` places (``x1 * 2**x2``), elementwise, as
    ``numpy.left_shift`` (also ``bitwise_left_shift``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.left_shift(fnp.array([1, 3]), 2).tolist()
        [4, 12]
    """
    return _apply("left_shift", x1, x2)


def right_shift(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The bits of ``x1`` shifted right by ``x2`` places (``x1 // 2**x2``), elementwise, as
    ``numpy.right_shift`` (also ``bitwise_right_shift``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.right_shift(fnp.array([4, 13]), 2).tolist()
        [1, 3]
    """
    return _apply("right_shift", x1, x2)


def bitwise_count(x: ArrayLike, /) -> Array:
    """The number of 1 bits in the absolute value of each integer, as
    ``numpy.bitwise_count``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.bitwise_count(fnp.array([7, -8])).tolist()
        [3, 1]
    """
    return _apply("bitwise_count", x)


def gcd(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The greatest common divisor of ``|x1|`` and ``|x2|``, elementwise, as ``numpy.gcd``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.gcd(fnp.array([12, 20]), 8).tolist()
        [4, 4]
    """
    return _apply("gcd", x1, x2)


def lcm(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The lowest common multiple of ``|x1|`` and ``|x2|``, elementwise, as ``numpy.lcm``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.lcm(fnp.array([4, 6]), 10).tolist()
        [20, 30]
    """
    return _apply("lcm", x1, x2)


