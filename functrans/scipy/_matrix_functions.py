"""The polar decomposition, the matrix square root and the Sylvester equation, for
``functrans.scipy.linalg``: differentiable, batched over leading dimensions."""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.api import custom_jvp
from functrans.numpy import linalg as _fla
from functrans.numpy._util import any_tracer, host_values, inexact
from functrans.primitives import linalg as _la
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.primitives.linalg import mH
from functrans.scipy._decompositions import rsf2csf, schur
from functrans.typing import Array, ArrayLike

__all__ = ["funm", "polar", "solve_sylvester", "sqrtm"]


@custom_jvp
def _polar_unitary(a: Array) -> Array:
    """``U @ Vh`` of the reduced SVD ``a = U diag(s) Vh``: the unitary polar factor."""
    u, _, vh = _fla.svd(a, full_matrices=False)
    return u @ vh


@_polar_unitary.defjvp
def _polar_unitary_jvp(primals: tuple[Array, ...], tangents: tuple[Array, ...]) -> tuple[Array, Array]:
    # With X = U^H dA V: dQ = U ((X - X^H) / (s_i + s_j)) V^H, plus, for a tall matrix, the part
    # of dA outside the range of U, (I - U U^H) dA V diag(1/s) V^H (a wide one: the transpose
    # of that). Only sums of singular values divide, so repeated ones are no obstacle.
    (a,), (t,) = primals, tangents
    u, s, vh = _fla.svd(a, full_matrices=False)
    v = mH(vh)
    x = mH(u) @ t @ v
    sums = s[..., :, None] + s[..., None, :]
    tangent = u @ ((x - mH(x)) / fnp.astype(sums, x.dtype)) @ vh
    m, n = a.shape[-2:]
    inverse_s = fnp.astype(1.0 / s, a.dtype)[..., None, :]
    if m > n:
        tangent = tangent + (t - u @ (mH(u) @ t)) @ (v * inverse_s) @ vh
    elif m < n:
        tangent = tangent + (u * inverse_s) @ mH(u) @ (t - (t @ v) @ vh)
    return u @ vh, tangent


def polar(a: ArrayLike, side: str = "right", *, method: str | None = None, eps: float | None = None,
          max_iterations: int | None = None) -> tuple[Array, Array]:
    """The polar decomposition ``a = u @ p`` (``side='right'``) or ``a = p @ u``
    (``'left'``): ``u`` with orthonormal columns (rows, for a wide ``a``) and ``p`` Hermitian
    positive semi-definite, ``n x n`` (right) or ``m x m`` (left). Computed from the SVD
    ``a = U diag(s) Vh`` as ``u = U @ Vh``. Batched over leading dimensions, and
    differentiable where ``a`` has full rank: the derivative of ``u`` divides by sums of
    singular values, so it is finite where singular values repeat (the SVD's own derivative is
    not). JAX's ``method`` (``'qdwh'`` or ``'svd'``), ``eps`` and ``max_iterations`` are
    accepted and change nothing.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> u, p = fsl.polar(np.array([[0.0, 2.0], [-3.0, 0.0]]))
        >>> u.round(12).tolist(), p.round(12).tolist()
        ([[0.0, 1.0], [-1.0, 0.0]], [[3.0, 0.0], [0.0, 2.0]])
    """
    if side not in ("right", "left"):
        raise ValueError(f"polar: side must be 'right' or 'left', got {side!r}")
    if method not in (None, "qdwh", "svd"):
        raise ValueError(f"polar: method must be 'qdwh' or 'svd', got {method!r}")
    x = _fla._matrix(a, "a")
    u = _polar_unitary(x)
    p = mH(u) @ x if side == "right" else x @ mH(u)
    return u, 0.5 * (p + mH(p))


def _as_matrices(*arrays: ArrayLike) -> list[Any]:
    values = [inexact(x) for x in arrays]
    dtype = np.result_type(*(x.dtype for x in values))
    return [convert_element_type(x, new_dtype=dtype) for x in values]


def solve_sylvester(a: ArrayLike, b: ArrayLike, q: ArrayLike, *, method: str = "schur",
                    tol: float = 1e-8) -> Array:
    """The ``X`` with ``a @ X + X @ b = q`` (``a``: ``n x n``, ``b``: ``m x m``, ``q`` and
    ``X``: ``n x m``), with leading batch dimensions (broadcast). Up to 1024 unknowns the
    ``n m x n m`` linear system is solved directly (by LU, for any ``a`` and ``b``); beyond,
    through the eigendecompositions of ``a`` and ``b``, and a result that falls short of full
    accuracy there (``a`` or ``b`` defective or nearly so) raises ``LinAlgError`` instead of
    being returned. Differentiable in all three: the derivative solves the same equation.
    JAX's ``method`` and ``tol`` are accepted and change nothing.

    Raises:
        LinAlgError: ``a`` and ``-b`` share an eigenvalue (no unique solution), or the
            eigenvector method falls short.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> a, b = np.array([[1.0, 2.0], [0.0, 3.0]]), np.array([[4.0]])
        >>> fsl.solve_sylvester(a, b, np.ones((2, 1))).round(12).tolist()
        [[0.142857142857], [0.142857142857]]
    """
    if method not in ("schur", "eigen"):
        raise ValueError(f"solve_sylvester: method must be 'schur' or 'eigen', got {method!r}")
    a, b, q = _as_matrices(a, b, q)
    for name, x in (("a", a), ("b", b)):
        if len(x.shape) < 2 or x.shape[-1] != x.shape[-2]:
            raise ValueError(f"solve_sylvester: {name} must be square matrices (..., k, k), got shape {x.shape}")
    if len(q.shape) < 2 or q.shape[-2:] != (a.shape[-1], b.shape[-1]):
        raise ValueError(f"solve_sylvester: q must have shape (..., {a.shape[-1]}, {b.shape[-1]}) for a of shape "
                         f"{a.shape} and b of shape {b.shape}, got {q.shape}")
    batch = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]), tuple(q.shape[:-2]))
    a, b, q = (_shape.broadcast_to(x, batch + tuple(x.shape[-2:])) for x in (a, b, q))
    return _la.sylvester(a, b, q)


def sqrtm(A: ArrayLike, blocksize: int = 1) -> Array:
    """The principal square root ``X`` of each square matrix (``X @ X = A``, the eigenvalues
    of ``X`` in the right half plane). Always complex, as in JAX (SciPy returns real values
    when they are), so that the type does not depend on the values. From the
    eigendecomposition, or by the Denman-Beavers iteration where the eigenvectors are too
    ill-conditioned (a defective ``A``); every result is checked. Differentiable: the
    derivative ``dX`` solves ``X dX + dX X = dA``. ``blocksize`` is accepted and changes
    nothing.

    Raises:
        LinAlgError: ``A`` has no square root (a singular ``A`` with a nilpotent part) or is
            too close to one.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.sqrtm(np.array([[4.0, 1.0], [0.0, 9.0]])).real.round(12).tolist()
        [[2.0, 0.2], [0.0, 3.0]]
    """
    a = _fla._matrix(A, "A")
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"sqrtm: expected square matrices (..., n, n), got shape {a.shape}")
    return _la.sqrtm(a)


def funm(A: ArrayLike, func: Callable[[Array], Array], disp: bool = True) -> Array | tuple[Array, Array]:
    """The matrix function ``f(A)`` of a square matrix, given the scalar function ``f`` as
    ``func`` (applied elementwise to an array of eigenvalues, written with functrans.numpy):
    from the complex Schur form ``A = Z T Z^H``, ``f(T)``'s diagonal is ``func`` of ``T``'s,
    and the entries above it follow by Parlett's recurrence (Golub and Van Loan, Algorithm
    11.1.1), as in SciPy and JAX. Always complex, as JAX's (SciPy returns real values when the
    imaginary parts are negligible), so that the type does not depend on the values.

    The recurrence divides by differences of eigenvalues: where eigenvalues repeat (or nearly)
    the result is inaccurate or wrong (as SciPy's and JAX's). ``disp=False`` returns the
    estimate of the relative error with it, SciPy's: near 1 then. With ``disp=True`` and
    known values (not under ``jit``/``vmap``) an estimate above 1000 epsilon warns with a
    ``RuntimeWarning`` (SciPy prints it). Built on ``schur``: host only, and no derivative,
    as in JAX.

    Args:
        A: an ``(n, n)`` matrix.
        func: the scalar function, taking and returning an array of complex numbers.
        disp: return the result alone (True) or ``(result, error estimate)``.

    Raises:
        ValueError: ``A`` is not a square matrix.

    Example:
        >>> import functrans.numpy as fnp, functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.funm(np.array([[1.0, 3.0], [1.0, 4.0]]), lambda x: x * x).real.round(10).tolist()
        [[4.0, 15.0], [5.0, 19.0]]
    """
    a = _fla._matrix(A, "A")
    if len(a.shape) != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"funm: expected a square matrix (n, n), got shape {a.shape}")
    t, z = rsf2csf(*schur(a))
    n = t.shape[0]
    eigenvalues = fnp.diagonal(t)
    f = fnp.diag(fnp.astype(fnp.asarray(func(eigenvalues)), t.dtype))
    # Parlett: superdiagonal p of f from the ones below it. With entry (i, i + p) still 0,
    # (T f - f T)[i, i + p] is T[i, j] (f[j, j] - f[i, i]) + sum over i < k < j of
    # T[i, k] f[k, j] - f[i, k] T[k, j]: the recurrence's numerator.
    gaps = [fnp.abs(eigenvalues[:1])]
    for p in range(1, n):
        numerator = fnp.diagonal(t @ f - f @ t, offset=p)
        den = eigenvalues[p:] - eigenvalues[:-p]
        gaps.append(fnp.abs(den))
        zero_den = den == 0  # SciPy's and JAX's choice there: the numerator undivided
        f = f + fnp.diag(fnp.where(zero_den, numerator, numerator / fnp.where(zero_den, 1.0, den)), k=p)
    f = z @ f @ mH(z)
    tol = float(np.finfo(f.dtype).eps)
    smallest = fnp.min(fnp.concatenate(gaps), initial=np.inf)  # (none for a 0 x 0 matrix)
    smallest = fnp.where(smallest == 0.0, tol, smallest)
    above = fnp.max(fnp.sum(fnp.abs(fnp.triu(t, 1)), axis=0), initial=0.0)  # the 1-norm of T's strict upper part
    err = fnp.minimum(1.0, fnp.maximum(tol, (tol / smallest) * above))
    err = fnp.where(fnp.all(fnp.isfinite(f)), err, np.inf)
    if disp:
        if not any_tracer(err) and host_values(err > 1000 * tol):
            warnings.warn(f"funm: the result may be inaccurate, approximate relative error "
                          f"{float(host_values(err)):.3g} (eigenvalues of A repeat, or nearly); "
                          "disp=False returns the estimate", RuntimeWarning, stacklevel=2)
        return f
    return f, err
