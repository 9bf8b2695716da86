"""Table rows of the ufunc methods of the elementwise functions (``fnp.add.reduce``,
``.accumulate``, ``.reduceat``, ``.outer``, ``.at``) against NumPy's own methods, with their
axes, ``keepdims``, ``initial`` and ``where``."""
from __future__ import annotations

import functools

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp

from .indexing import update_sig
from .opspec import OpSpec, unary
from .strategies import ANY, DISTINCT, DISTINCT_BETWEEN, POSITIVE, axis_sig, shapes, with_params


def fold_reduce(ufunc, x, *, axis, keepdims=False):
    """``ufunc.reduce`` along one axis as a left fold of NumPy calls: NumPy 2.4's own reduce of
    ``power`` and ``arctan2`` along a contiguous axis disagrees with its ``accumulate`` (and with
    this fold) from three entries on."""
    x = np.asarray(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    moved = np.moveaxis(x, axis, 0)
    out = functools.reduce(ufunc, list(moved[1:]), moved[0])
    return np.expand_dims(out, axis) if keepdims else np.asarray(out)


# Binary functions: domain, and whether the reduction takes several axes (NumPy's reorderable).
REDUCIBLE = {
    "add": (ANY, True), "multiply": (ANY, True), "maximum": (DISTINCT, True), "minimum": (DISTINCT, True),
    "fmax": (DISTINCT, True), "fmin": (DISTINCT, True), "logaddexp": (ANY, True), "logaddexp2": (ANY, True),
    "hypot": (POSITIVE, True), "subtract": (ANY, False), "divide": (POSITIVE, False),
    "power": (POSITIVE, False), "arctan2": (POSITIVE, False),
}
_NUMPY_REDUCE_WRONG = ("power", "arctan2")


def _reduce_ref(name):
    ufunc = getattr(np, name)
    if name in _NUMPY_REDUCE_WRONG:
        return lambda x, **kw: fold_reduce(ufunc, x, **kw)
    return lambda x, **kw: ufunc.reduce(x, **kw)


def _reduce_sig(name):
    _, reorderable = REDUCIBLE[name]
    if reorderable:
        identity = getattr(np, name).identity  # (an empty reduction's -inf has no finite differences)
        return axis_sig(nonempty=identity is None or not np.isfinite(identity))
    return axis_sig(tuple_axes=False, none=False, min_dims=1, nonempty=True)


@st.composite
def masked_sig(draw, initial):
    """A shape, one axis, a boolean mask broadcast against the shape, and ``initial``."""
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    mask_shape = shape[draw(st.integers(0, nd)):]
    seed = draw(st.integers(0, 2**16))
    where = np.random.default_rng(seed).random(mask_shape) < 0.6
    params = {"axis": draw(st.integers(-nd, nd - 1)), "where": where, "keepdims": draw(st.booleans())}
    if initial is not None:
        params["initial"] = initial
    return (shape,), params


@st.composite
def one_axis_sig(draw, min_side=0):
    shape = draw(shapes(min_dims=1, min_side=min_side))
    return (shape,), {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def reduceat_sig(draw):
    shape = draw(shapes(min_dims=1, min_side=1))
    nd = len(shape)
    axis = draw(st.integers(-nd, nd - 1))
    n = shape[axis]
    indices = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    return (shape,), {"indices": np.asarray(indices, np.intp), "axis": axis}


@st.composite
def outer_sig(draw):
    return (draw(shapes(max_dims=2)), draw(shapes(max_dims=2))), {}


def _method(name, method):
    return lambda *args, **kw: getattr(getattr(fnp, name), method)(*args, **kw)


def _at_fn(name):
    return lambda x, v, *, index: getattr(fnp, name).at(x, index, v, inplace=False)


def _at_ref(name):
    def ref(x, v, *, index):
        y = x.copy()  # (values broadcast first: NumPy 2.4's ufunc.at misplaces broadcast values)
        getattr(np, name).at(y, index, np.broadcast_to(v, y[index].shape))
        return y
    return ref


def _specs():
    rows = []
    for name, (domain, _) in REDUCIBLE.items():
        rows.append(unary(f"fnp.{name}[reduce]", _method(name, "reduce"), _reduce_ref(name), domain,
                          sig=_reduce_sig(name)))
        ufunc = getattr(np, name)
        rows.append(unary(f"fnp.{name}[accumulate]", _method(name, "accumulate"), ufunc.accumulate, domain,
                          sig=one_axis_sig()))
        reduceat_ref = ufunc.reduceat if name not in _NUMPY_REDUCE_WRONG else None
        rows.append(unary(f"fnp.{name}[reduceat]", _method(name, "reduceat"), reduceat_ref, domain,
                          sig=reduceat_sig()))
        rows.append(OpSpec(f"fnp.{name}[outer]", _method(name, "outer"), ufunc.outer, 2, outer_sig(),
                           (DISTINCT, DISTINCT_BETWEEN) if domain is DISTINCT else domain))
    for name, initial in (("add", 1.5), ("add", None), ("multiply", None), ("maximum", -0.5),
                          ("logaddexp", -1.0), ("hypot", 0.5), ("subtract", 2.0), ("divide", 3.0)):
        domain = POSITIVE if name in ("divide", "hypot") else REDUCIBLE[name][0]
        rows.append(unary(f"fnp.{name}[reduce, where, initial={initial}]", _method(name, "reduce"),
                          _reduce_ref(name), domain, sig=masked_sig(initial)))
    rows.append(unary("fnp.subtract[reduce, initial]", _method("subtract", "reduce"), np.subtract.reduce,
                      sig=with_params(one_axis_sig(), {"initial": 1.0})))
    for name in ("add", "subtract", "multiply", "divide", "maximum", "minimum"):
        domain = (ANY, POSITIVE) if name == "divide" \
            else (DISTINCT, DISTINCT_BETWEEN) if name in ("maximum", "minimum") else ANY
        rows.append(OpSpec(f"fnp.{name}[at]", _at_fn(name), _at_ref(name), 2, update_sig(), domain))
    return rows


FUNCTIONS: list[OpSpec] = _specs()
