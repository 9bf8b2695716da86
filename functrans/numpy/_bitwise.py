"""NumPy's bitwise and integer-arithmetic functions (``bitwise_and``, ``invert``,
``left_shift``, ``bitwise_count``, ``gcd``, ``lcm``, ...), elementwise on integers and
booleans. They have no derivative; traced integer arrays (under ``jit`` and ``vmap``) go
through one opaque primitive that calls the array library's function."""
from __future__ import annotations

from collections.abc import Callable

from functrans.backend import array_module
from functrans.numpy._util import any_tracer, as_array
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
    if not any_tracer(*arrays):
        return getattr(array_module(arrays[0]), name)(*arrays)
    return opaque_call_p.bind(*arrays, fn=_CALLS[name])


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


