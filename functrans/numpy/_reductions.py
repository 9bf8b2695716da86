"""Reductions with NumPy's names and its ``axis`` / ``keepdims`` / ``dtype`` arguments."""
from __future__ import annotations

import numpy as np

from functrans.backend import array_module
from functrans.core.trace import Tracer
from functrans.numpy._util import normalize_axes, normalize_axis, operand, shape_of
from functrans.primitives import elementwise as _ew
from functrans.primitives import reduction as _red
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type


def _plain(a):
    """The array module to call directly when ``a`` is a plain array (the fast path), else None."""
    kind = type(a)
    if kind is np.ndarray:
        return np
    if isinstance(a, Tracer) or kind in (int, float, complex, bool, list, tuple):
        return None
    return array_module(a) if hasattr(a, "__array_namespace__") or hasattr(a, "shape") else None


def _keep(result, x_shape, axes, keepdims):
    if not keepdims:
        return result
    return _shape.reshape(result, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))


def _prepare(a, axis, dtype):
    a = operand(a)
    if dtype is not None:
        a = convert_element_type(a, new_dtype=dtype)
    if isinstance(a, (int, float, complex, bool)):
        a = np.asarray(a)  # host-data: a Python scalar
    return a, normalize_axes(axis, len(a.shape))


def sum(a, axis=None, dtype=None, keepdims=False):
    """Sum of elements over ``axis`` (all axes by default).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.sum(fnp.array([[1.0, 2.0], [3.0, 4.0]]), axis=0).tolist()
        [4.0, 6.0]
    """
    xp = _plain(a)
    if xp is not None:
        return xp.sum(a, axis=axis, dtype=dtype, keepdims=keepdims)
    a, axes = _prepare(a, axis, dtype)
    return _keep(_red.reduce_sum(a, axes), a.shape, axes, keepdims)


def prod(a, axis=None, dtype=None, keepdims=False):
    """Product of elements over ``axis``. Its derivative is exact when entries are zero.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> ft.grad(fnp.prod)(fnp.array([2.0, 0.0, 3.0])).tolist()
        [0.0, 6.0, 0.0]
    """
    xp = _plain(a)
    if xp is not None:
        return xp.prod(a, axis=axis, dtype=dtype, keepdims=keepdims)
    a, axes = _prepare(a, axis, dtype)
    return _keep(_red.reduce_prod(a, axes), a.shape, axes, keepdims)


def max(a, axis=None, keepdims=False):
    """Largest element over ``axis``; tied maxima share the derivative equally.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> ft.grad(fnp.max)(fnp.array([1.0, 1.0, 0.0])).tolist()
        [0.5, 0.5, 0.0]
    """
    xp = _plain(a)
    if xp is not None:
        return xp.max(a, axis=axis, keepdims=keepdims)
    a, axes = _prepare(a, axis, None)
    return _keep(_red.reduce_max(a, axes), a.shape, axes, keepdims)


def min(a, axis=None, keepdims=False):
    """Smallest element over ``axis``; tied minima share the derivative equally.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.min(fnp.array([3.0, 1.0, 2.0])))
        1.0
    """
    xp = _plain(a)
    if xp is not None:
        return xp.min(a, axis=axis, keepdims=keepdims)
    a, axes = _prepare(a, axis, None)
    return _keep(_red.reduce_min(a, axes), a.shape, axes, keepdims)


amax = max
amin = min


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def mean(a, axis=None, dtype=None, keepdims=False):
    """Arithmetic mean over ``axis``. Integers are averaged in float64, as in NumPy.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.mean(fnp.array([1.0, 2.0, 3.0])))
        2.0
    """
    xp = _plain(a)
    if xp is not None:
        return xp.mean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    a, axes = _prepare(a, axis, dtype)
    if not a.dtype.kind in "fc":
        a = convert_element_type(a, new_dtype=np.float64)
    total = _red.reduce_sum(a, axes)
    return _keep(_ew.div(total, _count(a.shape, axes)), a.shape, axes, keepdims)


def var(a, axis=None, dtype=None, ddof=0, keepdims=False):
    """Variance over ``axis``, ``sum((a - mean)**2) / (n - ddof)``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.var(fnp.array([1.0, 3.0])))
        1.0
    """
    xp = _plain(a)
    if xp is not None:
        return xp.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    a, axes = _prepare(a, axis, dtype)
    if not a.dtype.kind in "fc":
        a = convert_element_type(a, new_dtype=np.float64)
    centered = _ew.sub(a, mean(a, axes, keepdims=True))
    if a.dtype.kind == "c":
        squares = _ew.real(_ew.mul(centered, _ew.conj(centered)))
    else:
        squares = _ew.integer_pow(centered, 2)
    total = _red.reduce_sum(squares, axes)
    return _keep(_ew.div(total, _count(a.shape, axes) - ddof), a.shape, axes, keepdims)


def std(a, axis=None, dtype=None, ddof=0, keepdims=False):
    """Standard deviation over ``axis``: ``sqrt(var(a, axis, ddof=ddof))``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.std(fnp.array([1.0, 3.0])))
        1.0
    """
    xp = _plain(a)
    if xp is not None:
        return xp.std(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return _ew.sqrt(var(a, axis, dtype, ddof, keepdims))


def _arg(reducer, a, axis, keepdims):
    a = operand(a)
    if axis is None:
        flat = _shape.reshape(a, (int(np.prod(shape_of(a), dtype=np.int64)),))  # host-metadata: shapes only
        out = reducer(flat, 0)
        return _shape.reshape(out, (1,) * len(shape_of(a))) if keepdims else out
    ax = normalize_axis(axis, len(shape_of(a)))
    out = reducer(a, ax)
    return _keep(out, shape_of(a), (ax,), keepdims)


def argmax(a, axis=None, keepdims=False):
    """Index of the largest element (along ``axis``, or of the flattened array). No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.argmax(fnp.array([1.0, 5.0, 2.0])))
        1
    """
    return _arg(_red.argmax, a, axis, keepdims)


def argmin(a, axis=None, keepdims=False):
    """Index of the smallest element (along ``axis``, or of the flattened array). No derivative.

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.argmin(fnp.array([1.0, 5.0, 0.5])))
        2
    """
    return _arg(_red.argmin, a, axis, keepdims)

