"""The one helper the functrans.scipy modules share: an argument in a floating dtype."""
from __future__ import annotations

import numpy as np

from functrans.numpy._util import operand
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike


def as_float(x: ArrayLike) -> Array:
    """``x`` in a floating dtype, as SciPy's special functions compute: a Python int becomes a
    Python float (weakly typed, so it takes the dtype of the arrays it meets), integer arrays
    become float64, everything inexact stays as it is.

    Example:
        >>> as_float(2), as_float(np.arange(2)).dtype
        (2.0, dtype('float64'))
    """
    x = operand(x)
    if isinstance(x, (int, bool)):
        return float(x)
    if isinstance(x, (float, complex)):
        return x
    if x.dtype.kind not in "fc":
        return convert_element_type(x, new_dtype=np.float64)
    return x
