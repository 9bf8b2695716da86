"""Table rows of the index tricks: index arrays of shapes and triangles, flat and
multi-dimensional indices, open meshes, selections by condition and the functional forms of
NumPy's in-place writers (fill_diagonal, put, place with inplace=False)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp

from .opspec import OpSpec, unary
from .strategies import GRID, no_args, shapes

_N = st.integers(0, 4)


def _in_place(np_fn):
    """NumPy's in-place writer as a function that returns the written copy."""
    def run(a, *args, **kw):
        out = np.array(a, copy=True)
        np_fn(out, *args, **kw)
        return out
    return run


@st.composite
def _multi_index_sig(draw):
    dims = draw(shapes(min_dims=1, max_dims=3, min_side=1))
    n = draw(st.integers(0, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    index = tuple(rng.integers(0, d, n) for d in dims)
    return (), {"multi_index": index, "dims": dims, "order": draw(st.sampled_from(["C", "F"]))}


@st.composite
def _flat_index_sig(draw):
    dims = draw(shapes(min_dims=1, max_dims=3, min_side=1))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return (), {"indices": rng.integers(0, int(np.prod(dims)), draw(st.integers(0, 4))), "shape": dims,
                "order": draw(st.sampled_from(["C", "F"]))}


def _square_sig(draw_dims=(2, 3)):
    return st.tuples(st.integers(1, 3), st.sampled_from(draw_dims)).map(lambda t: (((t[0],) * t[1],), {}))


FUNCTIONS: list[OpSpec] = [
    OpSpec("fnp.indices", fnp.indices, np.indices, 0, no_args(st.fixed_dictionaries(
        {"dimensions": shapes(max_dims=3), "sparse": st.booleans()})), derivative="none"),
    OpSpec("fnp.diag_indices", fnp.diag_indices, np.diag_indices, 0,
           no_args(st.fixed_dictionaries({"n": _N, "ndim": st.integers(1, 3)})), derivative="none"),
    unary("fnp.diag_indices_from", fnp.diag_indices_from, np.diag_indices_from, sig=_square_sig(),
          derivative="none"),
    *(OpSpec(f"fnp.{n}", getattr(fnp, n), getattr(np, n), 0, no_args(st.fixed_dictionaries(
        {"n": _N, "k": st.integers(-2, 2), "m": st.one_of(st.none(), _N)})), derivative="none")
      for n in ("tril_indices", "triu_indices")),
    *(unary(f"fnp.{n}", getattr(fnp, n), getattr(np, n),
            sig=shapes(min_dims=2, max_dims=2).flatmap(lambda s: st.integers(-2, 2).map(
                lambda k: ((s,), {"k": k}))), derivative="none")
      for n in ("tril_indices_from", "triu_indices_from")),
    OpSpec("fnp.mask_indices", fnp.mask_indices, np.mask_indices, 0, no_args(st.fixed_dictionaries(
        {"n": _N, "mask_func": st.sampled_from([np.triu, np.tril]), "k": st.integers(-1, 1)})), derivative="none"),
    OpSpec("fnp.ix_", lambda a, b: fnp.ix_(fnp.astype(a, np.int64), fnp.astype(b, np.int64)),
           lambda a, b: np.ix_(a.astype(np.int64), b.astype(np.int64)), 2,
           st.tuples(shapes(min_dims=1, max_dims=1), shapes(min_dims=1, max_dims=1)).map(lambda s: (s, {})),
           domain=(GRID, GRID), derivative="zero"),
    OpSpec("fnp.ravel_multi_index", fnp.ravel_multi_index, np.ravel_multi_index, 0, _multi_index_sig(),
           derivative="none"),
    OpSpec("fnp.unravel_index", fnp.unravel_index, np.unravel_index, 0, _flat_index_sig(), derivative="none"),
    unary("fnp.argwhere", fnp.argwhere, np.argwhere, GRID, derivative="none"),
    unary("fnp.compress", lambda a, *, axis: fnp.compress(np.arange(a.shape[0 if axis == 0 else -1]) % 2 == 0, a,
                                                          axis=axis) if axis is not None else
          fnp.compress(np.arange(a.size) % 2 == 0, a),
          lambda a, *, axis: np.compress(np.arange(a.shape[0 if axis == 0 else -1]) % 2 == 0, a, axis=axis)
          if axis is not None else np.compress(np.arange(a.size) % 2 == 0, a),
          sig=shapes(min_dims=1, max_dims=2).flatmap(lambda s: st.sampled_from([None, 0]).map(
              lambda ax: ((s,), {"axis": ax})))),
    unary("fnp.extract", lambda a: fnp.extract(np.arange(a.size).reshape(a.shape) % 3 != 1, a),
          lambda a: np.extract(np.arange(a.size).reshape(a.shape) % 3 != 1, a)),
    OpSpec("fnp.fill_diagonal", lambda a, v, *, wrap: fnp.fill_diagonal(a, v, wrap, inplace=False),
           lambda a, v, *, wrap: _in_place(np.fill_diagonal)(a, v, wrap), 2,
           st.tuples(shapes(min_dims=2, max_dims=2, min_side=1), shapes(max_dims=1, min_side=1), st.booleans()).map(
               lambda t: ((t[0], t[1]), {"wrap": t[2]}))),
    OpSpec("fnp.put", lambda a, v, *, ind: fnp.put(a, ind, v, inplace=False),
           lambda a, v, *, ind: _in_place(np.put)(a, ind, v), 2,
           st.tuples(shapes(min_dims=1, max_dims=2, min_side=2), shapes(max_dims=1, min_side=1)).map(
               lambda t: ((t[0], t[1]), {"ind": [0, -1]}))),
    OpSpec("fnp.place", lambda a, v: fnp.place(a, np.arange(a.size).reshape(a.shape) % 2 == 1, v, inplace=False),
           lambda a, v: _in_place(np.place)(a, np.arange(a.size).reshape(a.shape) % 2 == 1, v), 2,
           st.tuples(shapes(min_dims=1, max_dims=2), shapes(min_dims=1, max_dims=1, min_side=1)).map(
               lambda t: (t, {}))),
]

