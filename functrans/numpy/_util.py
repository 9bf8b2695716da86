"""Small helpers shared by the functrans.numpy modules."""
from __future__ import annotations

import numpy as np

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
