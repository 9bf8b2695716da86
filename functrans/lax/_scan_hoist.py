"""Const cotangents of a transposed ``scan`` step taken out of its loop: a weight's
``acc + dot_general(a, b)`` and a bias's ``acc + reduce_sum(a)`` become one product or sum
over the stacked per-step operands after the loop, as backpropagation through time written
by hand does (``hoist_products``); and which variables of a step depend on its consts only
(``invariant_vars``).

Example:
    >>> import numpy as np
    >>> from functrans.core.staging import stage
    >>> from functrans.primitives import mul_p
    >>> step = stage(lambda v: [mul_p.bind(v[0], 2.0), mul_p.bind(v[1], v[0])],
    ...              [((), np.dtype("float64"))] * 2, "step")
    >>> len(invariant_vars(step, 1))  # the const and twice it
    2
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from functrans._abstract import dtype_of, shape_of
from functrans.core.ir import Program, Var
from functrans.core.primitive import Primitive
from functrans.primitives import add_p, reduce_sum_p, transpose_p
from functrans.primitives.dot import dot_general_p

__all__ = ["Hoisted", "hoist_products", "invariant_vars"]


def invariant_vars(program: Program, num_consts: int) -> set[int]:
    """Indices of the variables of a step that depend on its consts only."""
    trace = program.trace
    invariant = {v.index for v in program.in_vars[:num_consts]}
    for eqn in program.eqns:
        if all(not (type(a) is Var and a._trace is trace) or a.index in invariant for a in eqn.args):
            invariant.update(o.index for o in eqn.outs)
    return invariant


class Hoisted:
    """A const cotangent taken out of the transposed loop: ``dot_general`` (``params`` its
    dimension numbers) or ``reduce_sum`` (``params`` its axes) of per-step operands, each
    found as a stacked y of the loop (``("y", k)``: the k-th of the extra ys) or as one of
    the loop's own xs (``("x", i)``: the i-th), contracted or summed over the loop axis too."""

    __slots__ = ("prim", "params", "sources")

    def __init__(self, prim: Primitive, params: Any, sources: list[tuple[str, int]]):
        self.prim = prim
        self.params = params
        self.sources = sources

    def apply(self, operands: list) -> Any:
        if self.prim is dot_general_p:
            return _stacked_product(operands[0], operands[1], self.params)
        return reduce_sum_p.bind(operands[0], axes=(0,) + tuple(d + 1 for d in self.params))


def hoist_products(program: Program, num_consts: int, num_carry: int,
                   num_acc: int) -> tuple[Program, dict[int, Hoisted]]:
    """Take const cotangents that are a per-step product or sum out of the transposed loop.

    The transposed step accumulates each linear const's cotangent: ``acc' = acc +
    dot_general(a, b)`` (a weight) or ``acc' = acc + reduce_sum(a)`` (a bias). Where the
    operands change from step to step and the accumulator feeds nothing else, the step
    drops the accumulator and returns the operands as stacked ys instead (after the others,
    accumulator by accumulator; an operand that is one of the loop's xs is used as it is,
    and one that is a ``transpose`` of a per-step value is stacked untransposed, its
    dimension numbers permuted, so the stack is a contiguous copy); the caller contracts or
    sums the stacks over the loop axis too (``Hoisted.apply``): one large matrix product
    instead of one small product and one add per step, as backpropagation through time
    written by hand does. The step's inputs are ``num_consts`` consts, ``num_carry`` carries
    (the first ``num_acc`` of them the accumulators) and its xs. Returns the new step
    program (its carries less the hoisted accumulators) and ``{accumulator position:
    Hoisted}``.

    Example:
        >>> import numpy as np
        >>> from functrans.core.staging import stage
        >>> from functrans.primitives import add_p, reduce_sum_p
        >>> f32 = np.dtype("float32")
        >>> step = stage(lambda v: [add_p.bind(v[0], reduce_sum_p.bind(v[1], axes=(0,)))],
        ...              [((3,), f32), ((2, 3), f32)], "step")
        >>> program, hoisted = hoist_products(step, 0, 1, 1)
        >>> len(program.eqns), hoisted[0].params
        (0, (0,))
    """
    trace = program.trace
    c = num_consts

    def is_var(v: Any) -> bool:
        return type(v) is Var and v._trace is trace

    producer: dict[int, Any] = {}
    uses: dict[int, int] = {}
    for eqn in program.eqns:
        for o in eqn.outs:
            producer[o.index] = eqn
        for a in eqn.args:
            if is_var(a):
                uses[a.index] = uses.get(a.index, 0) + 1
    for o in program.outs:
        if is_var(o):
            uses[o.index] = uses.get(o.index, 0) + 1
    invariant = invariant_vars(program, c)
    acc_in = program.in_vars[c:c + num_acc]
    acc_indices = {v.index for v in acc_in}
    x_position = {v.index: i for i, v in enumerate(program.in_vars[c + num_carry:])}
    hoisted: dict[int, Hoisted] = {}
    extra: list = []

    def per_step(v: Any) -> bool:
        return is_var(v) and v.index not in invariant and v.index not in acc_indices

    def untransposed(v: Any) -> tuple[Any, tuple | None]:
        """``v``, or the per-step value it is a transpose of and that permutation."""
        eqn = producer.get(v.index)
        if eqn is not None and eqn.prim is transpose_p and per_step(eqn.args[0]):
            return eqn.args[0], tuple(eqn.params["permutation"])
        return v, None

    stacked_at: dict[int, int] = {}

    def source(v: Any) -> tuple[str, int]:
        if v.index in x_position:
            return "x", x_position[v.index]
        if v.index not in stacked_at:  # an operand of two accumulators is stacked once
            stacked_at[v.index] = len(extra)
            extra.append(v)
        return "y", stacked_at[v.index]

    for j, acc in enumerate(acc_in):
        out = program.outs[j]
        add = producer.get(out.index) if is_var(out) else None
        if add is None or add.prim is not add_p or uses.get(acc.index) != 1:
            continue
        term = add.args[1] if add.args[0] is acc else add.args[0] if add.args[1] is acc else None
        prod = producer.get(term.index) if is_var(term) else None
        if prod is None or prod.prim not in (dot_general_p, reduce_sum_p) or len(prod.outs) != 1:
            continue
        if (tuple(shape_of(term)), dtype_of(term)) != (tuple(shape_of(out)), dtype_of(out)):
            continue
        if not all(per_step(v) for v in prod.args):
            continue
        if prod.prim is reduce_sum_p:
            hoisted[j] = Hoisted(reduce_sum_p, tuple(prod.params["axes"]), [source(prod.args[0])])
            continue
        numbers = prod.params["dimension_numbers"]
        operands = []
        for side, v in enumerate(prod.args):
            inner, perm = untransposed(v)
            contract, batch = numbers[0][side], numbers[1][side]
            free = _free_dims(len(shape_of(v)), contract, batch)
            moved = [perm[d] for d in free] if perm is not None else []
            if perm is not None and moved == sorted(moved):
                v = inner  # the free dimensions keep their order: the product is unchanged
                contract, batch = tuple(perm[d] for d in contract), tuple(perm[d] for d in batch)
            operands.append((v, contract, batch))
        (a, ca, ba), (b, cb, bb) = operands
        hoisted[j] = Hoisted(dot_general_p, ((ca, cb), (ba, bb)), [source(a), source(b)])
    if not hoisted:
        return program, {}
    in_vars = [v for i, v in enumerate(program.in_vars) if not (c <= i < c + num_acc)
               or i - c not in hoisted]
    outs = [o for j, o in enumerate(program.outs) if j not in hoisted] + extra
    needed = {o.index for o in outs if is_var(o)}
    eqns = []
    for eqn in reversed(program.eqns):  # drop what only fed the hoisted accumulators
        if any(o.index in needed for o in eqn.outs):
            eqns.append(eqn)
            needed.update(a.index for a in eqn.args if is_var(a))
    eqns.reverse()
    return Program(trace, in_vars, eqns, outs), hoisted


def _free_dims(ndim: int, contract: Sequence[int], batch: Sequence[int]) -> list[int]:
    return [d for d in range(ndim) if d not in contract and d not in batch]


def _stacked_product(a: Any, b: Any, dimension_numbers: tuple) -> Any:
    """``sum_t dot_general(a[t], b[t])`` as one ``dot_general`` that also contracts the loop
    axis (axis 0 of both stacks)."""
    (a_contract, b_contract), (a_batch, b_batch) = dimension_numbers

    def shift(dims: Sequence[int]) -> tuple:
        return tuple(d + 1 for d in dims)

    numbers = (((0,) + shift(a_contract), (0,) + shift(b_contract)), (shift(a_batch), shift(b_batch)))
    return dot_general_p.bind(a, b, dimension_numbers=numbers)
