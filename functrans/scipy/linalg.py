"""``functrans.scipy.linalg``: SciPy's linear-algebra names, differentiable (built on the
primitives behind functrans.numpy.linalg; SciPy itself is not needed)."""
from __future__ import annotations

from typing import Any

import numpy as np

from functrans.backend import array_module_of
from functrans.numpy import linalg as _fla
from functrans.numpy._util import any_tracer, inexact, operand
from functrans.primitives import linalg as _la
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.primitives.elementwise import conj
from functrans.typing import Array, ArrayLike

__all__ = ["cho_factor", "cho_solve", "cholesky", "det", "eigh", "inv", "lu_solve", "pinv", "qr",
           "solve", "solve_triangular", "svd"]

det = _fla.det
inv = _fla.inv
pinv = _fla.pinv
svd = _fla.svd
qr = _fla.qr


def _as_matrix_rhs(b: Array) -> tuple[Array, bool]:
    """(b as (..., n, k), whether it was a vector)."""
    if len(b.shape) == 1:
        return _shape.reshape(b, (b.shape[0], 1)), True
    return b, False


def solve_triangular(a: ArrayLike, b: ArrayLike, trans: int | str = 0, lower: bool = False,
                     unit_diagonal: bool = False, overwrite_b: bool = False,
                     check_finite: bool = True) -> Array:
    """The solution ``x`` of ``op(T) @ x = b`` for the lower (``lower=True``) or upper triangle
    ``T`` of ``a``; ``trans`` 0 / ``'N'``: ``T``, 1 / ``'T'``: its transpose, 2 / ``'C'``: its
    conjugate transpose. Differentiable in ``a`` (its triangle) and ``b``.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 2.0]), lower=True).tolist()
        [1.0, 1.0]
    """
    a, b = inexact(a), inexact(b)
    trans = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}[trans]
    dtype = np.result_type(a.dtype, b.dtype)
    a = convert_element_type(a, new_dtype=dtype)
    b = convert_element_type(b, new_dtype=dtype)
    if trans == 2 and a.dtype.kind == "c":
        a = conj(a)
    b2, vector = _as_matrix_rhs(b)
    if len(a.shape) > 2:
        batch = np.broadcast_shapes(a.shape[:-2], b2.shape[:-2])
        a = _shape.broadcast_to(a, batch + a.shape[-2:])
        b2 = _shape.broadcast_to(b2, batch + b2.shape[-2:])
    out = _la.triangular_solve(a, b2, lower=lower, transpose_a=trans != 0, unit_diagonal=unit_diagonal)
    return _shape.reshape(out, out.shape[:-1]) if vector else out


def cholesky(a: ArrayLike, lower: bool = False, overwrite_a: bool = False,
             check_finite: bool = True) -> Array:
    """The Cholesky factor: upper ``U`` with ``U^H @ U = a`` by default (SciPy's convention),
    lower with ``lower=True``.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.cholesky(np.array([[4.0, 2.0], [2.0, 2.0]])).tolist()
        [[2.0, 1.0], [0.0, 1.0]]
    """
    return _fla.cholesky(a, upper=not lower)


def cho_factor(a: ArrayLike, lower: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> tuple[Array, bool]:
    """``(c, lower)`` for ``cho_solve``: the Cholesky factor (the other triangle is zero here).

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> c, low = fsl.cho_factor(np.array([[4.0, 2.0], [2.0, 2.0]]))
        >>> low
        False
    """
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower: tuple[ArrayLike, bool], b: ArrayLike, overwrite_b: bool = False,
              check_finite: bool = True) -> Array:
    """The solution of ``a @ x = b`` given ``cho_factor(a)``: two triangular solves.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> a = np.array([[4.0, 2.0], [2.0, 2.0]])
        >>> fsl.cho_solve(fsl.cho_factor(a), np.array([6.0, 4.0])).tolist()
        [1.0, 1.0]
    """
    c, lower = c_and_lower
    if lower:  # L L^H x = b
        y = solve_triangular(c, b, lower=True)
        return solve_triangular(c, y, trans=2, lower=True)
    y = solve_triangular(c, b, trans=2, lower=False)  # U^H U x = b
    return solve_triangular(c, y, lower=False)


def solve(a: ArrayLike, b: ArrayLike, lower: bool = False, overwrite_a: bool = False,
          overwrite_b: bool = False, check_finite: bool = True, assume_a: str = "gen",
          transposed: bool = False) -> Array:
    """The solution of ``a @ x = b`` (``assume_a='pos'`` uses a Cholesky factorisation).

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0])).tolist()
        [1.0, 0.5]
    """
    if transposed:
        a = _fla.matrix_transpose(a)
    if assume_a in ("pos", "positive definite"):
        return cho_solve(cho_factor(a, lower=True), b)
    b = inexact(b)
    if len(b.shape) >= 2 and len(operand(a).shape) == 2 and not any_tracer(a, b):
        return array_module_of(a, b).linalg.solve(a, b)
    return _fla.solve(a, b)


def eigh(a: ArrayLike, b: ArrayLike | None = None, lower: bool = True, eigvals_only: bool = False,
         **kwargs: Any) -> Array | tuple[Array, Array]:
    """Eigenvalues and eigenvectors of a Hermitian matrix (the standard problem only).

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.eigh(np.array([[2.0, 0.0], [0.0, 1.0]]), eigvals_only=True).tolist()
        [1.0, 2.0]
    """
    if b is not None:
        raise NotImplementedError("functrans.scipy.linalg.eigh solves the standard problem (b=None)")
    w, v = _fla.eigh(a, "L" if lower else "U")
    return w if eigvals_only else (w, v)


def lu_solve(lu_and_piv: tuple[ArrayLike, ArrayLike], b: ArrayLike, trans: int = 0, overwrite_b: bool = False,
             check_finite: bool = True) -> Array:
    """Not provided (it raises ``NotImplementedError``): use ``solve``, which factorises and
    solves in one step.

    Example:
        >>> import functrans.scipy.linalg as fsl
        >>> fsl.lu_solve is not None
        True
    """
    raise NotImplementedError("functrans.scipy.linalg.lu_solve is not provided; use solve(a, b)")
