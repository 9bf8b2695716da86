"""``scatter_ufunc``: a copy of a flat ``x`` with updates combined into it at positions by
``multiply``, ``divide``, ``minimum`` or ``maximum``, every update applied: a position that
repeats takes its updates one after the other, in the order they come (NumPy's ``ufunc.at``).
It carries ``x.at[i].multiply / divide / min / max`` and the segment reductions, with positions
known only when the program runs (under jit or vmap) as well as concrete ones.

The derivatives, with ``P`` the product of the updates at a position (1 where none lands):
``multiply`` is ``x * P``, so its tangent is ``tx * P + x * dP``, where ``dP`` sums each update's
tangent times the product of the other updates at its position (found without dividing by a
zero update); ``divide`` is ``x / P``, tangent ``(tx - y * dP) / P``; ``minimum`` and
``maximum`` pass the tangent of whichever values equal the result, split evenly between ties
(``x`` and updates alike), as the elementwise ``max`` and JAX's scatter do.

Example:
    >>> import numpy as np
    >>> scatter_ufunc(np.ones(3), np.array([2.0, 3.0, 5.0]), np.array([0, 0, 2]), "multiply")
    array([6., 1., 5.])
"""
from __future__ import annotations

from functrans.backend import backend_of
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import (
    batch_size,
    bdim_at_front,
    full_like,
    reshape,
)
from functrans.primitives.conversion import convert_element_type, iota_like
from functrans.primitives.elementwise import add, div, eq, mul, select, sub
from functrans.primitives.indexing import IndexArray, gather_p, scatter_add_p

UFUNCS = ("multiply", "divide", "minimum", "maximum")

_AT = (IndexArray(0),)


def _impl(x, updates, positions, *, ufunc):
    backend = backend_of(x)
    out = backend.asarray(x, copy=True)
    backend.ufunc_at(out, positions, updates, ufunc)
    return out


scatter_ufunc_p = Primitive("scatter_ufunc")
scatter_ufunc_p.impl = _impl
scatter_ufunc_p.shape_rule = lambda x, updates, positions, *, ufunc: (x.shape, x.dtype)


def _gather(a, positions):
    return gather_p.bind(a, positions, index=_AT)


def _scatter_sum(like, values, positions):
    """The sum of ``values`` landing on each position of a flat array shaped like ``like``."""
    return scatter_add_p.bind(full_like(like, 0, dtype=values.dtype), values, positions, index=_AT)


def _others_product(updates, positions, like):
    """For each update, the product of the other updates at its position: the product of the
    nonzero ones divided by its own when it is nonzero and no zero shares its position, the
    product of the nonzero ones when it is the position's only zero, else 0."""
    is_zero = eq(updates, 0)
    nonzero = select(is_zero, full_like(updates, 1), updates)
    zeros_at = _gather(_scatter_sum(like, convert_element_type(is_zero, new_dtype=updates.dtype),
                                    positions), positions)
    product_at = _gather(scatter_ufunc_p.bind(full_like(like, 1), nonzero, positions,
                                              ufunc="multiply"), positions)
    alone = select(eq(zeros_at, 1), product_at, full_like(updates, 0))
    unshared = select(eq(zeros_at, 0), div(product_at, nonzero), full_like(updates, 0))
    return select(is_zero, alone, unshared)


def _product_tangent(x, updates, positions, t_updates):
    """``dP``: the tangent of the product of the updates at each position."""
    return _scatter_sum(x, mul(t_updates, _others_product(updates, positions, x)), positions)


def _jvp(primals, tangents, *, ufunc):
    x, updates, positions = primals
    t_x, t_updates = tangents[0], tangents[1]
    out = scatter_ufunc_p.bind(x, updates, positions, ufunc=ufunc)
    if t_x is zero and t_updates is zero:
        return out, zero
    if ufunc in ("minimum", "maximum"):
        got = _gather(out, positions)
        won = eq(updates, got)
        kept = eq(x, out)
        one = full_like(out, 1)
        ties = add(_scatter_sum(x, convert_element_type(won, new_dtype=out.dtype), positions),
                   select(kept, one, full_like(out, 0)))
        t_out = full_like(out, 0) if t_x is zero else select(kept, t_x, full_like(out, 0))
        if t_updates is not zero:
            t_out = add(t_out, _scatter_sum(x, select(won, t_updates, full_like(updates, 0)),
                                            positions))
        return out, div(t_out, ties)
    product = scatter_ufunc_p.bind(full_like(x, 1), updates, positions, ufunc="multiply")
    if ufunc == "multiply":
        t_out = zero if t_x is zero else mul(t_x, product)
        if t_updates is not zero:
            t_p = mul(x, _product_tangent(x, updates, positions, t_updates))
            t_out = t_p if t_out is zero else add(t_out, t_p)
        return out, t_out
    t_out = full_like(out, 0) if t_x is zero else t_x  # divide: (tx - y dP) / P
    if t_updates is not zero:
        t_out = sub(t_out, mul(out, _product_tangent(x, updates, positions, t_updates)))
    return out, div(t_out, product)


def _batch(values, dims, *, ufunc):
    """The examples laid end to end: example ``b``'s positions move by ``b * n``."""
    size = batch_size(values, dims)
    x, updates, positions = (bdim_at_front(v, d, size) for v, d in zip(values, dims))
    n, k = x.shape[1], updates.shape[1]
    offsets = reshape(mul(iota_like(positions, size), n), (size, 1))
    moved = add(convert_element_type(positions, new_dtype=offsets.dtype), offsets)
    out = scatter_ufunc_p.bind(reshape(x, (size * n,)), reshape(updates, (size * k,)),
                               reshape(moved, (size * k,)), ufunc=ufunc)
    return reshape(out, (size, n)), 0


scatter_ufunc_p.jvp = _jvp
scatter_ufunc_p.batch = _batch


def scatter_ufunc(x, updates, positions, ufunc: str):
    """A copy of the flat array ``x`` with ``updates`` combined in at ``positions`` by
    ``ufunc`` (one of ``UFUNCS``), every repeat applied in order."""
    if ufunc not in UFUNCS:
        raise ValueError(f"scatter_ufunc: ufunc={ufunc!r} is not one of {UFUNCS}")
    return scatter_ufunc_p.bind(x, updates, positions, ufunc=ufunc)
