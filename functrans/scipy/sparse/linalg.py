"""``scipy.sparse.linalg``'s iterative solvers by SciPy's names and arguments: ``cg`` and
``gmres`` of ``functrans.implicit``, differentiable through the implicit rule.

SciPy's ``rtol`` and JAX's ``tol`` are both accepted (the same relative tolerance). The second
result is ``None``, as in ``jax.scipy.sparse.linalg``: a convergence flag could not follow the
solution through ``jit`` and ``vmap``.
"""
from __future__ import annotations

from typing import Any

from functrans.implicit import krylov
from functrans.typing import PyTree

__all__ = ["cg", "gmres"]


def _relative_tolerance(name: str, rtol: float | None, tol: float | None) -> float:
    if rtol is not None and tol is not None:
        raise TypeError(f"{name}: give rtol (SciPy's name) or tol (JAX's), not both.")
    return 1e-5 if rtol is None and tol is None else float(rtol if rtol is not None else tol)  # type: ignore[arg-type]


def cg(A: Any, b: PyTree, x0: PyTree | None = None, *, rtol: float | None = None, atol: float = 0.0,
       maxiter: int | None = None, M: Any = None, tol: float | None = None) -> tuple[PyTree, None]:
    """Solve A x = b (A symmetric positive definite) by conjugate gradients, as SciPy's ``cg``.

    See ``functrans.implicit.cg``: A is a matrix or a linear function over pytrees, and the
    derivative of x with respect to b and to what A closes over is another solve.

    Args:
        A: the matrix, or the function x -> A x.
        b: the right-hand side.
        x0: the starting point (zeros by default).
        rtol: relative tolerance on the residual's norm (1e-5 by default); ``tol`` is its
            JAX name.
        atol: absolute tolerance on the residual's norm.
        maxiter: the most iterations.
        M: a preconditioner approximating A^{-1}.
        tol: the same as ``rtol``.

    Returns:
        ``(x, None)``.

    Example:
        >>> import numpy as np
        >>> a = np.array([[4.0, 1.0], [1.0, 3.0]])
        >>> x, info = cg(a, np.array([1.0, 2.0]), rtol=1e-10)
        >>> np.allclose(x, np.linalg.solve(a, [1.0, 2.0])), info
        (True, None)
    """
    return krylov.cg(A, b, x0, tol=_relative_tolerance("cg", rtol, tol), atol=atol, maxiter=maxiter, M=M)


def gmres(A: Any, b: PyTree, x0: PyTree | None = None, *, rtol: float | None = None, atol: float = 0.0,
          restart: int | None = None, maxiter: int | None = None, M: Any = None, tol: float | None = None,
          solve_method: str = "batched") -> tuple[PyTree, None]:
    """Solve A x = b by restarted GMRES, as SciPy's ``gmres``.

    See ``functrans.implicit.gmres``: A is a matrix or a linear function over pytrees, and the
    derivative of x is a solve (of the transposed system in reverse mode).

    Args:
        A: the matrix, or the function x -> A x.
        b: the right-hand side.
        x0: the starting point (zeros by default).
        rtol: relative tolerance on the residual's norm (1e-5 by default); ``tol`` is its
            JAX name.
        atol: absolute tolerance on the residual's norm.
        restart: the Krylov space's size before each restart (20 by default, as SciPy's).
        maxiter: the most restart cycles.
        M: a preconditioner approximating A^{-1}.
        tol: the same as ``rtol``.
        solve_method: JAX's argument, accepted for ported code (one algorithm serves both).

    Returns:
        ``(x, None)``.

    Example:
        >>> import numpy as np
        >>> a = np.array([[3.0, 1.0], [-1.0, 2.0]])
        >>> x, _ = gmres(a, np.array([1.0, 0.0]), rtol=1e-10)
        >>> bool(np.allclose(x, np.linalg.solve(a, [1.0, 0.0])))
        True
    """
    return krylov.gmres(A, b, x0, tol=_relative_tolerance("gmres", rtol, tol), atol=atol,
                        restart=20 if restart is None else restart, maxiter=maxiter, M=M,
                        solve_method=solve_method)
