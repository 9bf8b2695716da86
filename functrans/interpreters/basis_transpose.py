"""``jacrev``'s backward pass run on the unit vectors of the outputs as a symbolic basis: the
linear program is walked backwards with cotangents held as ``ScaledBasis`` values (and, once a
step makes them dense, as batches with the example index first), without a batching trace.

``jacrev`` transposes the linear program of ``f`` along every unit vector of its outputs at
once. Under ``BasisTrace`` that costs the dispatch of a batching trace at every step. Yet the
cotangents start as a scaled identity, and the last steps of most functions (products with
values, sums, negation, reshapes, a contraction with a weight) keep that structure or turn it
into the weight itself: those steps are applied here directly, each as one call of its rule.
From the first step that has no such rule, or whose cotangent is already a dense batch, the
rest of the program is transposed the general way (``transpose_program`` under
``vmap_basis_flat``), starting from the cotangents accumulated so far. The result is the same
either way: the rules are those ``BasisTrace`` applies to the same steps.

Example:
    >>> import numpy as np
    >>> import functrans.numpy as fnp
    >>> from functrans.interpreters.basis import unit_basis
    >>> from functrans.interpreters.linearize import linearize_flat
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> x = np.array([1.0, -1.0])
    >>> outs, program = linearize_flat(lambda ts: [(A @ ts[0]) * x], [x], "demo")
    >>> cts, dims = transpose_on_basis(program, unit_basis(outs, outs), "demo")
    >>> cts[0], dims[0]  # row k: the gradient of output k, x[k] * A[k]
    (array([[ 1.,  2.],
           [-3., -4.]]), 0)
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from functrans.core.ir import Program, Var, is_linear
from functrans.core.trace import Tracer, enter_scope, exit_scope
from functrans.core.zeros import zero
from functrans.interpreters.basis import (
    ScaledBasis,
    _diagonal,
    _dot_general_rule,
    _plus_diagonal,
    _reshape_rule,
    _scaled_by,
    vmap_basis_flat,
)
from functrans.interpreters.batching import NOT_MAPPED
from functrans.interpreters.transpose import transpose_program
from functrans.primitives import add_p, div_p, dot_general_p, mul_p, neg_p, reshape_p, sub_p, transpose_p
from functrans.primitives._define import convert_to_cotangent_dtype
from functrans.primitives.dot import _contract_back_plan


def transpose_on_basis(program: Program, basis: Sequence[ScaledBasis], origin: str) -> tuple[list, list]:
    """The cotangents of the program's inputs along every unit vector of its outputs:
    ``vmap_basis_flat(lambda cts: transpose_program(program, cts), basis, origin)``, with the
    steps that keep the basis symbolic applied directly. ``basis`` has one ``ScaledBasis`` per
    program output. Returns arrays with the example index first (dimension 0), or ``zero``
    (dimension ``NOT_MAPPED``) for an input no cotangent reaches.

    The program is not changed: the caller may transpose it again.
    """
    trace = program.trace
    total = basis[0].total if basis else 0
    acc: dict[int, Any] = {}  # variable index -> cotangent (a ScaledBasis or a batch)
    var_of: dict[int, Var] = {}
    owned: set[int] = set()
    for var, b in zip(program.outs, basis):
        if type(var) is Var and var._trace is trace:
            _add_to(acc, var_of, owned, var, b)
    eqns = program.eqns
    outer = enter_scope("transpose")
    try:
        i = len(eqns) - 1
        while i >= 0:
            eqn = eqns[i]
            if eqn.prim.multiple_results:
                break
            out = eqn.outs[0]
            ct = acc.get(out.index)
            if ct is None:
                i -= 1
                continue
            rule = TRANSPOSE_RULES.get(eqn.prim)
            if rule is None or type(ct) is not ScaledBasis:
                break
            in_cts = rule(ct, *eqn.args, **eqn.params)
            if in_cts is NotImplemented:
                break
            del acc[out.index]
            owned.discard(out.index)
            for arg, ct_in in zip(eqn.args, in_cts):
                if ct_in is not zero and type(arg) is Var and arg._trace is trace:
                    _add_to(acc, var_of, owned, arg, ct_in, eqn.args)
            i -= 1
    finally:
        exit_scope(outer)
    if i >= 0:  # the rest of the program, the general way
        pending = list(acc)
        rest = Program(trace, program.in_vars, eqns[:i + 1], [var_of[k] for k in pending])
        return vmap_basis_flat(lambda cts: transpose_program(rest, cts), [acc[k] for k in pending],
                               origin, total)
    cts, dims = [], []
    for var in program.in_vars:
        ct = acc.get(var.index, zero)
        cts.append(ct.dense() if type(ct) is ScaledBasis else ct)
        dims.append(NOT_MAPPED if ct is zero else 0)
    return cts, dims


def _add_to(acc: dict, var_of: dict, owned: set, var: Var, ct: Any, args: tuple = ()) -> None:
    """Accumulate ``ct`` into the cotangent of ``var`` (both of ``var``'s shape and dtype).

    ``owned`` holds the variables whose cotangent is a NumPy batch this walk allocated and
    shares with nothing (not one of the equation's ``args``, not a view): a basis is added
    onto its diagonal in place, without a copy."""
    index = var.index
    previous = acc.get(index)
    var_of[index] = var
    fresh = (type(ct) is np.ndarray and ct.base is None and ct.flags.c_contiguous
             and not any(ct is a for a in args))
    if previous is None:
        acc[index] = ct
        if fresh:
            owned.add(index)
        return
    if type(ct) is ScaledBasis and index in owned and _adds_in_place(previous, ct):
        _diagonal(previous, ct)[...] += ct.flat_scale(np)
        return
    if fresh and type(previous) is ScaledBasis and _adds_in_place(ct, previous):
        _diagonal(ct, previous)[...] += previous.flat_scale(np)
        acc[index] = ct
        owned.add(index)
        return
    owned.discard(index)
    acc[index] = _sum(previous, ct)


def _adds_in_place(batch: Any, basis: ScaledBasis) -> bool:
    return batch.dtype == basis.dtype and not isinstance(basis.scale, Tracer)


def _sum(x: Any, y: Any) -> Any:
    """The sum of two cotangents of one variable, each a ScaledBasis or a batch (example index
    first)."""
    if type(x) is ScaledBasis and type(y) is ScaledBasis and x.same_block(y):
        return x.with_scale(add_p.bind(1 if x.scale is None else x.scale,
                                       1 if y.scale is None else y.scale))
    if type(x) is ScaledBasis and type(y) is not ScaledBasis:
        x, y = y, x
    if type(y) is ScaledBasis:
        if type(x) is not ScaledBasis:
            summed = _plus_diagonal(y, x, 0)
            if summed is not NotImplemented:
                return summed[0]
        else:
            x = x.dense()
        y = y.dense()
    return add_p.bind(x, y)


def _fits(ct: ScaledBasis, var: Any) -> bool:
    """Whether a cotangent has the shape and dtype of the variable it is for (otherwise the
    general path sums or converts it)."""
    return ct.example_shape == tuple(var.shape) and ct.dtype == var.dtype


# -- the transpose rules on a ScaledBasis cotangent (NotImplemented: the general path) ----------
def _mul_transpose(ct: ScaledBasis, x: Any, y: Any) -> Any:
    if is_linear(x) == is_linear(y):
        return NotImplemented
    linear, value, first = (x, y, True) if is_linear(x) else (y, x, False)
    scaled = _scaled_by(mul_p, ct, value, first)
    if scaled is NotImplemented or not _fits(scaled[0], linear):
        return NotImplemented
    return (scaled[0], zero) if first else (zero, scaled[0])


def _div_transpose(ct: ScaledBasis, x: Any, y: Any) -> Any:
    if not is_linear(x) or is_linear(y):
        return NotImplemented
    scaled = _scaled_by(div_p, ct, y, True)
    if scaled is NotImplemented or not _fits(scaled[0], x):
        return NotImplemented
    return scaled[0], zero


def _negated(ct: ScaledBasis) -> ScaledBasis:
    return ct.with_scale(-1 if ct.scale is None else neg_p.bind(ct.scale))


def _neg_transpose(ct: ScaledBasis, x: Any) -> Any:
    return (_negated(ct),)


def _add_transpose(ct: ScaledBasis, x: Any, y: Any) -> Any:
    if any(is_linear(a) and not _fits(ct, a) for a in (x, y)):
        return NotImplemented
    return (ct if is_linear(x) else zero), (ct if is_linear(y) else zero)


def _sub_transpose(ct: ScaledBasis, x: Any, y: Any) -> Any:
    if any(is_linear(a) and not _fits(ct, a) for a in (x, y)):
        return NotImplemented
    return (ct if is_linear(x) else zero), (_negated(ct) if is_linear(y) else zero)


def _reshape_transpose(ct: ScaledBasis, x: Any, *, new_sizes: Any) -> Any:
    reshaped = _reshape_rule([ct], [0], new_sizes=tuple(x.shape))
    return NotImplemented if reshaped is NotImplemented else (reshaped[0],)


def _dot_general_transpose(ct: ScaledBasis, x: Any, y: Any, *, dimension_numbers: Any) -> Any:
    """As dot_general's transpose rule (``_contract_back``): the cotangent contracted with the
    other operand (here the weight itself, scaled), then put back in the operand's order."""
    if is_linear(x) == is_linear(y):
        return NotImplemented
    linear, other = (y, x) if is_linear(y) else (x, y)
    other_is_lhs = linear is y
    dims, permutation, other_first = _contract_back_plan(
        dimension_numbers, len(ct.example_shape), len(other.shape), other_is_lhs)
    values, batch_dims = ([other, ct], [NOT_MAPPED, 0]) if other_first else ([ct, other], [0, NOT_MAPPED])
    product = _dot_general_rule(values, batch_dims, dimension_numbers=dims)
    if product is NotImplemented:
        return NotImplemented
    out = product[0]
    if permutation != tuple(range(len(permutation))):
        out = transpose_p.bind(out, permutation=(0,) + tuple(p + 1 for p in permutation))
    if out.dtype != linear.dtype:
        out = convert_to_cotangent_dtype(out, linear.dtype)
    return (zero, out) if other_is_lhs else (out, zero)


#: The primitives whose transpose rule runs here on a ScaledBasis cotangent.
TRANSPOSE_RULES: dict = {
    mul_p: _mul_transpose,
    div_p: _div_transpose,
    neg_p: _neg_transpose,
    add_p: _add_transpose,
    sub_p: _sub_transpose,
    reshape_p: _reshape_transpose,
    dot_general_p: _dot_general_transpose,
}
