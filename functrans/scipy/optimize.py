"""SciPy's ``optimize.minimize`` with JAX's interface: BFGS with a line search that satisfies
the strong Wolfe conditions, built on ``functrans.lax.while_loop`` so that the whole
minimization is one staged loop under ``jit`` and runs per example under ``vmap``.

Example:
    >>> import numpy as np
    >>> import functrans.numpy as fnp
    >>> from functrans.scipy.optimize import minimize
    >>> res = minimize(lambda x: fnp.sum((x - 3.0) ** 2), np.zeros(2), method="BFGS")
    >>> np.round(res.x, 6).tolist(), bool(res.success)
    ([3.0, 3.0], True)
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

import functrans.numpy as fnp
from functrans._abstract import dtype_of, shape_of
from functrans.api import value_and_grad
from functrans.lax import while_loop
from functrans.typing import Array, ArrayLike

__all__ = ["OptimizeResults", "minimize"]


class OptimizeResults(NamedTuple):
    """What [`minimize`][functrans.scipy.optimize.minimize] found (JAX's fields).

    Attributes:
        x: The last point, the minimizer when ``success``.
        success: The gradient's norm fell below ``gtol`` and no line search failed.
        status: 0 converged; 1 ``maxiter`` iterations done; 3 the line search's zoom could
            not find a step satisfying the strong Wolfe conditions (usually: ``fun`` is at its
            minimum to within rounding, or its gradient is wrong); 5 the line search ran out
            of iterations; -1 otherwise.
        fun: ``fun(x)``.
        jac: The gradient at ``x``.
        hess_inv: The BFGS estimate of the inverse Hessian at ``x``.
        nfev: Evaluations of ``fun``.
        njev: Evaluations of its gradient (each together with ``fun``).
        nit: Iterations done.

    Example:
        >>> import numpy as np
        >>> import functrans.numpy as fnp
        >>> from functrans.scipy.optimize import minimize
        >>> res = minimize(lambda x: fnp.sum(x ** 2), np.ones(3), method="BFGS")
        >>> res._fields[:4], int(res.status)
        (('x', 'success', 'status', 'fun'), 0)
    """

    x: Array
    success: Array
    status: Array
    fun: Array
    jac: Array
    hess_inv: Array | None
    nfev: Array
    njev: Array
    nit: Array


_METHODS = ("BFGS",)
_BFGS_OPTIONS = ("maxiter", "norm", "gtol", "line_search_maxiter")


def minimize(fun: Callable[..., Any], x0: ArrayLike, args: tuple = (), *, method: str,
             tol: float | None = None,
             options: Mapping[str, Any] | None = None) -> OptimizeResults:
    """Minimize ``fun(x, *args)`` over a 1-D ``x`` from ``x0`` (``jax.scipy.optimize.minimize``).

    ``method="BFGS"`` (the only method, as in JAX): Algorithm 6.1 of Nocedal and Wright's
    *Numerical Optimization*, the gradient taken by ``functrans.value_and_grad``, each step
    chosen by a line search that satisfies the strong Wolfe conditions (their Algorithms 3.5
    and 3.6: bracketing, then zooming by cubic, quadratic or bisection steps), starting from
    the identity as the inverse Hessian. The iteration stops when the gradient's norm is below
    ``gtol``, after ``maxiter`` iterations, or when a line search fails.

    It runs eagerly, under ``jit`` (one staged loop: a new ``x0`` of the same shape reuses
    it) and under ``vmap`` over ``x0`` or ``args`` (every example runs until it is done).
    The result is not differentiable in reverse mode (the loop's trip count is known only
    once it has run); differentiate the optimality condition instead
    (``functrans.implicit``).

    Where JAX's differs: ``tol``, which JAX ignores, sets ``gtol`` as in SciPy (unless
    ``options`` gives one); a zoom whose bracket is ordered high-to-low is not declared
    failed at once (JAX's is, so JAX often stops early with status 3 on problems such as
    Rosenbrock's, where SciPy converges); and after a failed line search ``x``, ``fun`` and
    ``jac`` all describe the best point that search found (JAX's may pair an untried ``x``
    with the ``fun`` of another point); a trial step where ``fun`` is NaN counts as too long,
    so the search shrinks it (JAX's neither shrinks nor accepts it). On every problem where
    JAX's line search succeeds the iterates are JAX's.

    Args:
        fun: ``fun(x, *args)``, a real scalar, differentiable in ``x``.
        x0: The starting point, a 1-D array of real numbers (integers are converted to the
            default float dtype). The iteration computes in its dtype: float32 stays float32.
        args: Further arguments of ``fun``, a tuple.
        method: ``"BFGS"`` (case-insensitive).
        tol: The gradient tolerance ``gtol``, when ``options`` has none.
        options: ``maxiter`` (int, default ``200 * x0.size``), ``gtol`` (default ``1e-5``),
            ``norm`` (the order of the gradient norm compared with ``gtol``, default
            ``inf``) and ``line_search_maxiter`` (default 10).

    Returns:
        An [`OptimizeResults`][functrans.scipy.optimize.OptimizeResults].

    Raises:
        ValueError: an unknown method, or ``x0`` not 1-D.
        TypeError: ``args`` not a tuple, an unknown option, or a complex ``x0``.

    Example:
        >>> import numpy as np
        >>> import functrans as ft, functrans.numpy as fnp
        >>> from functrans.scipy.optimize import minimize
        >>> def rosen(x):
        ...     return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
        >>> res = ft.jit(lambda x0: minimize(rosen, x0, method="BFGS"))(np.zeros(3))
        >>> np.round(res.x, 5).tolist(), bool(res.success), int(res.nit) > 10
        ([1.0, 1.0, 1.0], True, True)
    """
    if not isinstance(args, tuple):
        raise TypeError(f"functrans.scipy.optimize.minimize: args must be a tuple, got a "
                        f"{type(args).__name__}; write args=(a,) for a single argument")
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise ValueError(f"functrans.scipy.optimize.minimize: method {method!r} is not "
                         f"available; the methods are {', '.join(_METHODS)} (as in JAX)")
    options = dict(options or {})
    unknown = sorted(set(options) - set(_BFGS_OPTIONS))
    if unknown:
        raise TypeError(f"functrans.scipy.optimize.minimize: unknown option(s) {unknown} for "
                        f"BFGS; its options are {', '.join(_BFGS_OPTIONS)}")
    if tol is not None:
        options.setdefault("gtol", tol)
    x0 = _as_start(x0)
    state = _bfgs(lambda x: fun(x, *args), x0, **options)
    return OptimizeResults(x=state.x_k, success=state.converged & fnp.logical_not(state.failed),
                           status=state.status, fun=state.f_k, jac=state.g_k, hess_inv=state.H_k,
                           nfev=state.nfev, njev=state.ngev, nit=state.k)


def _as_start(x0: ArrayLike) -> Any:
    """``x0`` as a 1-D array of a real floating dtype, or an error naming the fix."""
    x0 = fnp.asarray(x0)
    dtype = dtype_of(x0)
    if dtype.kind == "c":
        raise TypeError("functrans.scipy.optimize.minimize: x0 is complex; minimize over real "
                        "numbers (pass fnp.concatenate([x.real, x.imag]) and rebuild x in fun)")
    if dtype.kind not in "f":
        x0 = fnp.asarray(x0, dtype=fnp.result_type(float))
    if len(shape_of(x0)) != 1:
        raise ValueError(f"functrans.scipy.optimize.minimize: x0 must be 1-D (as in JAX), got "
                         f"shape {shape_of(x0)}; flatten it (x0.ravel(), or "
                         f"functrans.flatten_util.ravel_pytree for a pytree) and reshape inside "
                         f"fun")
    return x0


# --- BFGS ------------------------------------------------------------------------------------------
class _BFGSState(NamedTuple):
    converged: Any
    failed: Any
    k: Any
    nfev: Any
    ngev: Any
    x_k: Any
    f_k: Any
    g_k: Any
    H_k: Any
    old_old_fval: Any
    status: Any
    line_search_status: Any


def _bfgs(fun: Callable[[Any], Any], x0: Any, maxiter: int | None = None, norm: Any = np.inf,
          gtol: float = 1e-5, line_search_maxiter: int = 10) -> _BFGSState:
    dtype = dtype_of(x0)
    d = shape_of(x0)[0]
    if maxiter is None:
        maxiter = 200 * d
    f_0, g_0 = _value_and_grad(fun, x0, dtype)
    state = _BFGSState(
        converged=fnp.linalg.norm(g_0, ord=norm) < gtol, failed=np.bool_(False), k=0, nfev=1,
        ngev=1, x_k=x0, f_k=f_0, g_k=g_0, H_k=fnp.eye(d, dtype=dtype),
        old_old_fval=f_0 + fnp.linalg.norm(g_0) / 2, status=0, line_search_status=0)

    def cond(s: _BFGSState) -> Any:
        return fnp.logical_not(s.converged) & fnp.logical_not(s.failed) & (s.k < maxiter)

    def body(s: _BFGSState) -> _BFGSState:
        p_k = -(s.H_k @ s.g_k)
        ls = _line_search(fun, s.x_k, p_k, s.f_k, s.old_old_fval, s.g_k, line_search_maxiter)
        s_k = ls.a_k * p_k
        y_k = ls.g_k - s.g_k
        ys = fnp.dot(y_k, s_k)
        # A zero (or non-finite) curvature y.s leaves the estimate as it is.
        ok = fnp.isfinite(ys) & (ys != 0)
        rho = 1 / fnp.where(ok, ys, 1)
        w = fnp.eye(d, dtype=dtype) - rho * fnp.outer(s_k, y_k)
        H = w @ s.H_k @ w.T + rho * fnp.outer(s_k, s_k)
        return s._replace(
            converged=fnp.linalg.norm(ls.g_k, ord=norm) < gtol, failed=ls.failed, k=s.k + 1,
            nfev=s.nfev + ls.nfev, ngev=s.ngev + ls.ngev, x_k=s.x_k + s_k, f_k=ls.f_k,
            g_k=ls.g_k, H_k=fnp.where(ok, H, s.H_k), old_old_fval=s.f_k,
            line_search_status=ls.status)

    state = while_loop(cond, body, state)
    status = fnp.where(state.converged, 0,
                       fnp.where(state.k == maxiter, 1,
                                 fnp.where(state.failed, 2 + state.line_search_status, -1)))
    return state._replace(status=status)


def _value_and_grad(fun: Callable[[Any], Any], x: Any, dtype: Any) -> tuple[Any, Any]:
    """``fun(x)`` and its gradient, in ``x``'s dtype (the loops' carries keep their types)."""
    value, grad = value_and_grad(fun)(x)
    # reshape: a value of shape (1,), which value_and_grad takes, is the scalar of the carry
    return fnp.reshape(fnp.asarray(value, dtype=dtype), ()), fnp.asarray(grad, dtype=dtype)


# --- the line search: Algorithms 3.5 (bracketing) and 3.6 (zoom) of Nocedal and Wright ----------
class _LineSearchResults(NamedTuple):
    failed: Any
    nfev: Any
    ngev: Any
    a_k: Any
    f_k: Any
    g_k: Any
    status: Any


class _SearchState(NamedTuple):
    done: Any
    failed: Any
    i: Any
    a_i1: Any  # the previous trial step, its value, slope and gradient
    phi_i1: Any
    dphi_i1: Any
    g_i1: Any
    nfev: Any
    ngev: Any
    a_star: Any
    phi_star: Any
    dphi_star: Any
    g_star: Any


def _replace_where(state: Any, where: Any, **new: Any) -> Any:
    """``state`` with the fields ``new`` taken where ``where`` holds (one predicate for all)."""
    return state._replace(**{k: fnp.where(where, v, getattr(state, k)) for k, v in new.items()})


def _line_search(fun: Callable[[Any], Any], xk: Any, pk: Any, phi_0: Any, old_old_fval: Any,
                 gfk: Any, maxiter: int, c1: float = 1e-4, c2: float = 0.9) -> _LineSearchResults:
    """A step ``a`` along the descent direction ``pk`` from ``xk`` satisfying the strong Wolfe
    conditions: ``phi(a) <= phi(0) + c1 a phi'(0)`` and ``|phi'(a)| <= -c2 phi'(0)``, for
    ``phi(a) = fun(xk + a pk)``. The first trial is SciPy's and JAX's guess from the last
    decrease, capped at 1; then the step doubles until a bracket is found and zoomed into."""
    dtype = dtype_of(xk)

    def phi(a: Any) -> tuple[Any, Any, Any]:
        value, grad = _value_and_grad(fun, xk + a * pk, dtype)
        return value, fnp.dot(grad, pk), grad

    dphi_0 = fnp.dot(gfk, pk)
    nonzero = dphi_0 != 0
    guess = 1.01 * 2 * (phi_0 - old_old_fval) / fnp.where(nonzero, dphi_0, 1)
    start = fnp.where(nonzero & (guess <= 1), guess, 1)
    zero = fnp.zeros((), dtype)

    def too_high(a: Any, phi_a: Any) -> Any:  # the sufficient decrease fails (or phi is NaN)
        return fnp.logical_not(phi_a <= phi_0 + c1 * a * dphi_0)

    def flat(dphi_a: Any) -> Any:  # the curvature condition holds
        return fnp.abs(dphi_a) <= -c2 * dphi_0

    state = _SearchState(
        done=np.bool_(False), failed=np.bool_(False), i=1, a_i1=zero, phi_i1=phi_0,
        dphi_i1=dphi_0, g_i1=gfk, nfev=0, ngev=0, a_star=zero, phi_star=phi_0, dphi_star=dphi_0,
        g_star=gfk)

    def cond(s: _SearchState) -> Any:
        return fnp.logical_not(s.done) & (s.i <= maxiter) & fnp.logical_not(s.failed)

    def body(s: _SearchState) -> _SearchState:
        a_i = fnp.where(s.i == 1, start, s.a_i1 * 2)
        phi_i, dphi_i, g_i = phi(a_i)
        s = s._replace(nfev=s.nfev + 1, ngev=s.ngev + 1)
        zoom_up = too_high(a_i, phi_i) | ((phi_i >= s.phi_i1) & (s.i > 1))
        accept = flat(dphi_i) & fnp.logical_not(zoom_up)
        zoom_down = (dphi_i >= 0) & fnp.logical_not(zoom_up) & fnp.logical_not(accept)
        # Each zoom runs only when chosen (its loop's predicate is False otherwise).
        z1 = _zoom(phi, too_high, flat, s.a_i1, s.phi_i1, s.dphi_i1, s.g_i1, a_i, phi_i,
                   dphi_i, fnp.logical_not(zoom_up))
        z2 = _zoom(phi, too_high, flat, a_i, phi_i, dphi_i, g_i, s.a_i1, s.phi_i1, s.dphi_i1,
                   fnp.logical_not(zoom_down))
        s = s._replace(nfev=s.nfev + z1.nfev + z2.nfev, ngev=s.ngev + z1.ngev + z2.ngev)
        for chosen, z in ((zoom_up, z1), (zoom_down, z2)):
            s = _replace_where(s, chosen, a_star=z.a_star, phi_star=z.phi_star,
                               dphi_star=z.dphi_star, g_star=z.g_star)
            s = s._replace(done=s.done | chosen, failed=s.failed | (chosen & z.failed))
        s = _replace_where(s, accept, a_star=a_i, phi_star=phi_i, dphi_star=dphi_i, g_star=g_i)
        return s._replace(done=s.done | accept, i=s.i + 1, a_i1=a_i, phi_i1=phi_i,
                          dphi_i1=dphi_i, g_i1=g_i)

    state = while_loop(cond, body, state)
    status = fnp.where(state.failed, 1, fnp.where(state.i > maxiter, 3, 0))
    a_k = state.a_star
    if np.finfo(dtype).bits != 64:
        # Below 64 bits a vanishing step would stall the iteration: floor it (as JAX does).
        a_k = fnp.where(fnp.abs(a_k) < 1e-8, fnp.sign(a_k) * 1e-8, a_k)
    return _LineSearchResults(failed=state.failed | fnp.logical_not(state.done),
                              nfev=state.nfev, ngev=state.ngev, a_k=a_k, f_k=state.phi_star,
                              g_k=state.g_star, status=status)


class _ZoomState(NamedTuple):
    done: Any
    failed: Any
    j: Any
    a_lo: Any  # the end of the bracket with the lower value (satisfies sufficient decrease)
    phi_lo: Any
    dphi_lo: Any
    g_lo: Any
    a_hi: Any
    phi_hi: Any
    dphi_hi: Any
    a_rec: Any  # the previous a_hi or a_lo, the third point of the cubic
    phi_rec: Any
    a_star: Any
    phi_star: Any
    dphi_star: Any
    g_star: Any
    nfev: Any
    ngev: Any


def _zoom(phi: Callable[[Any], tuple[Any, Any, Any]], too_high: Callable[[Any, Any], Any],
          flat: Callable[[Any], Any], a_lo: Any, phi_lo: Any, dphi_lo: Any, g_lo: Any, a_hi: Any,
          phi_hi: Any, dphi_hi: Any, skip: Any) -> _ZoomState:
    """Shrink the bracket ``[a_lo, a_hi]`` (either order) to a step satisfying the strong
    Wolfe conditions; when it fails, the result is the bracket's lower end ``a_lo``."""
    threshold = 1e-10 if np.finfo(dtype_of(a_lo)).bits >= 64 else 1e-5
    state = _ZoomState(
        done=np.bool_(False), failed=np.bool_(False), j=0, a_lo=a_lo, phi_lo=phi_lo,
        dphi_lo=dphi_lo, g_lo=g_lo, a_hi=a_hi, phi_hi=phi_hi, dphi_hi=dphi_hi,
        a_rec=(a_lo + a_hi) / 2, phi_rec=(phi_lo + phi_hi) / 2, a_star=fnp.ones_like(a_lo),
        phi_star=phi_lo, dphi_star=dphi_lo, g_star=g_lo, nfev=0, ngev=0)

    def cond(s: _ZoomState) -> Any:
        return fnp.logical_not(s.done) & fnp.logical_not(skip) & fnp.logical_not(s.failed)

    def body(s: _ZoomState) -> _ZoomState:
        width = s.a_hi - s.a_lo
        lo, hi = fnp.minimum(s.a_hi, s.a_lo), fnp.maximum(s.a_hi, s.a_lo)
        s = s._replace(failed=s.failed | (fnp.abs(width) <= threshold))
        cubic, cubic_ok = _cubicmin(s.a_lo, s.phi_lo, s.dphi_lo, s.a_hi, s.phi_hi, s.a_rec,
                                    s.phi_rec)
        margin = 0.2 * fnp.abs(width)
        use_cubic = cubic_ok & (s.j > 0) & (cubic > lo + margin) & (cubic < hi - margin)
        quad, quad_ok = _quadmin(s.a_lo, s.phi_lo, s.dphi_lo, s.a_hi, s.phi_hi)
        margin = 0.1 * fnp.abs(width)
        use_quad = fnp.logical_not(use_cubic) & quad_ok & (quad > lo + margin) & (quad < hi - margin)
        a_j = fnp.where(use_cubic, cubic, fnp.where(use_quad, quad, (s.a_lo + s.a_hi) / 2))
        phi_j, dphi_j, g_j = phi(a_j)
        s = s._replace(nfev=s.nfev + 1, ngev=s.ngev + 1)

        to_hi = too_high(a_j, phi_j) | (phi_j >= s.phi_lo)
        found = flat(dphi_j) & fnp.logical_not(to_hi)
        to_lo = fnp.logical_not(to_hi) & fnp.logical_not(found)
        swap = (dphi_j * (s.a_hi - s.a_lo) >= 0) & to_lo  # a_j replaces a_lo, a_lo a_hi
        s = _replace_where(s, to_hi, a_hi=a_j, phi_hi=phi_j, dphi_hi=dphi_j, a_rec=s.a_hi,
                           phi_rec=s.phi_hi)
        s = _replace_where(s, found, a_star=a_j, phi_star=phi_j, dphi_star=dphi_j, g_star=g_j)
        s = s._replace(done=s.done | found)
        s = _replace_where(s, swap, a_hi=s.a_lo, phi_hi=s.phi_lo, dphi_hi=s.dphi_lo,
                           a_rec=s.a_hi, phi_rec=s.phi_hi)
        s = _replace_where(s, to_lo & fnp.logical_not(swap), a_rec=s.a_lo, phi_rec=s.phi_lo)
        s = _replace_where(s, to_lo, a_lo=a_j, phi_lo=phi_j, dphi_lo=dphi_j, g_lo=g_j)
        return s._replace(j=s.j + 1, failed=s.failed | (s.j + 1 >= 30))

    state = while_loop(cond, body, state)
    # Not found: the best point seen, so that a step, its value and gradient agree.
    return _replace_where(state, fnp.logical_not(state.done), a_star=state.a_lo,
                          phi_star=state.phi_lo, dphi_star=state.dphi_lo, g_star=state.g_lo)


def _cubicmin(a: Any, fa: Any, fpa: Any, b: Any, fb: Any, c: Any, fc: Any) -> tuple[Any, Any]:
    """The minimizer of the cubic through ``(a, fa)`` with slope ``fpa`` there, ``(b, fb)`` and
    ``(c, fc)``, and whether it exists."""
    db, dc = b - a, c - a
    denom = (db * dc) ** 2 * (db - dc)
    rb, rc = fb - fa - fpa * db, fc - fa - fpa * dc
    ok = denom != 0
    denom = fnp.where(ok, denom, 1)
    A = (dc ** 2 * rb - db ** 2 * rc) / denom
    B = (-(dc ** 3) * rb + db ** 3 * rc) / denom
    radical = B * B - 3 * A * fpa
    ok = ok & (radical >= 0) & (A != 0)
    xmin = a + (-B + fnp.sqrt(fnp.where(ok, radical, 0))) / (3 * fnp.where(ok, A, 1))
    return xmin, ok & fnp.isfinite(xmin)


def _quadmin(a: Any, fa: Any, fpa: Any, b: Any, fb: Any) -> tuple[Any, Any]:
    """The minimizer of the parabola through ``(a, fa)`` with slope ``fpa`` and ``(b, fb)``, and
    whether it exists."""
    db = b - a
    ok = db != 0
    B = (fb - fa - fpa * db) / fnp.where(ok, db * db, 1)
    ok = ok & (B != 0)
    xmin = a - fpa / (2 * fnp.where(ok, B, 1))
    return xmin, ok & fnp.isfinite(xmin)
