"""JAX's ``lax`` operations that ported code uses most, each a thin application of a
functrans primitive: elementwise arithmetic, shapes, reductions, ``select``, ``sort``,
``dot_general`` with ``Precision``, and ``stop_gradient``.

They work on plain arrays and on traced ones alike, and follow NumPy's broadcasting and type
promotion where JAX's would demand equal shapes and dtypes (a program JAX accepts computes
the same here).
"""
from __future__ import annotations

import enum
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans import tree
from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.core.primitive import Primitive
from functrans.primitives import (
    abs_p,
    add_p,
    arctan2_p,
    ceil_p,
    cos_p,
    cumsum_p,
    div_p,
    eq_p,
    exp_p,
    expm1_p,
    floor_divide_p,
    floor_p,
    fmod_p,
    ge_p,
    gt_p,
    le_p,
    log1p_p,
    log_p,
    logistic_p,
    lt_p,
    max_p,
    min_p,
    mul_p,
    ne_p,
    neg_p,
    pow_p,
    round_p,
    rsqrt_p,
    select_p,
    sign_p,
    sin_p,
    stop_gradient_p,
    sub_p,
    tanh_p,
)
from functrans.primitives import sqrt_p as _sqrt_p
from functrans.primitives import tan_p as _tan_p
from functrans.primitives._define import broadcast_in_dim as _broadcast_in_dim
from functrans.primitives._define import convert_element_type as _convert_element_type
from functrans.primitives._define import reduce_sum as _reduce_sum
from functrans.primitives._define import reshape as _reshape
from functrans.primitives._define import transpose as _transpose
from functrans.primitives.conversion import iota_like
from functrans.primitives.dot import dot_general as _dot_general
from functrans.primitives.elementwise import integer_pow as _integer_pow
from functrans.primitives.indexing import IndexArray, gather_p
from functrans.primitives.reduction import argmax as _argmax
from functrans.primitives.reduction import argmin as _argmin
from functrans.primitives.reduction import reduce_max as _reduce_max
from functrans.primitives.reduction import reduce_min as _reduce_min
from functrans.primitives.reduction import reduce_prod as _reduce_prod
from functrans.primitives.shape import concatenate as _concatenate
from functrans.primitives.shape import expand_dims as _expand_dims
from functrans.primitives.shape import pad as _pad
from functrans.primitives.shape import rev as _rev
from functrans.primitives.shape import slice_ as _slice
from functrans.primitives.shape import squeeze as _squeeze
from functrans.primitives.sorting import argsort as _argsort
from functrans.typing import Array, ArrayLike, PyTree

# =============================================================================================
# Precision
# =============================================================================================


class Precision(enum.Enum):
    """The precision of a matrix product on an accelerator, as JAX's ``lax.Precision``.

    Accepted wherever JAX accepts it (``precision=`` of ``dot_general``, ``fnp.dot``,
    ``fnp.matmul``, ``fnp.einsum``, ...), and JAX's strings name the members: ``"default"``
    / ``"fastest"`` / ``"bfloat16"``, ``"high"`` / ``"bfloat16_3x"`` / ``"tensorfloat32"``,
    ``"highest"`` / ``"float32"``. It changes nothing: NumPy (and CuPy, unless told otherwise)
    compute in the arrays' own dtype, which is already ``HIGHEST``.

    Example:
        >>> Precision("highest") is Precision.HIGHEST
        True
    """

    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2

    @classmethod
    def _missing_(cls, value: object) -> Precision | None:
        if isinstance(value, str):
            return _PRECISION_NAMES.get(value.lower())
        return None

    def __str__(self) -> str:
        return self.name


_PRECISION_NAMES = {
    "default": Precision.DEFAULT, "fastest": Precision.DEFAULT, "bfloat16": Precision.DEFAULT,
    "high": Precision.HIGH, "bfloat16_3x": Precision.HIGH, "tensorfloat32": Precision.HIGH,
    "highest": Precision.HIGHEST, "float32": Precision.HIGHEST,
}

PrecisionLike = Any  # None, a Precision, one of its names, or a pair of those (lhs, rhs)


def canonicalize_precision(precision: PrecisionLike) -> Precision | tuple[Precision, Precision] | None:
    """``precision`` as ``None``, a ``Precision`` or a pair of them (one per operand), or a
    ``ValueError`` naming the accepted values.

    Example:
        >>> canonicalize_precision(("high", None))
        (<Precision.HIGH: 1>, <Precision.DEFAULT: 0>)
    """
    if precision is None or isinstance(precision, Precision):
        return precision
    if isinstance(precision, str):
        try:
            return Precision(precision)
        except ValueError:
            pass
    elif isinstance(precision, (tuple, list)) and len(precision) == 2:
        lhs, rhs = (canonicalize_precision(p) or Precision.DEFAULT for p in precision)
        if isinstance(lhs, Precision) and isinstance(rhs, Precision):
            return lhs, rhs
    raise ValueError(
        f"precision must be None, a functrans.lax.Precision, one of the strings "
        f"{sorted(_PRECISION_NAMES)}, or a pair of those (lhs, rhs); got {precision!r}."
    )


# =============================================================================================
# elementwise
# =============================================================================================


def _unary(prim: Primitive, name: str, what: str, example: str) -> Callable[[ArrayLike], Array]:
    def op(x: ArrayLike) -> Array:
        return prim.bind(x)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"""{what}, elementwise.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> {example}
    """
    return op


def _binary(prim: Primitive, name: str, what: str, example: str) -> Callable[[ArrayLike, ArrayLike], Array]:
    def op(x: ArrayLike, y: ArrayLike) -> Array:
        return prim.bind(x, y)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"""{what}, elementwise (with NumPy's broadcasting).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> {example}
    """
    return op


neg = _unary(neg_p, "neg", "``-x``", "lax.neg(np.array([1.0, -2.0]))\n        array([-1.,  2.])")
exp = _unary(exp_p, "exp", "``e ** x``", "float(lax.exp(0.0))\n        1.0")
expm1 = _unary(expm1_p, "expm1", "``e ** x - 1``, accurate near 0", "float(lax.expm1(0.0))\n        0.0")
log = _unary(log_p, "log", "The natural logarithm", "float(lax.log(1.0))\n        0.0")
log1p = _unary(log1p_p, "log1p", "``log(1 + x)``, accurate near 0", "float(lax.log1p(0.0))\n        0.0")
tanh = _unary(tanh_p, "tanh", "The hyperbolic tangent", "float(lax.tanh(0.0))\n        0.0")
logistic = _unary(logistic_p, "logistic", "The logistic sigmoid ``1 / (1 + e ** -x)``",
                  "float(lax.logistic(0.0))\n        0.5")
sin = _unary(sin_p, "sin", "The sine", "float(lax.sin(0.0))\n        0.0")
cos = _unary(cos_p, "cos", "The cosine", "float(lax.cos(0.0))\n        1.0")
tan = _unary(_tan_p, "tan", "The tangent", "float(lax.tan(0.0))\n        0.0")
sqrt = _unary(_sqrt_p, "sqrt", "The square root", "float(lax.sqrt(4.0))\n        2.0")
rsqrt = _unary(rsqrt_p, "rsqrt", "``1 / sqrt(x)``", "float(lax.rsqrt(4.0))\n        0.5")
abs = _unary(abs_p, "abs", "The absolute value", "float(lax.abs(-2.0))\n        2.0")
sign = _unary(sign_p, "sign", "-1, 0 or 1 by the sign", "float(lax.sign(-3.0))\n        -1.0")
floor = _unary(floor_p, "floor", "Rounding down", "float(lax.floor(1.5))\n        1.0")
ceil = _unary(ceil_p, "ceil", "Rounding up", "float(lax.ceil(1.5))\n        2.0")
add = _binary(add_p, "add", "``x + y``", "float(lax.add(1.0, 2.0))\n        3.0")
sub = _binary(sub_p, "sub", "``x - y``", "float(lax.sub(1.0, 2.0))\n        -1.0")
mul = _binary(mul_p, "mul", "``x * y``", "float(lax.mul(2.0, 3.0))\n        6.0")
rem = _binary(fmod_p, "rem", "The remainder of ``x / y`` with the sign of ``x`` (C's ``fmod``)",
              "float(lax.rem(-7.0, 3.0))\n        -1.0")
pow = _binary(pow_p, "pow", "``x ** y``", "float(lax.pow(2.0, 3.0))\n        8.0")
max = _binary(max_p, "max", "The larger of ``x`` and ``y``", "float(lax.max(1.0, 2.0))\n        2.0")
min = _binary(min_p, "min", "The smaller of ``x`` and ``y``", "float(lax.min(1.0, 2.0))\n        1.0")
atan2 = _binary(arctan2_p, "atan2", "The angle of the point ``(y, x)``: ``atan2(y, x)``",
                "float(lax.atan2(0.0, 1.0))\n        0.0")
eq = _binary(eq_p, "eq", "``x == y``", "bool(lax.eq(1.0, 1.0))\n        True")
ne = _binary(ne_p, "ne", "``x != y``", "bool(lax.ne(1.0, 1.0))\n        False")
lt = _binary(lt_p, "lt", "``x < y``", "bool(lax.lt(1.0, 2.0))\n        True")
le = _binary(le_p, "le", "``x <= y``", "bool(lax.le(1.0, 2.0))\n        True")
gt = _binary(gt_p, "gt", "``x > y``", "bool(lax.gt(1.0, 2.0))\n        False")
ge = _binary(ge_p, "ge", "``x >= y``", "bool(lax.ge(1.0, 2.0))\n        False")


def div(x: ArrayLike, y: ArrayLike) -> Array:
    """``x / y``, elementwise; integers divide as in C and JAX (the quotient rounded towards
    zero, where NumPy's ``//`` rounds down).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> float(lax.div(1.0, 4.0)), lax.div(np.array([-7, 7]), np.array([2, 2])).tolist()
        (0.25, [-3, 3])
    """
    if dtype_of(x).kind in "iu" and dtype_of(y).kind in "iu":
        return floor_divide_p.bind(sub_p.bind(x, fmod_p.bind(x, y)), y)  # an exact quotient
    return div_p.bind(x, y)


def round(x: ArrayLike, rounding_method: int = 0) -> Array:
    """Rounding to the nearest integer, ties to even (JAX's ``rounding_method=1``, NumPy's
    only rule; ``0``, away from zero, is refused rather than silently changed).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.round(np.array([0.5, 1.5, 2.4]), rounding_method=1)
        array([0., 2., 2.])
    """
    if int(rounding_method) != 1:
        raise NotImplementedError(
            "lax.round: only rounding_method=1 (ties to even, RoundingMethod.TO_NEAREST_EVEN) "
            "is available, as NumPy's round; for ties away from zero write "
            "fnp.sign(x) * fnp.floor(fnp.abs(x) + 0.5)."
        )
    return round_p.bind(x, decimals=0)


def integer_pow(x: ArrayLike, y: int) -> Array:
    """``x ** y`` for a Python int ``y`` (a multiplication chain, exact derivatives at 0).

    Example:
        >>> from functrans import lax
        >>> float(lax.integer_pow(3.0, 2))
        9.0
    """
    return _integer_pow(x, int(y))


def square(x: ArrayLike) -> Array:
    """``x * x``, elementwise.

    Example:
        >>> from functrans import lax
        >>> float(lax.square(3.0))
        9.0
    """
    return _integer_pow(x, 2)


def reciprocal(x: ArrayLike) -> Array:
    """``1 / x``, elementwise.

    Example:
        >>> from functrans import lax
        >>> float(lax.reciprocal(4.0))
        0.25
    """
    return div_p.bind(1.0, x)


def select(pred: ArrayLike, on_true: ArrayLike, on_false: ArrayLike) -> Array:
    """``on_true`` where ``pred`` holds, else ``on_false`` (elementwise, as ``fnp.where``).
    Both branches are computed, so a NaN in the one not taken can still reach a derivative:
    see docs/sharp-bits.md.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.select(np.array([True, False]), np.array([1.0, 2.0]), np.array([3.0, 4.0]))
        array([1., 4.])
    """
    return select_p.bind(pred, on_true, on_false)


def convert_element_type(operand: ArrayLike, new_dtype: Any) -> Array:
    """``operand`` in ``new_dtype``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.convert_element_type(np.array([1.7, -1.7]), np.int32)
        array([ 1, -1], dtype=int32)
    """
    return _convert_element_type(operand, new_dtype=np.dtype(new_dtype))


def stop_gradient(x: PyTree) -> PyTree:
    """The same values, treated as constants by every derivative (each leaf of a pytree).

    Example:
        >>> import functrans as ft
        >>> from functrans import lax
        >>> float(ft.grad(lambda x: x * lax.stop_gradient(x))(3.0))
        3.0
    """
    return tree.map(lambda leaf: leaf if type(leaf) in PY_SCALARS else stop_gradient_p.bind(leaf), x)


# =============================================================================================
# shapes
# =============================================================================================


def broadcast_in_dim(operand: ArrayLike, shape: Sequence[int], broadcast_dimensions: Sequence[int]) -> Array:
    """``operand`` broadcast to ``shape``, its dimension ``i`` becoming dimension
    ``broadcast_dimensions[i]`` of the result.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.broadcast_in_dim(np.array([1.0, 2.0]), (2, 3), (0,)).tolist()
        [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    """
    return _broadcast_in_dim(operand, tuple(shape), tuple(broadcast_dimensions))


def broadcast(operand: ArrayLike, sizes: Sequence[int]) -> Array:
    """``operand`` with new leading dimensions of ``sizes``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.broadcast(np.ones(3), (2,)).shape
        (2, 3)
    """
    shape = tuple(shape_of(operand))
    return _broadcast_in_dim(operand, tuple(sizes) + shape, range(len(sizes), len(sizes) + len(shape)))


def reshape(operand: ArrayLike, new_sizes: Sequence[int], dimensions: Sequence[int] | None = None) -> Array:
    """``operand`` with shape ``new_sizes`` (row-major order), after permuting its
    dimensions by ``dimensions`` if given.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.reshape(np.arange(6), (2, 3)).shape
        (2, 3)
    """
    if dimensions is not None:
        operand = _transpose(operand, tuple(dimensions))
    return _reshape(operand, tuple(new_sizes))


def squeeze(array: ArrayLike, dimensions: Sequence[int]) -> Array:
    """``array`` without its dimensions ``dimensions`` (each of size 1).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.squeeze(np.ones((1, 3, 1)), (0, 2)).shape
        (3,)
    """
    ndim = len(shape_of(array))
    return _squeeze(array, tuple(sorted(d % ndim for d in dimensions)))


def expand_dims(array: ArrayLike, dimensions: Sequence[int]) -> Array:
    """``array`` with dimensions of size 1 inserted at ``dimensions`` (of the result).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.expand_dims(np.ones(3), (0, 2)).shape
        (1, 3, 1)
    """
    ndim = len(shape_of(array)) + len(dimensions)
    return _expand_dims(array, tuple(sorted(d % ndim for d in dimensions)))


def concatenate(operands: Sequence[ArrayLike], dimension: int) -> Array:
    """The operands joined along ``dimension``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.concatenate([np.ones(2), np.zeros(1)], 0)
        array([1., 1., 0.])
    """
    operands = list(operands)
    return _concatenate(operands, dimension % len(shape_of(operands[0])))


def transpose(operand: ArrayLike, permutation: Sequence[int]) -> Array:
    """``operand`` with its dimensions permuted: dimension ``i`` of the result is
    ``permutation[i]`` of ``operand``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.transpose(np.ones((2, 3, 4)), (2, 0, 1)).shape
        (4, 2, 3)
    """
    return _transpose(operand, tuple(permutation))


def slice(operand: ArrayLike, start_indices: Sequence[int], limit_indices: Sequence[int],
          strides: Sequence[int] | None = None) -> Array:
    """``operand[start:limit:stride]`` in every dimension (static bounds).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.slice(np.arange(10), (1,), (8,), (3,))
        array([1, 4, 7])
    """
    return _slice(operand, tuple(start_indices), tuple(limit_indices), None if strides is None else tuple(strides))


def rev(operand: ArrayLike, dimensions: Sequence[int]) -> Array:
    """``operand`` reversed along ``dimensions``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.rev(np.arange(3), (0,))
        array([2, 1, 0])
    """
    return _rev(operand, tuple(dimensions))


def pad(operand: ArrayLike, padding_value: ArrayLike, padding_config: Sequence[Sequence[int]]) -> Array:
    """``operand`` padded with ``padding_value``: ``(low, high, interior)`` per dimension
    (non-negative; slice to remove entries).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.pad(np.array([1.0, 2.0]), 0.0, [(1, 0, 1)])
        array([0., 1., 0., 2.])
    """
    return _pad(operand, padding_value, padding_config)


# =============================================================================================
# reductions
# =============================================================================================


def _axes(operand: ArrayLike, axes: Sequence[int]) -> tuple:
    ndim = len(shape_of(operand))
    return tuple(sorted(a % ndim for a in axes))


def reduce_sum(operand: ArrayLike, axes: Sequence[int]) -> Array:
    """The sum over ``axes``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.reduce_sum(np.ones((2, 3)), (1,))
        array([3., 3.])
    """
    return _reduce_sum(operand, _axes(operand, axes))


def reduce_max(operand: ArrayLike, axes: Sequence[int]) -> Array:
    """The maximum over ``axes``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.reduce_max(np.array([[1.0, 5.0], [7.0, 2.0]]), (1,))
        array([5., 7.])
    """
    return _reduce_max(operand, _axes(operand, axes))


def reduce_min(operand: ArrayLike, axes: Sequence[int]) -> Array:
    """The minimum over ``axes``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.reduce_min(np.array([[1.0, 5.0], [7.0, 2.0]]), (1,))
        array([1., 2.])
    """
    return _reduce_min(operand, _axes(operand, axes))


def reduce_prod(operand: ArrayLike, axes: Sequence[int]) -> Array:
    """The product over ``axes``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.reduce_prod(np.array([[1.0, 5.0], [7.0, 2.0]]), (1,))
        array([ 5., 14.])
    """
    return _reduce_prod(operand, _axes(operand, axes))


def argmax(operand: ArrayLike, axis: int, index_dtype: Any) -> Array:
    """The position of the maximum along ``axis`` (the first, on ties).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> int(lax.argmax(np.array([1.0, 5.0, 2.0]), 0, np.int32))
        1
    """
    return _argmax(operand, axis % len(shape_of(operand)), index_dtype)


def argmin(operand: ArrayLike, axis: int, index_dtype: Any) -> Array:
    """The position of the minimum along ``axis`` (the first, on ties).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> int(lax.argmin(np.array([1.0, 5.0, 0.0]), 0, np.int32))
        2
    """
    return _argmin(operand, axis % len(shape_of(operand)), index_dtype)


def cumsum(operand: ArrayLike, axis: int = 0, reverse: bool = False) -> Array:
    """The running sum along ``axis`` (from the end with ``reverse``).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.cumsum(np.array([1.0, 2.0, 3.0]), reverse=True)
        array([6., 5., 3.])
    """
    ndim = len(shape_of(operand))
    if not -ndim <= axis < ndim:
        raise ValueError(f"cumsum: axis {axis} is out of bounds for an operand of {ndim} dimension(s)")
    out = cumsum_p.bind(operand, axis=axis % ndim, reverse=bool(reverse))
    dtype = dtype_of(operand)
    if dtype.kind in "iu" and dtype_of(out) != dtype:  # lax keeps the dtype (NumPy widens ints)
        out = _convert_element_type(out, new_dtype=dtype)
    return out


# =============================================================================================
# sorting
# =============================================================================================


def _take_along(x: ArrayLike, order: ArrayLike, axis: int) -> Array:
    """The entries of ``x`` along ``axis`` in the order ``order`` (positions, of ``x``'s
    shape), each row of the other dimensions on its own."""
    shape = tuple(shape_of(x))
    ndim = len(shape)
    perm = tuple(d for d in range(ndim) if d != axis) + (axis,)
    rows = math.prod(shape[d] for d in perm[:-1])
    n = shape[axis]
    flat_x = _reshape(_transpose(x, perm), (rows, n))
    flat_order = _reshape(_transpose(order, perm), (rows, n))
    row_index = _broadcast_in_dim(iota_like(x, rows), (rows, n), (0,))
    taken = gather_p.bind(flat_x, row_index, flat_order, index=(IndexArray(0), IndexArray(1)))
    back = sorted(range(ndim), key=perm.__getitem__)
    return _transpose(_reshape(taken, tuple(shape[d] for d in perm)), back)


def sort(operand: ArrayLike | Sequence[ArrayLike], dimension: int = -1, is_stable: bool = True,
         num_keys: int = 1) -> Array | tuple:
    """``operand`` sorted along ``dimension`` (NaN last); with a sequence of operands of one
    shape, all are reordered by the lexicographic order of the first ``num_keys``. The sort
    is always stable. Each entry's derivative moves with it.

    Args:
        operand: an array, or a sequence of arrays of one shape.
        dimension: the axis sorted along.
        is_stable: accepted for JAX's signature; the sort is stable either way.
        num_keys: how many of the operands (from the first) decide the order.

    Returns:
        The sorted array, or a tuple of the reordered operands.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> keys, values = lax.sort((np.array([2, 1, 2, 0]), np.array([0.0, 1.0, 2.0, 3.0])))
        >>> keys.tolist(), values.tolist()
        ([0, 1, 2, 2], [3.0, 1.0, 0.0, 2.0])
    """
    single = not isinstance(operand, (tuple, list))
    operands: list = [operand] if single else list(operand)  # type: ignore[arg-type]
    if not 1 <= num_keys <= len(operands):
        raise ValueError(f"lax.sort: num_keys must be between 1 and {len(operands)}, got {num_keys}.")
    shape = tuple(shape_of(operands[0]))
    if any(tuple(shape_of(o)) != shape for o in operands):
        raise ValueError(f"lax.sort: the operands must have one shape, got {[tuple(shape_of(o)) for o in operands]}.")
    if not shape:
        return operand
    axis = dimension % len(shape)
    keys = operands[:num_keys]
    order = _argsort(keys[-1], axis)
    for key in keys[-2::-1]:  # stable sorts from the least significant key to the first
        order = _take_along(order, _argsort(_take_along(key, order, axis), axis), axis)
    out = [_take_along(o, order, axis) for o in operands]
    return out[0] if single else tuple(out)


def top_k(operand: ArrayLike, k: int) -> tuple[Array, Array]:
    """The ``k`` largest entries along the last axis, largest first (equal entries in their
    order, NaN before any number), and their positions. The values carry their derivatives.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> values, positions = lax.top_k(np.array([1.0, 3.0, 2.0, 3.0]), 2)
        >>> values.tolist(), positions.tolist()
        ([3.0, 3.0], [1, 3])
    """
    shape = tuple(shape_of(operand))
    k = operator.index(k)
    if not shape or not 0 <= k <= shape[-1]:
        raise ValueError(f"lax.top_k: k={k} must lie in [0, {shape[-1] if shape else 0}] for an operand of "
                         f"shape {shape} (the last axis is searched)")
    axis = len(shape) - 1
    order = _argsort(operand, axis, descending=True)
    start, limit = (0,) * len(shape), shape[:-1] + (k,)
    return _slice(_take_along(operand, order, axis), start, limit), _slice(order, start, limit)


# =============================================================================================
# products
# =============================================================================================


def dot_general(lhs: ArrayLike, rhs: ArrayLike, dimension_numbers: Any, precision: PrecisionLike = None,
                preferred_element_type: Any = None) -> Array:
    """The general contraction of JAX's ``lax.dot_general``: ``dimension_numbers`` is
    ``((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``; the result's
    dimensions are the batch dimensions, then ``lhs``'s free ones, then ``rhs``'s.

    ``precision`` is checked and otherwise ignored (NumPy computes in the operands' dtype);
    ``preferred_element_type`` converts the operands first (an int8 product accumulated in
    int32, say).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> a, b = np.ones((5, 2, 3)), np.ones((5, 3, 4))
        >>> lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,))), precision="highest").shape
        (5, 2, 4)
    """
    canonicalize_precision(precision)
    (lc, rc), (lb, rb) = dimension_numbers
    ln, rn = len(shape_of(lhs)), len(shape_of(rhs))
    numbers = ((tuple(d % ln for d in lc), tuple(d % rn for d in rc)),
               (tuple(d % ln for d in lb), tuple(d % rn for d in rb)))
    if preferred_element_type is not None:
        lhs = _convert_element_type(lhs, new_dtype=np.dtype(preferred_element_type))
        rhs = _convert_element_type(rhs, new_dtype=np.dtype(preferred_element_type))
    return _dot_general(lhs, rhs, numbers)


def dot(lhs: ArrayLike, rhs: ArrayLike, precision: PrecisionLike = None,
        preferred_element_type: Any = None) -> Array:
    """The product of a vector or matrix ``lhs`` with a vector or matrix ``rhs`` (the last
    dimension of ``lhs`` with the first of ``rhs``), as JAX's ``lax.dot``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.dot(np.ones((2, 3)), np.ones(3))
        array([3., 3.])
    """
    contract = (((len(shape_of(lhs)) - 1,), (0,)), ((), ()))
    return dot_general(lhs, rhs, contract, precision, preferred_element_type)


def conv_general_dilated(*args: Any, **kwargs: Any) -> Array:
    """Not available: use ``functrans.nn.Conv1d`` / ``Conv2d`` (or their functional
    ``apply``), which compute convolutions with strides, padding and dilation.

    Example:
        >>> from functrans import lax
        >>> lax.conv_general_dilated()  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        NotImplementedError: ...
    """
    raise NotImplementedError(
        "functrans.lax.conv_general_dilated is not available. Convolutions are in functrans.nn: "
        "nn.Conv1d / nn.Conv2d(in_channels, out_channels, kernel_size, stride=, padding=, "
        "dilation=) with init(key) and apply(params, x), differentiable and batched like any "
        "other function."
    )
