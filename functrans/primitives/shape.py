"""The shape primitives: broadcasting, reshaping, transposition, squeezing, joining, padding,
reversal and slicing.

All are linear, so each block is the implementation, the shape rule, the transpose (the JVP
comes from ``deflinear``; ``pad`` writes its own, as it is linear only for a zero padding
value) and the batching rule. ``broadcast_in_dim``, ``broadcast_to``, ``reshape`` and
``transpose`` are defined in ``_define`` (the registrars and batch-rule helpers are written in
them) and re-exported here.

Example:
    >>> import numpy as np
    >>> from functrans.primitives import shape
    >>> shape.concatenate([np.zeros((1, 2)), np.ones((2, 2))], 0).shape
    (3, 2)
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from functrans._abstract import dtype_of, shape_of
from functrans.backend import array_module, array_module_of, backend_of
from functrans.core.ir import is_linear
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import (
    batch_size,
    bdim_at_front,
    convert_to_cotangent_dtype,
    deflinear,
    per_example_axis,
    to_front,
)
from functrans.primitives._define import broadcast_in_dim as broadcast_in_dim
from functrans.primitives._define import broadcast_in_dim_p as broadcast_in_dim_p
from functrans.primitives._define import broadcast_to as broadcast_to
from functrans.primitives._define import reshape as reshape
from functrans.primitives._define import reshape_p as reshape_p
from functrans.primitives._define import transpose as transpose
from functrans.primitives._define import transpose_p as transpose_p


# --- squeeze: drop dimensions of size 1 ----------------------------------------------------------
def _squeezed_shape(shape, dimensions):
    return tuple(d for i, d in enumerate(shape) if i not in dimensions)


def _squeeze_batch(values, dims, *, dimensions):
    (x,), (d,) = values, dims
    moved = tuple(per_example_axis(a, d) for a in dimensions)
    return squeeze(x, moved), d - sum(1 for a in moved if a < d)


squeeze_p = Primitive("squeeze")
squeeze_p.impl = lambda x, *, dimensions: array_module(x).squeeze(x, axis=dimensions)
squeeze_p.shape_rule = lambda x, *, dimensions: (_squeezed_shape(x.shape, dimensions), x.dtype)
deflinear(squeeze_p, lambda ct, x, *, dimensions: (expand_dims(ct, dimensions),))
squeeze_p.batch = _squeeze_batch


def squeeze(x, dimensions: Sequence[int]):
    dimensions = tuple(dimensions)
    return squeeze_p.bind(x, dimensions=dimensions) if dimensions else x


# --- expand_dims: insert dimensions of size 1 ----------------------------------------------------
def _expanded_shape(shape, dimensions):
    out = list(shape)
    for d in sorted(dimensions):
        out.insert(d, 1)
    return tuple(out)


expand_dims_p = Primitive("expand_dims")
expand_dims_p.impl = lambda x, *, dimensions: array_module(x).expand_dims(x, dimensions)
expand_dims_p.shape_rule = lambda x, *, dimensions: (_expanded_shape(shape_of(x), dimensions), dtype_of(x))
deflinear(expand_dims_p, lambda ct, x, *, dimensions: (squeeze(ct, dimensions),))
expand_dims_p.batch = lambda values, dims, *, dimensions: (
    expand_dims(to_front(values[0], dims[0]), tuple(d + 1 for d in dimensions)), 0)


def expand_dims(x, dimensions: Sequence[int]):
    dimensions = tuple(dimensions)
    return expand_dims_p.bind(x, dimensions=dimensions) if dimensions else x


# --- concatenate: join along one dimension -------------------------------------------------------
def _concatenate_shape(*xs, dimension):
    shape = list(xs[0].shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return tuple(shape), np.result_type(*(x.dtype for x in xs))


def _concatenate_transpose(ct, *xs, dimension):
    cts = []
    start = 0
    for x in xs:
        size = x.shape[dimension]
        if is_linear(x):
            starts = [0] * ct.ndim
            limits = list(ct.shape)
            starts[dimension], limits[dimension] = start, start + size
            piece = slice_(ct, tuple(starts), tuple(limits))
            # the joined array has the widest dtype; each piece goes back in its input's
            cts.append(piece if piece.dtype == x.dtype else convert_to_cotangent_dtype(piece, x.dtype))
        else:
            cts.append(zero)
        start += size
    return tuple(cts)


def _concatenate_batch(values, dims, *, dimension):
    size = batch_size(values, dims)
    moved = [bdim_at_front(x, d, size) for x, d in zip(values, dims)]
    return concatenate(moved, dimension + 1), 0


concatenate_p = Primitive("concatenate")
concatenate_p.impl = lambda *xs, dimension: array_module_of(*xs).concatenate(xs, axis=dimension)
concatenate_p.shape_rule = _concatenate_shape
deflinear(concatenate_p, _concatenate_transpose)
concatenate_p.batch = _concatenate_batch


def concatenate(xs: Sequence, dimension: int):
    xs = tuple(xs)
    if len(xs) == 1:
        return xs[0]
    return concatenate_p.bind(*xs, dimension=dimension)


# --- pad: lo/hi/interior padding with a constant (all >= 0) --------------------------------------
def _padded_size(n, lo, hi, interior):
    return lo + hi + n + max(n - 1, 0) * interior


def _pad_impl(x, *, padding_value, padding_config):
    backend = backend_of(x)
    shape = tuple(_padded_size(n, *cfg) for n, cfg in zip(x.shape, padding_config))
    out = backend.full(shape, padding_value, x.dtype, backend.device_of(x))
    index = tuple(
        slice(lo, lo + _padded_size(n, 0, 0, interior), interior + 1)
        for n, (lo, _, interior) in zip(x.shape, padding_config)
    )
    out[index] = x
    return out


def _pad_shape(x, *, padding_value, padding_config):
    return tuple(_padded_size(n, *cfg) for n, cfg in zip(x.shape, padding_config)), x.dtype


def _pad_jvp(primals, tangents, *, padding_value, padding_config):
    # Linear in x only when the padding is 0: the tangent is always padded with zeros.
    (x,), (t,) = primals, tangents
    out = pad_p.bind(x, padding_value=padding_value, padding_config=padding_config)
    if t is zero:
        return out, zero
    return out, pad_p.bind(t, padding_value=0, padding_config=padding_config)


def _pad_transpose(ct, x, *, padding_value, padding_config):
    starts, limits, strides = [], [], []
    for n, (lo, _, interior) in zip(x.shape, padding_config):
        starts.append(lo)
        limits.append(lo + _padded_size(n, 0, 0, interior))
        strides.append(interior + 1)
    return (slice_(ct, tuple(starts), tuple(limits), tuple(strides)),)


def _pad_batch(values, dims, *, padding_value, padding_config):
    x = to_front(values[0], dims[0])
    return pad_p.bind(x, padding_value=padding_value, padding_config=((0, 0, 0),) + padding_config), 0


pad_p = Primitive("pad")
pad_p.impl = _pad_impl
pad_p.shape_rule = _pad_shape
pad_p.jvp = _pad_jvp
pad_p.transpose = _pad_transpose
pad_p.batch = _pad_batch


def pad(x, padding_value, padding_config: Sequence[Sequence[int]]):
    padding_config = tuple(tuple(c) for c in padding_config)
    for lo, hi, interior in padding_config:
        if lo < 0 or hi < 0 or interior < 0:
            raise ValueError(f"pad takes non-negative padding, got {padding_config}; slice instead")
    return pad_p.bind(x, padding_value=padding_value, padding_config=padding_config)


# --- rev: reverse the order along some dimensions ------------------------------------------------
def _rev_impl(x, *, dimensions):
    return x[tuple(slice(None, None, -1) if d in dimensions else slice(None) for d in range(x.ndim))]


rev_p = Primitive("rev")
rev_p.impl = _rev_impl
rev_p.shape_rule = lambda x, *, dimensions: (x.shape, x.dtype)
deflinear(rev_p, lambda ct, x, *, dimensions: (rev(ct, dimensions),))
rev_p.batch = lambda values, dims, *, dimensions: (
    rev(values[0], tuple(per_example_axis(a, dims[0]) for a in dimensions)), dims[0])


def rev(x, dimensions: Sequence[int]):
    dimensions = tuple(dimensions)
    return rev_p.bind(x, dimensions=dimensions) if dimensions else x


# --- slice: static start / limit / stride per dimension ------------------------------------------
def _slice_impl(x, *, start_indices, limit_indices, strides):
    return x[tuple(slice(s, stop, k) for s, stop, k in zip(start_indices, limit_indices, strides))]


def _slice_sizes(start_indices, limit_indices, strides):
    return tuple(max(0, -(-(stop - s) // k))
                 for s, stop, k in zip(start_indices, limit_indices, strides))


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    config = []
    for n, s, m, k in zip(x.shape, start_indices, ct.shape, strides):
        if m == 0:
            config.append((n, 0, 0))
        else:
            config.append((s, n - s - (m + (m - 1) * (k - 1)), k - 1))
    return (pad(ct, 0, tuple(config)),)


def _slice_batch(values, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = values, dims
    starts, limits, steps = list(start_indices), list(limit_indices), list(strides)
    starts.insert(d, 0)
    limits.insert(d, x.shape[d])
    steps.insert(d, 1)
    return slice_(x, starts, limits, steps), d


slice_p = Primitive("slice")
slice_p.impl = _slice_impl
slice_p.shape_rule = lambda x, *, start_indices, limit_indices, strides: (
    _slice_sizes(start_indices, limit_indices, strides), x.dtype)
deflinear(slice_p, _slice_transpose)
slice_p.batch = _slice_batch


def slice_(x, start_indices: Sequence[int], limit_indices: Sequence[int],
           strides: Sequence[int] | None = None):
    if strides is None:
        strides = (1,) * len(start_indices)
    return slice_p.bind(x, start_indices=tuple(start_indices), limit_indices=tuple(limit_indices),
                        strides=tuple(strides))
