"""Products with NumPy's names: ``dot``, ``matmul``, ``vdot``, ``inner``, ``outer``,
``tensordot``, ``einsum``, ``kron`` and ``cross``.

Contractions are built on the ``dot_general`` primitive (``einsum`` contracts pairwise in the
order NumPy's ``einsum_path`` finds cheapest); ``outer``, ``kron`` and ``cross`` are elementwise
products of reshaped operands.
"""
from __future__ import annotations

import string
from collections.abc import Sequence

import numpy as np

from functrans.backend import array_module_of
from functrans.numpy._complex import conj
from functrans.numpy._joining import stack
from functrans.numpy._shape import ravel
from functrans.numpy._util import any_tracer, as_array, normalize_axis, placed_like, slice_axis
from functrans.primitives import elementwise as _ew
from functrans.primitives import reduction as _red
from functrans.primitives import shape as _shape
from functrans.primitives.dot import dot_general
from functrans.primitives.indexing import IndexArray, gather_p
from functrans.typing import Array, ArrayLike

# --- matrix and vector products ------------------------------------------------------------------


def matmul(a: ArrayLike, b: ArrayLike, /) -> Array:
    """Matrix product with NumPy's rules: 1-D operands are promoted to matrices and the
    added dimension removed afterwards; leading dimensions are batch dimensions and broadcast.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.matmul(fnp.ones((2, 3)), fnp.ones((3, 4))).shape
        (2, 4)
    """
    if type(a) is np.ndarray and type(b) is np.ndarray:  # plain arrays: NumPy itself
        return np.matmul(a, b)  # numpy-only: NumPy arrays only, by the check above
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


def dot(a: ArrayLike, b: ArrayLike, /) -> Array:
    """``numpy.dot``: scalars multiply; otherwise the last axis of ``a`` is contracted with
    the second-to-last of ``b`` (its only axis if ``b`` is 1-D).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.dot(fnp.array([1.0, 2.0]), fnp.array([3.0, 4.0])))
        11.0
    """
    a, b = as_array(a), as_array(b)
    an, bn = len(a.shape), len(b.shape)
    if an == 0 or bn == 0:
        return _ew.mul(a, b)
    b_axis = 0 if bn == 1 else bn - 2
    if a.shape[-1] != b.shape[b_axis]:
        raise ValueError(f"shapes {a.shape} and {b.shape} not aligned: {a.shape[-1]} (dim {an - 1}) "
                         f"!= {b.shape[b_axis]} (dim {b_axis})")
    return dot_general(a, b, (((an - 1,), (b_axis,)), ((), ())))


def vdot(a: ArrayLike, b: ArrayLike, /) -> Array:
    """Dot product of the flattened arrays, conjugating the first.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.vdot(fnp.ones((2, 2)), fnp.ones((2, 2))))
        4.0
    """
    return dot(ravel(conj(a)), ravel(b))


def tensordot(a: ArrayLike, b: ArrayLike, axes: int | Sequence[Sequence[int]] = 2) -> Array:
    """Contract ``axes`` of ``a`` with ``axes`` of ``b`` (an int n: the last n of ``a`` with
    the first n of ``b``; or a pair of sequences).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.tensordot(fnp.ones((2, 3, 4)), fnp.ones((3, 4, 5))).shape
        (2, 5)
    """
    a, b = as_array(a), as_array(b)
    an, bn = len(a.shape), len(b.shape)
    if isinstance(axes, int):
        a_axes = tuple(range(an - axes, an))
        b_axes = tuple(range(axes))
    else:
        a_axes, b_axes = axes
        a_axes = (a_axes,) if isinstance(a_axes, int) else tuple(a_axes)
        b_axes = (b_axes,) if isinstance(b_axes, int) else tuple(b_axes)
    a_axes = tuple(normalize_axis(x, an) for x in a_axes)
    b_axes = tuple(normalize_axis(x, bn) for x in b_axes)
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
    a, b = ravel(a), ravel(b)
    return _ew.mul(_shape.reshape(a, (a.shape[0], 1)), _shape.reshape(b, (1, b.shape[0])))


def inner(a: ArrayLike, b: ArrayLike, /) -> Array:
    """Contract the last axes of ``a`` and ``b``.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.inner(fnp.ones(3), fnp.ones(3)))
        3.0
    """
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
    a, b = as_array(a), as_array(b)
    if not any_tracer(a, b):
        return array_module_of(a, b).kron(a, b)
    nd = max(len(a.shape), len(b.shape))
    sa = (1,) * (nd - len(a.shape)) + tuple(a.shape)
    sb = (1,) * (nd - len(b.shape)) + tuple(b.shape)
    a2 = _shape.reshape(a, tuple(d for n in sa for d in (n, 1)))
    b2 = _shape.reshape(b, tuple(d for m in sb for d in (1, m)))
    return _shape.reshape(_ew.mul(a2, b2), tuple(n * m for n, m in zip(sa, sb)))


def _component(v, i, axis):
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


def _move_last_to(nd, position):
    order = list(range(nd - 1))
    order.insert(position, nd - 1)
    return tuple(order)


# --- einsum --------------------------------------------------------------------------------------


def _parse_einsum(subscripts: str, operands):
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
    ellipsis_labels = None
    specs = []
    for spec, op in zip(in_specs, operands):
        nd = len(op.shape)
        if "..." in spec:
            n_ell = nd - (len(spec) - 3)
            if ellipsis_labels is None or n_ell > len(ellipsis_labels):
                extra = "".join(next(spare) for _ in range(n_ell - (len(ellipsis_labels) if ellipsis_labels else 0)))
                ellipsis_labels = extra + (ellipsis_labels or "")
            spec = spec.replace("...", ellipsis_labels[len(ellipsis_labels) - n_ell:])
        if len(spec) != nd:
            raise ValueError(f"einsum: subscripts {spec!r} do not match an operand with {nd} dimensions")
        specs.append(spec)
    if output is None:
        counts = {}
        for spec in specs:
            for c in spec:
                counts[c] = counts.get(c, 0) + 1
        output = (ellipsis_labels or "") + "".join(
            sorted(c for c, n in counts.items() if n == 1 and c not in (ellipsis_labels or "")))
    elif "..." in output:
        output = output.replace("...", ellipsis_labels or "")
    return specs, output


def _take_diagonals(op, spec):
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


def _sum_out(op, spec, keep):
    """Sum the labels of ``spec`` that are not in ``keep``."""
    axes = tuple(i for i, c in enumerate(spec) if c not in keep)
    if not axes:
        return op, spec
    return _red.reduce_sum(op, axes), "".join(c for c in spec if c in keep)


def _contract(a, sa, b, sb, keep):
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


def einsum(subscripts: str, *operands: ArrayLike, optimize: bool | str = False) -> Array:
    """Einstein summation, e.g. ``einsum('ij,jk->ik', a, b)``; contracted pairwise through
    ``dot_general`` in the order NumPy's ``einsum_path`` finds cheapest. On plain arrays it
    is ``numpy.einsum`` (``optimize`` as there).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.einsum('ij,jk->ik', fnp.ones((2, 3)), fnp.ones((3, 4))).shape
        (2, 4)
    """
    for op in operands:
        if type(op) is not np.ndarray:
            break
    else:  # plain arrays: NumPy itself
        # numpy-only: NumPy arrays only, by the check above
        return np.einsum(subscripts, *operands, optimize=optimize)
    operands = [as_array(op) for op in operands]
    if not any_tracer(*operands):
        return array_module_of(*operands).einsum(subscripts, *operands, optimize=optimize)
    specs, output = _parse_einsum(subscripts, operands)
    taken = [_take_diagonals(op, spec) for op, spec in zip(operands, specs)]
    operands, specs = [op for op, _ in taken], [spec for _, spec in taken]
    # host-metadata: shapes only
    shapes_only = [np.lib.stride_tricks.as_strided(np.zeros((), np.int8), shape=op.shape,
                                                   strides=(0,) * len(op.shape)) for op in operands]
    # host-metadata: shapes only
    path = np.einsum_path(",".join(specs) + "->" + output, *shapes_only, optimize="greedy")[0][1:]
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
