"""Shape manipulation with NumPy's names: reshape, transpose, joining, broadcasting."""
from __future__ import annotations

import math

import numpy as np

from functrans.numpy._util import normalize_axis, operand
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type


def _as_array(a):
    a = operand(a)
    return np.asarray(a) if isinstance(a, (int, float, complex, bool)) else a  # host-data: a Python scalar


def _resolve_shape(newshape, size):
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


def reshape(a, shape, order="C"):
    """Give ``a`` a new shape with the same elements (one dimension may be -1).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.reshape(fnp.arange(6.0), (2, -1)).shape
        (2, 3)
    """
    if order != "C":
        raise NotImplementedError("functrans.numpy.reshape supports order='C' only")
    a = _as_array(a)
    return _shape.reshape(a, _resolve_shape(shape, math.prod(a.shape)))


def ravel(a):
    """The elements of ``a`` as a 1-D array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ravel(fnp.ones((2, 3))).shape
        (6,)
    """
    a = _as_array(a)
    return _shape.reshape(a, (math.prod(a.shape),))


def transpose(a, axes=None):
    """Permute the dimensions (reverse them by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.transpose(fnp.ones((2, 3, 4)), (1, 0, 2)).shape
        (3, 2, 4)
    """
    a = _as_array(a)
    nd = len(a.shape)
    if axes is None:
        axes = tuple(reversed(range(nd)))
    axes = tuple(normalize_axis(ax, nd) for ax in axes)
    if sorted(axes) != list(range(nd)):
        raise ValueError(f"axes {axes} don't match array of dimension {nd}")
    return _shape.transpose(a, axes)


def swapaxes(a, axis1, axis2):
    """Exchange two dimensions.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.swapaxes(fnp.ones((2, 3)), 0, 1).shape
        (3, 2)
    """
    a = _as_array(a)
    nd = len(a.shape)
    perm = list(range(nd))
    i, j = normalize_axis(axis1, nd), normalize_axis(axis2, nd)
    perm[i], perm[j] = perm[j], perm[i]
    return _shape.transpose(a, perm)


def moveaxis(a, source, destination):
    """Move dimensions to new positions, keeping the order of the others.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.moveaxis(fnp.ones((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    a = _as_array(a)
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


def squeeze(a, axis=None):
    """Remove dimensions of size 1 (all of them, or those in ``axis``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.squeeze(fnp.ones((1, 3, 1))).shape
        (3,)
    """
    a = _as_array(a)
    nd = len(a.shape)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = tuple(normalize_axis(ax, nd) for ax in ((axis,) if isinstance(axis, int) else axis))
        for ax in axes:
            if a.shape[ax] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return _shape.squeeze(a, axes)


def expand_dims(a, axis):
    """Insert dimensions of size 1 at the positions ``axis`` of the result.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.expand_dims(fnp.ones(3), 0).shape
        (1, 3)
    """
    a = _as_array(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out_nd = len(a.shape) + len(axes)
    return _shape.expand_dims(a, tuple(sorted(normalize_axis(ax, out_nd) for ax in axes)))


def broadcast_to(array, shape):
    """Broadcast ``array`` to ``shape`` with NumPy's rules.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.broadcast_to(fnp.ones(3), (2, 3)).shape
        (2, 3)
    """
    array = _as_array(array)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    np.broadcast_shapes(array.shape, shape)  # raises NumPy's error for incompatible shapes
    if np.broadcast_shapes(array.shape, shape) != shape:
        raise ValueError(f"cannot broadcast an array of shape {array.shape} to shape {shape}")
    return _shape.broadcast_to(array, shape)


def _result_dtype(arrays):
    return np.result_type(*(a.dtype for a in arrays))


def concatenate(arrays, axis=0):
    """Join arrays along an existing dimension.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.concatenate([fnp.ones(2), fnp.zeros(3)]).shape
        (5,)
    """
    arrays = [_as_array(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    nd = len(arrays[0].shape)
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis(axis, nd)
    dtype = _result_dtype(arrays)
    arrays = [convert_element_type(a, new_dtype=dtype) for a in arrays]
    return _shape.concatenate(arrays, axis)


def stack(arrays, axis=0):
    """Join arrays of the same shape along a new dimension.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.stack([fnp.ones(2), fnp.zeros(2)]).shape
        (2, 2)
    """
    arrays = [_as_array(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {tuple(a.shape) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"all input arrays must have the same shape, got {sorted(shapes)}")
    axis = normalize_axis(axis, len(arrays[0].shape) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis)



