"""``dot_general``: the one contraction primitive behind dot, matmul, tensordot and einsum.

``dimension_numbers = ((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))``. The output's
dimensions are the batch dimensions, then the free dimensions of ``lhs``, then those of
``rhs``, each in their original order. It is bilinear: the transpose for one operand is
another ``dot_general`` of the cotangent with the other operand, followed by a permutation
that puts the dimensions back in the operand's order.
"""
from __future__ import annotations

import numpy as np

from functrans.backend import array_module_of
from functrans.core.ir import is_linear
from functrans.core.primitive import Primitive
from functrans.primitives._define import defjvp


def _free_dims(ndim, contract, batch):
    return tuple(d for d in range(ndim) if d not in contract and d not in batch)


# The four 2-D matrix products BLAS does without copying, by their dimension numbers.
_MATMUL_2D = {
    ((1,), (0,)): lambda xp, x, y: xp.matmul(x, y),
    ((1,), (1,)): lambda xp, x, y: xp.matmul(x, y.T),
    ((0,), (0,)): lambda xp, x, y: xp.matmul(x.T, y),
    ((0,), (1,)): lambda xp, x, y: xp.matmul(x.T, y.T),
}


def _dot_general_impl(x, y, *, dimension_numbers):
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    xp = array_module_of(x, y)
    if not x_batch:
        if x.ndim == 2 and y.ndim == 2:
            fast = _MATMUL_2D.get((x_contract, y_contract))
            if fast is not None:
                return fast(xp, x, y)
        return xp.tensordot(x, y, axes=(x_contract, y_contract))
    # Batched: arrange as (batch, free, contract) @ (batch, contract, free) and use matmul.
    x_free = _free_dims(x.ndim, x_contract, x_batch)
    y_free = _free_dims(y.ndim, y_contract, y_batch)
    batch_shape = tuple(x.shape[d] for d in x_batch)
    x_free_shape = tuple(x.shape[d] for d in x_free)
    y_free_shape = tuple(y.shape[d] for d in y_free)
    k = int(np.prod([x.shape[d] for d in x_contract], dtype=np.int64))
    m = int(np.prod(x_free_shape, dtype=np.int64))
    n = int(np.prod(y_free_shape, dtype=np.int64))
    xt = xp.transpose(x, x_batch + x_free + x_contract).reshape(batch_shape + (m, k))
    yt = xp.transpose(y, y_batch + y_contract + y_free).reshape(batch_shape + (k, n))
    return xp.matmul(xt, yt).reshape(batch_shape + x_free_shape + y_free_shape)


def _dot_general_shape(x, y, *, dimension_numbers):
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    shape = (
        tuple(x.shape[d] for d in x_batch)
        + tuple(x.shape[d] for d in _free_dims(x.ndim, x_contract, x_batch))
        + tuple(y.shape[d] for d in _free_dims(y.ndim, y_contract, y_batch))
    )
    return shape, np.result_type(x.dtype, y.dtype)


def _ranges(*lengths):
    start = 0
    for n in lengths:
        yield tuple(range(start, start + n))
        start += n


def _transpose_lhs(ct, x, y, dimension_numbers, ct_has_y_first=False):
    """Cotangent of ``x`` in ``dot_general(x, y)``; ``ct_has_y_first`` for the swapped case."""
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    x_free = _free_dims(x.ndim, x_contract, x_batch)
    y_free = _free_dims(y.ndim, y_contract, y_batch)
    if ct_has_y_first:
        ct_batch, ct_y, _ = _ranges(len(x_batch), len(y_free), len(x_free))
    else:
        ct_batch, _, ct_y = _ranges(len(x_batch), len(x_free), len(y_free))
    # Contract ct's y-free dims with y's free dims; the result is (batch, x free, y contract).
    product = dot_general(ct, y, ((ct_y, y_free), (ct_batch, y_batch)))
    # y's contracted dims come out in y's order; map each to the x dim it was paired with.
    x_contract_in_y_order = [x_contract[i] for i in np.argsort(y_contract)]
    positions = list(x_batch) + list(x_free) + x_contract_in_y_order
    return transpose(product, tuple(int(i) for i in np.argsort(positions)))


def _transpose_rhs(ct, x, y, dimension_numbers):
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    swapped = ((y_contract, x_contract), (y_batch, x_batch))
    return _transpose_lhs(ct, y, x, swapped, ct_has_y_first=True)


def _dot_general_transpose(ct, x, y, *, dimension_numbers):
    if is_linear(x) and is_linear(y):
        raise ValueError("dot_general is not linear in both operands at once")
    if is_linear(x):
        return _transpose_lhs(ct, x, y, dimension_numbers), None
    return None, _transpose_rhs(ct, x, y, dimension_numbers)


dot_general_p = Primitive("dot_general")
dot_general_p.impl = _dot_general_impl
dot_general_p.shape_rule = _dot_general_shape
defjvp(
    dot_general_p,
    lambda t, x, y, *, dimension_numbers: dot_general(t, y, dimension_numbers),
    lambda t, x, y, *, dimension_numbers: dot_general(x, t, dimension_numbers),
)
dot_general_p.transpose = _dot_general_transpose


def dot_general(x, y, dimension_numbers):
    (xc, yc), (xb, yb) = dimension_numbers
    dims = ((tuple(int(d) for d in xc), tuple(int(d) for d in yc)),
            (tuple(int(d) for d in xb), tuple(int(d) for d in yb)))
    return dot_general_p.bind(x, y, dimension_numbers=dims)


from functrans.primitives.shape import transpose  # noqa: E402
