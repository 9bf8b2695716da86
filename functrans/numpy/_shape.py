"""Shapes and axis order with NumPy's names: reading a shape, reshaping, permuting and
moving axes, adding and removing unit axes, broadcasting, and rearranging entries (flip,
roll, rot90).

Each is a move of entries, so its derivative is the same move of the tangent."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from functrans import errors
from functrans._abstract import dtype_of, shape_of
from functrans.core.trace import Tracer
from functrans.numpy._util import (
    NUMBERS,
    as_array,
    normalize_axis,
    numbers_beside,
    placed_like,
    slice_axis,
    take_axis,
)
from functrans.primitives import shape as _shape
from functrans.typing import Array, ArrayLike

# --- reading a shape --------------------------------------------------------------------------------


def shape(a: ArrayLike) -> tuple[int, ...]:
    """The shape of an array or traced array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.shape(fnp.ones((2, 3)))
        (2, 3)
    """
    if hasattr(a, "shape") or isinstance(a, NUMBERS):
        return tuple(shape_of(a))
    return np.shape(a)  # host-data: host values (parameters, lists, host_values)


def ndim(a: ArrayLike) -> int:
    """The number of dimensions of an array or traced array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ndim(fnp.ones((2, 3)))
        2
    """
    return len(shape(a))


def size(a: ArrayLike) -> int:
    """The number of elements of an array or traced array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.size(fnp.ones((2, 3)))
        6
    """
    return math.prod(shape(a))


# --- reshaping ---------------------------------------------------------------------------------


def _resolve_shape(newshape: int | Sequence[int], size: int) -> tuple[int, ...]:
    newshape = (newshape,) if isinstance(newshape, int) else tuple(int(d) for d in newshape)
    unknown = [i for i, d in enumerate(newshape) if d == -1]
    if len(unknown) > 1:
        raise ValueError("can only specify one unknown dimension (-1) in reshape")
    if unknown:
        known = math.prod(d for d in newshape if d != -1)
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {newshape}")
        newshape = tuple(size // known if d == -1 else d for d in newshape)
    if math.prod(newshape) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {newshape}")
    return newshape


def reshape(a: ArrayLike, shape: int | Sequence[int], order: str = "C") -> Array:
    """Give ``a`` a new shape with the same elements (one dimension may be -1).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.reshape(fnp.arange(6.0), (2, -1)).shape
        (2, 3)
    """
    if order != "C":
        raise NotImplementedError("functrans.numpy.reshape supports order='C' only")
    a = as_array(a)
    return _shape.reshape(a, _resolve_shape(shape, math.prod(a.shape)))


def ravel(a: ArrayLike) -> Array:
    """The elements of ``a`` as a 1-D array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ravel(fnp.ones((2, 3))).shape
        (6,)
    """
    a = as_array(a)
    return _shape.reshape(a, (math.prod(a.shape),))


# --- axis order --------------------------------------------------------------------------------


def transpose(a: ArrayLike, axes: Sequence[int] | None = None) -> Array:
    """Permute the dimensions (reverse them by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.transpose(fnp.ones((2, 3, 4)), (1, 0, 2)).shape
        (3, 2, 4)
    """
    a = as_array(a)
    nd = len(a.shape)
    if axes is None:
        axes = tuple(reversed(range(nd)))
    axes = tuple(normalize_axis(ax, nd) for ax in axes)
    if sorted(axes) != list(range(nd)):
        raise ValueError(f"axes {axes} don't match array of dimension {nd}")
    return _shape.transpose(a, axes)


def swapaxes(a: ArrayLike, axis1: int, axis2: int) -> Array:
    """Exchange two dimensions.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.swapaxes(fnp.ones((2, 3)), 0, 1).shape
        (3, 2)
    """
    a = as_array(a)
    nd = len(a.shape)
    perm = list(range(nd))
    i, j = normalize_axis(axis1, nd), normalize_axis(axis2, nd)
    perm[i], perm[j] = perm[j], perm[i]
    return _shape.transpose(a, perm)


def moveaxis(a: ArrayLike, source: int | Sequence[int], destination: int | Sequence[int]) -> Array:
    """Move dimensions to new positions, keeping the order of the others.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.moveaxis(fnp.ones((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    a = as_array(a)
    nd = len(a.shape)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [normalize_axis(s, nd) for s in src]
    dst = [normalize_axis(d, nd) for d in dst]
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of elements")
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _shape.transpose(a, order)


def rollaxis(a: ArrayLike, axis: int, start: int = 0) -> Array:
    """Move ``axis`` backwards until it lies before position ``start`` (prefer ``moveaxis``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.rollaxis(fnp.ones((2, 3, 4)), 2).shape
        (4, 2, 3)
    """
    a = as_array(a)
    nd = len(a.shape)
    axis = normalize_axis(axis, nd)
    if not -nd <= start <= nd:
        raise np.exceptions.AxisError(f"start {start} is out of bounds for array of dimension {nd}")
    start = start + nd if start < 0 else start
    if start > axis:
        start -= 1
    return moveaxis(a, axis, start)


# --- unit axes and broadcasting -------------------------------------------------------------------


def squeeze(a: ArrayLike, axis: int | Sequence[int] | None = None) -> Array:
    """Remove dimensions of size 1 (all of them, or those in ``axis``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.squeeze(fnp.ones((1, 3, 1))).shape
        (3,)
    """
    a = as_array(a)
    nd = len(a.shape)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = tuple(normalize_axis(ax, nd) for ax in ((axis,) if isinstance(axis, int) else axis))
        for ax in axes:
            if a.shape[ax] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return _shape.squeeze(a, axes)


def expand_dims(a: ArrayLike, axis: int | Sequence[int]) -> Array:
    """Insert dimensions of size 1 at the positions ``axis`` of the result.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.expand_dims(fnp.ones(3), 0).shape
        (1, 3)
    """
    a = as_array(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out_nd = len(a.shape) + len(axes)
    return _shape.expand_dims(a, tuple(sorted(normalize_axis(ax, out_nd) for ax in axes)))


def _atleast(nd: int, a: ArrayLike) -> Array:
    a = as_array(a)
    shape = a.shape
    if len(shape) >= nd:
        return a
    if nd == 1 or len(shape) == 0:
        new = (1,) * (nd - len(shape)) + shape
    elif nd == 2:
        new = (1,) + shape
    else:  # nd == 3: (n,) -> (1, n, 1); (m, n) -> (m, n, 1)
        new = (1,) + shape + (1,) if len(shape) == 1 else shape + (1,)
    return _shape.reshape(a, new)


def atleast_1d(*arys: ArrayLike) -> Array | tuple[Array, ...]:
    """Arrays with at least one dimension (one array, or a tuple for several).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.atleast_1d(1.0).shape
        (1,)
    """
    out = tuple(_atleast(1, a) for a in arys)
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: ArrayLike) -> Array | tuple[Array, ...]:
    """Arrays with at least two dimensions (new ones in front).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.atleast_2d(fnp.ones(3)).shape
        (1, 3)
    """
    out = tuple(_atleast(2, a) for a in arys)
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys: ArrayLike) -> Array | tuple[Array, ...]:
    """Arrays with at least three dimensions (a vector becomes ``(1, n, 1)``, a matrix
    ``(m, n, 1)``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.atleast_3d(fnp.ones(3)).shape
        (1, 3, 1)
    """
    out = tuple(_atleast(3, a) for a in arys)
    return out[0] if len(out) == 1 else out


def broadcast_to(array: ArrayLike, shape: int | Sequence[int]) -> Array:
    """Broadcast ``array`` to ``shape`` with NumPy's rules.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.broadcast_to(fnp.ones(3), (2, 3)).shape
        (2, 3)
    """
    array = as_array(array)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    np.broadcast_shapes(array.shape, shape)  # raises NumPy's error for incompatible shapes
    if np.broadcast_shapes(array.shape, shape) != shape:
        raise ValueError(f"cannot broadcast an array of shape {array.shape} to shape {shape}")
    return _shape.broadcast_to(array, shape)


def broadcast_arrays(*args: ArrayLike) -> tuple[Array, ...]:
    """The arrays broadcast against each other, as a tuple.

    Example:
        >>> import functrans.numpy as fnp
        >>> [a.shape for a in fnp.broadcast_arrays(fnp.ones(3), fnp.ones((2, 1)))]
        [(2, 3), (2, 3)]
    """
    arrays = [as_array(a) for a in numbers_beside(args)]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    return tuple(_shape.broadcast_to(a, shape) for a in arrays)


# --- rearranging entries --------------------------------------------------------------------------


def flip(m: ArrayLike, axis: int | Sequence[int] | None = None) -> Array:
    """Reverse the order of entries along ``axis`` (all axes by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.flip(fnp.array([1.0, 2.0, 3.0])).tolist()
        [3.0, 2.0, 1.0]
    """
    m = as_array(m)
    nd = len(m.shape)
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(normalize_axis(ax, nd) for ax in ((axis,) if isinstance(axis, int) else axis))
    return _shape.rev(m, axes)


def fliplr(m: ArrayLike) -> Array:
    """Reverse the order of columns (axis 1).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fliplr(fnp.array([[1.0, 2.0]])).tolist()
        [[2.0, 1.0]]
    """
    m = as_array(m)
    if len(m.shape) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


def flipud(m: ArrayLike) -> Array:
    """Reverse the order of rows (axis 0).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.flipud(fnp.array([[1.0], [2.0]])).tolist()
        [[2.0], [1.0]]
    """
    m = as_array(m)
    if len(m.shape) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


def rot90(m: ArrayLike, k: int = 1, axes: Sequence[int] = (0, 1)) -> Array:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (from the first axis
    towards the second).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.rot90(fnp.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [[2.0, 4.0], [1.0, 3.0]]
    """
    m = as_array(m)
    nd = len(m.shape)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    a0, a1 = normalize_axis(axes[0], nd), normalize_axis(axes[1], nd)
    if a0 == a1:
        raise ValueError("Axes must be different.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    if k == 1:
        return swapaxes(flip(m, a1), a0, a1)
    return flip(swapaxes(m, a0, a1), a1)


def _shift_value(s: Any) -> Any:
    """A shift as a Python int, or the integer tracer itself under jit or vmap."""
    try:
        return int(s)
    except errors.TracerConversionError:
        if dtype_of(s).kind not in "iu" or shape_of(s) != ():
            raise TypeError(f"fnp.roll: a shift must be an integer scalar, got a traced array of "
                            f"shape {shape_of(s)} and dtype {dtype_of(s)}") from None
        return s


def roll(a: ArrayLike, shift: ArrayLike | Sequence[ArrayLike], axis: int | Sequence[int] | None = None) -> Array:
    """Shift entries cyclically by ``shift`` along ``axis`` (the flattened array by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.roll(fnp.array([1.0, 2.0, 3.0]), 1).tolist()
        [3.0, 1.0, 2.0]
    """
    a = as_array(a)
    if axis is None:
        flat = _shape.reshape(a, (math.prod(a.shape),))
        return _shape.reshape(roll(flat, shift, 0), a.shape)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    shifts: tuple[Any, ...]
    if isinstance(shift, (tuple, list)) or shape_of(shift) != ():
        shifts = tuple(cast(Sequence[Any], shift))
    else:
        shifts = (shift,) * len(axes)
    if len(axes) == 1 and len(shifts) > 1:
        axes = axes * len(shifts)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    if len(axes) != len(shifts):
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    nd = len(a.shape)
    total: dict[int, Any] = {}
    for ax, s in zip(axes, shifts):
        ax = normalize_axis(ax, nd)
        total[ax] = total.get(ax, 0) + _shift_value(s)
    for ax, s in total.items():
        n = a.shape[ax]
        if isinstance(s, Tracer):  # a shift known by its shape only: entry i comes from i - s
            if n:
                positions = (placed_like(np.arange(n), a) - s) % n  # host-data: placed
                a = take_axis(a, positions, ax)
            continue
        if n == 0 or s % n == 0:
            continue
        k = s % n
        head, tail = slice_axis(a, ax, 0, n - k), slice_axis(a, ax, n - k, n)
        a = _shape.concatenate([tail, head], ax)
    return a
