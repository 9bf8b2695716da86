"""Table rows of sorting, searching and counting: sort, argsort, partition, searchsorted,
unique, and the positions of nonzero entries."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp
from functrans import primitives as P

from .opspec import OpSpec, binds, prim_spec, unary
from .strategies import DISTINCT, GRID, same_shapes, shapes


@st.composite
def sort_sig(draw):
    shape = draw(shapes())
    nd = len(shape)
    axis = None if draw(st.integers(0, 3)) == 0 else (draw(st.integers(-nd, nd - 1)) if nd else None)
    return (shape,), {"axis": axis}


@st.composite
def partition_sig(draw):
    n = draw(st.integers(1, 5))
    return ((n,),), {"kth": draw(st.integers(0, n - 1))}


@st.composite
def searchsorted_sig(draw):
    return ((draw(st.integers(1, 5)),), draw(shapes(max_dims=2))), {"side": draw(st.sampled_from(["left", "right"]))}


PRIMITIVES: list[OpSpec] = [
    prim_spec("argsort", binds(P.argsort_p), lambda x, *, axis, descending: np.argsort(x, axis, kind="stable"),
              1, same_shapes(1, min_dims=1).map(lambda sp: (sp[0], {"axis": -1, "descending": False})),
              domain=GRID, derivative="zero"),
    prim_spec("searchsorted", lambda a, v, *, side: P.searchsorted_p.bind(fnp.sort(a), v, side=side),
              lambda a, v, *, side: np.searchsorted(np.sort(a), v, side=side), 2, searchsorted_sig(),
              domain=(GRID, GRID), derivative="zero"),
]

FUNCTIONS: list[OpSpec] = [
    unary("fnp.sort", fnp.sort, np.sort, DISTINCT, sig=sort_sig()),
    unary("fnp.sort[ties]", fnp.sort, np.sort, GRID, sig=sort_sig(), derivative="none"),
    unary("fnp.argsort", lambda x, axis: fnp.argsort(x, axis, kind="stable"),
          lambda x, axis: np.argsort(x, axis, kind="stable"), GRID, sig=sort_sig(), derivative="zero"),
    unary("fnp.partition", lambda x, *, kth: fnp.partition(x, kth)[kth],
          lambda x, *, kth: np.partition(x, kth)[kth], DISTINCT, sig=partition_sig()),
    unary("fnp.argpartition", lambda x, *, kth: fnp.argpartition(x, kth)[kth],
          lambda x, *, kth: np.argpartition(x, kth)[kth], DISTINCT, sig=partition_sig(), derivative="zero"),
    OpSpec("fnp.searchsorted", lambda a, v, *, side: fnp.searchsorted(fnp.sort(a), v, side=side),
           lambda a, v, *, side: np.searchsorted(np.sort(a), v, side=side), 2, searchsorted_sig(),
           domain=(GRID, GRID), derivative="zero"),
    unary("fnp.unique", lambda x: fnp.unique(x, return_index=True, return_inverse=True, return_counts=True),
          lambda x: tuple(np.unique(x, return_index=True, return_inverse=True, return_counts=True)),
          DISTINCT),
    unary("fnp.nonzero", fnp.nonzero, np.nonzero, GRID, sig=same_shapes(1, min_dims=1), derivative="none"),
    unary("fnp.flatnonzero", fnp.flatnonzero, np.flatnonzero, GRID, derivative="none"),
    unary("fnp.where[one argument]", lambda x: fnp.where(x > 0), lambda x: np.where(x > 0), GRID,
          sig=same_shapes(1, min_dims=1), derivative="none"),
]
