"""Table rows of the cumulative operations: running sums and products (NumPy's and the array
API's), differences and gradients."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp
from functrans import primitives as P

from .opspec import OpSpec, binds, prim_spec, unary
from .strategies import COMPLEX, GRID, shapes


@st.composite
def cumsum_prim_sig(draw):
    shape = draw(shapes(min_dims=1))
    return (shape,), {"axis": draw(st.integers(0, len(shape) - 1)), "reverse": draw(st.booleans())}


def _cumsum_ref(x, *, axis, reverse):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis), axis)
    return np.cumsum(x, axis)


PRIMITIVES: list[OpSpec] = [
    prim_spec("cumsum", binds(P.cumsum_p), _cumsum_ref, 1, cumsum_prim_sig()),
]


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


FUNCTIONS: list[OpSpec] = [
    unary("fnp.cumsum", fnp.cumsum, np.cumsum, sig=scan_sig()),
    unary("fnp.cumsum[complex]", fnp.cumsum, np.cumsum, sig=scan_sig(), dtypes=COMPLEX),
    unary("fnp.cumprod[complex]", fnp.cumprod, np.cumprod, sig=scan_sig(), dtypes=COMPLEX),
    unary("fnp.diff[complex]", fnp.diff, np.diff, sig=diff_sig(), dtypes=COMPLEX),
    unary("fnp.cumprod", fnp.cumprod, np.cumprod, sig=scan_sig()),
    unary("fnp.cumprod[zeros]", fnp.cumprod, np.cumprod, GRID, sig=scan_sig()),
    unary("fnp.nancumsum", fnp.nancumsum, np.nancumsum, sig=scan_sig()),
    unary("fnp.cumulative_sum", fnp.cumulative_sum, np.cumulative_sum, sig=array_api_scan_sig()),
    unary("fnp.cumulative_prod", fnp.cumulative_prod, np.cumulative_prod, sig=array_api_scan_sig()),
    unary("fnp.diff", fnp.diff, np.diff, sig=diff_sig()),
    unary("fnp.gradient", fnp.gradient, np.gradient, sig=gradient_sig()),
]
