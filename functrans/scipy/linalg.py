"""``functrans.scipy.linalg``: SciPy's linear-algebra names, differentiable (built on the
primitives behind functrans.numpy.linalg and on the ``lu`` and ``expm`` primitives; SciPy
itself is not needed)."""
from __future__ import annotations

from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.backend import array_module_of
from functrans.numpy import linalg as _fla
from functrans.numpy._util import any_tracer, inexact, operand
from functrans.primitives import linalg as _la
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.primitives.elementwise import conj
from functrans.scipy._decompositions import eigh_tridiagonal, hessenberg, qr_multiply, rsf2csf, schur
from functrans.scipy._matrix_functions import funm, polar, solve_sylvester, sqrtm
from functrans.scipy._special_matrices import (
    circulant,
    companion,
    convolution_matrix,
    dft,
    fiedler,
    fiedler_companion,
    hadamard,
    hankel,
    helmert,
    hilbert,
    invhilbert,
    invpascal,
    leslie,
    pascal,
    toeplitz,
)
from functrans.typing import Array, ArrayLike

__all__ = ["block_diag", "cho_factor", "cho_solve", "cholesky", "circulant", "companion",
           "convolution_matrix", "det", "dft", "eigh", "eigh_tridiagonal", "expm", "expm_frechet", "fiedler",
           "fiedler_companion", "funm", "hadamard", "hankel", "helmert", "hessenberg", "hilbert", "inv", "invhilbert",
           "invpascal", "leslie", "lu", "lu_factor", "lu_solve", "pascal", "pinv", "polar", "qr",
           "qr_multiply", "rsf2csf", "schur", "solve", "solve_sylvester", "solve_triangular", "sqrtm", "svd",
           "toeplitz"]

pinv = _fla.pinv


def det(a: ArrayLike, overwrite_a: bool = False, check_finite: bool = True) -> Array:
    """The determinant of each ``(..., n, n)`` matrix (``functrans.numpy.linalg.det`` with
    SciPy's arguments); its derivative is the transposed adjugate, ``det(a) * inv(a).T``
    where ``a`` is invertible, and defined at singular matrices too.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> round(float(fsl.det(np.array([[2.0, 1.0], [1.0, 3.0]]))), 12)
        5.0
    """
    return _fla.det(a)


def inv(a: ArrayLike, overwrite_a: bool = False, check_finite: bool = True) -> Array:
    """The inverse of each ``(..., n, n)`` matrix (``functrans.numpy.linalg.inv`` with SciPy's
    arguments).

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.inv(np.array([[2.0, 0.0], [0.0, 4.0]])).tolist()
        [[0.5, 0.0], [0.0, 0.25]]
    """
    return _fla.inv(a)


def svd(a: ArrayLike, full_matrices: bool = True, compute_uv: bool = True, overwrite_a: bool = False,
        check_finite: bool = True, lapack_driver: str = "gesdd") -> Array | tuple[Array, ...]:
    """The singular value decomposition ``a = U @ diag(s) @ Vh`` with SciPy's arguments:
    ``(U, s, Vh)``, or ``s`` alone with ``compute_uv=False``. Derivatives need
    ``full_matrices=False`` for a non-square matrix (see ``functrans.numpy.linalg.svd``).

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.svd(np.array([[3.0, 0.0], [0.0, -2.0]]), compute_uv=False).round(12).tolist()
        [3.0, 2.0]
    """
    if lapack_driver not in ("gesdd", "gesvd"):
        raise ValueError(f"svd: lapack_driver must be 'gesdd' or 'gesvd', got {lapack_driver!r}")
    out = _fla.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


def _as_matrix_rhs(b: Array) -> tuple[Array, bool]:
    """(b as (..., n, k), whether it was a vector)."""
    if len(b.shape) == 1:
        return _shape.reshape(b, (b.shape[0], 1)), True
    return b, False


def solve_triangular(a: ArrayLike, b: ArrayLike, trans: int | str = 0, lower: bool = False,
                     unit_diagonal: bool = False, overwrite_b: bool = False,
                     check_finite: bool = True, *, debug: Any = None) -> Array:
    """The solution ``x`` of ``op(T) @ x = b`` for the lower (``lower=True``) or upper triangle
    ``T`` of ``a``; ``trans`` 0 / ``'N'``: ``T``, 1 / ``'T'``: its transpose, 2 / ``'C'``: its
    conjugate transpose. Differentiable in ``a`` (its triangle) and ``b``. JAX's ``debug``
    is accepted and changes nothing.

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
    # A vector b goes through both solves as one column: with a stack of factors, the first
    # solve gives a stack of vectors, which the second would read as one matrix.
    b2, vector = _as_matrix_rhs(inexact(b))
    if lower:  # L L^H x = b
        y = solve_triangular(c, b2, lower=True)
        x = solve_triangular(c, y, trans=2, lower=True)
    else:
        y = solve_triangular(c, b2, trans=2, lower=False)  # U^H U x = b
        x = solve_triangular(c, y, lower=False)
    return _shape.reshape(x, x.shape[:-1]) if vector else x


# SciPy's names of the structures solve can assume, and the structure each one means here.
_STRUCTURES = {None: "gen", "gen": "gen", "general": "gen", "banded": "gen", "sym": "sym",
               "symmetric": "sym", "her": "her", "hermitian": "her", "pos": "pos",
               "positive definite": "pos", "diagonal": "diagonal", "tridiagonal": "tridiagonal",
               "upper triangular": "upper", "lower triangular": "lower"}


def _from_triangle(a: Array, lower: bool, conjugate: bool) -> Array:
    """The symmetric (``conjugate``: Hermitian) matrix whose ``lower`` (or upper) triangle,
    diagonal included, is that of ``a``: the only part of ``a`` SciPy reads for these."""
    if conjugate:
        return _fla._hermitian_from(a, lower)
    strict = fnp.tril(a, -1) if lower else fnp.triu(a, 1)
    return fnp.tril(fnp.triu(a)) + strict + _fla.matrix_transpose(strict)


def solve(a: ArrayLike, b: ArrayLike, lower: bool = False, overwrite_a: bool = False,
          overwrite_b: bool = False, check_finite: bool = True, assume_a: str | None = "gen",
          transposed: bool = False, *, debug: bool = False) -> Array:
    """The solution of ``a @ x = b``. As in SciPy, ``assume_a`` says which part of ``a`` is
    read: ``'gen'`` (or ``None``, ``'banded'``) all of it; ``'sym'``, ``'her'`` and ``'pos'``
    (a Cholesky factorisation) the ``lower`` triangle if ``lower`` else the upper one;
    ``'upper triangular'``, ``'lower triangular'``, ``'diagonal'`` and ``'tridiagonal'`` that
    part. JAX's ``debug`` is accepted and changes nothing.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0])).tolist()
        [1.0, 0.5]
    """
    structure = _STRUCTURES.get(assume_a) if isinstance(assume_a, (str, type(None))) else None
    if structure is None:
        raise ValueError(f"solve: assume_a={assume_a!r} is not a matrix structure SciPy knows; "
                         f"use one of {sorted(k for k in _STRUCTURES if k)}")
    # The structure picks the part of a that is read; transposed then applies to what was read.
    if structure in ("upper", "lower"):
        return solve_triangular(a, b, trans=int(transposed), lower=structure == "lower")
    a = _fla._matrix(a)
    if structure == "pos":  # a^T = conj(a) for a Hermitian a
        return cho_solve(cho_factor(conj(a) if transposed else a, lower=lower), b)
    b = inexact(b)
    if structure in ("sym", "her"):
        a = _from_triangle(a, lower, conjugate=structure == "her" and a.dtype.kind == "c")
    elif structure != "gen":
        band = 1 if structure == "tridiagonal" else 0
        a = fnp.tril(fnp.triu(a, -band), band)
    if transposed:
        a = _fla.matrix_transpose(a)
    if len(b.shape) >= 2 and len(operand(a).shape) == 2 and not any_tracer(a, b):
        return array_module_of(a, b).linalg.solve(a, b)
    return _fla.solve(a, b)


def eigh(a: ArrayLike, b: ArrayLike | None = None, lower: bool = True, eigvals_only: bool = False,
         overwrite_a: bool = False, overwrite_b: bool = False, turbo: bool = True, eigvals: None = None,
         type: int = 1, check_finite: bool = True, *, subset_by_index: tuple[int, int] | None = None,
         subset_by_value: None = None, driver: str | None = None) -> Array | tuple[Array, Array]:
    """Eigenvalues (ascending) and eigenvectors of each Hermitian matrix, from its lower
    (``lower``) or upper triangle; the standard problem only (``b=None``), as JAX's.
    ``subset_by_index=(lo, hi)`` keeps the eigenvalues ``lo`` to ``hi`` (inclusive, ascending)
    and their eigenvectors, as SciPy. JAX's and SciPy's other arguments (``overwrite_a``,
    ``overwrite_b``, ``turbo``, ``check_finite``, ``driver``) change nothing. Differentiable
    (see docs/linalg.md on repeated eigenvalues).

    Raises:
        NotImplementedError: ``b``, ``type`` other than 1, ``eigvals`` (JAX refuses them too) or
            ``subset_by_value`` (whose result's shape depends on the values) is given.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.eigh(np.array([[2.0, 0.0], [0.0, 1.0]]), eigvals_only=True).tolist()
        [1.0, 2.0]
        >>> fsl.eigh(np.diag([3.0, 1.0, 2.0]), eigvals_only=True, subset_by_index=(1, 2)).tolist()
        [2.0, 3.0]
    """
    for name, given, why in (("b", b is not None, "the generalized problem is not offered (as in JAX)"),
                             ("type", type != 1, "only type=1 is offered (as in JAX)"),
                             ("eigvals", eigvals is not None, "pass subset_by_index=(lo, hi) instead"),
                             ("subset_by_value", subset_by_value is not None,
                              "its result's shape depends on the values; take subset_by_index, or "
                              "select from all eigenvalues")):
        if given:
            raise NotImplementedError(f"functrans.scipy.linalg.eigh({name}=...): {why}")
    w, v = _fla.eigh(a, "L" if lower else "U")
    if subset_by_index is not None:
        n = w.shape[-1]
        lo, hi = (int(i) for i in subset_by_index)
        if not 0 <= lo <= hi < n:
            raise ValueError(f"eigh: subset_by_index must be (lo, hi) with 0 <= lo <= hi < {n}, got {subset_by_index}")
        w, v = w[..., lo:hi + 1], v[..., lo:hi + 1]
    return w if eigvals_only else (w, v)


def qr(a: ArrayLike, overwrite_a: bool = False, lwork: int | None = None, mode: str = "full",
       pivoting: bool = False, check_finite: bool = True) -> Array | tuple[Array, ...]:
    """QR decomposition ``a = Q @ R`` with SciPy's modes: ``'full'`` (``Q`` square, ``m x m``),
    ``'economic'`` (``Q`` of ``min(m, n)`` columns) and ``'r'`` (the tuple ``(R,)``).
    Differentiable for ``m >= n`` (``'full'`` of a tall matrix: values only, as its extra
    columns are arbitrary); column pivoting is not offered.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> q, r = fsl.qr(np.ones((3, 2)))
        >>> q.shape, r.shape
        ((3, 3), (3, 2))
    """
    if pivoting:
        raise NotImplementedError("functrans.scipy.linalg.qr: pivoting=True is not offered; use "
                                  "pivoting=False")
    if mode not in ("full", "economic", "r"):
        raise ValueError(f"functrans.scipy.linalg.qr: mode must be 'full', 'economic' or 'r', got {mode!r}")
    m, n = operand(a).shape[-2:]
    if mode == "r":
        return (_r_factor(a, m, n),)
    numpy_mode = "complete" if mode == "full" and m > n else "reduced"
    q, r = _fla.qr(a, numpy_mode)
    return q, r


def _r_factor(a: ArrayLike, m: int, n: int) -> Array:
    """SciPy's ``R`` of mode ``'r'``: ``m x n`` (zero rows below ``n`` for a tall matrix)."""
    r: Any = _fla.qr(a, "r")
    if m > n:
        r = fnp.pad(r, [(0, 0)] * (len(r.shape) - 2) + [(0, m - n), (0, 0)])
    return r


def lu_factor(a: ArrayLike, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Array, Array]:
    """The LU factorisation with partial pivoting of a square matrix, packed for ``lu_solve``:
    ``(lu, piv)``, ``lu`` holding ``U`` and the strictly lower part of ``L`` (whose diagonal is
    1), ``piv`` LAPACK's row swaps (row ``i`` was swapped with row ``piv[i]``, int32).
    Differentiable in ``a``.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> lu, piv = fsl.lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]]))
        >>> lu.tolist(), piv.tolist()
        ([[3.0, 4.0], [0.3333333333333333, 0.6666666666666667]], [1, 1])
    """
    a = inexact(a)
    if len(a.shape) < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"lu_factor: expected a square matrix (..., n, n), got shape {a.shape}")
    packed, pivots, _ = _la.lu(a)
    return packed, pivots


def lu_solve(lu_and_piv: tuple[ArrayLike, ArrayLike], b: ArrayLike, trans: int = 0, overwrite_b: bool = False,
             check_finite: bool = True) -> Array:
    """The solution of ``a @ x = b`` (``trans=0``), ``a.T @ x = b`` (1) or ``a.conj().T @ x = b``
    (2) from ``lu_factor(a)``: a permutation and two triangular solves, differentiable in the
    factors (so in ``a`` through ``lu_factor``) and in ``b``.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> [round(v, 12) for v in fsl.lu_solve(fsl.lu_factor(a), np.array([5.0, 11.0])).tolist()]
        [1.0, 2.0]
    """
    lu_, piv = lu_and_piv
    lu_, b = inexact(lu_), inexact(b)
    if trans not in (0, 1, 2):
        raise ValueError(f"lu_solve: trans must be 0, 1 or 2, got {trans!r}")
    n = lu_.shape[-1]
    rows = b.shape[-1] if len(b.shape) == 1 else b.shape[-2]  # b: (n,) or a stack (..., n, k)
    if rows != n:
        raise ValueError(f"lu_solve: b of shape {b.shape} has {rows} rows, the factored matrix {n}")
    perm = _la.lu_pivots_to_permutation(operand(piv), n)
    p = _la._permutation_matrix(perm, np.result_type(lu_.dtype, b.dtype))  # p @ x == x[perm]
    b2, vector = _as_matrix_rhs(b)
    if trans == 0:  # L U x = b[perm]
        y = solve_triangular(lu_, fnp.matmul(p, b2), lower=True, unit_diagonal=True)
        x = solve_triangular(lu_, y, lower=False)
    else:  # U^T L^T (x[perm]) = b
        y = solve_triangular(lu_, b2, trans=trans, lower=False)
        x = fnp.matmul(_fla.matrix_transpose(p), solve_triangular(lu_, y, trans=trans, lower=True,
                                                                 unit_diagonal=True))
    return fnp.reshape(x, x.shape[:-1]) if vector else x


def lu(a: ArrayLike, permute_l: bool = False, overwrite_a: bool = False, check_finite: bool = True,
       p_indices: bool = False) -> tuple[Array, ...]:
    """The LU decomposition with partial pivoting ``a = P @ L @ U`` of an ``m x n`` matrix:
    ``(P, L, U)``, ``L`` unit lower triangular (``m x k``), ``U`` upper (``k x n``), ``k =
    min(m, n)``; ``(P @ L, U)`` with ``permute_l=True``; ``P`` as row indices (``a = L[p] @ U``)
    with ``p_indices=True``. Differentiable for square matrices.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> p, l, u = fsl.lu(np.array([[1.0, 2.0], [3.0, 4.0]]))
        >>> p.tolist(), u.tolist()
        ([[0.0, 1.0], [1.0, 0.0]], [[3.0, 4.0], [0.0, 0.6666666666666667]])
    """
    a = inexact(a)
    if len(a.shape) < 2:
        raise ValueError(f"lu: expected a matrix (..., m, n), got shape {a.shape}")
    m, n = a.shape[-2:]
    k = min(m, n)
    packed, _, perm = _la.lu(a)
    lead = (slice(None),) * (len(a.shape) - 2)
    eye_mk = fnp.eye(m, k, dtype=a.dtype, like=a)
    lower = fnp.tril(packed[lead + (slice(None), slice(0, k))], -1) + eye_mk
    upper = fnp.triu(packed[lead + (slice(0, k), slice(None))])
    p = _fla.matrix_transpose(_la._permutation_matrix(perm, a.dtype))  # a = p @ L @ U
    if permute_l:
        return fnp.matmul(p, lower), upper
    if p_indices:
        return fnp.argsort(perm, axis=-1).astype(np.int32), lower, upper
    return p, lower, upper


def expm(A: ArrayLike, *, upper_triangular: bool = False, max_squarings: int = 16) -> Array:
    """The matrix exponential of each ``(..., n, n)`` matrix, by scaling and squaring of a
    Pade approximant of degree 3 to 13 chosen by the 1-norm (Higham 2005). Its derivative is
    the Frechet derivative (``expm_frechet``), computed as a block of the exponential of a
    twice larger matrix. JAX's ``upper_triangular`` (a hint) and ``max_squarings`` (past which
    JAX returns NaN) are accepted and change nothing: every matrix gets as many squarings as
    its norm needs.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.expm(np.array([[0.0, 1.0], [0.0, 0.0]])).round(12).tolist()
        [[1.0, 1.0], [0.0, 1.0]]
    """
    a = inexact(A)
    if len(a.shape) < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"expm: expected square matrices (..., n, n), got shape {a.shape}")
    return _la.expm(a)


def expm_frechet(A: ArrayLike, E: ArrayLike, method: str | None = None, compute_expm: bool = True,
                 check_finite: bool = True) -> Array | tuple[Array, Array]:
    """The Frechet derivative of ``expm`` at ``A`` in the direction ``E`` (the derivative of
    ``expm(A + t E)`` at ``t = 0``), and ``expm(A)`` first when ``compute_expm``.
    Differentiable in both.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.expm_frechet(np.zeros((1, 1)), np.ones((1, 1)), compute_expm=False).round(12).tolist()
        [[1.0]]
    """
    a: Any = inexact(A)
    e: Any = inexact(E)
    if len(a.shape) != 2 or a.shape[0] != a.shape[1] or e.shape != a.shape:
        raise ValueError(f"expm_frechet: A and E must be square matrices of one shape, got {a.shape} "
                         f"and {e.shape}")
    dtype = np.result_type(a.dtype, e.dtype)
    a, e = convert_element_type(a, new_dtype=dtype), convert_element_type(e, new_dtype=dtype)
    frechet = _la.expm_frechet(a, e)
    return (_la.expm(a), frechet) if compute_expm else frechet


def block_diag(*arrs: ArrayLike) -> Array:
    """The block-diagonal matrix of ``arrs`` (0-d and 1-d arguments count as 1 x 1 and 1 x n
    blocks), zeros elsewhere, in their common dtype. Differentiable in every block.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.block_diag(np.ones((1, 2)), 2.0).tolist()
        [[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]]
    """
    if not arrs:
        return fnp.zeros((1, 0))
    blocks: list[Any] = [fnp.atleast_2d(fnp.asarray(operand(x))) for x in arrs]
    for i, x in enumerate(blocks):
        if len(x.shape) != 2:
            raise ValueError(f"block_diag: argument {i} has {len(x.shape)} dimensions; blocks are at most 2-D")
    dtype = np.result_type(*(x.dtype for x in blocks))
    width = sum(x.shape[1] for x in blocks)
    rows, left = [], 0
    for x in blocks:
        right = width - left - x.shape[1]
        rows.append(fnp.pad(fnp.astype(x, dtype), [(0, 0), (left, right)]))
        left += x.shape[1]
    return fnp.concatenate(rows, axis=0)
