"""Table rows of joining and splitting arrays: concatenate, stack and its variants (hstack,
vstack, dstack, column_stack), append, and the split family."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp
from functrans import primitives as P

from .opspec import OpSpec, binds, fnp_fn, np_fn, prim_spec, unary
from .strategies import shapes, side


@st.composite
def concat_sig(draw, n, prim=False):
    base = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(0, len(base) - 1))
    out = []
    for _ in range(n):
        s = list(base)
        s[axis] = draw(side)
        out.append(tuple(s))
    if prim:
        return tuple(out), {"dimension": axis}
    return tuple(out), {"axis": axis - len(base) if draw(st.booleans()) else axis}


@st.composite
def stack_sig(draw, n):
    shape = draw(shapes())
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return (shape,) * n, {"axis": axis}


@st.composite
def join_sig(draw, kind, n=2):
    """Shapes that ``hstack``/``vstack``/``dstack``/``column_stack`` accept."""
    nd = draw(st.integers(1, 3))
    base = list(draw(shapes(min_dims=nd, max_dims=nd)))
    axis = {"hstack": 0 if nd == 1 else 1, "vstack": 0, "dstack": 2, "column_stack": 1}[kind]
    if kind == "vstack" and nd == 1:
        return tuple(tuple(base) for _ in range(n)), {}
    if kind in ("dstack", "column_stack") and nd < 3:
        return tuple(tuple(base) for _ in range(n)), {}
    out = []
    for _ in range(n):
        s = list(base)
        if axis < nd:
            s[axis] = draw(side)
        out.append(tuple(s))
    return tuple(out), {}


def _list_fn(f):
    return lambda *xs, **kw: f(list(xs), **kw)


@st.composite
def split_sig(draw, equal):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    axis = draw(st.integers(-nd, nd - 1))
    n = shape[axis]
    if draw(st.booleans()):
        sections = draw(st.sampled_from([d for d in range(1, max(n, 1) + 1) if not equal or n % d == 0]))
        return (shape,), {"indices_or_sections": sections, "axis": axis}
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    return (shape,), {"indices_or_sections": cuts, "axis": axis}


PRIMITIVES: list[OpSpec] = [
    *(prim_spec(f"concatenate[{n}]", binds(P.concatenate_p),
                lambda *xs, dimension: np.concatenate(xs, axis=dimension), n, concat_sig(n, prim=True))
      for n in (1, 2, 3)),
]


def _stack_variants():
    return [OpSpec(f"fnp.{k}", _list_fn(fnp_fn(k)), _list_fn(np_fn(k) if k != "row_stack" else np.vstack),
                   2, join_sig(k if k != "row_stack" else "vstack"))
            for k in ("hstack", "vstack", "dstack", "column_stack", "row_stack")]


FUNCTIONS: list[OpSpec] = [
    *(OpSpec(f"fnp.concatenate[{n}]", lambda *xs, axis: fnp.concatenate(xs, axis=axis),
             lambda *xs, axis: np.concatenate(xs, axis=axis), n, concat_sig(n)) for n in (1, 2, 3)),
    OpSpec("fnp.concatenate[axis=None]", lambda x, y: fnp.concatenate([x, y], axis=None),
           lambda x, y: np.concatenate([x, y], axis=None), 2,
           st.tuples(shapes(), shapes()).map(lambda ab: (ab, {}))),
    *(OpSpec(f"fnp.stack[{n}]", lambda *xs, axis: fnp.stack(xs, axis=axis),
             lambda *xs, axis: np.stack(xs, axis=axis), n, stack_sig(n)) for n in (1, 2, 3)),
    *_stack_variants(),
    OpSpec("fnp.append", fnp.append, np.append, 2, st.tuples(shapes(), shapes()).map(lambda s: (s, {}))),
    unary("fnp.split", fnp.split, np.split, sig=split_sig(equal=True)),
    unary("fnp.array_split", fnp.array_split, np.array_split, sig=split_sig(equal=False)),
    unary("fnp.hsplit", fnp.hsplit, np.hsplit, sig=shapes(min_dims=2, max_dims=2).map(
        lambda s: ((s,), {"indices_or_sections": [1]}))),
    unary("fnp.vsplit", fnp.vsplit, np.vsplit, sig=shapes(min_dims=2).map(
        lambda s: ((s,), {"indices_or_sections": [1]}))),
    unary("fnp.dsplit", fnp.dsplit, np.dsplit, sig=shapes(min_dims=3).map(
        lambda s: ((s,), {"indices_or_sections": [1]}))),
]
