"""Reductions over static axes: sum, max, min, prod, and argmax/argmin (no derivative)."""
from __future__ import annotations

import numpy as np

from functrans.backend import array_module
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import defzero


def _reduced_shape(shape, axes):
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _kept_dims(ndim, axes):
    return tuple(i for i in range(ndim) if i not in axes)


def _reduction(name, impl, dtype_rule=lambda dtype: dtype):
    prim = Primitive(name)
    prim.impl = impl
    prim.shape_rule = lambda x, *, axes: (_reduced_shape(x.shape, axes), dtype_rule(x.dtype))
    return prim


def _reduction_batch(prim):
    """Reduce the same axes of every example: the batch axis is never among them."""
    def batch(values, dims, *, axes):
        (x,), (d,) = values, dims
        moved = tuple(per_example_axis(a, d) for a in axes)
        return prim.bind(x, axes=moved), d - sum(1 for a in moved if a < d)

    return batch


def _expand_back(y, x_shape, axes):
    """Broadcast a reduced result back to the operand's shape."""
    return broadcast_in_dim(y, x_shape, _kept_dims(len(x_shape), axes))


# --- reduce_sum (linear) -------------------------------------------------------------------------
def _sum_dtype(dtype):
    # NumPy sums booleans and small integers in the platform integer.
    if dtype.kind in "biu" and dtype.itemsize < np.dtype(np.int_).itemsize:
        return np.dtype(np.int_) if dtype.kind != "u" else np.dtype(np.uint)
    return dtype


def _reduce_sum_impl(x, *, axes):
    return array_module(x).sum(x, axis=axes)


reduce_sum_p = _reduction("reduce_sum", _reduce_sum_impl, _sum_dtype)


def _reduce_sum_jvp(primals, tangents, *, axes):
    (x,), (t,) = primals, tangents
    out = reduce_sum_p.bind(x, axes=axes)
    return out, (zero if t is zero else reduce_sum_p.bind(t, axes=axes))


reduce_sum_p.jvp = _reduce_sum_jvp
reduce_sum_p.transpose = lambda ct, x, *, axes: (_expand_back(ct, x.shape, axes),)
reduce_sum_p.batch = _reduction_batch(reduce_sum_p)


# --- reduce_max, reduce_min: the derivative is shared evenly among tied extrema --------------------
def _chooser_jvp(prim):
    def jvp(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, axes=axes)
        if t is zero:
            return out, zero
        location = convert_element_type(eq(x, _expand_back(out, x.shape, axes)), new_dtype=x.dtype)
        counts = reduce_sum_p.bind(location, axes=axes)
        return out, div(reduce_sum_p.bind(mul(t, location), axes=axes), counts)

    return jvp


reduce_max_p = _reduction("reduce_max", lambda x, *, axes: array_module(x).max(x, axis=axes))
reduce_max_p.jvp = _chooser_jvp(reduce_max_p)
reduce_max_p.batch = _reduction_batch(reduce_max_p)

reduce_min_p = _reduction("reduce_min", lambda x, *, axes: array_module(x).min(x, axis=axes))
reduce_min_p.jvp = _chooser_jvp(reduce_min_p)
reduce_min_p.batch = _reduction_batch(reduce_min_p)


# --- reduce_prod: the derivative uses products of all *other* entries, so zeros are exact -------------
reduce_prod_p = _reduction(
    "reduce_prod", lambda x, *, axes: array_module(x).prod(x, axis=axes), _sum_dtype)


def _reduce_prod_jvp(primals, tangents, *, axes):
    (x,), (t,) = primals, tangents
    out = reduce_prod_p.bind(x, axes=axes)
    if t is zero:
        return out, zero
    kept = _kept_dims(x.ndim, axes)
    moved = transpose(x, kept + tuple(axes))
    reduced_size = 1
    for a in axes:
        reduced_size *= x.shape[a]
    rows = reshape(moved, moved.shape[: len(kept)] + (reduced_size,))
    others = mul(cumprod_last(rows, exclusive=True),
                 rev(cumprod_last(rev(rows, (rows.ndim - 1,)), exclusive=True), (rows.ndim - 1,)))
    t_rows = reshape(transpose(t, kept + tuple(axes)), rows.shape)
    return out, reduce_sum_p.bind(mul(t_rows, others), axes=(rows.ndim - 1,))


reduce_prod_p.jvp = _reduce_prod_jvp
reduce_prod_p.batch = _reduction_batch(reduce_prod_p)


def cumprod_last(y, exclusive=False):
    """Running products along the last axis, by log2(n) rounds of shifted multiplications.

    Built from mul, slice and pad only, so it is differentiable to any order and exact when
    entries are zero (no division).
    """
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


# --- argmax, argmin ------------------------------------------------------------------------------------
def _arg_reduction(name, method):
    prim = Primitive(name)
    prim.impl = lambda x, *, axis, index_dtype: getattr(array_module(x), method)(x, axis=axis).astype(
        index_dtype, copy=False)
    prim.shape_rule = lambda x, *, axis, index_dtype: (_reduced_shape(x.shape, (axis,)), index_dtype)
    defzero(prim)

    def batch(values, dims, *, axis, index_dtype):
        (x,), (d,) = values, dims
        moved = per_example_axis(axis, d)
        return prim.bind(x, axis=moved, index_dtype=index_dtype), d - (moved < d)

    prim.batch = batch
    return prim


argmax_p = _arg_reduction("argmax", "argmax")
argmin_p = _arg_reduction("argmin", "argmin")


# --- wrappers -----------------------------------------------------------------------------------------------
def reduce_sum(x, axes):
    return reduce_sum_p.bind(x, axes=tuple(axes))


def reduce_max(x, axes):
    return reduce_max_p.bind(x, axes=tuple(axes))


def reduce_min(x, axes):
    return reduce_min_p.bind(x, axes=tuple(axes))


def reduce_prod(x, axes):
    return reduce_prod_p.bind(x, axes=tuple(axes))


def argmax(x, axis, index_dtype=np.int64):
    return argmax_p.bind(x, axis=axis, index_dtype=np.dtype(index_dtype))


def argmin(x, axis, index_dtype=np.int64):
    return argmin_p.bind(x, axis=axis, index_dtype=np.dtype(index_dtype))


from functrans.primitives.conversion import convert_element_type  # noqa: E402
from functrans.primitives.elementwise import div, eq, mul  # noqa: E402
from functrans.primitives.shape import (  # noqa: E402
    broadcast_in_dim, pad, reshape, rev, slice_, transpose,
)
from functrans.interpreters.batching import per_example_axis  # noqa: E402
