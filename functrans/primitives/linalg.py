"""Matrix decompositions and solves: ``solve``, ``triangular_solve``, ``cholesky``, ``eigh``,
``svd``, ``qr``, ``det``, ``slogdet``, ``pinv``.

All act on the last two dimensions, with any leading (batch) dimensions, which the callers
make equal for every operand. Each JVP rule is written with these same primitives and
``dot_general``, so every derivative order follows. ``solve`` and ``triangular_solve`` are
linear in their right-hand side; their transpose is the solve with the transposed matrix
(the plain transpose, not the conjugate one: the cotangent convention of complex numbers
takes care of conjugation, see docs/complex.md).

Derivatives at degenerate points: the eigenvector derivative of ``eigh`` divides by
differences of eigenvalues, and that of ``svd`` by differences of squared singular values,
so they are infinite or NaN when these repeat (the decomposition is not differentiable
there); the eigenvalue and singular value derivatives stay finite. See docs/linalg.md.

Example:
    >>> import numpy as np
    >>> solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([[2.0], [4.0]]))
    array([[1.],
           [1.]])
"""
from __future__ import annotations

import numpy as np

from functrans.backend import array_module, backend_of
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import (
    batch_size,
    bdim_at_front,
    broadcast_in_dim,
    convert_element_type,
    reduce_sum,
    reshape,
    to_front,
    transpose,
)
from functrans.primitives.conversion import constant_like
from functrans.primitives.dot import dot_general
from functrans.primitives.elementwise import add, conj, div, eq, imag, mul, neg, real, select, sub
from functrans.primitives.shape import slice_

# -- helpers over the last two dimensions (batch dimensions in front are shared) ---------------


def _batch(x):
    return tuple(range(x.ndim - 2))


def mm(x, y):
    """Batched matrix product of ``(..., m, k)`` and ``(..., k, n)`` with equal batch shapes."""
    b = _batch(x)
    return dot_general(x, y, (((x.ndim - 1,), (y.ndim - 2,)), (b, b)))


def mT(x):
    nd = x.ndim
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def mH(x):
    x = mT(x)
    return conj(x) if x.dtype.kind == "c" else x


def _is_complex(x):
    return x.dtype.kind == "c"


def _tri(xp, n, m, k, lower):
    return xp.tri(n, m, k, dtype=bool) if lower else ~xp.tri(n, m, k - 1, dtype=bool)


def _eye(xp, n):
    return xp.eye(n, dtype=bool)


def _tri_mask(like, n, m, k, lower):
    """Boolean (lower or upper) triangle mask on the device of ``like`` (a primal value)."""
    return constant_like(like, _tri, n, m, k, lower)


def _eye_mask(like, n):
    """Boolean identity mask on the device of ``like`` (a primal value)."""
    return constant_like(like, _eye, n)


def _diag_part(x):
    """The main diagonal of each ``(..., n, n)`` matrix, shape ``(..., n)``: every (n+1)-th
    entry of the flattened matrix (linear, and no index array to place on a device)."""
    n = x.shape[-1]
    lead = tuple(x.shape[:-2])
    flat = reshape(x, lead + (n * n,))
    k = len(lead)
    return slice_(flat, (0,) * (k + 1), lead + (n * n,), (1,) * k + (n + 1,))


def _matrix_trace(x):
    return reduce_sum(_diag_part(x), (x.ndim - 2,))


def _row(v):
    """``(..., n)`` -> ``(..., 1, n)``."""
    return broadcast_in_dim(v, v.shape[:-1] + (1, v.shape[-1]), tuple(range(v.ndim - 1)) + (v.ndim,))


def _col(v):
    """``(..., n)`` -> ``(..., n, 1)``."""
    return broadcast_in_dim(v, v.shape + (1,), tuple(range(v.ndim)))


def _as_dtype(x, dtype):
    return convert_element_type(x, new_dtype=dtype)


# --- solve: x with a @ x = b (b of shape (..., n, k)) ---------------------------------------------
def _solve_impl(a, b, *, transpose_a):
    xp = array_module(a)
    if transpose_a:
        a = xp.swapaxes(a, -1, -2)
    return xp.linalg.solve(a, b)


solve_p = Primitive("solve")
solve_p.impl = _solve_impl
solve_p.shape_rule = lambda a, b, *, transpose_a: (b.shape, np.result_type(a.dtype, b.dtype))


def _solve_jvp(primals, tangents, *, transpose_a):
    a, b = primals
    t_a, t_b = tangents
    out = solve(a, b, transpose_a)
    if t_a is zero and t_b is zero:
        return out, zero
    rhs = t_b
    if t_a is not zero:
        moved = mm(mT(t_a) if transpose_a else t_a, out)
        rhs = neg(moved) if rhs is zero else sub(rhs, moved)
    return out, solve(a, rhs, transpose_a)


def _solve_transpose(ct, a, b, *, transpose_a):
    return zero, solve(a, ct, not transpose_a)


solve_p.jvp = _solve_jvp
solve_p.transpose = _solve_transpose


def _two_operand_batch(prim):
    """Batching: both operands get the batch axis in front (an unbatched one is broadcast),
    which is a leading batch dimension the implementation already handles."""
    def batch(values, dims, **params):
        size = batch_size(values, dims)
        a, b = (bdim_at_front(v, d, size) for v, d in zip(values, dims))
        return prim.bind(a, b, **params), 0

    prim.batch = batch


def _leading_batch(prim):
    """Batching of a one-operand matrix primitive: the batch axis moves to the front."""
    def batch(values, dims, **params):
        out = prim.bind(to_front(values[0], dims[0]), **params)
        return (out, [0] * len(out)) if prim.multiple_results else (out, 0)

    prim.batch = batch


_two_operand_batch(solve_p)


def solve(a, b, transpose_a: bool = False):
    return solve_p.bind(a, b, transpose_a=transpose_a)


# --- triangular_solve: x with op(T) @ x = b, T the lower or upper triangle of a -----------------------
def _triangle_of(a, lower, unit_diagonal, xp):
    n, backend = a.shape[-1], backend_of(a)
    device = backend.device_of(a)
    t = xp.where(backend.make_like(a, _tri, n, n, 0, lower), a, backend.zeros((), a.dtype, device))
    if unit_diagonal:
        t = xp.where(backend.make_like(a, _eye, n), backend.ones((), a.dtype, device), t)
    return t


def _triangular_solve_impl(a, b, *, lower, transpose_a, unit_diagonal):
    xp = array_module(a)
    t = _triangle_of(a, lower, unit_diagonal, xp)
    if transpose_a:
        t = xp.swapaxes(t, -1, -2)
    return xp.linalg.solve(t, b)


triangular_solve_p = Primitive("triangular_solve")
triangular_solve_p.impl = _triangular_solve_impl
triangular_solve_p.shape_rule = lambda a, b, **params: (b.shape, np.result_type(a.dtype, b.dtype))


def _triangular_solve_jvp(primals, tangents, *, lower, transpose_a, unit_diagonal):
    a, b = primals
    t_a, t_b = tangents
    params = {"lower": lower, "transpose_a": transpose_a, "unit_diagonal": unit_diagonal}
    out = triangular_solve_p.bind(a, b, **params)
    if t_a is zero and t_b is zero:
        return out, zero
    rhs = t_b
    if t_a is not zero:
        n = a.shape[-1]
        strict = (-1 if lower else 1) if unit_diagonal else 0  # the diagonal is 1, not read
        mask = _tri_mask(a, n, n, strict, lower)
        d_tri = select(mask, t_a, 0)
        moved = mm(mT(d_tri) if transpose_a else d_tri, out)
        rhs = neg(moved) if rhs is zero else sub(rhs, moved)
    return out, triangular_solve_p.bind(a, rhs, **params)


def _triangular_solve_transpose(ct, a, b, *, lower, transpose_a, unit_diagonal):
    return zero, triangular_solve_p.bind(a, ct, lower=lower, transpose_a=not transpose_a,
                                         unit_diagonal=unit_diagonal)


triangular_solve_p.jvp = _triangular_solve_jvp
triangular_solve_p.transpose = _triangular_solve_transpose
_two_operand_batch(triangular_solve_p)


def triangular_solve(a, b, lower: bool, transpose_a: bool = False, unit_diagonal: bool = False):
    return triangular_solve_p.bind(a, b, lower=lower, transpose_a=transpose_a,
                                   unit_diagonal=unit_diagonal)


# --- cholesky: lower L with L @ L^H = a (a Hermitian positive definite; its lower triangle is read) ---
cholesky_p = Primitive("cholesky")
cholesky_p.impl = lambda a: array_module(a).linalg.cholesky(a)
cholesky_p.shape_rule = lambda a: (a.shape, a.dtype)


def _cholesky_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    low = cholesky_p.bind(a)
    if t is zero:
        return low, zero
    # The input is taken as Hermitian: only the Hermitian part of the tangent matters.
    t = mul(add(t, mH(t)), 0.5)
    # dL = L phi(L^-1 dA L^-H), phi = lower triangle with the diagonal halved.
    left = triangular_solve(low, t, lower=True)
    inner = mH(triangular_solve(low, mH(left), lower=True))
    n = a.shape[-1]
    half = constant_like(a, _lower_with_half_diagonal, n, a.dtype)
    return low, mm(low, mul(inner, half))


cholesky_p.jvp = _cholesky_jvp
_leading_batch(cholesky_p)


def cholesky(a):
    return cholesky_p.bind(a)


# --- eigh: eigenvalues (ascending) and eigenvectors of a Hermitian matrix ------------------------------
eigh_p = Primitive("eigh", multiple_results=True)
eigh_p.impl = lambda a: tuple(array_module(a).linalg.eigh(a))
eigh_p.shape_rule = lambda a: [(a.shape[:-1], np.dtype(a.dtype.char.lower()) if _is_complex(a)
                                else a.dtype), (a.shape, a.dtype)]


def _lower_with_half_diagonal(xp, n, dtype):
    return (xp.tri(n, n, 0, dtype=dtype) - 0.5 * xp.eye(n, dtype=dtype)).astype(dtype)


def _off_diagonal_reciprocal(diffs, n):
    """1 / diffs off the diagonal, 0 on it (no division by the diagonal's zeros)."""
    eye = _eye_mask(diffs, n)
    return select(eye, 0.0, div(1.0, select(eye, 1.0, diffs)))


def _eigh_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    w, v = eigh_p.bind(a)
    if t is zero:
        return (w, v), (zero, zero)
    t = mul(add(t, mH(t)), 0.5)
    vdv = mm(mH(v), mm(t, v))  # the tangent in the eigenbasis
    diag = _diag_part(vdv)
    t_w = real(diag) if _is_complex(vdv) else diag
    n = a.shape[-1]
    f = _off_diagonal_reciprocal(sub(_row(w), _col(w)), n)  # F[i, j] = 1 / (w_j - w_i)
    if _is_complex(a):
        f = _as_dtype(f, a.dtype)
    t_v = mm(v, mul(f, vdv))
    return (w, v), (t_w, t_v)


eigh_p.jvp = _eigh_jvp
_leading_batch(eigh_p)


def eigh(a):
    return eigh_p.bind(a)


# --- eig: eigenvalues and unit eigenvectors of a general square matrix (always complex) --------------
def _complex_dtype(dtype):
    return np.result_type(dtype, np.complex64)


def _eig_impl(a):
    w, v = array_module(a).linalg.eig(a)
    dtype = _complex_dtype(a.dtype)
    return w.astype(dtype, copy=False), v.astype(dtype, copy=False)


eig_p = Primitive("eig", multiple_results=True)
eig_p.impl = _eig_impl
eig_p.shape_rule = lambda a: [(a.shape[:-1], _complex_dtype(a.dtype)), (a.shape, _complex_dtype(a.dtype))]


def _eig_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    w, v = eig_p.bind(a)
    if t is zero:
        return (w, v), (zero, zero)
    vinv_t_v = solve(v, mm(t, v))  # the tangent in the eigenbasis, V^-1 dA V
    t_w = _diag_part(vinv_t_v)
    n = a.shape[-1]
    f = _off_diagonal_reciprocal(sub(_row(w), _col(w)), n)  # F[i, j] = 1 / (w_j - w_i)
    t_v = mm(v, mul(f, vinv_t_v))
    # keep each eigenvector at unit length, as LAPACK returns them
    along = real(reduce_sum(mul(conj(v), t_v), (v.ndim - 2,)))
    t_v = sub(t_v, mul(v, _as_dtype(_row(along), v.dtype)))
    return (w, v), (t_w, t_v)


eig_p.jvp = _eig_jvp
_leading_batch(eig_p)


def eig(a):
    return eig_p.bind(a)


# --- svd: a = u @ diag(s) @ vh, singular values descending ----------------------------------------------
def _svd_impl(a, *, full_matrices):
    return tuple(array_module(a).linalg.svd(a, full_matrices=full_matrices))


def _svd_shape(a, *, full_matrices):
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    real_dtype = np.dtype(a.dtype.char.lower()) if _is_complex(a) else a.dtype
    u_cols, v_rows = (m, n) if full_matrices else (k, k)
    return [(batch + (m, u_cols), a.dtype), (batch + (k,), real_dtype), (batch + (v_rows, n), a.dtype)]


svd_p = Primitive("svd", multiple_results=True)
svd_p.impl = _svd_impl
svd_p.shape_rule = _svd_shape


def _svd_jvp(primals, tangents, *, full_matrices):
    (a,), (t,) = primals, tangents
    u, s, vh = svd_p.bind(a, full_matrices=full_matrices)
    if t is zero:
        return (u, s, vh), (zero, zero, zero)
    m, n = a.shape[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            "The derivative of svd(full_matrices=True) of a non-square matrix is not defined "
            "(the extra singular vectors are arbitrary); use full_matrices=False.")
    cplx = _is_complex(a)
    v = mH(vh)
    ds_mat = mm(mH(u), mm(t, v))  # U^H dA V
    diag = _diag_part(ds_mat)
    t_s = real(diag) if cplx else diag
    k = min(m, n)
    s_row, s_col = _row(s), _col(s)
    f = _off_diagonal_reciprocal(mul(add(s_row, s_col), sub(s_row, s_col)), k)  # 1/(s_j^2 - s_i^2)
    s_row_c = _as_dtype(s_row, a.dtype) if cplx else s_row
    s_col_c = _as_dtype(s_col, a.dtype) if cplx else s_col
    f_c = _as_dtype(f, a.dtype) if cplx else f
    ds_s = mul(ds_mat, s_row_c)   # dS diag(s)
    s_ds = mul(s_col_c, ds_mat)   # diag(s) dS
    t_u_core = mul(f_c, add(ds_s, mH(ds_s)))
    if cplx:
        # the imaginary part of the diagonal of dS fixes the phase of the singular vectors
        zero_s = eq(s, 0)
        s_inv = select(zero_s, 0.0, div(1.0, select(zero_s, 1.0, s)))
        eye = _eye_mask(s, k)
        phase = mul(mul(sub(ds_mat, mH(ds_mat)), 0.5), select(eye, _as_dtype(_row(s_inv), a.dtype), 0))
        t_u_core = add(t_u_core, phase)
    t_u = mm(u, t_u_core)
    t_v = mm(v, mul(f_c, add(s_ds, mH(s_ds))))
    if m > n:
        dav = mm(t, v)
        t_u = add(t_u, div(sub(dav, mm(u, mm(mH(u), dav))), s_row_c))
    if n > m:
        dahu = mm(mH(t), u)
        t_v = add(t_v, div(sub(dahu, mm(v, mm(vh, dahu))), s_row_c))
    return (u, s, vh), (t_u, t_s, mH(t_v))


svd_p.jvp = _svd_jvp
_leading_batch(svd_p)


def svd(a, full_matrices: bool = False):
    return svd_p.bind(a, full_matrices=full_matrices)


# --- qr: a = q @ r, q with orthonormal columns, r upper triangular (reduced) -----------------------------
qr_p = Primitive("qr", multiple_results=True)
qr_p.impl = lambda a: tuple(array_module(a).linalg.qr(a, mode="reduced"))


def _qr_shape(a):
    m, n = a.shape[-2:]
    k = min(m, n)
    return [(a.shape[:-2] + (m, k), a.dtype), (a.shape[:-2] + (k, n), a.dtype)]


qr_p.shape_rule = _qr_shape


def _qr_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    q, r = qr_p.bind(a)
    if t is zero:
        return (q, r), (zero, zero)
    m, n = a.shape[-2:]
    if m < n:
        raise NotImplementedError("The derivative of qr is implemented for matrices with at least "
                                  "as many rows as columns.")
    # dA R^-1 as the transpose of R^-T dA^T
    dx_rinv = mT(triangular_solve(r, mT(t), lower=False, transpose_a=True))
    qt_dx_rinv = mm(mH(q), dx_rinv)
    low = select(_tri_mask(r, n, n, -1, True), qt_dx_rinv, 0)
    omega = sub(low, mH(low))  # antisymmetric (anti-Hermitian) part
    if _is_complex(a):
        eye = _eye_mask(r, n)
        omega = add(omega, select(eye, mul(imag(qt_dx_rinv), 1j), 0))
    t_q = add(mm(q, sub(omega, qt_dx_rinv)), dx_rinv)
    t_r = mm(sub(qt_dx_rinv, omega), r)
    return (q, r), (t_q, t_r)


qr_p.jvp = _qr_jvp
_leading_batch(qr_p)


def qr(a):
    return qr_p.bind(a)


# --- det: d det(A) = det(A) trace(A^-1 dA) ---------------------------------------------------------
det_p = Primitive("det")
det_p.impl = lambda a: array_module(a).linalg.det(a)
det_p.shape_rule = lambda a: (a.shape[:-2], a.dtype)


def _det_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    out = det_p.bind(a)
    if t is zero:
        return out, zero
    return out, mul(out, _matrix_trace(solve(a, t)))


det_p.jvp = _det_jvp
_leading_batch(det_p)

# --- slogdet: (sign, log|det|); d log|det| = Re tr(A^-1 dA), d sign = i Im tr(A^-1 dA) sign ------------
slogdet_p = Primitive("slogdet", multiple_results=True)
slogdet_p.impl = lambda a: tuple(array_module(a).linalg.slogdet(a))
slogdet_p.shape_rule = lambda a: [(a.shape[:-2], a.dtype),
                                  (a.shape[:-2], np.dtype(a.dtype.char.lower()) if _is_complex(a)
                                   else a.dtype)]


def _slogdet_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    sign, logdet = slogdet_p.bind(a)
    if t is zero:
        return (sign, logdet), (zero, zero)
    tr = _matrix_trace(solve(a, t))
    if not _is_complex(a):
        return (sign, logdet), (zero, tr)
    return (sign, logdet), (mul(sign, mul(imag(tr), 1j)), real(tr))


slogdet_p.jvp = _slogdet_jvp
_leading_batch(slogdet_p)


# --- pinv: the Moore-Penrose pseudo-inverse, with singular values below rcond * max cut off -------------
def _pinv_impl(a, *, rcond):
    return array_module(a).linalg.pinv(a, rcond=rcond)


pinv_p = Primitive("pinv")
pinv_p.impl = _pinv_impl
pinv_p.shape_rule = lambda a, *, rcond: (a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)


def _pinv_jvp(primals, tangents, *, rcond):
    (a,), (t,) = primals, tangents
    p = pinv_p.bind(a, rcond=rcond)
    if t is zero:
        return p, zero
    # dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P   (Golub and Pereyra, 1973)
    t_h = mH(t)
    p_h = mH(p)
    first = neg(mm(p, mm(t, p)))
    second = mm(mm(p, p_h), sub(t_h, mm(t_h, mm(a, p))))
    third = sub(mm(t_h, mm(p_h, p)), mm(mm(p, a), mm(t_h, mm(p_h, p))))
    return p, add(add(first, second), third)


pinv_p.jvp = _pinv_jvp
_leading_batch(pinv_p)


def pinv(a, rcond: float = 1e-15):
    return pinv_p.bind(a, rcond=rcond)

