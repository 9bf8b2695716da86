"""NumPy's one-dimensional linear interpolation, ``interp``: differentiable in the points
where it is evaluated and in the values it interpolates (and in the sample positions), and
traceable under ``jit`` and ``vmap``."""
from __future__ import annotations

import numpy as np

from functrans.backend import array_module
from functrans.numpy._indexing import where
from functrans.numpy._joining import concatenate
from functrans.numpy._sorting import argsort, searchsorted
from functrans.numpy._util import any_tracer, as_array, numbers_beside
from functrans.primitives import elementwise as _ew
from functrans.primitives.conversion import convert_element_type
from functrans.primitives.indexing import IndexArray, gather_p
from functrans.typing import Array, ArrayLike


def interp(x: ArrayLike, xp: ArrayLike, fp: ArrayLike, left: ArrayLike | None = None,
           right: ArrayLike | None = None, period: float | None = None) -> Array:
    """The piecewise-linear interpolant of the points ``(xp, fp)`` (``xp`` increasing) at
    ``x``, as ``numpy.interp``: ``left`` and ``right`` (default ``fp[0]`` and ``fp[-1]``)
    beyond the ends; with ``period``, the positions are taken modulo it. Differentiable in
    ``x``, ``xp`` and ``fp`` (between sample positions).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.interp(fnp.array([0.5, 2.5, 9.0]), fnp.array([0.0, 1.0, 3.0]), fnp.array([0.0, 2.0, 0.0])).tolist()
        [1.0, 0.5, 0.0]
    """
    x, xp, fp = numbers_beside((x, xp, fp))
    x, xp_, fp_ = as_array(x), as_array(xp), as_array(fp)
    if not any_tracer(x, xp_, fp_, left, right):
        return array_module(xp_).interp(x, xp_, fp_, left, right, period)
    if len(xp_.shape) != 1 or len(fp_.shape) != 1:
        raise ValueError("Data points must be 1-D sequences")
    if xp_.shape[0] != fp_.shape[0]:
        raise ValueError("fp and xp are not of the same length")
    if xp_.shape[0] == 0:
        raise ValueError("array of sample points is empty")
    # NumPy interpolates in float64 (complex128 for complex values)
    x, xp_ = (convert_element_type(v, new_dtype=np.float64) for v in (x, xp_))
    fp_ = convert_element_type(fp_, new_dtype=np.complex128 if fp_.dtype.kind == "c" else np.float64)
    if period is not None:
        if period == 0:
            raise ValueError("period must be a non-zero value")
        period = abs(period)
        x = _ew.mod(x, period)
        xp_ = _ew.mod(xp_, period)
        order = argsort(xp_)
        xp_, fp_ = _at(xp_, order), _at(fp_, order)
        # one period before and after, so every position has neighbours
        xp_ = concatenate([_ew.sub(xp_[-1:], period), xp_, _ew.add(xp_[0:1], period)])
        fp_ = concatenate([fp_[-1:], fp_, fp_[0:1]])
        left = right = None
    n = xp_.shape[0]
    if n == 1:
        inner = _ew.add(_ew.mul(x, 0.0), fp_[0])
    else:
        i = _ew.sub(searchsorted(xp_, x, side="right"), 1)
        i = _ew.max(_ew.min(i, n - 2), 0)
        x0, x1 = _at(xp_, i), _at(xp_, _ew.add(i, 1))
        f0, f1 = _at(fp_, i), _at(fp_, _ew.add(i, 1))
        slope = _ew.div(_ew.sub(f1, f0), _ew.sub(x1, x0))
        inner = _ew.add(f0, _ew.mul(slope, _ew.sub(x, x0)))
        inner = where(_ew.eq(x, xp_[-1]), fp_[-1], inner)  # the last sample exactly, as NumPy
    if period is not None:
        return inner
    below = fp_[0] if left is None else left
    above = fp_[-1] if right is None else right
    return where(_ew.lt(x, xp_[0]), below, where(_ew.gt(x, xp_[-1]), above, inner))


def _at(a: Array, index: Array) -> Array:
    """``a[index]`` for a 1-D ``a`` and an integer index array, traced or not."""
    return gather_p.bind(a, index, index=(IndexArray(0),))
