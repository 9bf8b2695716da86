"""Table rows (``op_specs.OpSpec``) for the functrans.numpy functions of the broad-coverage
issue: more elementwise functions, scans and NaN-reductions, manipulation, sorting, products,
``fnp.linalg`` and ``fnp.fft``. Each row is run by ``op_specs.run_spec``: values against
NumPy on plain arrays and inside a transformation, ``check_grads`` to second order in both
modes in float64 (complex128 for complex rows), and a float32 run keeping float32."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import functrans.numpy as fnp
from functrans.numpy._util import placed_like
from op_specs import (
    ANY, BOOL, C128, COMPLEX, DISTINCT, F64, GRID, NONZERO, POSITIVE, REAL, Domain, OpSpec, axis_sig,
    binary, broadcast_shapes, same_shapes, shapes, side, unary, with_params,
)

UNIT = Domain(-0.9, 0.9)
ABOVE_ONE = Domain(1.2, 3.0)
HALF_OFF = Domain(-2.0, 2.0, kind="away", margin=0.1)  # away from the jumps at integers


def _fn(name):
    obj = fnp
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _ref(name):
    obj = np
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


# =============================================================================================
# Elementwise
# =============================================================================================

_SMOOTH_UNARY = [
    ("exp2", ANY, ()), ("log2", POSITIVE, ()), ("log10", POSITIVE, ()), ("cbrt", NONZERO, ()),
    ("sinh", ANY, ()), ("cosh", ANY, ()), ("arcsin", UNIT, ("asin",)), ("arccos", UNIT, ("acos",)),
    ("arctan", ANY, ("atan",)), ("arcsinh", ANY, ("asinh",)), ("arccosh", ABOVE_ONE, ("acosh",)),
    ("arctanh", UNIT, ("atanh",)), ("sinc", ANY, ()), ("deg2rad", ANY, ("radians",)),
    ("rad2deg", ANY, ("degrees",)), ("fabs", NONZERO, ()), ("nan_to_num", ANY, ()),
]
_FLAT_UNARY = [
    ("floor", ()), ("ceil", ()), ("rint", ()), ("trunc", ("fix",)), ("signbit", ()), ("isnan", ()),
    ("isinf", ()), ("isfinite", ()), ("isposinf", ()), ("isneginf", ()),
]
# mod/fmod jump where x / y is an integer: x / y stays in (1.05, 1.93) or (-1.93, -1.05), so
# the finite differences (float32 steps included) never straddle a jump.
_MOD_DOMAINS = (Domain(hi=1.35, kind="away", margin=1.05), Domain(0.7, 1.0))
_SMOOTH_BINARY = [
    ("arctan2", (ANY, NONZERO), ("atan2",)), ("hypot", (NONZERO, NONZERO), ()),
    ("logaddexp", (ANY, ANY), ()), ("logaddexp2", (ANY, ANY), ()),
    ("fmod", _MOD_DOMAINS, ()), ("mod", _MOD_DOMAINS, ("remainder",)),
    ("copysign", (NONZERO, NONZERO), ()), ("heaviside", (NONZERO, ANY), ()),
    ("fmax", (DISTINCT, ANY), ()), ("fmin", (DISTINCT, ANY), ()),
    ("float_power", (POSITIVE, ANY), ()),
]
_FLAT_BINARY = ["floor_divide", "logical_and", "logical_or", "logical_xor"]


def _elementwise_specs():
    specs = [unary(f"fnp.{n}", _fn(n), _ref(n), d, aliases=a) for n, d, a in _SMOOTH_UNARY]
    specs += [unary(f"fnp.{n}", _fn(n), _ref(n), HALF_OFF, derivative="zero", aliases=a)
              for n, a in _FLAT_UNARY]
    specs += [binary(f"fnp.{n}", _fn(n), _ref(n), d, aliases=a, dtypes=(F64,) if n == "float_power" else REAL)
              for n, d, a in _SMOOTH_BINARY]
    specs += [binary(f"fnp.{n}", _fn(n), _ref(n), (HALF_OFF, NONZERO), derivative="zero")
              for n in _FLAT_BINARY]
    specs += [
        unary("fnp.logical_not", fnp.logical_not, np.logical_not, GRID, derivative="zero"),
        unary("fnp.round", fnp.round, np.round, HALF_OFF, derivative="zero", aliases=("around",),
              sig=same_shapes(1).flatmap(lambda sp: st.integers(0, 2).map(lambda d: (sp[0], {"decimals": d})))),
        unary("fnp.angle", fnp.angle, np.angle, NONZERO, dtypes=COMPLEX),
        unary("fnp.angle[real input]", fnp.angle, np.angle, NONZERO, derivative="zero"),
        # Python's abs and ** on complex tracers
        unary("fnp.abs[complex]", fnp.abs, np.abs, NONZERO, dtypes=COMPLEX),
        unary("fnp.exp[complex]", fnp.exp, np.exp, ANY, dtypes=COMPLEX),
        unary("fnp.log[complex]", fnp.log, np.log, POSITIVE, dtypes=COMPLEX),
        unary("fnp.sqrt[complex]", fnp.sqrt, np.sqrt, POSITIVE, dtypes=COMPLEX),
        unary("fnp.arctan[complex]", fnp.arctan, np.arctan, UNIT, dtypes=COMPLEX),
        # holomorphic functions in complex128, away from their branch cuts
        *(unary(f"fnp.{n}[complex]", _fn(n), _ref(n), d, dtypes=COMPLEX) for n, d in [
            ("exp2", ANY), ("log2", POSITIVE), ("log10", POSITIVE), ("sinh", ANY), ("cosh", ANY),
            ("arcsin", UNIT), ("arccos", UNIT), ("arcsinh", UNIT), ("arccosh", ABOVE_ONE),
            ("arctanh", UNIT), ("sinc", ANY)]),
    ]
    return specs


# =============================================================================================
# Reductions and scans
# =============================================================================================


@st.composite
def scan_sig(draw, min_side=0):
    shape = draw(shapes(min_side=min_side))
    nd = len(shape)
    axis = None if nd == 0 or draw(st.booleans()) else draw(st.integers(-nd, nd - 1))
    return (shape,), {"axis": axis}


@st.composite
def array_api_scan_sig(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    return (shape,), {"axis": draw(st.integers(-nd, nd - 1)), "include_initial": draw(st.booleans())}


@st.composite
def diff_sig(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    return (shape,), {"n": draw(st.integers(0, 2)), "axis": draw(st.integers(-nd, nd - 1))}


@st.composite
def gradient_sig(draw):
    shape = draw(shapes(min_dims=1, min_side=2))
    nd = len(shape)
    if draw(st.booleans()):
        return (shape,), {"axis": draw(st.integers(-nd, nd - 1))}
    return (shape,), {}


@st.composite
def trace_sig(draw):
    shape = draw(shapes(min_dims=2))
    nd = len(shape)
    a1 = draw(st.integers(0, nd - 1))
    a2 = draw(st.integers(0, nd - 1).filter(lambda a: a != a1))
    return (shape,), {"offset": draw(st.integers(-2, 2)), "axis1": a1, "axis2": a2}


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


def _reduction_specs():
    q_fn = lambda name: (lambda x, *, q, **kw: _fn(name)(x, q, **kw))  # noqa: E731
    q_ref = lambda name: (lambda x, *, q, **kw: _ref(name)(x, q, **kw))  # noqa: E731
    return [
        unary("fnp.cumsum", fnp.cumsum, np.cumsum, sig=scan_sig()),
        unary("fnp.cumsum[complex]", fnp.cumsum, np.cumsum, sig=scan_sig(), dtypes=COMPLEX),
        unary("fnp.cumprod[complex]", fnp.cumprod, np.cumprod, sig=scan_sig(), dtypes=COMPLEX),
        unary("fnp.diff[complex]", fnp.diff, np.diff, sig=diff_sig(), dtypes=COMPLEX),
        unary("fnp.nanmean[complex]", fnp.nanmean, np.nanmean, sig=axis_sig(nonempty=True), dtypes=COMPLEX),
        unary("fnp.trace[complex]", fnp.trace, np.trace, sig=trace_sig(), dtypes=COMPLEX),
        unary("fnp.cumprod", fnp.cumprod, np.cumprod, sig=scan_sig()),
        unary("fnp.cumprod[zeros]", fnp.cumprod, np.cumprod, GRID, sig=scan_sig()),
        unary("fnp.nancumsum", fnp.nancumsum, np.nancumsum, sig=scan_sig()),
        unary("fnp.cumulative_sum", fnp.cumulative_sum, np.cumulative_sum, sig=array_api_scan_sig()),
        unary("fnp.cumulative_prod", fnp.cumulative_prod, np.cumulative_prod, sig=array_api_scan_sig()),
        unary("fnp.diff", fnp.diff, np.diff, sig=diff_sig()),
        unary("fnp.gradient", fnp.gradient, np.gradient, sig=gradient_sig()),
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


def _scipy_logsumexp(x, axis=None, keepdims=False):
    import scipy.special

    return np.asarray(scipy.special.logsumexp(x, axis=axis, keepdims=keepdims))


# =============================================================================================
# Manipulation
# =============================================================================================


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
def matrix_k_sig(draw, batch=True):
    shape = draw(shapes(min_dims=2, max_dims=3 if batch else 2))
    return (shape,), {"k": draw(st.integers(-2, 2))}


@st.composite
def vector_k_sig(draw):
    return (draw(shapes(min_dims=1, max_dims=1)),), {"k": draw(st.integers(-2, 2))}


@st.composite
def rollaxis_sig(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    return (shape,), {"axis": draw(st.integers(-nd, nd - 1)), "start": draw(st.integers(-nd, nd))}


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


def _manipulation_specs():
    concat_like = lambda f: _list_fn(f)  # noqa: E731
    return [
        unary("fnp.take", fnp.take, np.take, sig=take_sig()),
        unary("fnp.take_along_axis", fnp.take_along_axis, np.take_along_axis, sig=take_along_sig()),
        OpSpec("fnp.put_along_axis", lambda x, v, *, indices, axis: fnp.put_along_axis(x, indices, v, axis),
               _put_along_ref, 2, put_along_sig()),
        unary("fnp.atleast_1d", fnp.atleast_1d, np.atleast_1d),
        unary("fnp.atleast_2d", fnp.atleast_2d, np.atleast_2d),
        unary("fnp.atleast_3d", fnp.atleast_3d, np.atleast_3d),
        OpSpec("fnp.broadcast_arrays", fnp.broadcast_arrays, np.broadcast_arrays, 2, broadcast_shapes(2)),
        unary("fnp.rollaxis", fnp.rollaxis, np.rollaxis, sig=rollaxis_sig()),
        *(OpSpec(f"fnp.{k}", concat_like(_fn(k)), concat_like(_ref(k) if k != "row_stack" else np.vstack),
                 2, join_sig(k if k != "row_stack" else "vstack"))
          for k in ("hstack", "vstack", "dstack", "column_stack", "row_stack")),
        OpSpec("fnp.append", fnp.append, np.append, 2, st.tuples(shapes(), shapes()).map(lambda s: (s, {}))),
        unary("fnp.split", fnp.split, np.split, sig=split_sig(equal=True)),
        unary("fnp.array_split", fnp.array_split, np.array_split, sig=split_sig(equal=False)),
        unary("fnp.hsplit", fnp.hsplit, np.hsplit, sig=shapes(min_dims=2, max_dims=2).map(
            lambda s: ((s,), {"indices_or_sections": [1]}))),
        unary("fnp.vsplit", fnp.vsplit, np.vsplit, sig=shapes(min_dims=2).map(
            lambda s: ((s,), {"indices_or_sections": [1]}))),
        unary("fnp.dsplit", fnp.dsplit, np.dsplit, sig=shapes(min_dims=3).map(
            lambda s: ((s,), {"indices_or_sections": [1]}))),
        unary("fnp.tile", fnp.tile, np.tile, sig=tile_sig()),
        unary("fnp.repeat", fnp.repeat, np.repeat, sig=repeat_sig()),
        unary("fnp.flip", fnp.flip, np.flip, sig=flip_sig()),
        unary("fnp.fliplr", fnp.fliplr, np.fliplr, sig=same_shapes(1, min_dims=2)),
        unary("fnp.flipud", fnp.flipud, np.flipud, sig=same_shapes(1, min_dims=1)),
        unary("fnp.roll", fnp.roll, np.roll, sig=roll_sig()),
        unary("fnp.rot90", fnp.rot90, np.rot90, sig=rot90_sig()),
        unary("fnp.pad", fnp.pad, np.pad, sig=pad_sig_np()),
        unary("fnp.pad[complex]", fnp.pad, np.pad, sig=pad_sig_np(), dtypes=COMPLEX),
        unary("fnp.roll[complex]", fnp.roll, np.roll, sig=roll_sig(), dtypes=COMPLEX),
        unary("fnp.take_along_axis[complex]", fnp.take_along_axis, np.take_along_axis, sig=take_along_sig(),
              dtypes=COMPLEX),
        unary("fnp.diagonal", fnp.diagonal, np.diagonal, sig=trace_sig()),
        unary("fnp.diag", fnp.diag, np.diag, sig=vector_k_sig()),
        unary("fnp.diag[matrix]", fnp.diag, np.diag, sig=matrix_k_sig(batch=False)),
        unary("fnp.diagflat", fnp.diagflat, np.diagflat, sig=matrix_k_sig(batch=False)),
        unary("fnp.tril", fnp.tril, np.tril, sig=matrix_k_sig()),
        unary("fnp.triu", fnp.triu, np.triu, sig=matrix_k_sig()),
        OpSpec("fnp.select", _select_fn(fnp), _select_fn(np), 5, select_sig(),
               domain=(BOOL, BOOL, ANY, ANY, ANY)),
        OpSpec("fnp.choose", lambda x, y, *, a: fnp.choose(a, [x, y]), lambda x, y, *, a: np.choose(a, [x, y]),
               2, choose_sig()),
        OpSpec("fnp.kron", fnp.kron, np.kron, 2, st.tuples(shapes(max_dims=2), shapes(max_dims=2)).map(
            lambda s: (s, {}))),
        OpSpec("fnp.cross", fnp.cross, np.cross, 2, hnp.mutually_broadcastable_shapes(
            num_shapes=2, min_dims=0, max_dims=2, max_side=3).flatmap(
            lambda b: st.just(((b.input_shapes[0] + (3,), b.input_shapes[1] + (3,)), {})))),
        OpSpec("fnp.meshgrid", lambda x, y, *, indexing: fnp.meshgrid(x, y, indexing=indexing),
               lambda x, y, *, indexing: np.meshgrid(x, y, indexing=indexing), 2,
               st.tuples(shapes(min_dims=1, max_dims=1), shapes(min_dims=1, max_dims=1),
                         st.sampled_from(["xy", "ij"])).map(lambda t: ((t[0], t[1]), {"indexing": t[2]}))),
        unary("fnp.empty_like", fnp.empty_like, np.zeros_like, derivative="zero"),
        OpSpec("fnp.identity", fnp.identity, np.identity, 0, st.integers(0, 3).map(lambda n: ((), {"n": n})),
               derivative="none"),
        OpSpec("fnp.tri", fnp.tri, np.tri, 0, st.integers(0, 3).map(lambda n: ((), {"N": n, "k": 1})),
               derivative="none"),
        OpSpec("fnp.logspace", fnp.logspace, np.logspace, 0, st.integers(0, 4).map(
            lambda n: ((), {"start": 0.0, "stop": 2.0, "num": n})), derivative="none"),
    ]


def _put_along_ref(x, v, *, indices, axis):
    y = x.copy()
    np.put_along_axis(y, indices, v, axis)
    return y


# =============================================================================================
# Sorting
# =============================================================================================


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


def _sorting_specs():
    return [
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
        unary("fnp.flatnonzero", fnp.flatnonzero, np.flatnonzero, GRID, derivative="none"),
    ]


# =============================================================================================
# linalg and fft
# =============================================================================================


def _well_conditioned(x):
    """A matrix near the identity (scaled), so inverses and decompositions are stable."""
    n = x.shape[-1]
    return x * 0.3 + placed_like(np.eye(n, dtype=x.dtype) * 2, x)


def _separated(x):
    """A matrix whose eigenvalues are well apart (1.5 between diagonal entries)."""
    n = x.shape[-1]
    return x * 0.2 + placed_like(np.diag(np.arange(n) * 1.5).astype(x.dtype), x)


def _spd(x):
    """A symmetric positive-definite matrix from any square one."""
    return x @ x.mT + placed_like(np.eye(x.shape[-1], dtype=x.dtype) * x.shape[-1], x)


@st.composite
def square_sig(draw, batch=True, min_n=1):
    n = draw(st.integers(min_n, 3))
    b = draw(shapes(max_dims=1, min_side=1, max_side=2)) if batch else ()
    return (b + (n, n),), {}


@st.composite
def solve_sig(draw):
    n = draw(st.integers(1, 3))
    b = draw(shapes(max_dims=1, min_side=1, max_side=2))
    rhs = (n,) if draw(st.booleans()) and not b else b + (n, draw(st.integers(1, 2)))
    return (b + (n, n), rhs), {}


@st.composite
def matrix_sig(draw, tall=False):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if tall and m < n:
        m, n = n, m
    return ((m, n),), {}


@st.composite
def norm_sig(draw):
    kind = draw(st.sampled_from(["vec", "mat", "axis"]))
    if kind == "vec":
        return ((draw(st.integers(1, 4)),),), {"ord": draw(st.sampled_from([None, 1, 2, 3, np.inf, -np.inf]))}
    if kind == "mat":
        return ((draw(st.integers(1, 3)), draw(st.integers(1, 3))),), {
            "ord": draw(st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf]))}
    shape = draw(shapes(min_dims=2, min_side=1))
    return (shape,), {"ord": None, "axis": draw(st.integers(0, len(shape) - 1))}


def _linalg_specs():
    wc = lambda f: (lambda x, **kw: f(_well_conditioned(x), **kw))  # noqa: E731
    spd = lambda f: (lambda x, **kw: f(_spd(x), **kw))  # noqa: E731
    tol = {F64: {"atol": 1e-5, "rtol": 1e-5}}
    return [
        unary("fnp.linalg.inv", wc(fnp.linalg.inv), wc(np.linalg.inv), sig=square_sig()),
        unary("fnp.linalg.inv[complex]", wc(fnp.linalg.inv), wc(np.linalg.inv), sig=square_sig(), dtypes=COMPLEX),
        OpSpec("fnp.linalg.solve[complex]", lambda a, b: fnp.linalg.solve(_well_conditioned(a), b),
               lambda a, b: np.linalg.solve(_well_conditioned(a), b), 2, solve_sig(), dtypes=COMPLEX),
        unary("fnp.linalg.det[complex]", wc(fnp.linalg.det), wc(np.linalg.det), sig=square_sig(), dtypes=COMPLEX),
        unary("fnp.linalg.pinv[complex]", fnp.linalg.pinv, np.linalg.pinv, DISTINCT, sig=matrix_sig(),
              tol={C128: {"atol": 1e-5, "rtol": 1e-5}}, dtypes=COMPLEX),
        OpSpec("fnp.linalg.solve", lambda a, b: fnp.linalg.solve(_well_conditioned(a), b),
               lambda a, b: np.linalg.solve(_well_conditioned(a), b), 2, solve_sig()),
        unary("fnp.linalg.det", wc(fnp.linalg.det), wc(np.linalg.det), sig=square_sig()),
        unary("fnp.linalg.slogdet", lambda x: tuple(fnp.linalg.slogdet(_well_conditioned(x))),
              lambda x: tuple(np.linalg.slogdet(_well_conditioned(x))), sig=square_sig()),
        unary("fnp.linalg.cholesky", spd(fnp.linalg.cholesky), spd(np.linalg.cholesky), sig=square_sig(), tol=tol),
        unary("fnp.linalg.eigh", lambda x: _gauge_free_eigh(fnp, _spd(x)), lambda x: _gauge_free_eigh(np, _spd(x)),
              DISTINCT, sig=square_sig(batch=False), tol=tol),
        unary("fnp.linalg.eig", lambda x: _gauge_free_eig(fnp, _separated(x)), lambda x: _gauge_free_eig(np, _separated(x)),
              DISTINCT, sig=square_sig(), tol=tol, dtypes=(F64, C128)),
        unary("fnp.linalg.eig[complex]", lambda x: _gauge_free_eig(fnp, _separated(x)),
              lambda x: _gauge_free_eig(np, _separated(x)), DISTINCT, sig=square_sig(), tol=tol, dtypes=COMPLEX),
        unary("fnp.linalg.eigvals", lambda x: fnp.linalg.eigvals(_separated(x)),
              lambda x: np.linalg.eigvals(_separated(x)).astype(np.result_type(x.dtype, np.complex64)),
              DISTINCT, sig=square_sig(), tol=tol),
        unary("fnp.linalg.eigvalsh", spd(fnp.linalg.eigvalsh), spd(np.linalg.eigvalsh), sig=square_sig(), tol=tol),
        unary("fnp.linalg.svd", lambda x: _gauge_free_svd(fnp, x), lambda x: _gauge_free_svd(np, x),
              DISTINCT, sig=matrix_sig(), tol=tol),
        unary("fnp.linalg.svdvals", fnp.linalg.svdvals, np.linalg.svdvals, DISTINCT, sig=matrix_sig(), tol=tol),
        unary("fnp.linalg.qr", lambda x: tuple(fnp.linalg.qr(_tall(x))), lambda x: tuple(np.linalg.qr(_tall(x))),
              sig=matrix_sig(tall=True), tol=tol),
        unary("fnp.linalg.pinv", fnp.linalg.pinv, np.linalg.pinv, DISTINCT, sig=matrix_sig(), tol=tol),
        OpSpec("fnp.linalg.lstsq", lambda a, b: fnp.linalg.lstsq(_tall(a), b)[0],
               lambda a, b: np.linalg.lstsq(_tall(a), b)[0], 2,
               st.integers(1, 3).map(lambda n: (((n + 1, n), (n + 1,)), {})), tol=tol),
        unary("fnp.linalg.matrix_power", fnp.linalg.matrix_power, np.linalg.matrix_power,
              sig=square_sig().flatmap(lambda sp: st.integers(0, 4).map(lambda n: (sp[0], {"n": n})))),
        unary("fnp.linalg.matrix_power[negative]", wc(fnp.linalg.matrix_power), wc(np.linalg.matrix_power),
              sig=square_sig().map(lambda sp: (sp[0], {"n": -2}))),
        OpSpec("fnp.linalg.multi_dot", lambda a, b, c: fnp.linalg.multi_dot([a, b, c]),
               lambda a, b, c: np.linalg.multi_dot([a, b, c]), 3,
               st.tuples(side, side, side, side).map(lambda d: (((d[0],), (d[0], d[1]), (d[1], d[2])), {}))),
        unary("fnp.linalg.norm", fnp.linalg.norm, np.linalg.norm, NONZERO, sig=norm_sig()),
        unary("fnp.linalg.vector_norm", fnp.linalg.vector_norm, np.linalg.vector_norm, NONZERO,
              sig=shapes(min_dims=1, min_side=1).map(lambda s: ((s,), {}))),
        unary("fnp.linalg.matrix_norm", fnp.linalg.matrix_norm, np.linalg.matrix_norm, DISTINCT,
              sig=matrix_sig().flatmap(lambda sp: st.sampled_from(["fro", "nuc", 2, -2]).map(
                  lambda o: (sp[0], {"ord": o}))), tol=tol),
        unary("fnp.linalg.cond", wc(fnp.linalg.cond), wc(np.linalg.cond), sig=square_sig(batch=False), tol=tol),
        unary("fnp.linalg.matrix_rank", fnp.linalg.matrix_rank, np.linalg.matrix_rank, sig=matrix_sig(),
              derivative="none"),
        unary("fnp.linalg.matrix_transpose", fnp.linalg.matrix_transpose, np.linalg.matrix_transpose,
              sig=same_shapes(1, min_dims=2)),
        OpSpec("fnp.linalg.vecdot", fnp.linalg.vecdot, np.linalg.vecdot, 2, same_shapes(2, min_dims=1)),
        unary("fnp.linalg.trace", fnp.linalg.trace, np.linalg.trace, sig=same_shapes(1, min_dims=2)),
        unary("fnp.linalg.diagonal", fnp.linalg.diagonal, np.linalg.diagonal, sig=same_shapes(1, min_dims=2)),
        OpSpec("fnp.linalg.outer", fnp.linalg.outer, np.linalg.outer, 2,
               st.tuples(shapes(min_dims=1, max_dims=1), shapes(min_dims=1, max_dims=1)).map(lambda s: (s, {}))),
        OpSpec("fnp.linalg.matmul", fnp.linalg.matmul, np.linalg.matmul, 2,
               st.tuples(side, side, side).map(lambda d: (((d[0], d[1]), (d[1], d[2])), {}))),
        OpSpec("fnp.linalg.tensordot", fnp.linalg.tensordot, np.linalg.tensordot, 2,
               st.tuples(side, side).map(lambda d: (((d[0], d[1]), (d[0], d[1])), {}))),
        OpSpec("fnp.linalg.cross", fnp.linalg.cross, np.linalg.cross, 2, same_shapes(2, min_dims=1, max_dims=1).map(
            lambda sp: (((3,), (3,)), {}))),
    ]


def _tall(x):
    return x if x.shape[-2] >= x.shape[-1] else x.mT if hasattr(x, "mT") else np.swapaxes(x, -1, -2)


def _gauge_free_eigh(lib, a):
    """Eigenvalues, and the eigenvector outer products (free of the sign choice)."""
    w, v = lib.linalg.eigh(a)
    return w, lib.einsum("ik,jk->kij", v, v)


def _gauge_free_eig(lib, a):
    """Eigenvalues and |eigenvectors| (free of LAPACK's phase choice), complex as functrans
    returns them."""
    w, v = lib.linalg.eig(a)
    dtype = np.result_type(a.dtype, np.complex64)
    return lib.astype(w, dtype) if lib is fnp else w.astype(dtype), lib.abs(v)


def _gauge_free_svd(lib, a):
    u, s, vh = lib.linalg.svd(a, full_matrices=False)
    return s, lib.einsum("ik,kj->kij", u, vh)


@st.composite
def fft_sig(draw, min_side=1):
    shape = draw(shapes(min_dims=1, min_side=min_side))
    nd = len(shape)
    axis = draw(st.integers(-nd, nd - 1))
    n = draw(st.one_of(st.none(), st.integers(1, 4)))
    return (shape,), {"n": n, "axis": axis, "norm": draw(st.sampled_from([None, "ortho", "forward"]))}


@st.composite
def fftn_sig(draw, min_side=1):
    shape = draw(shapes(min_dims=1, min_side=min_side))
    nd = len(shape)
    axes = tuple(draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=1)))
    s = draw(st.one_of(st.none(), st.lists(st.integers(1, 4), min_size=len(axes), max_size=len(axes)).map(tuple)))
    return (shape,), {"s": s, "axes": axes, "norm": draw(st.sampled_from([None, "ortho", "forward"]))}


def _fft_specs():
    specs = []
    for name in ("fft", "ifft", "fftn", "ifftn", "fft2", "ifft2"):
        sig = fftn_sig() if name.endswith(("n", "2")) else fft_sig()
        if name.endswith("2"):
            sig = shapes(min_dims=2, min_side=1).map(lambda s: ((s,), {}))
        specs.append(unary(f"fnp.fft.{name}", _fn(f"fft.{name}"), _ref(f"fft.{name}"), sig=sig, dtypes=COMPLEX))
        specs.append(unary(f"fnp.fft.{name}[real input]", _fn(f"fft.{name}"), _ref(f"fft.{name}"), sig=sig))
    for name in ("rfft", "rfftn", "rfft2"):
        sig = fft_sig() if name == "rfft" else fftn_sig() if name == "rfftn" else \
            shapes(min_dims=2, min_side=1).map(lambda s: ((s,), {}))
        specs.append(unary(f"fnp.fft.{name}", _fn(f"fft.{name}"), _ref(f"fft.{name}"), sig=sig))
    for name in ("irfft", "irfftn", "irfft2"):  # the default length 2 (m - 1) needs m >= 2
        sig = fft_sig(min_side=2) if name == "irfft" else fftn_sig(min_side=2) if name == "irfftn" else \
            shapes(min_dims=2, min_side=2).map(lambda s: ((s,), {}))
        specs.append(unary(f"fnp.fft.{name}", _fn(f"fft.{name}"), _ref(f"fft.{name}"), sig=sig, dtypes=COMPLEX))
    specs += [
        unary("fnp.fft.fftshift", fnp.fft.fftshift, np.fft.fftshift, sig=same_shapes(1, min_dims=1)),
        unary("fnp.fft.ifftshift", fnp.fft.ifftshift, np.fft.ifftshift, sig=same_shapes(1, min_dims=1)),
        OpSpec("fnp.fft.fftfreq", fnp.fft.fftfreq, np.fft.fftfreq, 0,
               st.integers(1, 5).map(lambda n: ((), {"n": n, "d": 0.5})), derivative="none"),
        OpSpec("fnp.fft.rfftfreq", fnp.fft.rfftfreq, np.fft.rfftfreq, 0,
               st.integers(1, 5).map(lambda n: ((), {"n": n, "d": 0.5})), derivative="none"),
    ]
    return specs


# =============================================================================================
# Primitives
# =============================================================================================


def _prim(p):
    return lambda *args, **params: p.bind(*args, **params)


def _pspec(name, fn, ref, nargs, sig, **kw):
    return OpSpec(f"prim.{name}", fn, ref, nargs, sig, **kw)


def _special_ref(name):
    def ref(*args, **params):
        import scipy.special

        return np.asarray(getattr(scipy.special, name)(*params.values(), *args))

    return ref


@st.composite
def cumsum_prim_sig(draw):
    shape = draw(shapes(min_dims=1))
    return (shape,), {"axis": draw(st.integers(0, len(shape) - 1)), "reverse": draw(st.booleans())}


def _cumsum_ref(x, *, axis, reverse):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis), axis)
    return np.cumsum(x, axis)


@st.composite
def batch_square_sig(draw, rhs=False, tall=False):
    n = draw(st.integers(1, 3))
    b = draw(shapes(max_dims=1, min_side=1, max_side=2))
    if rhs:
        return (b + (n, n), b + (n, draw(st.integers(1, 2)))), {}
    return (b + (n, n),), {}


def _fft_prim_fn(x, *, fft_type, axes, length, norm):
    from functrans import primitives as P

    return P.fft_p.bind(x, fft_type=fft_type, axes=axes, length=length, norm=norm)


def _fft_prim_ref(x, *, fft_type, axes, length, norm):
    f = np.fft
    if fft_type == "irfft":
        return f.irfftn(x, s=[x.shape[a] for a in axes[:-1]] + [length], axes=axes, norm=norm)
    return {"fft": f.fftn, "ifft": f.ifftn, "rfft": f.rfftn}[fft_type](x, axes=axes, norm=norm)


@st.composite
def fft_prim_sig(draw, fft_type):
    shape = list(draw(shapes(min_dims=1, min_side=1)))
    nd = len(shape)
    axes = tuple(sorted(draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=1))))
    norm = draw(st.sampled_from(["backward", "ortho", "forward"]))
    length = None
    if fft_type == "irfft":
        length = draw(st.integers(1, 5))
        shape[axes[-1]] = length // 2 + 1
    return (tuple(shape),), {"fft_type": fft_type, "axes": axes, "length": length, "norm": norm}


def _primitive_specs():
    from functrans import primitives as P

    unary_smooth = [
        ("exp2", np.exp2, ANY), ("log2", np.log2, POSITIVE), ("log10", np.log10, POSITIVE),
        ("cbrt", np.cbrt, NONZERO), ("sinh", np.sinh, ANY), ("cosh", np.cosh, ANY),
        ("arcsin", np.arcsin, UNIT), ("arccos", np.arccos, UNIT), ("arctan", np.arctan, ANY),
        ("arcsinh", np.arcsinh, ANY), ("arccosh", np.arccosh, ABOVE_ONE), ("arctanh", np.arctanh, UNIT),
        ("sinc", np.sinc, ANY), ("sinc_derivative", None, ANY), ("sinc_second", None, ANY),
        ("erf", _special_ref("erf"), ANY), ("erfc", _special_ref("erfc"), ANY),
        ("erfinv", _special_ref("erfinv"), UNIT), ("lgamma", _special_ref("gammaln"), POSITIVE),
        ("digamma", _special_ref("digamma"), POSITIVE), ("i0", _special_ref("i0"), ANY),
        ("i1", _special_ref("i1"), ANY), ("i0e", _special_ref("i0e"), NONZERO),
        ("i1e", _special_ref("i1e"), NONZERO), ("log_ndtr", _special_ref("log_ndtr"), ANY),
    ]
    binary_smooth = [
        ("arctan2", np.arctan2, (ANY, NONZERO)), ("hypot", np.hypot, (NONZERO, NONZERO)),
        ("logaddexp", np.logaddexp, ANY), ("logaddexp2", np.logaddexp2, ANY),
        ("mod", np.remainder, _MOD_DOMAINS), ("fmod", np.fmod, _MOD_DOMAINS),
        ("xlogy", _special_ref("xlogy"), (ANY, POSITIVE)), ("xlog1py", _special_ref("xlog1py"), (ANY, POSITIVE)),
    ]
    flat_unary = [("floor", np.floor), ("ceil", np.ceil), ("rint", np.rint), ("trunc", np.trunc),
                  ("signbit", np.signbit), ("isnan", np.isnan), ("isinf", np.isinf),
                  ("isfinite", np.isfinite), ("logical_not", np.logical_not)]
    flat_binary = [("floor_divide", np.floor_divide), ("logical_and", np.logical_and),
                   ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)]
    wc, spd = _well_conditioned, _spd
    tol = {F64: {"atol": 1e-5, "rtol": 1e-5}}
    specs = [
        *(_pspec(n, _prim(getattr(P, f"{n}_p")), ref, 1, same_shapes(1), domain=d) for n, ref, d in unary_smooth),
        *(_pspec(n, _prim(getattr(P, f"{n}_p")), ref, 2, broadcast_shapes(2), domain=d)
          for n, ref, d in binary_smooth),
        *(_pspec(n, _prim(getattr(P, f"{n}_p")), ref, 1, same_shapes(1), domain=HALF_OFF, derivative="zero")
          for n, ref in flat_unary),
        *(_pspec(n, _prim(getattr(P, f"{n}_p")), ref, 2, broadcast_shapes(2), domain=(HALF_OFF, NONZERO),
                 derivative="zero") for n, ref in flat_binary),
        _pspec("round", _prim(P.round_p), lambda x, *, decimals: np.round(x, decimals), 1,
               with_params(same_shapes(1), {"decimals": 1}), domain=HALF_OFF, derivative="zero"),
        _pspec("polygamma", _prim(P.polygamma_p), lambda x, *, n: _special_ref("polygamma")(x, n=n).astype(x.dtype), 1,  # float32 kept
               same_shapes(1).flatmap(lambda sp: st.integers(0, 2).map(lambda n: (sp[0], {"n": n}))),
               domain=POSITIVE, tol=tol),
        _pspec("cumsum", _prim(P.cumsum_p), _cumsum_ref, 1, cumsum_prim_sig()),
        _pspec("argsort", _prim(P.argsort_p), lambda x, *, axis, descending: np.argsort(x, axis, kind="stable"),
               1, same_shapes(1, min_dims=1).map(lambda sp: (sp[0], {"axis": -1, "descending": False})),
               domain=GRID, derivative="zero"),
        _pspec("searchsorted", lambda a, v, *, side: P.searchsorted_p.bind(fnp.sort(a), v, side=side),
               lambda a, v, *, side: np.searchsorted(np.sort(a), v, side=side), 2, searchsorted_sig(),
               domain=(GRID, GRID), derivative="zero"),
        _pspec("solve", lambda a, b, *, transpose_a: P.solve_p.bind(wc(a), b, transpose_a=transpose_a),
               lambda a, b, *, transpose_a: np.linalg.solve(np.swapaxes(wc(a), -1, -2) if transpose_a else wc(a), b),
               2, batch_square_sig(rhs=True).flatmap(lambda sp: st.booleans().map(
                   lambda t: (sp[0], {"transpose_a": t})))),
        _pspec("triangular_solve", lambda a, b, **kw: P.triangular_solve_p.bind(wc(a), b, **kw), _trisolve_ref, 2,
               batch_square_sig(rhs=True).flatmap(lambda sp: st.fixed_dictionaries(
                   {"lower": st.booleans(), "transpose_a": st.booleans(), "unit_diagonal": st.booleans()}).map(
                   lambda p: (sp[0], p)))),
        _pspec("cholesky", lambda x: P.cholesky_p.bind(spd(x)), lambda x: np.linalg.cholesky(spd(x)), 1,
               batch_square_sig(), tol=tol),
        _pspec("eigh", lambda x: _gauge_free_eigh_prim(P.eigh_p.bind(spd(x))),
               lambda x: _gauge_free_eigh_prim(np.linalg.eigh(spd(x))), 1, square_sig(batch=False),
               domain=DISTINCT, tol=tol),
        _pspec("svd", lambda x, *, full_matrices: _gauge_free_svd_prim(P.svd_p.bind(x, full_matrices=False)),
               lambda x, *, full_matrices: _gauge_free_svd_prim(np.linalg.svd(x, full_matrices=False)), 1,
               matrix_sig().map(lambda sp: (sp[0], {"full_matrices": False})), domain=DISTINCT, tol=tol),
        _pspec("eig", lambda x: _gauge_free_eig_prim(P.eig_p.bind(_separated(x))),
               lambda x: _gauge_free_eig_prim(np.linalg.eig(_separated(x))), 1, batch_square_sig(), domain=DISTINCT,
               tol=tol),
        _pspec("qr", lambda x: tuple(P.qr_p.bind(_tall(x))), lambda x: tuple(np.linalg.qr(_tall(x))), 1,
               matrix_sig(tall=True), tol=tol),
        _pspec("det", lambda x: P.det_p.bind(wc(x)), lambda x: np.linalg.det(wc(x)), 1, batch_square_sig()),
        _pspec("slogdet", lambda x: tuple(P.slogdet_p.bind(wc(x))), lambda x: tuple(np.linalg.slogdet(wc(x))), 1,
               batch_square_sig()),
        _pspec("pinv", lambda x, *, rcond: P.pinv_p.bind(x, rcond=rcond),
               lambda x, *, rcond: np.linalg.pinv(x, rcond=rcond), 1,
               matrix_sig().map(lambda sp: (sp[0], {"rcond": 1e-15})), domain=DISTINCT, tol=tol),
        *(_pspec(f"fft[{t}]", _fft_prim_fn, _fft_prim_ref, 1, fft_prim_sig(t),
                 dtypes=COMPLEX if t in ("fft", "ifft", "irfft") else REAL)
          for t in ("fft", "ifft", "rfft", "irfft")),
    ]
    return specs


def _trisolve_ref(a, b, *, lower, transpose_a, unit_diagonal):
    a = _well_conditioned(a)
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        n = t.shape[-1]
        t = np.where(np.eye(n, dtype=bool), 1.0, t).astype(a.dtype)
    if transpose_a:
        t = np.swapaxes(t, -1, -2)
    return np.linalg.solve(t, b)


def _gauge_free_eigh_prim(wv):
    w, v = wv
    import functrans.numpy as lib

    return w, lib.einsum("ik,jk->kij", v, v)


def _gauge_free_eig_prim(wv):
    w, v = wv
    import functrans.numpy as lib

    dtype = np.result_type(w.dtype, np.complex64)
    return (lib.astype(w, dtype) if hasattr(w, "_trace") else w.astype(dtype)), lib.abs(v)


def _gauge_free_svd_prim(usv):
    u, s, vh = usv
    import functrans.numpy as lib

    return s, lib.einsum("ik,kj->kij", u, vh)


# Rows for the registry table (tests/op_specs.py appends them to FNP_SPECS and PRIMITIVE_SPECS)
MORE_FNP_SPECS: list[OpSpec] = [
    *_elementwise_specs(),
    *_reduction_specs(),
    *_manipulation_specs(),
    *_sorting_specs(),
]
MORE_PRIMITIVE_SPECS: list[OpSpec] = _primitive_specs()

# Rows for names that are not top-level functions (fnp.linalg.*, fnp.fft.*, fnp.r_, fnp.c_),
# run by tests/test_linalg.py, tests/test_fft.py and tests/test_numpy_more.py.
LINALG_SPECS: list[OpSpec] = _linalg_specs()
FFT_SPECS: list[OpSpec] = _fft_specs()
INDEX_TRICK_SPECS: list[OpSpec] = [
    OpSpec("fnp.r_", lambda x, y: fnp.r_[x, 0:2, y], lambda x, y: np.r_[x, 0:2, y], 2,
           st.tuples(shapes(min_dims=1, max_dims=1), shapes(max_dims=1)).map(lambda s: (s, {}))),
    OpSpec("fnp.c_", lambda x, y: fnp.c_[x, y], lambda x, y: np.c_[x, y], 2,
           shapes(min_dims=1, max_dims=1).map(lambda s: ((s, s), {}))),
]
