"""NumPy's legacy polynomial functions on coefficient arrays, highest power first (``polyval``,
``polyfit``, ``roots``, ``poly``, ``polyder``, ``polyint``, ``polyadd``, ``polysub``,
``polymul``, ``polydiv``), built from differentiable operations: derivatives flow to the
coefficients, the points, the data and the roots."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from functrans import errors
from functrans.core.trace import Tracer
from functrans.numpy import linalg as _linalg
from functrans.numpy._convolve import convolve
from functrans.numpy._creation import eye, vander, zeros_like
from functrans.numpy._dtypes import mintypecode
from functrans.numpy._joining import concatenate, stack
from functrans.numpy._reductions import sum as _sum
from functrans.numpy._shape import atleast_1d
from functrans.numpy._util import as_array, holds_device_value, host_values, numbers_beside, pair_beside, placed_like
from functrans.primitives import elementwise as _ew
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike


def _vector(x: ArrayLike) -> Any:
    """``x`` as an array of at least one dimension."""
    return atleast_1d(as_array(x))


def _array(x: ArrayLike) -> Any:
    """``x`` as an array (a Python number as a 0-d one)."""
    return as_array(x)


def _float(x: Array) -> Array:
    """``x + 0.0`` as NumPy writes it: integers and booleans become float64."""
    return x if x.dtype.kind in "fc" else convert_element_type(x, new_dtype=np.float64)


def _known(x: Array, name: str, fix: str) -> np.ndarray:
    """The host values of ``x``, needed by ``name`` to decide its result's length."""
    if isinstance(x, Tracer):
        try:
            x.to_concrete()
        except errors.TracerConversionError:
            raise errors.UnsupportedError(
                f"fnp.{name} needs the values of its coefficients: which of them are zero decides "
                f"the length of its result, which jit and vmap must know first. {fix}") from None
    return host_values(x)


def polyval(p: ArrayLike, x: ArrayLike) -> Array:
    """The polynomial with coefficients ``p`` (highest power first) at the points ``x``, by
    Horner's rule, as ``numpy.polyval``. Differentiable in both.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.polyval(fnp.array([3.0, 0.0, 1.0]), fnp.array([1.0, 2.0])).tolist()
        [4.0, 13.0]
    """
    p, x = pair_beside(p, x)
    p, x = _vector(p), as_array(x)
    y = zeros_like(x)
    for k in range(p.shape[0]):
        y = _ew.add(_ew.mul(y, x), p[k])
    return y


def _padded_pair(a1: ArrayLike, a2: ArrayLike) -> tuple[Array, Array]:
    a1, a2 = pair_beside(a1, a2)
    a1, a2 = _vector(a1), _vector(a2)
    diff = a2.shape[0] - a1.shape[0]
    if diff > 0:
        a1 = concatenate([placed_like(np.zeros(diff, a1.dtype), a1), a1])  # host-data: leading zeros
    elif diff < 0:
        a2 = concatenate([placed_like(np.zeros(-diff, a2.dtype), a2), a2])  # host-data: leading zeros
    return a1, a2


def polyadd(a1: ArrayLike, a2: ArrayLike) -> Array:
    """The sum of two polynomials (coefficients highest power first), as ``numpy.polyadd``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.polyadd(fnp.array([1.0, 2.0]), fnp.array([1.0, 0.0, 3.0])).tolist()
        [1.0, 1.0, 5.0]
    """
    return _ew.add(*_padded_pair(a1, a2))


def polysub(a1: ArrayLike, a2: ArrayLike) -> Array:
    """The difference of two polynomials (coefficients highest power first), as
    ``numpy.polysub``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.polysub(fnp.array([1.0, 2.0]), fnp.array([1.0, 0.0, 3.0])).tolist()
        [-1.0, 1.0, -1.0]
    """
    return _ew.sub(*_padded_pair(a1, a2))


def polymul(a1: ArrayLike, a2: ArrayLike) -> Array:
    """The product of two polynomials (the convolution of their coefficients), as
    ``numpy.polymul``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.polymul(fnp.array([1.0, 1.0]), fnp.array([1.0, -1.0])).tolist()
        [1.0, 0.0, -1.0]
    """
    a1, a2 = pair_beside(a1, a2)
    return convolve(_vector(a1), _vector(a2))


def polyder(p: ArrayLike, m: int = 1) -> Array:
    """The ``m``-th derivative of the polynomial ``p``, as ``numpy.polyder``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.polyder(fnp.array([1.0, 1.0, 1.0, 1.0])).tolist()
        [3.0, 2.0, 1.0]
    """
    m = int(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    p = _vector(p)
    for _ in range(m):
        n = p.shape[0] - 1
        p = _ew.mul(p[:-1], placed_like(np.arange(n, 0, -1), p))  # host-data: the powers
    return p


def polyint(p: ArrayLike, m: int = 1, k: ArrayLike | Sequence[ArrayLike] | None = None) -> Array:
    """The ``m``-th antiderivative of the polynomial ``p``, with integration constants ``k``
    (one per integration, the first for the first; zeros by default), as ``numpy.polyint``.
    Differentiable in ``p`` and ``k``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.polyint(fnp.array([3.0, 2.0, 1.0])).tolist()
        [1.0, 1.0, 1.0, 0.0]
    """
    m = int(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    if k is None:
        constants: list = [0.0] * m
    elif isinstance(k, (list, tuple)) or (hasattr(k, "shape") and k.shape != ()):
        given: Any = k
        constants = [given[i] for i in range(len(given) if isinstance(given, (list, tuple)) else given.shape[0])]
        if len(constants) < m:
            raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
        if len(constants) == 1:
            constants = constants * m
    else:
        constants = [k] * m
    p = _float(_vector(p))
    for i in range(m):
        n = p.shape[0]
        divided = _ew.div(p, placed_like(np.arange(n, 0, -1), p))  # host-data: the powers (int, as NumPy)
        constant = constants[i]
        if not holds_device_value(constant):  # a host constant, placed where p is
            constant = placed_like(np.atleast_1d(np.asarray(constant)), p)  # host-data: a host value
        p = concatenate([divided, _vector(constant)])
    return p


def polydiv(u: ArrayLike, v: ArrayLike) -> tuple[Array, Array]:
    """The quotient and remainder of dividing polynomial ``u`` by ``v``, as ``numpy.polydiv``
    (leading remainder coefficients within 1e-8 of zero are dropped, which reads values: a
    traced ``u`` or ``v`` needs concrete values). Differentiable in both.

    Example:
        >>> import functrans.numpy as fnp
        >>> q, r = fnp.polydiv(fnp.array([1.0, 0.0, -1.0]), fnp.array([1.0, 1.0]))
        >>> q.tolist(), r.tolist()
        ([1.0, -1.0], [0.0])
    """
    u, v = _float(_vector(u)), _float(_vector(v))
    m, n = u.shape[0] - 1, v.shape[0] - 1
    dtype = np.result_type(u.dtype, v.dtype)  # host-metadata: dtypes only
    scale = _ew.div(1.0, v[0])
    rest = [u[i] for i in range(m + 1)]
    quotient = []
    for k in range(m - n + 1):
        d = _ew.mul(scale, rest[k])
        quotient.append(d)
        for j in range(n + 1):
            rest[k + j] = _ew.sub(rest[k + j], _ew.mul(d, v[j]))
    q = stack(quotient) if quotient else placed_like(np.zeros(1, dtype), u)  # host-data: q = [0]
    r = convert_element_type(stack(rest), new_dtype=dtype)
    q = convert_element_type(q, new_dtype=dtype)
    values = _known(r, "polydiv", "Divide outside jit and vmap.")
    start = 0
    # host-data: host values of the remainder
    while start < values.shape[0] - 1 and np.allclose(values[start], 0, rtol=1e-14):
        start += 1
    return q, r[start:]


def poly(seq_of_zeros: ArrayLike) -> Array | float:
    """The coefficients (highest power first, leading 1) of the monic polynomial with the
    given roots, or of the characteristic polynomial of a square matrix, as ``numpy.poly``.
    Complex roots that come in conjugate pairs give real coefficients (read from values).
    Differentiable in the roots.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.poly(fnp.array([1.0, 2.0])).tolist()
        [1.0, -3.0, 2.0]
    """
    seq = _vector(seq_of_zeros)
    shape = tuple(seq.shape)
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] != 0:
        seq = _linalg.eigvals(seq)
    elif len(shape) == 1:
        code = mintypecode(seq.dtype.char)
        if seq.dtype.char != code:
            seq = convert_element_type(seq, new_dtype=np.dtype(code))
    else:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    if seq.shape[0] == 0:
        return 1.0  # NumPy's value for no roots
    a = placed_like(np.ones(1, seq.dtype), seq)  # host-data: the leading 1
    zero = placed_like(np.zeros(1, seq.dtype), seq)  # host-data: a zero coefficient
    for i in range(seq.shape[0]):
        # (x - r) times the polynomial so far: shift it up one power, subtract r times it
        a = _ew.sub(concatenate([a, zero]), _ew.mul(seq[i], concatenate([zero, a])))
    if a.dtype.kind == "c":
        roots = _known(seq, "poly", "Pass real roots, or take fnp.real of the result yourself.")
        # host-data: host values of the roots
        if np.all(np.sort(roots) == np.sort(roots.conjugate())):
            a = _ew.real(a)
    return a


def roots(p: ArrayLike, *, strip_zeros: bool = True) -> Array:
    """The roots of the polynomial with coefficients ``p`` (highest power first): the
    eigenvalues of its companion matrix, as ``numpy.roots``, always complex (NumPy gives a
    real array when every root is real; this follows ``jax.numpy.roots``). Differentiable in
    ``p`` where the roots are simple.

    Leading zero coefficients are dropped and trailing ones give zero roots: that reads
    values, so under ``jit`` or ``vmap`` pass ``strip_zeros=False`` (then the leading
    coefficient must be nonzero, and trailing zeros are roots computed like the others).

    Example:
        >>> import functrans.numpy as fnp
        >>> sorted(fnp.roots(fnp.array([1.0, -3.0, 2.0])).real.tolist())
        [1.0, 2.0]
    """
    p = _float(_vector(p))
    if len(p.shape) != 1:
        raise ValueError("Input must be a rank-1 array.")
    trailing = 0
    if strip_zeros:
        nonzero = np.flatnonzero(_known(p, "roots", "Pass strip_zeros=False."))  # host-data: values
        if nonzero.size == 0:
            return placed_like(np.zeros(0, np.complex128), p)  # host-data: no roots
        trailing = p.shape[0] - int(nonzero[-1]) - 1
        p = p[int(nonzero[0]):int(nonzero[-1]) + 1]
    n = p.shape[0]
    complex_dtype = np.result_type(p.dtype, np.complex64)  # host-metadata: dtypes only
    if n > 1:
        first_row = _ew.neg(_ew.div(p[1:], p[0]))
        companion = concatenate([first_row[None], eye(n - 2, n - 1, dtype=p.dtype, like=p)])
        found = convert_element_type(_linalg.eigvals(companion), new_dtype=complex_dtype)
    else:
        found = placed_like(np.zeros(0, complex_dtype), p)  # host-data: no roots
    if trailing:
        # host-data: the zero roots, placed where p is
        found = concatenate([found, placed_like(np.zeros(trailing, complex_dtype), p)])
    return found


def polyfit(x: ArrayLike, y: ArrayLike, deg: int, rcond: float | None = None, full: bool = False,
            w: ArrayLike | None = None, cov: bool = False) -> Array:
    """The least-squares polynomial of degree ``deg`` through the points ``(x, y)``
    (coefficients highest power first; ``y`` may hold one data set per column), with optional
    weights ``w``, as ``numpy.polyfit``. Differentiable in ``x``, ``y`` and ``w``: the fit is
    the pseudo-inverse of the column-scaled Vandermonde matrix applied to ``y`` (singular
    values below ``rcond`` times the largest are dropped, as NumPy's least squares does).

    ``full=True`` and ``cov=True`` (the fit's diagnostics) are not offered: call
    ``numpy.polyfit`` on host arrays for them.

    Example:
        >>> import functrans.numpy as fnp
        >>> x = fnp.array([0.0, 1.0, 2.0, 3.0])
        >>> fnp.polyfit(x, 2 * x + 1, 1).round(10).tolist()
        [2.0, 1.0]
    """
    if full or cov:
        raise errors.UnsupportedError(
            "fnp.polyfit does not compute full=True or cov=True (the residuals, rank, singular "
            "values or covariance of the fit): call numpy.polyfit on host arrays for those.")
    order = int(deg) + 1
    x, y, w = numbers_beside((x, y, w))
    x, y = _float(_array(x)), _float(_array(y))
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if len(x.shape) != 1 or x.shape[0] == 0:
        raise TypeError(f"expected a non-empty 1-D vector for x, got shape {tuple(x.shape)}")
    if len(y.shape) not in (1, 2) or y.shape[0] != x.shape[0]:
        raise TypeError(f"expected y of shape ({x.shape[0]},) or ({x.shape[0]}, k), got {tuple(y.shape)}")
    if rcond is None:
        rcond = x.shape[0] * float(np.finfo(x.dtype).eps)
    lhs, rhs = vander(x, order), y
    weights: Any
    if w is not None:
        weights = _float(_array(w))
        if len(weights.shape) != 1 or weights.shape[0] != y.shape[0]:
            raise TypeError(f"expected a 1-d array of length {y.shape[0]} for weights, "
                            f"got shape {tuple(weights.shape)}")
        lhs = _ew.mul(lhs, weights[:, None])
        rhs = _ew.mul(rhs, weights[:, None] if len(rhs.shape) == 2 else weights)
    scale = _ew.sqrt(_sum(_ew.mul(lhs, lhs), axis=0))
    scale = _ew.select(_ew.eq(scale, 0), placed_like(np.ones((), scale.dtype), scale), scale)  # host-data: 1
    c = _linalg.pinv(_ew.div(lhs, scale), rcond=rcond) @ rhs
    return _ew.div(c, scale[:, None] if len(c.shape) == 2 else scale)
