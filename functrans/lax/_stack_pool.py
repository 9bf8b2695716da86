"""Arrays for ``scan``'s stacked outputs kept between calls (``StackPool``): a jitted training
step's forward scan stacks residuals that its backward pass drops, and taking the same memory
again spares a fresh allocation the page faults of its first touch.
"""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from functrans.interpreters.buffers import FREE_REFS, first_free

__all__ = ["StackPool"]


#: ``None`` turns the pools off: no exact reference counts, or FUNCTRANS_JIT_POOL=0 (the switch
#: of jit's own kept results, replay.POOLS).
_FREE = FREE_REFS if os.environ.get("FUNCTRANS_JIT_POOL", "1") != "0" else None

#: The most bytes all pools keep together: a pool lives as long as its loop body (a jitted
#: function's, or one an eager ``grad`` derived and caches), and the stacks of new bodies are
#: not kept once the budget is spent.
BUDGET = 64 * 2 ** 20
_kept_bytes = 0


class StackPool:
    """NumPy arrays of one shape and dtype for a scan's stacked outputs, kept between calls:
    ``take()`` returns a kept array that nothing outside the pool refers to (its reference
    count says so: a caller holding the array or any view of it keeps it out), else a new one,
    kept while the pool has room. The stacks of a jitted training step are residuals the
    backward pass drops: taken again, their memory is mapped and warm, instead of a fresh
    allocation paying a page fault per page on first touch.

    Example:
        >>> pool = StackPool((4, 3), np.dtype("float32"))
        >>> a = pool.take()
        >>> b = pool.take()  # ``a`` is held: a new array
        >>> a is b
        False
        >>> del a, b
        >>> pool.take().shape
        (4, 3)
    """

    __slots__ = ("shape", "dtype", "_kept", "_room", "_bytes")

    #: Arrays kept per pool: a stack the caller dropped before the next call is taken again.
    SIZE = 1
    #: Larger stacks are not kept.
    MAX_BYTES = 16 * 2 ** 20

    def __init__(self, shape: tuple, dtype: Any):
        self.shape = shape
        self.dtype = np.dtype(dtype)
        self._kept: list = []
        self._bytes = math.prod(shape) * self.dtype.itemsize
        self._room = self.SIZE if _FREE is not None and self._bytes <= self.MAX_BYTES else 0

    def take(self) -> np.ndarray:
        """A free kept array, or a new one."""
        global _kept_bytes
        if _FREE is not None:
            buf = first_free(self._kept)
            if buf is not None:
                return buf
        buf = np.empty(self.shape, self.dtype)  # numpy-only: scan takes stacks here for NumPy arrays only
        if len(self._kept) < self._room and _kept_bytes + self._bytes <= BUDGET:
            _kept_bytes += self._bytes
            self._kept.append(buf)
        return buf

    def __del__(self) -> None:
        global _kept_bytes
        if self._kept:
            _kept_bytes -= self._bytes * len(self._kept)
