"""Table rows of the set routines: the unique variants, union, intersection, differences and
membership. Derivative rows draw distinct values (a tie broken by a finite-difference step
would change the result's length) and make the common entries by reusing one argument's
entries in the other; rows with ties check values only."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp

from .opspec import OpSpec, unary
from .strategies import DISTINCT, GRID, broadcast_shapes, same_shapes, shapes


def _two_vectors():
    vec = shapes(min_dims=1, max_dims=1, min_side=1)
    return st.tuples(vec, vec).map(lambda s: (s, {}))


def _overlapping(fn):
    """``fn`` of two arrays whose second also holds every other entry of the first."""
    return lambda a, b: fn(a, fnp.concatenate([b, a[::2]]))


def _ref_overlapping(fn):
    return lambda a, b: fn(a, np.concatenate([b, a[::2]]))


_UNIQUE = [
    ("unique_values", np.unique, fnp.unique_values),
    ("unique_counts", lambda x: tuple(np.unique_counts(x)), lambda x: tuple(fnp.unique_counts(x))),
    ("unique_inverse", lambda x: tuple(np.unique_inverse(x)), lambda x: tuple(fnp.unique_inverse(x))),
    ("unique_all", lambda x: tuple(np.unique_all(x)), lambda x: tuple(fnp.unique_all(x))),
]

FUNCTIONS: list[OpSpec] = [
    *(unary(f"fnp.{name}", fn, ref, DISTINCT) for name, ref, fn in _UNIQUE),
    *(unary(f"fnp.{name}[ties]", fn, ref, GRID, derivative="none") for name, ref, fn in _UNIQUE),
    OpSpec("fnp.union1d", fnp.union1d, np.union1d, 2, broadcast_shapes(2), domain=(DISTINCT, DISTINCT)),
    OpSpec("fnp.union1d[ties]", fnp.union1d, np.union1d, 2, broadcast_shapes(2), domain=(GRID, GRID),
           derivative="none"),
    OpSpec("fnp.intersect1d", _overlapping(fnp.intersect1d), _ref_overlapping(np.intersect1d), 2, _two_vectors(),
           domain=(DISTINCT, DISTINCT)),
    OpSpec("fnp.intersect1d[indices]", lambda a, b: fnp.intersect1d(a, b, return_indices=True),
           lambda a, b: np.intersect1d(a, b, return_indices=True), 2, broadcast_shapes(2), domain=(GRID, GRID),
           derivative="none"),
    OpSpec("fnp.setdiff1d", _overlapping(fnp.setdiff1d), _ref_overlapping(np.setdiff1d), 2, _two_vectors(),
           domain=(DISTINCT, DISTINCT)),
    OpSpec("fnp.setdiff1d[ties]", fnp.setdiff1d, np.setdiff1d, 2, broadcast_shapes(2), domain=(GRID, GRID),
           derivative="none"),
    OpSpec("fnp.setdiff1d[assume_unique]", lambda a, b: fnp.setdiff1d(a, b[::2], assume_unique=True),
           lambda a, b: np.setdiff1d(a, b[::2], assume_unique=True), 2, same_shapes(2, min_dims=1, max_dims=1),
           domain=(DISTINCT, DISTINCT)),
    OpSpec("fnp.setxor1d", _overlapping(fnp.setxor1d), _ref_overlapping(np.setxor1d), 2, _two_vectors(),
           domain=(DISTINCT, DISTINCT)),
    OpSpec("fnp.setxor1d[ties]", fnp.setxor1d, np.setxor1d, 2, broadcast_shapes(2), domain=(GRID, GRID),
           derivative="none"),
    OpSpec("fnp.isin", fnp.isin, np.isin, 2, broadcast_shapes(2), domain=(GRID, GRID), derivative="zero"),
    OpSpec("fnp.isin[invert]", lambda a, b: fnp.isin(a, b, invert=True), lambda a, b: np.isin(a, b, invert=True), 2,
           broadcast_shapes(2), domain=(GRID, GRID), derivative="zero"),
]
