"""Sorting: ``argsort`` (the stable sorting permutation) and ``searchsorted``. Both are
piecewise constant, so their derivative is zero; ``sort`` itself is a gather with the
permutation (functrans.numpy.sort), so its derivative follows the values to where they land.

Example:
    >>> import numpy as np
    >>> from functrans.primitives.sorting import argsort
    >>> argsort(np.array([3.0, 1.0, 2.0]))
    array([1, 2, 0])
"""
from __future__ import annotations

import numpy as np

from functrans.backend import array_module
from functrans.core.primitive import Primitive
from functrans.primitives._define import defzero, per_example_axis


# --- argsort: stable, along `axis`; `descending` keeps equal entries in their order --------------
def _argsort_impl(x, *, axis, descending):
    xp = array_module(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    # Stable descending order: sort the reversed array ascending, map back, and reverse.
    n = x.shape[axis]
    flipped = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return xp.flip(n - 1 - flipped, axis)


def _argsort_batch(values, dims, *, axis, descending):
    (x,), (d,) = values, dims
    return argsort(x, per_example_axis(axis % (x.ndim - 1), d), descending), d


argsort_p = Primitive("argsort")
argsort_p.impl = _argsort_impl
argsort_p.shape_rule = lambda x, *, axis, descending: (x.shape, np.dtype(np.intp))
defzero(argsort_p)
argsort_p.batch = _argsort_batch


def argsort(x, axis: int = -1, descending: bool = False):
    return argsort_p.bind(x, axis=axis, descending=descending)


# --- searchsorted: insertion points of `v` into the sorted 1-D `a` -------------------------------
def _searchsorted_impl(a, v, *, side):
    return array_module(a).searchsorted(a, v, side=side)


searchsorted_p = Primitive("searchsorted")
searchsorted_p.impl = _searchsorted_impl
searchsorted_p.shape_rule = lambda a, v, *, side: (getattr(v, "shape", ()), np.dtype(np.intp))
defzero(searchsorted_p)


def searchsorted(a, v, side: str = "left"):
    return searchsorted_p.bind(a, v, side=side)
