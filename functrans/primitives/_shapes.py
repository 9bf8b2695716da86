"""Shape and dtype arithmetic of the rules, remembered per shape where a differentiated
function asks the same question on every call (a bias's broadcast, the axes its cotangent is
summed over, a reduction's output shape).

Each remembered table keeps at most ``KEPT`` answers; a question with an unhashable part (a
list for a tuple) is answered without being remembered. ``_define`` imports this module, which
imports nothing of functrans.

Example:
    >>> broadcast_pair((256, 128), (128,)), summed_axes((256, 128), (128,))
    ((256, 128), (0,))
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: The most answers each table keeps.
KEPT = 4096

_BROADCASTS: dict = {}
_SUMMED: dict = {}
_REDUCED: dict = {}
_KEPT_DIMS: dict = {}


def broadcast_shapes(*shapes: tuple) -> tuple:
    """NumPy's broadcast of ``shapes``, without a call into NumPy when they are all equal.

    Example:
        >>> broadcast_shapes((2, 1), (3,))
        (2, 3)
    """
    first = shapes[0]
    for s in shapes[1:]:
        if s != first:
            return np.broadcast_shapes(*shapes)
    return first


def broadcast_pair(a: tuple, b: tuple) -> tuple:
    """NumPy's broadcast of the shapes ``a`` and ``b``, remembered (a dictionary lookup costs
    a fifteenth of ``np.broadcast_shapes``); an error for shapes that do not broadcast.

    Example:
        >>> broadcast_pair((4, 1), (3,))
        (4, 3)
    """
    key = (a, b)
    try:
        shape = _BROADCASTS.get(key)
    except TypeError:  # (a shape that is not a tuple: not remembered)
        return np.broadcast_shapes(a, b)
    if shape is None:
        shape = np.broadcast_shapes(a, b)
        if len(_BROADCASTS) < KEPT:
            _BROADCASTS[key] = shape
    return shape


def summed_axes(ct_shape: tuple, shape: tuple) -> tuple:
    """The axes of a cotangent of shape ``ct_shape`` that broadcasting to it from ``shape``
    added or stretched: those ``unbroadcast`` sums.

    Example:
        >>> summed_axes((2, 4, 3), (4, 1))
        (0, 2)
    """
    key = (ct_shape, shape)
    try:
        axes = _SUMMED.get(key)
    except TypeError:  # (a shape that is not a tuple: not remembered)
        axes = None
        key = None
    if axes is None:
        lead = len(ct_shape) - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, d in enumerate(shape) if d == 1 and ct_shape[i + lead] != 1
        )
        if key is not None and len(_SUMMED) < KEPT:
            _SUMMED[key] = axes
    return axes


def reduced_shape(shape: tuple, axes: Sequence[int]) -> tuple:
    """``shape`` without the dimensions ``axes``.

    Example:
        >>> reduced_shape((2, 3, 4), (0, 2))
        (3,)
    """
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def remembered_reduced_shape(shape: tuple, axes: Sequence[int]) -> tuple:
    """``reduced_shape(shape, axes)``, remembered: the shape rule of every reduction that
    grad records.

    Example:
        >>> remembered_reduced_shape((2, 3, 4), (1,))
        (2, 4)
    """
    try:
        return _REDUCED[shape, axes]
    except KeyError:
        out = reduced_shape(shape, axes)
        if len(_REDUCED) < KEPT:
            _REDUCED[shape, axes] = out
        return out
    except TypeError:  # (axes given as a list: not remembered)
        return reduced_shape(shape, axes)


def kept_dims(shape: tuple, axes: Sequence[int]) -> tuple:
    """The dimensions of ``shape`` a reduction over ``axes`` keeps, in order, remembered: the
    transpose of a sum broadcasts its cotangent back along them.

    Example:
        >>> kept_dims((2, 3, 4), (1,))
        (0, 2)
    """
    key = (shape, axes)
    try:
        kept = _KEPT_DIMS.get(key)
    except TypeError:  # (not a tuple: not remembered)
        return tuple(i for i in range(len(shape)) if i not in axes)
    if kept is None:
        kept = tuple(i for i in range(len(shape)) if i not in axes)
        if len(_KEPT_DIMS) < KEPT:
            _KEPT_DIMS[key] = kept
    return kept


def sum_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype of a sum of ``dtype`` entries: NumPy sums booleans and small integers in the
    platform integer.

    Example:
        >>> sum_dtype(np.dtype(bool)) == np.dtype(np.int_)
        True
    """
    if dtype.kind in "biu" and dtype.itemsize < np.dtype(np.int_).itemsize:
        return np.dtype(np.int_) if dtype.kind != "u" else np.dtype(np.uint)
    return dtype
