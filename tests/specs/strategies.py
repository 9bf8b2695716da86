"""Where the op tables draw their arguments: value domains, dtypes, and the hypothesis strategies
of shapes and of the static parameters that several topics share (axes, broadcasting)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

F64, F32, C128, C64 = np.float64, np.float32, np.complex128, np.complex64
REAL = (F64, F32)
COMPLEX = (C128, C64)


# =============================================================================================
# Argument values
# =============================================================================================


@dataclass(frozen=True)
class Domain:
    """Where an argument's values are drawn.

    kinds: ``uniform`` in [lo, hi]; ``away``: |x| in [margin, hi] with a random sign (for
    operations with a kink or pole at 0); ``distinct``: pairwise at least 0.2 apart (no ties
    for max/min), shifted by ``margin``; ``grid``: integers in [lo, hi] as floats (ties on purpose, for
    comparisons); ``bool``: random booleans; ``singular``: matrices (the last two axes) with
    random singular vectors and singular values at least 0.5 apart and at least 0.5, for the
    operations built on the SVD, whose derivatives grow without bound as singular values meet
    or vanish (near such matrices a finite-difference check measures its own truncation error).
    """

    lo: float = -2.0
    hi: float = 2.0
    kind: str = "uniform"
    margin: float = 0.0
    dtype: Any = None  # this dtype whatever the run's dtype (for mixed-precision rows)

    def real(self, rng, shape):
        if self.kind == "away":
            return rng.uniform(self.margin, self.hi, shape) * rng.choice([-1.0, 1.0], shape)
        if self.kind == "distinct":  # (shifted by ``margin``: 0.125 interleaves two arrays)
            n = math.prod(shape)
            # on the grid of multiples of 0.25 whatever n is, so that two arrays of different
            # sizes still interleave (n / 2 put a scalar's value on another array's grid)
            spread = (rng.permutation(n) - n // 2) * 0.25 + rng.uniform(0, 0.05, n) + self.margin
            return spread.reshape(shape)
        if self.kind == "grid":
            return rng.integers(int(self.lo), int(self.hi) + 1, shape).astype(np.float64)
        return rng.uniform(self.lo, self.hi, shape)

    def __call__(self, rng, shape, dtype):
        if self.kind == "bool":
            return np.asarray(rng.random(shape) < 0.5)
        dtype = self.dtype or dtype
        if self.kind == "singular":
            return _with_singular_values(rng, shape, np.issubdtype(dtype, np.complexfloating)).astype(dtype)
        values = self.real(rng, shape)
        if np.issubdtype(dtype, np.complexfloating):
            values = values + 1j * self.real(rng, shape)
        return np.asarray(values).astype(dtype)


def _orthonormal_columns(rng, rows, cols, complex_):
    """A ``rows`` x ``cols`` matrix with orthonormal columns, in a random direction."""
    a = rng.standard_normal((rows, cols))
    if complex_:
        a = a + 1j * rng.standard_normal((rows, cols))
    return np.linalg.qr(a)[0]


def _with_singular_values(rng, shape, complex_):
    """Matrices ``U diag(s) V^H`` (the last two axes of ``shape``) with random orthonormal
    ``U``, ``V`` and singular values 0.5, 1.1, 1.7, ... (each moved up by less than 0.1), in
    random order along the diagonal."""
    *batch, m, n = shape
    k = min(m, n)
    out = np.zeros(shape, complex if complex_ else float)
    for index in np.ndindex(*batch):
        s = 0.5 + 0.6 * rng.permutation(k) + rng.uniform(0, 0.1, k)
        u, v = _orthonormal_columns(rng, m, k, complex_), _orthonormal_columns(rng, n, k, complex_)
        out[index] = (u * s) @ v.conj().T
    return out


ANY = Domain()
POSITIVE = Domain(0.5, 3.0)
NONZERO = Domain(hi=2.0, kind="away", margin=0.5)
DISTINCT = Domain(kind="distinct")
# distinct, and at least 0.075 from every value DISTINCT draws: for the second operand of a
# comparison between two arrays (maximum.outer, minimum.at), which DISTINCT alone leaves free
# to tie with the first
DISTINCT_BETWEEN = Domain(kind="distinct", margin=0.125)
SINGULAR = Domain(kind="singular")
GRID = Domain(-2, 2, kind="grid")
BOOL = Domain(kind="bool")
UNIT = Domain(-0.9, 0.9)
ABOVE_ONE = Domain(1.2, 3.0)
HALF_OFF = Domain(-2.0, 2.0, kind="away", margin=0.1)  # away from the jumps at integers


# =============================================================================================
# Shapes and static parameters
# =============================================================================================

MAX_SIDE = 3

side = st.integers(0, MAX_SIDE)


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=MAX_SIDE):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def same_shapes(n, **kw):
    """n arguments of one shape, no parameters."""
    return shapes(**kw).map(lambda s: ((s,) * n, {}))


def broadcast_shapes(n, max_dims=3):
    """n shapes that broadcast together (0-d and size-0 included), no parameters."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=0, max_dims=max_dims, min_side=0, max_side=MAX_SIDE,
    ).map(lambda b: (b.input_shapes, {}))


def with_params(sig, params: dict):
    """Add fixed parameters to every draw of ``sig``."""
    return sig.map(lambda sp: (sp[0], {**sp[1], **params}))


def no_args(params_strategy):
    """Parameters only: a row of an operation that takes no array argument (creation)."""
    return params_strategy.map(lambda p: ((), p))


@st.composite
def axis_sig(draw, *, tuple_axes=True, none=True, keepdims=True, nonempty=False, min_count=0,
             min_dims=0, arg=None):
    """A shape and NumPy's ``axis`` / ``keepdims`` for it: None, an int or a tuple of ints,
    negative ones included. ``nonempty``: reduced axes get size >= 1; ``min_count``: at least
    that many elements are reduced."""
    shape = list(draw(shapes(min_dims=min_dims)))
    nd = len(shape)
    choices = ["none"] if none or nd == 0 else []
    if nd:
        choices.append("int")
        if tuple_axes:
            choices.append("tuple")
    kind = draw(st.sampled_from(choices))
    if kind == "none":
        axis, reduced = None, list(range(nd))
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
        reduced = [axis % nd]
    else:
        reduced = draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd))
        axis = tuple(a - nd if draw(st.booleans()) else a for a in reduced)
    if nonempty:
        for a in reduced:
            shape[a] = max(shape[a], 1)
    if min_count and math.prod(shape[a] for a in reduced) < min_count:
        if not reduced:
            axis, reduced = None, list(range(nd))
        if not reduced:  # 0-d: nothing can be reduced
            shape = [min_count]
            axis, reduced = None, [0]
        else:
            shape[reduced[0]] = min_count
            for a in reduced[1:]:
                shape[a] = max(shape[a], 1)
    params = {"axis": axis}
    if keepdims:
        params["keepdims"] = draw(st.booleans())
    shapes_ = (tuple(shape),) if arg is None else arg(tuple(shape))
    return shapes_, params


@st.composite
def trace_sig(draw):
    """A shape of two or more dimensions, two distinct axes of it and a diagonal offset."""
    shape = draw(shapes(min_dims=2))
    nd = len(shape)
    a1 = draw(st.integers(0, nd - 1))
    a2 = draw(st.integers(0, nd - 1).filter(lambda a: a != a1))
    return (shape,), {"offset": draw(st.integers(-2, 2)), "axis1": a1, "axis2": a2}

