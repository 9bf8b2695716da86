"""``cond`` and ``switch``: a choice between functions by a value, as one primitive
(``cond_p``) holding every branch as a staged sub-program.

A concrete index (a Python or NumPy value, as eagerly and under ``grad``/``jvp``) runs the
Python of the taken branch directly, like ``if``. A traced one (under ``jit`` or ``vmap``)
stages every branch on the operands' types (their outputs must have the same structure,
shapes and dtypes), clamps the index into range and applies ``cond_p`` to it, to the tracers
the branches close over and to the operands. Its rules:

- JVP: the taken branch's JVP when the index is concrete; else ``cond_p`` over the branches'
  JVPs. Under linearize with a traced index the branches are split: a ``cond_p`` over their
  forward parts (outputs and the residuals their linear parts need, zeros for the other
  branches' residuals) and a ``cond_p`` over their linear parts, which is recorded;
- transpose: the taken branch's transpose when the index is known then; else ``cond_p`` over
  the transposed branches;
- batching: with an unbatched index, ``cond_p`` over the batched branches; with a batched
  one, every branch runs on the whole batch and ``select`` picks each example's result. A
  branch computes on the values of the examples that take it only (the others are given
  one of theirs, ``_taken_values``; eagerly, a branch no example takes is not run), so the
  values it was never meant to see bring it no NumPy warning, no NaN in a derivative and
  no endless loop. A collective over the examples in a branch (``lax.psum``) combines every
  example's own value of that branch, so its derivative reaches the examples that do not
  take it (and so can a NaN there).

The derivative rules meet a traced index that a ``vmap`` applied later may or may not batch
(``vmap(jit(grad(f)))`` stages ``grad(f)`` for one example). They split the branches as for
an unbatched index, so that with one (as when it comes out of a collective) only the taken
branch runs, and record in parameters of ``cond_p`` what a batched index must do instead
where a branch mixes the examples (``collective``: it records a collective, or batching it
counts one):

- ``masked``: operands each such branch sees in its own examples only (zero in the others):
  the cotangents of the selected outputs, so that a collective in a transposed branch sums
  the examples that took that branch only;
- ``summed``: outputs that add up every branch's values instead of selecting the taken
  branch's: the residuals of the branches' linear parts (each branch's own, zero in the
  others'), which a mixing branch needs in every example, and the cotangents of operands.
  A branch that does not mix the examples adds its values in its own examples only, as a
  select would: its values in the others, never asked for, cannot bring a NaN.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans import tree
from functrans.backend import to_host
from functrans.core.ir import is_linear, type_str
from functrans.core.primitive import Primitive
from functrans.core.staging import close_over_tracers, eval_program, stage
from functrans.core.trace import Tracer
from functrans.core.zeros import zero
from functrans.interpreters.batching import active_examples, collectives_over, enclosing_batch
from functrans.interpreters.jvp import jvp_flat
from functrans.interpreters.linearize import linearize_flat
from functrans.interpreters.transpose import transpose_program
from functrans.lax._body import plain_arrays_explained, weak_operands
from functrans.lax._programs import (
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
    per_example_aval,
    stage_all,
    stage_body,
    zeros_of,
)
from functrans.lax.collectives import collectives_bound
from functrans.primitives import (
    argmax_p,
    broadcast_in_dim_p,
    convert_element_type_p,
    eq_p,
    logical_and_p,
    max_p,
    min_p,
    ne_p,
    select_p,
    stop_gradient_p,
)
from functrans.primitives._define import NOT_MAPPED, add_p, batch_size, bdim_at_front, full_like
from functrans.primitives.indexing import IndexArray, gather


def cond(pred: Any, true_fun: Callable, false_fun: Callable, *operands: Any) -> Any:
    """``true_fun(*operands)`` if ``pred`` holds, else ``false_fun(*operands)``, as one step
    of a staged program.

    A concrete ``pred`` runs only the taken function, in Python, as ``if`` does (so the other
    one is not checked). A traced one (under ``jit`` or ``vmap``) stages both, which must
    return the same structure, shapes and dtypes; under ``vmap`` with a batched ``pred`` both
    run and each example's result is selected. A loop inside a branch, at any depth (in a
    ``custom_jvp`` or ``custom_vjp`` function too, eagerly and under ``jit``), then iterates
    only for the examples that take the branch (the others' values, which the branch was
    never meant to see, cannot keep it running), unless it combines the examples with a
    collective (``lax.psum`` over the ``vmap``'s axis name). Differentiable in both modes, to
    any order. A ``pred`` the same in every example of a ``vmap`` (one computed by
    ``lax.psum``) runs only the taken branch, in every order of ``jit``, ``vmap`` and
    ``grad``; with a batched one, a branch with a collective combines every example's
    values, so a NaN there (``fnp.sqrt`` of an example that does not take the branch)
    reaches the derivatives of the examples that do, as in JAX.

    Args:
        pred: a scalar (boolean, or a number compared with 0).
        true_fun, false_fun: functions of ``operands`` returning pytrees of one type.
        operands: the arguments of either function (pytrees).

    Raises:
        TypeError: ``pred`` is not a scalar, or the branches' outputs differ in shape or dtype.
        TreeStructureError: the branches' outputs differ in structure.

    Example:
        >>> import numpy as np, functrans as ft
        >>> from functrans import lax
        >>> f = ft.jit(lambda x: lax.cond(x > 0, lambda x: 2.0 * x, lambda x: -x, x))
        >>> float(f(np.float64(3.0))), float(f(np.float64(-1.0)))
        (6.0, 1.0)
    """
    shape, dtype = aval_of(pred)
    if shape != () or dtype.kind not in "biuf":
        raise TypeError(
            f"cond: pred must be a boolean (or number) scalar, but it is {type_str(shape, dtype)}. "
            "Reduce it first (fnp.all(x > 0), fnp.any(...)); to choose element by element, use "
            "fnp.where."
        )
    if isinstance(pred, Tracer):  # a boolean index: False picks branch 0, True branch 1
        index = pred if dtype.kind == "b" else ne_p.bind(pred, 0)
    else:
        index = 1 if to_host(pred) else 0
    return _switch("cond", index, (false_fun, true_fun), operands, ("false_fun", "true_fun"))


def switch(index: Any, branches: Sequence[Callable], *operands: Any) -> Any:
    """``branches[index](*operands)``, as one step of a staged program.

    The index is clamped into ``[0, len(branches) - 1]``, as in JAX, in every mode: an index
    past either end takes the first or the last branch, eagerly as under ``jit`` and ``vmap``.
    A concrete index runs only the taken branch, in Python (the others are not checked). A
    traced one (under ``jit`` or ``vmap``) stages every branch: they must return the same
    structure, shapes and dtypes. Under ``vmap`` with a batched index every branch runs
    and each example's result is selected. Differentiable in both modes, to any order.

    Args:
        index: an integer scalar.
        branches: functions of ``operands`` returning pytrees of one type.
        operands: their arguments (pytrees).

    Raises:
        TypeError: the index is not an integer scalar, or branches' outputs differ in type.
        TreeStructureError: the branches' outputs differ in structure.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> branches = [lambda x: x + 1.0, lambda x: x * 10.0, lambda x: -x]
        >>> lax.switch(1, branches, np.float64(2.0))
        np.float64(20.0)
    """
    branches = tuple(branches)
    if not branches:
        raise ValueError("switch: branches is empty; give at least one function.")
    shape, dtype = aval_of(index)
    if shape != () or dtype.kind not in "biu":
        raise TypeError(f"switch: index must be an integer scalar, but it is {type_str(shape, dtype)}.")
    if isinstance(index, Tracer):
        if dtype.kind == "b":
            index = convert_element_type_p.bind(index, new_dtype=np.dtype(np.int32))
        index = min_p.bind(max_p.bind(index, 0), len(branches) - 1)
    else:
        index = _clamped(index, len(branches))
    return _switch("switch", index, branches, operands, [f"branches[{i}]" for i in range(len(branches))])


def _switch(name: str, index: Any, branches: tuple, operands: tuple, names: Sequence[str]) -> Any:
    if not isinstance(index, Tracer):
        with plain_arrays_explained(name):
            return branches[index](*operands)
    leaves, in_tree = tree.flatten(operands)
    avals = [aval_of(x) for x in leaves]
    staged = []
    out_trees: list = []
    collective = []  # per branch: whether it records a collective (which may mix the examples)
    for i, branch in enumerate(branches):
        def flat(xs: list, branch: Callable = branch) -> list:
            outs, out_tree = tree.flatten(branch(*in_tree.unflatten(xs)))
            out_trees.append(out_tree)
            return outs

        count = collectives_bound()
        # (an operand standing for a Python scalar stays weakly typed in the branches)
        weak_flat, scalars = weak_operands(flat, leaves)
        body, consts = stage_body(weak_flat, avals, f"{name} {names[i]}", scalars, capture=True)
        collective.append(collectives_bound() != count)
        staged.append((body, consts))
        check_tree(name, f"{names[i]}'s output", out_trees[i], out_trees[0], f"{names[0]}'s output")
        check_types(name, f"{names[i]}'s output", body.program.outs, staged[0][0].out_avals,
                    out_trees[0], "output", f"{names[0]}'s output")
    bodies, consts = _share_consts(staged)
    outs = cond_p.bind(index, *consts, *leaves, branches=bodies, masked=(), summed=(),
                       collective=tuple(collective))
    return out_trees[0].unflatten(outs)


def _share_consts(staged: list) -> tuple[tuple, list]:
    """The branches as programs of the same inputs: every branch's closed-over tracers (each
    once), then the operands."""
    consts: list = []
    position: dict[int, int] = {}
    for _, own in staged:
        for c in own:
            if id(c) not in position:
                position[id(c)] = len(consts)
                consts.append(c)
    bodies = []
    for body, own in staged:
        program = body.program
        own_vars = dict(zip((id(c) for c in own), program.in_vars[:len(own)]))
        const_vars = [own_vars[id(c)] if id(c) in own_vars else program.trace.new_var(tuple(c.shape), c.dtype)
                      for c in consts]
        program.in_vars = const_vars + program.in_vars[len(own):]
        bodies.append(Body(program, body.name))
    return tuple(bodies), consts


# --- the primitive ---------------------------------------------------------------------------
def _clamped(index: Any, n: int) -> int:
    return min(max(int(to_host(index)), 0), n - 1)


def _cond_impl(index: Any, *args: Any, branches: tuple, masked: tuple, summed: tuple,
               collective: tuple) -> list:
    return branches[_clamped(index, len(branches))].plan.run(list(args))


def _cond_shape(index: Any, *args: Any, branches: tuple, masked: tuple, summed: tuple,
               collective: tuple) -> list:
    return branches[0].out_avals


def _positions(flags: Sequence[bool], chosen: tuple, start: int = 0) -> tuple:
    """The positions (counted from ``start``) among the entries ``flags`` keeps of those
    whose own position is in ``chosen``: where ``masked`` or ``summed`` entries land in a
    list of the kept ones."""
    kept = [i for i, f in enumerate(flags) if f]
    return tuple(start + k for k, i in enumerate(kept) if i in chosen)


def _cond_jvp(primals: Sequence, tangents: Sequence, *, branches: tuple, masked: tuple,
              summed: tuple, collective: tuple) -> tuple[list, list]:
    index, args = primals[0], list(primals[1:])
    arg_t = [t if t is not zero and is_inexact(aval_of(a)) else zero for a, t in zip(args, tangents[1:])]
    out_avals = branches[0].out_avals
    if all(t is zero for t in arg_t):
        return cond_p.bind(*primals, branches=branches, masked=masked, summed=summed,
                           collective=collective), [zero] * len(out_avals)
    if not isinstance(index, Tracer):  # known: the taken branch's JVP, whatever the mode
        return jvp_flat(branches[_clamped(index, len(branches))], args, arg_t, "jvp(cond)")
    nonzero = [t is not zero for t in arg_t]
    live = [t for t in arg_t if t is not zero]
    keep = [is_inexact(a) for a in out_avals]
    if any(is_linear(t) for t in live):
        return _linearized(index, args, arg_t, nonzero, live, branches, keep, masked, summed, collective)
    avals = [aval_of(a) for a in args]
    t_avals = [a for a, nz in zip(avals, nonzero) if nz]
    jvp_branches = tuple(stage_all(jvp_of(b, len(args), nonzero, keep, b.name), avals + t_avals,
                                   f"jvp({b.name})") for b in branches)
    n = len(out_avals)
    outs = cond_p.bind(index, *args, *live, branches=jvp_branches,
                       masked=masked + _positions(nonzero, masked, len(args)),
                       summed=summed + _positions(keep, summed, n), collective=collective)
    given = iter(outs[n:])
    return list(outs[:n]), [next(given) if k else zero for k in keep]


def _linearized(index: Any, args: list, arg_t: list, nonzero: list, live: list, branches: tuple,
                keep: list, masked: tuple, summed: tuple, collective: tuple) -> tuple[list, list]:
    """Reverse mode with a traced index: a ``cond_p`` over the branches' forward parts (their
    outputs and residuals, zero in the other branches) and a recorded ``cond_p`` over their
    linear parts. The residuals are ``summed`` outputs: a batched index gives a branch that
    mixes the examples its residuals in every example, which its linear part needs there."""
    avals = [aval_of(a) for a in args]
    forward = []  # per branch: the program (args -> outputs + residuals), the linear program
    for b in branches:
        parts: list = []

        def fwd(xs: list, b: Body = b, parts: list = parts) -> list:
            outs, lin = linearize_flat(b, xs, f"linearize({b.name})")
            lin, residuals = close_over_tracers(lin)
            parts.append(lin)
            return list(outs) + residuals

        program = stage(fwd, avals, f"linearize({b.name})")
        forward.append((program, parts[0]))
    n = len(keep)
    res_avals = [[aval_of(r) for r in program.outs[n:]] for program, _ in forward]
    all_res = [a for avals_j in res_avals for a in avals_j]
    fwd_bodies = []
    lin_bodies = []
    start = 0
    for j, (program, lin) in enumerate(forward):
        count = len(res_avals[j])

        def padded(xs: list, program: Any = program, start: int = start, count: int = count) -> list:
            outs = eval_program(program, xs)
            like = xs[0]
            return (outs[:n] + [zeros_of(like, a) for a in all_res[:start]] + outs[n:]
                    + [zeros_of(like, a) for a in all_res[start + count:]])

        def linear(xs: list, lin: Any = lin, start: int = start, count: int = count) -> list:
            res, ts = xs[:len(all_res)], iter(xs[len(all_res):])
            tangents = [next(ts) if nz else zeros_of(res[0] if res else xs[-1], a)
                        for a, nz in zip(avals, nonzero)]
            t_outs = eval_program(lin, res[start:start + count] + tangents)
            return [zeros_of(xs[-1], a) if t is zero else t
                    for t, a, k in zip(t_outs, branches[0].out_avals, keep) if k]

        fwd_bodies.append(stage_all(padded, avals, f"linearize({branches[j].name})"))
        t_avals = [a for a, nz in zip(avals, nonzero) if nz]
        lin_bodies.append(stage_all(linear, all_res + t_avals, f"linear({branches[j].name})"))
        start += count
    outs = cond_p.bind(index, *args, branches=tuple(fwd_bodies), masked=masked,
                       summed=summed + tuple(range(n, n + len(all_res))), collective=collective)
    t_outs = iter(cond_p.bind(index, *outs[n:], *live, branches=tuple(lin_bodies),
                              masked=_positions(nonzero, masked, len(all_res)),
                              summed=_positions(keep, summed), collective=collective))
    return list(outs[:n]), [next(t_outs) if k else zero for k in keep]


def _cond_transpose(cts: Sequence, index: Any, *args: Any, branches: tuple, masked: tuple,
                    summed: tuple, collective: tuple) -> tuple:
    """The transposed branches, as a ``cond_p`` for a traced index. A batched index selects
    each example's output of the linear branches, so each transposed branch sees those
    outputs' cotangents in its own examples only (``masked``); their results, the operands'
    cotangents, add up over the branches (``summed``), as the outputs of the original were
    ``summed`` or its operands ``masked`` the other way round."""
    linear = [is_linear(a) for a in args]
    values = [a for a, lin in zip(args, linear) if not lin]
    lin_avals = [aval_of(a) for a, lin in zip(args, linear) if lin]
    like = next(c for c in cts if c is not zero)
    cts = [zeros_of(like, a) if c is zero else c for c, a in zip(cts, branches[0].out_avals)]

    def transposed(branch: Body) -> Callable[[list], list]:
        def fun(xs: list) -> list:
            vals, out_cts = xs[:len(values)], xs[len(values):]

            def forward(ts: list) -> list:
                it_v, it_t = iter(vals), iter(ts)
                return branch([next(it_t) if lin else next(it_v) for lin in linear])

            program = stage(forward, lin_avals, f"transpose({branch.name})", linear=True)
            in_cts = transpose_program(program, out_cts)
            return [zeros_of(out_cts[0], a) if c is zero else c for c, a in zip(in_cts, lin_avals)]

        return fun

    if isinstance(index, Tracer):
        avals = [aval_of(v) for v in values] + [aval_of(c) for c in cts]
        bodies = tuple(stage_all(transposed(b), avals, f"transpose({b.name})") for b in branches)
        selected = tuple(k for k in range(len(cts)) if k not in summed)
        in_cts = iter(cond_p.bind(index, *values, *cts, branches=bodies,
                                  masked=(_positions([not lin for lin in linear], masked)
                                          + tuple(len(values) + k for k in selected)),
                                  summed=_positions(linear, tuple(i for i in range(len(args)) if i not in masked)),
                                  collective=collective))
    else:
        in_cts = iter(transposed(branches[_clamped(index, len(branches))])(values + cts))
    return (zero,) + tuple(next(in_cts) if lin else zero for lin in linear)


def _cond_batch(values: Sequence, dims: Sequence, *, branches: tuple, masked: tuple,
                summed: tuple, collective: tuple) -> tuple[list, list]:
    size = batch_size(values, dims)
    index, args, arg_dims = values[0], list(values[1:]), list(dims[1:])
    avals = [per_example_aval(v, d) for v, d in zip(args, arg_dims)]
    batched = [d is not NOT_MAPPED for d in arg_dims]
    moved = moved_to_front(args, arg_dims, batched, size) if any(batched) else args
    n = len(branches[0].out_avals)
    if dims[0] is NOT_MAPPED:
        force = [False] * n
        for b in branches:
            force = [f or o for f, o in zip(force, batched_outputs(b, avals, batched, size, b.name))]
        b_avals = batched_avals(avals, batched, size)
        bodies = tuple(stage_all(batch_of(b, batched, size, force, b.name), b_avals, f"vmap({b.name})")
                       for b in branches)
        outs = cond_p.bind(index, *moved, branches=bodies, masked=masked, summed=summed, collective=collective)
        return outs, [0 if f else NOT_MAPPED for f in force]
    # a batched index: every branch on the whole batch, each example's result selected
    index = moved_to_front([index], [dims[0]], [True], size)[0]
    # With an outer transformation that may differentiate, each branch sees operands whose
    # derivative is zero in the examples that do not take it: reverse mode then sends them no
    # zero cotangent to multiply by an infinite partial (sqrt at 0, log of a negative), which
    # would make NaN where a loop over the examples gives a number. A branch with a collective
    # over the examples (lax.psum) is not guarded: every example's operands feed it there.
    guard = [is_inexact(a) and isinstance(v, Tracer) and not is_linear(v)
             for a, v in zip(avals, args)]
    running = active_examples()  # (a branch of an enclosing batched cond: its examples)
    within = enclosing_batch()
    # (masked operands batched: a collective of them mixes the examples)
    spread = [bdim_at_front(v, d, size) if i in masked else m
              for i, (v, d, m) in enumerate(zip(args, arg_dims, moved))]
    flags = [f or i in masked for i, f in enumerate(batched)]
    results = []
    mixing = []
    for j, b in enumerate(branches):  # outputs with the batch axis in front (the index lends its device)
        taken = eq_p.bind(index, j)
        active = taken if running is None else logical_and_p.bind(taken, running)

        def run(operands: list, flags: list, b: Body = b, active: Any = active) -> tuple[list, bool]:
            """The branch on the whole batch, and whether it combined the examples."""
            counts = collectives_over(within), collectives_bound()  # (over these examples, or passed on)
            out_dims: list = []
            outs = batch_of(b, flags, size, None, b.name, out_dims, active=active)(operands)
            front = moved_to_front(outs + [index], out_dims + [0], [True] * n + [False], size)[:n]
            return front, (collectives_over(within), collectives_bound()) != counts

        def own(taken: Any = taken) -> list:
            """The operands, ``masked`` ones in the examples that take the branch only."""
            return [_in_examples(taken, bdim_at_front(v, d, size)) if i in masked else m
                    for i, (v, d, m) in enumerate(zip(args, arg_dims, moved))]

        first = None if collective[j] else _first_example(active)
        if type(first) is int and first == -1:  # no example takes it: nothing to compute
            outs, mixes = [full_like(index, 0, shape=(size, *shape), dtype=dtype)
                           for shape, dtype in b.out_avals], False
        elif collective[j]:
            outs, mixes = run(own() if masked else spread, flags)[0], True
        else:
            operands, tried = spread, flags
            if any(guard):
                operands = [_derivative_where(taken, bdim_at_front(v, d, size)) if g else m
                            for v, d, m, g in zip(args, arg_dims, spread, guard)]
                tried = [f or g for f, g in zip(flags, guard)]
            if first is not None:
                operands = [_taken_values(active, first, x) if f else x for x, f in zip(operands, tried)]
            outs, mixes = run(operands, tried)
            if mixes:  # (every example's own values feed the collective)
                outs = run(own() if masked else spread, flags)[0]
        results.append(outs)
        mixing.append(mixes)
    return [_combined(index, [r[k] for r in results], mixing, k in summed) for k in range(n)], [0] * n


def _combined(index: Any, results: list, mixing: list, summed: bool) -> Any:
    """One output of a cond with a batched index from every branch's values (batch axis in
    front): each example's taken branch's, or, for a ``summed`` output, the sum of every
    branch's, where a branch that does not mix the examples adds its values in its own
    examples only (elsewhere they are zero, or NaN where the branch cannot compute them)."""
    def pick(j: int, x: Any, otherwise: Any) -> Any:
        mask = broadcast_in_dim_p.bind(eq_p.bind(index, j), shape=tuple(x.shape), broadcast_dimensions=(0,))
        return select_p.bind(mask, x, otherwise)

    if not (summed and any(mixing)):
        out = results[0]
        for j in range(1, len(results)):
            out = pick(j, results[j], out)
        return out
    out = full_like(results[0], 0)
    for j, r in enumerate(results):
        if not mixing[j]:
            out = pick(j, r, out)
    for j, r in enumerate(results):
        if mixing[j]:
            out = add_p.bind(out, r)
    return out


def _first_example(active: Any) -> Any:
    """The first example ``active`` marks: -1 when it is known that none is; traced (the
    first example when none is) when ``active`` is."""
    if isinstance(active, Tracer):
        return argmax_p.bind(active, axis=0, index_dtype=np.dtype(np.int64))
    marked = to_host(active).nonzero()[0]  # (a host array: the positions of its True)
    return int(marked[0]) if len(marked) else -1


def _taken_values(active: Any, first: Any, x: Any) -> Any:
    """``x`` (batch axis in front) in the examples ``active`` marks, and ``first``'s (one of
    them) in the others: the branch computes on values of examples that take it only, as a
    loop over the examples would (no warning of NumPy, no NaN in a derivative, from values
    the branch was never meant to see), and the others' results are not selected."""
    shape = tuple(x.shape)
    row = gather(x, (first,)) if type(first) is int else gather(x, (IndexArray(0),), (first,))
    row = broadcast_in_dim_p.bind(row, shape=shape, broadcast_dimensions=tuple(range(1, len(shape))))
    if isinstance(x, Tracer) and is_inexact(aval_of(x)) and not is_linear(x):
        row = stop_gradient_p.bind(row)
    mask = broadcast_in_dim_p.bind(active, shape=shape, broadcast_dimensions=(0,))
    return select_p.bind(mask, x, row)


def _in_examples(taken: Any, x: Any) -> Any:
    """``x`` (batch axis in front) in the examples ``taken`` marks, zero in the others."""
    mask = broadcast_in_dim_p.bind(taken, shape=tuple(x.shape), broadcast_dimensions=(0,))
    return select_p.bind(mask, x, full_like(x, 0))


def _derivative_where(taken: Any, x: Any) -> Any:
    """``x`` (batch axis in front), whose derivative is kept in the examples ``taken`` marks
    and zero in the others."""
    mask = broadcast_in_dim_p.bind(taken, shape=tuple(x.shape), broadcast_dimensions=(0,))
    return select_p.bind(mask, x, stop_gradient_p.bind(x))


cond_p = Primitive("cond", multiple_results=True)
cond_p.impl = _cond_impl  # type: ignore[assignment]
cond_p.shape_rule = _cond_shape  # type: ignore[assignment]
cond_p.jvp = _cond_jvp  # type: ignore[assignment]
cond_p.transpose = _cond_transpose  # type: ignore[assignment]
cond_p.batch = _cond_batch  # type: ignore[assignment]
