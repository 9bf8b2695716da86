"""Products with NumPy's names: ``dot``, ``matmul``, ``vdot``, ``inner``, ``outer``,
``tensordot``, ``einsum``, ``kron`` and ``cross``.

Contractions are built on the ``dot_general`` primitive (``einsum`` contracts pairwise in the
order NumPy's ``einsum_path`` finds cheapest); ``outer``, ``kron`` and ``cross`` are elementwise
products of reshaped operands.
"""
from __future__ import annotations

import functools
import string
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from functrans._abstract import shape_of
from functrans.backend import array_module_of
from functrans.core.trace import Tracer
from functrans.lax import Precision, canonicalize_precision
from functrans.numpy._complex import conj
from functrans.numpy._joining import stack
from functrans.numpy._shape import ravel
from functrans.numpy._util import (
    any_tracer,
    as_array,
    normalize_axis,
    numbers_beside,
    pair_beside,
    placed_like,
    refuse_out,
    route_through_primitives,
    slice_axis,
)
from functrans.primitives import elementwise as _ew
from functrans.primitives import reduction as _red
from functrans.primitives import shape as _shape
from functrans.primitives.dot import MATMUL_2D, dot_general, dot_general_p
from functrans.primitives.indexing import IndexArray, gather_p
from functrans.typing import Array, ArrayLike

_ndarray: type[np.ndarray] = np.ndarray  # (np.ndarray, or no type while config.debug_nans is on)
route_through_primitives(globals())
_dot_general_bind = dot_general_p.bind

# --- matrix and vector products ------------------------------------------------------------------


def matmul(a: ArrayLike, b: ArrayLike, /, *, out: None = None,
           precision: Precision | str | tuple | None = None) -> Array:
    """Matrix product with NumPy's rules: 1-D operands are promoted to matrices and the
    added dimension removed afterwards; leading dimensions are batch dimensions and broadcast.
    ``precision`` (JAX's) is checked and changes nothing: NumPy computes in the operands'
    dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.matmul(fnp.ones((2, 3)), fnp.ones((3, 4))).shape
        (2, 4)
    """
    refuse_out("matmul", out)
    if precision is not None:
        canonicalize_precision(precision)
    ta, tb = type(a), type(b)
    if ta is _ndarray and tb is _ndarray:  # plain arrays: NumPy itself
        return np.matmul(a, b)  # numpy-only: NumPy arrays only, by the check above
    if (ta is _ndarray or isinstance(a, Tracer)) and (tb is _ndarray or isinstance(b, Tracer)):
        # a layer's product under a transformation, ``h @ w`` of two matrices (or a matrix
        # and a vector, the same dimension numbers): its one dimension-number object,
        # without the general checks below
        a_shape, b_shape = a.shape, b.shape  # type: ignore[union-attr]  # (by the types checked)
        if len(a_shape) == 2 and 1 <= len(b_shape) <= 2 and a_shape[1] == b_shape[0]:
            return _dot_general_bind(a, b, dimension_numbers=MATMUL_2D)
    a, b = pair_beside(a, b)  # a number beside a device array
    a, b = as_array(a), as_array(b)
    an, bn = len(a.shape), len(b.shape)
    if an == 0 or bn == 0:
        raise ValueError("matmul: an input is 0-dimensional (a scalar); use * to multiply by a scalar")
    if a.shape[-1] != b.shape[max(bn - 2, 0)]:
        raise ValueError(
            f"matmul: input operand 1 has a mismatch in its core dimension 0 (size "
            f"{b.shape[max(bn - 2, 0)]} is different from {a.shape[-1]}): shapes {a.shape} and {b.shape}"
        )
    if bn == 1:  # (..., m, k) @ (k,) -> (..., m)
        return dot_general(a, b, (((an - 1,), (0,)), ((), ())))
    if an == 1:  # (k,) @ (..., k, n) -> (..., n)
        out = dot_general(a, b, (((0,), (bn - 2,)), ((), ())))
        return out
    if bn == 2:  # (..., m, k) @ (k, n): no batch dimensions needed
        return dot_general(a, b, (((an - 1,), (0,)), ((), ())))
    if an == 2:  # (m, k) @ (..., k, n) gives (m, ..., n): move m into place
        out = dot_general(a, b, (((1,), (bn - 2,)), ((), ())))
        nb = bn - 2
        return _shape.transpose(out, tuple(range(1, nb + 1)) + (0, nb + 1))
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = _shape.broadcast_to(a, batch + a.shape[-2:])
    b = _shape.broadcast_to(b, batch + b.shape[-2:])
    nb = len(batch)
    dims = tuple(range(nb))
    return dot_general(a, b, (((nb + 1,), (nb,)), (dims, dims)))


def dot(a: ArrayLike, b: ArrayLike, /, *, out: None = None,
        precision: Precision | str | tuple | None = None) -> Array:
    """``numpy.dot``: scalars multiply; otherwise the last axis of ``a`` is contracted with
    the second-to-last of ``b`` (its only axis if ``b`` is 1-D). ``precision`` (JAX's) is
    checked and changes nothing: NumPy computes in the operands' dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.dot(fnp.array([1.0, 2.0]), fnp.array([3.0, 4.0]), precision="highest"))
        11.0
    """
    refuse_out("dot", out)
    if precision is not None:
        canonicalize_precision(precision)
    a, b = pair_beside(a, b)  # a number beside a device array
    a, b = as_array(a), as_array(b)
    an, bn = len(a.shape), len(b.shape)
    if an == 0 or bn == 0:
        return _ew.mul(a, b)
    b_axis = 0 if bn == 1 else bn - 2
    if a.shape[-1] != b.shape[b_axis]:
        raise ValueError(f"shapes {a.shape} and {b.shape} not aligned: {a.shape[-1]} (dim {an - 1}) "
                         f"!= {b.shape[b_axis]} (dim {b_axis})")
    return dot_general(a, b, (((an - 1,), (b_axis,)), ((), ())))


def vdot(a: ArrayLike, b: ArrayLike, /, *, precision: Precision | str | tuple | None = None) -> Array:
    """Dot product of the flattened arrays, conjugating the first (``precision``: as ``dot``).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.vdot(fnp.ones((2, 2)), fnp.ones((2, 2))))
        4.0
    """
    a, b = pair_beside(a, b)  # a number beside a device array
    return dot(ravel(conj(a)), ravel(b), precision=precision)


def tensordot(a: ArrayLike, b: ArrayLike, axes: int | Sequence[int | Sequence[int]] = 2, *,
              precision: Precision | str | tuple | None = None) -> Array:
    """Contract ``axes`` of ``a`` with ``axes`` of ``b`` (an int n: the last n of ``a`` with
    the first n of ``b``; or a pair of sequences). ``precision``: as ``dot``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tensordot(fnp.ones((2, 3, 4)), fnp.ones((3, 4, 5))).shape
        (2, 5)
    """
    if precision is not None:
        canonicalize_precision(precision)
    a, b = pair_beside(a, b)  # a number beside a device array
    a, b = as_array(a), as_array(b)
    an, bn = len(a.shape), len(b.shape)
    if isinstance(axes, int):
        a_given: tuple[int, ...] = tuple(range(an - axes, an))
        b_given: tuple[int, ...] = tuple(range(axes))
    else:
        a_spec, b_spec = axes
        a_given = (a_spec,) if isinstance(a_spec, int) else tuple(a_spec)
        b_given = (b_spec,) if isinstance(b_spec, int) else tuple(b_spec)
    a_axes = tuple(normalize_axis(x, an) for x in a_given)
    b_axes = tuple(normalize_axis(x, bn) for x in b_given)
    for i, j in zip(a_axes, b_axes):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: shape mismatch for sum: {a.shape} axis {i} vs {b.shape} axis {j}")
    return dot_general(a, b, ((a_axes, b_axes), ((), ())))


def outer(a: ArrayLike, b: ArrayLike, /) -> Array:
    """Outer product of two vectors (inputs are flattened).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.outer(fnp.ones(2), fnp.ones(3)).shape
        (2, 3)
    """
    a, b = pair_beside(a, b)  # a number beside a device array
    a, b = ravel(a), ravel(b)
    return _ew.mul(_shape.reshape(a, (a.shape[0], 1)), _shape.reshape(b, (1, b.shape[0])))


def inner(a: ArrayLike, b: ArrayLike, /, *, precision: Precision | str | tuple | None = None) -> Array:
    """Contract the last axes of ``a`` and ``b`` (``precision``: as ``dot``).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.inner(fnp.ones(3), fnp.ones(3)))
        3.0
    """
    if precision is not None:
        canonicalize_precision(precision)
    a, b = pair_beside(a, b)  # a number beside a device array
    a, b = as_array(a), as_array(b)
    if len(a.shape) == 0 or len(b.shape) == 0:
        return _ew.mul(a, b)
    return dot_general(a, b, (((len(a.shape) - 1,), (len(b.shape) - 1,)), ((), ())))


def kron(a: ArrayLike, b: ArrayLike, /) -> Array:
    """The Kronecker product: blocks ``a[i, j] * b`` (any number of dimensions).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.kron(fnp.array([1.0, 2.0]), fnp.array([1.0, 10.0])).tolist()
        [1.0, 10.0, 2.0, 20.0]
    """
    a, b = pair_beside(a, b)  # a number beside a device array
    a, b = as_array(a), as_array(b)
    if not any_tracer(a, b):
        return array_module_of(a, b).kron(a, b)
    nd = max(len(a.shape), len(b.shape))
    sa = (1,) * (nd - len(a.shape)) + tuple(a.shape)
    sb = (1,) * (nd - len(b.shape)) + tuple(b.shape)
    a2 = _shape.reshape(a, tuple(d for n in sa for d in (n, 1)))
    b2 = _shape.reshape(b, tuple(d for m in sb for d in (1, m)))
    return _shape.reshape(_ew.mul(a2, b2), tuple(n * m for n, m in zip(sa, sb)))


def _component(v: Array, i: int, axis: int) -> Array:
    return _shape.squeeze(slice_axis(v, axis, i, i + 1), (axis,))


def cross(a: ArrayLike, b: ArrayLike, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Array:
    """Cross product of 3-vectors (or the z component for 2-vectors) along the given axes,
    broadcasting the others.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.cross(fnp.array([1.0, 0.0, 0.0]), fnp.array([0.0, 1.0, 0.0])).tolist()
        [0.0, 0.0, 1.0]
    """
    a, b = pair_beside(a, b)
    a, b = as_array(a), as_array(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    if not any_tracer(a, b):
        return array_module_of(a, b).cross(a, b, axisa, axisb, axisc)
    axisa, axisb = normalize_axis(axisa, len(a.shape)), normalize_axis(axisb, len(b.shape))
    na, nb = a.shape[axisa], b.shape[axisb]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product (dimension must be 2 or 3)")
    ax = [_component(a, i, axisa) for i in range(na)]
    bx = [_component(b, i, axisb) for i in range(nb)]
    zero = 0.0
    a0, a1, a2 = ax[0], ax[1], (ax[2] if na == 3 else zero)
    b0, b1, b2 = bx[0], bx[1], (bx[2] if nb == 3 else zero)
    z = _ew.sub(_ew.mul(a0, b1), _ew.mul(a1, b0))
    if na == 2 and nb == 2:
        return z
    x = _ew.sub(_ew.mul(a1, b2), _ew.mul(a2, b1))
    y = _ew.sub(_ew.mul(a2, b0), _ew.mul(a0, b2))
    parts = np.broadcast_shapes(*(getattr(p, "shape", ()) for p in (x, y, z)))
    x, y, z = (_shape.broadcast_to(p, parts) for p in (x, y, z))
    out = stack([x, y, z], axis=-1)
    return _shape.transpose(out, _move_last_to(len(out.shape), normalize_axis(axisc, len(out.shape))))


def _move_last_to(nd: int, position: int) -> tuple[int, ...]:
    order = list(range(nd - 1))
    order.insert(position, nd - 1)
    return tuple(order)


# --- einsum --------------------------------------------------------------------------------------

# The letters NumPy gives the integer labels of the sublist form (0-25: A-Z, 26-51: a-z), so that
# the implicit output's alphabetical order is the labels' numerical order.
_SUBLIST_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _sublist_label(label: Any) -> str:
    if label is Ellipsis:
        return "..."
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise TypeError(f"einsum: a sublist holds integers (and Ellipsis), not {label!r}")
    if not 0 <= label < len(_SUBLIST_LETTERS):
        raise ValueError(f"einsum: subscript {label} is not within the valid range [0, 52)")
    return _SUBLIST_LETTERS[label]


def _from_sublists(args: Sequence[Any]) -> tuple[str, list[Any]]:
    """``einsum(op0, sublist0, op1, sublist1, ..., [sublist_out])`` as a subscripts string
    and its operands."""
    args = list(args)
    output = args.pop() if len(args) % 2 else None
    operands, specs = args[0::2], args[1::2]
    subscripts = ",".join("".join(map(_sublist_label, spec)) for spec in specs)
    if output is not None:
        subscripts += "->" + "".join(map(_sublist_label, output))
    return subscripts, operands


def _parse_einsum(subscripts: str, operands: Sequence[Array]) -> tuple[list[str], str]:
    """One label per dimension of each operand (the ellipsis spelled out with spare letters,
    its dimensions lined up from the right as in broadcasting), and the output's labels."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        inputs, output = subscripts.split("->")
    else:
        inputs, output = subscripts, None
    in_specs = inputs.split(",")
    if len(in_specs) != len(operands):
        raise ValueError(f"einsum: {len(in_specs)} operand subscripts for {len(operands)} operands")
    used = set(subscripts) - set(".,->")
    spare = iter(c for c in string.ascii_letters if c not in used)
    ellipsis_labels = ""
    specs = []
    for spec, op in zip(in_specs, operands):
        nd = len(op.shape)
        if "..." in spec:
            n_ell = nd - (len(spec) - 3)
            if n_ell < 0:
                raise ValueError(f"einsum: subscripts {spec!r} name more dimensions than the "
                                 f"operand's {nd}")
            if n_ell > len(ellipsis_labels):
                ellipsis_labels = "".join(next(spare) for _ in range(n_ell - len(ellipsis_labels))) + ellipsis_labels
            spec = spec.replace("...", ellipsis_labels[len(ellipsis_labels) - n_ell:])
        if len(spec) != nd:
            raise ValueError(f"einsum: subscripts {spec!r} do not match an operand with {nd} dimensions")
        specs.append(spec)
    if output is None:
        counts: dict[str, int] = {}
        for spec in specs:
            for c in spec:
                counts[c] = counts.get(c, 0) + 1
        return specs, ellipsis_labels + "".join(
            sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis_labels))
    if "..." in output:
        output = output.replace("...", ellipsis_labels)
    elif ellipsis_labels:
        raise ValueError("einsum: the operands have dimensions under '...' but the output has no "
                         "'...' to put them in")
    if len(set(output)) != len(output):
        repeated = next(c for c in output if output.count(c) > 1)
        raise ValueError(f"einsum: output subscript {repeated!r} appears more than once")
    unknown = set(output).difference(*specs)
    if unknown:
        raise ValueError(f"einsum: output subscript {min(unknown)!r} never appears in an input")
    return specs, output


def _take_diagonals(op: Array, spec: str) -> tuple[Array, str]:
    """A label repeated within one operand (``'ii'``) means its diagonal: take it, so that
    every label appears once (the diagonal becomes the last axis)."""
    while len(set(spec)) != len(spec):
        label = next(c for c in spec if spec.count(c) > 1)
        first, second = [i for i, c in enumerate(spec) if c == label][:2]
        if op.shape[first] != op.shape[second]:
            raise ValueError(f"einsum: dimensions in operand for collapsing index '{label}' "
                             f"don't match ({op.shape[first]} != {op.shape[second]})")
        rest = [i for i in range(len(spec)) if i not in (first, second)]
        moved = _shape.transpose(op, tuple(rest) + (first, second))
        # host-data: made on the host, placed on the operand's device
        diagonal = placed_like(np.arange(op.shape[first]), op)
        op = gather_p.bind(moved, diagonal, diagonal, index=(Ellipsis, IndexArray(0), IndexArray(1)))
        spec = "".join(spec[i] for i in rest) + label
    return op, spec


def _label_sizes(operands: Sequence[Array], specs: Sequence[str]) -> dict[str, int]:
    """Each label's size, broadcast over the operands: a dimension of size 1 stretches to the
    size the others give the label, as in NumPy's einsum."""
    sizes: dict[str, int] = {}
    for op, spec in zip(operands, specs):
        for c, n in zip(spec, op.shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = n
            elif n not in (1, sizes[c]):
                shapes_ = ", ".join(f"{s!r}: {tuple(o.shape)}" for o, s in zip(operands, specs))
                raise ValueError(f"einsum: label {c!r} has sizes {sizes[c]} and {n}, which do not "
                                 f"broadcast together (operands {shapes_})")
    return sizes


def _drop_unit_axes(op: Array, spec: str) -> tuple[Array, str]:
    """Remove the dimensions of size 1: the operand is constant along them, so the label they
    carry takes its size (and its place in the sum) from the other operands, or is 1."""
    unit = tuple(i for i, n in enumerate(op.shape) if n == 1)
    if not unit:
        return op, spec
    return _shape.squeeze(op, unit), "".join(c for i, c in enumerate(spec) if i not in unit)


def _sum_out(op: Array, spec: str, keep: str) -> tuple[Array, str]:
    """Sum the labels of ``spec`` that are not in ``keep``."""
    axes = tuple(i for i, c in enumerate(spec) if c not in keep)
    if not axes:
        return op, spec
    return _red.reduce_sum(op, axes), "".join(c for c in spec if c in keep)


def _contract(a: Array, sa: str, b: Array, sb: str, keep: str) -> tuple[Array, str]:
    """Contract two operands; labels in ``keep`` survive (batch if in both)."""
    batch = [c for c in sa if c in sb and c in keep]
    contract = [c for c in sa if c in sb and c not in keep]
    out = dot_general(
        a, b,
        ((tuple(sa.index(c) for c in contract), tuple(sb.index(c) for c in contract)),
         (tuple(sa.index(c) for c in batch), tuple(sb.index(c) for c in batch))),
    )
    spec = "".join(batch) + "".join(c for c in sa if c not in sb) + "".join(c for c in sb if c not in sa)
    return out, spec


@functools.lru_cache(maxsize=1024)
def _greedy_path(subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> list[tuple[int, ...]]:
    """The pairwise contraction order NumPy's greedy ``einsum_path`` finds for these operand
    shapes (cached: a training loop asks the same question every step)."""
    # host-metadata: shapes only
    shapes_only = [np.lib.stride_tricks.as_strided(np.zeros((), np.int8), shape=shape, strides=(0,) * len(shape))
                   for shape in shapes]
    # host-metadata: shapes only
    return np.einsum_path(subscripts, *shapes_only, optimize="greedy")[0][1:]


def _contract_all(operands: Sequence[Array], specs: Sequence[str], output: str) -> Array:
    """Contract the operands (every label once per operand, no dimension of size 1) down to
    the labels of ``output`` they carry, pairwise in the order of NumPy's greedy path."""
    path = _greedy_path(",".join(specs) + "->" + output, tuple(tuple(shape_of(op)) for op in operands))
    ops = list(zip(operands, specs))
    for step in path:
        picked = [ops[i] for i in step]
        for i in sorted(step, reverse=True):
            del ops[i]
        later = output + "".join(s for _, s in ops)
        if len(picked) == 1:
            op, spec = _sum_out(picked[0][0], picked[0][1], later)
        else:
            (a, sa), (b, sb) = picked[0], picked[1]
            others = later + "".join(s for _, s in picked[2:])
            a, sa = _sum_out(a, sa, others + sb)
            b, sb = _sum_out(b, sb, others + sa)
            op, spec = _contract(a, sa, b, sb, others)
            for c, sc in picked[2:]:
                op, spec = _contract(op, spec, c, sc, later)
        ops.append((op, spec))
    (op, spec), = ops
    op, spec = _sum_out(op, spec, output)
    return _shape.transpose(op, tuple(spec.index(c) for c in output))


def einsum(subscripts: str | ArrayLike, *operands: ArrayLike, out: None = None,
           optimize: bool | str = False, precision: Precision | str | tuple | None = None) -> Array:
    """Einstein summation, as ``numpy.einsum``: ``einsum('ij,jk->ik', a, b)``, or the sublist
    form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (integers in [0, 52) and ``Ellipsis``).
    Dimensions of size 1 broadcast against the other operands' sizes of their label, and the
    dimensions under ``...`` broadcast as in NumPy. Contracted pairwise through
    ``dot_general`` in the order NumPy's ``einsum_path`` finds cheapest. On plain arrays it
    is ``numpy.einsum`` (``optimize`` as there). ``precision``: as ``dot``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.einsum('ij,jk->ik', fnp.ones((2, 3)), fnp.ones((3, 4))).shape
        (2, 4)
        >>> fnp.einsum('ij,ij->ij', fnp.ones((1, 4)), fnp.ones((4, 1))).shape
        (4, 4)
        >>> fnp.einsum(fnp.ones((2, 3)), [0, 1], fnp.ones(3), [1]).tolist()
        [3.0, 3.0]
    """
    refuse_out("einsum", out)
    if precision is not None:
        canonicalize_precision(precision)
    args: Sequence[ArrayLike] = operands
    if not isinstance(subscripts, str):
        subscripts, args = _from_sublists((subscripts, *operands))
    for op in args:
        if type(op) is not np.ndarray:
            break
    else:  # plain arrays: NumPy itself
        # numpy-only: NumPy arrays only, by the check above
        return np.einsum(subscripts, *args, optimize=optimize)
    arrays = [as_array(op) for op in numbers_beside(args)]
    if not any_tracer(*arrays):
        return array_module_of(*arrays).einsum(subscripts, *arrays, optimize=optimize)
    specs, output = _parse_einsum(subscripts, arrays)
    taken = [_take_diagonals(op, spec) for op, spec in zip(arrays, specs)]
    sizes = _label_sizes([op for op, _ in taken], [spec for _, spec in taken])
    taken = [_drop_unit_axes(op, spec) for op, spec in taken]
    carried = "".join(c for c in output if sizes[c] != 1)
    out = _contract_all([op for op, _ in taken], [spec for _, spec in taken], carried)
    if carried != output:  # the output's labels of size 1
        out = _shape.reshape(out, tuple(sizes[c] for c in output))
    return out


def vecdot(x1: ArrayLike, x2: ArrayLike, /, *, axis: int = -1) -> Array:
    """The dot products of vectors along ``axis`` (the first conjugated), broadcasting the
    other axes, as ``numpy.vecdot``. Differentiable in both.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.vecdot(fnp.array([[1.0, 2.0], [3.0, 4.0]]), fnp.array([1.0, 1.0])).tolist()
        [3.0, 7.0]
    """
    x1, x2 = pair_beside(x1, x2)
    a, b = as_array(x1), as_array(x2)
    if a.dtype.kind == "c":
        a = conj(a)
    nd = max(len(a.shape), len(b.shape))
    return _red.reduce_sum(_ew.mul(a, b), (axis % nd,))


def matvec(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Matrix-vector products of stacks of matrices and vectors (the batch axes broadcast),
    as ``numpy.matvec``. Differentiable in both.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.matvec(fnp.array([[1.0, 2.0], [3.0, 4.0]]), fnp.array([1.0, 1.0])).tolist()
        [3.0, 7.0]
    """
    b = as_array(x2)
    out = matmul(x1, _shape.expand_dims(b, (len(b.shape),)))
    return _shape.squeeze(out, (len(out.shape) - 1,))


def vecmat(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Vector-matrix products (the vector conjugated) of stacks of vectors and matrices, as
    ``numpy.vecmat``. Differentiable in both.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.vecmat(fnp.array([1.0, 1.0]), fnp.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [4.0, 6.0]
    """
    a = as_array(x1)
    if a.dtype.kind == "c":
        a = conj(a)
    out = matmul(_shape.expand_dims(a, (len(a.shape) - 1,)), x2)
    return _shape.squeeze(out, (len(out.shape) - 2,))


def einsum_path(subscripts: str, *operands: ArrayLike, optimize: Any = "greedy",
                einsum_call: bool = False) -> tuple[list, str]:
    """NumPy's contraction order for an ``einsum`` and its report, as
    ``numpy.einsum_path``: it depends only on the operands' shapes, so traced operands count
    by their shapes.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.einsum_path("ij,jk,kl->il", fnp.ones((2, 3)), fnp.ones((3, 4)), fnp.ones((4, 5)))[0]
        ['einsum_path', (1, 2), (0, 1)]
    """
    # host-metadata: zero stand-ins of the operands' shapes (the path depends on shapes only)
    stand_ins = [np.zeros(tuple(shape_of(as_array(op)))) for op in operands]
    path = cast(Any, np.einsum_path)  # host-metadata: NumPy's planner, on the stand-ins
    return path(subscripts, *stand_ins, optimize=optimize, einsum_call=einsum_call)
