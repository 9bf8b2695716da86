"""Shape primitives: broadcasting, reshaping, transposition, joining, padding, slicing.

All are linear, so each block is the implementation, the shape rule and the transpose; the
JVP comes from ``deflinear``.
"""
from __future__ import annotations

import numpy as np

from functrans.backend import array_module, array_module_of, backend_of
from functrans.core.ir import is_linear
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import convert_to_cotangent_dtype, deflinear, dtype_of, shape_of


def _linear_primitive(name, impl, shape_rule, transpose):
    prim = Primitive(name)
    prim.impl = impl
    prim.shape_rule = shape_rule
    deflinear(prim, transpose)
    return prim


# --- broadcast_in_dim: operand dim i becomes output dim broadcast_dimensions[i] -------------
def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    xp = array_module(x)
    x_shape = shape_of(x)
    expanded = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        expanded[d] = x_shape[i]
    return xp.broadcast_to(xp.reshape(x, expanded), shape)


def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    x_shape = x.shape
    summed = tuple(
        d for d in range(len(shape))
        if d not in broadcast_dimensions
    )
    kept_ones = tuple(
        i for i, d in enumerate(broadcast_dimensions) if x_shape[i] == 1 and shape[d] != 1
    )
    ct = reduce_sum(ct, axes=summed) if summed else ct
    if kept_ones:
        ct = reduce_sum(ct, axes=kept_ones)
        ct = reshape(ct, x_shape)
    return (ct,)


broadcast_in_dim_p = _linear_primitive(
    "broadcast_in_dim",
    _broadcast_in_dim_impl,
    lambda x, *, shape, broadcast_dimensions: (shape, dtype_of(x)),
    _broadcast_in_dim_transpose,
)


def _broadcast_in_dim_batch(values, dims, *, shape, broadcast_dimensions):
    x = to_front(values[0], dims[0])
    dimensions = (0,) + tuple(d + 1 for d in broadcast_dimensions)
    return broadcast_in_dim(x, (x.shape[0],) + shape, dimensions), 0


broadcast_in_dim_p.batch = _broadcast_in_dim_batch


# --- reshape --------------------------------------------------------------------------------
def _reshape_impl(x, *, new_sizes):
    return array_module(x).reshape(x, new_sizes)


reshape_p = _linear_primitive(
    "reshape",
    _reshape_impl,
    lambda x, *, new_sizes: (new_sizes, dtype_of(x)),
    lambda ct, x, *, new_sizes: (reshape(ct, x.shape),),
)


def _reshape_batch(values, dims, *, new_sizes):
    x = to_front(values[0], dims[0])
    return reshape(x, (x.shape[0],) + new_sizes), 0


reshape_p.batch = _reshape_batch


# --- transpose --------------------------------------------------------------------------------
def _transpose_impl(x, *, permutation):
    return array_module(x).transpose(x, permutation)


def _inverse_permutation(permutation):
    return tuple(sorted(range(len(permutation)), key=permutation.__getitem__))


transpose_p = _linear_primitive(
    "transpose",
    _transpose_impl,
    lambda x, *, permutation: (tuple(x.shape[i] for i in permutation), x.dtype),
    lambda ct, x, *, permutation: (transpose(ct, _inverse_permutation(permutation)),),
)


def _transpose_batch(values, dims, *, permutation):
    (x,), (d,) = values, dims
    return transpose(x, (d,) + tuple(per_example_axis(p, d) for p in permutation)), 0


transpose_p.batch = _transpose_batch


# --- squeeze, expand_dims ---------------------------------------------------------------------
def _squeezed_shape(shape, dimensions):
    return tuple(d for i, d in enumerate(shape) if i not in dimensions)


squeeze_p = _linear_primitive(
    "squeeze",
    lambda x, *, dimensions: array_module(x).squeeze(x, axis=dimensions),
    lambda x, *, dimensions: (_squeezed_shape(x.shape, dimensions), x.dtype),
    lambda ct, x, *, dimensions: (expand_dims(ct, dimensions),),
)


def _squeeze_batch(values, dims, *, dimensions):
    (x,), (d,) = values, dims
    moved = tuple(per_example_axis(a, d) for a in dimensions)
    return squeeze(x, moved), d - sum(1 for a in moved if a < d)


squeeze_p.batch = _squeeze_batch


def _expanded_shape(shape, dimensions):
    out = list(shape)
    for d in sorted(dimensions):
        out.insert(d, 1)
    return tuple(out)


expand_dims_p = _linear_primitive(
    "expand_dims",
    lambda x, *, dimensions: array_module(x).expand_dims(x, dimensions),
    lambda x, *, dimensions: (_expanded_shape(shape_of(x), dimensions), dtype_of(x)),
    lambda ct, x, *, dimensions: (squeeze(ct, dimensions),),
)
expand_dims_p.batch = lambda values, dims, *, dimensions: (
    expand_dims(to_front(values[0], dims[0]), tuple(d + 1 for d in dimensions)), 0)


# --- concatenate --------------------------------------------------------------------------------
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
            cts.append(None)
        start += size
    return tuple(cts)


concatenate_p = _linear_primitive(
    "concatenate",
    lambda *xs, dimension: array_module_of(*xs).concatenate(xs, axis=dimension),
    _concatenate_shape,
    _concatenate_transpose,
)


def _concatenate_batch(values, dims, *, dimension):
    size = batch_size(values, dims)
    return concatenate([bdim_at_front(x, d, size) for x, d in zip(values, dims)], dimension + 1), 0


concatenate_p.batch = _concatenate_batch


# --- pad: lo/hi/interior padding with a constant (all >= 0) -------------------------------------
def _padded_size(n, lo, hi, interior):
    return lo + hi + n + max(n - 1, 0) * interior


def _pad_impl(x, *, padding_value, padding_config):
    backend = backend_of(x)
    shape = tuple(_padded_size(n, *cfg) for n, cfg in zip(x.shape, padding_config))
    out = backend.full(shape, padding_value, x.dtype, backend.device_of(x))
    index = tuple(
        slice(lo, lo + _padded_size(n, 0, 0, interior), interior + 1)
        for n, (lo, hi, interior) in zip(x.shape, padding_config)
    )
    out[index] = x
    return out


def _pad_transpose(ct, x, *, padding_value, padding_config):
    starts, limits, strides = [], [], []
    for n, (lo, hi, interior) in zip(x.shape, padding_config):
        starts.append(lo)
        limits.append(lo + _padded_size(n, 0, 0, interior))
        strides.append(interior + 1)
    return (slice_(ct, tuple(starts), tuple(limits), tuple(strides)),)


pad_p = _linear_primitive(
    "pad",
    _pad_impl,
    lambda x, *, padding_value, padding_config: (
        tuple(_padded_size(n, *cfg) for n, cfg in zip(x.shape, padding_config)), x.dtype),
    _pad_transpose,
)


def _pad_jvp(primals, tangents, *, padding_value, padding_config):
    # Linear in x only when the padding is 0: the tangent is always padded with zeros.
    (x,), (t,) = primals, tangents
    out = pad_p.bind(x, padding_value=padding_value, padding_config=padding_config)
    if t is zero:
        return out, zero
    return out, pad_p.bind(t, padding_value=0, padding_config=padding_config)


pad_p.jvp = _pad_jvp


def _pad_batch(values, dims, *, padding_value, padding_config):
    x = to_front(values[0], dims[0])
    return pad_p.bind(x, padding_value=padding_value, padding_config=((0, 0, 0),) + padding_config), 0


pad_p.batch = _pad_batch


# --- rev: reverse the order along some dimensions -------------------------------------------------
def _rev_impl(x, *, dimensions):
    return x[tuple(slice(None, None, -1) if d in dimensions else slice(None) for d in range(x.ndim))]


rev_p = _linear_primitive(
    "rev",
    _rev_impl,
    lambda x, *, dimensions: (x.shape, x.dtype),
    lambda ct, x, *, dimensions: (rev(ct, dimensions),),
)
rev_p.batch = lambda values, dims, *, dimensions: (
    rev(values[0], tuple(per_example_axis(a, dims[0]) for a in dimensions)), dims[0])


# --- slice: static start / limit / stride per dimension ---------------------------------------------
def _slice_impl(x, *, start_indices, limit_indices, strides):
    return x[tuple(slice(s, l, k) for s, l, k in zip(start_indices, limit_indices, strides))]


def _slice_sizes(start_indices, limit_indices, strides):
    return tuple(max(0, -(-(l - s) // k)) for s, l, k in zip(start_indices, limit_indices, strides))


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    config = []
    for n, s, m, k in zip(x.shape, start_indices, ct.shape, strides):
        if m == 0:
            config.append((n, 0, 0))
        else:
            config.append((s, n - s - (m + (m - 1) * (k - 1)), k - 1))
    return (pad(ct, 0, tuple(config)),)


slice_p = _linear_primitive(
    "slice",
    _slice_impl,
    lambda x, *, start_indices, limit_indices, strides: (
        _slice_sizes(start_indices, limit_indices, strides), x.dtype),
    _slice_transpose,
)


def _slice_batch(values, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = values, dims
    starts, limits, steps = list(start_indices), list(limit_indices), list(strides)
    starts.insert(d, 0)
    limits.insert(d, x.shape[d])
    steps.insert(d, 1)
    return slice_(x, starts, limits, steps), d


slice_p.batch = _slice_batch


# --- wrappers ------------------------------------------------------------------------------------------
def broadcast_in_dim(x, shape, broadcast_dimensions):
    return broadcast_in_dim_p.bind(
        x, shape=tuple(shape), broadcast_dimensions=tuple(broadcast_dimensions))


def broadcast_to(x, shape):
    """NumPy-style broadcasting of ``x`` to ``shape`` (trailing dimensions line up)."""
    shape = tuple(shape)
    x_shape = shape_of(x)
    if x_shape == shape:
        return x
    lead = len(shape) - len(x_shape)
    return broadcast_in_dim(x, shape, range(lead, len(shape)))


def reshape(x, new_sizes):
    new_sizes = tuple(new_sizes)
    if shape_of(x) == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


def transpose(x, permutation):
    permutation = tuple(permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return transpose_p.bind(x, permutation=permutation)


def squeeze(x, dimensions):
    dimensions = tuple(dimensions)
    return squeeze_p.bind(x, dimensions=dimensions) if dimensions else x


def expand_dims(x, dimensions):
    dimensions = tuple(dimensions)
    return expand_dims_p.bind(x, dimensions=dimensions) if dimensions else x


def concatenate(xs, dimension):
    xs = tuple(xs)
    if len(xs) == 1:
        return xs[0]
    return concatenate_p.bind(*xs, dimension=dimension)


def pad(x, padding_value, padding_config):
    padding_config = tuple(tuple(c) for c in padding_config)
    for lo, hi, interior in padding_config:
        if lo < 0 or hi < 0 or interior < 0:
            raise ValueError(f"pad takes non-negative padding, got {padding_config}; slice instead")
    return pad_p.bind(x, padding_value=padding_value, padding_config=padding_config)


def rev(x, dimensions):
    dimensions = tuple(dimensions)
    return rev_p.bind(x, dimensions=dimensions) if dimensions else x


def slice_(x, start_indices, limit_indices, strides=None):
    if strides is None:
        strides = (1,) * len(start_indices)
    return slice_p.bind(x, start_indices=tuple(start_indices), limit_indices=tuple(limit_indices),
                        strides=tuple(strides))


from functrans.primitives.reduction import reduce_sum  # noqa: E402  (imports this module)
from functrans.interpreters.batching import (  # noqa: E402
    batch_size, bdim_at_front, per_example_axis, to_front,
)

