"""Data types with NumPy's names: NumPy's scalar types, dtype objects, limits and constants,
NumPy 2's promotion rules (``result_type``, ``promote_types``, ``can_cast``) and conversion
(``astype``). The queries read dtypes only, so they take traced arrays as well as plain ones."""
from __future__ import annotations

from typing import Any, Literal, cast

import numpy as np

from functrans._abstract import PY_SCALARS, dtype_of
from functrans.backend import device_put
from functrans.core.trace import Tracer
from functrans.numpy._creation import asarray
from functrans.numpy._util import host_values
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike, DType


class _ScalarMeta(type):
    """The type of functrans.numpy's concrete scalar types (``fnp.float32``, ``fnp.int32``,
    ``fnp.bool_``, ...), which stand for NumPy's as JAX's do. Called, one converts its
    argument: a traced or device array as ``fnp.asarray(x, dtype)`` (so ``fnp.float32(i)``
    works on a loop counter under ``jit``), a host value as NumPy's type does. As a dtype it
    is NumPy's, wherever NumPy reads one (``np.dtype(fnp.float32)``, ``dtype=fnp.float32``,
    ``x.astype(fnp.float32)``), and it equals, hashes as and checks instances as NumPy's.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> ft.jit(lambda i: fnp.float32(i) / 2)(3).dtype, fnp.float32 == fnp.ones(2, fnp.float32).dtype
        (dtype('float32'), True)
    """

    dtype: np.dtype

    def __call__(cls, x: Any = 0, /) -> Any:
        if type(x) in PY_SCALARS or isinstance(x, (np.ndarray, np.generic, str, bytes)):
            return cls.dtype.type(x)
        return asarray(x, cls.dtype)

    def __eq__(cls, other: object) -> bool:
        return cls is other or cls.dtype.type == other

    def __hash__(cls) -> int:
        return hash(cls.dtype.type)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls.dtype.type)

    def __repr__(cls) -> str:
        return f"<class 'functrans.numpy.{cls.__name__}'>"


_SCALAR_TYPES: dict[type, _ScalarMeta] = {}


def _scalar_type(scalar: Any) -> _ScalarMeta:
    """The functrans.numpy scalar type of NumPy's ``scalar``: one for each NumPy type, so
    that aliases (``single`` and ``float32``) stay one type, as in NumPy."""
    if scalar not in _SCALAR_TYPES:
        _SCALAR_TYPES[scalar] = _ScalarMeta(scalar.__name__, (), {
            "dtype": np.dtype(scalar), "__module__": "functrans.numpy",
            "__doc__": f"NumPy's ``{scalar.__name__}``: a dtype, and a conversion of arrays, traced or not."})
    return _SCALAR_TYPES[scalar]


# NumPy's scalar types under all of NumPy's names (the C-named ones are aliases of the sized
# ones); the abstract ones (floating, integer, ...) are NumPy's own, for issubdtype and
# isinstance checks.
float16, float32, float64 = map(_scalar_type, (np.float16, np.float32, np.float64))
complex64, complex128 = map(_scalar_type, (np.complex64, np.complex128))
int8, int16, int32, int64 = map(_scalar_type, (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = map(_scalar_type, (np.uint8, np.uint16, np.uint32, np.uint64))
# bool_ is also exported as ``bool``, NumPy 2's name (bound in __init__, not to shadow Python's here)
bool_ = _scalar_type(np.bool_)
half, single, double = map(_scalar_type, (np.half, np.single, np.double))
csingle, cdouble = map(_scalar_type, (np.csingle, np.cdouble))
byte, short, intc, int_, long, longlong = map(_scalar_type, (np.byte, np.short, np.intc, np.int_, np.long, np.longlong))
ubyte, ushort, uintc, uint, ulong, ulonglong = map(
    _scalar_type, (np.ubyte, np.ushort, np.uintc, np.uint, np.ulong, np.ulonglong))
intp, uintp = map(_scalar_type, (np.intp, np.uintp))
generic, number, inexact, floating, complexfloating = np.generic, np.number, np.inexact, np.floating, np.complexfloating
integer, signedinteger, unsignedinteger = np.integer, np.signedinteger, np.unsignedinteger
True_, False_ = np.True_, np.False_
dtype, finfo, iinfo = np.dtype, np.finfo, np.iinfo
typecodes, sctypeDict, ScalarType = np.typecodes, np.sctypeDict, np.ScalarType
euler_gamma, little_endian = np.euler_gamma, np.little_endian


def _dtype_or_type(x: Any) -> Any:
    """A dtype, type or dtype name as it is; an array, traced or not, by its dtype."""
    if isinstance(x, _ScalarMeta):
        return x.dtype.type
    if isinstance(x, (type, np.dtype, str)):
        return x
    return dtype_of(x) if hasattr(x, "dtype") else x


def can_cast(from_: ArrayLike | DType, to: DType,
             casting: Literal["no", "equiv", "safe", "same_kind", "unsafe"] = "safe") -> bool:
    """Whether ``from_`` (a dtype, or an array of any backend, traced or not, by its dtype)
    can be cast to ``to`` under the ``casting`` rule, as ``numpy.can_cast``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.can_cast(fnp.ones(2, fnp.float32), fnp.float64), fnp.can_cast(fnp.float64, fnp.int32)
        (True, False)
    """
    # host-metadata: dtypes only
    return bool(np.can_cast(_dtype_or_type(from_), to, casting=casting))


def promote_types(type1: DType, type2: DType) -> np.dtype:
    """The smallest dtype to which both dtypes can be safely cast, as ``numpy.promote_types``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.promote_types(fnp.int8, fnp.float32)
        dtype('float32')
    """
    # host-metadata: dtypes only
    return np.promote_types(type1, type2)


def issubdtype(arg1: ArrayLike | DType, arg2: DType) -> bool:
    """Whether ``arg1`` (a dtype, or an array by its dtype) is lower than or equal to
    ``arg2`` in NumPy's type hierarchy (``fnp.issubdtype(x.dtype, fnp.floating)``).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.issubdtype(fnp.float32, fnp.floating), fnp.issubdtype(fnp.int64, fnp.inexact)
        (True, False)
    """
    # host-metadata: dtypes only
    return np.issubdtype(_dtype_or_type(arg1), arg2)


def isdtype(dtype: DType, kind: str | DType | tuple[str | DType, ...]) -> bool:
    """Whether ``dtype`` is of ``kind`` (a dtype, or one of the array API's kinds:
    ``'bool'``, ``'signed integer'``, ``'unsigned integer'``, ``'integral'``,
    ``'real floating'``, ``'complex floating'``, ``'numeric'``), as ``numpy.isdtype``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.isdtype(fnp.float32, "real floating"), fnp.isdtype(fnp.int8, ("bool", "integral"))
        (True, True)
    """
    # host-metadata: dtypes only
    return np.isdtype(_dtype_or_type(dtype), kind)


def common_type(*arrays: ArrayLike) -> type:
    """The inexact scalar type common to the arrays (integers count as float64), as
    ``numpy.common_type``; arrays of any backend, traced or not, count by their dtype.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.common_type(fnp.ones(2, fnp.float32), fnp.arange(3))
        <class 'numpy.float64'>
    """
    # host-metadata: empty stand-ins of the arguments' dtypes
    return np.common_type(*(np.empty(0, dtype_of(a)) for a in arrays))


def mintypecode(typechars: Any, typeset: str = "GDFgdf", default: str = "d") -> str:
    """The character of the smallest type in ``typeset`` to which every type character (or
    array, by its dtype) in ``typechars`` can be safely cast, as ``numpy.mintypecode``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.mintypecode(["d", "f", "S"])
        'd'
    """
    chars = [t if isinstance(t, str) else dtype_of(t).char for t in typechars]
    # host-metadata: type characters only
    return np.mintypecode(chars, typeset, default)


def typename(char: str) -> str:
    """A description of the type of a type character, as ``numpy.typename``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.typename("d")
        'double precision'
    """
    # host-metadata: a type character
    return cast(Any, np.typename)(char)  # (typed for literal characters only)


def min_scalar_type(a: ArrayLike) -> np.dtype:
    """The smallest dtype that holds ``a``'s value (a scalar or 0-d array: the result depends
    on the value, so a traced one must have a concrete value) or, for a larger array, its
    dtype, as ``numpy.min_scalar_type``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.min_scalar_type(10), fnp.min_scalar_type(-260.0)
        (dtype('uint8'), dtype('float16'))
    """
    if hasattr(a, "shape") and a.shape != ():
        return dtype_of(a)
    # host-data: the host value that decides the dtype
    return np.min_scalar_type(host_values(a))


def result_type(*arrays_and_dtypes: ArrayLike | DType) -> np.dtype:
    """The dtype NumPy's promotion rules give these arrays, scalars and dtypes (traced arrays
    count by their dtype).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.result_type(fnp.ones(2, fnp.float32), 1.0)
        dtype('float32')
    """
    # arrays of any backend count by their dtype; Python scalars stay weakly typed
    given: tuple[Any, ...] = arrays_and_dtypes  # anything with a dtype attribute: read it
    return np.result_type(*(a.dtype if hasattr(a, "dtype") and not isinstance(a, (type, np.dtype)) else a
                            for a in given))


def astype(x: ArrayLike, dtype: DType, *, copy: bool = True, device: str | None = None) -> Array:
    """``x`` converted to ``dtype``, as ``numpy.astype``. Converting to an integer or boolean
    dtype drops the derivative (the result is piecewise constant).

    Args:
        x: The array.
        dtype: The dtype of the result.
        copy: As NumPy's: True (the default) always gives a new array, so writing into the
            result never changes ``x``; False gives ``x`` itself when it already has ``dtype``.
            Traced arrays are never written into, so the choice only matters eagerly.
        device: Where the result goes (``"cpu"``, ``"gpu:1"``, as ``functrans.device_put``);
            None keeps it where ``x`` is.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.astype(fnp.ones(2), fnp.float32).dtype
        dtype('float32')
    """
    a = asarray(x)
    out = convert_element_type(a, new_dtype=dtype)
    if copy and out is a and not isinstance(out, Tracer):
        out = out.copy()
    if device is not None:
        out = device_put(out, device)
    return out
