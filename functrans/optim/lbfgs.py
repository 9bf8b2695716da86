"""L-BFGS (optax's ``lbfgs``): the two-loop recursion ``scale_by_lbfgs`` and the zoom line
search ``scale_by_zoom_linesearch`` that picks its step, with optax's arguments, states and
iterates.

The line search evaluates the objective: its ``update`` takes the keywords ``value`` (the
objective at ``params``), ``grad`` (its gradient) and ``value_fn`` (the objective), and any
further keyword the objective accepts; ``chain`` passes them on. The step is one
``functrans.lax.while_loop``, so a ``jit``-staged training step is staged once.

Example:
    >>> import numpy as np
    >>> import functrans as ft, functrans.numpy as fnp
    >>> from functrans import optim
    >>> f = lambda x: fnp.sum((x - 1.0) ** 2)
    >>> opt = optim.lbfgs()
    >>> params = np.zeros(2)
    >>> state = opt.init(params)
    >>> for _ in range(2):   # the first step has length 1, the second lands on the minimum
    ...     value, grad = ft.value_and_grad(f)(params)
    ...     updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=f)
    ...     params = optim.apply_updates(params, updates)
    >>> params
    array([1., 1.])
"""
from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import numpy as np

import functrans.numpy as fnp
from functrans import tree
from functrans._abstract import dtype_of
from functrans.api import stop_gradient, value_and_grad
from functrans.lax import cond as lax_cond
from functrans.lax import while_loop
from functrans.optim._norm import is_half
from functrans.optim.base import (
    GradientTransformation,
    ScalarOrSchedule,
    _check_params,
    _find_field,
    _same_leaves,
    _Transformation,
)
from functrans.optim.combine import chain
from functrans.optim.scale import scale_by_learning_rate
from functrans.optim.transform import scale
from functrans.scipy.optimize import _cubicmin, _quadmin
from functrans.typing import OptState, Params, PyTree, Updates

__all__ = ["ScaleByLBFGSState", "ScaleByZoomLinesearchState", "ZoomLinesearchInfo", "lbfgs",
           "scale_by_lbfgs", "scale_by_zoom_linesearch", "value_and_grad_from_state"]


def _real_dtype(leaves: list) -> np.dtype:
    """The real dtype of the first leaf (float32 for complex64 params): that of the values."""
    dtype = dtype_of(leaves[0])
    return np.finfo(dtype).dtype if dtype.kind in "fc" else np.dtype(float)


def _vdot(a: list, b: list) -> Any:
    """``Re <a, b>`` over all leaves (``a`` conjugated)."""
    return sum(fnp.real(fnp.vdot(x, y)) for x, y in zip(a, b))


def _cast_like(new: list, like: list) -> list:
    return [fnp.astype(n, dtype_of(o)) for n, o in zip(new, like)]


def _like_state(leaves: list, state_leaves: list) -> list:
    """``leaves`` in the dtypes the state keeps them in where those are wider (float32 for
    float16 leaves): as they are otherwise."""
    return [fnp.astype(x, dtype_of(o)) if is_half(x) and not is_half(o) else x
            for x, o in zip(leaves, state_leaves)]


def _largest(leaves: list, per_slot: bool = False) -> Any:
    """The largest ``|x|`` over all leaves (``per_slot``: over each slot of the leading axis
    of stacked leaves); None for no elements."""
    big = None
    for x in leaves:
        if 0 in fnp.shape(x):
            continue
        axes = tuple(range(1, fnp.ndim(x))) if per_slot else None
        m = fnp.max(fnp.abs(x), axis=axes)
        big = m if big is None else fnp.maximum(big, m)
    return big


def _exponent(big: Any, real: np.dtype) -> Any:
    """The power of two of ``big`` (``big = f 2**e`` with ``0.5 <= f < 1``), kept within what
    ``real`` can scale by; 0 where ``big`` is 0, inf or NaN, or None for no elements."""
    if big is None:
        return None
    info = np.finfo(real)
    ok = (big > 0) & fnp.isfinite(big)
    e = stop_gradient(fnp.frexp(fnp.where(ok, big, 1))[1])
    return fnp.clip(fnp.where(ok, e, 0), info.minexp + 2, info.maxexp - 2)


def _power_of_two(e: Any, real: np.dtype) -> Any:
    """``2**e`` in ``real`` (``e`` an integer array)."""
    return fnp.astype(fnp.ldexp(fnp.ones((), real), e), real)


def _times_power_of_two(x: Any, e: Any, real: np.dtype) -> Any:
    """``x * 2**e``, exactly (``e`` an integer array or None for 0), in ``x``'s dtype."""
    if e is None:
        return x
    return x * _power_of_two(e, real)


def _negative(e: Any) -> Any:
    return None if e is None else -e


def _sum(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a + b


def _scaled(leaves: list, e: Any, real: np.dtype) -> list:
    return [_times_power_of_two(x, e, real) for x in leaves]


def _pairs_scaled(dp_mem: list, du_mem: list, real: np.dtype) -> tuple[list, list, Any]:
    """The stored pairs each scaled by the power of two nearest the inverse geometric mean of
    its two largest entries, and ``1 / <du, dp>`` of the scaled pairs (0 where that is 0)."""
    e_dp = _exponent(_largest(dp_mem, per_slot=True), real)
    e_du = _exponent(_largest(du_mem, per_slot=True), real)
    k = None if e_dp is None else -((e_dp + e_du) // 2)

    def scale(mem: list) -> list:
        if k is None:
            return mem
        return [x * fnp.reshape(_power_of_two(k, real), (-1,) + (1,) * (fnp.ndim(x) - 1))
                for x in mem]

    s_mem, y_mem = scale(dp_mem), scale(du_mem)
    curvature = sum(fnp.real(fnp.sum(fnp.conj(s) * y, axis=tuple(range(1, fnp.ndim(s)))))
                    for s, y in zip(s_mem, y_mem))
    nonzero = curvature != 0
    rho = fnp.where(nonzero, 1 / fnp.where(nonzero, curvature, 1), 0)
    return s_mem, y_mem, fnp.astype(rho, real)


# --- scale_by_lbfgs ------------------------------------------------------------------------------
class ScaleByLBFGSState(NamedTuple):
    """State of [`scale_by_lbfgs`][functrans.optim.scale_by_lbfgs] (optax's fields).

    Attributes:
        count: Updates done.
        params: The params of the last update.
        updates: The incoming updates (gradients) of the last update.
        diff_params_memory: The last ``memory_size`` differences of the params, each leaf
            stacked on a leading axis of length ``memory_size`` (a ring buffer).
        diff_updates_memory: The same for the incoming updates.
        weights_memory: ``1 / <diff_updates, diff_params>`` of each pair (0 when undefined).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_lbfgs(memory_size=3).init(np.zeros(2)).diff_params_memory.shape
        (3, 2)
    """

    count: Any
    params: Params
    updates: Updates
    diff_params_memory: PyTree
    diff_updates_memory: PyTree
    weights_memory: Any


@dataclasses.dataclass(frozen=True)
class _ScaleByLBFGS(_Transformation):
    name: ClassVar[str] = "scale_by_lbfgs"
    state_type: ClassVar[type] = ScaleByLBFGSState
    half_in_float32: ClassVar[bool] = True

    memory_size: int
    scale_init_precond: bool

    def init(self, params: Params) -> ScaleByLBFGSState:
        _check_params(self.name, params)
        m = self.memory_size
        stacked = tree.map(lambda p: fnp.zeros((m, *fnp.shape(p)), dtype=dtype_of(p)), params)
        leaves = tree.leaves(params)
        dtype = _real_dtype(leaves) if leaves else np.dtype(float)
        return ScaleByLBFGSState(count=np.int32(0), params=tree.map(fnp.zeros_like, params),
                                 updates=tree.map(fnp.zeros_like, params),
                                 diff_params_memory=stacked, diff_updates_memory=stacked,
                                 weights_memory=fnp.zeros(m, dtype=dtype))

    def _update(self, grads: Updates, state: ScaleByLBFGSState,
                params: Params | None) -> tuple[Updates, ScaleByLBFGSState]:
        if params is None:
            raise ValueError("functrans.optim.scale_by_lbfgs: update needs the current params; "
                             "call update(grads, state, params)")
        given, treedef = tree.flatten(grads)
        p = _same_leaves(treedef, given, params, self.name, "params")
        old_p = _same_leaves(treedef, given, state.params, self.name, "params")
        old_u = tree.leaves(state.updates)
        # (float16 leaves: the state holds them in float32, where the differences and their
        # dot products are formed; the direction is given back in float16)
        u = _like_state(given, old_u)
        p = _like_state(p, old_p)
        m, count = self.memory_size, state.count
        memory_idx, prev_idx = count % m, (count - 1) % m
        started = count > 0
        # 1. The newest pair of differences (none before the first step) into the buffers.
        dp = [fnp.where(started, a - b, fnp.zeros_like(a)) for a, b in zip(p, old_p)]
        du = [fnp.where(started, a - b, fnp.zeros_like(a)) for a, b in zip(u, old_u)]
        # Products are formed on copies scaled by powers of two (exact), so that none
        # overflows or underflows where the result is representable: the newest differences
        # each by its largest entry, the gradient by its own, and the stored pairs by the
        # geometric mean of the two (the recursion does not change when a pair is scaled).
        weights = state.weights_memory
        real = dtype_of(weights)
        e_dp, e_du = _exponent(_largest(dp), real), _exponent(_largest(du), real)
        dp_unit, du_unit = _scaled(dp, _negative(e_dp), real), _scaled(du, _negative(e_du), real)
        curvature = _vdot(du_unit, dp_unit)  # <du, dp> / 2**(e_du + e_dp)
        nonzero = curvature != 0
        weight = fnp.where(nonzero & started, _times_power_of_two(
            1 / fnp.where(nonzero, curvature, 1), _negative(_sum(e_dp, e_du)), real), 0)
        dp_mem = [fnp.at(mem)[prev_idx].set(d) for mem, d in
                  zip(tree.leaves(state.diff_params_memory), dp)]
        du_mem = [fnp.at(mem)[prev_idx].set(d) for mem, d in
                  zip(tree.leaves(state.diff_updates_memory), du)]
        weights = fnp.at(weights)[prev_idx].set(fnp.astype(weight, real))
        # 2. The scale of the identity the recursion starts from.
        e_u = _exponent(_largest(u), real)
        q = _scaled(u, _negative(e_u), real)
        if self.scale_init_precond:
            squares = _vdot(du_unit, du_unit)
            positive = squares > 0
            ratio = curvature / fnp.where(positive, squares, 1)
            gamma = fnp.where(positive, _times_power_of_two(ratio, _sum(e_dp, _negative(e_du)), real), 1.0)
            norm = stop_gradient(fnp.sqrt(_vdot(q, q)))  # |u| / 2**e_u
            big = norm > _times_power_of_two(fnp.ones((), real), _negative(e_u), real)  # |u| > 1
            inverse = _times_power_of_two(1 / fnp.where(norm > 0, norm, 1), _negative(e_u), real)
            first = fnp.where(big, inverse, 1.0)  # min(1, 1/|u|)
            gamma = fnp.where(started, gamma, first)
        else:
            gamma = 1.0
        # 3. The two-loop recursion, oldest pair last in the first loop and first in the second.
        s_mem, y_mem, rho = _pairs_scaled(dp_mem, du_mem, real)
        order = [(memory_idx + i) % m for i in range(m)]
        vec, alphas = q, []
        for idx in reversed(order):
            alpha = rho[idx] * _vdot([d[idx] for d in s_mem], vec)
            vec = _cast_like([v - alpha * d[idx] for v, d in zip(vec, y_mem)], vec)
            alphas.append(alpha)
        vec = _cast_like([gamma * v for v in vec], vec)
        for idx, alpha in zip(order, reversed(alphas)):
            beta = rho[idx] * _vdot([d[idx] for d in y_mem], vec)
            vec = _cast_like([v + (alpha - beta) * d[idx] for v, d in zip(vec, s_mem)], vec)
        vec = _cast_like(_scaled(vec, e_u, real), vec)
        new_state = ScaleByLBFGSState(
            count=count + 1, params=treedef.unflatten(p), updates=treedef.unflatten(u),
            diff_params_memory=treedef.unflatten(dp_mem),
            diff_updates_memory=treedef.unflatten(du_mem), weights_memory=weights)
        return treedef.unflatten(_cast_like(vec, given)), new_state


def scale_by_lbfgs(memory_size: int = 10, scale_init_precond: bool = True) -> GradientTransformation:
    """Multiply the updates by the L-BFGS estimate of the inverse Hessian (optax's
    ``scale_by_lbfgs``), computed by the two-loop recursion (Nocedal and Wright, Algorithm 7.4)
    from the last ``memory_size`` differences of params and of incoming updates.

    The estimate starts from ``gamma * I``: with ``scale_init_precond``, ``gamma`` is
    ``<du, dp> / <du, du>`` of the newest pair, and ``min(1, 1 / |g|)`` at the first step (so
    the first step has length at most 1); else 1. The output is the direction ``P g``, not yet
    negated: ``lbfgs`` follows it with a negative scale and a line search.

    Its dot products are taken on copies scaled by powers of two, so float32 gradients of
    1e30 or differences of 1e-30 (whose squares overflow or underflow) give the direction
    float64 gives; float16 leaves are kept in float32 in the state.

    Args:
        memory_size: How many pairs of differences to keep (at least 1).
        scale_init_precond: Scale the initial identity as above.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation]; its ``update``
        needs ``params``.

    Raises:
        ValueError: ``memory_size`` below 1.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_lbfgs()
        >>> p = np.array([3.0, 4.0])
        >>> opt.update(p, opt.init(p), p)[0]      # the first step: g / |g|
        array([0.6, 0.8])
    """
    if not memory_size >= 1:
        raise ValueError(f"functrans.optim.scale_by_lbfgs: memory_size must be >= 1, got "
                         f"{memory_size!r}")
    return _ScaleByLBFGS(int(memory_size), bool(scale_init_precond)).transformation()


# --- scale_by_zoom_linesearch --------------------------------------------------------------------
class ZoomLinesearchInfo(NamedTuple):
    """How the last line search of [`scale_by_zoom_linesearch`][functrans.optim.scale_by_zoom_linesearch]
    ended.

    Attributes:
        num_linesearch_steps: Evaluations of the objective it made.
        decrease_error: By how much the sufficient decrease condition fails at the step taken
            (0: it holds).
        curvature_error: By how much the curvature condition fails (0: it holds).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> int(optim.scale_by_zoom_linesearch(10).init(np.zeros(2)).info.num_linesearch_steps)
        0
    """

    num_linesearch_steps: Any
    decrease_error: Any
    curvature_error: Any


class ScaleByZoomLinesearchState(NamedTuple):
    """State of [`scale_by_zoom_linesearch`][functrans.optim.scale_by_zoom_linesearch].

    Attributes:
        learning_rate: The step size of the last line search.
        value: The objective at the step taken (``inf`` before the first).
        grad: Its gradient there; [`value_and_grad_from_state`][functrans.optim.value_and_grad_from_state]
            reuses both.
        info: A [`ZoomLinesearchInfo`][functrans.optim.ZoomLinesearchInfo].

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> float(optim.scale_by_zoom_linesearch(10).init(np.zeros(2)).value)
        inf
    """

    learning_rate: Any
    value: Any
    grad: Updates
    info: ZoomLinesearchInfo


class _Search(NamedTuple):
    """The carry of the line search's loop (the fields of optax's zoom state that change)."""

    count: Any
    stepsize: Any
    value: Any
    grad: list
    slope: Any
    decrease_error: Any
    curvature_error: Any
    error: Any
    interval_found: Any
    done: Any
    failed: Any
    low: Any
    value_low: Any
    slope_low: Any
    high: Any
    value_high: Any
    slope_high: Any
    cubic_ref: Any
    value_cubic_ref: Any
    safe_stepsize: Any
    safe_value: Any
    safe_grad: list


def _pick(pred: Any, new: list, old: list) -> list:
    return [fnp.where(pred, a, b) for a, b in zip(new, old)]


@dataclasses.dataclass(frozen=True)
class _ZoomLinesearch(_Transformation):
    name: ClassVar[str] = "scale_by_zoom_linesearch"
    state_type: ClassVar[type] = ScaleByZoomLinesearchState
    extra_args: ClassVar[bool] = True
    half_in_float32: ClassVar[bool] = True

    max_linesearch_steps: int
    max_learning_rate: float | None
    tol: float
    increase_factor: float
    slope_rtol: float
    curv_rtol: float
    approx_dec_rtol: float | None
    stepsize_precision: float
    initial_guess_strategy: str

    def init(self, params: Params) -> ScaleByZoomLinesearchState:
        _check_params(self.name, params)
        leaves = tree.leaves(params)
        dtype = _real_dtype(leaves) if leaves else np.dtype(float)
        return ScaleByZoomLinesearchState(
            learning_rate=dtype.type(1.0), value=dtype.type(np.inf),
            grad=tree.map(fnp.zeros_like, params),
            info=ZoomLinesearchInfo(np.int64(0), dtype.type(np.inf), dtype.type(np.inf)))

    def update(self, grads: Updates, state: OptState, params: Params | None = None, *,
               value: Any = None, grad: Updates | None = None,
               value_fn: Callable[..., Any] | None = None,
               **extra_args: Any) -> tuple[Updates, OptState]:
        if value is None or grad is None or value_fn is None:
            missing = [k for k, v in (("value", value), ("grad", grad), ("value_fn", value_fn))
                       if v is None]
            raise TypeError(f"functrans.optim.{self.name}: update needs the keywords {missing}; "
                            f"call opt.update(grads, state, params, value=value, grad=grad, "
                            f"value_fn=f) with value, grad = ft.value_and_grad(f)(params)")
        if params is None:
            raise ValueError(f"functrans.optim.{self.name}: update needs the current params; "
                             f"call update(grads, state, params, value=..., grad=..., "
                             f"value_fn=...)")
        return super().update(grads, state, params, value=value, grad=grad, value_fn=value_fn,
                              **extra_args)

    def _update(self, grads: Updates, state: Any, params: Params | None, **kw: Any) -> tuple[Updates, Any]:
        value, grad, value_fn = kw.pop("value"), kw.pop("grad"), kw.pop("value_fn")
        fn_kwargs = _kwargs_for(value_fn, kw, self.name)
        given, treedef = tree.flatten(grads)
        p = _same_leaves(treedef, given, params, self.name, "params")
        g0 = _same_leaves(treedef, given, grad, self.name, "params")
        # (float16 leaves: the slopes are taken in float32, the state's dtype for them)
        stored = tree.leaves(state.grad)
        u, g0 = _like_state(given, stored), _like_state(g0, stored)
        dtype = dtype_of(state.learning_rate)
        f = lambda x: value_fn(x, **fn_kwargs)
        vg = value_and_grad(f)

        def on_line(stepsize: Any) -> tuple[Any, list, Any]:
            step = treedef.unflatten([pi + fnp.astype(stepsize * ui, dtype_of(pi))
                                      for pi, ui in zip(p, u)])
            v, g = vg(step)
            g = _cast_like(tree.leaves(g), g0)
            return fnp.astype(v, dtype), g, fnp.astype(_vdot([fnp.conj(x) for x in g], u), dtype)

        value = fnp.astype(value, dtype)
        slope_init = fnp.astype(_vdot(u, g0), dtype)
        guess = state.learning_rate if self.initial_guess_strategy == "keep" else dtype.type(1.0)
        zero, inf = dtype.type(0.0), dtype.type(np.inf)
        start = _Search(
            count=np.int64(0), stepsize=zero, value=value, grad=g0, slope=slope_init,
            decrease_error=inf, curvature_error=inf, error=inf, interval_found=np.bool_(False),
            done=np.bool_(False), failed=np.bool_(False), low=zero, value_low=value,
            slope_low=slope_init, high=zero, value_high=value, slope_high=slope_init,
            cubic_ref=zero, value_cubic_ref=value, safe_stepsize=zero, safe_value=value,
            safe_grad=g0)
        errors = lambda a, v, s: self._errors(a, v, s, value, slope_init)

        def step(s: _Search) -> _Search:
            s = lax_cond(s.interval_found, lambda s: self._zoom(s, on_line, errors),
                         lambda s: self._search(s, on_line, errors, guess), s)
            return lax_cond(s.failed, self._safe_step, lambda s: s, s)

        final = while_loop(lambda s: fnp.logical_not(s.done | s.failed), step, start)
        lr = final.stepsize
        out = _cast_like([ui * fnp.astype(lr, dtype_of(ui)) for ui in u], given)
        info = ZoomLinesearchInfo(final.count, final.decrease_error, final.curvature_error)
        return treedef.unflatten(out), ScaleByZoomLinesearchState(
            learning_rate=lr, value=final.value, grad=treedef.unflatten(final.grad), info=info)

    def _errors(self, stepsize: Any, value: Any, slope: Any, value_init: Any,
                slope_init: Any) -> tuple[Any, Any]:
        """How much the sufficient decrease (Armijo's, or Hager and Zhang's approximate one
        near a minimum) and the curvature conditions fail at a step (0: they hold; NaN: inf)."""
        decrease = value - value_init - self.slope_rtol * stepsize * slope_init
        if self.approx_dec_rtol is not None:
            approx = slope - (2 * self.slope_rtol - 1.0) * slope_init
            approx = fnp.maximum(approx, value - value_init - self.approx_dec_rtol * fnp.abs(value_init))
            decrease = fnp.minimum(approx, decrease)
        decrease = fnp.maximum(decrease, 0.0)
        curvature = fnp.maximum(fnp.abs(slope) - self.curv_rtol * fnp.abs(slope_init), 0.0)
        return (fnp.where(fnp.isnan(decrease), np.inf, decrease),
                fnp.where(fnp.isnan(curvature), np.inf, curvature))

    def _search(self, s: _Search, on_line: Callable, errors: Callable, guess: Any) -> _Search:
        """One step of the bracketing phase (Nocedal and Wright, Algorithm 3.5)."""
        first = s.count == 0
        new = fnp.where(first, guess, self.increase_factor * s.stepsize)
        if self.max_learning_rate is not None:
            at_max = new >= self.max_learning_rate
            new = fnp.minimum(new, self.max_learning_rate)
        else:
            at_max = np.bool_(False)
        value, grad, slope = on_line(new)
        decrease, curvature = errors(new, value, slope)
        error = fnp.maximum(decrease, curvature)
        safe = decrease <= self.tol
        to_high = (decrease > 0.0) | ((value >= s.value) & fnp.logical_not(first))
        to_low = (slope >= 0.0) & fnp.logical_not(to_high)
        low, value_low, slope_low, high, value_high, slope_high = _pick(
            to_low, [new, value, slope, s.stepsize, s.value, s.slope],
            [s.stepsize, s.value, s.slope, new, value, slope])
        found = to_high | to_low | (error <= self.tol)
        done = (error <= self.tol) | (at_max & fnp.logical_not(found))
        return s._replace(
            count=s.count + 1, stepsize=new, value=value, grad=grad, slope=slope,
            decrease_error=decrease, curvature_error=curvature, error=error,
            interval_found=found, done=done,
            failed=(s.count + 1 >= self.max_linesearch_steps) & fnp.logical_not(done),
            low=low, value_low=value_low, slope_low=slope_low, high=high,
            value_high=value_high, slope_high=slope_high, cubic_ref=low,
            value_cubic_ref=value_low,
            safe_stepsize=fnp.where(safe, new, s.safe_stepsize),
            safe_value=fnp.where(safe, value, s.safe_value),
            safe_grad=_pick(safe, grad, s.safe_grad))

    def _zoom(self, s: _Search, on_line: Callable, errors: Callable) -> _Search:
        """One step of the zoom phase (Nocedal and Wright, Algorithm 3.6)."""
        width = fnp.abs(s.high - s.low)
        left, right = fnp.minimum(s.high, s.low), fnp.maximum(s.high, s.low)
        cubic, cubic_ok = _cubicmin(s.low, s.value_low, s.slope_low, s.high, s.value_high,
                                    s.cubic_ref, s.value_cubic_ref)
        use_cubic = cubic_ok & (cubic > left + 0.2 * width) & (cubic < right - 0.2 * width)
        quad, quad_ok = _quadmin(s.low, s.value_low, s.slope_low, s.high, s.value_high)
        use_quad = (fnp.logical_not(use_cubic) & quad_ok & (quad > left + 0.1 * width)
                    & (quad < right - 0.1 * width))
        middle = fnp.where(use_cubic, cubic, fnp.where(use_quad, quad, (s.low + s.high) / 2.0))
        value, grad, slope = on_line(middle)
        decrease, curvature = errors(middle, value, slope)
        error = fnp.maximum(decrease, curvature)
        better = (decrease <= self.tol) & (value < s.safe_value)
        safe_stepsize = fnp.where(better, middle, s.safe_stepsize)
        done = error <= self.tol
        to_high = (decrease > 0.0) | (value >= s.value_low)
        high_to_low = (slope * (s.high - s.low) >= 0.0) & fnp.logical_not(to_high)
        high, value_high, slope_high = _pick(to_high, [middle, value, slope],
                                             [s.high, s.value_high, s.slope_high])
        high, value_high, slope_high = _pick(high_to_low, [s.low, s.value_low, s.slope_low],
                                             [high, value_high, slope_high])
        low, value_low, slope_low = _pick(fnp.logical_not(to_high), [middle, value, slope],
                                          [s.low, s.value_low, s.slope_low])
        cubic_ref, value_cubic_ref = _pick(to_high | high_to_low, [s.high, s.value_high],
                                           [s.low, s.value_low])
        gave_up = ((s.count + 1 >= self.max_linesearch_steps)
                   | ((width <= self.stepsize_precision) & (safe_stepsize > 0.0)))
        return s._replace(
            count=s.count + 1, stepsize=middle, value=value, grad=grad, slope=slope,
            decrease_error=decrease, curvature_error=curvature, error=error, done=done,
            failed=gave_up & fnp.logical_not(done), low=low, value_low=value_low,
            slope_low=slope_low, high=high, value_high=value_high, slope_high=slope_high,
            cubic_ref=cubic_ref, value_cubic_ref=value_cubic_ref, safe_stepsize=safe_stepsize,
            safe_value=fnp.where(better, value, s.safe_value),
            safe_grad=_pick(better, grad, s.safe_grad))

    @staticmethod
    def _safe_step(s: _Search) -> _Search:
        """After a failure: the best step with sufficient decrease found, if any (or when the
        last step left the function's domain)."""
        use_safe = (s.safe_stepsize > 0.0) | fnp.isinf(s.decrease_error)
        return s._replace(stepsize=fnp.where(use_safe, s.safe_stepsize, s.stepsize),
                          value=fnp.where(use_safe, s.safe_value, s.value),
                          grad=_pick(use_safe, s.safe_grad, s.grad))


def _kwargs_for(fn: Callable, kwargs: dict, name: str) -> dict:
    """The keyword arguments of ``kwargs`` that ``fn`` takes; any other is an error."""
    if not kwargs:
        return {}
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return dict(kwargs)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(kwargs)
    unused = sorted(k for k in kwargs if k not in parameters)
    if unused:
        raise TypeError(f"functrans.optim.{name}: update received the keyword arguments "
                        f"{unused}, which value_fn does not take; give value_fn those "
                        f"parameters (the extra keywords of update are passed to it)")
    return dict(kwargs)


def scale_by_zoom_linesearch(
        max_linesearch_steps: int, max_learning_rate: float | None = None, tol: float = 0.0,
        increase_factor: float = 2.0, slope_rtol: float = 1e-4, curv_rtol: float = 0.9,
        approx_dec_rtol: float | None = 1e-6, stepsize_precision: float = 1e-5,
        initial_guess_strategy: str = "keep") -> GradientTransformation:
    """Scale the updates by a step size satisfying the sufficient decrease and the small
    curvature conditions along them (optax's ``scale_by_zoom_linesearch``)::

        f(w + a u) <= f(w) + slope_rtol a <u, g(w)> + tol
        |<g(w + a u), u>| <= curv_rtol |<u, g(w)>| + tol

    First the step grows by ``increase_factor`` from its initial guess (1, or the last step
    with ``initial_guess_strategy="keep"``) until it brackets such a step, then the bracket is
    narrowed by cubic, quadratic or bisection steps (Nocedal and Wright, Algorithms 3.5 and 3.6).
    Near a minimum, where rounding hides decreases, Hager and Zhang's approximate decrease
    condition may replace the first (``approx_dec_rtol``; ``None``: never). After
    ``max_linesearch_steps`` evaluations, or a bracket narrower than ``stepsize_precision``,
    it takes the best step that decreased the objective enough (if any).

    ``update`` takes the objective's ``value`` and ``grad`` at ``params`` and ``value_fn``, the
    objective, as keywords, and passes any other keyword on to ``value_fn``. The state keeps
    the value and gradient at the step taken
    ([`value_and_grad_from_state`][functrans.optim.value_and_grad_from_state] reuses them).

    Args:
        max_linesearch_steps: The most evaluations of the objective per update.
        max_learning_rate: The largest step size (``None``: no bound).
        tol: The tolerance of both conditions.
        increase_factor: The growth of the step while bracketing.
        slope_rtol: ``c1`` of the decrease condition.
        curv_rtol: ``c2`` of the curvature condition (``inf``: a backtracking search).
        approx_dec_rtol: The relative tolerance on the value for the approximate condition.
        stepsize_precision: The narrowest bracket searched.
        initial_guess_strategy: ``"keep"`` (the last step size) or ``"one"``.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose ``update``
        takes ``value=``, ``grad=`` and ``value_fn=``.

    Raises:
        ValueError: ``max_linesearch_steps`` below 1, or an unknown initial guess strategy.

    Example:
        >>> import numpy as np
        >>> import functrans as ft, functrans.numpy as fnp
        >>> from functrans import optim
        >>> f = lambda x: fnp.sum(x ** 2)
        >>> opt = optim.chain(optim.sgd(1.0), optim.scale_by_zoom_linesearch(15))
        >>> p = np.array([1.0, 2.0])
        >>> v, g = ft.value_and_grad(f)(p)
        >>> updates, state = opt.update(g, opt.init(p), p, value=v, grad=g, value_fn=f)
        >>> optim.apply_updates(p, updates)   # the exact minimizer along -g: step 1/2
        array([0., 0.])
    """
    if not max_linesearch_steps >= 1:
        raise ValueError(f"functrans.optim.scale_by_zoom_linesearch: max_linesearch_steps must "
                         f"be >= 1, got {max_linesearch_steps!r}")
    if initial_guess_strategy not in ("keep", "one"):
        raise ValueError(f"functrans.optim.scale_by_zoom_linesearch: initial_guess_strategy "
                         f"must be 'keep' or 'one', got {initial_guess_strategy!r}")
    return _ZoomLinesearch(int(max_linesearch_steps), max_learning_rate, tol, increase_factor,
                           slope_rtol, curv_rtol, approx_dec_rtol, stepsize_precision,
                           initial_guess_strategy).transformation()


def value_and_grad_from_state(value_fn: Callable[..., Any]) -> Callable[..., tuple[Any, Any]]:
    """``value_and_grad(value_fn)``, but reusing the value and gradient a line search left in
    the optimizer state (optax's ``value_and_grad_from_state``): the call is
    ``(params, *args, state=state, **kwargs)``, and the objective is evaluated only when the
    state holds none yet (its value is ``inf``, as after ``init``) or a NaN.

    Raises:
        ValueError: (when called) the state holds no ``value`` and ``grad``.

    Example:
        >>> import numpy as np
        >>> import functrans.numpy as fnp
        >>> from functrans import optim
        >>> f = lambda x: fnp.sum(x ** 2)
        >>> opt = optim.lbfgs()
        >>> p = np.array([1.0, 2.0])
        >>> state = opt.init(p)
        >>> vg = optim.value_and_grad_from_state(f)
        >>> v, g = vg(p, state=state)                    # evaluated: nothing stored yet
        >>> updates, state = opt.update(g, state, p, value=v, grad=g, value_fn=f)
        >>> p = optim.apply_updates(p, updates)
        >>> float(vg(p, state=state)[0]) == float(f(p))  # read from the state
        True
    """
    vg = value_and_grad(value_fn)

    def value_and_grad_fn(params: Params, *args: Any, state: OptState, **kwargs: Any) -> tuple[Any, Any]:
        try:
            value, grad = _find_field(state, "value"), _find_field(state, "grad")
        except ValueError:
            raise ValueError("functrans.optim.value_and_grad_from_state: the state holds no "
                             "value and grad; use an optimizer with a line search "
                             "(optim.lbfgs(), or a chain ending in "
                             "optim.scale_by_zoom_linesearch)") from None
        known = fnp.isfinite(value)
        return lax_cond(known, lambda p, a, kw: (value, grad),
                        lambda p, a, kw: _as_like(vg(p, *a, **kw), (value, grad)),
                        params, args, kwargs)

    return value_and_grad_fn


def _as_like(out: tuple[Any, Any], like: tuple[Any, Any]) -> tuple[Any, Any]:
    """The objective's value and gradient in the dtypes of those stored in the state."""
    value, grad = out
    return fnp.astype(value, dtype_of(like[0])), tree.map(
        lambda g, o: fnp.astype(g, dtype_of(o)), grad, like[1])


# --- lbfgs ---------------------------------------------------------------------------------------
#: optax's default line search of lbfgs (a frozen configuration: safe to share)
_ZOOM_20 = scale_by_zoom_linesearch(max_linesearch_steps=20, initial_guess_strategy="one")


def lbfgs(learning_rate: ScalarOrSchedule | None = None, memory_size: int = 10,
          scale_init_precond: bool = True,
          linesearch: GradientTransformation | None = _ZOOM_20) -> GradientTransformation:
    """The L-BFGS optimizer (optax's ``lbfgs``): ``scale_by_lbfgs``'s direction, negated (or
    scaled by ``-learning_rate``), then a line search's step size along it.

    The default line search is ``scale_by_zoom_linesearch(max_linesearch_steps=20,
    initial_guess_strategy="one")``, as in optax; ``update`` then takes the keywords
    ``value``, ``grad`` and ``value_fn`` (and passes any other to ``value_fn``). With
    ``linesearch=None`` it steps with the learning rate alone and needs no keywords.

    Args:
        learning_rate: A factor of the direction (a number or a schedule); ``None``: 1.
        memory_size: How many pairs of differences estimate the inverse Hessian.
        scale_init_precond: Scale the initial estimate (see ``scale_by_lbfgs``).
        linesearch: A transformation choosing the step size, or ``None``.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation], a ``chain``
        whose state is ``(ScaleByLBFGSState, the scale's state, the line search's state)``.

    Example:
        >>> import numpy as np
        >>> import functrans as ft, functrans.numpy as fnp
        >>> from functrans import optim
        >>> def f(x):
        ...     return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
        >>> opt = optim.lbfgs()
        >>> params = np.zeros(3)
        >>> state = opt.init(params)
        >>> vg = optim.value_and_grad_from_state(f)
        >>> for _ in range(30):
        ...     value, grad = vg(params, state=state)
        ...     updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=f)
        ...     params = optim.apply_updates(params, updates)
        >>> np.round(params, 6).tolist()
        [1.0, 1.0, 1.0]
    """
    scaling = scale(-1.0) if learning_rate is None else scale_by_learning_rate(learning_rate)
    return chain(scale_by_lbfgs(memory_size, scale_init_precond), scaling,
                 scale(1.0) if linesearch is None else linesearch)
