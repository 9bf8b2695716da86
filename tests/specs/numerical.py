"""Table rows of NumPy's numerical helpers: interpolation, integration and differences,
phase unwrapping, covariance and correlation, binning (digitize, bincount, histograms),
the array API's vector products, lexicographic sorting, and the functional helpers
(vectorize, apply_along_axis, apply_over_axes, piecewise)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp

from .opspec import OpSpec, binary, unary
from .strategies import ANY, DISTINCT, F64, GRID, POSITIVE, Domain, broadcast_shapes, same_shapes, shapes

_F64 = (F64,)
_WIDE = Domain(-3.0, 3.0)
_COUNTS = Domain(0, 4, kind="grid")


def _vec(min_side=0, max_side=3):
    return shapes(min_dims=1, max_dims=1, min_side=min_side, max_side=max_side)


@st.composite
def _interp_sig(draw):
    n = draw(st.integers(1, 5))
    return (draw(shapes(max_dims=2)), (n,), (n,)), {}


def _interp_fn(x, xp, fp, **kw):
    return fnp.interp(x, fnp.sort(xp), fp, **kw)


def _interp_ref(x, xp, fp, **kw):
    return np.interp(x, np.sort(xp), fp, **kw)


@st.composite
def _trapezoid_sig(draw):
    shape = draw(shapes(min_dims=1, max_dims=2, min_side=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    x_shape = (shape[axis],) if draw(st.booleans()) else shape
    return (shape, x_shape), {"axis": axis}


@st.composite
def _cov_sig(draw):
    shape = draw(shapes(min_dims=1, max_dims=2, min_side=2))
    return (shape,), {"rowvar": draw(st.booleans()), "bias": draw(st.booleans())}


@st.composite
def _bins_sig(draw):
    return (draw(shapes(max_dims=2)),), {"bins": draw(st.integers(1, 4)),
                                          "range": draw(st.sampled_from([None, (-1.0, 1.5)]))}


def _with_nans(a):
    """``a`` with every fourth entry NaN (no slice of the drawn shapes all NaN), for arrays of
    any backend, traced or not."""
    positions = np.flatnonzero(np.arange(int(np.prod(a.shape))) % 4 == 3)
    return fnp.reshape(fnp.at(fnp.ravel(a))[positions].set(np.nan), a.shape)


@st.composite
def _nan_sig(draw):
    shape = draw(shapes(min_dims=1, max_dims=2, min_side=2))
    axis = draw(st.sampled_from([None] + list(range(len(shape)))))
    q = draw(st.sampled_from([0.5, 0.0, 1.0, [0.25, 0.8]]))
    return (shape,), {"q": q, "axis": axis, "method": draw(st.sampled_from(["linear", "lower", "midpoint"]))}


def _histogram_counts(a, **kw):
    return fnp.histogram(a, **kw)[0]


FUNCTIONS: list[OpSpec] = [
    OpSpec("fnp.interp", _interp_fn, _interp_ref, 3, _interp_sig(), domain=(_WIDE, DISTINCT, ANY)),
    OpSpec("fnp.interp[left, right]", lambda x, xp, fp: _interp_fn(x, xp, fp, left=-5.0, right=7.0),
           lambda x, xp, fp: _interp_ref(x, xp, fp, left=-5.0, right=7.0), 3, _interp_sig(),
           domain=(_WIDE, DISTINCT, ANY)),
    OpSpec("fnp.interp[period]", lambda x, xp, fp: _interp_fn(x, xp, fp, period=1.5),
           lambda x, xp, fp: _interp_ref(x, xp, fp, period=1.5), 3, _interp_sig(), domain=(_WIDE, DISTINCT, ANY),
           dtypes=_F64),
    OpSpec("fnp.trapezoid", lambda y, x, *, axis: fnp.trapezoid(y, x, axis=axis),
           lambda y, x, *, axis: np.trapezoid(y, x, axis=axis), 2, _trapezoid_sig()),
    unary("fnp.trapezoid[dx]", lambda y: fnp.trapezoid(y, dx=0.5), lambda y: np.trapezoid(y, dx=0.5),
          sig=same_shapes(1, min_dims=1)),
    OpSpec("fnp.ediff1d", lambda a, b: fnp.ediff1d(a, to_end=b, to_begin=b[:1]),
           lambda a, b: np.ediff1d(a, to_end=b, to_begin=b[:1]), 2,
           st.tuples(shapes(), _vec()).map(lambda s: (s, {}))),
    unary("fnp.nancumprod", fnp.nancumprod, np.nancumprod, sig=same_shapes(1)),
    unary("fnp.unwrap", fnp.unwrap, np.unwrap, Domain(-6.0, 6.0), sig=same_shapes(1, min_dims=1)),
    unary("fnp.cov", fnp.cov, np.cov, sig=_cov_sig()),
    OpSpec("fnp.cov[y, weights]", lambda m, y, w: fnp.cov(m, y, aweights=w), lambda m, y, w: np.cov(m, y, aweights=w),
           3, st.integers(2, 4).map(lambda n: (((2, n), (n,), (n,)), {})), domain=(ANY, ANY, POSITIVE), dtypes=_F64),
    unary("fnp.corrcoef", fnp.corrcoef, np.corrcoef, DISTINCT,
          sig=st.integers(2, 4).map(lambda n: (((2, n),), {})), order=1),
    OpSpec("fnp.digitize", lambda x, b, *, right: fnp.digitize(x, fnp.sort(b), right),
           lambda x, b, *, right: np.digitize(x, np.sort(b), right), 2,
           st.tuples(shapes(max_dims=2), _vec(), st.booleans()).map(lambda t: ((t[0], t[1]), {"right": t[2]})),
           domain=(GRID, GRID), derivative="zero"),
    unary("fnp.bincount", lambda w, *, x: fnp.bincount(x, w, minlength=2),
          lambda w, *, x: np.bincount(x, w, minlength=2),
          sig=_vec().flatmap(lambda s: st.integers(0, 2**16).map(lambda seed: (
              (s,), {"x": np.random.default_rng(seed).integers(0, 4, s)})))),
    unary("fnp.bincount[counts]", lambda x: fnp.bincount(fnp.astype(x, np.int64)),
          lambda x: np.bincount(x.astype(np.int64)), _COUNTS, sig=same_shapes(1, min_dims=1, max_dims=1),
          derivative="zero"),
    unary("fnp.histogram", lambda a, **kw: fnp.histogram(a, **kw), lambda a, **kw: np.histogram(a, **kw), DISTINCT,
          sig=_bins_sig(), derivative="none", dtypes=_F64),
    OpSpec("fnp.histogram[weights]", lambda a, w: _histogram_counts(a, bins=3, range=(-1.0, 1.0), weights=w),
           lambda a, w: np.histogram(a, bins=3, range=(-1.0, 1.0), weights=w)[0], 2, same_shapes(2, max_dims=2),
           domain=(DISTINCT, ANY), dtypes=_F64),
    unary("fnp.histogram_bin_edges", lambda a, **kw: fnp.histogram_bin_edges(a, **kw),
          lambda a, **kw: np.histogram_bin_edges(a, **kw), DISTINCT,
          sig=_bins_sig().filter(lambda sp: int(np.prod(sp[0][0])) > 1 or sp[1]["range"] is not None)),
    OpSpec("fnp.vecdot", fnp.vecdot, np.vecdot, 2,
        st.tuples(shapes(max_dims=2), st.integers(0, 3)).map(lambda t: ((t[0] + (t[1],), (t[1],)), {}))),
    OpSpec("fnp.matvec", fnp.matvec, np.matvec, 2,
           st.tuples(shapes(max_dims=1), st.integers(0, 3), st.integers(0, 3)).map(
               lambda t: ((t[0] + (t[1], t[2]), (t[2],)), {}))),
    OpSpec("fnp.vecmat", fnp.vecmat, np.vecmat, 2,
           st.tuples(shapes(max_dims=1), st.integers(0, 3), st.integers(0, 3)).map(
               lambda t: (((t[1],), t[0] + (t[1], t[2])), {}))),
    OpSpec("fnp.vecdot[complex]", fnp.vecdot, np.vecdot, 2, same_shapes(2, min_dims=1), dtypes=(np.complex128,),
           order=1),
    OpSpec("fnp.einsum_path", lambda a, b: fnp.einsum_path("ij,jk->ik", a, b)[0],
           lambda a, b: np.einsum_path("ij,jk->ik", a, b)[0], 2,
           st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)).map(
               lambda t: (((t[0], t[1]), (t[1], t[2])), {})), derivative="none"),
    OpSpec("fnp.lexsort", lambda a, b: fnp.lexsort([a, b]), lambda a, b: np.lexsort([a, b]), 2,
           same_shapes(2, min_dims=1, max_dims=2), domain=(GRID, GRID), derivative="zero"),
    unary("fnp.sort_complex", fnp.sort_complex, np.sort_complex, DISTINCT, sig=same_shapes(1, min_dims=1,
                                                                                          max_dims=1)),
    unary("fnp.apply_along_axis", lambda a, *, axis: fnp.apply_along_axis(lambda r: fnp.stack([r.sum(), r[0]]),
                                                                         axis, a),
          lambda a, *, axis: np.apply_along_axis(lambda r: np.stack([r.sum(), r[0]]), axis, a),
          sig=shapes(min_dims=1, min_side=1).flatmap(lambda s: st.integers(0, len(s) - 1).map(
              lambda ax: ((s,), {"axis": ax})))),
    unary("fnp.apply_over_axes", lambda a: fnp.apply_over_axes(fnp.sum, a, [0, -1]),
          lambda a: np.apply_over_axes(np.sum, a, [0, -1]), sig=same_shapes(1, min_dims=2)),
    unary("fnp.piecewise", lambda x: fnp.piecewise(x, [x < -0.5, x > 0.5], [lambda v: v * v, fnp.sin, 0.25]),
          lambda x: np.piecewise(x, [x < -0.5, x > 0.5], [lambda v: v * v, np.sin, 0.25]),
          Domain(-2.0, 2.0, kind="away", margin=0.6)),
    OpSpec("fnp.vectorize", lambda x, y: fnp.vectorize(lambda a, b: a * fnp.sin(b) + b)(x, y),
           lambda x, y: np.vectorize(lambda a, b: a * np.sin(b) + b)(x, y), 2, broadcast_shapes(2)
           .filter(lambda sp: int(np.prod(np.broadcast_shapes(*sp[0]))) > 0)),
    OpSpec("fnp.isscalar", lambda: (fnp.isscalar(1.5), fnp.isscalar(np.ones(2)), fnp.isscalar("a")),
           lambda: (True, False, True), 0, st.just(((), {})), derivative="none"),
    unary("fnp.isscalar[traced]", lambda x: fnp.isscalar(x), lambda x: np.isscalar(x), derivative="none"),
    OpSpec("fnp.iterable", lambda: (fnp.iterable([1]), fnp.iterable(2.0), fnp.iterable(np.ones(2))),
           lambda: (True, False, True), 0, st.just(((), {})), derivative="none"),
    binary("fnp.pow", fnp.pow, np.pow, (POSITIVE, ANY)),
    OpSpec("fnp.histogramdd", lambda p, w: fnp.histogramdd(p, bins=[2, 3], range=[(-1.0, 1.0), (-2.0, 2.0)],
                                                            weights=w),
           lambda p, w: np.histogramdd(p, bins=[2, 3], range=[(-1.0, 1.0), (-2.0, 2.0)], weights=w), 2,
           st.integers(0, 5).map(lambda n: (((n, 2), (n,)), {})), domain=(DISTINCT, ANY), dtypes=_F64),
    unary("fnp.histogramdd[data bins]", lambda p: fnp.histogramdd(p, bins=2), lambda p: np.histogramdd(p, bins=2),
          DISTINCT, sig=st.integers(2, 5).map(lambda n: (((n, 3),), {})), dtypes=_F64),
    OpSpec("fnp.histogram2d", lambda x, y: fnp.histogram2d(x, y, bins=2, density=True),
           lambda x, y: np.histogram2d(x, y, bins=2, density=True), 2,
           st.integers(2, 5).map(lambda n: (((n,), (n,)), {})), domain=(DISTINCT, DISTINCT), dtypes=_F64),
    unary("fnp.nanquantile", lambda a, **kw: fnp.nanquantile(_with_nans(a), **kw),
          lambda a, **kw: np.nanquantile(_with_nans(a), **kw), DISTINCT, sig=_nan_sig()),
    unary("fnp.nanpercentile", lambda a, **kw: fnp.nanpercentile(_with_nans(a), 30.0, **kw),
          lambda a, **kw: np.nanpercentile(_with_nans(a), 30.0, **kw), DISTINCT,
          sig=_nan_sig().map(lambda sp: (sp[0], {"axis": sp[1]["axis"]}))),
    unary("fnp.nanmedian", lambda a, **kw: fnp.nanmedian(_with_nans(a), **kw),
          lambda a, **kw: np.nanmedian(_with_nans(a), **kw), DISTINCT,
          sig=_nan_sig().map(lambda sp: (sp[0], {"axis": sp[1]["axis"]}))),
]
