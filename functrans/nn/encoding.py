"""Encodings of integer data for a model's input or its targets.

Example:
    >>> import numpy as np
    >>> from functrans import nn
    >>> nn.one_hot(np.array([2, 0]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
"""
from __future__ import annotations

import numpy as np

from functrans.scipy._nn_math import one_hot as _one_hot
from functrans.typing import Array, ArrayLike, DType

__all__ = ["one_hot"]


def one_hot(x: ArrayLike, num_classes: int, *, dtype: DType = np.float64, axis: int = -1) -> Array:
    """``x`` with each entry replaced by a vector of ``num_classes`` zeros holding a one at the
    entry's value, along a new axis ``axis``, as JAX's ``jax.nn.one_hot``. An entry outside
    ``[0, num_classes)`` (a negative one too) gives a vector of zeros, as in JAX; PyTorch's
    ``one_hot`` raises there instead. ``x`` may be traced (under ``jit`` or ``vmap``); the
    result carries no derivative back to it.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.one_hot(np.array([1, -1, 3]), 3, dtype=np.int64).tolist()
        [[0, 1, 0], [0, 0, 0], [0, 0, 0]]
        >>> nn.one_hot(np.array([0, 1]), 2, axis=0).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    return _one_hot(x, num_classes, dtype, axis)
