"""Small helpers shared by the functrans.numpy modules."""
from __future__ import annotations

import numpy as np

from functrans import errors
from functrans.backend import NUMPY, backend_of
from functrans.core.trace import Tracer
from functrans.primitives._define import PY_SCALARS


# Types known to pass through ``operand`` unchanged; checked first, by exact type, because
# every functrans.numpy call goes through here.
PASS_THROUGH = {float, int, bool, complex, np.ndarray, np.float64, np.float32, np.int64, np.bool_}


def operand(x):
    """Arrays, tracers and Python scalars pass through; sequences become arrays."""
    kind = type(x)
    if kind in PASS_THROUGH:
        return x
    if isinstance(x, (Tracer, np.ndarray, np.generic)) or hasattr(x, "__cuda_array_interface__"):
        if isinstance(x, Tracer):
            PASS_THROUGH.add(kind)
        return x
    if hasattr(kind, "shape") and hasattr(kind, "dtype"):  # an array of another backend
        PASS_THROUGH.add(kind)
        return x
    from functrans.numpy._creation import array

    return array(x)


def shape_of(x) -> tuple:
    return () if type(x) in PY_SCALARS else tuple(x.shape)


def ndim_of(x) -> int:
    return len(shape_of(x))


def dtype_of(x):
    return np.result_type(x) if type(x) in PY_SCALARS else x.dtype


def normalize_axis(axis: int, ndim: int, name: str = "axis") -> int:
    if not -ndim <= axis < max(ndim, 1) and not (ndim == 0 and axis in (0, -1)):
        raise np.exceptions.AxisError(f"{name} {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim if ndim else 0


def normalize_axes(axis, ndim: int) -> tuple:
    """``None`` means every axis; an int or a tuple of ints (negative from the end)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(normalize_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"duplicate value in 'axis': {axis}")
        return axes
    return (normalize_axis(axis, ndim),)


def any_tracer(*xs) -> bool:
    for x in xs:
        if isinstance(x, Tracer):
            return True
    return False


# -- where arrays live: host-made constants and index data placed on the device of an operand ------


def _witness(like):
    """The concrete array behind ``like`` (a tracer's value), or None if it has none yet."""
    while isinstance(like, Tracer):
        try:
            like = like.to_concrete()
        except errors.TracerConversionError:
            return None
    return like


def placed_like(value: np.ndarray, like):
    """Host data ``value`` (a small NumPy array: an index, a mask) where ``like`` lives.

    NumPy operands get ``value`` itself; an operand on a device gets a copy on that device
    (an explicit, small transfer, as CuPy copies a Python list used as an index).

    Example:
        >>> import numpy as np
        >>> placed_like(np.arange(2), np.ones(3)).tolist()
        [0, 1]
    """
    if type(like) is np.ndarray:
        return value
    concrete = _witness(like)
    if concrete is None:  # no value yet (a staged program): the constant is made when it runs
        from functrans.primitives.conversion import constant_like

        return constant_like(like, _host_constant, value)
    backend = backend_of(concrete)
    if backend is NUMPY:
        return value
    return backend.put(value, backend.device_of(concrete))


def _host_constant(xp, value):
    return xp.asarray(value)


def host_values(x) -> np.ndarray:
    """``x`` (a concrete array of any backend, or a tracer with a value) as host NumPy data,
    for what must be known on the host: output shapes that depend on values (unique,
    nonzero, repeat counts). An explicit transfer, and a synchronisation on a device.

    Example:
        >>> host_values([1, 2]).tolist()
        [1, 2]
    """
    x = _witness(x) if isinstance(x, Tracer) else x
    if x is None:
        raise errors.TracerConversionError("this operation needs the values of its argument")
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float, bool, complex)):
        return np.asarray(x)  # host-data: host values (parameters, lists, host_values)
    return backend_of(x).to_host(x)
