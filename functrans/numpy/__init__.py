"""NumPy's API, differentiable: ``import functrans.numpy as fnp``.

Every function works on plain arrays (returning what NumPy returns) and on traced arrays
inside ``grad``, ``jvp`` and the other transformations. All are built from functrans
primitives; this package defines no derivative rules of its own.
"""
from __future__ import annotations

import numpy as _np

from functrans.core.trace import Tracer as _Tracer
from functrans.numpy import _array_methods
from functrans.numpy._creation import (
    arange, array, asarray, empty, eye, full, full_like, linspace, ones, ones_like, zeros,
    zeros_like,
)
from functrans.numpy._indexing import at, getitem, nonzero
from functrans.numpy._manipulation import (
    broadcast_to, concatenate, expand_dims, moveaxis, ravel, reshape, squeeze, stack, swapaxes,
    transpose,
)
from functrans.numpy._products import dot, einsum, inner, matmul, outer, tensordot, vdot
from functrans.numpy._reductions import (
    amax, amin, argmax, argmin, max, mean, min, prod, std, sum, var,
)
from functrans.numpy._ufuncs import (
    abs, absolute, add, clip, conj, conjugate, cos, divide, equal, exp, expm1, greater,
    greater_equal, imag, less, less_equal, log, log1p, logistic, maximum, minimum, multiply,
    negative, not_equal, positive, power, real, reciprocal, rsqrt, sign, sin, sqrt, square,
    subtract, tan, tanh, true_divide, where,
)
from functrans.numpy._util import shape_of as _shape_of
from functrans.numpy._elementwise_more import (
    acos, acosh, angle, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, around, asin,
    asinh, atan, atan2, atanh, cbrt, ceil, copysign, cosh, deg2rad, degrees, exp2, fabs, fix,
    float_power, floor, floor_divide, fmax, fmin, fmod, heaviside, hypot, isfinite, isinf, isnan,
    isneginf, isposinf, log2, log10, logaddexp, logaddexp2, logical_and, logical_not, logical_or,
    logical_xor, mod, nan_to_num, rad2deg, radians, remainder, rint, round, signbit, sinc, sinh,
    trunc,
)
from functrans.numpy._reductions_more import (
    all, any, average, count_nonzero, cumprod, cumsum, cumulative_prod, cumulative_sum, diff,
    gradient, logsumexp, median, nanargmax, nanargmin, nancumsum, nanmax, nanmean, nanmin,
    nanprod, nanstd, nansum, nanvar, percentile, ptp, quantile, trace,
)
from functrans.numpy._manipulation_more import (
    append, array_split, atleast_1d, atleast_2d, atleast_3d, broadcast_arrays, c_, choose,
    column_stack, diag, diagflat, diagonal, dsplit, dstack, empty_like, flip, fliplr, flipud,
    hsplit, hstack, identity, logspace, meshgrid, pad, put_along_axis, r_, repeat, roll,
    rollaxis, rot90, row_stack, select, split, take, take_along_axis, tile, tri, tril, triu,
    vsplit, vstack,
)
from functrans.numpy._products_more import cross, kron
from functrans.numpy._sorting import (
    argpartition, argsort, flatnonzero, partition, searchsorted, sort, unique,
)
from functrans.numpy import fft, linalg
from functrans.primitives.conversion import convert_element_type as _convert

# Constants and dtypes, as in NumPy.
pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, None
float16, float32, float64 = _np.float16, _np.float32, _np.float64
complex64, complex128 = _np.complex64, _np.complex128
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint32, bool_ = _np.uint8, _np.uint32, _np.bool_
dtype, finfo, iinfo = _np.dtype, _np.finfo, _np.iinfo
ndarray = _np.ndarray


def shape(a) -> tuple:
    """The shape of an array or traced array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.shape(fnp.ones((2, 3)))
        (2, 3)
    """
    return _shape_of(a) if hasattr(a, "shape") or isinstance(a, (int, float, complex, bool)) \
        else _np.shape(a)  # host-data: host values (parameters, lists, host_values)


def ndim(a) -> int:
    """The number of dimensions of an array or traced array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.ndim(fnp.ones((2, 3)))
        2
    """
    return len(shape(a))


def size(a) -> int:
    """The number of elements of an array or traced array.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.size(fnp.ones((2, 3)))
        6
    """
    n = 1
    for d in shape(a):
        n *= d
    return n


def result_type(*arrays_and_dtypes):
    """The dtype NumPy's promotion rules give these arrays, scalars and dtypes (traced arrays
    count by their dtype).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.result_type(fnp.ones(2, fnp.float32), 1.0)
        dtype('float32')
    """
    return _np.result_type(*(a.dtype if hasattr(a, "dtype") and not isinstance(a, (type, _np.dtype)) else a
                             for a in arrays_and_dtypes))  # arrays of any backend count by dtype


def astype(x, dtype):
    """``x`` converted to ``dtype``. Converting to an integer or boolean dtype drops the
    derivative (the result is piecewise constant).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.astype(fnp.ones(2), fnp.float32).dtype
        dtype('float32')
    """
    return _convert(asarray(x), new_dtype=dtype)


_array_methods._install(__import__(__name__, fromlist=["_"]))

