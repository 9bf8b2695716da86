"""Table rows of the shape operations: reshaping, transposing and moving axes, squeezing and
expanding, broadcasting, flipping and rolling, tiling and repeating, padding and slicing."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import functrans.numpy as fnp
from functrans import primitives as P

from .opspec import OpSpec, binds, prim_spec, unary
from .strategies import COMPLEX, MAX_SIDE, broadcast_shapes, same_shapes, shapes, side

# =============================================================================================
# Primitives
# =============================================================================================


@st.composite
def broadcast_in_dim_sig(draw):
    x = draw(shapes())
    out_nd = len(x) + draw(st.integers(0, 2))
    dims = sorted(draw(st.lists(st.integers(0, max(out_nd - 1, 0)), unique=True,
                                min_size=len(x), max_size=len(x))))
    out = [draw(side) for _ in range(out_nd)]
    for i, d in enumerate(dims):
        out[d] = x[i] if x[i] != 1 else draw(side)  # size-1 dimensions may stretch
    return (x,), {"shape": tuple(out), "broadcast_dimensions": tuple(dims)}


@st.composite
def same_size_shape(draw, shape):
    """Another shape with as many elements as ``shape``."""
    n = math.prod(shape)
    if n == 0:
        dims = [0] + [draw(side) for _ in range(draw(st.integers(0, 2)))]
    else:
        dims, rest = [], n
        while rest > 1:
            d = draw(st.sampled_from([d for d in range(2, rest + 1) if rest % d == 0]))
            dims.append(d)
            rest //= d
        dims += [1] * draw(st.integers(0, 1))
    return tuple(draw(st.permutations(dims)))


@st.composite
def reshape_sig(draw, minus_one=False):
    x = draw(shapes())
    new = draw(same_size_shape(x))
    if minus_one and new and 0 not in new:
        i = draw(st.integers(0, len(new) - 1))
        new = new[:i] + (-1,) + new[i + 1:]
    return (x,), {"shape": new}


@st.composite
def permutation_sig(draw, negative=False):
    x = draw(shapes())
    perm = list(draw(st.permutations(range(len(x)))))
    if negative:
        perm = [p - len(x) if draw(st.booleans()) else p for p in perm]
    return (x,), {"axes": tuple(perm)}


@st.composite
def squeeze_sig(draw, prim=False):
    x = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    ones = [i for i, n in enumerate(x) if n == 1]
    picked = draw(st.lists(st.sampled_from(ones), unique=True) if ones else st.just([]))
    if prim:
        return (x,), {"dimensions": tuple(sorted(picked))}
    if draw(st.integers(0, 3)) == 0:
        return (x,), {"axis": None}
    if len(picked) == 1 and draw(st.booleans()):
        return (x,), {"axis": picked[0] - len(x) if draw(st.booleans()) else picked[0]}
    return (x,), {"axis": tuple(picked)}


@st.composite
def expand_dims_sig(draw, prim=False):
    x = draw(shapes())
    k = draw(st.integers(1, 2))
    out_nd = len(x) + k
    axes = draw(st.lists(st.integers(0, out_nd - 1), unique=True, min_size=k, max_size=k))
    if prim:
        return (x,), {"dimensions": tuple(sorted(axes))}
    axes = [a - out_nd if draw(st.booleans()) else a for a in axes]
    return (x,), {"axis": axes[0] if k == 1 and draw(st.booleans()) else tuple(axes)}


@st.composite
def pad_sig(draw):
    x = draw(shapes())
    config = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in x)
    return (x,), {"padding_value": draw(st.sampled_from([0.0, -1.5])), "padding_config": config}


@st.composite
def slice_sig(draw):
    x = draw(shapes())
    starts, limits, strides = [], [], []
    for n in x:
        s = draw(st.integers(0, n))
        starts.append(s)
        limits.append(draw(st.integers(s, n)))
        strides.append(draw(st.integers(1, 3)))
    return (x,), {"start_indices": tuple(starts), "limit_indices": tuple(limits), "strides": tuple(strides)}


@st.composite
def dims_subset_sig(draw, key="dimensions"):
    x = draw(shapes())
    return (x,), {key: tuple(sorted(draw(st.lists(st.integers(0, max(len(x) - 1, 0)), unique=True,
                                                    max_size=len(x)))))}


def _pad_ref(x, *, padding_value, padding_config):
    config = list(zip(x.shape, padding_config))
    out = np.full([lo + hi + n + max(n - 1, 0) * i for n, (lo, hi, i) in config], padding_value, x.dtype)
    out[tuple(slice(lo, lo + n + max(n - 1, 0) * i, i + 1) for n, (lo, hi, i) in config)] = x
    return out


PRIMITIVES: list[OpSpec] = [
    prim_spec("broadcast_in_dim", binds(P.broadcast_in_dim_p),
              lambda x, *, shape, broadcast_dimensions: np.broadcast_to(
                  np.expand_dims(x, tuple(d for d in range(len(shape)) if d not in broadcast_dimensions)), shape),
              1, broadcast_in_dim_sig()),
    prim_spec("reshape", lambda x, *, shape: P.reshape_p.bind(x, new_sizes=shape),
              lambda x, *, shape: np.reshape(x, shape), 1, reshape_sig()),
    prim_spec("transpose", lambda x, *, axes: P.transpose_p.bind(x, permutation=axes),
              lambda x, *, axes: np.transpose(x, axes), 1, permutation_sig()),
    prim_spec("squeeze", binds(P.squeeze_p), lambda x, *, dimensions: np.squeeze(x, dimensions), 1,
              squeeze_sig(prim=True)),
    prim_spec("expand_dims", binds(P.expand_dims_p), lambda x, *, dimensions: np.expand_dims(x, dimensions), 1,
              expand_dims_sig(prim=True)),
    prim_spec("pad", binds(P.pad_p), _pad_ref, 1, pad_sig()),
    prim_spec("rev", binds(P.rev_p), lambda x, *, dimensions: np.flip(x, dimensions), 1, dims_subset_sig()),
    prim_spec("slice", binds(P.slice_p),
              lambda x, *, start_indices, limit_indices, strides: x[tuple(
                  slice(*t) for t in zip(start_indices, limit_indices, strides))], 1, slice_sig()),
]


# =============================================================================================
# functrans.numpy
# =============================================================================================


@st.composite
def moveaxis_sig(draw):
    x = draw(shapes(min_dims=1))
    nd = len(x)
    k = draw(st.integers(1, nd))
    src = draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=k, max_size=k))
    dst = draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=k, max_size=k))
    src = [s - nd if draw(st.booleans()) else s for s in src]
    if k == 1 and draw(st.booleans()):
        return (x,), {"source": src[0], "destination": dst[0]}
    return (x,), {"source": src, "destination": dst}


@st.composite
def swapaxes_sig(draw):
    x = draw(shapes(min_dims=1))
    nd = len(x)
    return (x,), {"axis1": draw(st.integers(-nd, nd - 1)), "axis2": draw(st.integers(-nd, nd - 1))}


@st.composite
def broadcast_to_sig(draw):
    b = draw(hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3, min_side=0,
                                              max_side=MAX_SIDE))
    return (b.input_shapes[0],), {"shape": b.result_shape}


@st.composite
def rollaxis_sig(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    return (shape,), {"axis": draw(st.integers(-nd, nd - 1)), "start": draw(st.integers(-nd, nd))}


@st.composite
def tile_sig(draw):
    shape = draw(shapes())
    reps = draw(st.one_of(st.integers(0, 2), st.lists(st.integers(0, 2), max_size=4).map(tuple)))
    return (shape,), {"reps": reps}


@st.composite
def repeat_sig(draw):
    shape = draw(shapes())
    nd = len(shape)
    axis = None if nd == 0 or draw(st.booleans()) else draw(st.integers(-nd, nd - 1))
    n = math.prod(shape) if axis is None else shape[axis]
    repeats = draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    return (shape,), {"repeats": repeats, "axis": axis}


@st.composite
def roll_sig(draw):
    shape = draw(shapes())
    nd = len(shape)
    if nd == 0 or draw(st.booleans()):
        return (shape,), {"shift": draw(st.integers(-4, 4)), "axis": None}
    k = draw(st.integers(1, nd))
    axes = tuple(draw(st.lists(st.integers(-nd, nd - 1), min_size=k, max_size=k)))
    shifts = tuple(draw(st.lists(st.integers(-4, 4), min_size=k, max_size=k)))
    return (shape,), {"shift": shifts, "axis": axes}


@st.composite
def flip_sig(draw):
    shape = draw(shapes())
    nd = len(shape)
    if nd == 0 or draw(st.booleans()):
        return (shape,), {"axis": None}
    return (shape,), {"axis": tuple(draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=1)))}


@st.composite
def rot90_sig(draw):
    shape = draw(shapes(min_dims=2))
    nd = len(shape)
    a0 = draw(st.integers(0, nd - 1))
    a1 = draw(st.integers(0, nd - 1).filter(lambda a: a != a0))
    return (shape,), {"k": draw(st.integers(-2, 5)), "axes": (a0, a1)}


@st.composite
def pad_sig_np(draw):
    shape = draw(shapes(min_dims=1, min_side=1))
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    width = draw(st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)),
                           st.just(tuple((i % 3, (i + 1) % 2) for i in range(len(shape))))))
    params = {"pad_width": width, "mode": mode}
    if mode == "constant":
        params["constant_values"] = draw(st.sampled_from([0.0, 1.5]))
    return (shape,), params


FUNCTIONS: list[OpSpec] = [
    unary("fnp.reshape", fnp.reshape, np.reshape, sig=reshape_sig(minus_one=True)),
    unary("fnp.ravel", fnp.ravel, np.ravel),
    unary("fnp.transpose", fnp.transpose, np.transpose, sig=st.one_of(
        permutation_sig(negative=True), same_shapes(1).map(lambda sp: (sp[0], {"axes": None})))),
    unary("fnp.swapaxes", fnp.swapaxes, np.swapaxes, sig=swapaxes_sig()),
    unary("fnp.moveaxis", fnp.moveaxis, np.moveaxis, sig=moveaxis_sig()),
    unary("fnp.rollaxis", fnp.rollaxis, np.rollaxis, sig=rollaxis_sig()),
    unary("fnp.squeeze", fnp.squeeze, np.squeeze, sig=squeeze_sig()),
    unary("fnp.expand_dims", fnp.expand_dims, np.expand_dims, sig=expand_dims_sig()),
    unary("fnp.atleast_1d", fnp.atleast_1d, np.atleast_1d),
    unary("fnp.atleast_2d", fnp.atleast_2d, np.atleast_2d),
    unary("fnp.atleast_3d", fnp.atleast_3d, np.atleast_3d),
    unary("fnp.broadcast_to", fnp.broadcast_to, np.broadcast_to, sig=broadcast_to_sig()),
    OpSpec("fnp.broadcast_arrays", fnp.broadcast_arrays, np.broadcast_arrays, 2, broadcast_shapes(2)),
    unary("fnp.tile", fnp.tile, np.tile, sig=tile_sig()),
    unary("fnp.repeat", fnp.repeat, np.repeat, sig=repeat_sig()),
    unary("fnp.flip", fnp.flip, np.flip, sig=flip_sig()),
    unary("fnp.fliplr", fnp.fliplr, np.fliplr, sig=same_shapes(1, min_dims=2)),
    unary("fnp.flipud", fnp.flipud, np.flipud, sig=same_shapes(1, min_dims=1)),
    unary("fnp.roll", fnp.roll, np.roll, sig=roll_sig()),
    unary("fnp.roll[complex]", fnp.roll, np.roll, sig=roll_sig(), dtypes=COMPLEX),
    unary("fnp.rot90", fnp.rot90, np.rot90, sig=rot90_sig()),
    unary("fnp.pad", fnp.pad, np.pad, sig=pad_sig_np()),
    unary("fnp.pad[complex]", fnp.pad, np.pad, sig=pad_sig_np(), dtypes=COMPLEX),
]
