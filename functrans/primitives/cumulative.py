"""Cumulative sums along an axis: ``cumsum`` is linear, and its transpose is the running sum
taken in the other direction. (Running products are built from ``reduction.cumprod_last``,
a scan of multiplications, so that they stay exact when entries are zero.)"""
from __future__ import annotations

from functrans.backend import array_module
from functrans.core.primitive import Primitive
from functrans.primitives._define import deflinear, dtype_of, shape_of


# --- cumsum: running sums along `axis` (from the end when `reverse`) ---------------------------
def _cumsum_impl(x, *, axis, reverse):
    xp = array_module(x)
    if not reverse:
        return xp.cumsum(x, axis=axis)
    return xp.flip(xp.cumsum(xp.flip(x, axis), axis=axis), axis)


def _cumsum_shape(x, *, axis, reverse):
    dtype = dtype_of(x)
    # NumPy accumulates booleans and small integers in the platform integer, as sum does.
    from functrans.primitives.reduction import _sum_dtype

    return shape_of(x), _sum_dtype(dtype)


cumsum_p = Primitive("cumsum")
cumsum_p.impl = _cumsum_impl
cumsum_p.shape_rule = _cumsum_shape
deflinear(cumsum_p, lambda ct, x, *, axis, reverse: (cumsum(ct, axis, not reverse),))


def _cumsum_batch(values, dims, *, axis, reverse):
    (x,), (d,) = values, dims
    return cumsum(x, per_example_axis(axis % (x.ndim - 1), d), reverse), d


cumsum_p.batch = _cumsum_batch


def cumsum(x, axis: int, reverse: bool = False):
    return cumsum_p.bind(x, axis=axis, reverse=reverse)


from functrans.interpreters.batching import per_example_axis  # noqa: E402
