"""Table rows of the products: dot_general under them, matmul (and ``@``), dot, vdot, inner,
outer, tensordot, einsum, kron and cross."""
from __future__ import annotations

import math
import operator

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import functrans.numpy as fnp
from functrans import primitives as P

from .opspec import OpSpec, prim_spec
from .strategies import MAX_SIDE, shapes, side

# =============================================================================================
# Primitives
# =============================================================================================


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


def _dot_general_fn(x, y, *, dimension_numbers, subscripts):
    return P.dot_general_p.bind(x, y, dimension_numbers=dimension_numbers)


def _dot_general_ref(x, y, *, dimension_numbers, subscripts):
    return np.asarray(np.einsum(subscripts, x, y))


PRIMITIVES: list[OpSpec] = [
    prim_spec("dot_general", _dot_general_fn, _dot_general_ref, 2, dot_general_sig()),
]


# =============================================================================================
# functrans.numpy
# =============================================================================================


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
def einsum_broadcast_sig(draw, nops):
    """A random einsum of ``nops`` operands whose dimensions may be 1 where their label is
    longer elsewhere (NumPy broadcasts them), with labels repeated within an operand (a
    diagonal), an optional ``...`` whose dimensions broadcast, and an implicit or explicit
    output."""
    labels = "abcd"[:draw(st.integers(1, 4))]
    size = {c: draw(side) for c in labels}
    specs = [draw(st.lists(st.sampled_from(labels), max_size=3)) for _ in range(nops)]
    batches = None
    if draw(st.booleans()):
        batches = draw(hnp.mutually_broadcastable_shapes(
            num_shapes=nops, min_dims=0, max_dims=2, min_side=0, max_side=MAX_SIDE)).input_shapes
    shapes_, subscripts = [], []
    for i, spec in enumerate(specs):
        # one size per label and operand (a repeated label is a diagonal: its dimensions agree)
        own = {c: 1 if draw(st.booleans()) else size[c] for c in spec}
        dims = [own[c] for c in spec]
        text = "".join(spec)
        if batches is not None:
            at = draw(st.integers(0, len(spec)))
            dims[at:at] = batches[i]
            text = text[:at] + "..." + text[at:]
        shapes_.append(tuple(dims))
        subscripts.append(text)
    subscripts = ",".join(subscripts)
    if draw(st.booleans()):  # explicit output: distinct labels the inputs use, in any order
        used = sorted({c for spec in specs for c in spec})
        out = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
        if batches is not None:
            at = draw(st.integers(0, len(out)))
            out = out[:at] + "..." + out[at:]
        subscripts += "->" + out
    return tuple(shapes_), {"subscripts": subscripts}


def _sublists(subscripts):
    """The sublist form of a subscripts string: integer labels, Ellipsis for ``...``."""
    def sublist(text):
        items = []
        for part in text.split("..."):
            items += [ord(c) - ord("a") for c in part] + [Ellipsis]
        return items[:-1]

    inputs, _, output = subscripts.partition("->")
    lists = [sublist(spec) for spec in inputs.split(",")]
    return lists + ([sublist(output)] if "->" in subscripts else [])


def _einsum_sublist_args(ops, subscripts):
    lists = _sublists(subscripts)
    args = [x for pair in zip(ops, lists) for x in pair]
    return args + lists[len(ops):]


FUNCTIONS: list[OpSpec] = [
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
    *(OpSpec(f"fnp.einsum[broadcast, {n}]", lambda *ops, subscripts: fnp.einsum(subscripts, *ops),
             lambda *ops, subscripts: np.asarray(np.einsum(subscripts, *ops)), n, einsum_broadcast_sig(n))
      for n in (1, 2, 3)),
    OpSpec("fnp.einsum[sublist]", lambda *ops, subscripts: fnp.einsum(*_einsum_sublist_args(ops, subscripts)),
           lambda *ops, subscripts: np.asarray(np.einsum(*_einsum_sublist_args(ops, subscripts))), 2,
           einsum_broadcast_sig(2)),
    OpSpec("fnp.kron", fnp.kron, np.kron, 2, st.tuples(shapes(max_dims=2), shapes(max_dims=2)).map(
        lambda s: (s, {}))),
    OpSpec("fnp.cross", fnp.cross, np.cross, 2, hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=2, max_side=3).flatmap(
        lambda b: st.just(((b.input_shapes[0] + (3,), b.input_shapes[1] + (3,)), {})))),
]
