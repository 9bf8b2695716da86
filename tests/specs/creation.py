"""Table rows of array creation: from shapes (zeros, ones, full, eye, ranges), from other
arrays (the ``*_like`` functions, array, asarray), grids, and matrices built from a vector or
from a triangle (diag, tri, tril, triu)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp
from functrans import primitives as P

from .opspec import OpSpec, binds, prim_spec, unary
from .strategies import ANY, F32, F64, POSITIVE, broadcast_shapes, no_args, same_shapes, shapes, with_params


def _lower_triangle(xp, n, m):
    """A constant for constant_like's row: made by the backend's namespace on x's device."""
    return xp.tri(n, m, dtype=np.float64)


PRIMITIVES: list[OpSpec] = [
    prim_spec("full_like", binds(P.full_like_p),
              lambda x, *, fill_value, shape, dtype: np.full(shape, fill_value, dtype), 1,
              shapes().flatmap(lambda s: shapes().map(lambda s2: (
                  (s,), {"fill_value": 1.5, "shape": s2, "dtype": np.dtype(F32)})))),
    prim_spec("constant_like", binds(P.constant_like_p), lambda x, *, maker, args: maker(np, *args), 1,
              same_shapes(1).map(lambda sp: (sp[0], {"maker": _lower_triangle, "args": (3, 2)})),
              derivative="zero"),
]


@st.composite
def matrix_k_sig(draw, batch=True):
    shape = draw(shapes(min_dims=2, max_dims=3 if batch else 2))
    return (shape,), {"k": draw(st.integers(-2, 2))}


@st.composite
def vector_k_sig(draw):
    return (draw(shapes(min_dims=1, max_dims=1)),), {"k": draw(st.integers(-2, 2))}


@st.composite
def linspace_sig(draw):
    """Endpoints of broadcasting shapes, a sample count, the endpoint flag, an axis of the
    result, and ``retstep`` where there is a step (no NaN step to differentiate)."""
    a, b = draw(broadcast_shapes(2, max_dims=2))[0]
    num, endpoint = draw(st.integers(0, 5)), draw(st.booleans())
    nd = len(np.broadcast_shapes(a, b)) + 1
    retstep = draw(st.booleans()) if num - endpoint > 0 else False
    return (a, b), {"num": num, "endpoint": endpoint, "axis": draw(st.integers(-nd, nd - 1)), "retstep": retstep}


def _logspace_sig():
    """linspace's draws without retstep, and a base."""
    return st.tuples(linspace_sig(), st.sampled_from([2.0, 10.0, 0.5])).map(
        lambda t: (t[0][0], {**{k: v for k, v in t[0][1].items() if k != "retstep"}, "base": t[1]}))


def _from_shape_specs():
    dtype = st.sampled_from([None, F32, F64, np.int64])
    small = st.integers(0, 3)
    return [
        OpSpec("fnp.zeros", fnp.zeros, np.zeros, 0, no_args(st.fixed_dictionaries(
            {"shape": shapes(), "dtype": st.sampled_from([F32, F64, np.int64])})), derivative="none"),
        OpSpec("fnp.ones", fnp.ones, np.ones, 0, no_args(st.fixed_dictionaries(
            {"shape": shapes(), "dtype": st.sampled_from([F32, F64, np.int64])})), derivative="none"),
        # fnp.empty is documented to give zeros (nothing is left uninitialised)
        OpSpec("fnp.empty", fnp.empty, np.zeros, 0, no_args(st.fixed_dictionaries(
            {"shape": shapes(), "dtype": st.sampled_from([F32, F64])})), derivative="none"),
        OpSpec("fnp.full", fnp.full, np.full, 0, no_args(st.fixed_dictionaries(
            {"shape": shapes(), "fill_value": st.sampled_from([0.5, 2, -1.0]), "dtype": dtype})),
            derivative="none"),
        unary("fnp.full[traced value]", lambda x, *, shape: fnp.full(shape, x),
              lambda x, *, shape: np.full(shape, x),
              sig=shapes().map(lambda s: (((),), {"shape": s}))),
        OpSpec("fnp.arange", lambda *, args, dtype: fnp.arange(*args, dtype=dtype),
               lambda *, args, dtype: np.arange(*args, dtype=dtype), 0, no_args(st.fixed_dictionaries({
                   "args": st.one_of(st.tuples(small), st.tuples(st.sampled_from([-1.5, 0, 2]),
                                                                 st.sampled_from([3, 4.5]),
                                                                 st.sampled_from([0.5, 1, 2]))),
                   "dtype": st.sampled_from([None, F32, F64])})), derivative="none"),
        OpSpec("fnp.linspace", fnp.linspace, np.linspace, 0, no_args(st.fixed_dictionaries(
            {"start": st.sampled_from([0.0, -1.0]), "stop": st.sampled_from([1.0, 5.0]), "num": st.integers(0, 5),
             "endpoint": st.booleans(), "dtype": st.sampled_from([None, F32, F64])})), derivative="none"),
        OpSpec("fnp.linspace[arrays]", fnp.linspace, np.linspace, 2, linspace_sig()),
        OpSpec("fnp.logspace[arrays]", fnp.logspace, np.logspace, 2, _logspace_sig()),
        OpSpec("fnp.logspace[array base]", lambda start, base, **p: fnp.logspace(start, 1.5, base=base, **p),
               lambda start, base, **p: np.logspace(start, 1.5, base=base, **p), 2,
               linspace_sig().map(lambda sp: (sp[0], {"num": sp[1]["num"], "endpoint": sp[1]["endpoint"]})),
               domain=(ANY, POSITIVE)),
        OpSpec("fnp.logspace", fnp.logspace, np.logspace, 0, st.integers(0, 4).map(
            lambda n: ((), {"start": 0.0, "stop": 2.0, "num": n})), derivative="none"),
        OpSpec("fnp.eye", fnp.eye, np.eye, 0, no_args(st.fixed_dictionaries(
            {"N": small, "M": st.one_of(st.none(), small), "k": st.integers(-2, 2),
             "dtype": st.sampled_from([F32, F64, np.int64])})), derivative="none"),
        OpSpec("fnp.identity", fnp.identity, np.identity, 0, st.integers(0, 3).map(lambda n: ((), {"n": n})),
               derivative="none"),
        OpSpec("fnp.tri", fnp.tri, np.tri, 0, st.integers(0, 3).map(lambda n: ((), {"N": n, "k": 1})),
               derivative="none"),
    ]


def _from_array_specs():
    dtype = st.sampled_from([None, F32, F64, np.int64])
    return [
        *(unary(f"fnp.{n}", getattr(fnp, n), getattr(np, n),
                sig=same_shapes(1).flatmap(lambda sp: st.fixed_dictionaries(
                    {"dtype": dtype, "shape": st.one_of(st.none(), shapes())}).map(lambda p: (sp[0], p))))
          for n in ("zeros_like", "ones_like")),
        unary("fnp.full_like", fnp.full_like, np.full_like,
              sig=same_shapes(1).flatmap(lambda sp: st.fixed_dictionaries(
                  {"fill_value": st.sampled_from([0.5, 3]), "dtype": dtype}).map(lambda p: (sp[0], p)))),
        unary("fnp.empty_like", fnp.empty_like, np.zeros_like, derivative="zero"),
        OpSpec("fnp.array", lambda x, y: fnp.array([x, y]), lambda x, y: np.array([x, y]), 2, same_shapes(2)),
        unary("fnp.array[dtype]", lambda x, *, dtype: fnp.array(x, dtype=dtype),
              lambda x, *, dtype: np.array(x, dtype=dtype),
              sig=with_params(same_shapes(1), {"dtype": F64})),
        unary("fnp.copy", fnp.copy, np.copy),
        unary("fnp.asarray", fnp.asarray, np.asarray,
              sig=same_shapes(1).flatmap(lambda sp: st.sampled_from([None, F32, F64]).map(
                  lambda d: (sp[0], {"dtype": d})))),
        OpSpec("fnp.meshgrid", lambda x, y, *, indexing: fnp.meshgrid(x, y, indexing=indexing),
               lambda x, y, *, indexing: np.meshgrid(x, y, indexing=indexing), 2,
               st.tuples(shapes(min_dims=1, max_dims=1), shapes(min_dims=1, max_dims=1),
                         st.sampled_from(["xy", "ij"])).map(lambda t: ((t[0], t[1]), {"indexing": t[2]}))),
        unary("fnp.diag", fnp.diag, np.diag, sig=vector_k_sig()),
        unary("fnp.diag[matrix]", fnp.diag, np.diag, sig=matrix_k_sig(batch=False)),
        unary("fnp.diagflat", fnp.diagflat, np.diagflat, sig=matrix_k_sig(batch=False)),
        unary("fnp.tril", fnp.tril, np.tril, sig=matrix_k_sig()),
        unary("fnp.triu", fnp.triu, np.triu, sig=matrix_k_sig()),
    ]


FUNCTIONS: list[OpSpec] = [*_from_shape_specs(), *_from_array_specs()]


def _chkfinite_ref(x):
    return np.asarray_chkfinite(x)


#: NumPy's remaining ways to make an array: from arrays under other layouts, from a function
#: of the coordinates, from an iterable, and geometric progressions.
MORE_FUNCTIONS: list[OpSpec] = [
    *(unary(f"fnp.{n}", getattr(fnp, n), getattr(np, n))
      for n in ("asanyarray", "ascontiguousarray", "asfortranarray", "asarray_chkfinite")),
    OpSpec("fnp.fromfunction", lambda *, shape: fnp.fromfunction(lambda i, j: i + 10 * j, shape),
           lambda *, shape: np.fromfunction(lambda i, j: i + 10 * j, shape), 0,
           no_args(st.fixed_dictionaries({"shape": shapes(min_dims=2, max_dims=2)})), derivative="none"),
    unary("fnp.fromiter", lambda x: fnp.fromiter((x[i] * x[i] for i in range(x.shape[0])), float),
          lambda x: np.fromiter((x[i] * x[i] for i in range(x.shape[0])), float),
          sig=same_shapes(1, min_dims=1, max_dims=1, min_side=1)),
    OpSpec("fnp.geomspace", fnp.geomspace, np.geomspace, 0, no_args(st.fixed_dictionaries(
        {"start": st.sampled_from([1.0, -2.0, 0.5]), "stop": st.sampled_from([8.0, -1.0, 100.0]),
         "num": st.integers(0, 5), "endpoint": st.booleans()}).filter(lambda p: p["start"] * p["stop"] > 0)),
        derivative="none"),
    OpSpec("fnp.geomspace[traced]", fnp.geomspace, np.geomspace, 2,
           st.fixed_dictionaries({"num": st.integers(0, 5), "endpoint": st.booleans()}).map(
               lambda p: (((), ()), p)), domain=(POSITIVE, POSITIVE)),
]
