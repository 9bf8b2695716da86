"""SciPy's special matrices (``scipy.linalg.circulant``, ``hankel``, ``pascal``, ...), for
``functrans.scipy.linalg``. The ones built from arrays are differentiable in them and batch
over leading dimensions; the ones built from a size alone are host NumPy arrays, as
``functrans.numpy.eye`` is."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.numpy._util import any_tracer, host_values, operand
from functrans.typing import Array, ArrayLike, DType

__all__ = ["circulant", "companion", "convolution_matrix", "dft", "fiedler", "fiedler_companion", "hadamard",
           "hankel", "helmert", "hilbert", "invhilbert", "invpascal", "leslie", "pascal", "toeplitz"]


def _vectors(x: ArrayLike) -> Any:
    return fnp.atleast_1d(fnp.asarray(operand(x)))


def _pad_last_two(x: Any, rows: tuple[int, int], cols: tuple[int, int]) -> Any:
    return fnp.pad(x, [(0, 0)] * (len(x.shape) - 2) + [rows, cols])


def _constant_along_lines(column: Any, row: Any, flip_column: bool) -> Any:
    """The ``m x n`` matrix (batched over the broadcast leading dimensions) with first column
    ``column`` and, after its corner entry, ``row[1:]`` along the far side: constant along the
    diagonals (Toeplitz, ``flip_column``) or the anti-diagonals (Hankel). The matrix takes its
    entries from the line values ``[column, row[1:]]`` (the column reversed for Toeplitz)."""
    m, n = column.shape[-1], row.shape[-1]
    batch = np.broadcast_shapes(tuple(column.shape[:-1]), tuple(row.shape[:-1]))
    column = fnp.broadcast_to(column, batch + (m,))
    lines = fnp.concatenate([fnp.flip(column, -1) if flip_column else column,
                             fnp.broadcast_to(row, batch + (n,))[..., 1:]], axis=-1)
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]  # host-data: positions only
    return fnp.take(lines, (m - 1 - i + j) if flip_column else (i + j), axis=-1)


def toeplitz(c: ArrayLike, r: ArrayLike | None = None) -> Array:
    """The Toeplitz matrix with first column ``c`` and first row ``r`` (``r[0]`` is ignored;
    by default ``r = conj(c)``, a Hermitian matrix for real ``c[0]``): ``T[i, j] = c[i - j]``
    for ``i >= j``, ``r[j - i]`` above. Leading dimensions of ``c`` and ``r`` are batch
    dimensions (broadcast), as in SciPy and JAX. Differentiable in ``c`` and ``r``.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.toeplitz(np.array([1.0, 2.0, 3.0]), np.array([1.0, 4.0])).tolist()
        [[1.0, 4.0], [2.0, 1.0], [3.0, 2.0]]
    """
    column = _vectors(c)
    row = column if r is None else _vectors(r)
    if r is None and column.dtype.kind == "c":
        row = fnp.conj(column)
    # the diagonals, from the lowest (c[m - 1]) to the highest (r[n - 1]): T[i, j] is entry m - 1 - i + j
    return _constant_along_lines(column, row, flip_column=True)


def circulant(c: ArrayLike) -> Array:
    """The circulant matrix whose first column is ``c``: ``C[i, j] = c[(i - j) % n]``.
    Leading dimensions of ``c`` are batch dimensions. Differentiable in ``c``.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.circulant(np.array([1.0, 2.0, 3.0])).tolist()
        [[1.0, 3.0, 2.0], [2.0, 1.0, 3.0], [3.0, 2.0, 1.0]]
    """
    column = _vectors(c)
    n = column.shape[-1]
    index = (np.arange(n)[:, None] - np.arange(n)[None, :]) % max(n, 1)  # host-data: positions only
    return fnp.take(column, index, axis=-1)


def hankel(c: ArrayLike, r: ArrayLike | None = None) -> Array:
    """The Hankel matrix with first column ``c`` and last row ``r`` (``r[0]`` is ignored; by
    default zeros): ``H[i, j] = c[i + j]`` for ``i + j < len(c)``, ``r[i + j - len(c) + 1]``
    after. Leading dimensions of ``c`` and ``r`` are batch dimensions (broadcast), as in JAX
    (SciPy 1.17 ravels them, with a warning that it will batch). Differentiable in both.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.hankel(np.array([1.0, 2.0, 3.0]), np.array([3.0, 4.0])).tolist()
        [[1.0, 2.0], [2.0, 3.0], [3.0, 4.0]]
    """
    column = _vectors(c)
    row = fnp.zeros_like(column) if r is None else _vectors(r)
    # the anti-diagonals, from the first (c[0]) to the last (r[n - 1]): H[i, j] is entry i + j
    return _constant_along_lines(column, row, flip_column=False)


def fiedler(a: ArrayLike) -> Array:
    """The symmetric Fiedler matrix ``F[i, j] = |a[i] - a[j]|`` (leading dimensions of ``a``
    are batch dimensions). As in SciPy, an empty ``a`` gives an empty float64 array and one
    entry gives ``[[0.0]]``. Differentiable in ``a`` away from ties (where ``abs`` has a kink).

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.fiedler(np.array([1.0, 4.0, 2.0])).tolist()
        [[0.0, 3.0, 1.0], [3.0, 0.0, 2.0], [1.0, 2.0, 0.0]]
    """
    x = _vectors(a)
    size = math.prod(x.shape)
    if size == 0:
        return fnp.zeros((0,), like=x)
    if size == 1:
        return fnp.zeros((1, 1), like=x)
    return fnp.abs(x[..., :, None] - x[..., None, :])


def _leading_nonzero(a: Any, what: str) -> None:
    """SciPy's check that the leading coefficients are nonzero, where their values are known
    (under jit or vmap a zero one gives infinities, as in JAX)."""
    if not any_tracer(a) and host_values(fnp.any(a[..., 0] == 0)):
        raise ValueError(f"{what}: the leading coefficient(s) a[..., 0] must not be zero")


def companion(a: ArrayLike) -> Array:
    """The companion matrix of the polynomial with coefficients ``a`` (highest degree first):
    first row ``-a[1:] / a[0]``, ones on the subdiagonal; its eigenvalues are the roots.
    Leading dimensions of ``a`` are batch dimensions. Differentiable in ``a``.

    Raises:
        ValueError: ``a`` has fewer than 2 coefficients, or (with known values) ``a[..., 0]``
            is zero.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.companion(np.array([1.0, -3.0, 2.0])).tolist()
        [[3.0, -2.0], [1.0, 0.0]]
    """
    x = _vectors(a)
    n = x.shape[-1]
    if n < 2:
        raise ValueError("companion: the length of `a` along the last axis must be at least 2")
    _leading_nonzero(x, "companion")
    first_row = -x[..., 1:] / (1.0 * x[..., 0:1])
    top = _pad_last_two(first_row[..., None, :], (0, n - 2), (0, 0))
    return top + fnp.eye(n - 1, k=-1, dtype=first_row.dtype, like=x)


def fiedler_companion(a: ArrayLike) -> Array:
    """The Fiedler companion matrix of the polynomial with coefficients ``a`` (highest degree
    first): pentadiagonal, with the polynomial's roots as eigenvalues. Leading dimensions of
    ``a`` are batch dimensions; fewer than 2 coefficients give an empty array, as in SciPy.
    Differentiable in ``a``.

    Raises:
        ValueError: (with known values, and more than 2 coefficients) ``a[..., 0]`` is zero.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.fiedler_companion(np.array([1.0, -6.0, 11.0, -6.0])).tolist()
        [[6.0, -11.0, 1.0], [1.0, 0.0, 0.0], [0.0, 6.0, 0.0]]
    """
    x = _vectors(a)
    size = x.shape[-1]
    if size < 2:
        return fnp.zeros(x.shape[:-1] + (0,), dtype=x.dtype, like=x)
    if size > 2:
        _leading_nonzero(x, "fiedler_companion")
    x = x / x[..., 0:1]
    n = size - 1
    # entries as positions in v = [0, 1, -a[1], ..., -a[n]]: -a[j] is v[j + 1]
    index = np.zeros((n, n), dtype=np.intp)  # host-data: positions only
    index[0, 0] = 2
    if n > 1:
        index[1, 0] = 1
    for k in range(3, n, 2):
        index[k, k - 2] = 1
    for k in range(2, n, 2):
        index[k, k - 1] = k + 2
    for k in range(0, n - 2, 2):
        index[k, k + 2] = 1
    for k in range(0, n - 1, 2):
        index[k, k + 1] = k + 3
    v = fnp.concatenate([fnp.zeros_like(x[..., :1]), fnp.ones_like(x[..., :1]), -x[..., 1:]], axis=-1)
    return fnp.take(v, index, axis=-1)


def leslie(f: ArrayLike, s: ArrayLike) -> Array:
    """The Leslie matrix: fecundities ``f`` (length ``n``) in the first row, survival rates
    ``s`` (length ``n - 1``) on the subdiagonal. Leading dimensions are batch dimensions
    (broadcast). Differentiable in both.

    Raises:
        ValueError: ``len(s) != len(f) - 1`` or ``s`` is empty.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.leslie(np.array([0.1, 2.0, 1.0]), np.array([0.5, 0.8])).tolist()
        [[0.1, 2.0, 1.0], [0.5, 0.0, 0.0], [0.0, 0.8, 0.0]]
    """
    fx, sx = _vectors(f), _vectors(s)
    if fx.shape[-1] != sx.shape[-1] + 1:
        raise ValueError("leslie: the length of s along the last axis must be one less than that of f, got "
                         f"{fx.shape[-1]} and {sx.shape[-1]}")
    if sx.shape[-1] == 0:
        raise ValueError("leslie: the length of s must be at least 1")
    n = fx.shape[-1]
    dtype = np.result_type(fx.dtype, sx.dtype)
    top = _pad_last_two(fnp.astype(fx, dtype)[..., None, :], (0, n - 1), (0, 0))
    diagonal = fnp.astype(sx, dtype)[..., :, None] * fnp.eye(n - 1, dtype=dtype, like=sx)
    return top + _pad_last_two(diagonal, (1, 0), (0, 1))


def convolution_matrix(a: ArrayLike, n: int, mode: str = "full") -> Array:
    """The matrix ``A`` with ``A @ v == numpy.convolve(a, v, mode)`` for vectors ``v`` of
    length ``n``: a Toeplitz matrix of ``len(a) + n - 1`` rows (``'full'``),
    ``max(len(a), n)`` (``'same'``) or ``max - min + 1`` (``'valid'``). Leading dimensions of
    ``a`` are batch dimensions. Differentiable in ``a``.

    Raises:
        ValueError: ``n < 1``, ``a`` is empty, or ``mode`` is not one of the three.

    Example:
        >>> import functrans.scipy.linalg as fsl, numpy as np
        >>> fsl.convolution_matrix(np.array([1.0, 2.0]), 2).tolist()
        [[1.0, 0.0], [2.0, 1.0], [0.0, 2.0]]
    """
    if n <= 0:
        raise ValueError(f"convolution_matrix: n must be a positive integer, got {n}")
    x: Any = fnp.asarray(operand(a))
    if math.prod(x.shape) == 0 or len(x.shape) == 0:
        raise ValueError("convolution_matrix: len(a) must be at least 1")
    if mode not in ("full", "valid", "same"):
        raise ValueError(f"convolution_matrix: mode must be 'full', 'valid' or 'same', got {mode!r}")
    m = x.shape[-1]
    lead = [(0, 0)] * (len(x.shape) - 1)
    az = fnp.pad(x, lead + [(0, n - 1)])
    raz = fnp.pad(fnp.flip(x, -1), lead + [(0, n - 1)])
    length = az.shape[-1]
    if mode == "full":
        tb = te = 0
    else:
        trim = min(n, m) - 1
        tb, te = (trim // 2, trim - trim // 2) if mode == "same" else (trim, trim)
    col0 = az[..., tb:length - te]
    row0 = raz[..., length - n - tb:length - tb]
    return toeplitz(col0, row0)


def dft(n: int, scale: str | None = None, *, dtype: DType | None = None) -> Array:
    """The ``n x n`` discrete Fourier transform matrix ``m[j, k] = exp(-2 pi i j k / n)``
    (``m @ x == fft(x)``), divided by ``sqrt(n)`` with ``scale='sqrtn'`` or by ``n`` with
    ``'n'``; complex128, or ``dtype`` (JAX's option).

    Example:
        >>> import functrans.scipy.linalg as fsl
        >>> fsl.dft(2).real.tolist()
        [[1.0, 1.0], [1.0, -1.0]]
    """
    if scale not in (None, "sqrtn", "n"):
        raise ValueError(f"dft: scale must be None, 'sqrtn' or 'n', got {scale!r}")
    omegas = np.exp(-2j * np.pi * np.arange(n) / n).reshape(-1, 1)  # host-data: made from a size
    m = omegas ** np.arange(n)  # host-data: made from a size
    if scale == "sqrtn":
        m /= math.sqrt(n)
    elif scale == "n":
        m /= n
    return m if dtype is None else m.astype(dtype)


def hadamard(n: int, dtype: DType = int) -> Array:
    """The ``n x n`` Hadamard matrix of Sylvester's construction (``n`` a power of 2).

    Raises:
        ValueError: ``n`` is not a positive power of 2.

    Example:
        >>> import functrans.scipy.linalg as fsl
        >>> fsl.hadamard(2).tolist()
        [[1, 1], [1, -1]]
    """
    order = int(math.log(n, 2)) if n >= 1 else 0
    if 2 ** order != n:
        raise ValueError(f"hadamard: n must be a positive integer and a power of 2, got {n}")
    h = np.array([[1]], dtype=dtype)  # host-data: made from a size
    for _ in range(order):
        h = np.block([[h, h], [h, -h]])  # host-data: made from a size
    return h


def helmert(n: int, full: bool = False) -> Array:
    """The Helmert matrix of order ``n``: orthogonal, its first row constant; without
    ``full``, the ``(n - 1) x n`` matrix of its other rows (orthonormal contrasts).

    Example:
        >>> import functrans.scipy.linalg as fsl
        >>> [round(v, 6) for v in fsl.helmert(2)[0].tolist()]
        [0.707107, -0.707107]
    """
    h = np.tril(np.ones((n, n)), -1) - np.diag(np.arange(n))  # host-data: made from a size
    d = np.arange(n) * np.arange(1, n + 1)  # host-data: made from a size
    h[0] = 1
    if n:
        d[0] = n
    full_matrix = h / np.sqrt(d)[:, None]  # host-data: made from a size
    return full_matrix if full else full_matrix[1:]


def hilbert(n: int) -> Array:
    """The ``n x n`` Hilbert matrix ``H[i, j] = 1 / (i + j + 1)``.

    Example:
        >>> import functrans.scipy.linalg as fsl
        >>> fsl.hilbert(2).tolist()
        [[1.0, 0.5], [0.5, 0.3333333333333333]]
    """
    index = np.arange(n)  # host-data: made from a size
    return 1.0 / (index[:, None] + index[None, :] + 1.0)


def _integer_matrix(n: int, entry: Any, exact: bool, limit: int, exact_dtype: Any, name: str) -> Array:
    """The ``n x n`` matrix of exact integer entries ``entry(i, j)`` (Python ints), as
    ``exact_dtype`` when ``exact``, float64 otherwise."""
    if exact and n > limit:
        raise ValueError(f"{name}: with exact=True, n must be at most {limit} (the entries overflow "
                         f"{np.dtype(exact_dtype).name}; SciPy returns Python ints in an object array, "
                         "which functrans does not hold); pass exact=False for float64 values")
    values = [[entry(i, j) for j in range(n)] for i in range(n)]
    if exact:
        return np.array(values, dtype=exact_dtype).reshape(n, n)  # host-data: made from a size
    floats = [[float(v) for v in row] for row in values]
    return np.array(floats, dtype=np.float64).reshape(n, n)  # host-data: made from a size


def invhilbert(n: int, exact: bool = False) -> Array:
    """The inverse of the ``n x n`` Hilbert matrix, from its closed form in binomial
    coefficients (computed exactly, then rounded: float64 by default, int64 with
    ``exact=True``, for ``n <= 14``).

    Example:
        >>> import functrans.scipy.linalg as fsl
        >>> fsl.invhilbert(2, exact=True).tolist()
        [[4, -6], [-6, 12]]
    """
    def entry(i: int, j: int) -> int:
        s = i + j
        return (-1) ** s * (s + 1) * math.comb(n + i, n - j - 1) * math.comb(n + j, n - i - 1) * math.comb(s, i) ** 2

    return _integer_matrix(n, entry, exact, 14, np.int64, "invhilbert")


def _pascal_kind(kind: str | None, name: str) -> str:
    kind = "symmetric" if kind is None else kind
    if kind not in ("symmetric", "lower", "upper"):
        raise ValueError(f"{name}: kind must be 'symmetric', 'lower' or 'upper', got {kind!r}")
    return kind


def pascal(n: int, kind: str | None = "symmetric", exact: bool = True) -> Array:
    """The ``n x n`` Pascal matrix: binomial coefficients, ``'lower'`` ``L[i, j] = C(i, j)``,
    ``'upper'`` its transpose, ``'symmetric'`` (the default; ``None`` too, as JAX's default)
    ``L @ L.T``. Exact uint64 entries by default (``n <= 34``), as SciPy; float64 with
    ``exact=False`` (JAX returns float32 values, rounded).

    Example:
        >>> import functrans.scipy.linalg as fsl
        >>> fsl.pascal(3).tolist()
        [[1, 1, 1], [1, 2, 3], [1, 3, 6]]
    """
    kind = _pascal_kind(kind, "pascal")
    entries = {"lower": lambda i, j: math.comb(i, j), "upper": lambda i, j: math.comb(j, i),
               "symmetric": lambda i, j: math.comb(i + j, i)}[kind]
    return _integer_matrix(n, entries, exact, 34, np.uint64, "pascal")


def invpascal(n: int, kind: str | None = "symmetric", exact: bool = True) -> Array:
    """The inverse of ``pascal(n, kind)``: int64 entries by default (``n <= 34``), float64
    with ``exact=False``.

    Example:
        >>> import functrans.scipy.linalg as fsl
        >>> fsl.invpascal(3).tolist()
        [[3, -3, 1], [-3, 5, -2], [1, -2, 1]]
    """
    kind = _pascal_kind(kind, "invpascal")

    def symmetric(i: int, j: int) -> int:
        i, j = max(i, j), min(i, j)
        return (-1) ** (i - j) * sum(math.comb(i + k, k) * math.comb(i + k, i + k - j) for k in range(n - i))

    entries = {"lower": lambda i, j: (-1) ** abs(i - j) * math.comb(i, j),
               "upper": lambda i, j: (-1) ** abs(j - i) * math.comb(j, i), "symmetric": symmetric}[kind]
    return _integer_matrix(n, entries, exact, 34, np.int64, "invpascal")
