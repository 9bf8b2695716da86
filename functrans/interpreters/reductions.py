"""Reductions in jit's plan on NumPy arrays called as the ufunc's own ``reduce``
(``np.add.reduce(x, axis=axes)`` for a sum), without NumPy's Python wrapper around it.

``np.sum(x, axis=...)`` on an ndarray checks its arguments in Python and then calls
``np.add.reduce``: the same call with the same arguments, so the same result bit for bit,
about 1.2 us later. A training step has several reductions (a softmax's maximum and sum, the
bias gradients); measured with one thread, best of 200 interleaved runs of 20 calls, float32
and float64: ``np.sum`` of a (256, 10) matrix over its rows 7.1 us, ``np.add.reduce`` 5.8 us;
over its columns 6.1 and 4.8 us; ``np.max`` 13.1 and 11.9 us; of (256, 128) and (128, 512)
matrices over the rows 7.5-10.7 us and 6.3-9.3 us.
"""
from __future__ import annotations

import math

import numpy as np

from functrans.primitives._define import reduce_sum_p
from functrans.primitives.reduction import (
    SHORT_AXIS,
    SHORT_AXIS_ROWS,
    reduce_max_p,
    reduce_min_p,
    reduce_prod_p,
)

__all__ = ["UFUNC_REDUCTIONS", "direct_reductions"]

#: Reduction primitive -> the ufunc whose ``reduce`` its implementation calls on an ndarray.
UFUNC_REDUCTIONS = {reduce_sum_p: np.add, reduce_max_p: np.maximum, reduce_min_p: np.minimum,
                    reduce_prod_p: np.multiply}


_EXTREMES = (reduce_max_p, reduce_min_p)


def _short_last_axis(shape: tuple, axes: tuple) -> bool:
    """Whether a maximum or minimum over ``axes`` of an array of ``shape`` is one the
    primitive computes by ufunc calls per entry of a short last axis."""
    k = shape[-1]
    return (len(shape) >= 2 and axes == (len(shape) - 1,) and 2 <= k <= SHORT_AXIS
            and math.prod(shape) >= SHORT_AXIS_ROWS * k * k)


def direct_reductions(steps: list, avals: dict) -> list:
    """The plan's steps with each reduction of an array of at least one dimension (so an
    ndarray, never a NumPy scalar, on NumPy) calling its ufunc's ``reduce`` directly; a maximum
    or minimum over a short last axis keeps the primitive's implementation, which takes it
    by one ufunc call per entry of that axis (``reduction.short_axis_extreme``).

    ``steps`` are ``(prim, impl, params, arg_slots, out_slots, frees)``, ``avals`` the
    ``(shape, dtype)`` of the variable slots. The step keeps its primitive.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> x = np.arange(6.0).reshape(3, 2)
        >>> print(ft.jit(lambda x: fnp.sum(x * 2.0, axis=0)).lower(x).as_text())
        { lambda v0:float64[3,2] .
            v1:float64[3,2] = mul[] v0 2.0  # into kept memory
            v2:float64[2] = reduce_sum[axes=(0,)] v1
          in (v2) }
    """
    new = None
    for position, (prim, _, params, arg_slots, out_slots, frees) in enumerate(steps):
        ufunc = UFUNC_REDUCTIONS.get(prim)
        if ufunc is None or type(out_slots) is not int:
            continue
        aval = avals.get(arg_slots[0])
        if aval is None or len(aval[0]) == 0:
            continue
        if new is None:
            new = list(steps)
        axes = tuple(params["axes"])
        if prim in _EXTREMES and _short_last_axis(aval[0], axes):
            # the primitive's own implementation: one ufunc call per entry of that axis
            # (``short_axis_extreme``) on a C-ordered array, which the plan does not know
            new[position] = (prim, prim.impl, {"axes": axes}, arg_slots, out_slots, frees)
            continue
        new[position] = (prim, ufunc.reduce, {"axis": axes}, arg_slots, out_slots, frees)
    return steps if new is None else new
