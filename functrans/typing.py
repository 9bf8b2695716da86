"""Type aliases shared by functrans's public API (arrays, pytrees, parameters, keys).

The aliases document intent; arrays can be NumPy arrays, CuPy arrays or traced arrays,
which have no common base class, so most aliases are ``Any`` at runtime.

Example:
    >>> from functrans.typing import Params
    >>> def count(params: Params) -> int:
    ...     return len(params)
    >>> count({"weight": 1, "bias": 2})
    2
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["Array", "ArrayLike", "DType", "Key", "OptState", "Params", "PyTree", "Shape",
           "Updates"]

Array = Any
"""A NumPy array, a CuPy array, or a traced array inside a transformation."""

ArrayLike = Array | np.ndarray | float | int | bool | complex
"""Anything ``functrans.numpy.asarray`` accepts: arrays, Python and NumPy scalars."""

PyTree = Any
"""A nested structure of tuples, lists, dicts, namedtuples and registered nodes with array
leaves."""

Params = PyTree
"""A pytree of trainable parameters (for layers: a dict of arrays)."""

Updates = PyTree
"""A pytree of parameter updates, the same structure as the params; added to the params by
``functrans.optim.apply_updates``."""

OptState = PyTree
"""The state of an optimizer: a pytree, usually of NamedTuples of arrays."""

Key = Array
"""A random key from ``functrans.random.key``: a ``uint32`` array of shape ``(2,)``."""

Shape = tuple[int, ...]
"""An array shape."""

DType = DTypeLike
"""Anything ``numpy.dtype`` accepts (``np.float32``, ``"float64"``, ...)."""
