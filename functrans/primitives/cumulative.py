"""Running sums and products along an axis.

``cumsum`` is a linear primitive; its transpose is the running sum taken in the other
direction. Running products are not a primitive: ``cumprod_last`` builds them from ``mul``,
``slice`` and ``pad``, so they are differentiable to any order and exact when entries are zero
(no division).

Example:
    >>> import numpy as np
    >>> from functrans.primitives.cumulative import cumprod_last, cumsum
    >>> cumsum(np.array([1, 2, 3]), 0), cumprod_last(np.array([1.0, 2.0, 3.0]))
    (array([1, 3, 6]), array([1., 2., 6.]))
"""
from __future__ import annotations

from functrans._abstract import dtype_of, shape_of
from functrans.backend import array_module
from functrans.core.primitive import Primitive
from functrans.primitives._define import deflinear, per_example_axis, sum_dtype
from functrans.primitives.elementwise import mul
from functrans.primitives.shape import pad, slice_


# --- cumsum: running sums along `axis` (from the end when `reverse`) -----------------------------
def _cumsum_impl(x, *, axis, reverse):
    xp = array_module(x)
    if not reverse:
        return xp.cumsum(x, axis=axis)
    return xp.flip(xp.cumsum(xp.flip(x, axis), axis=axis), axis)


def _cumsum_batch(values, dims, *, axis, reverse):
    (x,), (d,) = values, dims
    return cumsum(x, per_example_axis(axis % (x.ndim - 1), d), reverse), d


cumsum_p = Primitive("cumsum")
cumsum_p.impl = _cumsum_impl
# NumPy accumulates booleans and small integers in the platform integer, as sum does.
cumsum_p.shape_rule = lambda x, *, axis, reverse: (shape_of(x), sum_dtype(dtype_of(x)))
deflinear(cumsum_p, lambda ct, x, *, axis, reverse: (cumsum(ct, axis, not reverse),))
cumsum_p.batch = _cumsum_batch


def cumsum(x, axis: int, reverse: bool = False):
    return cumsum_p.bind(x, axis=axis, reverse=reverse)


# --- running products along the last axis --------------------------------------------------------
def cumprod_last(y, exclusive: bool = False):
    """Running products along the last axis, by log2(n) rounds of shifted multiplications
    (``exclusive``: each entry the product of the ones before it)."""
    n = y.shape[-1]
    nd = y.ndim

    def shifted(v, k):  # v moved k places along the last axis, the gap filled with ones
        starts, limits = (0,) * nd, v.shape[:-1] + (n - k,)
        config = ((0, 0, 0),) * (nd - 1) + ((k, 0, 0),)
        return pad(slice_(v, starts, limits), 1, config)

    if exclusive and n:
        y = shifted(y, 1)
    k = 1
    while k < n:
        y = mul(y, shifted(y, k))
        k *= 2
    return y
