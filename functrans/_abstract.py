"""What every layer needs to know about a value without computing with it: the Python
scalar types that stand for 0-d arrays, and the shape and dtype of an array or scalar.

One definition, used by the backend, the core, the primitives and the NumPy layer alike, so
that a fast-path change made here reaches every caller.

Example:
    >>> from functrans._abstract import dtype_of, shape_of
    >>> shape_of(2.0), dtype_of(2.0)
    ((), dtype('float64'))
"""
from __future__ import annotations

import numpy as np

#: The Python scalar types functrans accepts wherever it accepts an array (``bool`` included,
#: as a subclass of ``int`` is not enough: lookups are by exact type, on the hot path).
PY_SCALARS: frozenset[type] = frozenset((int, float, complex, bool))

#: NumPy's scalar types (``np.float32``, ``np.bool_``...), for lookups by exact type.
NUMPY_SCALARS: frozenset[type] = frozenset(np.dtype(code).type for code in np.typecodes["All"])

#: Python and NumPy scalars: the numbers that live on no device.
SCALARS: frozenset[type] = PY_SCALARS | NUMPY_SCALARS


def python_number(value):
    """A hyperparameter as a Python number when it is a NumPy one: a NumPy real or integer
    scalar (``np.float64(0.9)``, what a NumPy sweep or config gives) or a 0-d NumPy array
    becomes the ``float`` or ``int`` it holds; anything else (Python numbers, tracers,
    device arrays, schedules) is returned as it is. Under NumPy's promotion rules a NumPy
    float64 scalar makes a float32 array float64, while a Python float keeps its dtype.

    Example:
        >>> import numpy as np
        >>> from functrans._abstract import python_number
        >>> python_number(np.float64(0.5)), python_number(np.array(3)), python_number("relu")
        (0.5, 3, 'relu')
    """
    if (type(value) in NUMPY_SCALARS or (type(value) is np.ndarray and value.ndim == 0)) \
            and value.dtype.kind in "fiu":
        return value.item()
    return value


def shape_of(x) -> tuple:
    """The shape of an array, a tracer or a Python scalar (``()``)."""
    return () if type(x) in PY_SCALARS else x.shape


# NumPy's default dtypes of Python floats, complex numbers and bools (an int's depends on its
# size: NumPy is asked)
_DEFAULT_DTYPES: dict[type, np.dtype] = {float: np.dtype(np.float64), complex: np.dtype(np.complex128),
                                         bool: np.dtype(np.bool_)}


def dtype_of(x) -> np.dtype:
    """The dtype NumPy gives ``x`` on its own (Python scalars: NumPy's default dtypes)."""
    kind = type(x)
    if kind in PY_SCALARS:
        dtype = _DEFAULT_DTYPES.get(kind)
        return np.result_type(x) if dtype is None else dtype
    return x.dtype


def aval_of(x) -> tuple[tuple, np.dtype]:
    """``(shape, dtype)`` of an array, a tracer or a Python scalar: what a recorded program
    knows of a value."""
    return tuple(shape_of(x)), dtype_of(x)


def broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` without enlarging it (a weight
    or a label that fits its input, not one that would broadcast the result to a larger
    shape).

    Example:
        >>> broadcasts_to((3,), (2, 3)), broadcasts_to((2, 1), (2,))
        (True, False)
    """
    try:
        return np.broadcast_shapes(tuple(shape), tuple(target)) == tuple(target)
    except ValueError:
        return False
