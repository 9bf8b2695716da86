"""Table rows of indexing: NumPy's index language (ints, slices, None, Ellipsis, integer arrays,
boolean masks) for reading and for functional updates (``fnp.at``), the gather and scatter
primitives under it, take/put along an axis, diagonal, select/choose, and ``r_``/``c_``."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import functrans.numpy as fnp
from functrans import primitives as P
from functrans.numpy._indexing import _static_index
from functrans.primitives.indexing import build_index

from .opspec import OpSpec, prim_spec, unary
from .strategies import ANY, BOOL, COMPLEX, NONZERO, shapes, trace_sig, with_params

# =============================================================================================
# Indices
# =============================================================================================


@st.composite
def index_arrays_items(draw, sizes):
    """One integer array per dimension size, all of one shape; repeats on purpose."""
    if any(n == 0 for n in sizes):
        shape = (0,)
    else:
        shape = draw(st.sampled_from([(1,), (2,), (3,), (4,), (2, 2), ()]))
    items = []
    for n in sizes:
        positions = st.integers(-n, n - 1)
        if n and draw(st.booleans()):  # from a pool of one or two positions: repeats for sure
            positions = st.sampled_from(draw(st.lists(positions, min_size=1, max_size=2)))
        values = draw(st.lists(positions, min_size=math.prod(shape), max_size=math.prod(shape))) if n else []
        items.append(np.asarray(values, dtype=np.int64).reshape(shape))
    return items


@st.composite
def basic_item(draw, n):
    kinds = ["slice", "full"] + (["int"] if n else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    if kind == "full":
        return slice(None)
    bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
    step = draw(st.sampled_from([None, 1, 2, -1, -2, 3]))
    return slice(draw(bound), draw(bound), step)


@st.composite
def numpy_index(draw, shape, arrays=True, masks=True):
    """An index for an array of ``shape`` in NumPy's language: ints, slices, None, Ellipsis,
    integer arrays (repeated entries, several arrays broadcast together, apart or adjacent)
    and boolean masks."""
    nd = len(shape)
    if masks and nd and draw(st.integers(0, 4)) == 0:
        m = draw(st.integers(1, nd))
        mask = draw(hnp.arrays(np.bool_, shape[:m]))
        rest = [draw(basic_item(n)) for n in shape[m:m + draw(st.integers(0, nd - m))]]
        return (mask, *rest)
    front = draw(st.integers(0, nd))
    use_ellipsis = draw(st.booleans())
    back = draw(st.integers(0, nd - front)) if use_ellipsis else 0
    dims = list(range(front)) + list(range(nd - back, nd))
    kinds = [draw(st.sampled_from(["basic", "basic", "array"] if arrays else ["basic"])) for _ in dims]
    array_dims = [d for d, k in zip(dims, kinds) if k == "array"]
    array_items = iter(draw(index_arrays_items([shape[d] for d in array_dims])))
    items = [next(array_items) if k == "array" else draw(basic_item(shape[d]))
             for d, k in zip(dims, kinds)]
    if use_ellipsis:
        items.insert(front, Ellipsis)
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    if len(items) == 1 and draw(st.booleans()):
        return items[0]
    return tuple(items)


def indexed_shape(shape, index):
    return np.empty(shape, np.int8)[index].shape


@st.composite
def getitem_sig(draw, arrays=True, masks=True):
    shape = draw(shapes())
    return (shape,), {"index": draw(numpy_index(shape, arrays, masks))}


@st.composite
def update_sig(draw, scalar=False):
    """x's shape, an index, and a values shape that broadcasts to x[index]."""
    shape = draw(shapes())
    index = draw(numpy_index(shape))
    target = list(indexed_shape(shape, index))
    drop = draw(st.integers(0, len(target)))
    values = [1 if draw(st.integers(0, 3)) == 0 else n for n in target[drop:]]
    if scalar:
        return (shape,), {"index": index, "value": draw(st.sampled_from([0.5, -2.0, 3.0]))}
    return (shape, tuple(values)), {"index": index}


def as_primitive_index(shape, index):
    static, arrays = _static_index(len(shape), index)
    return {"index": static, "arrays": tuple(arrays)}


# =============================================================================================
# Primitives
# =============================================================================================


def _gather_ref(x, *, index, arrays):
    return x[build_index(index, list(arrays))]


def _scatter_ref(kind):
    def ref(x, u, *, index, arrays):
        y = x.copy()
        i = build_index(index, list(arrays))
        if kind == "add":
            np.add.at(y, i, np.broadcast_to(u, y[i].shape))  # see _at_ref
        else:
            y[i] = u
        return y
    return ref


@st.composite
def gather_sig(draw):
    (shape,), p = draw(getitem_sig())
    return (shape,), as_primitive_index(shape, p["index"])


@st.composite
def scatter_sig(draw):
    (x, u), p = draw(update_sig())
    return (x, u), as_primitive_index(x, p["index"])


def _scatter_ufunc_ref(x, u, *, positions, ufunc):
    y = x.copy()
    getattr(np, ufunc).at(y, positions, u)
    return y


@st.composite
def scatter_ufunc_sig(draw):
    """A flat x, and updates at positions drawn from a pool small enough to repeat."""
    n = draw(st.integers(1, 4))
    k = draw(st.integers(0, 5))
    pool = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2))
    positions = np.asarray(draw(st.lists(st.sampled_from(pool), min_size=k, max_size=k)), np.intp)
    return ((n,), (k,)), {"positions": positions}


def _scatter_ufunc_rows():
    rows = []
    for ufunc in ("multiply", "divide", "minimum", "maximum"):
        rows.append(prim_spec(
            f"scatter_ufunc[{ufunc}]",
            lambda x, u, *, positions, ufunc: P.scatter_ufunc_p.bind(x, u, positions, ufunc=ufunc),
            _scatter_ufunc_ref, 2, with_params(scatter_ufunc_sig(), {"ufunc": ufunc}),
            domain=(ANY, NONZERO if ufunc == "divide" else ANY)))
    return rows


PRIMITIVES: list[OpSpec] = [
    *_scatter_ufunc_rows(),
    prim_spec("gather", lambda x, *, index, arrays: P.gather_p.bind(x, *arrays, index=index), _gather_ref,
              1, gather_sig()),
    prim_spec("scatter_add", lambda x, u, *, index, arrays: P.scatter_add_p.bind(x, u, *arrays, index=index),
              _scatter_ref("add"), 2, scatter_sig()),
    prim_spec("scatter", lambda x, u, *, index, arrays: P.scatter_p.bind(x, u, *arrays, index=index),
              _scatter_ref("set"), 2, scatter_sig()),
]


# =============================================================================================
# functrans.numpy
# =============================================================================================


def _at_fn(x, v=None, *, index, method, value=None):
    return getattr(fnp.at(x)[index], method)(value if v is None else v)


def _at_ref(x, v=None, *, index, method, value=None):
    v = value if v is None else v
    y = x.copy()
    if method == "set":
        y[index] = v
        return y
    # every update applies, at repeated positions too. ufunc.at applies wrong values when v
    # broadcasts over the leading dimensions of a multi-dimensional index array (NumPy 2.4),
    # so v is broadcast here first
    ufunc = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
             "min": np.minimum, "max": np.maximum}[method]
    ufunc.at(y, index, np.broadcast_to(v, y[index].shape))
    return y


def _at_specs():
    specs = [unary("fnp.at[get]", lambda x, *, index: fnp.at(x)[index].get(), lambda x, *, index: x[index],
                   sig=getitem_sig())]
    for method in ("set", "add", "subtract", "multiply", "divide", "min", "max"):
        values = NONZERO if method == "divide" else ANY
        specs.append(OpSpec(f"fnp.at[{method}]", _at_fn, _at_ref, 2,
                            with_params(update_sig(), {"method": method}), domain=(ANY, values)))
        specs.append(OpSpec(f"fnp.at[{method}, scalar]", _at_fn, _at_ref, 1,
                            with_params(update_sig(scalar=True), {"method": method})))
    return specs


@st.composite
def take_sig(draw):
    shape = draw(shapes(min_dims=1, min_side=1))
    nd = len(shape)
    axis = None if draw(st.booleans()) else draw(st.integers(-nd, nd - 1))
    n = math.prod(shape) if axis is None else shape[axis]
    k = draw(st.integers(0, 4))
    indices = np.asarray(draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k)), dtype=np.intp)
    return (shape,), {"indices": indices, "axis": axis}


@st.composite
def take_along_sig(draw):
    shape = draw(shapes(min_dims=1, min_side=1))
    nd = len(shape)
    axis = draw(st.integers(-nd, nd - 1))
    idx_shape = list(shape)
    idx_shape[axis] = draw(st.integers(0, 4))
    idx_shape = [1 if d != axis % nd and draw(st.integers(0, 3)) == 0 else s for d, s in enumerate(idx_shape)]
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    indices = rng.integers(-shape[axis], shape[axis], idx_shape)
    return (shape,), {"indices": indices, "axis": axis}


@st.composite
def put_along_sig(draw):
    (shape,), p = draw(take_along_sig())
    return (shape, p["indices"].shape), p


def _put_along_ref(x, v, *, indices, axis):
    y = x.copy()
    np.put_along_axis(y, indices, v, axis)
    return y


@st.composite
def select_sig(draw):
    b = draw(hnp.mutually_broadcastable_shapes(num_shapes=5, min_dims=0, max_dims=2, max_side=3))
    return b.input_shapes, {}


def _select_fn(lib):
    return lambda c1, c2, x1, x2, d: lib.select([c1, c2], [x1, x2], default=d)


@st.composite
def choose_sig(draw):
    b = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=2, max_side=3))
    rng = np.random.default_rng(draw(st.integers(0, 100)))
    return b.input_shapes[1:], {"a": rng.integers(0, 2, b.input_shapes[0])}


FUNCTIONS: list[OpSpec] = [
    unary("fnp.getitem", fnp.getitem, lambda x, index: x[index], sig=getitem_sig()),
    unary("fnp.getitem[x[index]]", lambda x, *, index: x[index], lambda x, *, index: x[index], sig=getitem_sig()),
    *_at_specs(),
    unary("fnp.take", fnp.take, np.take, sig=take_sig()),
    unary("fnp.take_along_axis", fnp.take_along_axis, np.take_along_axis, sig=take_along_sig()),
    unary("fnp.take_along_axis[complex]", fnp.take_along_axis, np.take_along_axis, sig=take_along_sig(),
          dtypes=COMPLEX),
    OpSpec("fnp.put_along_axis", lambda x, v, *, indices, axis: fnp.put_along_axis(x, indices, v, axis),
           _put_along_ref, 2, put_along_sig()),
    unary("fnp.diagonal", fnp.diagonal, np.diagonal, sig=trace_sig()),
    OpSpec("fnp.select", _select_fn(fnp), _select_fn(np), 5, select_sig(),
           domain=(BOOL, BOOL, ANY, ANY, ANY)),
    OpSpec("fnp.choose", lambda x, y, *, a: fnp.choose(a, [x, y]), lambda x, y, *, a: np.choose(a, [x, y]),
           2, choose_sig()),
]

# The index tricks are objects, not functions: tests/numpy/test_edge_cases.py runs their rows.
INDEX_TRICK_SPECS: list[OpSpec] = [
    OpSpec("fnp.r_", lambda x, y: fnp.r_[x, 0:2, y], lambda x, y: np.r_[x, 0:2, y], 2,
           st.tuples(shapes(min_dims=1, max_dims=1), shapes(max_dims=1)).map(lambda s: (s, {}))),
    OpSpec("fnp.c_", lambda x, y: fnp.c_[x, y], lambda x, y: np.c_[x, y], 2,
           shapes(min_dims=1, max_dims=1).map(lambda s: ((s, s), {}))),
]
