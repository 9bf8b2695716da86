"""Table rows of the reductions and statistics: sums and products, extrema and their
positions, NaN-ignoring reductions, logical reductions, means, variances, medians and
quantiles, trace and logsumexp."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp
from functrans import primitives as P

from .opspec import OpSpec, binds, fnp_fn, np_fn, prim_spec, unary
from .strategies import ANY, COMPLEX, DISTINCT, GRID, POSITIVE, axis_sig, shapes, trace_sig, with_params

# =============================================================================================
# Primitives
# =============================================================================================


@st.composite
def reduce_axes_sig(draw, nonempty=False):
    """A shape and the primitive's ``axes``: non-negative, any order."""
    shape = list(draw(shapes()))
    axes = tuple(draw(st.lists(st.integers(0, max(len(shape) - 1, 0)), unique=True,
                               max_size=len(shape))))
    if nonempty:
        for a in axes:
            shape[a] = max(shape[a], 1)
    return (tuple(shape),), {"axes": axes}


def _np_reduction(fn):
    return lambda x, *, axes: fn(x, axis=axes)


PRIMITIVES: list[OpSpec] = [
    prim_spec("reduce_sum", binds(P.reduce_sum_p), _np_reduction(np.sum), 1, reduce_axes_sig()),
    prim_spec("reduce_prod", binds(P.reduce_prod_p), _np_reduction(np.prod), 1, reduce_axes_sig()),
    prim_spec("reduce_max", binds(P.reduce_max_p), _np_reduction(np.max), 1, reduce_axes_sig(nonempty=True),
              domain=DISTINCT),
    prim_spec("reduce_min", binds(P.reduce_min_p), _np_reduction(np.min), 1, reduce_axes_sig(nonempty=True),
              domain=DISTINCT),
    *(prim_spec(n, binds(getattr(P, f"{n}_p")),
                lambda x, *, axis, index_dtype, f=f: f(x, axis=axis).astype(index_dtype), 1,
                axis_sig(none=False, tuple_axes=False, keepdims=False, nonempty=True, min_dims=1).flatmap(
                    lambda sp: st.sampled_from([np.int64, np.int32]).map(lambda d: (sp[0], {
                        "axis": sp[1]["axis"] % len(sp[0][0]), "index_dtype": np.dtype(d)}))),
                derivative="zero")
      for n, f in [("argmax", np.argmax), ("argmin", np.argmin)]),
]


# =============================================================================================
# functrans.numpy
# =============================================================================================


def _reduction(name, np_fn, domain=ANY, aliases=(), **sig_kw):
    fn = getattr(fnp, name)
    return unary(f"fnp.{name}", fn, np_fn, domain, sig=axis_sig(**sig_kw), aliases=aliases)


def _var_like(name):
    fn, ref = getattr(fnp, name), getattr(np, name)
    min_count = 2 if name == "std" else 1
    return [
        unary(f"fnp.{name}", fn, ref, sig=axis_sig(min_count=min_count)),
        unary(f"fnp.{name}[ddof=1]", fn, ref, sig=with_params(axis_sig(min_count=2), {"ddof": 1})),
    ]


def _arg_reduction(name):
    return unary(f"fnp.{name}", getattr(fnp, name), getattr(np, name), DISTINCT,
                 sig=axis_sig(tuple_axes=False, nonempty=True), derivative="zero")


@st.composite
def weights_sig(draw):
    shape = draw(shapes(min_dims=1, min_side=1))
    nd = len(shape)
    if draw(st.booleans()):
        return (shape, shape), {"axis": None}
    axis = draw(st.integers(-nd, nd - 1))
    return (shape, (shape[axis],)), {"axis": axis}


@st.composite
def quantile_sig(draw):
    (shape,), params = draw(axis_sig(nonempty=True, min_count=1).filter(
        lambda sp: sp[1]["axis"] != () and math.prod(sp[0][0]) > 0))
    q = draw(st.sampled_from([0.0, 0.3, 0.5, 1.0, (0.25, 0.75)]))
    return (shape,), {**params, "q": q}


def _scipy_logsumexp(x, axis=None, keepdims=False):
    import scipy.special

    if np.size(x) == 0:  # SciPy's reshaping of an empty input fails for a tuple axis
        with np.errstate(divide="ignore"):
            return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    return np.asarray(scipy.special.logsumexp(x, axis=axis, keepdims=keepdims))


def _statistics_specs():
    q_fn = lambda name: (lambda x, *, q, **kw: fnp_fn(name)(x, q, **kw))
    q_ref = lambda name: (lambda x, *, q, **kw: np_fn(name)(x, q, **kw))
    return [
        unary("fnp.nanmean[complex]", fnp.nanmean, np.nanmean, sig=axis_sig(nonempty=True), dtypes=COMPLEX),
        unary("fnp.trace[complex]", fnp.trace, np.trace, sig=trace_sig(), dtypes=COMPLEX),
        unary("fnp.nansum", fnp.nansum, np.nansum, sig=axis_sig()),
        unary("fnp.nanprod", fnp.nanprod, np.nanprod, sig=axis_sig()),
        unary("fnp.nanmean", fnp.nanmean, np.nanmean, sig=axis_sig(nonempty=True)),
        unary("fnp.nanvar", fnp.nanvar, np.nanvar, sig=axis_sig(nonempty=True)),
        unary("fnp.nanstd", fnp.nanstd, np.nanstd, sig=axis_sig(min_count=2)),
        unary("fnp.nanmax", fnp.nanmax, np.nanmax, DISTINCT, sig=axis_sig(nonempty=True)),
        unary("fnp.nanmin", fnp.nanmin, np.nanmin, DISTINCT, sig=axis_sig(nonempty=True)),
        unary("fnp.nanargmax", fnp.nanargmax, np.nanargmax, DISTINCT,
              sig=axis_sig(tuple_axes=False, nonempty=True), derivative="zero"),
        unary("fnp.nanargmin", fnp.nanargmin, np.nanargmin, DISTINCT,
              sig=axis_sig(tuple_axes=False, nonempty=True), derivative="zero"),
        unary("fnp.ptp", fnp.ptp, np.ptp, DISTINCT, sig=axis_sig(nonempty=True)),
        unary("fnp.all", fnp.all, np.all, GRID, sig=axis_sig(), derivative="zero"),
        unary("fnp.any", fnp.any, np.any, GRID, sig=axis_sig(), derivative="zero"),
        unary("fnp.count_nonzero", fnp.count_nonzero, np.count_nonzero, GRID, sig=axis_sig(),
              derivative="zero"),
        unary("fnp.trace", fnp.trace, np.trace, sig=trace_sig()),
        unary("fnp.average", fnp.average, np.average, sig=axis_sig(nonempty=True).filter(
            lambda sp: math.prod(sp[0][0]) > 0)),  # NumPy raises for empty results
        OpSpec("fnp.average[weights]", lambda a, w, axis: fnp.average(a, axis=axis, weights=w),
               lambda a, w, axis: np.average(a, axis=axis, weights=w), 2, weights_sig(),
               domain=(ANY, POSITIVE)),
        unary("fnp.logsumexp", fnp.logsumexp, _scipy_logsumexp, sig=axis_sig(nonempty=True, min_dims=1).filter(
            lambda sp: sp[1]["axis"] != ())),  # SciPy adds a dimension for axis=()
        unary("fnp.median", fnp.median, np.median, DISTINCT, sig=axis_sig(nonempty=True, min_count=1).filter(
            lambda sp: sp[1]["axis"] != () and math.prod(sp[0][0]) > 0)),
        unary("fnp.quantile", q_fn("quantile"), q_ref("quantile"), DISTINCT, sig=quantile_sig()),
        unary("fnp.percentile", lambda x, *, q, **kw: fnp.percentile(x, np.multiply(q, 100), **kw),
              lambda x, *, q, **kw: np.percentile(x, np.multiply(q, 100), **kw), DISTINCT,
              sig=quantile_sig()),
    ]


FUNCTIONS: list[OpSpec] = [
    _reduction("sum", np.sum),
    _reduction("prod", np.prod),
    _reduction("mean", np.mean, nonempty=True),
    _reduction("max", np.max, DISTINCT, aliases=("amax",), nonempty=True),
    _reduction("min", np.min, DISTINCT, aliases=("amin",), nonempty=True),
    *_var_like("var"),
    *_var_like("std"),
    _arg_reduction("argmax"),
    _arg_reduction("argmin"),
    *_statistics_specs(),
]
