"""Array creation with NumPy's names. Arrays are made by NumPy on the host unless ``like=``
names an array whose device they go to (NumPy's ``like=``, e.g. a CuPy array: a GPU);
``*_like`` functions make them where their argument lives."""
from __future__ import annotations

import numpy as np

from functrans.core.trace import Tracer
from functrans.primitives import conversion as _conv
from functrans.primitives._define import PY_SCALARS


_HOST_VALUES = (int, float, complex, bool, list, tuple, np.ndarray, np.generic)


def _contains_device_value(obj) -> bool:
    """True if nested lists hold a tracer or an array of another backend than NumPy (then the
    result is stacked by primitives, where those values live)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, Tracer) or not isinstance(item, _HOST_VALUES):
            return True
    return False


def array(object, dtype=None, copy=True):
    """An array from an array, a scalar, or nested lists (which may hold traced values).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.array([[1.0, 2.0], [3.0, 4.0]]).shape
        (2, 2)
    """
    if isinstance(object, Tracer):
        return object if dtype is None else _conv.convert_element_type(object, new_dtype=dtype)
    if isinstance(object, (list, tuple)) and _contains_device_value(object):
        from functrans.numpy._manipulation import stack

        out = stack([array(item) for item in object])
        return out if dtype is None else _conv.convert_element_type(out, new_dtype=dtype)
    if type(object) in PY_SCALARS or isinstance(object, (list, tuple, np.ndarray, np.generic)):
        # host-data: host values (parameters, lists, host_values)
        return np.array(object, dtype=dtype, copy=copy)
    return object.astype(dtype) if dtype is not None else (object.copy() if copy else object)


def asarray(a, dtype=None):
    """Like ``array``, without copying an array that already has the requested dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.asarray(3.0).shape
        ()
    """
    if isinstance(a, Tracer) or (isinstance(a, (list, tuple)) and _contains_device_value(a)):
        return array(a, dtype=dtype)
    if type(a) in PY_SCALARS or isinstance(a, (list, tuple, np.ndarray, np.generic)):
        return np.asarray(a, dtype=dtype)  # host-data: host values (parameters, lists, host_values)
    return a if dtype is None or a.dtype == dtype else a.astype(dtype)


def _placed(out: np.ndarray, like):
    """``out`` on the device of ``like`` (an array or traced array), or as it is."""
    if like is None:
        return out
    from functrans.numpy._util import operand, placed_like

    return placed_like(out, operand(like))


def zeros(shape, dtype=float, *, like=None):
    """An array of zeros (on the device of ``like`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.zeros((2, 3)).shape
        (2, 3)
    """
    return _placed(np.zeros(shape, dtype=dtype), like)  # host-data: made from no array (like= places it)


def ones(shape, dtype=float, *, like=None):
    """An array of ones (on the device of ``like`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ones(2).tolist()
        [1.0, 1.0]
    """
    return _placed(np.ones(shape, dtype=dtype), like)  # host-data: made from no array (like= places it)


def empty(shape, dtype=float, *, like=None):
    """An array of the given shape (its values are zeros here: nothing is left uninitialised).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.empty(2).shape
        (2,)
    """
    return _placed(np.zeros(shape, dtype=dtype), like)  # host-data: made from no array (like= places it)


def full(shape, fill_value, dtype=None, *, like=None):
    """An array filled with ``fill_value``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.full(2, 7.0).tolist()
        [7.0, 7.0]
    """
    if isinstance(fill_value, Tracer) or not isinstance(fill_value, _HOST_VALUES):
        from functrans.numpy._manipulation import broadcast_to  # on fill_value's device

        value = fill_value if dtype is None else _conv.convert_element_type(fill_value, new_dtype=dtype)
        return broadcast_to(value, (shape,) if isinstance(shape, int) else tuple(shape))
    # host-data: made from no array (like= places it)
    return _placed(np.full(shape, fill_value, dtype=dtype), like)


def _like(a, fill, dtype, shape):
    if type(a) in PY_SCALARS or isinstance(a, (list, tuple)):
        a = np.asarray(a)  # host-data: host values (parameters, lists, host_values)
    if isinstance(a, Tracer):
        shape = a.shape if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
        return _conv.full_like(a, fill, shape=shape, dtype=dtype)
    shape = a.shape if shape is None else shape
    return _conv.full_like_p.impl(a, fill_value=fill, shape=shape, dtype=dtype or a.dtype)


def zeros_like(a, dtype=None, shape=None):
    """Zeros shaped like ``a`` (a constant: it carries no derivative), where ``a`` lives.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.zeros_like(fnp.ones(3)).tolist()
        [0.0, 0.0, 0.0]
    """
    return _like(a, 0, dtype, shape)


def ones_like(a, dtype=None, shape=None):
    """Ones shaped like ``a``, where ``a`` lives.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ones_like(fnp.zeros(2)).tolist()
        [1.0, 1.0]
    """
    return _like(a, 1, dtype, shape)


def full_like(a, fill_value, dtype=None, shape=None):
    """An array shaped like ``a`` filled with ``fill_value``, where ``a`` lives.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.full_like(fnp.zeros(2), 5.0).tolist()
        [5.0, 5.0]
    """
    return _like(a, fill_value, dtype, shape)


def arange(start, stop=None, step=None, dtype=None, *, like=None):
    """Evenly spaced values in ``[start, stop)`` (on the device of ``like`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.arange(3).tolist()
        [0, 1, 2]
    """
    if stop is None:
        # host-data: made from no array (like= places it)
        out = np.arange(start, dtype=dtype) if step is None else np.arange(0, start, step, dtype=dtype)
    else:
        # host-data: made from no array (like= places it)
        out = np.arange(start, stop, 1 if step is None else step, dtype=dtype)
    return _placed(out, like)


def linspace(start, stop, num=50, endpoint=True, dtype=None):
    """``num`` evenly spaced values from ``start`` to ``stop``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linspace(0.0, 1.0, 3).tolist()
        [0.0, 0.5, 1.0]
    """
    # host-data: made from no array (like= places it)
    return np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)


def eye(N, M=None, k=0, dtype=float, *, like=None):
    """A 2-D array with ones on the ``k``-th diagonal (on the device of ``like`` if given).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.eye(2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    return _placed(np.eye(N, M, k, dtype=dtype), like)  # host-data: made from no array (like= places it)
