"""Solves whose derivatives come from the implicit function theorem, not from their
iterations: ``custom_root`` and ``custom_linear_solve``, and the primitives behind them
(``custom_root``, ``linear_solve``).

A solve is one primitive application. Its operands are the traced values the function it
solves closes over (found by recording the function: ``Body``) and the initial guess, or
the right-hand side; its parameter ``call`` carries the recording and the user's solvers.

- The implementation runs the user's ``solve`` in Python on concrete values, so the solver
  may be any Python loop. Under ``jit`` the solve is one equation of the program, run on the
  values at each call; under ``grad`` no iteration is recorded, only the rule below, so memory
  does not grow with the number of iterations.
- ``linear_solve``: x = A^{-1} b. Its JVP is another solve, x' = A^{-1} (b' - A' x), linear in
  the tangents, so ``linearize`` records it as one equation; its transpose solves the
  transposed system (A^T, recorded by transposing A's program) with ``transpose_solve``.
- ``custom_root``: x* with f(x*) = 0. Its JVP is x' = -(df/dx)^{-1} (df/dtheta theta'), the
  linear system solved by a ``linear_solve`` with ``tangent_solve`` both ways, so reverse
  mode and every higher order follow.
- Under ``vmap`` a batch of systems is one block-diagonal system, solved at once, when the
  solvers are marked ``batch_as_block`` (functrans.implicit's are); other solvers run example
  by example (they may assume one example's shapes).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from functrans import errors, tree
from functrans._abstract import dtype_of, shape_of
from functrans.config import config
from functrans.core.ir import Program
from functrans.core.primitive import Primitive
from functrans.core.staging import eval_program, stage, stage_closed
from functrans.core.trace import Tracer, named_scope, transforming
from functrans.core.zeros import zero
from functrans.interpreters.batching import enclosing_batch, vmap_flat
from functrans.interpreters.jvp import jvp_flat
from functrans.interpreters.replay import ReplayPlan
from functrans.interpreters.transpose import transpose_program
from functrans.primitives import full_like_p, neg_p, sub_p
from functrans.primitives._define import batch_size, bdim_at_front

__all__ = ["batch_as_block", "custom_linear_solve", "custom_root"]


# =============================================================================================
# bodies: a function recorded with the traced values it closes over as its first inputs
# =============================================================================================


class Body:
    """A function of flat leaves recorded by ``stage_closed``: its program takes the tracers it
    closed over first (``num_consts`` of them), then its own inputs (of ``in_avals``).

    A solver calls it once per iteration on concrete values: those calls run a ``ReplayPlan``
    of the program (jit's executor, built on the first such call); calls on tracers (a solver
    differentiating f, say) evaluate the program through ``bind``.
    """

    __slots__ = ("program", "num_consts", "in_avals", "_plan")

    def __init__(self, program: Program, num_consts: int):
        self.program = program
        self.num_consts = num_consts
        self.in_avals = [(tuple(v.shape), v.dtype) for v in program.in_vars[num_consts:]]
        self._plan: tuple[bool, ReplayPlan] | None = None

    @classmethod
    def record(cls, fun: Callable[[list], Sequence], avals: Sequence[tuple], origin: str) -> tuple[Body, list]:
        """``fun`` recorded on abstract inputs; returns the body and the tracers it closes over
        (the values to give ``run`` for the function as it was)."""
        program, consts = stage_closed(fun, avals, origin)
        return cls(program, len(consts)), consts

    def run(self, consts: Sequence, inputs: Sequence) -> list:
        """The function on ``inputs``, with ``consts`` for the values it closed over."""
        args = [*consts, *inputs]
        if transforming() and any(isinstance(a, Tracer) for a in args):
            return eval_program(self.program, args)
        plan = self._plan
        if plan is None or plan[0] != config.debug_nans:  # (a plan is built for one setting)
            plan = self._plan = (config.debug_nans, ReplayPlan(self.program))
        return plan[1].run(args)


def _zeros(like: Any, aval: tuple) -> Any:
    shape, dtype = aval
    return full_like_p.bind(like, fill_value=0, shape=tuple(shape), dtype=dtype)


def _dense(values: Sequence, avals: Sequence[tuple], like: Any) -> list:
    """``values`` with each ``zero`` replaced by an array of zeros of its aval."""
    return [_zeros(like, aval) if v is zero else v for v, aval in zip(values, avals)]


def _run_solver(solve: Callable, body: Body, consts: Sequence, start: Sequence, treedef: Any,
                name: str) -> list:
    """``solve(fn, start)`` on concrete values, where ``fn`` is ``body`` (a matvec, or the
    function whose root is sought) on pytrees of ``treedef``; the result's leaves, checked."""
    fn = lambda x: treedef.unflatten(body.run(consts, tree.leaves(x)))
    with named_scope(name):
        try:
            x = solve(fn, treedef.unflatten(list(start)))
        except errors.LeakedTracerError as e:  # (a value it reaches other than by its closure)
            raise errors.CustomRuleError(
                f"{name}: solve used a traced value of a transformation that has finished: {e} "
                "Give the solver what it needs through its closure (a lambda closing over the "
                "array) or through the function being solved."
            ) from e
    return _check_solution(name, "solve", x, treedef, body.in_avals)


def _check_solution(name: str, what: str, out: Any, treedef: Any, avals: Sequence[tuple]) -> list:
    """The leaves of a solver's result, checked to be shaped like the unknowns and concrete."""
    leaves, out_tree = tree.flatten(out)
    if out_tree != treedef:
        raise errors.CustomRuleError(
            f"{name}: {what} returned a value of structure {out_tree}, but the unknowns have "
            f"structure {treedef}. Return the solution shaped like the initial guess (or b)."
        )
    for i, (leaf, (shape, dtype)) in enumerate(zip(leaves, avals)):
        if tuple(shape_of(leaf)) != tuple(shape) or dtype_of(leaf) != dtype:
            raise errors.CustomRuleError(
                f"{name}: {what} returned a leaf {i} of shape {tuple(shape_of(leaf))} and dtype "
                f"{dtype_of(leaf)}, but that unknown has shape {tuple(shape)} and dtype {dtype}."
            )
        if isinstance(leaf, Tracer):
            raise errors.CustomRuleError(
                f"{name}: {what} returned a traced value: the solver closes over a value that a "
                "transformation traces. The solver runs on concrete values and is never "
                "differentiated; pass what it needs through the function being solved (f or "
                "matvec), whose closed-over values are differentiated, or compute it from "
                "constants outside the transformed function."
            )
    return leaves


# --- batching: a batch of systems as one block-diagonal system -------------------------------


def batch_as_block(solver: Callable) -> Callable:
    """Declare that ``solver`` (a ``solve`` or ``tangent_solve``) is correct on any shapes, so
    that a batch of independent systems stacked along a leading axis, taken as one
    block-diagonal system, is solved right: under ``vmap`` it then runs once on the whole
    batch instead of once per example. A solver that assumes one example's shapes (a scalar
    ``y / g(1.0)``, a dense Jacobian of fixed size) must not be marked. Returns ``solver``.

    Example:
        >>> solve = batch_as_block(lambda matvec, b: b)
        >>> solve.batch_as_block
        True
    """
    solver.batch_as_block = True  # type: ignore[attr-defined]
    return solver


def _blockwise(*solvers: Callable | None) -> bool:
    return all(s is None or getattr(s, "batch_as_block", False) for s in solvers)


def _batched_body(body: Body, consts: Sequence, dims: Sequence, size: int, origin: str) -> tuple[Body, list]:
    """``body`` on a batch: its inputs and outputs carry the batch axis in front; its
    closed-over ``consts`` are batched along ``dims`` (or not)."""
    k = len(consts)
    within = enclosing_batch()

    def run(xs: list) -> list:
        outs, out_dims = vmap_flat(lambda leaves: body.run(leaves[:k], leaves[k:]), [*consts, *xs],
                                   [*dims, *[0] * len(xs)], size, origin, within=within)
        return [o if o is zero else bdim_at_front(o, d, size) for o, d in zip(outs, out_dims)]

    return Body.record(run, [((size, *shape), dtype) for shape, dtype in body.in_avals], origin)


def _front(values: Sequence, dims: Sequence, size: int) -> list:
    return [bdim_at_front(v, d, size) for v, d in zip(values, dims)]


# =============================================================================================
# linear_solve: x = A^{-1} b, A a linear function recorded as a program
# =============================================================================================


class _StagedSolver:
    """A solver that closes over traced values (the matrix, a factorization computed from a
    traced argument): recorded once, its closed-over tracers made trailing operands of
    ``linear_solve`` (the last ``num`` of them, from ``start`` before the end), which the
    matvec program receives too but does not read, so they have no derivative, as in JAX.
    Its implementation runs the recording on those operands' values."""

    __slots__ = ("program", "start", "num", "name")

    def __init__(self, program: Program, start: int, num: int, name: str):
        self.program, self.start, self.num, self.name = program, start, num, name

    def run(self, consts: Sequence, b: Sequence) -> list:
        tail = list(consts[len(consts) - self.start:])[:self.num]
        return eval_program(self.program, [*tail, *b])


def _stage_solvers(solvers: Sequence[Callable | None], matvec: Callable, treedef: Any,
                   avals: Sequence[tuple], name: str) -> tuple[list, list]:
    """Each solver that closes over traced values as a ``_StagedSolver`` (others as they are:
    they run in Python on concrete values, any loop allowed), and the tracers they close
    over, in order."""
    staged: list = []
    closed: list = []
    recorded: list = []
    for solver in solvers:
        program = None
        if solver is not None and _closes_over_tracers(solver):
            def flat(b: list, solver: Callable = solver) -> list:
                return tree.leaves(solver(matvec, treedef.unflatten(b)))
            try:
                program, consts = stage_closed(flat, avals, name)
            except Exception:  # (a solver on concrete values only: Python control flow)
                program = None
            if program is not None and consts:
                recorded.append((len(staged), program, consts))
        staged.append(solver)
    total = sum(len(consts) for _, _, consts in recorded)
    for i, program, consts in recorded:
        staged[i] = _StagedSolver(program, total - len(closed), len(consts), name)
        closed.extend(consts)
    return staged, closed


def _closes_over_tracers(fn: Any, depth: int = 0) -> bool:
    """Whether the function ``fn`` holds a tracer in its closure, its defaults, the object it
    is bound to or the arguments of a ``functools.partial`` (looking into the functions found
    there too, a few levels deep): a cheap test of whether it must be recorded."""
    if depth > 3:
        return False
    held: list = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            held.append(cell.cell_contents)
        except ValueError:  # (an empty cell)
            pass
    held.extend(getattr(fn, "__defaults__", None) or ())
    held.extend((getattr(fn, "__kwdefaults__", None) or {}).values())
    bound = getattr(fn, "__self__", None)
    if bound is not None and hasattr(bound, "__dict__"):
        held.extend(vars(bound).values())
    if isinstance(fn, functools.partial):
        held.extend([fn.func, *fn.args, *fn.keywords.values()])
    for value in held:
        if isinstance(value, Tracer) or any(isinstance(leaf, Tracer) for leaf in tree.leaves(value)):
            return True
        if callable(value) and not isinstance(value, type) and _closes_over_tracers(value, depth + 1):
            return True
    return False


def _with_unused(body: Body, avals: Sequence[tuple]) -> Body:
    """``body`` with more closed-over inputs (of ``avals``, after its own) that it ignores."""
    program = body.program
    k = body.num_consts
    extra = [program.trace.new_var(tuple(shape), dtype) for shape, dtype in avals]
    program = Program(program.trace, list(program.in_vars[:k]) + extra + list(program.in_vars[k:]),
                      program.eqns, program.outs)
    return Body(program, k + len(extra))


class LinearSolveCall:
    """The ``call`` parameter of ``linear_solve``: the matrix-vector product (a ``Body``
    of a linear function from x's leaves to b's leaves), the solvers and the structure of x."""

    __slots__ = ("matvec", "solve", "transpose_solve", "treedef", "name")

    def __init__(self, matvec: Body, solve: Callable, transpose_solve: Callable | None,
                 treedef: Any, name: str):
        self.matvec = matvec
        self.solve = solve
        self.transpose_solve = transpose_solve
        self.treedef = treedef
        self.name = name

    @property
    def num_consts(self) -> int:
        return self.matvec.num_consts

    def run_solve(self, consts: Sequence, b: Sequence) -> list:
        """``solve(matvec, b)`` on concrete values, its result checked."""
        if isinstance(self.solve, _StagedSolver):
            x = self.treedef.unflatten(self.solve.run(consts, b))
            return _check_solution(self.name, "solve", x, self.treedef, self.matvec.in_avals)
        return _run_solver(self.solve, self.matvec, consts, b, self.treedef, self.name)

    def transposed(self, consts: Sequence) -> tuple[LinearSolveCall, list]:
        """The call that solves A^T y = c, and its operands' constants: A^T is recorded by
        transposing A's program (with ``consts`` in place)."""
        if self.transpose_solve is None:
            raise errors.CustomRuleError(
                f"{self.name}: reverse mode needs the solve of the transposed system. Pass "
                "transpose_solve=..., or symmetric=True if the matrix is symmetric."
            )
        matvec, in_avals = self.matvec, self.matvec.in_avals

        def vecmat(cts: list) -> list:
            forward = stage(lambda xs: matvec.run(consts, xs), in_avals, self.name, linear=True)
            return _dense(transpose_program(forward, cts), in_avals, cts[0])

        body, new_consts = Body.record(vecmat, in_avals, f"transpose({self.name})")
        tail = self.solver_consts(consts)  # (the staged solvers' operands stay the last ones)
        if tail:
            body = _with_unused(body, [(tuple(shape_of(c)), dtype_of(c)) for c in tail])
            new_consts = [*new_consts, *tail]
        call = LinearSolveCall(body, self.transpose_solve, self.solve, self.treedef, self.name)
        return call, new_consts

    def solver_consts(self, consts: Sequence) -> list:
        """The trailing operands of ``consts`` that belong to the staged solvers."""
        num = max((s.start for s in (self.solve, self.transpose_solve) if isinstance(s, _StagedSolver)),
                  default=0)
        return list(consts[len(consts) - num:]) if num else []

    def __repr__(self) -> str:
        return self.name


def _linear_solve_jvp(primals, tangents, *, call):
    n = call.num_consts
    consts = primals[:n]
    x = linear_solve_p.bind(*primals, call=call)
    c_dot, b_dot = tangents[:n], tangents[n:]
    live_c = any(t is not zero for t in c_dot)
    if not live_c and all(t is zero for t in b_dot):
        return x, [zero] * len(x)
    rhs = _dense(b_dot, call.matvec.in_avals, x[0])
    if live_c:  # b' - A' x, A' the derivative of the matvec in its closed-over values
        _, a_dot_x = jvp_flat(lambda cs: call.matvec.run(cs, x), list(consts), list(c_dot),
                              f"jvp({call.name})")
        rhs = [r if t is zero else sub_p.bind(r, t) for r, t in zip(rhs, a_dot_x)]
    return x, linear_solve_p.bind(*consts, *rhs, call=call)


def _linear_solve_transpose(cts, *args, call):
    n = call.num_consts
    consts = args[:n]
    if all(c is zero for c in cts):
        return [zero] * len(args)
    cts = _dense(cts, call.matvec.in_avals, next(c for c in cts if c is not zero))
    t_call, t_consts = call.transposed(consts)
    b_cts = linear_solve_p.bind(*t_consts, *cts, call=t_call)
    return [zero] * n + list(b_cts)


def _linear_solve_batch(values, dims, *, call):
    if not _blockwise(call.solve, call.transpose_solve):
        return NotImplemented  # (example by example)
    n = call.num_consts
    size = batch_size(values, dims)
    body, consts = _batched_body(call.matvec, values[:n], dims[:n], size, f"vmap({call.name})")
    batched = LinearSolveCall(body, call.solve, call.transpose_solve, call.treedef, call.name)
    outs = linear_solve_p.bind(*consts, *_front(values[n:], dims[n:], size), call=batched)
    return outs, [0] * len(outs)


linear_solve_p = Primitive("linear_solve", multiple_results=True)
linear_solve_p.impl = lambda *args, call: call.run_solve(args[:call.num_consts], args[call.num_consts:])
linear_solve_p.shape_rule = lambda *args, call: list(call.matvec.in_avals)
linear_solve_p.jvp = _linear_solve_jvp
linear_solve_p.transpose = _linear_solve_transpose
linear_solve_p.batch = _linear_solve_batch


# =============================================================================================
# custom_root: x* with f(x*) = 0
# =============================================================================================


class RootCall:
    """The ``call`` parameter of ``custom_root``: f (a ``Body`` from x's leaves to f's
    leaves, the same structure), the solvers and the structure of x."""

    __slots__ = ("f", "solve", "tangent_solve", "treedef", "name")

    def __init__(self, f: Body, solve: Callable, tangent_solve: Callable, treedef: Any, name: str):
        self.f = f
        self.solve = solve
        self.tangent_solve = tangent_solve
        self.treedef = treedef
        self.name = name

    @property
    def num_consts(self) -> int:
        return self.f.num_consts

    def run_solve(self, consts: Sequence, x0: Sequence) -> list:
        """``solve(f, x0)`` on concrete values, its result checked."""
        if isinstance(self.solve, _StagedSolver):
            x = self.treedef.unflatten(self.solve.run(consts, x0))
            return _check_solution(self.name, "solve", x, self.treedef, self.f.in_avals)
        return _run_solver(self.solve, self.f, consts, x0, self.treedef, self.name)

    def __repr__(self) -> str:
        return self.name


def _custom_root_jvp(primals, tangents, *, call):
    n = call.num_consts
    consts = list(primals[:n])
    x = custom_root_p.bind(*primals, call=call)
    c_dot = list(tangents[:n])  # (the root does not depend on the initial guess)
    if all(t is zero for t in c_dot):
        return x, [zero] * len(x)
    # f(theta, x*(theta)) = 0, so df/dx x' = -df/dtheta theta'
    _, rhs = jvp_flat(lambda cs: call.f.run(cs, x), consts, c_dot, f"jvp({call.name})")
    if all(r is zero for r in rhs):
        return x, [zero] * len(x)
    rhs = _dense(rhs, call.f.in_avals, x[0])

    def linearized(ts: list) -> list:  # df/dx at the root, as a function of the tangent
        _, out = jvp_flat(lambda xs: call.f.run(consts, xs), x, ts, f"jvp({call.name})")
        return _dense(out, call.f.in_avals, ts[0])

    matvec, matvec_consts = Body.record(linearized, call.f.in_avals, f"jvp({call.name})")
    solve_call = LinearSolveCall(matvec, call.tangent_solve, call.tangent_solve, call.treedef,
                                 f"tangent_solve({call.name})")
    x_dot = linear_solve_p.bind(*matvec_consts, *rhs, call=solve_call)
    return x, [neg_p.bind(t) for t in x_dot]


def _custom_root_batch(values, dims, *, call):
    if not _blockwise(call.solve, call.tangent_solve):
        return NotImplemented  # (example by example)
    n = call.num_consts
    size = batch_size(values, dims)
    body, consts = _batched_body(call.f, values[:n], dims[:n], size, f"vmap({call.name})")
    batched = RootCall(body, call.solve, call.tangent_solve, call.treedef, call.name)
    outs = custom_root_p.bind(*consts, *_front(values[n:], dims[n:], size), call=batched)
    return outs, [0] * len(outs)


custom_root_p = Primitive("custom_root", multiple_results=True)
custom_root_p.impl = lambda *args, call: call.run_solve(args[:call.num_consts], args[call.num_consts:])
custom_root_p.shape_rule = lambda *args, call: list(call.f.in_avals)
custom_root_p.jvp = _custom_root_jvp
custom_root_p.batch = _custom_root_batch


# =============================================================================================
# the public functions
# =============================================================================================


def _leaf_avals(leaves: Sequence) -> list[tuple]:
    return [(tuple(shape_of(x)), dtype_of(x)) for x in leaves]


def _check_inexact(name: str, what: str, avals: Sequence[tuple]) -> None:
    for i, (_, dtype) in enumerate(avals):
        if dtype.kind not in "fc":
            raise errors.InputDtypeError(
                f"{name}: leaf {i} of {what} has dtype {dtype}; the unknowns of a solve are real "
                f"or complex numbers, and their dtype is the solution's. Pass a float array "
                f"(0.0 rather than 0, x.astype(float))."
            )


def _flat_fun(fun: Callable, treedef: Any, name: str, what: str, avals: Sequence[tuple]) -> Callable:
    """``fun`` on the leaves of x, checked to return the structure and shapes of x."""

    def flat(leaves: list) -> list:
        out_leaves, out_tree = tree.flatten(fun(treedef.unflatten(leaves)))
        if out_tree != treedef:
            raise errors.CustomRuleError(
                f"{name}: {what} must return a value of the structure of its input ({treedef}), "
                f"but it returned {out_tree}. The system must be square: as many equations as "
                "unknowns, in the same pytree."
            )
        for i, (leaf, (shape, dtype)) in enumerate(zip(out_leaves, avals)):
            if tuple(shape_of(leaf)) != tuple(shape):
                raise errors.CustomRuleError(
                    f"{name}: {what} returned a leaf {i} of shape {tuple(shape_of(leaf))} for an "
                    f"input leaf of shape {tuple(shape)}; they must be equal (a square system)."
                )
            if dtype_of(leaf) != dtype:
                raise errors.CustomRuleError(
                    f"{name}: {what} returned a leaf {i} of dtype {dtype_of(leaf)} for an input "
                    f"leaf of dtype {dtype}; the unknowns keep one dtype. Start from an initial "
                    f"guess (or b) of dtype {dtype_of(leaf)}, or cast the output (.astype)."
                )
        return out_leaves

    return flat


def custom_root(f: Callable, initial_guess: Any, solve: Callable, tangent_solve: Callable,
                has_aux: bool = False) -> Any:
    """A root x* of ``f`` (f(x*) = 0) found by ``solve``, differentiated implicitly.

    ``solve(f, initial_guess)`` computes the root and is never differentiated: it runs on
    concrete values (any Python loop works, under ``jit`` too). A ``solve`` that closes over
    traced values is recorded once, and its recording runs on their values (they get no
    derivative from it, as in JAX). The derivative with respect to the values ``f`` closes over
    comes from the implicit function theorem: x*' = -(df/dx)^{-1} (df/dtheta theta'), with
    ``tangent_solve(g, y)`` solving the linear system g(t) = y, g the linearization of f at the
    root (a linear function, pytree in and out). The same ``tangent_solve`` solves the
    transposed system in reverse mode. Forward and reverse mode, every order, ``jit`` and
    ``vmap`` work.

    Args:
        f: the function whose root is sought; takes and returns pytrees of x's structure.
        initial_guess: the starting point (a pytree of arrays); the root does not depend on
            it, so it gets no derivative.
        solve: ``solve(f, initial_guess) -> x*``.
        tangent_solve: ``tangent_solve(g, y) -> t`` with g(t) = y, for a linear ``g``; for
            scalars ``lambda g, y: y / g(1.0)``, for small systems a dense solve of the
            Jacobian, else a Krylov solver (``functrans.scipy.sparse.linalg.gmres``).
        has_aux: not supported: return extra values from the function computing the root.

    Returns:
        The root, a pytree of the structure of ``initial_guess``.

    Example:
        >>> import numpy as np, functrans as ft
        >>> def newton(f, x):
        ...     for _ in range(30):
        ...         x = x - f(x) / ft.grad(f)(x)
        ...     return x
        >>> sqrt = lambda a: ft.lax.custom_root(lambda x: x ** 2 - a, np.array(1.0), newton,
        ...                                     lambda g, y: y / g(1.0))
        >>> print(round(float(sqrt(2.0)), 6), round(float(ft.grad(sqrt)(2.0)), 6))
        1.414214 0.353553
    """
    if has_aux:
        raise errors.UnsupportedError(
            "custom_root(has_aux=True) is not supported: the solution is the whole output. "
            "Compute extra values from the root after the call."
        )
    leaves, treedef = tree.flatten(initial_guess)
    avals = _leaf_avals(leaves)
    name = f"custom_root({getattr(f, '__name__', type(f).__name__)})"
    _check_inexact(name, "the initial guess", avals)
    if not transforming():  # plain values everywhere: no derivative to arrange
        x = solve(f, initial_guess)
        _check_solution(name, "solve", x, treedef, avals)
        return x
    body, consts = Body.record(_flat_fun(f, treedef, name, "f", avals), avals, name)
    (solve,), closed = _stage_solvers((solve,), f, treedef, avals, name)
    if closed:
        body = _with_unused(body, _leaf_avals(closed))
        consts = [*consts, *closed]
    call = RootCall(body, solve, tangent_solve, treedef, name)
    return treedef.unflatten(custom_root_p.bind(*consts, *leaves, call=call))


def custom_linear_solve(matvec: Callable, b: Any, solve: Callable, transpose_solve: Callable | None = None,
                        symmetric: bool = False, has_aux: bool = False) -> Any:
    """x with ``matvec(x) = b``, found by ``solve``, differentiated implicitly.

    ``solve(matvec, b)`` computes x and is never differentiated (it runs on concrete values:
    any Python loop works). A solver that closes over traced values (the matrix, a
    factorization of a traced argument) is recorded once and its recording runs on their
    values; those values get no derivative from it, as in JAX (the derivatives come from
    ``matvec``). Derivatives are solves: x' = A^{-1}(b' - A' x) in forward mode,
    and in reverse mode the cotangent of b is ``transpose_solve(vecmat, ct)`` with ``vecmat``
    the transpose of ``matvec``. Derivatives with respect to the values ``matvec`` closes over
    follow (A' x, differentiated through ``matvec``), to any order, under ``jit`` and ``vmap``.

    Args:
        matvec: the linear map A, a function of pytrees of b's structure.
        b: the right-hand side, a pytree of arrays.
        solve: ``solve(matvec, b) -> x``.
        transpose_solve: ``transpose_solve(vecmat, b) -> x`` for the transposed system; needed
            by reverse mode unless ``symmetric``.
        symmetric: A is symmetric, so ``solve`` serves for the transposed system.
        has_aux: not supported.

    Returns:
        x, a pytree of b's structure.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> a = np.array([[2.0, 1.0], [1.0, 3.0]])
        >>> dense = lambda mv, b: np.linalg.solve(a, b)
        >>> x = lambda b: ft.lax.custom_linear_solve(lambda v: a @ v, b, dense, symmetric=True)
        >>> np.allclose(ft.jacrev(x)(np.ones(2)), np.linalg.inv(a))
        True
    """
    if has_aux:
        raise errors.UnsupportedError(
            "custom_linear_solve(has_aux=True) is not supported: return extra values from "
            "the code that calls it."
        )
    if symmetric:
        transpose_solve = solve
    leaves, treedef = tree.flatten(b)
    avals = _leaf_avals(leaves)
    name = f"custom_linear_solve({getattr(solve, '__name__', type(solve).__name__)})"
    _check_inexact(name, "b", avals)
    if not transforming():
        x = solve(matvec, b)
        _check_solution(name, "solve", x, treedef, avals)
        return x
    body, consts = Body.record(_flat_fun(matvec, treedef, name, "matvec", avals), avals, name)
    (solve, transpose_solve), closed = _stage_solvers((solve, transpose_solve), matvec, treedef, avals, name)
    if closed:
        body = _with_unused(body, _leaf_avals(closed))
        consts = [*consts, *closed]
    call = LinearSolveCall(body, solve, transpose_solve, treedef, name)
    return treedef.unflatten(linear_solve_p.bind(*consts, *leaves, call=call))
