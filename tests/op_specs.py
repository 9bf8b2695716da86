"""The table of operations under test: one ``OpSpec`` per primitive and per public
``functrans.numpy`` function, and the checks that run one row.

A spec says how to call the operation (``fn``), what NumPy computes for it (``ref``), how
many array arguments it takes, and a hypothesis strategy (``sig``) that draws the argument
shapes together with the static parameters that fit them (axes, indices, dimension numbers).
Values are drawn inside each argument's ``Domain`` from a generator whose seed hypothesis
picks, away from the points where an operation is not smooth, so finite differences are
meaningful. ``derivative`` says what to check about derivatives:

- ``"check"``: ``check_grads`` to ``order`` in forward and reverse mode;
- ``"zero"``: the operation is piecewise constant (comparisons, argmax, stop_gradient):
  its tangents and cotangents must be zero;
- ``"none"``: there is no array output to differentiate (shape queries, creation).

Every row is also run on plain NumPy arrays against ``ref`` (values, shapes and dtypes), and
in a lower precision (float32, complex64) where the dtypes of values, tangents and
cotangents must stay in that precision.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import functrans as ft
import functrans.numpy as fnp
from functrans import primitives as P
from functrans import tree
from functrans.core.trace import Tracer
from functrans.numpy._indexing import _static_index
from functrans.primitives.indexing import build_index
from functrans.testing import check_grads

from backends import BACKENDS, ArrayBackend

NUMPY = BACKENDS["numpy"]

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
    for max/min); ``grid``: integers in [lo, hi] as floats (ties on purpose, for
    comparisons); ``bool``: random booleans.
    """

    lo: float = -2.0
    hi: float = 2.0
    kind: str = "uniform"
    margin: float = 0.0
    dtype: Any = None  # this dtype whatever the run's dtype (for mixed-precision rows)

    def real(self, rng, shape):
        if self.kind == "away":
            return rng.uniform(self.margin, self.hi, shape) * rng.choice([-1.0, 1.0], shape)
        if self.kind == "distinct":
            n = math.prod(shape)
            spread = (rng.permutation(n) - n / 2) * 0.25 + rng.uniform(0, 0.05, n)
            return spread.reshape(shape)
        if self.kind == "grid":
            return rng.integers(int(self.lo), int(self.hi) + 1, shape).astype(np.float64)
        return rng.uniform(self.lo, self.hi, shape)

    def __call__(self, rng, shape, dtype):
        if self.kind == "bool":
            return np.asarray(rng.random(shape) < 0.5)
        values = self.real(rng, shape)
        dtype = self.dtype or dtype
        if np.issubdtype(dtype, np.complexfloating):
            values = values + 1j * self.real(rng, shape)
        return np.asarray(values).astype(dtype)


ANY = Domain()
POSITIVE = Domain(0.5, 3.0)
NONZERO = Domain(hi=2.0, kind="away", margin=0.5)
DISTINCT = Domain(kind="distinct")
GRID = Domain(-2, 2, kind="grid")
BOOL = Domain(kind="bool")


# =============================================================================================
# Shapes and static parameters
# =============================================================================================

MAX_SIDE = 3


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
def reduce_axes_sig(draw, nonempty=False):
    """A shape and the primitive's ``axes``: non-negative, any order."""
    shape = list(draw(shapes()))
    axes = tuple(draw(st.lists(st.integers(0, max(len(shape) - 1, 0)), unique=True,
                               max_size=len(shape))))
    if nonempty:
        for a in axes:
            shape[a] = max(shape[a], 1)
    return (tuple(shape),), {"axes": axes}


# -- indices ----------------------------------------------------------------------------------


@st.composite
def index_arrays_items(draw, sizes):
    """One integer array per dimension size, all of one shape; repeats on purpose."""
    if any(n == 0 for n in sizes):
        shape = (0,)
    else:
        shape = draw(st.sampled_from([(1,), (2,), (3,), (4,), (2, 2), ()]))
    items = []
    for n in sizes:
        positions = st.integers(-n, n - 1)
        if n and draw(st.booleans()):  # from a pool of one or two positions: repeats for sure
            positions = st.sampled_from(draw(st.lists(positions, min_size=1, max_size=2)))
        values = draw(st.lists(positions, min_size=math.prod(shape), max_size=math.prod(shape))) if n else []
        items.append(np.asarray(values, dtype=np.int64).reshape(shape))
    return items


@st.composite
def basic_item(draw, n):
    kinds = ["slice", "full"] + (["int"] if n else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    if kind == "full":
        return slice(None)
    bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
    step = draw(st.sampled_from([None, 1, 2, -1, -2, 3]))
    return slice(draw(bound), draw(bound), step)


@st.composite
def numpy_index(draw, shape, arrays=True, masks=True):
    """An index for an array of ``shape`` in NumPy's language: ints, slices, None, Ellipsis,
    integer arrays (repeated entries, several arrays broadcast together, apart or adjacent)
    and boolean masks."""
    nd = len(shape)
    if masks and nd and draw(st.integers(0, 4)) == 0:
        m = draw(st.integers(1, nd))
        mask = draw(hnp.arrays(np.bool_, shape[:m]))
        rest = [draw(basic_item(n)) for n in shape[m:m + draw(st.integers(0, nd - m))]]
        return (mask, *rest)
    front = draw(st.integers(0, nd))
    use_ellipsis = draw(st.booleans())
    back = draw(st.integers(0, nd - front)) if use_ellipsis else 0
    dims = list(range(front)) + list(range(nd - back, nd))
    kinds = [draw(st.sampled_from(["basic", "basic", "array"] if arrays else ["basic"])) for _ in dims]
    array_dims = [d for d, k in zip(dims, kinds) if k == "array"]
    array_items = iter(draw(index_arrays_items([shape[d] for d in array_dims])))
    items = [next(array_items) if k == "array" else draw(basic_item(shape[d])) for d, k in zip(dims, kinds)]
    if use_ellipsis:
        items.insert(front, Ellipsis)
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    if len(items) == 1 and draw(st.booleans()):
        return items[0]
    return tuple(items)


def indexed_shape(shape, index):
    return np.empty(shape, np.int8)[index].shape


@st.composite
def getitem_sig(draw, arrays=True, masks=True):
    shape = draw(shapes())
    return (shape,), {"index": draw(numpy_index(shape, arrays, masks))}


@st.composite
def update_sig(draw, scalar=False):
    """x's shape, an index, and a values shape that broadcasts to x[index]."""
    shape = draw(shapes())
    index = draw(numpy_index(shape))
    target = list(indexed_shape(shape, index))
    drop = draw(st.integers(0, len(target)))
    values = [1 if draw(st.integers(0, 3)) == 0 else n for n in target[drop:]]
    if scalar:
        return (shape,), {"index": index, "value": draw(st.sampled_from([0.5, -2.0, 3.0]))}
    return (shape, tuple(values)), {"index": index}


def as_primitive_index(shape, index):
    static, arrays = _static_index(len(shape), index)
    return {"index": static, "arrays": tuple(arrays)}


# -- products ---------------------------------------------------------------------------------

side = st.integers(0, MAX_SIDE)


@st.composite
def matmul_sig(draw):
    """NumPy matmul operands: 1-D on either side, 2-D, and batch dimensions that broadcast."""
    m, k, n = draw(side), draw(side), draw(side)
    a_kind, b_kind = draw(st.sampled_from(["vec", "mat", "batch"])), draw(st.sampled_from(["vec", "mat", "batch"]))
    a_batch, b_batch = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=1, max_dims=2, min_side=0, max_side=MAX_SIDE)).input_shapes
    a = (k,) if a_kind == "vec" else (m, k) if a_kind == "mat" else a_batch + (m, k)
    b = (k,) if b_kind == "vec" else (k, n) if b_kind == "mat" else b_batch + (k, n)
    return (a, b), {}


@st.composite
def dot_sig(draw):
    a = draw(shapes(max_dims=3))
    if not a:  # a scalar multiplies anything
        return (a, draw(shapes(max_dims=2))), {}
    kind = draw(st.sampled_from(["vec", "nd", "scalar"]))
    b = {"vec": (a[-1],), "scalar": ()}.get(kind) or draw(shapes(max_dims=1)) + (a[-1], draw(side))
    return (a, b), {}


@st.composite
def tensordot_sig(draw):
    n = draw(st.integers(0, 2))
    shared = draw(shapes(min_dims=n, max_dims=n))
    a = draw(shapes(max_dims=2)) + shared
    b = shared + draw(shapes(max_dims=2))
    if draw(st.booleans()):
        return (a, b), {"axes": n}
    # the same contraction spelled as explicit axis lists, in a shuffled order, with
    # negative numbers from the end
    order = draw(st.permutations(range(n)))
    a_axes = [len(a) - n + i for i in order]
    b_axes = [i - len(b) if draw(st.booleans()) else i for i in order]
    return (a, b), {"axes": (a_axes, b_axes)}


@st.composite
def inner_sig(draw):
    a = draw(shapes(max_dims=2))
    if not a:
        return (a, draw(shapes(max_dims=2))), {}
    return (a, draw(shapes(max_dims=1)) + (a[-1],)), {}


@st.composite
def vdot_sig(draw):
    a = draw(shapes(max_dims=2))
    return (a, draw(st.sampled_from([a, (math.prod(a),)]))), {}


EINSUM_FORMS = [
    "ij,jk->ik", "i,i->", "i,j->ij", "ij->ji", "ij->", "ij,ij->ij", "ij,ij->i", "ij,j->i",
    "bij,bjk->bik", "ijk,jl->ilk", "ij,jk,kl->il", "ij,jk", "i->i", "...ij,...jk->...ik",
    "...i,...i->...", "ij...,j->i...", "abc,cd,ad->b",
]


@st.composite
def einsum_sig(draw):
    form = draw(st.sampled_from(EINSUM_FORMS))
    sizes = {c: draw(side) for c in sorted(set(form) - set(".,->"))}
    batch = draw(shapes(max_dims=2))
    shapes_ = []
    for operand in form.split("->")[0].split(","):
        shape = []
        for c in operand.replace("...", "."):
            shape.extend(batch if c == "." else (sizes[c],))
        shapes_.append(tuple(shape))
    shapes_ = tuple(shapes_)
    return shapes_, {"subscripts": form}


@st.composite
def dot_general_sig(draw):
    """Random dimension numbers: batch, contracting and free dimensions of each operand in
    a random order; the reference is the matching einsum."""
    nb, nc = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    nfx, nfy = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    size = {lab: draw(side) for lab in
            [f"b{i}" for i in range(nb)] + [f"c{i}" for i in range(nc)]
            + [f"x{i}" for i in range(nfx)] + [f"y{i}" for i in range(nfy)]}
    x_labels = draw(st.permutations([k for k in size if k[0] in "bcx"]))
    y_labels = draw(st.permutations([k for k in size if k[0] in "bcy"]))
    contract = draw(st.permutations([f"c{i}" for i in range(nc)]))
    batch = draw(st.permutations([f"b{i}" for i in range(nb)]))
    dn = ((tuple(x_labels.index(c) for c in contract), tuple(y_labels.index(c) for c in contract)),
          (tuple(x_labels.index(b) for b in batch), tuple(y_labels.index(b) for b in batch)))
    letters = {lab: chr(ord("a") + i) for i, lab in enumerate(size)}
    out = list(batch) + [lab for lab in x_labels if lab[0] == "x"] + [lab for lab in y_labels if lab[0] == "y"]
    subscripts = ("".join(letters[lab] for lab in x_labels) + "," + "".join(letters[lab] for lab in y_labels)
                  + "->" + "".join(letters[lab] for lab in out))
    shapes_ = (tuple(size[lab] for lab in x_labels), tuple(size[lab] for lab in y_labels))
    return shapes_, {"dimension_numbers": dn, "subscripts": subscripts}


# -- shape primitives and functions -----------------------------------------------------------


@st.composite
def broadcast_in_dim_sig(draw):
    x = draw(shapes())
    out_nd = len(x) + draw(st.integers(0, 2))
    dims = sorted(draw(st.lists(st.integers(0, max(out_nd - 1, 0)), unique=True,
                                min_size=len(x), max_size=len(x))))
    out = [draw(side) for _ in range(out_nd)]
    for i, d in enumerate(dims):
        out[d] = x[i] if x[i] != 1 else draw(side)  # size-1 dimensions may stretch
    return (x,), {"shape": tuple(out), "broadcast_dimensions": tuple(dims)}


@st.composite
def same_size_shape(draw, shape):
    """Another shape with as many elements as ``shape``."""
    n = math.prod(shape)
    if n == 0:
        dims = [0] + [draw(side) for _ in range(draw(st.integers(0, 2)))]
    else:
        dims, rest = [], n
        while rest > 1:
            d = draw(st.sampled_from([d for d in range(2, rest + 1) if rest % d == 0]))
            dims.append(d)
            rest //= d
        dims += [1] * draw(st.integers(0, 1))
    return tuple(draw(st.permutations(dims)))


@st.composite
def reshape_sig(draw, minus_one=False):
    x = draw(shapes())
    new = draw(same_size_shape(x))
    if minus_one and new and 0 not in new:
        i = draw(st.integers(0, len(new) - 1))
        new = new[:i] + (-1,) + new[i + 1:]
    return (x,), {"shape": new}


@st.composite
def permutation_sig(draw, negative=False):
    x = draw(shapes())
    perm = list(draw(st.permutations(range(len(x)))))
    if negative:
        perm = [p - len(x) if draw(st.booleans()) else p for p in perm]
    return (x,), {"axes": tuple(perm)}


@st.composite
def squeeze_sig(draw, prim=False):
    x = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    ones = [i for i, n in enumerate(x) if n == 1]
    picked = draw(st.lists(st.sampled_from(ones), unique=True) if ones else st.just([]))
    if prim:
        return (x,), {"dimensions": tuple(sorted(picked))}
    if draw(st.integers(0, 3)) == 0:
        return (x,), {"axis": None}
    if len(picked) == 1 and draw(st.booleans()):
        return (x,), {"axis": picked[0] - len(x) if draw(st.booleans()) else picked[0]}
    return (x,), {"axis": tuple(picked)}


@st.composite
def expand_dims_sig(draw, prim=False):
    x = draw(shapes())
    k = draw(st.integers(1, 2))
    out_nd = len(x) + k
    axes = draw(st.lists(st.integers(0, out_nd - 1), unique=True, min_size=k, max_size=k))
    if prim:
        return (x,), {"dimensions": tuple(sorted(axes))}
    axes = [a - out_nd if draw(st.booleans()) else a for a in axes]
    return (x,), {"axis": axes[0] if k == 1 and draw(st.booleans()) else tuple(axes)}


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
def pad_sig(draw):
    x = draw(shapes())
    config = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in x)
    return (x,), {"padding_value": draw(st.sampled_from([0.0, -1.5])), "padding_config": config}


@st.composite
def slice_sig(draw):
    x = draw(shapes())
    starts, limits, strides = [], [], []
    for n in x:
        s = draw(st.integers(0, n))
        starts.append(s)
        limits.append(draw(st.integers(s, n)))
        strides.append(draw(st.integers(1, 3)))
    return (x,), {"start_indices": tuple(starts), "limit_indices": tuple(limits), "strides": tuple(strides)}


@st.composite
def dims_subset_sig(draw, key="dimensions"):
    x = draw(shapes())
    return (x,), {key: tuple(sorted(draw(st.lists(st.integers(0, max(len(x) - 1, 0)), unique=True,
                                                    max_size=len(x)))))}


@st.composite
def moveaxis_sig(draw):
    x = draw(shapes(min_dims=1))
    nd = len(x)
    k = draw(st.integers(1, nd))
    src = draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=k, max_size=k))
    dst = draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=k, max_size=k))
    src = [s - nd if draw(st.booleans()) else s for s in src]
    if k == 1 and draw(st.booleans()):
        return (x,), {"source": src[0], "destination": dst[0]}
    return (x,), {"source": src, "destination": dst}


@st.composite
def swapaxes_sig(draw):
    x = draw(shapes(min_dims=1))
    nd = len(x)
    return (x,), {"axis1": draw(st.integers(-nd, nd - 1)), "axis2": draw(st.integers(-nd, nd - 1))}


@st.composite
def broadcast_to_sig(draw):
    b = draw(hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3, min_side=0,
                                              max_side=MAX_SIDE))
    return (b.input_shapes[0],), {"shape": b.result_shape}


def no_args(params_strategy):
    return params_strategy.map(lambda p: ((), p))


# =============================================================================================
# The spec
# =============================================================================================


@dataclass(frozen=True)
class OpSpec:
    """One row of the table. ``fn(*arrays, **params)`` is the operation under test and
    ``ref(*arrays, **params)`` the same computation in NumPy."""

    name: str  # "fnp.sum", "fnp.power[int]", "prim.reduce_sum": the part after the dot,
    #            before any "[variant]", is the function or primitive it covers
    fn: Callable
    ref: Callable | None
    nargs: int
    sig: Any  # hypothesis strategy of (tuple of nargs shapes, params dict)
    domain: Domain | tuple = ANY  # one for all arguments, or one per argument
    dtypes: tuple = REAL  # first: the precision derivatives are checked in; then lower ones
    order: int = 2
    tol: dict = field(default_factory=dict)  # {dtype: {"atol": .., "rtol": ..}} for check_grads
    derivative: str = "check"  # "check" | "zero" | "none"
    aliases: tuple = ()  # other public names bound to the very same function

    @property
    def covers(self) -> str:
        return self.name.split(".", 1)[1].split("[")[0]

    def __repr__(self):
        return self.name


def _domains(spec):
    return spec.domain if isinstance(spec.domain, tuple) else (spec.domain,) * spec.nargs


@dataclass
class Case:
    args: tuple
    params: dict


def draw_case(data, spec: OpSpec, dtype) -> Case:
    shapes_, params = data.draw(spec.sig, label="shapes, params")
    assert len(shapes_) == spec.nargs, f"{spec.name}: sig drew {len(shapes_)} shapes for {spec.nargs} args"
    seed = data.draw(st.integers(0, 2**32 - 1), label="values seed")
    rng = np.random.default_rng(seed)
    args = tuple(d(rng, s, dtype) for d, s in zip(_domains(spec), shapes_))
    return Case(args, params)


# =============================================================================================
# Running a row
# =============================================================================================

_VALUE_RTOL = {np.dtype(F64): 1e-10, np.dtype(C128): 1e-10, np.dtype(F32): 2e-5, np.dtype(C64): 2e-5}


def assert_same(got, expected, what=""):
    """Same pytree structure, shapes, dtypes and (closely) values; Python values equal."""
    if isinstance(expected, (tuple, list)) and not isinstance(got, Tracer):
        assert isinstance(got, (tuple, list)) and len(got) == len(expected), \
            f"{what}: expected {type(expected).__name__} of {len(expected)}, got {got!r}"
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, f"{what}[{i}]")
        return
    if isinstance(expected, (np.dtype, type, int, bool)) or expected is None:
        assert got == expected, f"{what}: expected {expected!r}, got {got!r}"
        return
    got_a, exp_a = np.asarray(got), np.asarray(expected)
    assert got_a.shape == exp_a.shape, f"{what}: shape {got_a.shape}, NumPy gives {exp_a.shape}"
    assert got_a.dtype == exp_a.dtype, f"{what}: dtype {got_a.dtype}, NumPy gives {exp_a.dtype}"
    if got_a.dtype.kind in "fc":
        rtol = _VALUE_RTOL.get(got_a.dtype, 1e-3)
        scale = float(np.max(np.abs(exp_a), initial=1.0))
        np.testing.assert_allclose(got_a, exp_a, rtol=rtol, atol=rtol * scale, err_msg=what)
    else:
        np.testing.assert_array_equal(got_a, exp_a, err_msg=what)


def bound(spec: OpSpec, params: dict) -> Callable:
    return lambda *args: spec.fn(*args, **params)


def check_values(spec: OpSpec, case: Case):
    """The operation on plain NumPy arrays gives what NumPy gives (values, shapes, dtypes)."""
    got = spec.fn(*case.args, **case.params)
    if spec.ref is not None:
        with np.errstate(all="ignore"):
            expected = spec.ref(*case.args, **case.params)
        assert_same(got, expected, f"{spec.name} on plain arrays")
    return got


def _concrete(x):
    return x.to_concrete() if isinstance(x, Tracer) else x


def _inexact_positions(args):
    return [i for i, a in enumerate(args)
            if np.issubdtype(a.dtype if hasattr(a, "dtype") else np.result_type(a), np.inexact)]


def check_on_backend(spec: OpSpec, case: Case, plain, backend: ArrayBackend) -> Case:
    """The operation on ``backend``'s arrays: every output is one of its arrays on the inputs'
    device, with NumPy's values. Returns the case with its arrays (and array parameters, such
    as index arrays) on the backend, for the derivative checks."""
    case = Case(backend.put(case.args), backend.put(case.params))
    got = spec.fn(*case.args, **case.params)
    backend.check_placed(got, f"{spec.name} on {backend}")
    assert_same(backend.get(got), plain, f"{spec.name} on {backend}")
    return case


def check_inside_transformation(spec: OpSpec, case: Case, plain, backend: ArrayBackend = NUMPY):
    """Inside ``jvp`` (tracers in place of the float arguments), the value is the same."""
    positions = _inexact_positions(case.args)
    if not positions:
        return
    captured = []

    def f(*xs):
        args = list(case.args)
        for i, x in zip(positions, xs):
            args[i] = x
        out = spec.fn(*args, **case.params)
        captured.append(tree.map(_concrete, out))
        return xs[0]

    primals = [case.args[i] for i in positions]
    ft.jvp(f, primals, [backend.put(np.ones(p.shape, p.dtype)) for p in primals])
    backend.check_placed(captured[0], f"{spec.name} inside jvp on {backend}")
    assert_same(backend.get(captured[0]), plain, f"{spec.name} inside jvp")


def check_zero_derivative(spec: OpSpec, case: Case, backend: ArrayBackend = NUMPY):
    """A piecewise-constant operation: zero tangents, zero cotangents."""
    positions = _inexact_positions(case.args)
    if not positions:
        return

    def f(*xs):
        args = list(case.args)
        for i, x in zip(positions, xs):
            args[i] = x
        out = spec.fn(*args, **case.params)
        # integer and boolean outputs become floats, whose derivative must then be zero
        return [o if np.issubdtype(o.dtype, np.inexact) else fnp.astype(o, np.float64)
                for o in map(fnp.asarray, tree.leaves(out))]

    primals = [case.args[i] for i in positions]
    rng = np.random.default_rng(0)
    tangents = [backend.put(rng.standard_normal(p.shape).astype(p.dtype)) for p in primals]
    outs, t_outs = ft.jvp(f, primals, tangents)
    backend.check_placed(t_outs, f"{spec.name}: tangents on {backend}")
    for t in t_outs:
        assert not np.any(backend.get(t)), f"{spec.name}: nonzero tangent {t}"
    _, pullback = ft.vjp(f, *primals)
    cts = pullback([backend.put(np.ones(o.shape, o.dtype)) for o in outs])
    backend.check_placed(cts, f"{spec.name}: cotangents on {backend}")
    for ct, p in zip(cts, primals):
        assert ct.shape == p.shape and ct.dtype == p.dtype, f"{spec.name}: cotangent {ct.dtype}{ct.shape}"
        assert not np.any(backend.get(ct)), f"{spec.name}: nonzero cotangent {ct}"


#: Rows that do not run on a backend other than NumPy, with the reason.
OFF_NUMPY_SKIPS: dict[str, str] = {}


def skip_off_numpy(spec: OpSpec, backend: ArrayBackend) -> None:
    """Skip, with its reason, a row that cannot run on ``backend``."""
    if backend is NUMPY:
        return
    if spec.nargs == 0:
        pytest.skip(f"{spec.name} makes an array from no array argument: by design a NumPy array "
                    "on the host (place it with functrans.device_put)")
    if spec.name in OFF_NUMPY_SKIPS:
        pytest.skip(OFF_NUMPY_SKIPS[spec.name])


def check_spec(spec: OpSpec, backend: ArrayBackend = NUMPY, low_precision: bool = False,
               all_examples: bool = False) -> None:
    """Run one table row on hypothesis' examples: in its first dtype to ``spec.order``, or
    (``low_precision``) in its second dtype to first order, with half the examples unless
    ``all_examples``."""
    from backends import examples
    from hypothesis import given, settings

    count = settings().max_examples
    if low_precision:
        dtype, order = spec.dtypes[1], 1
        count = count if all_examples else max(5, count // 2)
    else:
        dtype, order = spec.dtypes[0], spec.order

    @settings(max_examples=examples(backend, count))
    @given(data=st.data())
    def run(data):
        run_spec(spec, data, dtype, order=order, backend=backend)

    run()


def run_spec(spec: OpSpec, data, dtype, order: int, backend: ArrayBackend = NUMPY):
    """Values against NumPy, then derivatives (``check_grads`` to ``order``) in ``dtype``; on
    another backend than NumPy, also its values and placement, and derivatives on its arrays."""
    skip_off_numpy(spec, backend)
    case = draw_case(data, spec, dtype)
    plain = check_values(spec, case)
    if backend is not NUMPY:
        case = check_on_backend(spec, case, plain, backend)
    if spec.derivative == "check":
        tol = spec.tol.get(np.dtype(dtype).type, {})
        check_grads(bound(spec, case.params), case.args, order=order, modes=("fwd", "rev"), **tol)
    else:
        check_inside_transformation(spec, case, plain, backend)
        if spec.derivative == "zero":
            check_zero_derivative(spec, case, backend)


# =============================================================================================
# Helpers to declare rows
# =============================================================================================


def unary(name, fn, ref, domain=ANY, sig=None, **kw):
    return OpSpec(name, fn, ref, 1, same_shapes(1) if sig is None else sig, domain, **kw)


def binary(name, fn, ref, domain=ANY, **kw):
    return OpSpec(name, fn, ref, 2, broadcast_shapes(2), domain, **kw)


def with_scalar(name, fn, ref, value, domain=ANY, **kw):
    """``fn(x, value)`` and ``fn(value, x)`` for a Python float ``value``: it must not widen
    float32 (NumPy 2 promotion)."""
    return [
        unary(f"{name}[array, scalar]", lambda x, s: fn(x, s), lambda x, s: ref(x, s), domain,
              sig=with_params(same_shapes(1), {"s": value}), **kw),
        unary(f"{name}[scalar, array]", lambda x, s: fn(s, x), lambda x, s: ref(s, x), domain,
              sig=with_params(same_shapes(1), {"s": value}), **kw),
    ]


def mixed_precision(spec: OpSpec) -> OpSpec:
    """The row in float32 with its last argument in float64: derivatives of the float32
    arguments must come back float32 even where the result is float64."""
    domains = _domains(spec)
    name = spec.name[:-1] + ", " if spec.name.endswith("]") else spec.name + "["
    return replace(spec, name=name + "float32 with float64]", dtypes=(F32,), order=1,
                   domain=domains[:-1] + (replace(domains[-1], dtype=F64),))


def _prim(p):
    return lambda *args, **params: p.bind(*args, **params)


def _logistic_ref(x):
    return 1 / (1 + np.exp(-x))


# =============================================================================================
# Primitives
# =============================================================================================

_UNARY_PRIMS = [
    ("neg", np.negative, ANY), ("exp", np.exp, Domain(-3, 3)), ("log", np.log, POSITIVE),
    ("log1p", np.log1p, Domain(-0.5, 3)), ("expm1", np.expm1, ANY), ("sin", np.sin, Domain(-3, 3)),
    ("cos", np.cos, Domain(-3, 3)), ("tan", np.tan, Domain(-1.2, 1.2)), ("tanh", np.tanh, Domain(-3, 3)),
    ("logistic", _logistic_ref, Domain(-6, 6)), ("sqrt", np.sqrt, POSITIVE),
    ("rsqrt", lambda x: 1 / np.sqrt(x), POSITIVE), ("abs", np.abs, NONZERO), ("sign", np.sign, NONZERO),
]
_BINARY_PRIMS = [
    ("add", np.add, ANY), ("sub", np.subtract, ANY), ("mul", np.multiply, ANY),
    ("div", np.divide, (ANY, NONZERO)), ("pow", np.power, (POSITIVE, ANY)),
    ("max", np.maximum, ANY), ("min", np.minimum, ANY),
]
_COMPARISONS = [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                ("gt", np.greater), ("ge", np.greater_equal)]


def _np_reduction(fn):
    return lambda x, *, axes: fn(x, axis=axes)


def _gather_ref(x, *, index, arrays):
    return x[build_index(index, list(arrays))]


def _scatter_ref(kind):
    def ref(x, u, *, index, arrays):
        y = x.copy()
        i = build_index(index, list(arrays))
        if kind == "add":
            np.add.at(y, i, np.broadcast_to(u, y[i].shape))  # see _at_ref
        else:
            y[i] = u
        return y
    return ref


@st.composite
def gather_sig(draw):
    (shape,), p = draw(getitem_sig())
    return (shape,), as_primitive_index(shape, p["index"])


@st.composite
def scatter_sig(draw):
    (x, u), p = draw(update_sig())
    return (x, u), as_primitive_index(x, p["index"])


def _pad_ref(x, *, padding_value, padding_config):
    out = np.full([lo + hi + n + max(n - 1, 0) * i for n, (lo, hi, i) in zip(x.shape, padding_config)],
                  padding_value, x.dtype)
    out[tuple(slice(lo, lo + n + max(n - 1, 0) * i, i + 1) for n, (lo, hi, i) in zip(x.shape, padding_config))] = x
    return out


def _dot_general_fn(x, y, *, dimension_numbers, subscripts):
    return P.dot_general_p.bind(x, y, dimension_numbers=dimension_numbers)


def _dot_general_ref(x, y, *, dimension_numbers, subscripts):
    return np.asarray(np.einsum(subscripts, x, y))


def _affine(a):
    return a * 2.0 + 1.0


def _prim_spec(name, fn, ref, nargs, sig, **kw):
    return OpSpec(f"prim.{name}", fn, ref, nargs, sig, **kw)


def _lower_triangle(xp, n, m):
    """A constant for constant_like's row: made by the backend's namespace on x's device."""
    return xp.tri(n, m, dtype=np.float64)


def _convert_sig():
    return same_shapes(1).flatmap(lambda sp: st.sampled_from([F32, F64, C128, np.int32]).map(
        lambda d: (sp[0], {"new_dtype": np.dtype(d)})))


PRIMITIVE_SPECS: list[OpSpec] = [
    *(_prim_spec(n, _prim(getattr(P, f"{n}_p")), ref, 1, same_shapes(1), domain=d) for n, ref, d in _UNARY_PRIMS),
    *(_prim_spec(n, _prim(getattr(P, f"{n}_p")), ref, 2, broadcast_shapes(2), domain=d)
      for n, ref, d in _BINARY_PRIMS),
    *(_prim_spec(n, _prim(getattr(P, f"{n}_p")), ref, 2, broadcast_shapes(2), domain=GRID, derivative="zero")
      for n, ref in _COMPARISONS),
    _prim_spec("integer_pow", _prim(P.integer_pow_p), lambda x, y: x ** y, 1,
               same_shapes(1).flatmap(lambda sp: st.integers(-3, 4).map(lambda y: (sp[0], {"y": y}))),
               domain=NONZERO),
    _prim_spec("select", _prim(P.select_p), np.where, 3, broadcast_shapes(3), domain=(BOOL, ANY, ANY)),
    *(_prim_spec(n, _prim(getattr(P, f"{n}_p")), ref, 1, same_shapes(1), dtypes=COMPLEX)
      for n, ref in [("real", np.real), ("imag", np.imag), ("conj", np.conj)]),
    _prim_spec("reduce_sum", _prim(P.reduce_sum_p), _np_reduction(np.sum), 1, reduce_axes_sig()),
    _prim_spec("reduce_prod", _prim(P.reduce_prod_p), _np_reduction(np.prod), 1, reduce_axes_sig()),
    _prim_spec("reduce_max", _prim(P.reduce_max_p), _np_reduction(np.max), 1, reduce_axes_sig(nonempty=True),
               domain=DISTINCT),
    _prim_spec("reduce_min", _prim(P.reduce_min_p), _np_reduction(np.min), 1, reduce_axes_sig(nonempty=True),
               domain=DISTINCT),
    *(_prim_spec(n, _prim(getattr(P, f"{n}_p")),
                 lambda x, *, axis, index_dtype, f=f: f(x, axis=axis).astype(index_dtype), 1,
                 axis_sig(none=False, tuple_axes=False, keepdims=False, nonempty=True, min_dims=1).flatmap(
                     lambda sp: st.sampled_from([np.int64, np.int32]).map(lambda d: (sp[0], {
                         "axis": sp[1]["axis"] % len(sp[0][0]), "index_dtype": np.dtype(d)}))),
                 derivative="zero")
      for n, f in [("argmax", np.argmax), ("argmin", np.argmin)]),
    _prim_spec("broadcast_in_dim", _prim(P.broadcast_in_dim_p),
               lambda x, *, shape, broadcast_dimensions: np.broadcast_to(
                   np.expand_dims(x, tuple(d for d in range(len(shape)) if d not in broadcast_dimensions)), shape),
               1, broadcast_in_dim_sig()),
    _prim_spec("reshape", lambda x, *, shape: P.reshape_p.bind(x, new_sizes=shape),
               lambda x, *, shape: np.reshape(x, shape), 1, reshape_sig()),
    _prim_spec("transpose", lambda x, *, axes: P.transpose_p.bind(x, permutation=axes),
               lambda x, *, axes: np.transpose(x, axes), 1, permutation_sig()),
    _prim_spec("squeeze", _prim(P.squeeze_p), lambda x, *, dimensions: np.squeeze(x, dimensions), 1,
               squeeze_sig(prim=True)),
    _prim_spec("expand_dims", _prim(P.expand_dims_p), lambda x, *, dimensions: np.expand_dims(x, dimensions), 1,
               expand_dims_sig(prim=True)),
    *(_prim_spec(f"concatenate[{n}]", _prim(P.concatenate_p),
                 lambda *xs, dimension: np.concatenate(xs, axis=dimension), n, concat_sig(n, prim=True))
      for n in (1, 2, 3)),
    _prim_spec("pad", _prim(P.pad_p), _pad_ref, 1, pad_sig()),
    _prim_spec("rev", _prim(P.rev_p), lambda x, *, dimensions: np.flip(x, dimensions), 1, dims_subset_sig()),
    _prim_spec("slice", _prim(P.slice_p),
               lambda x, *, start_indices, limit_indices, strides: x[tuple(
                   slice(*t) for t in zip(start_indices, limit_indices, strides))], 1, slice_sig()),
    _prim_spec("gather", lambda x, *, index, arrays: P.gather_p.bind(x, *arrays, index=index), _gather_ref,
               1, gather_sig()),
    _prim_spec("scatter_add", lambda x, u, *, index, arrays: P.scatter_add_p.bind(x, u, *arrays, index=index),
               _scatter_ref("add"), 2, scatter_sig()),
    _prim_spec("scatter", lambda x, u, *, index, arrays: P.scatter_p.bind(x, u, *arrays, index=index),
               _scatter_ref("set"), 2, scatter_sig()),
    _prim_spec("dot_general", _dot_general_fn, _dot_general_ref, 2, dot_general_sig()),
    _prim_spec("convert_element_type", _prim(P.convert_element_type_p),
               lambda x, *, new_dtype: x.astype(new_dtype), 1, _convert_sig()),
    _prim_spec("full_like", _prim(P.full_like_p),
               lambda x, *, fill_value, shape, dtype: np.full(shape, fill_value, dtype), 1,
               shapes().flatmap(lambda s: shapes().map(lambda s2: (
                   (s,), {"fill_value": 1.5, "shape": s2, "dtype": np.dtype(F32)})))),
    _prim_spec("stop_gradient", _prim(P.stop_gradient_p), lambda x: x, 1, same_shapes(1), derivative="zero"),
    # opaque_call runs a function of concrete arrays (random draws from a key): no derivative.
    _prim_spec("opaque_call", lambda x: P.opaque_call_p.bind(x, fn=_affine), lambda x: 2.0 * x + 1.0,
               1, same_shapes(1), derivative="zero"),
    _prim_spec("constant_like", _prim(P.constant_like_p), lambda x, *, maker, args: maker(np, *args), 1,
               same_shapes(1).map(lambda sp: (sp[0], {"maker": _lower_triangle, "args": (3, 2)})),
               derivative="zero"),
]


# =============================================================================================
# functrans.numpy
# =============================================================================================

_FNP_UNARY = [
    ("negative", ANY, np.negative), ("exp", Domain(-3, 3), np.exp), ("log", POSITIVE, np.log),
    ("log1p", Domain(-0.5, 3), np.log1p), ("expm1", ANY, np.expm1), ("sin", Domain(-3, 3), np.sin),
    ("cos", Domain(-3, 3), np.cos), ("tan", Domain(-1.2, 1.2), np.tan), ("tanh", Domain(-3, 3), np.tanh),
    ("sqrt", POSITIVE, np.sqrt), ("sign", NONZERO, np.sign), ("square", ANY, np.square),
    ("reciprocal", NONZERO, np.reciprocal), ("positive", ANY, np.positive),
    ("logistic", Domain(-6, 6), _logistic_ref), ("rsqrt", POSITIVE, lambda x: 1 / np.sqrt(x)),
]
_FNP_BINARY = [
    ("add", ANY, 2.5), ("subtract", ANY, 2.5), ("multiply", ANY, -1.5), ("divide", NONZERO, 2.5),
    ("maximum", ANY, 0.25), ("minimum", ANY, 0.25), ("power", POSITIVE, 1.5),
]
_FNP_COMPARISONS = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]


def _alias(name):
    return {"abs": ("absolute",), "divide": ("true_divide",), "conj": ("conjugate",), "max": ("amax",),
            "min": ("amin",)}.get(name, ())


def _at_fn(x, v=None, *, index, method, value=None):
    return getattr(fnp.at(x)[index], method)(value if v is None else v)


def _at_ref(x, v=None, *, index, method, value=None):
    v = value if v is None else v
    y = x.copy()
    if method == "set":
        y[index] = v
        return y
    # every update applies, at repeated positions too. ufunc.at applies wrong values when v
    # broadcasts over the leading dimensions of a multi-dimensional index array (NumPy 2.4),
    # so v is broadcast here first
    ufunc = {"add": np.add, "multiply": np.multiply, "divide": np.divide, "min": np.minimum,
             "max": np.maximum}[method]
    ufunc.at(y, index, np.broadcast_to(v, y[index].shape))
    return y


def _at_specs():
    specs = [unary("fnp.at[get]", lambda x, *, index: fnp.at(x)[index].get(), lambda x, *, index: x[index],
                   sig=getitem_sig())]
    for method in ("set", "add", "multiply", "divide", "min", "max"):
        values = NONZERO if method == "divide" else ANY
        specs.append(OpSpec(f"fnp.at[{method}]", _at_fn, _at_ref, 2,
                            with_params(update_sig(), {"method": method}), domain=(ANY, values)))
        specs.append(OpSpec(f"fnp.at[{method}, scalar]", _at_fn, _at_ref, 1,
                            with_params(update_sig(scalar=True), {"method": method})))
    return specs


def _reduction(name, np_fn, domain=ANY, **sig_kw):
    fn = getattr(fnp, name)
    return unary(f"fnp.{name}", fn, np_fn, domain, sig=axis_sig(**sig_kw), aliases=_alias(name))


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


def _creation_specs():
    dtype = st.sampled_from([None, F32, F64, np.int64])
    small = st.integers(0, 3)
    return [
        OpSpec("fnp.zeros", fnp.zeros, np.zeros, 0, no_args(st.fixed_dictionaries(
            {"shape": shapes(), "dtype": st.sampled_from([F32, F64, np.int64])})), derivative="none"),
        OpSpec("fnp.ones", fnp.ones, np.ones, 0, no_args(st.fixed_dictionaries(
            {"shape": shapes(), "dtype": st.sampled_from([F32, F64, np.int64])})), derivative="none"),
        # fnp.empty is documented to give zeros (nothing is left uninitialised)
        OpSpec("fnp.empty", fnp.empty, np.zeros, 0, no_args(st.fixed_dictionaries(
            {"shape": shapes(), "dtype": st.sampled_from([F32, F64])})), derivative="none"),
        OpSpec("fnp.full", fnp.full, np.full, 0, no_args(st.fixed_dictionaries(
            {"shape": shapes(), "fill_value": st.sampled_from([0.5, 2, -1.0]), "dtype": dtype})),
            derivative="none"),
        unary("fnp.full[traced value]", lambda x, *, shape: fnp.full(shape, x),
              lambda x, *, shape: np.full(shape, x),
              sig=shapes().map(lambda s: (((),), {"shape": s}))),
        OpSpec("fnp.arange", lambda *, args, dtype: fnp.arange(*args, dtype=dtype),
               lambda *, args, dtype: np.arange(*args, dtype=dtype), 0, no_args(st.fixed_dictionaries({
                   "args": st.one_of(st.tuples(small), st.tuples(st.sampled_from([-1.5, 0, 2]),
                                                                 st.sampled_from([3, 4.5]),
                                                                 st.sampled_from([0.5, 1, 2]))),
                   "dtype": st.sampled_from([None, F32, F64])})), derivative="none"),
        OpSpec("fnp.linspace", fnp.linspace, np.linspace, 0, no_args(st.fixed_dictionaries(
            {"start": st.sampled_from([0.0, -1.0]), "stop": st.sampled_from([1.0, 5.0]), "num": st.integers(0, 5),
             "endpoint": st.booleans(), "dtype": st.sampled_from([None, F32, F64])})), derivative="none"),
        OpSpec("fnp.eye", fnp.eye, np.eye, 0, no_args(st.fixed_dictionaries(
            {"N": small, "M": st.one_of(st.none(), small), "k": st.integers(-2, 2),
             "dtype": st.sampled_from([F32, F64, np.int64])})), derivative="none"),
        *(unary(f"fnp.{n}", getattr(fnp, n), getattr(np, n),
                sig=same_shapes(1).flatmap(lambda sp: st.fixed_dictionaries(
                    {"dtype": dtype, "shape": st.one_of(st.none(), shapes())}).map(lambda p: (sp[0], p))))
          for n in ("zeros_like", "ones_like")),
        unary("fnp.full_like", fnp.full_like, np.full_like,
              sig=same_shapes(1).flatmap(lambda sp: st.fixed_dictionaries(
                  {"fill_value": st.sampled_from([0.5, 3]), "dtype": dtype}).map(lambda p: (sp[0], p)))),
        OpSpec("fnp.array", lambda x, y: fnp.array([x, y]), lambda x, y: np.array([x, y]), 2, same_shapes(2)),
        unary("fnp.array[dtype]", lambda x, *, dtype: fnp.array(x, dtype=dtype),
              lambda x, *, dtype: np.array(x, dtype=dtype),
              sig=with_params(same_shapes(1), {"dtype": F64})),
        unary("fnp.asarray", fnp.asarray, np.asarray,
              sig=same_shapes(1).flatmap(lambda sp: st.sampled_from([None, F32, F64]).map(
                  lambda d: (sp[0], {"dtype": d})))),
        unary("fnp.astype", fnp.astype, lambda x, dtype: x.astype(dtype),
              sig=same_shapes(1).flatmap(lambda sp: st.sampled_from([F32, F64, C128, np.int32]).map(
                  lambda d: (sp[0], {"dtype": d})))),
    ]


def _query_specs():
    return [
        *(unary(f"fnp.{n}", getattr(fnp, n), getattr(np, n), derivative="none") for n in ("shape", "ndim", "size")),
        OpSpec("fnp.result_type", lambda x, y, *, s: fnp.result_type(x, y, s),
               lambda x, y, *, s: np.result_type(x, y, s), 2,
               with_params(broadcast_shapes(2), {"s": 1.0}), derivative="none"),
        unary("fnp.nonzero", fnp.nonzero, np.nonzero, GRID, sig=same_shapes(1, min_dims=1), derivative="none"),
        unary("fnp.where[one argument]", lambda x: fnp.where(x > 0), lambda x: np.where(x > 0), GRID,
              sig=same_shapes(1, min_dims=1), derivative="none"),
    ]


def _clip_specs():
    lo, hi = Domain(-1.5, -0.5), Domain(0.5, 1.5)
    return [
        unary("fnp.clip", fnp.clip, np.clip,
              sig=with_params(same_shapes(1), {"a_min": -0.7, "a_max": 0.9})),
        unary("fnp.clip[min only]", lambda x: fnp.clip(x, 0.3), lambda x: np.clip(x, 0.3, None)),
        unary("fnp.clip[max only]", lambda x: fnp.clip(x, None, 0.3), lambda x: np.clip(x, None, 0.3)),
        OpSpec("fnp.clip[arrays]", fnp.clip, np.clip, 3, broadcast_shapes(3), domain=(ANY, lo, hi)),
    ]


def _where_specs():
    return [
        OpSpec("fnp.where", fnp.where, np.where, 3, broadcast_shapes(3), domain=(BOOL, ANY, ANY)),
        binary("fnp.where[relu]", lambda x, c: fnp.where(c > 0, x, 0.0),
               lambda x, c: np.where(c > 0, x, 0.0), domain=(ANY, ANY)),
        unary("fnp.where[abs]", lambda x: fnp.where(x > 0, x, -x), lambda x: np.where(x > 0, x, -x),
              NONZERO),
    ]


def _complex_part_specs():
    specs = []
    for name in ("real", "imag", "conj"):
        fn, ref = getattr(fnp, name), getattr(np, name)
        specs.append(unary(f"fnp.{name}", fn, ref, dtypes=COMPLEX, aliases=_alias(name)))
        specs.append(unary(f"fnp.{name}[real input]", fn, ref))
    return specs


def _product_specs():
    return [
        OpSpec("fnp.matmul", fnp.matmul, np.matmul, 2, matmul_sig()),
        OpSpec("fnp.matmul[@]", operator.matmul, operator.matmul, 2, matmul_sig()),
        OpSpec("fnp.dot", fnp.dot, np.dot, 2, dot_sig()),
        OpSpec("fnp.vdot", fnp.vdot, np.vdot, 2, vdot_sig()),
        OpSpec("fnp.inner", fnp.inner, np.inner, 2, inner_sig()),
        OpSpec("fnp.outer", fnp.outer, np.outer, 2, st.tuples(shapes(max_dims=2), shapes(max_dims=2)).map(
            lambda ab: (ab, {}))),
        OpSpec("fnp.tensordot", fnp.tensordot, np.tensordot, 2, tensordot_sig()),
        *(OpSpec(f"fnp.einsum[{n}]", lambda *ops, subscripts: fnp.einsum(subscripts, *ops),
                 lambda *ops, subscripts: np.asarray(np.einsum(subscripts, *ops)), n,
                 einsum_sig().filter(lambda sp, n=n: len(sp[0]) == n))
          for n in (1, 2, 3)),
    ]


def _manipulation_specs():
    return [
        unary("fnp.reshape", fnp.reshape, np.reshape, sig=reshape_sig(minus_one=True)),
        unary("fnp.ravel", fnp.ravel, np.ravel),
        unary("fnp.transpose", fnp.transpose, np.transpose, sig=st.one_of(
            permutation_sig(negative=True), same_shapes(1).map(lambda sp: (sp[0], {"axes": None})))),
        unary("fnp.swapaxes", fnp.swapaxes, np.swapaxes, sig=swapaxes_sig()),
        unary("fnp.moveaxis", fnp.moveaxis, np.moveaxis, sig=moveaxis_sig()),
        unary("fnp.squeeze", fnp.squeeze, np.squeeze, sig=squeeze_sig()),
        unary("fnp.expand_dims", fnp.expand_dims, np.expand_dims, sig=expand_dims_sig()),
        unary("fnp.broadcast_to", fnp.broadcast_to, np.broadcast_to, sig=broadcast_to_sig()),
        *(OpSpec(f"fnp.concatenate[{n}]", lambda *xs, axis: fnp.concatenate(xs, axis=axis),
                 lambda *xs, axis: np.concatenate(xs, axis=axis), n, concat_sig(n)) for n in (1, 2, 3)),
        OpSpec("fnp.concatenate[axis=None]", lambda x, y: fnp.concatenate([x, y], axis=None),
               lambda x, y: np.concatenate([x, y], axis=None), 2,
               st.tuples(shapes(), shapes()).map(lambda ab: (ab, {}))),
        *(OpSpec(f"fnp.stack[{n}]", lambda *xs, axis: fnp.stack(xs, axis=axis),
                 lambda *xs, axis: np.stack(xs, axis=axis), n, stack_sig(n)) for n in (1, 2, 3)),
    ]


FNP_SPECS: list[OpSpec] = [
    *(unary(f"fnp.{n}", getattr(fnp, n), ref, d) for n, d, ref in _FNP_UNARY),
    unary("fnp.abs", fnp.abs, np.abs, NONZERO, aliases=("absolute",)),
    *(binary(f"fnp.{n}", getattr(fnp, n), getattr(np, n), (ANY, d), aliases=_alias(n))
      for n, d, _ in _FNP_BINARY if n != "power"),
    binary("fnp.power", fnp.power, np.power, (POSITIVE, ANY)),
    unary("fnp.power[int]", lambda x, *, y: fnp.power(x, y), lambda x, *, y: np.power(x, y), NONZERO,
          sig=same_shapes(1).flatmap(lambda sp: st.integers(-2, 3).map(lambda y: (sp[0], {"y": y})))),
    *(spec for n, d, s in _FNP_BINARY for spec in with_scalar(
        f"fnp.{n}", getattr(fnp, n), getattr(np, n), s, POSITIVE if n in ("divide", "power") else ANY)),
    *(binary(f"fnp.{n}", getattr(fnp, n), getattr(np, n), GRID, derivative="zero") for n in _FNP_COMPARISONS),
    *_where_specs(),
    *_clip_specs(),
    *_complex_part_specs(),
    _reduction("sum", np.sum),
    _reduction("prod", np.prod),
    _reduction("mean", np.mean, nonempty=True),
    _reduction("max", np.max, DISTINCT, nonempty=True),
    _reduction("min", np.min, DISTINCT, nonempty=True),
    *_var_like("var"),
    *_var_like("std"),
    _arg_reduction("argmax"),
    _arg_reduction("argmin"),
    *_product_specs(),
    *_manipulation_specs(),
    unary("fnp.getitem", fnp.getitem, lambda x, index: x[index], sig=getitem_sig()),
    unary("fnp.getitem[x[index]]", lambda x, *, index: x[index], lambda x, *, index: x[index], sig=getitem_sig()),
    *_at_specs(),
    *_creation_specs(),
    *_query_specs(),
]

_MIXED = ["fnp.add", "fnp.multiply", "fnp.divide", "fnp.maximum", "fnp.power", "fnp.where", "fnp.matmul",
          "fnp.einsum[2]", "fnp.concatenate[2]", "fnp.at[set]", "fnp.at[add]", "fnp.clip[arrays]"]
FNP_SPECS += [mixed_precision(s) for s in FNP_SPECS if s.name in _MIXED]
PRIMITIVE_SPECS += [mixed_precision(s) for s in PRIMITIVE_SPECS if s.name in (
    "prim.add", "prim.sub", "prim.mul", "prim.div", "prim.pow", "prim.max", "prim.select", "prim.dot_general",
    "prim.concatenate[2]")]

ALL_SPECS = PRIMITIVE_SPECS + FNP_SPECS

# The rows of the broad-coverage issue (functrans.numpy's further functions and their
# primitives) live in tests/op_specs_more.py.
from op_specs_more import MORE_FNP_SPECS, MORE_PRIMITIVE_SPECS  # noqa: E402

FNP_SPECS += MORE_FNP_SPECS
PRIMITIVE_SPECS += MORE_PRIMITIVE_SPECS
ALL_SPECS = PRIMITIVE_SPECS + FNP_SPECS
