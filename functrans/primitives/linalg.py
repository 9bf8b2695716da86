"""Matrix decompositions and solves: ``solve``, ``triangular_solve``, ``sylvester`` (``A X + X B =
C``), ``cholesky``, ``eigh``, ``svd``, ``qr``, ``lu``, ``det`` with the ``adjugate``, ``slogdet``,
``pinv``, the principal square root ``sqrtm``, the Schur form ``schur`` (no derivative), and the
matrix exponential ``expm`` with its Frechet derivative ``expm_frechet`` (linear in its
direction).

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

import math

import numpy as np

from functrans import errors
from functrans.backend import array_module, backend_of, to_host
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
    zeros_like,
)
from functrans.primitives.conversion import constant_like
from functrans.primitives.cumulative import cumprod_last
from functrans.primitives.dot import dot_general
from functrans.primitives.elementwise import add, conj, div, eq, imag, mul, neg, real, select, sub
from functrans.primitives.shape import pad, rev, slice_

LinAlgError = np.linalg.LinAlgError

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


def _on_host(x):
    """The value of a 0-d array of the implementation, copied to the host by its backend: the
    one explicit read (on a GPU, a wait for the device) of every decision these make on values."""
    return to_host(x)[()]


def _nan_where_refused(routine, a, *rest):
    """``routine(a, *rest)`` over a batch, where NumPy's routine refuses one matrix by raising
    for the whole batch (a singular one for ``solve``, one not positive definite for
    ``cholesky``, one with a NaN for ``eigh``, ``svd``, ``eig``): then each matrix on its own,
    NaNs for the ones it refuses. JAX's results are non-finite there and the other matrices
    stand, and the primitives (traced calls: jit, vmap, grad) follow JAX; functrans.numpy's
    eager calls on plain arrays raise as NumPy before reaching them. (CuPy does not raise:
    its results are non-finite there already.) ``routine`` returns an array or a tuple."""
    try:
        return routine(a, *rest)
    except LinAlgError:
        xp = array_module(a)
        lead = a.shape[:-2]
        count = math.prod(lead)
        a, rest = a.reshape((count,) + a.shape[-2:]), [r.reshape((count,) + r.shape[len(lead):]) for r in rest]
        parts = []
        for i in range(count):
            try:
                part = routine(a[i], *(r[i] for r in rest))
            except LinAlgError:  # the shapes and dtypes of a matrix it takes, filled with NaN
                stand_in = routine(_identity_like(a[i], *a.shape[-2:]), *(r[i] for r in rest))
                part = tuple(xp.full_like(p, math.nan) for p in stand_in) if isinstance(stand_in, tuple) \
                    else xp.full_like(stand_in, math.nan)
            parts.append(part)
        if isinstance(parts[0], tuple):
            return tuple(xp.stack([p[k] for p in parts]).reshape(lead + parts[0][k].shape)
                         for k in range(len(parts[0])))
        return xp.stack(parts).reshape(lead + parts[0].shape)


# --- solve: x with a @ x = b (b of shape (..., n, k)) ---------------------------------------------
def _solve_impl(a, b, *, transpose_a):
    xp = array_module(a)
    if transpose_a:
        a = xp.swapaxes(a, -1, -2)
    return _nan_where_refused(xp.linalg.solve, a, b)


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


def _operands_batch(prim):
    """Batching: every operand gets the batch axis in front (an unbatched one is broadcast),
    which is a leading batch dimension the implementation already handles."""
    def batch(values, dims, **params):
        size = batch_size(values, dims)
        return prim.bind(*(bdim_at_front(v, d, size) for v, d in zip(values, dims)), **params), 0

    prim.batch = batch


def _leading_batch(prim):
    """Batching of a one-operand matrix primitive: the batch axis moves to the front."""
    def batch(values, dims, **params):
        out = prim.bind(to_front(values[0], dims[0]), **params)
        return (out, [0] * len(out)) if prim.multiple_results else (out, 0)

    prim.batch = batch


_operands_batch(solve_p)


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
    return _nan_where_refused(xp.linalg.solve, t, b)


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
_operands_batch(triangular_solve_p)


def triangular_solve(a, b, lower: bool, transpose_a: bool = False, unit_diagonal: bool = False):
    return triangular_solve_p.bind(a, b, lower=lower, transpose_a=transpose_a,
                                   unit_diagonal=unit_diagonal)


# --- sylvester: X with A X + X B = C (A: (..., n, n), B: (..., m, m), C: (..., n, m)), linear in C ---
# Up to _KRONECKER_SIZE unknowns the n m x n m system (A (x) I + I (x) B^T) vec(X) = vec(C) is
# solved by LU (backward stable for any A and B); beyond, through the eigendecompositions of
# A and B, whose result is checked: a residual the eigenvector bases spoiled (A or B defective
# or nearly so) raises instead of returning a wrong X.
_KRONECKER_SIZE = 1024


def _identity(xp, n, dtype, m=None):
    return xp.eye(n, m, dtype=dtype)


def _identity_like(x, n, m=None):
    """The ``n x n`` identity (``n x m`` given ``m``) in the dtype and on the device of ``x``."""
    return backend_of(x).make_like(x, _identity, n, x.dtype, m)


def _sylvester_by_kronecker(xp, a, b, c):
    n, m = a.shape[-1], b.shape[-1]
    batch = c.shape[:-2]
    eye_n, eye_m = _identity_like(c, n), _identity_like(c, m)
    left = a[..., :, None, :, None] * eye_m[:, None, :]  # A (x) I_m, row-major vec
    right = eye_n[:, None, :, None] * xp.swapaxes(b, -1, -2)[..., None, :, None, :]  # I_n (x) B^T
    system = (left + right).reshape(batch + (n * m, n * m))
    try:
        return xp.linalg.solve(system, c.reshape(batch + (n * m, 1))).reshape(c.shape)
    except LinAlgError:
        raise LinAlgError("solve_sylvester: A and -B share an eigenvalue, so A X + X B = C has no unique "
                          "solution") from None


def _sylvester_by_eig(xp, a, b, c):
    if not _on_host(xp.all(xp.isfinite(a)) & xp.all(xp.isfinite(b)) & xp.all(xp.isfinite(c))):
        return xp.full_like(c, math.nan)  # as the direct solve gives NaNs (eig refuses them)
    try:
        wa, va = xp.linalg.eig(a)
        wb, vb = xp.linalg.eig(b)
        rotated = xp.linalg.solve(va, c @ vb) / (wa[..., :, None] + wb[..., None, :])  # V_A^-1 X V_B
        x = va @ xp.swapaxes(xp.linalg.solve(xp.swapaxes(vb, -1, -2), xp.swapaxes(rotated, -1, -2)), -1, -2)
        x = x if c.dtype.kind == "c" else x.real
        x = x.astype(c.dtype, copy=False)
        residual = xp.max(xp.abs(a @ x + x @ b - c))
        scale = (xp.max(xp.abs(a)) + xp.max(xp.abs(b))) * xp.max(xp.abs(x)) + xp.max(xp.abs(c))
        tolerance = 1e3 * math.sqrt(a.shape[-1] * b.shape[-1]) * float(np.finfo(c.dtype).eps)
        accurate = _on_host(residual <= tolerance * scale)
    except LinAlgError:  # an eigenvector basis exactly singular
        accurate = False
    if not accurate:
        raise LinAlgError(
            f"solve_sylvester: the {a.shape[-1]} x {b.shape[-1]} problem is beyond the direct solve's "
            f"{_KRONECKER_SIZE} unknowns, and A or B is not diagonalisable accurately (its eigenvectors "
            "are nearly dependent) or A and -B share an eigenvalue, so the eigenvector method gives no "
            "accurate X. Split the problem, or solve it with SciPy's Schur-based solver.")
    return x


def _sylvester_impl(a, b, c):
    xp = array_module(c)
    if a.shape[-1] * b.shape[-1] <= _KRONECKER_SIZE:
        return _sylvester_by_kronecker(xp, a, b, c)
    return _sylvester_by_eig(xp, a, b, c)


sylvester_p = Primitive("sylvester")
sylvester_p.impl = _sylvester_impl
sylvester_p.shape_rule = lambda a, b, c: (c.shape, c.dtype)


def _sylvester_jvp(primals, tangents):
    a, b, c = primals
    t_a, t_b, t_c = tangents
    out = sylvester(a, b, c)
    if t_a is zero and t_b is zero and t_c is zero:
        return out, zero
    # A dX + dX B = dC - dA X - X dB
    rhs = t_c
    for moved in (None if t_a is zero else mm(t_a, out), None if t_b is zero else mm(out, t_b)):
        if moved is not None:
            rhs = neg(moved) if rhs is zero else sub(rhs, moved)
    return out, sylvester(a, b, rhs)


def _sylvester_transpose(ct, a, b, c):
    # <G, S(C)> = <S'(G), C> with S' the solve of A^T Y + Y B^T = G (the plain transpose: see the
    # module docstring on complex cotangents)
    return zero, zero, sylvester(mT(a), mT(b), ct)


sylvester_p.jvp = _sylvester_jvp
sylvester_p.transpose = _sylvester_transpose
_operands_batch(sylvester_p)


def sylvester(a, b, c):
    return sylvester_p.bind(a, b, c)


# --- sqrtm: the principal square root X (X @ X = A, eigenvalues in the right half plane), complex ----
# From the eigendecomposition where it is accurate; where the eigenvectors spoil it (A defective
# or nearly so), by the Denman-Beavers iteration, which needs no eigenvectors. Each result is
# checked (X @ X against A): a matrix neither reaches (one with no square root, such as a
# nilpotent one) raises. The derivative solves X dX + dX X = dA.
def _sqrt_residual_ok(xp, x, a):
    error = xp.max(xp.abs(x @ x - a), axis=(-2, -1))
    scale = xp.max(xp.abs(x), axis=(-2, -1)) ** 2 + xp.max(xp.abs(a), axis=(-2, -1))
    return error <= 1e3 * a.shape[-1] * float(np.finfo(a.dtype).eps) * scale


def _denman_beavers(xp, a):
    y, z = a, xp.broadcast_to(_identity_like(a, a.shape[-1]), a.shape)
    n = a.shape[-1]
    for _ in range(100):
        y_inv, z_inv = xp.linalg.inv(y), xp.linalg.inv(z)
        # determinant scaling: the iterates' product kept near unit determinant speeds it up
        mu = (xp.abs(xp.linalg.det(y) * xp.linalg.det(z)) ** (-1.0 / (2 * n)))[..., None, None]
        y_next, z_next = 0.5 * (mu * y + z_inv / mu), 0.5 * (mu * z + y_inv / mu)
        done = _on_host(xp.all(xp.abs(y_next - y) <= 10 * float(np.finfo(a.dtype).eps) * xp.abs(y_next).max()))
        y, z = y_next, z_next
        if done:
            break
    return y


def _sqrtm_impl(a):
    xp = array_module(a)
    a = a.astype(_complex_dtype(a.dtype), copy=False)
    if a.size == 0:
        return xp.array(a, copy=True)
    # A matrix with an inf or a NaN gets NaNs (eig refuses it); the identity stands in for it
    finite = xp.all(xp.isfinite(a), axis=(-2, -1))[..., None, None]
    eye = _identity_like(a, a.shape[-1])
    a = xp.where(finite, a, eye)
    try:
        w, v = xp.linalg.eig(a)
        x = (v * xp.sqrt(w)[..., None, :]) @ xp.linalg.inv(v)
        ok = _sqrt_residual_ok(xp, x, a)
    except LinAlgError:
        x, ok = a, xp.zeros_like(a[..., 0, 0], dtype=bool)  # every matrix still to do
    if not _on_host(xp.all(ok)):
        try:  # the iteration on the matrices still to do only (the identity elsewhere)
            x = xp.where(ok[..., None, None], x, _denman_beavers(xp, xp.where(ok[..., None, None], eye, a)))
        except LinAlgError:
            pass
        if not _on_host(xp.all(_sqrt_residual_ok(xp, x, a))):
            raise LinAlgError("sqrtm: no square root found: the matrix is singular with a nilpotent part "
                              "(such as [[0, 1], [0, 0]], which has none) or too close to one")
    return xp.where(finite, x, math.nan)


sqrtm_p = Primitive("sqrtm")
sqrtm_p.impl = _sqrtm_impl
sqrtm_p.shape_rule = lambda a: (a.shape, _complex_dtype(a.dtype))


def _sqrtm_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    out = sqrtm_p.bind(a)
    if t is zero:
        return out, zero
    return out, sylvester(out, out, _as_dtype(t, out.dtype))


sqrtm_p.jvp = _sqrtm_jvp
_leading_batch(sqrtm_p)


def sqrtm(a):
    return sqrtm_p.bind(a)


# --- schur: A = Z T Z^H with Z unitary and T upper (quasi-)triangular, by LAPACK's gees --------------
# through SciPy, on the host only (JAX's runs on the CPU only). output 'real': for a real A, T
# real with a 2 x 2 block for each complex pair of eigenvalues; 'complex': T triangular. No
# derivative, as in JAX: Z is not unique (the order of the eigenvalues along T's diagonal and
# each column's phase are LAPACK's choices, which jump under perturbation).
def _schur_impl(a, *, output):
    if type(a) is not np.ndarray:
        raise errors.UnsupportedError(
            f"schur runs on the host only (LAPACK's gees through SciPy; JAX's runs on the CPU only), "
            f"and this matrix is a {type(a).__module__}.{type(a).__name__}: copy it to the host with "
            "functrans.device_get(a) first")
    try:
        import scipy.linalg
    except ImportError:
        raise errors.UnsupportedError("schur needs SciPy (LAPACK's gees): pip install scipy") from None
    t_dtype = _schur_dtype(a.dtype, output)
    n = a.shape[-1]
    flat = a.reshape((math.prod(a.shape[:-2]), n, n))
    t = np.full(flat.shape, math.nan, t_dtype)  # numpy-only: the type check above
    z = np.full(flat.shape, math.nan, t_dtype)  # numpy-only: the type check above
    for i, m in enumerate(flat):
        if np.isfinite(m).all():  # numpy-only: a matrix with an inf or a NaN gets NaNs
            t[i], z[i] = scipy.linalg.schur(m, output=output, check_finite=False)
    return t.reshape(a.shape), z.reshape(a.shape)


def _schur_dtype(dtype, output):
    return np.dtype(dtype) if output == "real" else _complex_dtype(dtype)


def _schur_jvp(primals, tangents, *, output):
    raise errors.UnsupportedError(
        "schur has no derivative, as in JAX: its Schur vectors are not unique (the order of the "
        "eigenvalues along T's diagonal and the phase of each column are LAPACK's choices, and "
        "jump under a perturbation). Differentiate a function of the matrix that does not depend "
        "on that choice instead: eigvals, eig, eigh, sqrtm, expm.")


schur_p = Primitive("schur", multiple_results=True)
schur_p.impl = _schur_impl
schur_p.shape_rule = lambda a, *, output: [(a.shape, _schur_dtype(a.dtype, output))] * 2
schur_p.jvp = _schur_jvp
_leading_batch(schur_p)


def schur(a, output: str = "real"):
    return schur_p.bind(a, output=output)


# --- cholesky: lower L with L @ L^H = a (a Hermitian positive definite; its lower triangle is read) ---
cholesky_p = Primitive("cholesky")
cholesky_p.impl = lambda a: _nan_where_refused(array_module(a).linalg.cholesky, a)
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
eigh_p.impl = lambda a: _nan_where_refused(lambda m: tuple(array_module(m).linalg.eigh(m)), a)
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
    w, v = _nan_where_refused(lambda m: tuple(array_module(m).linalg.eig(m)), a)
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
    return _nan_where_refused(lambda m: tuple(array_module(m).linalg.svd(m, full_matrices=full_matrices)), a)


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


# --- qr: a = q @ r, q with orthonormal columns, r upper triangular (reduced; full_matrices: q square) ----
qr_p = Primitive("qr", multiple_results=True)
qr_p.impl = lambda a, *, full_matrices=False: tuple(
    array_module(a).linalg.qr(a, mode="complete" if full_matrices else "reduced"))


def _qr_shape(a, *, full_matrices=False):
    m, n = a.shape[-2:]
    k = m if full_matrices else min(m, n)
    return [(a.shape[:-2] + (m, k), a.dtype), (a.shape[:-2] + (k, n), a.dtype)]


qr_p.shape_rule = _qr_shape


def _qr_jvp(primals, tangents, *, full_matrices=False):
    (a,), (t,) = primals, tangents
    q, r = qr_p.bind(a, full_matrices=full_matrices)
    if t is zero:
        return (q, r), (zero, zero)
    m, n = a.shape[-2:]
    if m < n:
        raise NotImplementedError("The derivative of qr is implemented for matrices with at least "
                                  "as many rows as columns.")
    if full_matrices and m > n:
        raise NotImplementedError("The derivative of qr(mode='complete') of a matrix with more rows "
                                  "than columns is not defined (the extra columns of q are arbitrary); "
                                  "use mode='reduced'.")
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


def qr(a, full_matrices: bool = False):
    return qr_p.bind(a, full_matrices=full_matrices)


# --- adjugate: adj(A), the transposed cofactor matrix (det(A) A^-1 where A is invertible) -----------
# Where A is invertible and well conditioned, det(A) A^-1 (LAPACK's LU). Elsewhere, from the SVD
# A = U diag(s) V^H: adj(A) = det(U) det(V^H) V diag(p) U^H with p_i the product of the s_j,
# j != i, which has no division and so is exact at singular matrices too.
def _excluded_products(xp, s):
    """``p_i``: the product of the entries of ``s`` other than ``s_i``, along the last axis."""
    ones = xp.ones_like(s[..., :1])
    before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(s, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return before * after


def _svd_adjugate(xp, a):
    u, s, vh = xp.linalg.svd(a)
    k = (xp.linalg.det(u) * xp.linalg.det(vh))[..., None, None]
    p = _excluded_products(xp, s).astype(a.dtype)
    v, u_h = xp.conj(xp.swapaxes(vh, -1, -2)), xp.conj(xp.swapaxes(u, -1, -2))
    return k * (v @ (p[..., :, None] * u_h))


def _adjugate_impl(a):
    xp = array_module(a)
    if a.shape[-1] == 0 or a.size == 0:
        return xp.array(a, copy=True)
    # A matrix with an inf or a NaN gets NaNs (the SVD would not converge on it)
    finite = xp.all(xp.isfinite(a), axis=(-2, -1))
    try:
        inverse = xp.linalg.inv(a)
    except LinAlgError:  # an exactly singular matrix in the batch (NumPy raises)
        adj = _svd_adjugate(xp, xp.where(finite[..., None, None], a, 0))
        return xp.where(finite[..., None, None], adj, math.nan)
    adj = xp.linalg.det(a)[..., None, None] * inverse
    # det(A) A^-1 loses accuracy as A nears singularity: there, and wherever it is not finite
    # (an inverse of a singular matrix on a backend that does not raise), the SVD's product
    cond = xp.max(xp.sum(xp.abs(a), axis=-2), axis=-1) * xp.max(xp.sum(xp.abs(inverse), axis=-2), axis=-1)
    limit = 1.0 / math.sqrt(float(np.finfo(a.dtype).eps))
    bad = finite & (~(cond < limit) | ~xp.all(xp.isfinite(adj), axis=(-2, -1)))
    if _on_host(xp.any(bad)):  # one flag for the batch
        adj = xp.where(bad[..., None, None], _svd_adjugate(xp, xp.where(bad[..., None, None], a, 0)), adj)
    return xp.where(finite[..., None, None], adj, math.nan)


adjugate_p = Primitive("adjugate")
adjugate_p.impl = _adjugate_impl
adjugate_p.shape_rule = lambda a: (a.shape, a.dtype)


def _pair_excluded_products(s):
    """``c[..., i, j]``: the product of the entries of ``s`` other than ``s_i`` and ``s_j``
    for ``i != j``, 0 on the diagonal; from running products, so exact where entries are 0."""
    n = s.shape[-1]
    eye = _eye_mask(s, n)
    last = s.ndim
    rows = select(eye, 1.0, broadcast_in_dim(s, s.shape[:-1] + (n, n), tuple(range(s.ndim - 1)) + (last,)))
    before = cumprod_last(rows, exclusive=True)
    after = rev(cumprod_last(rev(rows, (last,)), exclusive=True), (last,))
    return select(eye, 0.0, mul(before, after))


def _adjugate_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    out = adjugate_p.bind(a)
    if t is zero:
        return out, zero
    # With A = U S V^H and E = U^H dA V: adj(A + dA) = det(U) det(V^H) V adj(S + E) U^H, and
    # d adj(S)[E] has entries -c_ij E_ij off the diagonal and sum_j c_ij E_jj on it, c_ij the
    # product of the singular values other than s_i and s_j: defined at singular A too.
    u, s, vh = svd_p.bind(a, full_matrices=False)
    v = mH(vh)
    e = mm(mH(u), mm(t, v))
    c = _pair_excluded_products(s)
    if _is_complex(a):
        c = _as_dtype(c, a.dtype)
    along = reduce_sum(mul(c, _row(_diag_part(e))), (a.ndim - 1,))
    inner = sub(select(_eye_mask(a, a.shape[-1]), _col(along), 0), mul(c, e))
    k = mul(det_p.bind(u), det_p.bind(vh))
    k = reshape(k, k.shape + (1, 1))
    return out, mul(k, mm(v, mm(inner, mH(u))))


adjugate_p.jvp = _adjugate_jvp
_leading_batch(adjugate_p)


def adjugate(a):
    return adjugate_p.bind(a)


# --- det: d det(A) = trace(adj(A) dA) -----------------------------------------------------------------
# Up to 3 x 3 the adjugate is written out as cofactors, polynomials in the entries: exact at
# singular matrices too, to every order. Larger matrices use the adjugate primitive.
det_p = Primitive("det")
det_p.impl = lambda a: array_module(a).linalg.det(a)
det_p.shape_rule = lambda a: (a.shape[:-2], a.dtype)


def _entry(x, i, j):
    """``x[..., i, j]``."""
    lead = tuple(x.shape[:-2])
    k = len(lead)
    return reshape(slice_(x, (0,) * k + (i, j), lead + (i + 1, j + 1)), lead)


def _cofactor(a, i, j):
    """``(-1)**(i + j)`` times the determinant of ``a`` (2 x 2 or 3 x 3) without row ``i`` and
    column ``j``."""
    n = a.shape[-1]
    r = [k for k in range(n) if k != i]
    c = [k for k in range(n) if k != j]
    if n == 2:
        minor = _entry(a, r[0], c[0])
    else:
        minor = sub(mul(_entry(a, r[0], c[0]), _entry(a, r[1], c[1])),
                    mul(_entry(a, r[0], c[1]), _entry(a, r[1], c[0])))
    return neg(minor) if (i + j) % 2 else minor


def _det_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    out = det_p.bind(a)
    if t is zero:
        return out, zero
    n = a.shape[-1]
    if n == 0:  # det of a 0 x 0 matrix is the constant 1
        return out, zeros_like(out)
    if n == 1:
        return out, _entry(t, 0, 0)
    if n > 3:
        return out, reduce_sum(mul(mT(adjugate(a)), t), (a.ndim - 2, a.ndim - 1))
    terms = [mul(_cofactor(a, i, j), _entry(t, i, j)) for i in range(n) for j in range(n)]
    tangent = terms[0]
    for term in terms[1:]:
        tangent = add(tangent, term)
    return out, tangent


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
    # At a singular matrix (sign 0, log|det| = -inf) log|det| has no derivative: the tangent is
    # NaN there, as in JAX, and the solve reads the identity instead so that it cannot fail.
    singular = eq(sign, 0)
    mask = reshape(singular, singular.shape + (1, 1))
    eye = constant_like(a, _identity, a.shape[-1], a.dtype)
    nan_where_singular = select(singular, math.nan, 1.0)  # a factor, so reverse mode sees it too
    tr = mul(_matrix_trace(solve(select(mask, eye, a), t)), _as_dtype(nan_where_singular, a.dtype))
    if not _is_complex(a):
        return (sign, logdet), (zero, tr)
    return (sign, logdet), (mul(sign, mul(imag(tr), 1j)), real(tr))


slogdet_p.jvp = _slogdet_jvp
_leading_batch(slogdet_p)


# --- pinv: the Moore-Penrose pseudo-inverse, with singular values below rcond * max cut off -------------
def _pinv_impl(a, *, rcond):
    return _nan_where_refused(lambda m: array_module(m).linalg.pinv(m, rcond=rcond), a)


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



# --- lu: a[perm] = L @ U with partial pivoting (L unit lower, packed with U in one matrix) ----------
def _arange(xp, n, shape):
    return xp.broadcast_to(xp.arange(n, dtype=np.int32), shape + (n,)).copy()


def _lu_impl(a):
    """Gaussian elimination with partial pivoting, column by column, all matrices of the batch
    at once: ``(lu, pivots, perm)``, with LAPACK's pivots (row ``j`` was swapped with row
    ``pivots[j]``) and the permutation they make (``a[perm] = L @ U``)."""
    xp, backend = array_module(a), backend_of(a)
    *batch, m, n = a.shape
    k = min(m, n)
    count = math.prod(batch)
    lu = xp.array(a.reshape((count, m, n)), copy=True)
    rows = backend.make_like(a, _arange, count, ())
    perm = backend.make_like(a, _arange, m, (count,))
    pivots = backend.make_like(a, _arange, k, (count,))
    for j in range(k):
        p = xp.argmax(xp.abs(lu[:, j:, j]), axis=1).astype(np.int32) + j
        pivots[:, j] = p
        for x in (lu, perm):
            row_j, row_p = x[rows, j].copy(), x[rows, p].copy()
            x[rows, j] = row_p
            x[rows, p] = row_j
        pivot = lu[:, j, j]
        lu[:, j + 1:, j] /= xp.where(pivot == 0, 1, pivot)[:, None]  # a zero pivot has zeros below
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return (lu.reshape(a.shape), pivots.reshape(tuple(batch) + (k,)), perm.reshape(tuple(batch) + (m,)))


lu_p = Primitive("lu", multiple_results=True)
lu_p.impl = _lu_impl
lu_p.shape_rule = lambda a: [(a.shape, a.dtype), (a.shape[:-2] + (min(a.shape[-2:]),), np.dtype(np.int32)),
                             (a.shape[:-1], np.dtype(np.int32))]


def _permutation_matrix(perm, dtype):
    """``P`` with ``P @ x == x[perm]`` (one-hot rows; a constant of the permutation)."""
    m = perm.shape[-1]
    columns = constant_like(perm, _arange, m, ())
    return _as_dtype(eq(_col(perm), _row(columns)), dtype)


def _lu_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    lu, pivots, perm = lu_p.bind(a)
    if t is zero:
        return (lu, pivots, perm), (zero, zero, zero)
    m, n = a.shape[-2:]
    if m != n:
        raise NotImplementedError(
            f"The derivative of lu is implemented for square matrices; got shape {a.shape}. "
            "Differentiate the LU factors of a square matrix, or use qr for a rectangular one.")
    # a[perm] = L U, so M = L^-1 dA[perm] = (L^-1 dL) U + dU with L^-1 dL strictly lower: it
    # is the strictly lower part of M U^-1, and dU = M - (L^-1 dL) U. Column j of that strictly
    # lower part reads only U's leading j + 1 columns, never the last pivot: U's last diagonal
    # entry is read as 1, so that the derivative stays finite where only the last pivot is 0
    # (a singular matrix whose factors are still smooth, as [[1, 2], [2, 4]]).
    moved = mm(_permutation_matrix(perm, a.dtype), t)
    left = triangular_solve(lu, moved, lower=True, unit_diagonal=True)
    upper = select(constant_like(a, _last_diagonal, n), 1, lu)
    x = mT(triangular_solve(upper, mT(left), lower=False, transpose_a=True))
    strict_lower = _tri_mask(a, n, n, -1, True)
    l_inv_l_dot = select(strict_lower, x, 0)
    l_dot = add(mm(select(strict_lower, lu, 0), l_inv_l_dot), l_inv_l_dot)  # (L - I + I) tril(x, -1)
    u_dot = select(strict_lower, 0, sub(left, mm(l_inv_l_dot, select(strict_lower, 0, lu))))
    return (lu, pivots, perm), (add(l_dot, u_dot), zero, zero)


def _last_diagonal(xp, n):
    return xp.arange(n * n).reshape(n, n) == n * n - 1


lu_p.jvp = _lu_jvp
_leading_batch(lu_p)


def lu(a):
    return lu_p.bind(a)


# --- lu_pivots_to_permutation: LAPACK's row swaps as the permutation they make (integers) -----
def _pivots_to_permutation_impl(pivots, *, size):
    backend = backend_of(pivots)
    *batch, k = pivots.shape
    count = math.prod(batch)
    pivots = pivots.reshape((count, k))
    rows = backend.make_like(pivots, _arange, count, ())
    perm = backend.make_like(pivots, _arange, size, (count,))
    for j in range(k):
        p = pivots[:, j]
        row_j, row_p = perm[rows, j].copy(), perm[rows, p].copy()
        perm[rows, j] = row_p
        perm[rows, p] = row_j
    return perm.reshape(tuple(batch) + (size,))


lu_pivots_to_permutation_p = Primitive("lu_pivots_to_permutation")
lu_pivots_to_permutation_p.impl = _pivots_to_permutation_impl
lu_pivots_to_permutation_p.shape_rule = lambda pivots, *, size: (pivots.shape[:-1] + (size,), np.dtype(np.int32))
lu_pivots_to_permutation_p.differentiable = False
_leading_batch(lu_pivots_to_permutation_p)


def lu_pivots_to_permutation(pivots, size: int):
    return lu_pivots_to_permutation_p.bind(pivots, size=size)


# --- expm: the matrix exponential, by scaling and squaring of a Pade approximant -------------------
# (Higham, "The scaling and squaring method for the matrix exponential revisited", 2005): the
# [m/m] approximant of the lowest degree m accurate to double precision for the 1-norm, and
# the [13/13] one after scaling by a power of 2 beyond the last bound.
_PADE = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0, 110880.0,
        3960.0, 90.0, 1.0),
    13: (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
         129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
         40840800.0, 960960.0, 16380.0, 182.0, 1.0),
}
_THETA = {3: 1.495585217958292e-2, 5: 2.539398330063230e-1, 7: 9.504178996162932e-1,
          9: 2.097847961257068e0, 13: 5.371920351148152}


def _pade_parts(a, eye, degree):
    """(U, V) of the [degree/degree] approximant: exp(A) ~ (V - U)^-1 (V + U)."""
    b = _PADE[degree]
    a2 = a @ a
    if degree == 13:
        a4 = a2 @ a2
        a6 = a2 @ a4
        u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
        v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
        return u, v
    powers = [eye, a2]  # A^0, A^2, A^4, ...
    for _ in range(degree // 2 - 1):
        powers.append(powers[-1] @ a2)
    odd = sum(b[2 * k + 1] * p for k, p in enumerate(powers))
    even = sum(b[2 * k] * p for k, p in enumerate(powers))
    return a @ odd, even


def _expm_impl(a):
    xp = array_module(a)
    n = a.shape[-1]
    if a.size == 0:
        return xp.array(a, copy=True)
    norm = xp.max(xp.sum(xp.abs(a), axis=-2), axis=-1)  # the 1-norm of each matrix
    largest = float(_on_host(xp.max(norm)))
    eye = backend_of(a).make_like(a, lambda xp_, n_, dtype: xp_.eye(n_, dtype=dtype), n, a.dtype)
    for degree in (3, 5, 7, 9):
        if largest <= _THETA[degree]:
            u, v = _pade_parts(a, eye, degree)
            return xp.linalg.solve(v - u, v + u)
    scale = xp.ceil(xp.log2(xp.maximum(norm / _THETA[13], 1.0))).astype(np.int64)
    squarings = int(_on_host(xp.max(scale)))  # one count for the batch: a Python int
    a = a * (2.0 ** -scale.astype(a.real.dtype))[..., None, None].astype(a.dtype)
    u, v = _pade_parts(a, eye, 13)
    r = xp.linalg.solve(v - u, v + u)
    # matrices scaled less than the batch's most need fewer squarings: square those by their own count
    for i in range(squarings):
        squared = r @ r
        r = xp.where((scale > i)[..., None, None], squared, r)
    return r


expm_p = Primitive("expm")
expm_p.impl = _expm_impl
expm_p.shape_rule = lambda a: (a.shape, a.dtype)


def _expm_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    out = expm_p.bind(a)
    return out, (zero if t is zero else expm_frechet(a, t))


expm_p.jvp = _expm_jvp
_leading_batch(expm_p)


def expm(a):
    return expm_p.bind(a)


# --- expm_frechet: the Frechet derivative L(A, E) of expm at A in direction E, linear in E --------
# expm([[A, E], [0, A]]) = [[expm(A), L(A, E)], [0, expm(A)]] (Mathias, 1996); the adjoint of
# E -> L(A, E) is G -> L(A^T, G) (the plain transpose: see the module docstring on complex
# cotangents).
def _upper_block(a, e):
    """``[[a, e], [0, a]]`` of two ``(..., n, n)`` matrices, with primitives (differentiable)."""
    n = a.shape[-1]
    nd = a.ndim
    z = ((0, 0, 0),) * (nd - 1)
    top = add(pad(a, 0, z + ((0, n, 0),)), pad(e, 0, z + ((n, 0, 0),)))
    bottom = pad(a, 0, z + ((n, 0, 0),))
    return add(pad(top, 0, ((0, 0, 0),) * (nd - 2) + ((0, n, 0), (0, 0, 0))),
               pad(bottom, 0, ((0, 0, 0),) * (nd - 2) + ((n, 0, 0), (0, 0, 0))))


def _top_right(x, n):
    nd = x.ndim
    lead = tuple(x.shape[:-2])
    return slice_(x, (0,) * (nd - 2) + (0, n), lead + (n, 2 * n), (1,) * nd)


def _expm_frechet_impl(a, e):
    xp = array_module(a)
    n = a.shape[-1]
    dtype = np.result_type(a.dtype, e.dtype)
    top = xp.concatenate([a, e], axis=-1).astype(dtype, copy=False)
    bottom = xp.concatenate([xp.zeros_like(a), a], axis=-1).astype(dtype, copy=False)
    return _expm_impl(xp.concatenate([top, bottom], axis=-2))[..., :n, n:]


expm_frechet_p = Primitive("expm_frechet")
expm_frechet_p.impl = _expm_frechet_impl
expm_frechet_p.shape_rule = lambda a, e: (e.shape, np.result_type(a.dtype, e.dtype))


def _expm_frechet_jvp(primals, tangents):
    a, e = primals
    t_a, t_e = tangents
    out = expm_frechet_p.bind(a, e)
    if t_a is zero and t_e is zero:
        return out, zero
    # L(A, E) is the top-right block of expm(M), M = [[A, E], [0, A]]; its tangent is the
    # top-right block of L(M, dM) with dM = [[dA, dE], [0, dA]]
    t_a = zeros_like(a) if t_a is zero else t_a
    t_e = zeros_like(e) if t_e is zero else t_e
    n = a.shape[-1]
    return out, _top_right(expm_frechet_p.bind(_upper_block(a, e), _upper_block(t_a, t_e)), n)


def _expm_frechet_transpose(ct, a, e):
    return zero, expm_frechet_p.bind(mT(a), ct)


expm_frechet_p.jvp = _expm_frechet_jvp
expm_frechet_p.transpose = _expm_frechet_transpose
_operands_batch(expm_frechet_p)


def expm_frechet(a, e):
    return expm_frechet_p.bind(a, e)
