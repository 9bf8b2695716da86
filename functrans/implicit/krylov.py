"""Matrix-free Krylov solvers of linear systems (conjugate gradients, restarted GMRES) over
pytrees, whose derivatives are solves of the same system, not derivatives of the iterations."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans import tree
from functrans._abstract import dtype_of, shape_of
from functrans.backend import device_get
from functrans.core.staging import stage_closed
from functrans.core.trace import transforming
from functrans.lax.custom_root import batch_as_block, custom_linear_solve
from functrans.typing import PyTree

__all__ = ["cg", "gmres"]

Operator = Callable[[Any], Any]


def _operator(a: Any, what: str) -> Operator:
    """A matrix (2-d array) or a linear function, as a function."""
    if callable(a):
        return a
    if getattr(a, "ndim", None) == 2:
        return lambda x: fnp.matmul(a, x)
    raise TypeError(
        f"{what} must be a square matrix (a 2-d array) or a linear function of x, got "
        f"{type(a).__name__}{' of shape ' + str(tuple(a.shape)) if hasattr(a, 'shape') else ''}."
    )


def _checked(name: str, b: PyTree, M: Any) -> Operator:
    """The preconditioner as a function (the identity for ``None``), after checking that b is
    real and that M holds no traced value: M steers the iterations, which run on concrete
    values, and never the solution, so it gets no derivative and must be known."""
    leaves, treedef = tree.flatten(b)
    for i, leaf in enumerate(leaves):
        if dtype_of(leaf).kind != "f":
            raise TypeError(
                f"{name}: leaf {i} of b has dtype {dtype_of(leaf)}; this solver works on real "
                "floating-point values. Split a complex system into its real and imaginary parts."
            )
    if M is None:
        return lambda x: x
    precondition = _operator(M, "M")
    if transforming():
        avals = [(tuple(shape_of(x)), dtype_of(x)) for x in leaves]
        _, traced = stage_closed(lambda xs: tree.leaves(precondition(treedef.unflatten(xs))), avals, name)
        if traced:
            raise ValueError(
                f"{name}: the preconditioner M holds a value traced by a transformation (an "
                "argument of jit, grad or vmap). M changes only how fast the solver converges, "
                "not the solution, and is applied to concrete values: build it from constants "
                "(outside the transformed function, or from NumPy arrays)."
            )
    return precondition


class _Flat:
    """A pytree of arrays as one vector: ``ravel`` and ``unravel`` between the two."""

    def __init__(self, like: PyTree):
        leaves, self.treedef = tree.flatten(like)
        self.shapes = [tuple(fnp.shape(x)) for x in leaves]
        self.sizes = [math.prod(s) for s in self.shapes]
        self.size = sum(self.sizes)

    def ravel(self, value: PyTree) -> Any:
        leaves = tree.leaves(value)
        if len(leaves) == 1:
            return fnp.reshape(leaves[0], (-1,))
        return fnp.concatenate([fnp.reshape(x, (-1,)) for x in leaves])

    def unravel(self, v: Any) -> PyTree:
        leaves = []
        start = 0
        for shape, size in zip(self.shapes, self.sizes):
            leaves.append(fnp.reshape(v[start:start + size], shape))
            start += size
        return self.treedef.unflatten(leaves)

    def wrap(self, fun: Operator) -> Operator:
        """``fun`` of pytrees as a function of vectors."""
        return lambda v: self.ravel(fun(self.unravel(v)))


def _norm(v: Any) -> float:  # (read from the device explicitly: the loop branches on it)
    return float(device_get(fnp.linalg.norm(v)))


def _dot(a: Any, b: Any) -> float:
    return float(device_get(fnp.vdot(a, b)))


def _shifted(matvec: Operator, b: PyTree, x0: PyTree | None) -> tuple[PyTree, Callable[[PyTree], PyTree]]:
    """The system from a starting point: A y = b - A x0, x = x0 + y. A Krylov method started at
    x0 on b makes the same iterates as started at 0 on b - A x0, and x0 stays an ordinary
    (differentiable, traceable) value outside the solve."""
    if x0 is None:
        return b, lambda y: y
    if tree.structure(x0) != tree.structure(b):
        raise ValueError(
            f"x0 must have the structure of b ({tree.structure(b)}), got {tree.structure(x0)}."
        )
    ax0 = matvec(x0)
    rhs = tree.map(lambda bi, ai: bi - ai, b, ax0)
    return rhs, lambda y: tree.map(lambda xi, yi: xi + yi, x0, y)


def _cg_solve(matvec: Operator, b: PyTree, *, tol: float, atol: float, maxiter: int | None,
              precondition: Operator) -> PyTree:
    """Preconditioned conjugate gradients from 0, on concrete values."""
    flat = _Flat(b)
    a = flat.wrap(matvec)
    m = flat.wrap(precondition)
    bv = flat.ravel(b)
    threshold = max(tol * _norm(bv), atol)
    x = fnp.zeros_like(bv)
    r = bv
    z = m(r)
    p = z
    rz = _dot(r, z)
    for _ in range(10 * flat.size if maxiter is None else maxiter):
        if _norm(r) <= threshold:
            break
        ap = a(p)
        alpha = rz / _dot(p, ap)
        x = x + alpha * p
        r = r - alpha * ap
        z = m(r)
        rz, rz_old = _dot(r, z), rz
        p = z + (rz / rz_old) * p
    return flat.unravel(x)


def cg(A: Any, b: PyTree, x0: PyTree | None = None, *, tol: float = 1e-5, atol: float = 0.0,
       maxiter: int | None = None, M: Any = None) -> tuple[PyTree, None]:
    """Solve A x = b for a symmetric positive definite A by conjugate gradients.

    A is a matrix or a linear function (pytree in, pytree out, of b's structure), applied only
    through products, so it need never be formed. The iterations run on concrete values and are
    never differentiated: the derivative of x is another solve (x' = A^{-1}(b' - A' x); in
    reverse mode the cotangent of b is A^{-1} ct, A being symmetric), with respect to b and to
    any value A closes over, in forward and reverse mode, to any order, under ``jit`` and
    ``vmap``.

    Args:
        A: the matrix, or the function x -> A x.
        b: the right-hand side, an array or a pytree of arrays.
        x0: the starting point (zeros by default); it does not change the solution.
        tol: stop when ||b - A x|| <= max(tol * ||b||, atol) (2-norm over all leaves).
        atol: the absolute part of that test.
        maxiter: the most iterations (10 times the number of unknowns by default).
        M: a preconditioner approximating A^{-1} (a matrix or a function), symmetric positive
            definite; it must not be traced (it changes the iterations, not the solution).

    Returns:
        ``(x, None)``: the solution, and ``None`` in place of SciPy's convergence flag (as JAX's
        ``cg``: the flag could not follow ``x`` through ``jit`` and ``vmap``).

    Example:
        >>> import numpy as np, functrans as ft
        >>> a = np.array([[4.0, 1.0], [1.0, 3.0]])
        >>> x, _ = cg(a, np.array([1.0, 2.0]), tol=1e-12)
        >>> np.allclose(a @ x, [1.0, 2.0])
        True
        >>> g = ft.grad(lambda b: cg(a, b, tol=1e-12)[0].sum())(np.array([1.0, 2.0]))
        >>> np.allclose(g, np.linalg.solve(a, np.ones(2)))
        True
    """
    matvec = _operator(A, "A")
    precondition = _checked("cg", b, M)
    rhs, finish = _shifted(matvec, b, x0)

    @batch_as_block  # (a batch of SPD systems is one block-diagonal SPD system)
    def solve(mv: Operator, b_: PyTree) -> PyTree:
        return _cg_solve(mv, b_, tol=tol, atol=atol, maxiter=maxiter, precondition=precondition)

    return finish(custom_linear_solve(matvec, rhs, solve, symmetric=True)), None


def _givens(h: np.ndarray, g: np.ndarray, cs: np.ndarray, sn: np.ndarray, k: int) -> None:
    """Bring column ``k`` of the Hessenberg matrix ``h`` to upper-triangular form: apply the
    earlier rotations, then a new one that zeroes ``h[k + 1, k]``, rotating ``g`` (the
    right-hand side, whose last entry is then the residual's norm) along. On the host."""
    for j in range(k):
        top = cs[j] * h[j, k] + sn[j] * h[j + 1, k]
        h[j + 1, k] = -sn[j] * h[j, k] + cs[j] * h[j + 1, k]
        h[j, k] = top
    norm = math.hypot(h[k, k], h[k + 1, k])
    cs[k], sn[k] = (1.0, 0.0) if norm == 0.0 else (h[k, k] / norm, h[k + 1, k] / norm)
    h[k, k], h[k + 1, k] = norm, 0.0
    g[k + 1] = -sn[k] * g[k]
    g[k] = cs[k] * g[k]


def _gmres_solve(matvec: Operator, b: PyTree, *, tol: float, atol: float, restart: int,
                 maxiter: int | None, precondition: Operator) -> PyTree:
    """Restarted GMRES from 0 with right preconditioning (A M y = b, x = M y), on concrete
    values: the Arnoldi basis by classical Gram-Schmidt done twice (two matrix products per
    step, as stable as modified Gram-Schmidt), the small least-squares problem by Givens
    rotations on the host."""
    flat = _Flat(b)
    a = flat.wrap(matvec)
    m = flat.wrap(precondition)
    bv = flat.ravel(b)
    threshold = max(tol * _norm(bv), atol)
    x = fnp.zeros_like(bv)
    r = bv
    beta = _norm(r)
    restart = max(1, min(restart, flat.size))
    for _ in range(10 * flat.size if maxiter is None else maxiter):
        if beta <= threshold:
            break
        basis = fnp.reshape(r / beta, (1, -1))  # the Arnoldi vectors, as rows
        h = np.zeros((restart + 1, restart))  # host-data: the small Hessenberg matrix
        g = np.zeros(restart + 1)  # host-data: its right-hand side, rotated along
        g[0] = beta
        cs = np.zeros(restart)  # host-data: the rotations' cosines
        sn = np.zeros(restart)  # host-data: and sines
        k = 0
        while k < restart:
            w = a(m(basis[k]))
            first = fnp.matmul(basis, w)
            w = w - fnp.matmul(first, basis)
            second = fnp.matmul(basis, w)
            w = w - fnp.matmul(second, basis)
            h[:k + 1, k] = device_get(first + second)
            h[k + 1, k] = next_norm = _norm(w)
            _givens(h, g, cs, sn, k)
            k += 1
            if abs(g[k]) <= threshold or next_norm <= 1e-14 * beta:
                break
            basis = fnp.concatenate([basis, fnp.reshape(w / next_norm, (1, -1))])
        coef = np.zeros(k)  # host-data: back substitution in the k x k triangle
        for i in range(k - 1, -1, -1):
            coef[i] = (g[i] - h[i, i + 1:k] @ coef[i + 1:]) / h[i, i]
        update = basis[0] * float(coef[0])
        for j in range(1, k):
            update = update + basis[j] * float(coef[j])
        x = x + m(update)
        r = bv - a(x)
        beta = _norm(r)
    return flat.unravel(x)


def gmres(A: Any, b: PyTree, x0: PyTree | None = None, *, tol: float = 1e-5, atol: float = 0.0,
          restart: int = 20, maxiter: int | None = None, M: Any = None,
          solve_method: str = "batched") -> tuple[PyTree, None]:
    """Solve A x = b for a general (non-singular) A by restarted GMRES.

    A is a matrix or a linear function (pytree in, pytree out, of b's structure), applied only
    through products. The iterations run on concrete values and are never differentiated: the
    derivative of x is a solve of the same system in forward mode and of the transposed system
    (A^T, recorded by transposing A) in reverse mode, with respect to b and to any value A
    closes over, to any order, under ``jit`` and ``vmap``.

    Args:
        A: the matrix, or the function x -> A x (real values).
        b: the right-hand side, an array or a pytree of arrays.
        x0: the starting point (zeros by default); it does not change the solution.
        tol: stop when ||b - A x|| <= max(tol * ||b||, atol).
        atol: the absolute part of that test.
        restart: the size of the Krylov space built before each restart.
        maxiter: the most restart cycles (10 times the number of unknowns by default).
        M: a preconditioner approximating A^{-1} (a matrix or a function, not traced), applied
            on the right, so the residual tested is that of the original system.
        solve_method: ``"batched"`` or ``"incremental"``, JAX's names, accepted for ported code;
            both run the same algorithm (modified Gram-Schmidt, a least-squares solve per step).

    Returns:
        ``(x, None)``: the solution, and ``None`` in place of SciPy's convergence flag.

    Example:
        >>> import numpy as np, functrans as ft
        >>> a = np.array([[3.0, 1.0], [-1.0, 2.0]])
        >>> x, _ = gmres(a, np.array([1.0, 0.0]), tol=1e-12)
        >>> np.allclose(x, np.linalg.solve(a, [1.0, 0.0]))
        True
        >>> g = ft.grad(lambda b: gmres(a, b, tol=1e-12)[0][0])(np.array([1.0, 0.0]))
        >>> np.allclose(g, np.linalg.inv(a)[0])
        True
    """
    if solve_method not in ("batched", "incremental"):
        raise ValueError(f"gmres: solve_method must be 'batched' or 'incremental', got {solve_method!r}.")
    if restart < 1:
        raise ValueError(f"gmres: restart must be a positive number of steps, got {restart}.")
    matvec = _operator(A, "A")
    precondition = _checked("gmres", b, M)
    rhs, finish = _shifted(matvec, b, x0)

    @batch_as_block
    def solve(mv: Operator, b_: PyTree) -> PyTree:
        return _gmres_solve(mv, b_, tol=tol, atol=atol, restart=restart, maxiter=maxiter,
                            precondition=precondition)

    return finish(custom_linear_solve(matvec, rhs, solve, transpose_solve=solve)), None
