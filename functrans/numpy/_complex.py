"""Complex numbers with NumPy's names: real and imaginary parts, the conjugate, the angle,
and the tests of which values and arrays are complex.

The parts and the conjugate are linear, so their derivative is the same operation on the
tangent, and a real input's cotangent stays real; the tests return booleans, without a
derivative.
"""
from __future__ import annotations

import math

import numpy as np

from functrans._abstract import PY_SCALARS, dtype_of
from functrans.backend import device_get
from functrans.numpy._reductions import all as all_entries
from functrans.numpy._util import as_array, floating, holds_device_value, operand
from functrans.primitives import elementwise as _ew
from functrans.primitives.conversion import full_like, zeros_like
from functrans.primitives.elementwise import arctan2
from functrans.typing import Array, ArrayLike


def real(x: ArrayLike, /) -> Array:
    """The real part (real input as it is).

    Args:
        x: An array or a scalar.

    Returns:
        The real parts, in the real dtype of ``x``'s precision.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.real(1.0 + 2.0j))
        1.0
    """
    x = operand(x)
    return _ew.real(x) if dtype_of(x).kind == "c" else x


def imag(x: ArrayLike, /) -> Array:
    """The imaginary part (zeros for real input).

    Args:
        x: An array or a scalar.

    Returns:
        The imaginary parts, in the real dtype of ``x``'s precision.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.imag(1.0 + 2.0j))
        2.0
    """
    x = operand(x)
    if dtype_of(x).kind == "c":
        return _ew.imag(x)
    return zeros_like(x) if not isinstance(x, (int, float)) else 0.0


def conj(x: ArrayLike, /) -> Array:
    """The complex conjugate (the identity on real arrays).
    ``conjugate`` is the same function.

    Args:
        x: An array or a scalar.

    Returns:
        ``real(x) - 1j * imag(x)``, in the dtype of ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> complex(fnp.conj(1.0 + 2.0j))
        (1-2j)
    """
    x = operand(x)
    return _ew.conj(x) if dtype_of(x).kind == "c" else x


def angle(z: ArrayLike, deg: bool = False) -> Array:
    """The argument (phase) of complex numbers: the angle of the point ``(real, imag)``, in
    radians (degrees with ``deg``). Real input gives 0 or pi. Its derivative is undefined at 0.

    Args:
        z: An array or a scalar.
        deg: Return degrees instead of radians.

    Returns:
        The angles, in ``[-pi, pi]``, in a real floating dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> float(fnp.angle(1j))
        1.5707963267948966
    """
    z = operand(z)
    if dtype_of(z).kind == "c":
        out = arctan2(_ew.imag(z), _ew.real(z))
    else:
        z = floating(z)
        if isinstance(z, float):
            z = np.asarray(z)  # host-data: a Python scalar
        out = arctan2(zeros_like(z), z)  # +0 imaginary part: pi for negative numbers
    return _ew.mul(out, 180 / math.pi) if deg else out


# --- which values and arrays are complex --------------------------------------------------------


def _dtype_of_value(x: ArrayLike) -> np.dtype:
    """The dtype ``x`` has, or would have as an array (nested lists included)."""
    x = operand(x)
    return np.result_type(x) if type(x) in PY_SCALARS else dtype_of(x)


def iscomplex(x: ArrayLike) -> Array:
    """True where an entry has a nonzero imaginary part (False everywhere for a real dtype).
    No derivative.

    Args:
        x: An array or a scalar.

    Returns:
        A boolean array shaped like ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.iscomplex(fnp.array([1.0 + 0j, 1.0 + 2j])).tolist()
        [False, True]
    """
    if not holds_device_value(x):
        return np.iscomplex(x)  # host-data: NumPy's function on host values
    x = as_array(x)
    if dtype_of(x).kind == "c":
        return _ew.ne(_ew.imag(x), 0)
    return full_like(x, False, dtype=np.bool_)


def isreal(x: ArrayLike) -> Array:
    """True where an entry has a zero imaginary part (everywhere for a real dtype). No
    derivative.

    Args:
        x: An array or a scalar.

    Returns:
        A boolean array shaped like ``x``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isreal(fnp.array([1.0 + 0j, 1.0 + 2j])).tolist()
        [True, False]
    """
    if not holds_device_value(x):
        return np.isreal(x)  # host-data: NumPy's function on host values
    x = as_array(x)
    if dtype_of(x).kind == "c":
        return _ew.eq(_ew.imag(x), 0)
    return full_like(x, True, dtype=np.bool_)


def iscomplexobj(x: ArrayLike) -> bool:
    """True if ``x`` has a complex dtype, whatever its values (known from the dtype alone, so
    also under ``jit``).

    Args:
        x: An array, a scalar, or a dtype-carrying object.

    Returns:
        A Python bool.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.iscomplexobj(fnp.array([1.0 + 0j])), fnp.iscomplexobj(1.0)
        (True, False)
    """
    return bool(_dtype_of_value(x).kind == "c")


def isrealobj(x: ArrayLike) -> bool:
    """True if ``x`` does not have a complex dtype (known from the dtype alone, so also under
    ``jit``).

    Args:
        x: An array, a scalar, or a dtype-carrying object.

    Returns:
        A Python bool.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isrealobj(fnp.array([1.0 + 0j])), fnp.isrealobj(1.0)
        (False, True)
    """
    return not iscomplexobj(x)


def real_if_close(a: ArrayLike, tol: float = 100) -> Array:
    """``a``'s real part if every imaginary part is below ``tol`` (in machine epsilons of
    ``a``'s dtype when ``tol > 1``, else absolute); otherwise ``a`` itself. The derivative is
    that of the result: of the real part, or the identity. The choice depends on the values,
    so a traced ``a`` needs known values (inside ``grad`` or ``jvp``; under ``jit`` it raises).

    Args:
        a: An array or a scalar.
        tol: The tolerance, in machine epsilons if above 1.

    Returns:
        ``real(a)`` or ``a``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.real_if_close(fnp.array([2.1 + 4e-14j, 5.2 + 3e-15j]), tol=1000).tolist()
        [2.1, 5.2]
    """
    if not holds_device_value(a):
        return np.real_if_close(a, tol)  # host-data: NumPy's function on host values
    a = as_array(a)
    if dtype_of(a).kind != "c":
        return a
    if tol > 1:
        tol = np.finfo(dtype_of(a)).eps * tol
    if bool(device_get(all_entries(_ew.lt(_ew.abs(_ew.imag(a)), tol)))):  # (an explicit read)
        return _ew.real(a)
    return a
