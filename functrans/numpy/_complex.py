"""Complex numbers with NumPy's names: real and imaginary parts, the conjugate, the angle.

Each is linear (``angle`` aside), so its derivative is the same operation on the tangent; a
real input's cotangent stays real.
"""
from __future__ import annotations

import math

import numpy as np

from functrans._abstract import dtype_of
from functrans.numpy._util import floating, operand
from functrans.primitives import elementwise as _ew
from functrans.primitives.conversion import zeros_like
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
