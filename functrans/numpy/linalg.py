"""``functrans.numpy.linalg``: NumPy's linear algebra, differentiable.

Functions act on the last two dimensions and broadcast over leading (batch) dimensions, as
NumPy's do. On plain arrays they call NumPy; on traced arrays they bind the linear-algebra
primitives, whose derivatives hold to every order.

Degenerate points: ``eigh``'s eigenvector derivative divides by differences of eigenvalues and
``svd``'s singular-vector derivative by differences of squared singular values; where those
repeat, the vectors are not unique and their derivatives are infinite or NaN, while the
eigenvalue and singular-value derivatives stay finite (for repeated eigenvalues they are the
derivatives of the diagonal of ``V^H A V``, which is right for functions symmetric in the
repeated ones, such as their sum). ``norm`` has a zero derivative at 0 (where it has a kink),
so that the gradient of ``norm(x)**2`` at 0 is exactly 0.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from functrans import errors
from functrans.api import custom_jvp
from functrans.backend import array_module
from functrans.core.trace import Tracer
from functrans.lax import Precision, canonicalize_precision
from functrans.numpy._arithmetic import copysign as _copysign
from functrans.numpy._indexing import diagonal as _diagonal
from functrans.numpy._indexing import take_along_axis as _take_along_axis
from functrans.numpy._products import cross as _cross
from functrans.numpy._products import dot
from functrans.numpy._products import matmul as _matmul
from functrans.numpy._products import outer as _outer
from functrans.numpy._products import tensordot as _tensordot
from functrans.numpy._reductions import trace as _trace
from functrans.numpy._shape import flip as _flip
from functrans.numpy._sorting import argsort as _argsort
from functrans.numpy._sorting import sort as _sort
from functrans.numpy._util import (
    any_tracer,
    as_array,
    host_values,
    inexact,
    normalize_axis,
    operand,
    placed_like,
    refuse_out,
)
from functrans.numpy._util import refuse_out_everywhere as _refuse_out_everywhere
from functrans.primitives import elementwise as _ew
from functrans.primitives import linalg as _la
from functrans.primitives import reduction as _red
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike, DType

LinAlgError = np.linalg.LinAlgError

#: A norm's order: a number (``inf``, ``-inf`` included) or, for matrices, a name.
NormOrder = float | Literal["fro", "nuc"]

__all__ = [
    "LinAlgError", "cholesky", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "inv",
    "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose",
    "multi_dot", "norm", "outer", "pinv", "qr", "slogdet", "solve", "svd", "svdvals",
    "tensordot", "tensorinv", "tensorsolve", "trace", "vecdot", "vector_norm",
]


def _matrix(a: ArrayLike, name: str = "array") -> Array:
    """``a`` as an array of at least 2 dimensions with an inexact dtype."""
    a = as_array(a)
    if len(a.shape) < 2:
        raise LinAlgError(f"{len(a.shape)}-dimensional array given. Array must be at least "
                          "two-dimensional")
    if a.dtype.kind not in "fc":
        a = convert_element_type(a, new_dtype=np.float64)
    return a


def _square(a: ArrayLike) -> Array:
    a = _matrix(a)
    if a.shape[-1] != a.shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    return a


def _common(a: Array, b: Array) -> tuple[Array, Array]:
    dtype = np.result_type(a.dtype, b.dtype)
    return convert_element_type(a, new_dtype=dtype), convert_element_type(b, new_dtype=dtype)


# --- solving ------------------------------------------------------------------------------------


def solve(a: ArrayLike, b: ArrayLike) -> Array:
    """The solution ``x`` of ``a @ x = b``. ``b`` is a vector ``(..., n)`` only when it is
    1-D; otherwise a stack of matrices ``(..., n, k)`` (NumPy 2 semantics).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.solve(fnp.array([[2.0, 0.0], [0.0, 4.0]]), fnp.array([2.0, 2.0])).tolist()
        [1.0, 0.5]
    """
    a = _square(a)
    b = inexact(b)
    if not any_tracer(a, b):
        return array_module(a).linalg.solve(a, b)
    a, b = _common(a, b)
    vector = len(b.shape) == 1
    if vector:
        b = _shape.reshape(b, (b.shape[0], 1))
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = _shape.broadcast_to(a, batch + a.shape[-2:])
    b = _shape.broadcast_to(b, batch + b.shape[-2:])
    out = _la.solve(a, b)
    return _shape.reshape(out, out.shape[:-1]) if vector else out


def inv(a: ArrayLike) -> Array:
    """The inverse matrix. Its derivative is ``-inv(a) @ da @ inv(a)``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.inv(fnp.array([[2.0, 0.0], [0.0, 4.0]])).tolist()
        [[0.5, 0.0], [0.0, 0.25]]
    """
    a = _square(a)
    if not any_tracer(a):
        return array_module(a).linalg.inv(a)
    n = a.shape[-1]
    # host-data: made on the host, placed on the operand's device
    eye = _shape.broadcast_to(placed_like(np.eye(n, dtype=a.dtype), a), a.shape)
    return _la.solve(a, eye)


def tensorinv(a: ArrayLike, ind: int = 2) -> Array:
    """The inverse of ``a`` as a linear map from its last axes (after the first ``ind``) to
    its first ``ind`` axes: ``tensordot(tensorinv(a, ind), a, ind)`` is the identity of the
    last axes. The axes must make a square matrix (the product of the first ``ind`` sizes
    equal to that of the others). Differentiable as ``inv``.

    Example:
        >>> import functrans.numpy as fnp
        >>> a = fnp.eye(4).reshape(4, 2, 2) * 2.0
        >>> fnp.linalg.tensorinv(a, ind=1).shape
        (2, 2, 4)
    """
    a = as_array(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    shape = tuple(a.shape)
    size = math.prod(shape[ind:])
    square = _shape.reshape(a, (math.prod(shape[:ind]), size))
    return _shape.reshape(inv(square), shape[ind:] + shape[:ind])


def tensorsolve(a: ArrayLike, b: ArrayLike, axes: Sequence[int] | None = None) -> Array:
    """The ``x`` with ``tensordot(a, x, axes=x.ndim) == b``: the axes of ``x`` are the last
    axes of ``a`` (after moving ``axes`` of ``a`` to the end), which must hold as many
    entries as ``b``. Differentiable as ``solve``.

    Example:
        >>> import functrans.numpy as fnp
        >>> a = fnp.eye(6).reshape(6, 2, 3)
        >>> fnp.linalg.tensorsolve(a, fnp.arange(6.0)).tolist()
        [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    a, b = as_array(a), as_array(b)
    nd = len(a.shape)
    if axes is not None:
        order = list(range(nd))
        for k in axes:
            order.remove(k)
            order.insert(nd, k)
        a = _shape.transpose(a, tuple(order))
    shape = tuple(a.shape[-(nd - len(b.shape)):]) if nd > len(b.shape) else ()
    size = math.prod(shape)
    if math.prod(a.shape) != size ** 2:
        raise LinAlgError("Input arrays must satisfy the requirement "
                          "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    x = solve(_shape.reshape(a, (size, size)), _shape.reshape(b, (size,)))
    return _shape.reshape(x, shape)


def det(a: ArrayLike) -> Array:
    """The determinant. Its derivative is ``trace(adj(a) @ da)``, the adjugate ``adj(a)``
    being defined at singular matrices too (JAX's gradient is 0 there): written out as
    cofactors up to 3 x 3; beyond, ``det(a) * inv(a)`` where ``a`` is well conditioned and,
    where it is singular or nearly so, ``det(U) det(Vh) Vh^H diag(p) U^H`` from the SVD
    ``a = U diag(s) Vh``, ``p_i`` the product of the singular values other than ``s_i``. The
    second derivative is exact at singular matrices as well.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.linalg.det(fnp.array([[2.0, 1.0], [1.0, 3.0]])))
        5.000000000000001
    """
    a = _square(a)
    return _la.det_p.bind(a)


def slogdet(a: ArrayLike, *, method: str | None = None) -> tuple[Array, Array]:
    """The sign and the log of the absolute value of the determinant (a named pair
    ``(sign, logabsdet)``), without overflow. ``method`` (JAX's: ``'lu'`` or ``'qr'``) is
    checked and changes nothing: the factorisation is LAPACK's LU. At a singular matrix
    (``sign`` 0, ``logabsdet`` -inf) the log has no derivative, and the derivative is NaN in
    every entry, as in JAX (the other matrices of a batch keep theirs).

    Example:
        >>> import functrans.numpy as fnp
        >>> sign, logdet = fnp.linalg.slogdet(fnp.eye(2) * 3.0)
        >>> float(sign), round(float(logdet), 6)
        (1.0, 2.197225)
    """
    if method not in (None, "lu", "qr"):
        raise ValueError(f"slogdet: method must be 'lu' or 'qr', got {method!r}")
    a = _square(a)
    if not any_tracer(a):
        return array_module(a).linalg.slogdet(a)
    sign, logdet = _la.slogdet_p.bind(a)
    return np.linalg._linalg.SlogdetResult(sign, logdet)


def matrix_power(a: ArrayLike, n: int) -> Array:
    """``a`` multiplied by itself ``n`` times (``n < 0``: powers of the inverse; ``n = 0``:
    the identity), by repeated squaring.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.matrix_power(fnp.array([[1.0, 1.0], [0.0, 1.0]]), 3).tolist()
        [[1.0, 3.0], [0.0, 1.0]]
    """
    a = operand(a)
    if not isinstance(n, (int, np.integer)):
        raise TypeError("exponent must be an integer")
    if not any_tracer(a):
        return array_module(a).linalg.matrix_power(a, n)
    if len(a.shape) < 2 or a.shape[-1] != a.shape[-2]:
        _square(a)  # raises NumPy's error
    # As NumPy: positive powers keep the dtype (integers, booleans), negative ones invert
    if n == 0:
        # host-data: made on the host, placed on the operand's device
        return _shape.broadcast_to(placed_like(np.eye(a.shape[-1], dtype=a.dtype), a), a.shape)
    if n < 0:
        a, n = inv(a), -n
    result = None
    power = a
    while n:
        if n & 1:
            result = power if result is None else _la.mm(result, power)
        n >>= 1
        if n:
            power = _la.mm(power, power)
    return result


def multi_dot(arrays: Sequence[ArrayLike], *, out: None = None,
              precision: Precision | str | tuple | None = None) -> Array:
    """The product of a chain of matrices, in the order of multiplication that costs the
    fewest operations (the first and last arrays may be vectors). ``precision`` (JAX's) is
    checked and changes nothing, as in ``functrans.numpy.matmul``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.multi_dot([fnp.ones((2, 3)), fnp.ones((3, 4)), fnp.ones(4)]).tolist()
        [12.0, 12.0]
    """
    refuse_out("linalg.multi_dot", out)
    if precision is not None:
        canonicalize_precision(precision)
    mats = [operand(a) for a in arrays]
    if len(mats) < 2:
        raise ValueError("Expecting at least two arrays.")
    if all(type(a) is np.ndarray for a in mats):
        return np.linalg.multi_dot(mats)  # numpy-only: other backends: the chain below (CuPy has none)
    first_vec, last_vec = len(mats[0].shape) == 1, len(mats[-1].shape) == 1
    if first_vec:
        mats[0] = _shape.reshape(mats[0], (1, mats[0].shape[0]))
    if last_vec:
        mats[-1] = _shape.reshape(mats[-1], (mats[-1].shape[0], 1))
    dims = [a.shape[0] for a in mats] + [mats[-1].shape[1]]
    n = len(mats)
    cost: list[list[float]] = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i: int, j: int) -> Array:
        # iterative in spirit: the depth is the chain length, which is small
        if i == j:
            return mats[i]
        k = split[i][j]
        return dot(product(i, k), product(k + 1, j))

    result = product(0, n - 1)
    if first_vec:
        result = _shape.reshape(result, result.shape[1:])
    if last_vec:
        result = _shape.reshape(result, result.shape[:-1])
    return result


# --- decompositions ------------------------------------------------------------------------------------


def cholesky(a: ArrayLike, /, *, upper: bool = False, symmetrize_input: bool = False) -> Array:
    """The lower-triangular ``L`` with ``L @ L^H = a`` (``upper=True``: the upper ``U`` with
    ``U^H @ U = a``), for a Hermitian positive-definite ``a``. As in NumPy, only the lower
    triangle of ``a`` is read (``upper=True``: the upper one), traced or not, and the
    derivative treats ``a`` as Hermitian (only the Hermitian part of a perturbation counts).
    ``symmetrize_input=True`` (JAX's option, and JAX's default) factors ``(a + a^H) / 2``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.cholesky(fnp.array([[4.0, 2.0], [2.0, 2.0]])).tolist()
        [[2.0, 0.0], [1.0, 1.0]]
    """
    a = _symmetrized(_square(a)) if symmetrize_input else _square(a)
    if type(a) is np.ndarray:
        return np.linalg.cholesky(a, upper=upper)  # numpy-only: NumPy arrays only, by the check above
    # The upper factor of a, from its upper triangle, is the conjugate transpose of the lower
    # factor of a^H, whose lower triangle is that upper triangle.
    if not any_tracer(a):  # CuPy's cholesky takes a only, and gives the lower factor
        xp = array_module(a)
        if not upper:
            return xp.linalg.cholesky(a)
        return xp.linalg.cholesky(a.swapaxes(-1, -2).conj()).swapaxes(-1, -2).conj()
    if not upper:
        return _la.cholesky(a)
    return _la.mH(_la.cholesky(_la.mH(a)))


def eigh(a: ArrayLike, UPLO: str | None = "L", *, symmetrize_input: bool = False) -> tuple[Array, Array]:
    """Eigenvalues (ascending) and eigenvectors (columns) of a Hermitian matrix, as a named
    pair ``(eigenvalues, eigenvectors)``. The matrix is read from its ``UPLO`` triangle
    (``None``: ``'L'``), or is ``(a + a^H) / 2`` with ``symmetrize_input=True`` (JAX's option,
    and JAX's default). See the module docstring for the derivative when eigenvalues repeat.

    Example:
        >>> import functrans.numpy as fnp
        >>> w, v = fnp.linalg.eigh(fnp.array([[2.0, 0.0], [0.0, 1.0]]))
        >>> w.tolist()
        [1.0, 2.0]
    """
    a = _symmetrized(_square(a)) if symmetrize_input else _square(a)
    if not any_tracer(a):
        return _lower_triangle_plain(a, UPLO, "eigh")
    a = _hermitian_from(a, lower=_is_lower(UPLO))
    w, v = _la.eigh(a)
    return np.linalg._linalg.EighResult(w, v)


def _is_lower(UPLO: str | None) -> bool:
    if UPLO not in ("L", "U", None):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return UPLO != "U"


def _symmetrized(a: Array) -> Array:
    """``(a + a^H) / 2``: the Hermitian part of ``a`` (what JAX's ``symmetrize_input`` reads)."""
    return _ew.mul(_ew.add(a, _la.mH(a)), 0.5)


def _lower_triangle_plain(a: Array, UPLO: str | None, name: str) -> Any:
    """``linalg.eigh`` or ``linalg.eigvalsh`` of a plain array given by its ``UPLO`` triangle,
    computed from a lower triangle as the traced path computes it (the upper triangle read as
    the lower one of the conjugate transpose), so that LAPACK sees the same numbers and
    returns the same eigenvectors, signs included, traced or not."""
    xp = array_module(a)
    lower = a if _is_lower(UPLO) else xp.conj(xp.swapaxes(a, -1, -2))
    return getattr(xp.linalg, name)(lower, "L")


def eig(a: ArrayLike) -> tuple[Array, Array]:
    """Eigenvalues and unit eigenvectors (columns) of a general square matrix, as a named
    pair. Unlike NumPy, the result is always complex (NumPy returns real arrays when every
    eigenvalue happens to be real), so that its type does not depend on the values. The
    eigenvector derivative divides by differences of eigenvalues (not finite where they
    repeat), and each eigenvector's phase is LAPACK's choice: differentiate functions that do
    not depend on it (``abs(v)``, ``v @ diag(w) @ inv(v)``).

    Example:
        >>> import functrans.numpy as fnp
        >>> w, v = fnp.linalg.eig(fnp.array([[0.0, -1.0], [1.0, 0.0]]))
        >>> sorted(w.tolist(), key=lambda z: z.imag)
        [-1j, 1j]
    """
    a = _square(a)
    w, v = _la.eig(a)
    return np.linalg._linalg.EigResult(w, v)


def eigvals(a: ArrayLike) -> Array:
    """Eigenvalues of a general square matrix (always complex; see ``eig``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.eigvals(fnp.array([[2.0, 0.0], [0.0, 3.0]])).tolist()
        [(2+0j), (3+0j)]
    """
    return eig(a)[0]


def _hermitian_from(a: Array, lower: bool) -> Array:
    """The Hermitian matrix whose ``lower`` (or upper) triangle is that of ``a``."""
    n = a.shape[-1]
    strict = np.tri(n, n, -1, dtype=bool)  # host-data: made on the host, placed on the operand's device
    if not lower:
        strict = strict.T
    tri = _ew.select(placed_like(strict, a), a, 0)
    # host-data: made on the host, placed on the operand's device
    diag = _ew.select(placed_like(np.eye(n, dtype=bool), a), a, 0)
    if a.dtype.kind == "c":
        diag = convert_element_type(_ew.real(diag), new_dtype=a.dtype)
    return _ew.add(_ew.add(tri, _la.mH(tri)), diag)


def eigvalsh(a: ArrayLike, UPLO: str | None = "L", *, symmetrize_input: bool = False) -> Array:
    """Eigenvalues (ascending) of a Hermitian matrix (``UPLO`` and ``symmetrize_input`` as
    ``eigh``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.eigvalsh(fnp.array([[2.0, 0.0], [0.0, 1.0]])).tolist()
        [1.0, 2.0]
    """
    a = _symmetrized(_square(a)) if symmetrize_input else _square(a)
    if not any_tracer(a):
        return _lower_triangle_plain(a, UPLO, "eigvalsh")
    return eigh(a, UPLO)[0]


def svd(a: ArrayLike, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Array | tuple[Array, Array, Array]:
    """Singular value decomposition ``a = U @ diag(S) @ Vh`` (a named triple), singular values
    descending. Derivatives need ``full_matrices=False`` for non-square matrices; see the
    module docstring for repeated singular values.

    Example:
        >>> import functrans.numpy as fnp
        >>> [round(v, 12) for v in fnp.linalg.svd(fnp.array([[3.0, 0.0], [0.0, -2.0]]), compute_uv=False).tolist()]
        [3.0, 2.0]
    """
    a = _matrix(a)
    if type(a) is np.ndarray:
        # NumPy's stubs overload compute_uv as Literal[True] or Literal[False] only, not bool
        # numpy-only: NumPy arrays only, by the check above
        return np.linalg.svd(a, full_matrices, compute_uv, hermitian)  # type: ignore[call-overload]
    if hermitian:
        return _hermitian_svd(a, compute_uv)
    if not any_tracer(a):
        return array_module(a).linalg.svd(a, full_matrices, compute_uv)
    if not compute_uv:
        return _la.svd(a, False)[1]
    u, s, vh = _la.svd(a, full_matrices)
    return np.linalg._linalg.SVDResult(u, s, vh)


def _hermitian_svd(a: Array, compute_uv: bool) -> Any:
    """NumPy's ``svd(a, hermitian=True)``, also traced and on CuPy (whose svd has no
    ``hermitian``): from ``eigh`` of the lower triangle, singular values ``|w|`` descending,
    ``U`` the eigenvectors in that order and ``Vh = (U * copysign(1, w))^H``, so that every
    path gives NumPy's numbers."""
    w, v = eigh(a)
    s = _abs(w)
    if not compute_uv:
        return _flip(_sort(s, axis=-1), axis=-1)
    order = _flip(_argsort(s, axis=-1), axis=-1)
    s = _take_along_axis(s, order, axis=-1)
    signs = _take_along_axis(_copysign(1.0, w), order, axis=-1)
    u = _take_along_axis(v, _shape.expand_dims(order, (len(order.shape) - 1,)), axis=-1)
    vh = _la.mH(_ew.mul(u, _shape.expand_dims(signs, (len(signs.shape) - 1,))))
    return np.linalg._linalg.SVDResult(u, s, vh)


def svdvals(x: ArrayLike, /) -> Array:
    """The singular values, descending.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.svdvals(fnp.array([[0.0, 2.0], [1.0, 0.0]])).tolist()
        [2.0, 1.0]
    """
    return svd(x, compute_uv=False)


def qr(a: ArrayLike, mode: str = "reduced") -> Array | tuple[Array, Array]:
    """QR decomposition ``a = Q @ R`` (a named pair), ``Q`` with orthonormal columns and ``R``
    upper triangular (``mode='complete'``: ``Q`` square); ``mode='r'`` gives ``R`` only.
    Derivatives need at least as many rows as columns (and, for ``'complete'``, as many).

    Example:
        >>> import functrans.numpy as fnp
        >>> q, r = fnp.linalg.qr(fnp.array([[3.0, 1.0], [4.0, 2.0]]))
        >>> [round(v, 6) for v in r[0].tolist()]
        [-5.0, -2.2]
    """
    a = _matrix(a)
    if not any_tracer(a):
        return array_module(a).linalg.qr(a, mode)
    if mode not in ("reduced", "complete", "r"):
        raise NotImplementedError(f"functrans.numpy.linalg.qr supports mode='reduced', 'complete' and "
                                  f"'r' on traced arrays, got mode={mode!r}")
    q, r = _la.qr(a, full_matrices=mode == "complete" and a.shape[-2] > a.shape[-1])
    return r if mode == "r" else np.linalg._linalg.QRResult(q, r)


def pinv(a: ArrayLike, rcond: float | None = None, hermitian: bool = False, *,
         rtol: float | None = None) -> Array:
    """The Moore-Penrose pseudo-inverse (singular values below ``rcond`` times the largest
    are treated as zero). Its derivative is the closed form of Golub and Pereyra, valid
    where the rank does not change.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.pinv(fnp.array([[2.0, 0.0], [0.0, 0.0]])).tolist()
        [[0.5, 0.0], [0.0, 0.0]]
    """
    a = _matrix(a)
    if rcond is None:
        rcond = rtol if rtol is not None else max(a.shape[-2:]) * np.finfo(a.dtype).eps
    if isinstance(rcond, Tracer):
        # The cut-off only chooses which singular values count: the result is constant in it
        # almost everywhere, so its value is all that is needed, and no derivative is lost.
        try:
            rcond = rcond.to_concrete()
        except errors.TracerConversionError:
            raise errors.UnsupportedError(
                "fnp.linalg.pinv: rcond (rtol) must have a value when the call is traced: it "
                "decides which singular values are cut off. Pass a Python float, or mark the "
                "argument static (jit's static_argnums).") from None
    if not any_tracer(a):
        return array_module(a).linalg.pinv(a, rcond=rcond)
    return _la.pinv(a, float(rcond))


def lstsq(a: ArrayLike, b: ArrayLike, rcond: float | None = None, *,
          numpy_resid: bool = False) -> tuple[Array, Array, Any, Array]:
    """The least-squares solution ``x`` of ``a @ x = b``, with the sums of squared residuals
    (when ``a`` has full column rank and more rows than columns), the rank and the singular
    values of ``a``, as NumPy returns them. ``x``, the residuals and the singular values are
    differentiable.

    Under ``jit`` or ``vmap`` the values of ``a`` are not known when the shapes are chosen,
    so the results follow JAX's ``lstsq`` there: the rank is an int32 array, and for a
    matrix with more rows than columns the residuals are computed whatever the rank (for a
    rank-deficient one NumPy, and so the eager call, returns none). With as many rows as
    columns or fewer they are empty, as NumPy's always are (JAX computes them). JAX's
    ``numpy_resid=True`` asks for NumPy's residuals, which eager calls give anyway; under
    ``jit`` or ``vmap`` it raises, as in JAX (their shape depends on the rank's value).

    Example:
        >>> import functrans.numpy as fnp
        >>> a = fnp.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
        >>> x = fnp.linalg.lstsq(a, fnp.array([1.0, 2.0, 3.0]))[0]
        >>> [round(v, 6) for v in x.tolist()]
        [1.0, 1.0]
    """
    a = _matrix(a)
    b = inexact(b)
    if not any_tracer(a, b):
        return array_module(a).linalg.lstsq(a, b, rcond=rcond)
    if len(a.shape) != 2:
        raise LinAlgError("lstsq needs a 2-dimensional matrix")
    if len(b.shape) not in (1, 2) or b.shape[0] != a.shape[0]:
        raise LinAlgError(f"lstsq: b of shape {tuple(b.shape)} does not match a of shape {tuple(a.shape)}: "
                          "b needs as many rows as a, and one or two dimensions")
    m, n = a.shape
    cut = np.finfo(a.dtype).eps * max(m, n) if rcond is None else rcond
    b2 = b if len(b.shape) == 2 else _shape.reshape(b, (m, 1))
    x = _la.mm(pinv(a, rcond=cut), b2)
    try:
        concrete = a.to_concrete() if any_tracer(a) else a
    except errors.TracerConversionError:  # jit or vmap: the rank is an array, as in JAX
        if numpy_resid:
            raise errors.TracerConversionError(
                "lstsq(numpy_resid=True) returns NumPy's residuals, whose shape depends on the rank's "
                "value, which is not known under jit or vmap (as in JAX): pass numpy_resid=False there, "
                "or call lstsq outside the transformation") from None
        s = svdvals(a)
        largest = _red.reduce_max(s, (0,)) if min(m, n) else 0.0
        above = convert_element_type(_ew.gt(s, _ew.mul(largest, cut)), new_dtype=np.intp)
        rank: Any = convert_element_type(_red.reduce_sum(above, (0,)), new_dtype=np.int32)  # NumPy's type
        with_residuals = m > n
    else:
        xp = array_module(concrete)
        s = xp.linalg.svd(concrete, compute_uv=False)
        rank = int(host_values(xp.sum(s > cut * (s[0] if s.size else 0))))  # a Python int, as NumPy returns it
        with_residuals = rank == n and m > n
    if with_residuals:
        resid = _ew.sub(b2, _la.mm(a, x))
        sq = _ew.real(_ew.mul(resid, _ew.conj(resid))) if resid.dtype.kind == "c" else _ew.mul(resid, resid)
        residuals = _red.reduce_sum(sq, (0,))
    else:
        residuals = placed_like(
            # host-data: made on the host, placed on the operand's device
            np.zeros((0,), np.dtype(a.dtype.char.lower()) if a.dtype.kind == "c" else a.dtype), a)
    if len(b.shape) == 1:
        x = _shape.reshape(x, (n,))
    return x, residuals, rank, s


def matrix_rank(A: ArrayLike, tol: float | None = None, hermitian: bool = False, *,
                rtol: float | None = None) -> Array:
    """The number of singular values above the tolerance: ``tol``, or by default ``rtol``
    (``max(m, n) * eps`` if not given) times the largest singular value. Traceable (an
    integer array under jit and vmap).

    Example:
        >>> import functrans.numpy as fnp
        >>> int(fnp.linalg.matrix_rank(fnp.array([[1.0, 2.0], [2.0, 4.0]])))
        1
    """
    value = operand(A)
    if any_tracer(value, tol, rtol):
        return _traced_rank(inexact(value), tol, hermitian, rtol)
    if type(value) is np.ndarray:
        # numpy-only: NumPy arrays only, by the check above
        return np.linalg.matrix_rank(value, tol=tol, hermitian=hermitian, rtol=rtol)
    options: dict[str, Any] = {"hermitian": True} if hermitian else {}  # CuPy takes M and tol only
    if rtol is not None:
        options["rtol"] = rtol
    return array_module(value).linalg.matrix_rank(value, tol=tol, **options)


def _per_matrix(v: ArrayLike) -> Any:
    """A tolerance, one number or one per matrix of a stack, against the singular values."""
    if isinstance(v, (int, float)):
        return float(v)
    v = as_array(v)
    return _shape.expand_dims(v, (len(v.shape),))


def _traced_rank(a: Array, tol: ArrayLike | None, hermitian: bool, rtol: ArrayLike | None) -> Array:
    """``matrix_rank`` as NumPy computes it, in traceable operations."""
    if tol is not None and rtol is not None:
        raise ValueError("`tol` and `rtol` can't be both set.")
    if len(a.shape) < 2:
        return _red.reduce_max(convert_element_type(_ew.ne(a, 0), new_dtype=np.intp),
                               tuple(range(len(a.shape))))
    s: Any = _abs(eigvalsh(a)) if hermitian else svd(a, compute_uv=False)
    last = len(s.shape) - 1
    if tol is None:
        if rtol is None:
            rtol = max(a.shape[-2:]) * float(np.finfo(s.dtype).eps)
        largest = _shape.expand_dims(_red.reduce_max(s, (last,)), (last,))
        bound = _ew.mul(largest, _per_matrix(rtol))
    else:
        bound = _per_matrix(tol)
    above = convert_element_type(_ew.gt(s, bound), new_dtype=np.intp)
    return _red.reduce_sum(above, (last,))


def cond(x: ArrayLike, p: NormOrder | None = None) -> Array:
    """The condition number in the norm ``p`` (2 by default: largest over smallest singular
    value).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.linalg.cond(fnp.array([[2.0, 0.0], [0.0, 1.0]])))
        2.0
    """
    x = _matrix(x)
    if type(x) is np.ndarray:
        return np.linalg.cond(x, p)  # numpy-only: CuPy has no linalg.cond; others take the path below
    if p is None or p in (2, -2):
        s = svdvals(x)
        k = s.shape[-1]
        big = _shape.slice_(s, (0,) * (len(s.shape) - 1) + (0,), s.shape[:-1] + (1,))
        small = _shape.slice_(s, (0,) * (len(s.shape) - 1) + (k - 1,), s.shape[:-1] + (k,))
        big, small = _shape.reshape(big, s.shape[:-1]), _shape.reshape(small, s.shape[:-1])
        return _ew.div(big, small) if p != -2 else _ew.div(small, big)
    return _ew.mul(matrix_norm(x, ord=p), matrix_norm(inv(x), ord=p))


# --- norms ---------------------------------------------------------------------------------------------


def _abs(x: Array) -> Array:
    return _ew.abs(x)


def _sum(x: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
    out = _red.reduce_sum(x, axes)
    if keepdims:
        out = _shape.expand_dims(out, axes)
    return out


@functools.partial(custom_jvp, nondiff_argnums=(1, 2))
def _euclidean_norm(x: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
    """``sqrt(sum(|x|**2))`` over ``axes``. Its derivative, ``Re(conj(x) dx) / |x|``, is a rule
    of its own that is 0 at ``x = 0`` (where the norm has no derivative) instead of 0/0."""
    return _ew.sqrt(_sum(_abs_squared(x), axes, keepdims))


@_euclidean_norm.defjvp
def _euclidean_norm_jvp(axes: tuple[int, ...], keepdims: bool, primals: tuple[Array, ...],
                        tangents: tuple[Array, ...]) -> tuple[Array, Array]:
    (x,), (t,) = primals, tangents
    n = _euclidean_norm(x, axes, True)
    unit = _ew.div(x, _ew.select(_ew.eq(n, 0), 1.0, n))  # x = 0 wherever n = 0: unit is 0
    along = _ew.mul(_ew.conj(unit), t)
    if along.dtype.kind == "c":
        along = _ew.real(along)
    tangent = _sum(along, axes, keepdims)
    return (n if keepdims else _shape.squeeze(n, axes)), tangent


def _abs_squared(x: Array) -> Array:
    if x.dtype.kind == "c":
        return _ew.add(_ew.integer_pow(_ew.real(x), 2), _ew.integer_pow(_ew.imag(x), 2))
    return _ew.integer_pow(x, 2)


def vector_norm(x: ArrayLike, /, *, axis: int | Sequence[int] | None = None, keepdims: bool = False,
                ord: float | None = 2) -> Array:
    """The vector ``ord``-norm over ``axis`` (all axes by default): 2 (Euclidean), 1, inf,
    -inf, 0 (count of nonzeros), or any other real ``p``: ``sum(|x|**p)**(1/p)``.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> float(fnp.linalg.vector_norm(fnp.array([3.0, 4.0])))
        5.0
        >>> ft.grad(lambda x: fnp.linalg.vector_norm(x) ** 2)(fnp.zeros(2)).tolist()
        [0.0, 0.0]
    """
    x = inexact(x)
    nd = len(x.shape)
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(normalize_axis(a, nd) for a in ((axis,) if isinstance(axis, int) else axis))
    if ord is None or ord == 2:
        return _euclidean_norm(x, axes, keepdims)
    if ord == 1:
        return _sum(_abs(x), axes, keepdims)
    if ord == np.inf or ord == -np.inf:
        reducer = _red.reduce_max if ord == np.inf else _red.reduce_min
        out = reducer(_abs(x), axes)
        return _shape.expand_dims(out, axes) if keepdims else out
    if ord == 0:
        count = _sum(convert_element_type(_ew.ne(x, 0), new_dtype=_real_dtype(x)), axes, keepdims)
        return count
    p = float(ord)
    total = _sum(_ew.pow(_abs(x), p), axes, keepdims)
    return _ew.pow(total, 1.0 / p)


def _real_dtype(x: Array) -> np.dtype:
    return np.dtype(x.dtype.char.lower()) if x.dtype.kind == "c" else x.dtype


def matrix_norm(x: ArrayLike, /, *, keepdims: bool = False, ord: NormOrder | None = "fro") -> Array:
    """The matrix ``ord``-norm of the last two dimensions: ``'fro'``, ``'nuc'`` (sum of
    singular values), 2 / -2 (largest / smallest singular value), 1 / -1 (largest /
    smallest absolute column sum), inf / -inf (the same for rows).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.linalg.matrix_norm(fnp.array([[1.0, -2.0], [3.0, 4.0]]), ord=1))
        6.0
    """
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def norm(x: ArrayLike, ord: NormOrder | None = None, axis: int | Sequence[int] | None = None,
         keepdims: bool = False) -> Array:
    """Vector or matrix norm, as ``numpy.linalg.norm``: with ``axis=None`` a 1-D array gets
    the vector norm, a 2-D one the matrix norm (Frobenius by default); an int ``axis`` means
    vector norms along it and a pair of axes matrix norms in those planes. The derivative at
    0 is 0 (so the gradient of ``norm(x)**2`` at 0 is exactly 0).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.linalg.norm(fnp.array([[1.0, 2.0], [2.0, 4.0]])))
        5.0
    """
    x = inexact(x)
    nd = len(x.shape)
    if not any_tracer(x):
        return array_module(x).linalg.norm(x, ord, axis, keepdims)
    if axis is None:
        if ord is None:
            out = _euclidean_norm(x, tuple(range(nd)), False)
            return _shape.reshape(out, (1,) * nd) if keepdims else out
        if nd == 1:
            axis = 0
        elif nd == 2:
            axis = (0, 1)
        else:
            raise ValueError("Improper number of dimensions to norm.")
    if isinstance(axis, (int, np.integer)) or len(axis) == 1:
        ax = axis if isinstance(axis, (int, np.integer)) else axis[0]
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        return vector_norm(x, axis=int(ax), keepdims=keepdims, ord=ord)
    row, col = (normalize_axis(a, nd) for a in axis)
    if row == col:
        raise ValueError("Duplicate axes given.")
    if ord is None or ord == "fro":
        return _euclidean_norm(x, (row, col), keepdims)
    if ord in (1, -1, np.inf, -np.inf):
        summed_axis, extreme_axis = (row, col) if ord in (1, -1) else (col, row)
        sums = _red.reduce_sum(_abs(x), (summed_axis,))
        reducer = _red.reduce_max if ord in (1, np.inf) else _red.reduce_min
        out = reducer(sums, (extreme_axis - (1 if extreme_axis > summed_axis else 0),))
    elif ord in (2, -2, "nuc"):
        moved = _shape.transpose(x, tuple(d for d in range(nd) if d not in (row, col)) + (row, col))
        s = svdvals(moved)
        last = len(s.shape) - 1
        if ord == "nuc":
            out = _red.reduce_sum(s, (last,))
        else:
            out = (_red.reduce_max if ord == 2 else _red.reduce_min)(s, (last,))
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        out = _shape.expand_dims(out, tuple(sorted((row, col))))
    return out


# --- array API names ----------------------------------------------------------------------------------


def matrix_transpose(x: ArrayLike, /) -> Array:
    """Swap the last two dimensions.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.matrix_transpose(fnp.ones((2, 3))).shape
        (3, 2)
    """
    x = operand(x)
    if len(x.shape) < 2:
        raise ValueError("matrix_transpose needs an array of at least two dimensions")
    return _la.mT(x)


def vecdot(x1: ArrayLike, x2: ArrayLike, /, *, axis: int = -1,
           precision: Precision | str | tuple | None = None) -> Array:
    """``sum(conj(x1) * x2)`` along ``axis``, broadcasting the other dimensions
    (``precision``: as ``matmul``).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.linalg.vecdot(fnp.array([1.0, 2.0]), fnp.array([3.0, 4.0])))
        11.0
    """
    if precision is not None:
        canonicalize_precision(precision)
    x1, x2 = inexact(x1), inexact(x2)
    if x1.dtype.kind == "c":
        x1 = _ew.conj(x1)
    prod = _ew.mul(x1, x2)
    return _red.reduce_sum(prod, (normalize_axis(axis, len(prod.shape)),))


def matmul(x1: ArrayLike, x2: ArrayLike, /, *, precision: Precision | str | tuple | None = None) -> Array:
    """``numpy.matmul`` (also in this namespace, as in NumPy 2). ``precision`` (JAX's) is
    checked and changes nothing, as in ``functrans.numpy.matmul``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.matmul(fnp.ones((2, 3)), fnp.ones((3, 1))).shape
        (2, 1)
    """
    return _matmul(x1, x2, precision=precision)


def outer(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Outer product of two vectors.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.outer(fnp.ones(2), fnp.ones(3)).shape
        (2, 3)
    """
    return _outer(x1, x2)


def tensordot(x1: ArrayLike, x2: ArrayLike, /, *, axes: int | Sequence[int | Sequence[int]] = 2,
              precision: Precision | str | tuple | None = None) -> Array:
    """``numpy.tensordot`` (also in this namespace, as in NumPy 2; ``precision``: as ``matmul``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.tensordot(fnp.ones((2, 3)), fnp.ones((3, 2)), axes=1).shape
        (2, 2)
    """
    return _tensordot(x1, x2, axes, precision=precision)


def trace(x: ArrayLike, /, *, offset: int = 0, dtype: DType | None = None) -> Array:
    """The sum of each matrix's diagonal (the last two dimensions).

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.linalg.trace(fnp.eye(3)))
        3.0
    """
    return _trace(x, offset, -2, -1, dtype)


def diagonal(x: ArrayLike, /, *, offset: int = 0) -> Array:
    """The diagonal of each matrix (the last two dimensions).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.diagonal(fnp.eye(2)).tolist()
        [1.0, 1.0]
    """
    return _diagonal(x, offset, -2, -1)


def cross(x1: ArrayLike, x2: ArrayLike, /, *, axis: int = -1) -> Array:
    """Cross product of 3-vectors along ``axis``. Unlike ``fnp.cross``, 2-vectors are
    refused, as NumPy 2 and JAX refuse them here.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.linalg.cross(fnp.array([1.0, 0.0, 0.0]), fnp.array([0.0, 1.0, 0.0])).tolist()
        [0.0, 0.0, 1.0]
    """
    x1, x2 = as_array(x1), as_array(x2)
    sizes = [x.shape[normalize_axis(axis, len(x.shape))] if len(x.shape) else 0 for x in (x1, x2)]
    if sizes != [3, 3]:
        raise ValueError(f"fnp.linalg.cross takes (arrays of) 3-vectors along axis {axis}, got sizes "
                         f"{sizes[0]} and {sizes[1]}; for 2-vectors (the z component of their cross "
                         "product) use fnp.cross")
    return _cross(x1, x2, axis=axis)


_refuse_out_everywhere(globals(), np.linalg, "linalg.")
