"""The primitive ``odeint`` and its rules: the solve of an ordinary differential equation at
requested times, reverse-mode derivatives by the adjoint method and forward-mode derivatives by
the forward sensitivity equations.

A call with traced arguments (or a vector field that closes over traced values) is one
application of the primitive ``odeint``, whose parameter ``spec`` carries the vector field on
flat leaves. Its rules:

- implementation: the Dormand-Prince loop of ``functrans.integrate.dopri5`` on concrete
  arrays, in Python; under ``jit`` the program holds one ``odeint`` equation whatever the
  number of steps, and the loop runs when the program does.
- JVP, forward mode (``jvp``, ``jacfwd``): one solve of the state together with its tangent
  (the variational equation ``ds/dt = df/dy s + df/dargs args_dot``), the error measured on
  the state alone. The steps are the primal solve's, so the tangent is the exact derivative
  of the computed solution; and being an ``odeint`` itself it differentiates again.
- JVP under ``linearize`` (``grad``, ``vjp``): the primal solve, and one linear equation
  ``odeint_adjoint`` whose transpose is the adjoint method: the adjoint state integrated
  backward between consecutive output times, with the vector field's VJP. Reverse mode keeps
  the states at the output times only, whatever the number of solver steps. (Applied forward,
  as ``linearize``'s ``f_jvp`` does, the recorded map solves the forward sensitivities.)
- batching: a batch of tangents of one solve (``jacfwd``, ``vmap`` of ``jvp``) is one solve
  of the state with every tangent beside it; a batch of states or parameters is one solve of
  the whole batch on shared steps, the error measured per example and the largest deciding
  (so every example meets the tolerance); a batch of time grids is solved example by example.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from functrans import numpy as fnp
from functrans._abstract import dtype_of, shape_of
from functrans.api import jit
from functrans.backend import array_module
from functrans.core.ir import is_linear
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.integrate import dopri5
from functrans.interpreters.batching import enclosing_batch, vmap_flat
from functrans.interpreters.jvp import jvp_flat
from functrans.interpreters.linearize import linearize_flat
from functrans.interpreters.transpose import transpose_program
from functrans.primitives import full_like_p
from functrans.primitives._define import NOT_MAPPED, batch_size, bdim_at_front

__all__ = ["OdeSpec", "odeint_p", "odeint_adjoint_p"]

Rhs = Callable[[list], Sequence]


class OdeSpec:
    """The ``spec`` parameter of ``odeint``: the vector field on flat leaves and the solver
    settings.

    ``rhs(leaves)`` takes ``n_y`` state leaves, the time (a 0-d array) and the parameters,
    and returns the ``n_y`` derivative leaves. ``err_leaves``: how many leading state leaves
    the error is measured on (``None``: all).
    """

    __slots__ = ("rhs", "n_y", "rtol", "atol", "mxstep", "hmax", "err_leaves", "name",
                 "tangent_of", "traceable", "batch")

    def __init__(self, rhs: Rhs, n_y: int, rtol: float, atol: float, mxstep: float,
                 hmax: float, name: str, err_leaves: int | None = None,
                 tangent_of: tuple | None = None, traceable: bool = True, batch: int = 0):
        self.rhs, self.n_y, self.rtol, self.atol = rhs, n_y, rtol, atol
        self.mxstep, self.hmax, self.name, self.err_leaves = mxstep, hmax, name, err_leaves
        #: how many leading axes of every state leaf run over examples (``vmap``): the error
        #: is measured per example, and the largest decides
        self.batch = batch
        #: for a state carried with its tangents: (the spec of the state alone, the positions
        #: of the parameters whose tangents follow the parameters)
        self.tangent_of = tangent_of
        #: whether ``rhs`` can be recorded on abstract values (no Python control flow on them)
        self.traceable = traceable

    def replace(self, rhs: Rhs, n_y: int, name: str, err_leaves: int | None,
                tangent_of: tuple | None = None, batch: int = 0) -> OdeSpec:
        """A spec of a derived system (the state with its tangents, the adjoint system) with
        these settings. Its vector field differentiates ``self.rhs`` at every evaluation, so
        it runs staged when it can (``jit``): the interpreters then work once per solve
        instead of once per evaluation (2.5x faster for the adjoint of a small MLP)."""
        return OdeSpec(jit(rhs) if self.traceable else rhs, n_y, self.rtol, self.atol,
                       self.mxstep, self.hmax, name, err_leaves, tangent_of, self.traceable,
                       batch)

    def __repr__(self) -> str:
        return self.name


def _zeros_like(x: Any) -> Any:
    return full_like_p.bind(x, fill_value=0, shape=tuple(shape_of(x)), dtype=dtype_of(x))


def check_times(times: Sequence[float], name: str) -> None:
    """Raise a ValueError naming the first time of ``times`` that is earlier than the one before."""
    for i in range(1, len(times)):
        if not times[i] >= times[i - 1]:
            raise ValueError(
                f"{name}: the times t must be non-decreasing (the first is the initial time), "
                f"but t[{i}] = {times[i]!r} comes after t[{i - 1}] = {times[i - 1]!r}. Sort "
                "them; to integrate backward in time, solve for s = -t with the vector field "
                "lambda y, s, *args: -func(y, -s, *args)."
            )


# =============================================================================================
# the implementation: the solver loop on concrete arrays
# =============================================================================================


def _odeint_impl(*leaves: Any, spec: OdeSpec) -> list:
    n = spec.n_y
    ys, ts, params = list(leaves[:n]), leaves[n], list(leaves[n + 1:])
    xp = array_module(ts)
    times = [float(v) for v in ts.tolist()]
    check_times(times, spec.name)
    lead = tuple(ys[0].shape[:spec.batch])  # the examples' axes; each example is a vector
    shapes = [tuple(y.shape[spec.batch:]) for y in ys]
    sizes = [math.prod(s) for s in shapes]
    dtypes = [y.dtype for y in ys]
    dtype = xp.result_type(*dtypes)
    offsets = [sum(sizes[:i]) for i in range(n)]

    def ravel(parts: Sequence) -> Any:
        if n == 1:
            return xp.reshape(parts[0], lead + (-1,)).astype(dtype, copy=False)
        return xp.concatenate([xp.reshape(q, lead + (-1,)).astype(dtype, copy=False)
                               for q in parts], axis=-1)

    def unravel(v: Any) -> list:
        return [v[..., o:o + s].reshape(lead + shape).astype(d, copy=False)
                for o, s, shape, d in zip(offsets, sizes, shapes, dtypes)]

    t_zero = ts[:1] * 0  # times are made from it: 0-d arrays of ts's dtype, on ts's device

    def fun(y: Any, t: float) -> Any:
        return ravel(spec.rhs(unravel(y) + [(t_zero + t).reshape(())] + params))

    err_size = None if spec.err_leaves is None else sum(sizes[:spec.err_leaves])
    problem = dopri5.Problem(fun, rtol=spec.rtol, atol=spec.atol, mxstep=spec.mxstep,
                             hmax=spec.hmax, xp=xp, err_size=err_size)
    try:
        stacked = xp.stack(dopri5.solve(problem, ravel(ys), times))
    except RuntimeError as e:
        raise RuntimeError(f"{spec.name}: {e}") from None
    return [stacked[..., o:o + s].reshape((len(times),) + lead + shape).astype(d, copy=False)
            for o, s, shape, d in zip(offsets, sizes, shapes, dtypes)]


def _odeint_shape(*leaves: Any, spec: OdeSpec) -> list:
    (length,) = shape_of(leaves[spec.n_y])
    return [((length,) + tuple(shape_of(y)), dtype_of(y)) for y in leaves[:spec.n_y]]


# =============================================================================================
# forward mode: the forward sensitivity equations
# =============================================================================================


def _odeint_jvp(primals: Sequence, tangents: Sequence, *, spec: OdeSpec) -> tuple[list, list]:
    live = [t for t in tangents if t is not zero]
    if all(is_linear(t) for t in live):
        return _odeint_linearize(primals, tangents, spec)
    return _forward_sensitivities(primals, tangents, spec)


def _rhs_jvp(spec: OdeSpec, y: list, t: Any, ps: list, s: list, pds: list,
             live_p: Sequence[int]) -> tuple[list, list]:
    """The vector field at ``(y, t, ps)`` and its derivative along the state tangents ``s``
    and the tangents ``pds`` of the parameters at ``live_p`` (as arrays, zeros included)."""
    p_tangents: list = [zero] * len(ps)
    for j, d in zip(live_p, pds):
        p_tangents[j] = d
    outs, t_outs = jvp_flat(spec.rhs, y + [t] + ps, s + [zero] + p_tangents, spec.name)
    return list(outs), [_zeros_like(o) if d is zero else d for o, d in zip(outs, t_outs)]


def _forward_sensitivities(primals: Sequence, tangents: Sequence, spec: OdeSpec) -> tuple[list, list]:
    """The solution and its tangent, solved together on the solution's steps."""
    n = spec.n_y
    ys, ts, params = list(primals[:n]), primals[n], list(primals[n + 1:])
    y_dots, t_dot, p_dots = list(tangents[:n]), tangents[n], list(tangents[n + 1:])
    live_p = [j for j, d in enumerate(p_dots) if d is not zero]
    k = len(params)
    rhs = spec.rhs

    def rhs_with_tangents(leaves: list) -> list:
        y, s, t = leaves[:n], leaves[n:2 * n], leaves[2 * n]
        ps, pds = leaves[2 * n + 1:2 * n + 1 + k], leaves[2 * n + 1 + k:]
        outs, t_outs = _rhs_jvp(spec, y, t, ps, s, pds, live_p)
        return outs + t_outs

    s0 = [_zeros_like(y) if d is zero else d for y, d in zip(ys, y_dots)]
    if t_dot is not zero:  # starting later moves the whole solution back along f
        f0 = rhs(ys + [ts[0]] + params)
        s0 = [s - f * t_dot[0] for s, f in zip(s0, f0)]
    spec_fwd = spec.replace(rhs_with_tangents, 2 * n, f"jvp({spec.name})", spec.err_leaves or n,
                            (spec, tuple(live_p)), spec.batch)
    res = odeint_p.bind(*ys, *s0, ts, *params, *[p_dots[j] for j in live_p], spec=spec_fwd)
    outs, out_dots = list(res[:n]), list(res[n:])
    if t_dot is not zero:  # an output time moved by dt moves its value by f dt (y(t[0]) = y0)
        length = shape_of(ts)[0]
        fs = [f0] + [rhs([y[i] for y in outs] + [ts[i]] + params) for i in range(1, length)]
        for leaf in range(n):
            f = fnp.stack([f_i[leaf] for f_i in fs])
            dt = fnp.reshape(t_dot, (length,) + (1,) * (f.ndim - 1))
            out_dots[leaf] = out_dots[leaf] + f * dt
    return outs, out_dots


def _odeint_batch(values: Sequence, dims: Sequence, *, spec: OdeSpec) -> Any:
    """A batch of tangents of one solve (``jacfwd``, ``vmap`` of ``jvp``): the state solved
    once with every tangent beside it, on the state's steps. A batch of states or parameters:
    one solve of the whole batch, on steps shared by the examples (each step's error, measured
    per example, is within the tolerance for every example). A batch of time grids: one solve
    per example (``NotImplemented`` asks ``vmap`` for that)."""
    n = spec.n_y
    if dims[n] is not NOT_MAPPED:
        return NotImplemented
    if spec.tangent_of is not None:
        base, live_p = spec.tangent_of
        k = len(values) - n - 1 - len(live_p)
        if all(d is NOT_MAPPED for d in list(dims[:n // 2]) + list(dims[n + 1:n + 1 + k])):
            return _tangent_batch(values, dims, spec, base, live_p, k)
    size = batch_size(values, dims)
    ys = [bdim_at_front(v, d, size) for v, d in zip(values[:n], dims[:n])]
    params = [v if d is NOT_MAPPED else bdim_at_front(v, d, size)
              for v, d in zip(values[n + 1:], dims[n + 1:])]
    in_dims = [0] * n + [NOT_MAPPED] + [NOT_MAPPED if d is NOT_MAPPED else 0 for d in dims[n + 1:]]
    rhs, origin = spec.rhs, f"vmap({spec.name})"
    within = enclosing_batch()

    def rhs_on_batches(leaves: list) -> list:
        outs, out_dims = vmap_flat(rhs, leaves, in_dims, size, origin, within=within)
        return [bdim_at_front(o, d, size) for o, d in zip(outs, out_dims)]

    spec_b = spec.replace(rhs_on_batches, n, origin, spec.err_leaves, None, spec.batch + 1)
    outs = odeint_p.bind(*ys, values[n], *params, spec=spec_b)
    return outs, [1] * n


def _tangent_batch(values: Sequence, dims: Sequence, spec: OdeSpec, base: OdeSpec,
                   live_p: Sequence[int], k: int) -> tuple[list, list]:
    n = base.n_y
    size = batch_size(values, dims)
    ys, ss, ts = list(values[:n]), list(values[n:2 * n]), values[2 * n]
    params, pds = list(values[2 * n + 1:2 * n + 1 + k]), list(values[2 * n + 1 + k:])
    ss = [bdim_at_front(v, d, size) for v, d in zip(ss, dims[n:2 * n])]
    pds = [bdim_at_front(v, d, size) for v, d in zip(pds, dims[2 * n + 1 + k:])]
    m = len(pds)
    within = enclosing_batch()

    def rhs_with_batched_tangents(leaves: list) -> list:
        y, s_batch, t = leaves[:n], leaves[n:2 * n], leaves[2 * n]
        ps, pd_batch = leaves[2 * n + 1:2 * n + 1 + k], leaves[2 * n + 1 + k:]

        def tangent_out(tangents: list) -> list:
            return _rhs_jvp(base, y, t, ps, tangents[:n], tangents[n:], live_p)[1]

        t_outs, t_dims = vmap_flat(tangent_out, s_batch + pd_batch, [0] * (n + m), size,
                                   f"vmap({spec.name})", within=within)
        return list(base.rhs(y + [t] + ps)) + [bdim_at_front(o, d, size) for o, d in zip(t_outs, t_dims)]

    spec_b = spec.replace(rhs_with_batched_tangents, 2 * n, f"vmap({spec.name})", n)
    outs = odeint_p.bind(*ys, *ss, ts, *params, *pds, spec=spec_b)
    return outs, [NOT_MAPPED] * n + [1] * n


# =============================================================================================
# reverse mode: the adjoint method
# =============================================================================================


def _odeint_linearize(primals: Sequence, tangents: Sequence, spec: OdeSpec) -> tuple[list, list]:
    outs = odeint_p.bind(*primals, spec=spec)
    positions = tuple(i for i, t in enumerate(tangents) if t is not zero)
    # the residuals (the primal inputs and the solution) are operands, not parameters, so a
    # loop around the solve (scan's linearization) sees and carries them
    t_outs = odeint_adjoint_p.bind(*[tangents[i] for i in positions], *primals, *outs, spec=spec,
                                   positions=positions)
    return outs, list(t_outs)


def _adjoint_rhs(spec: OdeSpec, with_t: bool, live_p: Sequence[int]) -> Rhs:
    """The vector field of the adjoint system in reversed time s = -t: the state runs
    backward (-f), the adjoint a gains a^T df/dy, and the accumulators of the cotangents of
    the initial time and of the parameters gain a^T df/dt and a^T df/dp."""
    n, rhs = spec.n_y, spec.rhs
    n_acc = int(with_t) + len(live_p)

    def adjoint(leaves: list) -> list:
        y, a = leaves[:n], leaves[n:2 * n]
        s, params = leaves[2 * n + n_acc], leaves[2 * n + n_acc + 1:]
        t = -s

        def rhs_of_live(xs: list) -> Sequence:
            ps = list(params)
            for j, p in zip(live_p, xs[n + 1:]):
                ps[j] = p
            return rhs(xs[:n] + [xs[n]] + ps)

        primals = y + [t] + [params[j] for j in live_p]
        f, linear = linearize_flat(rhs_of_live, primals, f"vjp({spec.name})")
        cts = transpose_program(linear, a)
        cts = [_zeros_like(p) if c is zero else c for p, c in zip(primals, cts)]
        return [-v for v in f] + cts[:n] + ([cts[n]] if with_t else []) + cts[n + 1:]

    return adjoint


def _total(parts: Sequence) -> Any:
    out = None
    for q in parts:
        out = q if out is None else out + q
    return out


def _adjoint_operands(args: Sequence, spec: OdeSpec, positions: tuple) -> tuple[list, list, list]:
    """The operands of ``odeint_adjoint``: the tangents (its linear inputs), then the
    residuals: the primal inputs of the solve and its solution."""
    k, n = len(positions), spec.n_y
    return list(args[:k]), list(args[k:len(args) - n]), list(args[len(args) - n:])


def _odeint_adjoint_transpose(cts: Sequence, *args: Any, spec: OdeSpec, positions: tuple) -> tuple:
    _, primals, outs = _adjoint_operands(args, spec, positions)
    n = spec.n_y
    ts, params = primals[n], list(primals[n + 1:])
    with_t = n in positions
    live_p = [i - n - 1 for i in positions if i > n]
    g = [_zeros_like(o) if c is zero else c for o, c in zip(outs, cts)]
    length = shape_of(ts)[0]
    a = [gl[length - 1] for gl in g]
    t0_bar = _zeros_like(ts[0]) if with_t else None
    p_bars = [_zeros_like(params[j]) for j in live_p]
    t_bars = []
    spec_adj = spec.replace(_adjoint_rhs(spec, with_t, live_p), 2 * n + int(with_t) + len(live_p),
                            f"adjoint({spec.name})", None)
    for i in range(length - 1, 0, -1):
        y_i = [o[i] for o in outs]
        if with_t:
            f_i = spec.rhs(y_i + [ts[i]] + params)
            t_bar = _total([fnp.sum(f * gl[i]) for f, gl in zip(f_i, g)])
            t_bars.append(t_bar)
            t0_bar = t0_bar - t_bar
        state = y_i + a + ([t0_bar] if with_t else []) + p_bars
        span = fnp.stack([-ts[i], -ts[i - 1]])
        end = [leaf[1] for leaf in odeint_p.bind(*state, span, *params, spec=spec_adj)]
        a = [e + gl[i - 1] for e, gl in zip(end[n:2 * n], g)]
        acc = end[2 * n:]
        if with_t:
            t0_bar, acc = acc[0], acc[1:]
        p_bars = acc
    in_cts: list = list(a) + [None] + [None] * len(params)
    if with_t:
        in_cts[n] = fnp.stack([t0_bar] + t_bars[::-1]) if length > 1 else _zeros_like(ts)
    for j, p_bar in zip(live_p, p_bars):
        in_cts[n + 1 + j] = p_bar
    return tuple(in_cts[i] for i in positions) + (None,) * (len(args) - len(positions))


def _odeint_adjoint_impl(*args: Any, spec: OdeSpec, positions: tuple) -> list:
    """The linear map applied forward (``linearize``'s ``f_jvp``): forward sensitivities."""
    tangents, primals, _ = _adjoint_operands(args, spec, positions)
    full: list = [zero] * len(primals)
    for i, t in zip(positions, tangents):
        full[i] = t
    return _forward_sensitivities(primals, full, spec)[1]


odeint_p = Primitive("odeint", multiple_results=True)
odeint_p.impl = _odeint_impl
odeint_p.shape_rule = _odeint_shape
odeint_p.jvp = _odeint_jvp
odeint_p.batch = _odeint_batch

odeint_adjoint_p = Primitive("odeint_adjoint", multiple_results=True)
odeint_adjoint_p.impl = _odeint_adjoint_impl
odeint_adjoint_p.shape_rule = lambda *args, spec, positions: [
    (tuple(shape_of(o)), dtype_of(o)) for o in _adjoint_operands(args, spec, positions)[2]]
odeint_adjoint_p.transpose = _odeint_adjoint_transpose
