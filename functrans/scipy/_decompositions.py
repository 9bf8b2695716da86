"""The Hessenberg form, the eigenproblem of a tridiagonal matrix and the product with ``Q`` of a
QR decomposition, for ``functrans.scipy.linalg``: written with functrans.numpy's operations,
so they are differentiable and run under jit and vmap."""
from __future__ import annotations

from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans import errors
from functrans.backend import array_module
from functrans.numpy import linalg as _fla
from functrans.numpy._util import any_tracer, inexact
from functrans.primitives import linalg as _la
from functrans.primitives.linalg import mH
from functrans.typing import Array, ArrayLike

__all__ = ["eigh_tridiagonal", "hessenberg", "qr_multiply", "rsf2csf", "schur"]


def _reflector(x: Any) -> tuple[Any, Any]:
    """LAPACK's elementary reflector of each vector ``x`` (``..., k``): ``(v, tau)`` with
    ``v[0] = 1`` and ``(I - tau v v^H)^H x = beta e_1``, ``beta`` real; ``tau = 0`` (no
    reflection) where ``x`` is already such a multiple of ``e_1``."""
    alpha, rest = x[..., 0], x[..., 1:]
    cplx = x.dtype.kind == "c"
    rest_norm = _fla.vector_norm(rest, axis=-1)
    alpha_real = fnp.real(alpha) if cplx else alpha
    skip = rest_norm == 0
    if cplx:
        skip = skip & (fnp.imag(alpha) == 0)
    length = fnp.sqrt(fnp.abs(alpha) ** 2 + rest_norm ** 2)
    beta = -fnp.copysign(length, alpha_real)
    beta_safe = fnp.where(skip, 1.0, beta)
    tau = fnp.where(skip, 0.0, (beta_safe - alpha) / beta_safe)
    v_rest = rest / fnp.where(skip, 1.0, alpha - beta_safe)[..., None]
    v = fnp.concatenate([fnp.ones_like(x[..., :1]), v_rest], axis=-1)
    return v, fnp.astype(tau, x.dtype)


def hessenberg(a: ArrayLike, calc_q: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> Array | tuple[Array, Array]:
    """The upper Hessenberg form ``h`` of each square matrix (zero below the first
    subdiagonal), with ``q`` unitary and ``a = q @ h @ q^H`` when ``calc_q``: LAPACK's
    Householder reduction, reflector by reflector, so the values are SciPy's (signs
    included). Batched over leading dimensions and differentiable (where no column below the
    subdiagonal is zero, at which the reflector's choice has a kink).

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.hessenberg(np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0], [4.0, 0.0, 1.0]])).round(6).tolist()
        [[1.0, -1.2, -1.6], [-5.0, 2.56, 1.08], [0.0, 2.08, 2.44]]
    """
    h: Any = _fla._square(a)
    n = h.shape[-1]
    q: Any = fnp.broadcast_to(fnp.eye(n, dtype=h.dtype, like=h), h.shape) if calc_q else None
    lead = [(0, 0)] * (len(h.shape) - 2)
    for k in range(n - 1):  # the last reflector, of one entry, makes a complex subdiagonal entry real
        v, tau = _reflector(h[..., k + 1:, k])
        v = fnp.pad(v, lead + [(k + 1, 0)])  # the reflector acts on rows and columns k + 1 on
        tau = tau[..., None, None]
        col, row = v[..., :, None], mH(v[..., :, None])
        # h <- H^H h H with H = I - tau v v^H
        h = h - (fnp.conj(tau) if h.dtype.kind == "c" else tau) * (col @ (row @ h))
        h = h - tau * ((h @ col) @ row)
        if calc_q:
            q = q - tau * ((q @ col) @ row)
    h = fnp.triu(h, -1)
    return (h, q) if calc_q else h


def qr_multiply(a: ArrayLike, c: ArrayLike, mode: str = "right", pivoting: bool = False,
                conjugate: bool = False, overwrite_a: bool = False,
                overwrite_c: bool = False) -> tuple[Array, Array]:
    """``(c @ Q, R)`` (``mode='right'``) or ``(Q @ c, R)`` (``'left'``) for the economic QR
    decomposition ``a = Q @ R`` (``Q``: ``m x k``, ``R``: ``k x n``, ``k = min(m, n)``);
    ``conjugate`` uses ``conj(Q)``. ``c`` may be a vector. Differentiable where the QR
    decomposition is (``m >= n``). Column pivoting is not offered.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> cq, r = fsl.qr_multiply(np.array([[3.0, 1.0], [4.0, 2.0]]), np.array([1.0, 0.0]))
        >>> cq.round(6).tolist(), r.round(6).tolist()
        ([-0.6, -0.8], [[-5.0, -2.2], [0.0, 0.4]])
    """
    if pivoting:
        raise NotImplementedError("functrans.scipy.linalg.qr_multiply: pivoting=True is not offered; use "
                                  "pivoting=False")
    if mode not in ("left", "right"):
        raise ValueError(f"qr_multiply: mode must be 'left' or 'right', got {mode!r}")
    x: Any = _fla._matrix(a)
    if len(x.shape) != 2:
        raise ValueError(f"qr_multiply: a must be a matrix, got shape {x.shape}")
    q, r = _fla.qr(x)
    if conjugate and q.dtype.kind == "c":
        q = fnp.conj(q)
    other: Any = inexact(c)
    m, k = q.shape
    need = m if mode == "right" else k
    axis = -1 if mode == "right" else 0
    if len(other.shape) not in (1, 2) or other.shape[axis] != need:
        raise ValueError(f"qr_multiply: with mode={mode!r}, c must be a vector or matrix with {need} "
                         f"{'columns' if mode == 'right' else 'rows'}, got shape {other.shape}")
    return (other @ q if mode == "right" else q @ other), r


def eigh_tridiagonal(d: ArrayLike, e: ArrayLike, eigvals_only: bool = False, select: str = "a",
                     select_range: tuple[float, float] | None = None, check_finite: bool = True,
                     tol: float | None = 0.0, lapack_driver: str = "auto", *,
                     key: Any = None) -> Array | tuple[Array, Array]:
    """Eigenvalues (ascending) and eigenvectors of the real symmetric tridiagonal matrix with
    diagonal ``d`` and off-diagonal ``e``. ``select``: ``'a'`` all; ``'i'`` those of indices
    ``select_range[0]`` to ``select_range[1]`` (inclusive); ``'v'`` those in the interval
    ``(lo, hi]``, whose count depends on the values, so only where they are known (not under
    jit or vmap). Computed by ``eigh`` of the dense matrix, so differentiable in ``d`` and
    ``e`` (see ``functrans.numpy.linalg.eigh`` where eigenvalues repeat); each eigenvector's
    sign is LAPACK's choice and may differ from SciPy's. ``tol``, ``lapack_driver`` and JAX's
    ``key`` (its eigenvector iteration's random start) are accepted and change nothing.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> w = fsl.eigh_tridiagonal(np.array([2.0, 2.0]), np.array([1.0]), eigvals_only=True)
        >>> w.round(12).tolist()
        [1.0, 3.0]
    """
    diag: Any = inexact(d)
    off: Any = inexact(e)
    if diag.dtype.kind == "c" or off.dtype.kind == "c":
        raise ValueError("eigh_tridiagonal: d and e must be real (a real symmetric tridiagonal matrix)")
    if len(diag.shape) != 1 or len(off.shape) != 1 or off.shape[0] != max(diag.shape[0] - 1, 0):
        raise ValueError(f"eigh_tridiagonal: d must be a vector of n entries and e one of n - 1, got shapes "
                         f"{diag.shape} and {off.shape}")
    if select not in ("a", "i", "v"):
        raise ValueError(f"eigh_tridiagonal: select must be 'a', 'i' or 'v', got {select!r}")
    dtype = np.result_type(diag.dtype, off.dtype)
    diag, off = fnp.astype(diag, dtype), fnp.astype(off, dtype)
    t = fnp.diag(diag) + fnp.diag(off, -1) + fnp.diag(off, 1)
    w, v = _fla.eigh(t)
    if select == "i":
        if select_range is None:
            raise ValueError("eigh_tridiagonal: select='i' needs select_range=(first, last)")
        first, last = (int(i) for i in select_range)
        if not 0 <= first <= last < diag.shape[0]:
            raise ValueError(f"eigh_tridiagonal: select_range {select_range} is not a range of indices of the "
                             f"{diag.shape[0]} eigenvalues")
        w, v = w[first:last + 1], v[:, first:last + 1]
    elif select == "v":
        if select_range is None:
            raise ValueError("eigh_tridiagonal: select='v' needs select_range=(low, high)")
        try:
            values = w.to_concrete() if any_tracer(w) else w
            low, high = (float(b) for b in select_range)
        except errors.TracerConversionError:
            raise errors.TracerConversionError(
                "eigh_tridiagonal: select='v' returns as many eigenvalues as lie in the interval, which "
                "needs their values, unknown under jit or vmap; use select='i' with index bounds, or "
                "select='a' and mask the eigenvalues") from None
        keep = array_module(values).flatnonzero((values > low) & (values <= high))
        w, v = w[keep], v[:, keep]
    return w if eigvals_only else (w, v)


def rsf2csf(T: ArrayLike, Z: ArrayLike, check_finite: bool = True) -> tuple[Array, Array]:
    """The complex Schur form ``(T2, Z2)`` (``T2`` upper triangular, ``Z2`` unitary,
    ``Z2 @ T2 @ Z2^H == Z @ T @ Z^T``) of a real Schur form ``(T, Z)``: each 2 x 2 block of a
    complex pair of eigenvalues on the diagonal of ``T`` is made triangular by a complex
    rotation, from the last block up, as SciPy does (a subdiagonal entry counts as a block
    where it exceeds ``eps`` times the neighbouring diagonal entries). Complex results;
    differentiable, and under jit and vmap the rotations apply where the blocks are.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> t, z = fsl.rsf2csf(np.array([[1.0, 2.0], [-2.0, 1.0]]), np.eye(2))
        >>> np.diag(t).round(12).tolist()
        [(1+2j), (1-2j)]
    """
    t: Any = inexact(T)
    z: Any = inexact(Z)
    for name, x in (("Z", z), ("T", t)):
        if len(x.shape) != 2 or x.shape[0] != x.shape[1]:
            raise ValueError(f"rsf2csf: input {name!r} must be square, got shape {x.shape}")
    if t.shape != z.shape:
        raise ValueError(f"rsf2csf: input array shapes must match: Z: {z.shape} vs. T: {t.shape}")
    dtype = np.result_type(t.dtype, z.dtype, np.complex64)
    t, z = fnp.astype(t, dtype), fnp.astype(z, dtype)
    n = t.shape[0]
    eps = float(np.finfo(float).eps)  # SciPy's threshold, float64's epsilon for every dtype
    positions = fnp.arange(n, like=t)
    rows, cols = positions[:, None], positions[None, :]
    for m in range(n - 1, 0, -1):
        p, q, below, above = t[m - 1, m - 1], t[m, m], t[m, m - 1], t[m - 1, m]
        block = fnp.abs(below) > eps * (fnp.abs(p) + fnp.abs(q))
        # mu = lambda - q for the eigenvalue lambda of the block with the larger imaginary part
        # (off the blocks every square root reads 1, so that no infinite derivative meets a zero)
        half = (p - q) / 2
        mu = half + fnp.sqrt(fnp.where(block, half * half + above * below, 1.0))
        r = fnp.sqrt(fnp.where(block, fnp.abs(mu) ** 2 + fnp.abs(below) ** 2, 1.0))
        c, s = fnp.where(block, mu / r, 1.0), fnp.where(block, below / r, 0.0)
        # the rotation G = [[conj(c), s], [-s, c]] in rows and columns m - 1 and m of the identity
        g = (fnp.eye(n, dtype=dtype, like=t)
             + fnp.astype((rows == m - 1) & (cols == m - 1), dtype) * (fnp.conj(c) - 1)
             + fnp.astype((rows == m - 1) & (cols == m), dtype) * s
             + fnp.astype((rows == m) & (cols == m - 1), dtype) * (-s)
             + fnp.astype((rows == m) & (cols == m), dtype) * (c - 1))
        g_h = fnp.conj(g.T)
        t = fnp.where(cols >= m - 1, g @ t, t)  # rows m - 1 and m, from column m - 1 on
        t = fnp.where(rows <= m, t @ g_h, t)  # columns m - 1 and m, rows up to m
        z = z @ g_h
        t = fnp.where((rows == m) & (cols == m - 1), 0.0, t)
    return t, z


def schur(a: ArrayLike, output: str = "real", lwork: int | None = None, overwrite_a: bool = False,
          sort: Any = None, check_finite: bool = True) -> tuple[Array, Array]:
    """The Schur decomposition ``a = Z @ T @ Z^H`` of each square matrix (leading dimensions
    are batch dimensions): ``Z`` unitary and ``T`` upper triangular (``output='complex'``), or,
    for a real ``a`` and ``output='real'``, real and quasi upper triangular, a 2 x 2 block on
    the diagonal for each pair of complex eigenvalues. SciPy's values (LAPACK's ``gees``),
    float32 kept; a complex ``a`` gives the complex form for either ``output``; a matrix with
    an inf or a NaN gives NaNs. Runs on the host only (JAX's on the CPU only) and needs SciPy;
    works under ``jit`` and ``vmap``. No derivative, as in JAX (differentiating raises
    ``UnsupportedError``): ``Z`` is not unique. ``lwork`` and ``overwrite_a`` are accepted and
    change nothing; ``sort`` is not offered.

    Raises:
        ValueError: ``output`` is neither ``'real'`` nor ``'complex'``, or ``a`` is not square.
        UnsupportedError: ``sort`` is given, ``a`` is on a device, or SciPy is missing.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> t, z = fsl.schur(np.array([[1.0, 2.0], [-2.0, 1.0]]))
        >>> t.round(12).tolist(), bool(np.allclose(z @ t @ z.T, [[1.0, 2.0], [-2.0, 1.0]]))
        ([[1.0, 2.0], [-2.0, 1.0]], True)
    """
    if output not in ("real", "complex", "r", "c"):
        raise ValueError(f"schur: output must be 'real' or 'complex', got {output!r}")
    if sort is not None:
        raise errors.UnsupportedError("schur: sort is not offered (JAX's schur has none); order the "
                                      "eigenvalues of the result with a function of your own")
    x = _fla._matrix(a, "a")
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"schur: expected square matrices (..., n, n), got shape {x.shape}")
    t, z = _la.schur(x, output="real" if output in ("real", "r") else "complex")
    return t, z
