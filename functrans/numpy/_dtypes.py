"""Data types with NumPy's names: NumPy's dtype objects and limits, NumPy 2's promotion
rules (``result_type``) and conversion (``astype``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from functrans.numpy._creation import asarray
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike, DType

float16, float32, float64 = np.float16, np.float32, np.float64
complex64, complex128 = np.complex64, np.complex128
int8, int16, int32, int64 = np.int8, np.int16, np.int32, np.int64
uint8, uint32, bool_ = np.uint8, np.uint32, np.bool_
dtype, finfo, iinfo = np.dtype, np.finfo, np.iinfo


def result_type(*arrays_and_dtypes: ArrayLike | DType) -> np.dtype:
    """The dtype NumPy's promotion rules give these arrays, scalars and dtypes (traced arrays
    count by their dtype).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.result_type(fnp.ones(2, fnp.float32), 1.0)
        dtype('float32')
    """
    # arrays of any backend count by their dtype; Python scalars stay weakly typed
    given: tuple[Any, ...] = arrays_and_dtypes  # anything with a dtype attribute: read it
    return np.result_type(*(a.dtype if hasattr(a, "dtype") and not isinstance(a, (type, np.dtype)) else a
                            for a in given))


def astype(x: ArrayLike, dtype: DType) -> Array:
    """``x`` converted to ``dtype``. Converting to an integer or boolean dtype drops the
    derivative (the result is piecewise constant).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.astype(fnp.ones(2), fnp.float32).dtype
        dtype('float32')
    """
    return convert_element_type(asarray(x), new_dtype=dtype)
