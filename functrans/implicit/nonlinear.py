"""Fixed points and roots of functions of parameters, differentiated with respect to the
parameters by the implicit function theorem instead of through the iterations."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans import tree
from functrans.api import jacfwd, jvp
from functrans.backend import device_get
from functrans.errors import NotConvergedError
from functrans.implicit.krylov import _Flat, gmres
from functrans.lax.custom_root import batch_as_block, custom_root
from functrans.typing import PyTree

__all__ = ["NotConvergedError", "fixed_point", "root"]

Solver = Callable[[Callable[[Any], Any], Any], Any]
LinearSolver = Callable[[Callable[[Any], Any], Any], Any]

# Newton's steps are solved with a dense Jacobian up to this many unknowns, by GMRES above.
_DENSE_NEWTON_MAX = 200


def _max_abs(value: PyTree) -> float:
    leaves = tree.leaves(value)
    return max((float(device_get(fnp.max(fnp.abs(x)))) for x in leaves if fnp.size(x)),
               default=0.0)


def _resolution(x: PyTree) -> float:
    """Four machine epsilons of the least precise dtype among the leaves: no iteration can be
    asked to settle more finely than that."""
    return 4 * max((float(fnp.finfo(fnp.result_type(leaf)).eps) for leaf in tree.leaves(x)), default=0.0)


def _check_settings(fn: str, tol: Any, max_iter: Any) -> None:
    """A tolerance that is a number >= 0 and an iteration limit that is a positive int."""
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) or not tol >= 0:
        raise ValueError(f"{fn}: tol must be a number >= 0, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"{fn}: max_iter must be a positive int, got {max_iter!r}")


def _gmres_solver(tol: float) -> LinearSolver:
    """The default linear solver of the implicit rule: GMRES to ``tol``, matrix-free."""

    @batch_as_block
    def solve(matvec: Callable[[Any], Any], y: Any) -> Any:
        return gmres(matvec, y, tol=max(tol, _resolution(y)), atol=0.0, restart=30)[0]

    return solve


def fixed_point(g: Callable[..., Any], x0: PyTree, *params: Any, tol: float = 1e-10, max_iter: int = 1000,
                solver: Solver | None = None, linear_solver: LinearSolver | None = None) -> PyTree:
    """The fixed point x* = g(x*, *params), found by iteration, differentiable in ``params``.

    Eagerly and under ``jit`` the iteration x <- g(x, *params) runs in Python on concrete
    values until max |x_new - x| <= tol * (1 + max |x|) (tol raised to four machine epsilons of
    x's dtype if it is finer). Its derivative with respect to
    ``params`` (and to any value ``g`` closes over) comes from the implicit function theorem on
    f(x) = g(x, params) - x: x*' = (I - dg/dx)^{-1} dg/dparams params', a linear system solved
    matrix-free (GMRES on Jacobian-vector products; the transposed system, on vector-Jacobian
    products, in reverse mode). No iteration is recorded, so the memory of ``grad`` does not
    grow with the number of iterations. ``x0`` gets no derivative: the fixed point does not
    depend on it. Forward and reverse mode, higher orders, ``jit`` and ``vmap`` work.

    Args:
        g: the map, ``g(x, *params)`` returning a pytree of x's structure and shapes.
        x0: the starting point, an array or a pytree of arrays.
        *params: the parameters, differentiable (pytrees of arrays).
        tol: the convergence test's tolerance, relative to the size of x.
        max_iter: the most iterations; reaching it raises ``NotConvergedError``.
        solver: optionally ``solver(h, x0) -> x*`` finding a fixed point of ``h(x) = g(x,
            *params)`` in place of plain iteration (Anderson acceleration, say).
        linear_solver: optionally ``linear_solver(matvec, y) -> t`` solving matvec(t) = y for
            the implicit derivative (GMRES by default).

    Returns:
        The fixed point, of the structure of ``x0``.

    Raises:
        NotConvergedError: the iteration did not converge within ``max_iter`` steps.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> x = fixed_point(lambda x, a: np.cos(x) * a, np.array(0.5), 1.0)
        >>> round(float(x), 6)
        0.739085
        >>> dx = ft.grad(lambda a: fixed_point(lambda x, a: fnp.cos(x) * a, np.array(0.5), a))(1.0)
        >>> bool(np.isclose(dx, np.cos(x) / (1 + np.sin(x))))
        True
    """

    _check_settings("fixed_point", tol, max_iter)

    def f(x: PyTree) -> PyTree:
        return tree.map(lambda gi, xi: gi - xi, g(x, *params), x)

    def solve(f_: Callable[[PyTree], PyTree], x: PyTree) -> PyTree:
        if solver is not None:
            return solver(lambda x_: tree.map(lambda fi, xi: xi + fi, f_(x_), x_), x)
        settled = max(tol, _resolution(x))
        for _ in range(max_iter):
            change = f_(x)  # g(x) - x
            x = tree.map(lambda ci, xi: xi + ci, change, x)
            size = _max_abs(change)
            if size <= settled * (1.0 + _max_abs(x)):
                return x
        raise NotConvergedError(
            f"fixed_point: no fixed point within max_iter={max_iter} iterations (the last step "
            f"changed x by {size:.3g}, the tolerance is {tol:g} relative). Raise max_iter, "
            "loosen tol, or start closer; plain iteration converges only where g is a "
            "contraction (its Jacobian in x of spectral radius below 1)."
        )

    return custom_root(f, x0, batch_as_block(solve) if solver is None else solve,
                       linear_solver or _gmres_solver(min(tol, 1e-8)))


def _newton(tol: float, max_iter: int) -> Solver:
    """Newton's method, stopping at max |f(x)| <= tol, or when a step no longer changes x
    beyond the dtype's resolution (a residual that rounding keeps above tol)."""

    @batch_as_block  # (a batch of systems is one block-diagonal system: Newton solves it whole)
    def solve(f: Callable[[PyTree], PyTree], x0: PyTree) -> PyTree:
        flat = _Flat(x0)
        f_flat = flat.wrap(f)
        x = flat.ravel(x0)
        residual = f_flat(x)
        size = _max_abs(residual)
        resolution = _resolution(x)
        moved = math.inf
        for _ in range(max_iter):
            if size <= tol or moved <= resolution * (1.0 + _max_abs(x)):
                return flat.unravel(x)
            if flat.size <= _DENSE_NEWTON_MAX:
                try:
                    step = fnp.linalg.solve(jacfwd(f_flat)(x), residual)
                except np.linalg.LinAlgError as error:
                    raise NotConvergedError(
                        f"root: the Jacobian of f is singular at a Newton iterate (max |f(x)| = "
                        f"{size:.3g}), so Newton's method cannot continue. Start elsewhere (x0), or "
                        "pass a solver that copes with singular points (solver=...)."
                    ) from error
            else:
                step = gmres(lambda t, x=x: jvp(f_flat, (x,), (t,))[1], residual, tol=1e-12)[0]
            x = x - step
            moved = _max_abs(step)
            residual = f_flat(x)
            size = _max_abs(residual)
        if size <= tol or moved <= resolution * (1.0 + _max_abs(x)):
            return flat.unravel(x)
        raise NotConvergedError(
            f"root: Newton's method did not bring max |f(x)| below tol={tol:g} within "
            f"max_iter={max_iter} steps (it is {size:.3g}). Start closer (x0), raise max_iter or "
            "loosen tol; or check that f has a root there with an invertible Jacobian."
        )

    return solve


def root(f: Callable[..., Any], x0: PyTree, *params: Any, solver: Solver | None = None, tol: float = 1e-10,
         max_iter: int = 50, linear_solver: LinearSolver | None = None) -> PyTree:
    """A root x* of f(x, *params) = 0 near ``x0``, differentiable in ``params``.

    By default Newton's method: the Jacobian in x comes from forward mode, and each step is a
    dense solve (up to 200 unknowns) or GMRES on Jacobian-vector products; it stops when
    max |f(x)| <= tol, or when a step no longer moves x beyond four machine epsilons. The
    derivative with respect to ``params`` (and to any value ``f`` closes over) comes from the
    implicit function theorem, x*' = -(df/dx)^{-1} df/dparams params', a linear system solved
    matrix-free; the iterations are never recorded. Forward and reverse
    mode, higher orders, ``jit`` and ``vmap`` work.

    Args:
        f: the function, ``f(x, *params)`` returning a pytree of x's structure and shapes (a
            square system).
        x0: the starting point, an array or a pytree of arrays.
        *params: the parameters, differentiable (pytrees of arrays).
        solver: optionally ``solver(h, x0) -> x*`` finding a root of ``h(x) = f(x, *params)``
            in place of Newton's method.
        tol: Newton's stopping test, on max |f(x)|.
        max_iter: the most Newton steps; reaching it raises ``NotConvergedError``.
        linear_solver: optionally ``linear_solver(matvec, y) -> t`` solving matvec(t) = y for
            the implicit derivative (GMRES by default).

    Returns:
        The root, of the structure of ``x0``.

    Raises:
        NotConvergedError: Newton's method did not converge within ``max_iter`` steps.

    Example:
        >>> import numpy as np, functrans as ft
        >>> cube_root = lambda a: root(lambda x, a: x ** 3 - a, np.array(1.0), a)
        >>> round(float(cube_root(8.0)), 8), round(float(ft.grad(cube_root)(8.0)), 8)
        (2.0, 0.08333333)
    """

    _check_settings("root", tol, max_iter)

    def h(x: PyTree) -> PyTree:
        return f(x, *params)

    solve = solver or _newton(tol, max_iter)
    return custom_root(h, x0, solve, linear_solver or _gmres_solver(min(tol, 1e-8)))

