"""``while_loop``: a loop whose trip count is decided by the values, as one primitive
(``while_p``) holding its condition and body as staged sub-programs.

On plain arrays, with no transformation active, the Python functions run directly. Under a
transformation both are staged on the carry's types and ``while_p`` is applied to the
closed-over tracers and the initial carry; its rules:

- shape: the carry's types (checked to be the same after one step of the body);
- JVP: a loop over (primal, tangent) carries. Which carries have a tangent is a fixed point:
  a carry without an initial tangent gets one if the body gives it one from a carry or a
  closed-over value that has one. Reverse mode (a tangent being recorded by linearize) raises
  ``UnsupportedError``: the trip count is unknown until the loop has run;
- batching: with an unbatched predicate, a loop of the batched body; with a batched one,
  the loop runs while any example's predicate holds, and each step keeps the old carry of
  the examples that are done (``select``);
- jit: one equation, whatever the trip count; replay runs the staged programs.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans import errors, tree
from functrans._abstract import PY_SCALARS, dtype_of
from functrans.backend import to_host
from functrans.core.ir import is_linear, type_str
from functrans.core.primitive import Primitive
from functrans.core.staging import scalar_kind
from functrans.core.trace import transforming
from functrans.core.zeros import zero
from functrans.interpreters.batching import active_examples, collectives_over, enclosing_batch
from functrans.lax._body import plain_arrays_explained
from functrans.lax._programs import (
    Aval,
    Body,
    aval_of,
    batch_of,
    batched_avals,
    batched_outputs,
    check_tree,
    check_types,
    is_inexact,
    jvp_of,
    moved_to_front,
    nonzero_tangents,
    per_example_aval,
    promote_weak_carries,
    relaxed_avals,
    stage_all,
    stage_body,
    unbatched_scalars,
    weak_aval,
    zeros_of,
)
from functrans.primitives import broadcast_in_dim_p, logical_and_p, reduce_max_p, select_p
from functrans.primitives._define import NOT_MAPPED, batch_size
from functrans.typing import PyTree

_NAME = "while_loop"

REVERSE_MODE = (
    "while_loop cannot be differentiated in reverse mode (grad, vjp, jacrev, linearize): its "
    "number of steps is known only once the loop has run, so the program of its derivative "
    "cannot be recorded (and a program must behave the same eagerly and under jit). Forward "
    "mode (jvp, jacfwd) works. For reverse mode give the loop a trip count known in Python: "
    "functrans.lax.fori_loop(lower, upper, body, init) with int bounds, or functrans.lax.scan."
)


def while_loop(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any], init_val: PyTree) -> PyTree:
    """Apply ``body_fun`` to the carry while ``cond_fun`` of it holds, as
    ``while cond_fun(val): val = body_fun(val)``, as one step of a staged program.

    The carry is any pytree of arrays; ``body_fun`` must return one of the same structure,
    shapes and dtypes, and ``cond_fun`` a boolean scalar. A Python number in ``init_val`` is
    weakly typed, as in JAX: it starts as a NumPy scalar of the dtype ``body_fun`` gives
    that carry (``0.0`` summing float32 values: float32; ``0`` plus ``1.0``: float64), else
    of its default dtype, eagerly and staged alike. Forward-mode derivatives (``jvp``,
    ``jacfwd``), ``vmap`` (a batched predicate runs until every example is done) and ``jit``
    (one equation, whatever the trip count) work; reverse mode raises ``UnsupportedError``
    (use ``fori_loop`` with int bounds or ``scan``).

    Args:
        cond_fun: carry -> boolean scalar.
        body_fun: carry -> carry.
        init_val: the initial carry.

    Returns:
        The carry when ``cond_fun`` first fails.

    Raises:
        TreeStructureError: ``body_fun`` returns another structure than ``init_val``.
        TypeError: a leaf of the carry changes shape or dtype, or ``cond_fun`` does not return
            a boolean scalar.
        UnsupportedError: under reverse-mode differentiation.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> n, x = lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * 2.0), (0, 1.0))
        >>> int(n), float(x)
        (5, 32.0)
    """
    leaves, treedef = tree.flatten(init_val)
    weak = [scalar_kind(x) not in (None, bool) for x in leaves]
    if not transforming():
        return _run_python(cond_fun, body_fun, init_val, leaves, treedef, weak)
    avals = [aval_of(x) for x in leaves]
    scalars: dict = {}
    trial = None
    if any(weak):
        # A Python number is weakly typed (0.0 + float32 is float32): it starts in the dtype
        # body_fun gives that carry, as in JAX; one body_fun keeps a number (a counter) stays
        # weakly typed in the recordings
        leaves, scalars, trial = promote_weak_carries(
            leaves, _flat_body(body_fun, treedef, avals, leaves), [], "while_loop body_fun")
        leaves = _as_numpy_scalars(leaves)
        avals = [aval_of(x) for x in leaves]
    cond, cond_consts = stage_body(_flat_cond(cond_fun, treedef), avals, "while_loop cond_fun", scalars)
    if trial is not None:  # the trial recording is the loop's: no carry changed dtype
        body, body_consts = Body(trial[0], "while_loop body_fun"), trial[1]
    else:
        body, body_consts = stage_body(_flat_body(body_fun, treedef, avals), avals,
                                       "while_loop body_fun", scalars)
    outs = while_p.bind(*cond_consts, *body_consts, *leaves, cond=cond, body=body,
                        cond_nconsts=len(cond_consts), body_nconsts=len(body_consts))
    return treedef.unflatten(outs)


def _as_numpy_scalars(leaves: Sequence) -> list:
    return [dtype_of(x).type(x) if type(x) in PY_SCALARS else x for x in leaves]


def _host(pred: Any) -> bool:
    """A concrete predicate's value, read from its device explicitly (the loop branches on it)."""
    return bool(to_host(pred))


def _run_python(cond_fun: Callable, body_fun: Callable, val: Any, leaves: list, treedef: Any,
                weak: list) -> Any:
    """The loop in Python, the carry's type checked after the first step. Python numbers in
    the carry stay Python numbers for the first step (NumPy gives them JAX's weak typing);
    their dtype is the one that step gives them."""
    with plain_arrays_explained(_NAME):
        pred = cond_fun(val)
        _check_predicate(pred)
        if not _host(pred):
            if any(weak):
                avals = [aval_of(x) for x in leaves]
                leaves = _as_numpy_scalars(promote_weak_carries(
                    leaves, _flat_body(body_fun, treedef, avals, leaves), [], _NAME)[0])
            return treedef.unflatten(leaves)
        val = body_fun(val)
        avals = [aval_of(x) for x in leaves]
        if any(weak):
            new_leaves = tree.leaves(val)
            if len(new_leaves) == len(leaves):
                avals = [weak_aval(x, aval, out) if w else aval
                         for x, aval, out, w in zip(leaves, avals, new_leaves, weak)]
        _check_carry(val, avals, treedef)
        while _host(cond_fun(val)):
            val = body_fun(val)
    if any(weak):  # (a carry the body keeps a Python number)
        val = treedef.unflatten(_as_numpy_scalars(tree.leaves(val)))
    return val


def _check_predicate(pred: Any) -> None:
    shape, dtype = aval_of(pred)
    if shape != () or dtype.kind != "b":
        raise TypeError(
            f"{_NAME}: cond_fun must return a boolean scalar, but it returned "
            f"{type_str(shape, dtype)}. Reduce it (fnp.all(x < tol), fnp.any(...)) or compare a "
            "scalar (x[0] < 10)."
        )


def _check_carry(out: Any, avals: Sequence[Aval], treedef: Any) -> list:
    """The leaves of the body's output, checked to have the carry's structure and types."""
    leaves, out_tree = tree.flatten(out)
    check_tree(_NAME, "body_fun's output", out_tree, treedef, "init_val")
    check_types(_NAME, "body_fun's output", leaves, avals, treedef, "init_val", "init_val")
    return leaves


def _flat_cond(cond_fun: Callable, treedef: Any) -> Callable[[list], list]:
    def flat(leaves: list) -> list:
        pred = cond_fun(treedef.unflatten(leaves))
        _check_predicate(pred)
        return [pred]

    return flat


def _flat_body(body_fun: Callable, treedef: Any, avals: Sequence[Aval],
               weak_leaves: Sequence | None = None) -> Callable[[list], list]:
    """``body_fun`` on flat leaves, its output checked to have the types ``avals``; with
    ``weak_leaves`` (the initial carry, for ``promote_weak_carries``) a carry that starts as
    a Python number may come back in a dtype the number promotes to."""
    def flat(leaves: list) -> list:
        out = body_fun(treedef.unflatten(leaves))
        expected = avals if weak_leaves is None else relaxed_avals(weak_leaves, avals, tree.leaves(out))
        return _check_carry(out, expected, treedef)

    return flat


# --- the primitive ---------------------------------------------------------------------------
def _while_impl(*args: Any, cond: Body, body: Body, cond_nconsts: int, body_nconsts: int) -> list:
    cond_consts = list(args[:cond_nconsts])
    body_consts = list(args[cond_nconsts:cond_nconsts + body_nconsts])
    carry = list(args[cond_nconsts + body_nconsts:])
    test, step = cond.plan.run_shared, body.plan.run_shared
    if not _host(test(cond_consts + carry)[0]):
        return carry
    carry = step(body_consts + carry)
    while _host(test(cond_consts + carry)[0]):
        carry = step(body_consts + carry)
    return body.plan.detach(carry)  # a carry may be an array the body's plan keeps


def _while_shape(*args: Any, cond: Body, body: Body, cond_nconsts: int, body_nconsts: int) -> list:
    return [aval_of(x) for x in args[cond_nconsts + body_nconsts:]]


def _while_jvp(primals: Sequence, tangents: Sequence, *, cond: Body, body: Body, cond_nconsts: int,
               body_nconsts: int) -> tuple[list, list]:
    cn, bn = cond_nconsts, body_nconsts
    params = {"cond": cond, "body": body, "cond_nconsts": cn, "body_nconsts": bn}
    consts_t = list(tangents[cn:cn + bn])
    carry = list(primals[cn + bn:])
    carry_t = list(tangents[cn + bn:])
    live = [t for t in consts_t + carry_t if t is not zero]
    if not live:
        return while_p.bind(*primals, **params), [zero] * len(carry)
    if any(is_linear(t) for t in live):
        raise errors.UnsupportedError(REVERSE_MODE)
    consts = list(primals[cn:cn + bn])
    avals = [aval_of(x) for x in consts + carry]
    consts_nz = [t is not zero for t in consts_t]
    carry_nz = [t is not zero and is_inexact(aval_of(c)) for c, t in zip(carry, carry_t)]
    while True:  # the carries that get a tangent: a fixed point
        out_nz = nonzero_tangents(body, avals, consts_nz + carry_nz, body.name)
        grown = [a or b for a, b in zip(carry_nz, out_nz)]
        if grown == carry_nz:
            break
        carry_nz = grown
    n = len(carry)
    # the JVP body: (consts, consts' tangents, carry, carry tangents) in that order
    inner = jvp_of(body, bn + n, consts_nz + carry_nz, carry_nz, body.name)
    nct = sum(consts_nz)

    def jvp_body(leaves: list) -> list:
        c, ct, x, xt = (leaves[:bn], leaves[bn:bn + nct], leaves[bn + nct:bn + nct + n],
                        leaves[bn + nct + n:])
        return inner(c + x + ct + xt)

    t_avals = [a for a, nz in zip(avals[bn:], carry_nz) if nz]
    c_t_avals = [a for a, nz in zip(avals[:bn], consts_nz) if nz]
    body_avals = avals[:bn] + c_t_avals + avals[bn:] + t_avals
    new_body = stage_all(jvp_body, body_avals, f"jvp({body.name})")
    cond_avals = [aval_of(x) for x in primals[:cn]] + avals[bn:] + t_avals
    new_cond = stage_all(lambda leaves: cond(leaves[:cn + n]), cond_avals, cond.name)
    carry_tangents = [zeros_of(c, aval_of(c)) if t is zero else t
                      for c, t, nz in zip(carry, carry_t, carry_nz) if nz]
    outs = while_p.bind(*primals[:cn], *consts, *[t for t in consts_t if t is not zero], *carry,
                        *carry_tangents, cond=new_cond, body=new_body, cond_nconsts=cn,
                        body_nconsts=bn + nct)
    given = iter(outs[n:])
    return list(outs[:n]), [next(given) if nz else zero for nz in carry_nz]


def _while_batch(values: Sequence, dims: Sequence, *, cond: Body, body: Body, cond_nconsts: int,
                 body_nconsts: int) -> tuple[list, list]:
    cn, bn = cond_nconsts, body_nconsts
    size = batch_size(values, dims)
    avals = [per_example_aval(v, d) for v, d in zip(values, dims)]
    batched = [d is not NOT_MAPPED for d in dims]
    cond_b, consts_b, carry_b = batched[:cn], batched[cn:cn + bn], batched[cn + bn:]
    cond_avals, consts_avals, carry_avals = avals[:cn], avals[cn:cn + bn], avals[cn + bn:]
    within = enclosing_batch()
    count = collectives_over(within)
    while True:  # the carries that depend on the batch: a fixed point
        out_b = batched_outputs(body, consts_avals + carry_avals, consts_b + carry_b, size, body.name)
        grown = [a or b for a, b in zip(carry_b, out_b)]
        if grown == carry_b:
            break
        carry_b = grown
    (pred_b,) = batched_outputs(cond, cond_avals + carry_avals, cond_b + carry_b, size, cond.name)
    # The examples that run this loop at all (in a branch of a batched cond, those that take
    # it): the others are done from the start, so neither the loop nor the loops in its body
    # wait for them. Unless the loop combines the examples (lax.psum): then each example
    # iterates as the branch computed for every example would, all until every predicate is
    # false, and so do the loops in its body.
    combines = collectives_over(within) != count
    running = None if combines else active_examples()
    masked = pred_b or running is not None
    if masked:
        carry_b = [True] * len(carry_b)
    flags = cond_b + consts_b + carry_b
    moved = moved_to_front(values, dims, flags, size)
    new_cond_fun = batch_of(cond, cond_b + carry_b, size, [masked], cond.name)
    b_cond_avals = batched_avals(cond_avals + carry_avals, cond_b + carry_b, size)
    b_body_avals = batched_avals(consts_avals + carry_avals, consts_b + carry_b, size)
    # (the unbatched inputs standing for Python scalars stay weakly typed in the batched bodies)
    cond_scalars = unbatched_scalars(cond.program, cond_b + carry_b)
    body_scalars = unbatched_scalars(body.program, consts_b + carry_b)
    if not masked:
        new_body_fun = batch_of(body, consts_b + carry_b, size, carry_b, body.name)
        outs = while_p.bind(*moved, cond=stage_all(new_cond_fun, b_cond_avals, cond.name, cond_scalars),
                            body=stage_all(new_body_fun, b_body_avals, body.name, body_scalars),
                            cond_nconsts=cn, body_nconsts=bn)
        return outs, [0 if b else NOT_MAPPED for b in carry_b]
    n = len(carry_b)
    if size == 0:  # no example runs the loop (and an empty predicate has no maximum)
        return moved[cn + bn:], [0] * n
    masks = [] if running is None else [running]
    m = len(masks)

    def predicate(leaves: list) -> Any:  # (running mask, cond consts, carry)
        pred = new_cond_fun(leaves[m:])[0]
        return logical_and_p.bind(pred, leaves[0]) if m else pred

    def any_cond(leaves: list) -> list:
        return [reduce_max_p.bind(predicate(leaves), axes=(0,))]

    def masked_body(leaves: list) -> list:  # (running mask, cond consts, body consts, carry)
        carry = leaves[m + cn + bn:]
        pred = predicate(leaves[:m + cn] + carry)
        # only the examples still looping run the body (its own loops wait for them alone)
        new = batch_of(body, consts_b + carry_b, size, carry_b, body.name,
                       active=None if combines else pred)(leaves[m + cn:])
        return [select_p.bind(broadcast_in_dim_p.bind(pred, shape=tuple(x.shape), broadcast_dimensions=(0,)),
                              y, x) for x, y in zip(carry, new)]

    mask_avals = [((size,), np.dtype(bool))] * m
    b_consts_avals = batched_avals(cond_avals + consts_avals, cond_b + consts_b, size)
    masked_scalars = {i + m: info for i, info in cond_scalars.items() if i < cn}
    masked_scalars.update({i + m + cn: info for i, info in body_scalars.items() if i < bn})
    outs = while_p.bind(*masks, *moved[:cn], *masks, *moved,
                        cond=stage_all(any_cond, mask_avals + b_cond_avals, cond.name,
                                       {i + m: info for i, info in cond_scalars.items()}),
                        body=stage_all(masked_body, mask_avals + b_consts_avals + b_body_avals[bn:],
                                       body.name, masked_scalars),
                        cond_nconsts=m + cn, body_nconsts=m + cn + bn)
    return outs, [0] * n


def _while_transpose(cts: Sequence, *args: Any, **params: Any) -> tuple:
    raise errors.UnsupportedError(REVERSE_MODE)  # (a loop recorded as it is: linear_transpose)


while_p = Primitive("while", multiple_results=True)
while_p.impl = _while_impl  # type: ignore[assignment]
while_p.shape_rule = _while_shape  # type: ignore[assignment]
while_p.jvp = _while_jvp  # type: ignore[assignment]
while_p.batch = _while_batch  # type: ignore[assignment]
while_p.transpose = _while_transpose  # type: ignore[assignment]

