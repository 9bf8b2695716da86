"""``odeint``: the solution of an ordinary differential equation at requested times,
differentiable in every mode (the rules are in ``functrans.integrate._rules``)."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from functrans import errors, tree
from functrans import numpy as fnp
from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.api._checks import as_array
from functrans.core.flatten import fun_name
from functrans.core.ir import Eqn, Program
from functrans.core.staging import eval_program, stage
from functrans.core.trace import Tracer
from functrans.integrate._rules import OdeSpec, check_times, odeint_p

__all__ = ["odeint"]


def _close_over(program: Program, consts: Sequence) -> Program:
    """``program`` with the constants ``consts`` made extra inputs (after its own)."""
    trace = program.trace
    new = {id(c): trace.new_var(tuple(shape_of(c)), dtype_of(c)) for c in consts}
    eqns = [Eqn(e.prim, tuple(new.get(id(a), a) for a in e.args), e.params, e.outs, e.source,
                e.scope) for e in program.eqns]
    outs = [new.get(id(o), o) for o in program.outs]
    return Program(trace, list(program.in_vars) + list(new.values()), eqns, outs)


def _check_output(out: Any, y_tree: Any, y_leaves: Sequence, name: str) -> list:
    leaves, out_tree = tree.flatten(out)
    if out_tree != y_tree:
        raise errors.TreeStructureError(
            f"{name}: func must return a derivative with the structure of y0, {y_tree}, but it "
            f"returned {out_tree}."
        )
    for i, (o, y) in enumerate(zip(leaves, y_leaves)):
        if tuple(shape_of(o)) != tuple(shape_of(y)):
            raise ValueError(
                f"{name}: func must return a derivative shaped like y0, but its leaf {i} has "
                f"shape {tuple(shape_of(o))} where y0's has shape {tuple(shape_of(y))}."
            )
    return leaves


def odeint(func: Callable[..., Any], y0: Any, t: Any, *args: Any, rtol: float = 1.4e-8,
           atol: float = 1.4e-8, mxstep: float = math.inf, hmax: float = math.inf) -> Any:
    """The solution of ``dy/dt = func(y, t, *args)``, ``y(t[0]) = y0``, at the times ``t``.

    An adaptive Dormand-Prince 5(4) Runge-Kutta method (the error of each step below
    ``atol + rtol * |y|`` in the root-mean-square norm), with its quartic continuous
    extension giving the values at the requested times between steps. Differentiable with
    respect to ``y0``, ``t`` and ``args`` (and arrays ``func`` closes over): ``grad`` and
    ``vjp`` use the adjoint method (a second solve, backward in time, that keeps only the
    states at the times ``t``); ``jvp`` and ``jacfwd`` solve the forward sensitivity
    equations with the same steps. Under ``jit`` the solve is one operation of the program.
    ``vmap`` solves a batch of initial states or parameters as one system on shared steps,
    each step accepted when every example's error is within the tolerance (a batch of time
    grids: one solve per example).

    Args:
        func: the vector field ``func(y, t, *args)``, returning a pytree shaped like ``y``.
            It must be traceable: no Python control flow on the values of ``y``, ``t`` or
            ``args`` (use ``functrans.numpy.where``).
        y0: the initial state, an array or a pytree of floating-point arrays.
        t: a 1-D array of non-decreasing times; ``t[0]`` is the initial time.
        *args: extra arguments of ``func`` (pytrees of arrays), differentiable too.
        rtol, atol: relative and absolute tolerances of each step's error.
        mxstep: the largest number of steps between two consecutive times of ``t``.
        hmax: the largest step size.

    Returns:
        A pytree like ``y0`` whose leaves have a leading axis over ``t``.

    Raises:
        ValueError: ``t`` is not a 1-D non-decreasing array, or ``func`` returns arrays of
            other shapes than ``y0``'s (``TreeStructureError``: another structure).
        RuntimeError: more than ``mxstep`` steps were needed between two times, or the step
            size fell to the rounding level of ``t`` (the message says the time reached).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> from functrans.integrate import odeint
        >>> ts = np.array([0.0, 1.0, 2.0])
        >>> ys = odeint(lambda y, t, k: -k * y, np.array([1.0]), ts, 0.5)
        >>> np.allclose(ys[:, 0], np.exp(-0.5 * ts))
        True
        >>> g = ft.grad(lambda k: odeint(lambda y, t, k: -k * y, np.array([1.0]), ts, k)[-1, 0])
        >>> bool(np.isclose(g(0.5), -2.0 * np.exp(-1.0)))
        True
    """
    name = f"odeint({fun_name(func)})"
    y_leaves, y_tree = tree.flatten(y0)
    if not y_leaves:
        raise ValueError(f"{name}: y0 has no arrays; give the initial state as an array or a "
                         "pytree of arrays.")
    y_leaves = [as_array(y) for y in y_leaves]
    for (path, _), y in zip(tree.flatten_with_path(y0)[0], y_leaves):
        if dtype_of(y).kind not in "fc":
            raise errors.InputDtypeError(
                f"{name}: y0{tree.keystr(path)} has dtype {dtype_of(y)}; the state of an ODE "
                "must be floating point. Convert it, e.g. y0.astype(float)."
            )
    for option, value in (("rtol", rtol), ("atol", atol)):
        if not value >= 0:
            raise ValueError(f"{name}: {option} must be >= 0, got {value!r}")
    if rtol == 0 and atol == 0:
        raise ValueError(f"{name}: rtol and atol are both 0; a step's error is measured against "
                         "atol + rtol * |y|, so give one of them a positive value (e.g. 1e-10).")
    if not hmax > 0:
        raise ValueError(f"{name}: hmax must be > 0, got {hmax!r}")
    if not mxstep >= 1:
        raise ValueError(f"{name}: mxstep must be at least 1, got {mxstep!r}")
    ts = t if isinstance(t, Tracer) or hasattr(t, "__array_namespace__") else fnp.asarray(t)
    if len(shape_of(ts)) != 1 or shape_of(ts)[0] < 1:
        raise ValueError(f"{name}: t must be a 1-D array of times (at least the initial "
                         f"time), but it has shape {tuple(shape_of(ts))}.")
    if dtype_of(ts).kind not in "fc":
        ts = ts.astype(dtype_of(y_leaves[0]))
    if not isinstance(ts, Tracer):
        check_times([float(v) for v in ts.tolist()], name)
    arg_leaves, arg_tree = tree.flatten(tuple(args))
    m = len(arg_leaves)
    # Python scalars among the arguments are constants of the vector field (weakly typed, on
    # no device, usable as sizes or settings); the other leaves are inputs of the solve
    scalars = {j: a for j, a in enumerate(arg_leaves) if type(a) in PY_SCALARS}
    arg_leaves = [as_array(a) for j, a in enumerate(arg_leaves) if j not in scalars]
    n = len(y_leaves)

    def args_of(arrays: Sequence) -> tuple:
        if scalars:
            it = iter(arrays)
            arrays = [scalars[j] if j in scalars else next(it) for j in range(m)]
        return arg_tree.unflatten(arrays)

    def rhs_checked(leaves: list) -> list:
        out = func(y_tree.unflatten(leaves[:n]), leaves[n], *args_of(leaves[n + 1:n + 1 + len(arg_leaves)]))
        return _check_output(out, y_tree, y_leaves, name)

    last: list = [None, ()]  # the parameter leaves of the last call, and their pytrees

    def rhs(leaves: list) -> list:
        params = leaves[n + 1:]
        seen = last[0]
        if seen is None or len(seen) != len(params) or any(a is not b for a, b in zip(seen, params)):
            last[:] = [params, args_of(params)]  # (a solve passes the same ones)
        out = func(y_tree.unflatten(leaves[:n]), leaves[n], *last[1])
        return tree.leaves(out)

    leaves = y_leaves + [ts] + arg_leaves
    avals = [(tuple(shape_of(y)), dtype_of(y)) for y in y_leaves] + [((), dtype_of(ts))] + [
        (tuple(shape_of(a)), dtype_of(a)) for a in arg_leaves]
    traced = any(isinstance(leaf, Tracer) for leaf in leaves)
    closed: list = []
    traceable = True
    try:
        program = stage(rhs_checked, avals, name)
    except errors.TracerConversionError:
        if traced:
            raise
        # Python control flow on values: fine on concrete values, where nothing is traced.
        # (A traced value func closes over is then seen in its output instead.)
        traceable = False
        f0 = rhs_checked([ts[0] if i == n else x for i, x in enumerate(leaves)])
        if any(isinstance(f, Tracer) for f in f0):
            raise
    else:
        closed = [c for c in program.consts if isinstance(c, Tracer)]
    if closed:
        converted = _close_over(program, closed)
        rhs = lambda leaves: eval_program(converted, leaves)
    spec = OdeSpec(rhs, n, float(rtol), float(atol), mxstep, float(hmax), name, traceable=traceable)
    outs = odeint_p.bind(*leaves, *closed, spec=spec)
    return y_tree.unflatten(outs)
