"""Array creation with NumPy's names: from data, filled, ranges, and matrices built from a
diagonal or a triangle.

Arrays are made by NumPy on the host unless ``like=`` names an array whose device they go to
(NumPy's ``like=``, e.g. a CuPy array: a GPU); ``*_like`` functions make them where their
argument lives.
"""
from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import numpy as np

from functrans import errors
from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.backend import array_module, to_host
from functrans.core.staging import scalar_kind
from functrans.core.trace import Tracer
from functrans.numpy._indexing import diagonal
from functrans.numpy._util import (
    HOST_VALUES,
    any_tracer,
    as_array,
    holds_device_value,
    normalize_axis,
    numbers_beside,
    operand,
    placed_like,
    stacked,
)
from functrans.primitives import conversion as _conv
from functrans.primitives import elementwise as _ew
from functrans.primitives import reduction as _red
from functrans.primitives import shape as _shape
from functrans.primitives.indexing import IndexArray, scatter_add_p
from functrans.typing import Array, ArrayLike, DType

# --- from data -----------------------------------------------------------------------------------


def array(object: ArrayLike, dtype: DType | None = None, copy: bool = True) -> Array:
    """An array from an array, a scalar, or nested lists (which may hold traced values).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.array([[1.0, 2.0], [3.0, 4.0]]).shape
        (2, 2)
    """
    if isinstance(object, Tracer):
        if scalar_kind(object) is not None:  # (under jit) a Python scalar: NumPy makes it an array
            return _conv.convert_element_type_p.bind(object, new_dtype=np.dtype(dtype or dtype_of(object)))
        return object if dtype is None else _conv.convert_element_type(object, new_dtype=dtype)
    if isinstance(object, (list, tuple)) and holds_device_value(object):
        out = stacked(object)
        return out if dtype is None else _conv.convert_element_type(out, new_dtype=dtype)
    if type(object) in PY_SCALARS or isinstance(object, (list, tuple, np.ndarray, np.generic)):
        # host-data: host values (parameters, lists, host_values)
        return np.array(object, dtype=dtype, copy=copy)
    other: Array = object  # an array of another library (CuPy, ...)
    return other.astype(dtype) if dtype is not None else (other.copy() if copy else other)


def asarray(a: ArrayLike, dtype: DType | None = None) -> Array:
    """Like ``array``, without copying an array that already has the requested dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.asarray(3.0).shape
        ()
    """
    if isinstance(a, Tracer) or (isinstance(a, (list, tuple)) and holds_device_value(a)):
        return array(a, dtype=dtype)
    if type(a) in PY_SCALARS or isinstance(a, (list, tuple, np.ndarray, np.generic)):
        return np.asarray(a, dtype=dtype)  # host-data: host values (parameters, lists, host_values)
    other: Array = a  # an array of another library (CuPy, ...)
    return other if dtype is None or other.dtype == dtype else other.astype(dtype)


def copy(a: ArrayLike, order: Literal["K", "A", "C", "F"] = "K") -> Array:
    """A copy of ``a`` (``order`` as in NumPy, for host arrays). A traced array is its own
    copy: traced values are never changed in place. The derivative is the identity.

    Example:
        >>> import functrans.numpy as fnp
        >>> x = fnp.ones(2)
        >>> y = fnp.copy(x)
        >>> y[0] = 5.0
        >>> x.tolist()
        [1.0, 1.0]
    """
    if not holds_device_value(a):
        return np.copy(a, order=order)  # host-data: NumPy's function on host values
    return array(a)


# --- filled --------------------------------------------------------------------------------------


def _placed(out: np.ndarray, like: ArrayLike | None) -> Array:
    """``out`` on the device of ``like`` (an array or traced array), or as it is."""
    return out if like is None else placed_like(out, operand(like))


def _host_shape(shape: Any) -> Any:
    """``shape`` with its traced entries made Python ints, or their error raised here: NumPy
    would replace it by a TypeError about a 'Var' instead of the sequence of integers it
    expects, which names neither the argument nor the fix."""
    if isinstance(shape, Tracer):
        return operator.index(shape)
    if isinstance(shape, (tuple, list)) and any(isinstance(d, Tracer) for d in shape):
        return tuple(operator.index(d) for d in shape)
    return shape


def zeros(shape: int | Sequence[int], dtype: DType = float, *, like: ArrayLike | None = None) -> Array:
    """An array of zeros (on the device of ``like`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.zeros((2, 3)).shape
        (2, 3)
    """
    return _placed(np.zeros(_host_shape(shape), dtype=dtype), like)  # host-data: made from no array (like= places it)


def ones(shape: int | Sequence[int], dtype: DType = float, *, like: ArrayLike | None = None) -> Array:
    """An array of ones (on the device of ``like`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ones(2).tolist()
        [1.0, 1.0]
    """
    return _placed(np.ones(_host_shape(shape), dtype=dtype), like)  # host-data: made from no array (like= places it)


def empty(shape: int | Sequence[int], dtype: DType = float, *, like: ArrayLike | None = None) -> Array:
    """An array of the given shape (its values are zeros here: nothing is left uninitialised).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.empty(2).shape
        (2,)
    """
    return _placed(np.zeros(_host_shape(shape), dtype=dtype), like)  # host-data: made from no array (like= places it)


def full(shape: int | Sequence[int], fill_value: ArrayLike, dtype: DType | None = None, *,
         like: ArrayLike | None = None) -> Array:
    """An array filled with ``fill_value`` (a traced or device value: where it lives).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.full(2, 7.0).tolist()
        [7.0, 7.0]
    """
    shape = _host_shape(shape)
    if isinstance(fill_value, Tracer) or not isinstance(fill_value, HOST_VALUES):
        value = fill_value if dtype is None else _conv.convert_element_type(fill_value, new_dtype=dtype)
        return _shape.broadcast_to(value, (shape,) if isinstance(shape, int) else tuple(shape))
    # host-data: made from no array (like= places it)
    return _placed(np.full(shape, fill_value, dtype=dtype), like)


def _like(a: ArrayLike, fill: ArrayLike, dtype: DType | None, shape: int | Sequence[int] | None) -> Array:
    if isinstance(fill, Tracer):  # a traced fill value (full_like's fill is a parameter): ones times it
        ones = _like(a, 1, dtype, shape)
        return _ew.mul(ones, _conv.convert_element_type(fill, new_dtype=ones.dtype))
    if isinstance(a, Tracer):
        shape = shape_of(a) if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
        return _conv.full_like(a, fill, shape=shape, dtype=dtype)
    x: Array = a
    if type(x) in PY_SCALARS or isinstance(x, (list, tuple)):
        x = np.asarray(x)  # host-data: host values (parameters, lists, host_values)
    # No tracer: bind runs the implementation directly (on the device of x).
    return _conv.full_like_p.bind(x, fill_value=fill, shape=x.shape if shape is None else shape,
                                  dtype=dtype or x.dtype)


def zeros_like(a: ArrayLike, dtype: DType | None = None, shape: int | Sequence[int] | None = None) -> Array:
    """Zeros shaped like ``a`` (a constant: it carries no derivative), where ``a`` lives.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.zeros_like(fnp.ones(3)).tolist()
        [0.0, 0.0, 0.0]
    """
    return _like(a, 0, dtype, shape)


def ones_like(a: ArrayLike, dtype: DType | None = None, shape: int | Sequence[int] | None = None) -> Array:
    """Ones shaped like ``a``, where ``a`` lives.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ones_like(fnp.zeros(2)).tolist()
        [1.0, 1.0]
    """
    return _like(a, 1, dtype, shape)


def full_like(a: ArrayLike, fill_value: ArrayLike, dtype: DType | None = None,
              shape: int | Sequence[int] | None = None) -> Array:
    """An array shaped like ``a`` filled with ``fill_value``, where ``a`` lives.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.full_like(fnp.zeros(2), 5.0).tolist()
        [5.0, 5.0]
    """
    return _like(a, fill_value, dtype, shape)


def empty_like(prototype: ArrayLike, dtype: DType | None = None, shape: int | Sequence[int] | None = None) -> Array:
    """An array shaped like ``prototype`` (filled with zeros: nothing is left uninitialised).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.empty_like(fnp.ones(2)).shape
        (2,)
    """
    return _like(prototype, 0, dtype, shape)


# --- ranges --------------------------------------------------------------------------------------


def arange(start: int, stop: float | None = None, step: float | None = None, dtype: DType | None = None, *,
           like: ArrayLike | None = None) -> Array:
    """Evenly spaced values in ``[start, stop)`` (on the device of ``like`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.arange(3).tolist()
        [0, 1, 2]
    """
    start, stop, step = (_arange_bound(v) for v in (start, stop, step))
    if stop is None:
        # host-data: made from no array (like= places it)
        out = np.arange(start, dtype=dtype) if step is None else np.arange(0, start, step, dtype=dtype)
    else:
        # host-data: made from no array (like= places it)
        out = np.arange(start, stop, 1 if step is None else step, dtype=dtype)
    return _placed(out, like)


def _arange_bound(value: Any) -> Any:
    """A bound or step of ``arange`` as a host value: they decide the length of the result."""
    if not isinstance(value, Tracer):
        return value
    try:
        return value.to_concrete()  # (a tracer with a value: grad's, eagerly)
    except errors.TracerConversionError as e:
        raise errors.TracerConversionError(
            "fnp.arange needs the values of start, stop and step: they decide the length of its "
            "result, which jit and vmap must know while they record the function. Make them "
            "static arguments (static_argnums or static_argnames), or write start + step * "
            f"fnp.arange(n) with a length n known in advance. ({e})") from None


def linspace(start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: DType | None = None, axis: int = 0) -> Array | tuple[Array, Array]:
    """``num`` evenly spaced values from ``start`` to ``stop`` (``stop`` left out unless
    ``endpoint``), as ``numpy.linspace``: ``start`` and ``stop`` may be arrays (they broadcast,
    and the samples run along ``axis``) and traced values, with the derivative of each sample
    ``start + i * (stop - start) / (num - 1)``; ``retstep`` also returns that step (NaN when
    there is no step: ``num`` 0, or 1 with ``endpoint``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linspace(0.0, 1.0, 3).tolist()
        [0.0, 0.5, 1.0]
        >>> import functrans as ft
        >>> float(ft.grad(lambda a: fnp.linspace(a, 2 * a, 5).sum())(1.0))
        7.5
    """
    if not holds_device_value(start) and not holds_device_value(stop):
        # NumPy's stubs overload retstep as Literal[True] or Literal[False] only, not bool
        # host-data: made from host values
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype,  # type: ignore[call-overload, misc]
                           axis=axis)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    start, stop = operand(start), operand(stop)
    # NumPy's promotion (Python scalars weak), made inexact
    dt = np.result_type(*(x if type(x) in PY_SCALARS else dtype_of(x) for x in (start, stop)))
    if dt.kind not in "fc":
        dt = np.result_type(dt, 1.0)
    start, stop = _where_the_arrays_are((start, stop), dt)
    delta = _ew.sub(stop, start)
    nd = len(shape_of(delta))
    # host-data: the sample numbers, placed where the endpoints live
    y = placed_like(np.arange(num, dtype=dt).reshape((-1,) + (1,) * nd), delta)
    div = num - 1 if endpoint else num
    if div > 0:
        step = _ew.div(delta, div)
        if math.prod(shape_of(step)):
            # NumPy divides by div last when a step underflows to zero (for every sample)
            underflow = _ew.eq(step, 0)
            if nd:
                underflow = _red.reduce_max(underflow, tuple(range(nd)))
            y = _ew.select(underflow, _ew.mul(_ew.div(y, div), delta), _ew.mul(y, step))
        else:
            y = _ew.mul(y, step)
    else:
        step = np.nan
        y = _ew.mul(y, delta)
    y = _ew.add(y, start)
    if endpoint and num > 1:
        # host-data: the last sample's row, placed where the endpoints live
        last = placed_like((np.arange(num) == num - 1).reshape((-1,) + (1,) * nd), delta)
        y = _ew.select(last, stop, y)
    if axis != 0:
        y = _shape.transpose(y, _moved_first_to(nd + 1, normalize_axis(axis, nd + 1)))
    if dtype is not None and np.dtype(dtype) != dt:
        if np.issubdtype(dtype, np.integer):
            y = _ew.floor(y)
        y = _conv.convert_element_type(y, new_dtype=np.dtype(dtype))
    return (y, step) if retstep else y


def _where_the_arrays_are(values: tuple[ArrayLike, ...], dtype: np.dtype | None = None) -> list[Array]:
    """``values`` as arrays of ``dtype`` (their own if None) on the device of the ones that
    are traced or device arrays: host values (Python numbers, NumPy arrays) are placed there."""
    operands = [operand(v) for v in values]
    like = next(v for v in operands if holds_device_value(v))
    out = []
    for v in operands:
        if not holds_device_value(v):
            v = placed_like(np.asarray(v, dtype=dtype), like)  # host-data: placed where the arrays are
        elif dtype is not None:
            v = _conv.convert_element_type(v, new_dtype=dtype)
        out.append(v)
    return out


def _moved_first_to(nd: int, position: int) -> tuple[int, ...]:
    """The permutation that moves dimension 0 to ``position``."""
    order = list(range(1, nd))
    order.insert(position, 0)
    return tuple(order)


def logspace(start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True, base: ArrayLike = 10.0,
             dtype: DType | None = None, axis: int = 0) -> Array:
    """``base ** linspace(start, stop, num, endpoint, axis=axis)``, as ``numpy.logspace``:
    ``start``, ``stop`` and ``base`` may be arrays (an array ``base`` broadcasts with the
    endpoints) and traced values, differentiable in each.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.logspace(0, 2, 3).tolist()
        [1.0, 10.0, 100.0]
        >>> import functrans as ft
        >>> float(ft.grad(lambda b: fnp.logspace(0.0, 2.0, 3, base=b).sum())(10.0))
        21.0
    """
    if not (holds_device_value(start) or holds_device_value(stop) or holds_device_value(base)):
        # host-data: made from host values
        return np.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=dtype, axis=axis)
    if type(base) not in PY_SCALARS and len(shape_of(operand(base))):
        # an array base broadcasts with the endpoints, which decides where axis is
        start, stop, base = _where_the_arrays_are((start, stop, base))
        nd = len(np.broadcast_shapes(shape_of(start), shape_of(stop), shape_of(base)))
        start, stop, base = (_shape.reshape(a, (1,) * (nd - len(shape_of(a))) + tuple(shape_of(a)))
                             for a in (start, stop, base))
        base = _shape.expand_dims(base, (normalize_axis(axis, nd + 1),))
    y = linspace(start, stop, num, endpoint=endpoint, axis=axis)
    out = _ew.pow(operand(base), y)
    return out if dtype is None else _conv.convert_element_type(out, new_dtype=np.dtype(dtype))


def meshgrid(*xi: ArrayLike, copy: bool = True, sparse: bool = False,
             indexing: str = "xy") -> tuple[Array, ...]:
    """Coordinate arrays from coordinate vectors (``'xy'``: Cartesian, the first two
    outputs' axes swapped; ``'ij'``: matrix indexing). Returns a tuple.

    Example:
        >>> import functrans.numpy as fnp
        >>> [g.shape for g in fnp.meshgrid(fnp.ones(2), fnp.ones(3))]
        [(3, 2), (3, 2)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    vectors = [as_array(x) for x in numbers_beside(xi)]
    vectors = [_shape.reshape(v, (math.prod(v.shape),)) for v in vectors]
    nd = len(vectors)
    out = []
    for i, v in enumerate(vectors):
        view = [1] * nd
        view[i] = v.shape[0]
        if indexing == "xy" and nd > 1 and i < 2:
            view[0], view[1] = view[1], view[0]
        out.append(_shape.reshape(v, tuple(view)))
    if not sparse:
        shape = np.broadcast_shapes(*(o.shape for o in out))
        out = [_shape.broadcast_to(o, shape) for o in out]
    return tuple(out)


# --- matrices: identities, diagonals, triangles --------------------------------------------------


def eye(N: int, M: int | None = None, k: int = 0, dtype: DType = float, *,
        like: ArrayLike | None = None) -> Array:
    """A 2-D array with ones on the ``k``-th diagonal (on the device of ``like`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.eye(2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    N, M, k = (_host_shape(v) for v in (N, M, k))
    return _placed(np.eye(N, M, k, dtype=dtype), like)  # host-data: made from no array (like= places it)


def identity(n: int, dtype: DType | None = None, *, like: ArrayLike | None = None) -> Array:
    """The ``n`` by ``n`` identity matrix (on the device of ``like`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.identity(2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    return _placed(np.identity(_host_shape(n), dtype=dtype), like)  # host-data: made from no array (like= places it)


def tri(N: int, M: int | None = None, k: int = 0, dtype: DType = float) -> Array:
    """Ones at and below the ``k``-th diagonal, zeros above.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tri(2).tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    return np.tri(N, M, k, dtype=dtype)  # host-data: made from no array (like= places it)


def diag(v: ArrayLike, k: int = 0) -> Array:
    """A 1-D ``v``: the square matrix with ``v`` on its ``k``-th diagonal. A 2-D ``v``: its
    ``k``-th diagonal.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.diag(fnp.array([1.0, 2.0])).tolist()
        [[1.0, 0.0], [0.0, 2.0]]
    """
    v = as_array(v)
    if len(v.shape) == 2:
        return diagonal(v, k)
    if len(v.shape) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    if not any_tracer(v):
        return array_module(v).diag(v, k)
    n = v.shape[0]
    size = n + abs(k)
    # host-data: made on the host, placed on the operand's device
    rows = placed_like(np.arange(n) + max(-k, 0), v)
    # host-data: made on the host, placed on the operand's device
    cols = placed_like(np.arange(n) + max(k, 0), v)
    zeros = _conv.full_like(v, 0, shape=(size, size))
    return scatter_add_p.bind(zeros, v, rows, cols, index=(IndexArray(0), IndexArray(1)))


def diagflat(v: ArrayLike, k: int = 0) -> Array:
    """The matrix with the flattened ``v`` on its ``k``-th diagonal.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.diagflat(fnp.array([[1.0, 2.0]])).shape
        (2, 2)
    """
    v = as_array(v)
    return diag(_shape.reshape(v, (math.prod(v.shape),)), k)


def _triangle(m: ArrayLike, k: int, lower: bool) -> Array:
    m = as_array(m)
    if len(m.shape) < 2:
        if len(m.shape) == 1:  # NumPy broadcasts a vector to a square matrix first
            m = _shape.broadcast_to(m, (m.shape[0], m.shape[0]))
        else:
            raise ValueError("input array must be at least 1-d")
    n, p = m.shape[-2:]
    # host-data: made on the host, placed on the operand's device
    mask = placed_like(np.tri(n, p, k, dtype=bool) if lower else ~np.tri(n, p, k - 1, dtype=bool), m)
    if not any_tracer(m):
        return array_module(m).where(mask, m, m.dtype.type(0))
    return _ew.select(mask, m, 0)


def tril(m: ArrayLike, k: int = 0) -> Array:
    """The lower triangle: entries above the ``k``-th diagonal set to zero.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tril(fnp.ones((2, 2))).tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    return _triangle(m, k, lower=True)


def triu(m: ArrayLike, k: int = 0) -> Array:
    """The upper triangle: entries below the ``k``-th diagonal set to zero.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.triu(fnp.ones((2, 2))).tolist()
        [[1.0, 1.0], [0.0, 1.0]]
    """
    return _triangle(m, k, lower=False)


def vander(x: ArrayLike, N: int | None = None, increasing: bool = False) -> Array:
    """The Vandermonde matrix of the 1-D ``x``: columns ``x**(N-1), ..., x, 1`` (or in
    increasing powers), ``N`` columns (``len(x)`` by default), as ``numpy.vander``.
    Differentiable in ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.vander(fnp.array([2.0, 3.0]), 3).tolist()
        [[4.0, 2.0, 1.0], [9.0, 3.0, 1.0]]
    """
    x = as_array(x)
    if len(x.shape) != 1:
        raise ValueError(f"x must be a one-dimensional array or sequence, got shape {tuple(x.shape)}")
    n = x.shape[0] if N is None else int(N)
    if not any_tracer(x):
        return array_module(x).vander(x, n, increasing)
    dtype = np.promote_types(x.dtype, int)  # host-metadata: NumPy's vander computes in this dtype
    if x.dtype != dtype:
        x = _conv.convert_element_type(x, new_dtype=dtype)
    powers = range(n) if increasing else range(n - 1, -1, -1)
    columns = [_ew.integer_pow(x, p) if p else _conv.full_like(x, 1) for p in powers]
    if not columns:
        return _conv.full_like(x, 0, shape=(x.shape[0], 0))
    return _shape.concatenate([_shape.expand_dims(c, (1,)) for c in columns], dimension=1)


def geomspace(start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True,
              dtype: DType | None = None, axis: int = 0) -> Array:
    """``num`` numbers spaced evenly on a log scale from ``start`` to ``stop`` (a geometric
    progression), as ``numpy.geomspace``. Traced scalar endpoints are differentiable: entry
    ``i`` is ``start * (stop / start) ** t_i``, with the ``t_i`` evenly spaced in [0, 1].

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.geomspace(1.0, 1000.0, 4).round(10).tolist()
        [1.0, 10.0, 100.0, 1000.0]
    """
    if not (holds_device_value(start) or holds_device_value(stop)):
        # host-data: made from host values
        return np.geomspace(start, stop, num, endpoint=endpoint, dtype=dtype, axis=axis)
    start, stop = operand(start), operand(stop)
    if shape_of(start) != () or shape_of(stop) != ():
        raise ValueError("fnp.geomspace takes scalar start and stop when they are traced or on a device; "
                         "for arrays of endpoints, map it with functrans.vmap")
    if axis not in (0, -1):
        raise ValueError(f"axis {axis} is out of bounds for the 1-D result of fnp.geomspace")
    work = np.result_type(dtype_of(start), dtype_of(stop), np.float64)  # host-metadata: NumPy computes in this
    start, stop = (_conv.convert_element_type(v, new_dtype=work) for v in (start, stop))
    # host-data: the exponents, made from no array
    t = placed_like(np.linspace(0.0, 1.0, num, endpoint=endpoint), start if holds_device_value(start) else stop)
    out = _ew.mul(start, _ew.pow(_ew.div(stop, start), t))
    if num > 1 and endpoint:  # the last entry is stop itself, as NumPy makes it
        last = _shape.reshape(_conv.convert_element_type(stop, new_dtype=out.dtype), (1,))
        out = _shape.concatenate([out[:-1], last], dimension=0)
    return out if dtype is None else _conv.convert_element_type(out, new_dtype=np.dtype(dtype))


def asanyarray(a: ArrayLike, dtype: DType | None = None) -> Array:
    """``asarray``: functrans has no array subclasses to pass through.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.asanyarray([1.0, 2.0]).tolist()
        [1.0, 2.0]
    """
    return asarray(a, dtype)


def ascontiguousarray(a: ArrayLike, dtype: DType | None = None) -> Array:
    """``asarray``, laid out in C order in memory for a host array, as
    ``numpy.ascontiguousarray`` (at least 1-D). Traced arrays have no memory layout.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ascontiguousarray(fnp.ones((2, 3)).T).flags["C_CONTIGUOUS"]
        True
    """
    if not holds_device_value(a) and not isinstance(a, Tracer):
        return np.ascontiguousarray(a, dtype=dtype)  # host-data: NumPy's layout of host values
    out = asarray(a, dtype)
    return out if len(shape_of(out)) else _shape.reshape(out, (1,))


def asfortranarray(a: ArrayLike, dtype: DType | None = None) -> Array:
    """``asarray``, laid out in Fortran order in memory for a host array, as
    ``numpy.asfortranarray`` (at least 1-D). Traced arrays have no memory layout.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.asfortranarray(fnp.ones((2, 3))).flags["F_CONTIGUOUS"]
        True
    """
    if not holds_device_value(a) and not isinstance(a, Tracer):
        return np.asfortranarray(a, dtype=dtype)  # host-data: NumPy's layout of host values
    out = asarray(a, dtype)
    return out if len(shape_of(out)) else _shape.reshape(out, (1,))


def asarray_chkfinite(a: ArrayLike, dtype: DType | None = None) -> Array:
    """``asarray``, raising ``ValueError`` if the array holds an infinity or a NaN, as
    ``numpy.asarray_chkfinite``. The check reads values: under ``jit`` and ``vmap`` it raises
    an error that says so (``functrans.config.debug_nans`` checks every step instead).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.asarray_chkfinite([1.0, 2.0]).tolist()
        [1.0, 2.0]
    """
    out = asarray(a, dtype)
    value = out
    if isinstance(out, Tracer):
        try:
            value = out.to_concrete()
        except errors.TracerConversionError:
            raise errors.UnsupportedError(
                "fnp.asarray_chkfinite reads the values it checks, which jit and vmap do not have "
                "yet. Check outside the transformation, or turn on functrans.config.debug_nans.") from None
    if value.dtype.kind in "fc" and not bool(to_host(array_module(value).isfinite(value).all())):
        raise ValueError("array must not contain infs or NaNs")
    return out


def fromfunction(function: Callable[..., Any], shape: Sequence[int], *, dtype: DType = float,
                 **kwargs: Any) -> Any:
    """``function`` called with one coordinate array per axis of ``shape`` (each of that
    shape), as ``numpy.fromfunction``; whatever it returns is the result.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fromfunction(lambda i, j: i + 10 * j, (2, 2)).tolist()
        [[0.0, 10.0], [1.0, 11.0]]
    """
    # host-data: coordinates made from a shape
    return function(*np.indices(tuple(shape), dtype=dtype), **kwargs)


def fromiter(iter: Iterable[Any], dtype: DType, count: int = -1) -> Array:
    """A 1-D array of the first ``count`` items of an iterable (all of them by default), as
    ``numpy.fromiter``; traced items are stacked, keeping their derivatives.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.fromiter((i * i for i in range(4)), float).tolist()
        [0.0, 1.0, 4.0, 9.0]
    """
    items = list(itertools.islice(iter, None if count < 0 else count))
    if 0 <= count != len(items):
        raise ValueError(f"iterator too short: Expected {count} but iterator had only {len(items)} items.")
    if not holds_device_value(items):
        return np.array(items, dtype=dtype)  # host-data: host values
    return array(items, dtype=dtype)
