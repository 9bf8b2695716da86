"""Table rows of the array-manipulation routines: NumPy 2's array-API names (concat,
permute_dims, matrix_transpose, unstack), resizing, blocks, deleting and trimming."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp

from .opspec import OpSpec, unary
from .strategies import GRID, broadcast_shapes, same_shapes, shapes


@st.composite
def _axes_sig(draw):
    shape = draw(shapes(min_dims=1))
    return (shape,), {"axes": tuple(draw(st.permutations(range(len(shape)))))}


@st.composite
def _axis_sig(draw, min_dims=1):
    shape = draw(shapes(min_dims=min_dims))
    return (shape,), {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def _delete_sig(draw):
    shape = draw(shapes(min_dims=1, max_dims=2, min_side=1))
    axis = draw(st.sampled_from([None] + list(range(len(shape)))))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    obj = draw(st.one_of(st.integers(-n, n - 1), st.lists(st.integers(0, n - 1), max_size=3, unique=True),
                         st.just(slice(None, None, 2))))
    return (shape,), {"obj": obj, "axis": axis}


@st.composite
def _insert_sig(draw):
    shape = draw(shapes(min_dims=1, max_dims=2, min_side=1))
    axis = draw(st.sampled_from([None] + list(range(len(shape)))))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    obj = draw(st.one_of(st.integers(-n, n), st.lists(st.integers(0, n), min_size=1, max_size=3)))
    values = (len(obj),) if isinstance(obj, list) and axis is None else ()
    return (shape, values), {"obj": obj, "axis": axis}


def _block(a, b, c, d):
    return [[a, b], [c, d]]


FUNCTIONS: list[OpSpec] = [
    OpSpec("fnp.concat", lambda a, b: fnp.concat([a, b], axis=-1), lambda a, b: np.concat([a, b], axis=-1), 2,
           same_shapes(2, min_dims=1)),
    unary("fnp.permute_dims", fnp.permute_dims, np.permute_dims, sig=_axes_sig()),
    unary("fnp.matrix_transpose", fnp.matrix_transpose, np.matrix_transpose, sig=same_shapes(1, min_dims=2)),
    unary("fnp.unstack", fnp.unstack, np.unstack, sig=_axis_sig()),
    unary("fnp.resize", fnp.resize, np.resize, sig=st.tuples(shapes(min_side=1), shapes(max_dims=2)).map(
        lambda t: ((t[0],), {"new_shape": t[1]}))),
    unary("fnp.resize[empty]", fnp.resize, np.resize, sig=st.tuples(shapes(min_dims=1, max_side=0),
                                                                    shapes(max_dims=2)).map(
        lambda t: ((t[0],), {"new_shape": t[1]})), derivative="none"),
    OpSpec("fnp.broadcast_shapes", lambda *, shapes_: fnp.broadcast_shapes(*shapes_),
           lambda *, shapes_: np.broadcast_shapes(*shapes_), 0,
           broadcast_shapes(3).map(lambda sp: ((), {"shapes_": sp[0]})), derivative="none"),
    OpSpec("fnp.block", lambda a, b, c, d: fnp.block(_block(a, b, c, d)),
           lambda a, b, c, d: np.block(_block(a, b, c, d)), 4,
           st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2), st.integers(1, 2)).map(
               lambda t: (((t[0], t[2]), (t[0], t[3]), (t[1], t[2]), (t[1], t[3])), {}))),
    OpSpec("fnp.block[vectors]", lambda a, b: fnp.block([a, b, a]), lambda a, b: np.block([a, b, a]), 2,
           st.tuples(shapes(min_dims=1, max_dims=1), shapes(min_dims=1, max_dims=1)).map(lambda s: (s, {}))),
    unary("fnp.delete", fnp.delete, np.delete, sig=_delete_sig()),
    OpSpec("fnp.insert", lambda a, v, *, obj, axis: fnp.insert(a, obj, v, axis),
           lambda a, v, *, obj, axis: np.insert(a, obj, v, axis), 2, _insert_sig()),
    unary("fnp.trim_zeros", fnp.trim_zeros, np.trim_zeros, GRID,
          sig=shapes(min_dims=1, max_dims=1).flatmap(lambda s: st.sampled_from(["f", "b", "fb"]).map(
              lambda t: ((s,), {"trim": t}))), derivative="none"),
    OpSpec("fnp.trim_zeros[keeps derivatives]", lambda x, *, pad: fnp.trim_zeros(fnp.pad(x + 5.0, pad)),
           lambda x, *, pad: np.trim_zeros(np.pad(x + 5.0, pad)), 1,
           shapes(min_dims=1, max_dims=1).flatmap(lambda s: st.integers(0, 2).map(lambda p: ((s,), {"pad": p})))),
]

