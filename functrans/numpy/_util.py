"""Helpers every functrans.numpy module uses: turning an operand into an array, reading axes,
and placing host data (indices, masks, constants) where an operand lives."""
from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from functrans import errors
from functrans._abstract import PY_SCALARS, SCALARS, dtype_of
from functrans.backend import NUMPY, array_module, backend_of, to_host
from functrans.config import config
from functrans.core.trace import Tracer
from functrans.primitives import elementwise as _ew
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import constant_like, convert_element_type
from functrans.primitives.elementwise import isnan
from functrans.primitives.indexing import IndexArray, gather_p, out_of_range
from functrans.typing import Array, ArrayLike, DType, Shape

# Python scalars, NumPy arrays and the common NumPy scalars: the operands NumPy computes with
# directly.
PLAIN_TYPES: frozenset[type] = PY_SCALARS | {np.ndarray, np.float64, np.float32, np.int64, np.bool_}

# Types known to pass through ``operand`` unchanged; checked first, by exact type, because
# every functrans.numpy call goes through here. Tracer subclasses and the array types of other
# backends join the set the first time they are seen.
PASS_THROUGH: set[type] = set(PLAIN_TYPES)

# The Python scalar types, for isinstance checks (NumPy's float64 and complex128 are instances).
NUMBERS: tuple[type[Any], ...] = tuple(PY_SCALARS)

# Values that nested lists may hold and NumPy turns into an array on the host.
HOST_VALUES: tuple[type[Any], ...] = (*NUMBERS, list, tuple, np.ndarray, np.generic)

# Python scalars and lists: no array module of their own.
_SCALARS_AND_LISTS = PY_SCALARS | {list, tuple}

# Python and NumPy scalars and lists of them: data that lives on no device (an operand of
# these types may have to be placed beside a device operand: ``numbers_beside``).
HOST_DATA = SCALARS | {list, tuple}


class _NoArray:
    """A type no value has: what a fast path's ``_ndarray`` is while ``config.debug_nans`` is
    on, so that NumPy arrays take the primitives' path, whose implementations check for NaN."""


def route_through_primitives(namespace: dict[str, Any]) -> None:
    """Keep ``namespace['_ndarray']`` (the type a module's NumPy fast paths test for with
    ``type(a) is _ndarray``) equal to ``np.ndarray`` while ``config.debug_nans`` is off and
    to a type no value has while it is on: the fast paths cost nothing more, and the NaN
    debugging mode sees every primitive.

    Example:
        >>> namespace = {"_ndarray": np.ndarray}
        >>> route_through_primitives(namespace)
        >>> from functrans import config
        >>> with config.override(debug_nans=True):
        ...     namespace["_ndarray"] is np.ndarray
        False
        >>> namespace["_ndarray"] is np.ndarray
        True
    """
    def swap(on: bool) -> None:
        namespace["_ndarray"] = _NoArray if on else np.ndarray

    config.watch("debug_nans", swap)


_ndarray: type[np.ndarray] = np.ndarray
route_through_primitives(globals())


# --- operands ---------------------------------------------------------------------------------------


def refuse_out(name: str, out: object) -> None:
    """Raise, naming the fix, when NumPy code passes ``out=`` to ``fnp.<name>``: functrans
    functions (as JAX's) return a new array and write into none.

    Example:
        >>> refuse_out("sum", None)  # no out=: nothing to say
    """
    if out is not None:
        raise NotImplementedError(
            f"fnp.{name} does not take out=: functrans functions return a new array (as JAX's "
            f"do) and write into none. Use the result, y = fnp.{name}(...), or to fill a NumPy "
            f"array you own, out[...] = fnp.{name}(...)")


def refuse_out_everywhere(namespace: dict[str, Any], numpy_namespace: Any, prefix: str = "") -> None:
    """Give every public function of ``namespace`` whose NumPy namesake (in
    ``numpy_namespace``) takes ``out=`` but which has no ``out`` parameter itself (nor a
    ``**kwargs`` that could take it) a keyword-only ``out=None`` that ``refuse_out`` refuses,
    so that ported NumPy code passing ``out=o`` to ``fnp.square`` or ``fnp.concatenate`` learns
    the fix as it does from ``fnp.sin``, instead of Python's bare TypeError for an unexpected
    keyword. Functions NumPy gives no ``out`` keep NumPy's signature (and their speed: no
    wrapper). The public functions are those of ``__all__`` if the namespace has one;
    ``prefix`` names the namespace in the message (``"linalg."``). Aliases stay one function.

    Example:
        >>> import numpy as np
        >>> def square(x):
        ...     return x * x
        >>> square.__module__ = "functrans.example"
        >>> space = {"square": square}
        >>> refuse_out_everywhere(space, np)
        >>> space["square"](3), str(inspect.signature(space["square"]))
        (9, "(x, *, out: 'None' = None)")
    """
    made: dict[int, Any] = {}
    for name in list(namespace.get("__all__") or namespace):
        fn = namespace[name]
        if name.startswith("_") or not inspect.isfunction(fn) or not fn.__module__.startswith("functrans."):
            continue
        if not _numpy_takes_out(getattr(numpy_namespace, name, None)):
            continue
        signature = inspect.signature(fn, follow_wrapped=False)
        params = list(signature.parameters.values())
        if "out" in signature.parameters or any(p.kind is p.VAR_KEYWORD for p in params):
            continue
        if id(fn) not in made:
            made[id(fn)] = _refusing_out(fn, prefix + fn.__name__, signature.replace(parameters=[
                *params, inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None,
                                           annotation="None")]))
        namespace[name] = made[id(fn)]


def _numpy_takes_out(fn: Any) -> bool:
    if fn is None:
        return False
    if isinstance(fn, np.ufunc):
        return True
    try:
        return "out" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # (a builtin without a signature)
        return False


def _refusing_out(fn: Any, name: str, signature: inspect.Signature) -> Any:
    def checked(*args: Any, out: None = None, **kwargs: Any) -> Any:
        if out is not None:
            refuse_out(name, out)
        return fn(*args, **kwargs)

    functools.update_wrapper(checked, fn)
    vars(checked).pop("__wrapped__")  # (the signature is its own: the function's, and out)
    checked.__signature__ = signature  # type: ignore[attr-defined]
    return checked


def operand(x: ArrayLike) -> Array:
    """``x`` as functrans.numpy computes with it: arrays, tracers and Python scalars pass
    through; sequences become arrays.

    Example:
        >>> operand([1.0, 2.0]).tolist()
        [1.0, 2.0]
    """
    kind = type(x)
    if kind in PASS_THROUGH:
        return x
    if isinstance(x, (Tracer, np.ndarray, np.generic)) or hasattr(x, "__cuda_array_interface__"):
        if isinstance(x, Tracer):
            PASS_THROUGH.add(kind)
        return x
    if hasattr(kind, "shape") and hasattr(kind, "dtype"):  # an array of another backend
        PASS_THROUGH.add(kind)
        return x
    if isinstance(x, (list, tuple)) and holds_device_value(x):
        return stacked(x)
    return np.array(x)  # host-data: host values (parameters, lists, host_values)


def as_array(x: ArrayLike) -> Array:
    """``operand(x)``, with a Python number made a 0-d NumPy array (so that it has a shape
    and a dtype).

    Example:
        >>> as_array(2.0).shape
        ()
    """
    x = operand(x)
    return np.asarray(x) if isinstance(x, NUMBERS) else x  # host-data: a Python scalar


def inexact(x: ArrayLike) -> Array:
    """``as_array(x)`` in an inexact dtype: integers and booleans become float64, as NumPy's
    floating-point functions make them.

    Example:
        >>> inexact([1, 2]).dtype
        dtype('float64')
    """
    x = as_array(x)
    return x if x.dtype.kind in "fc" else convert_element_type(x, new_dtype=np.float64)


def floating(x: ArrayLike) -> Array:
    """``operand(x)`` in an inexact dtype, for elementwise functions that NumPy computes in
    floating point: integers and booleans become float64; Python floats stay Python floats
    (weakly typed: they take the dtype of the arrays they meet).

    Example:
        >>> floating(np.arange(2)).dtype
        dtype('float64')
    """
    x = operand(x)
    if type(x) in (int, bool) or dtype_of(x).kind not in "fc":
        return convert_element_type(x, new_dtype=np.float64)
    return x


def holds_device_value(obj: Any) -> bool:
    """True if nested lists hold a tracer or an array of another backend than NumPy (then
    they are stacked by primitives, where those values live).

    Example:
        >>> holds_device_value([1.0, [2.0]])
        False
    """
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, Tracer) or not isinstance(item, HOST_VALUES):
            return True
    return False


def stacked(items: Sequence[Any]) -> Array:
    """Nested lists that hold tracers or device arrays, stacked along a new first axis by the
    primitives (so the result lives, and is differentiated, where its entries are).

    Example:
        >>> stacked([np.ones(2), np.zeros(2)]).shape
        (2, 2)
    """
    arrays = [stacked(item) if isinstance(item, (list, tuple)) and holds_device_value(item)
              else item for item in items]
    arrays = [as_array(a) for a in numbers_beside(arrays)]
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {tuple(a.shape) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"all input arrays must have the same shape, got {sorted(shapes)}")
    dtype = np.result_type(*(a.dtype for a in arrays))
    return _shape.concatenate(
        [_shape.expand_dims(convert_element_type(a, new_dtype=dtype), (0,)) for a in arrays], 0)


def _is_number(x: Any) -> bool:
    """Whether ``x`` is host data that lives on no device: a Python number, a NumPy scalar,
    or nested lists of them."""
    kind = type(x)
    return kind in HOST_DATA and not (kind in (list, tuple) and holds_device_value(x))


def number_beside(x: ArrayLike, like: Any) -> Array:
    """``as_array(x)``, a number (a Python number, a NumPy scalar, nested lists of them) made
    where ``like`` lives, as NumPy makes it (its dtype): for an operand that NumPy would turn
    into an array before it meets ``like`` (raveled, broadcast, joined). A NumPy operand gets
    the NumPy array itself.

    Example:
        >>> number_beside(2.0, np.ones(3))
        array(2.)
    """
    if type(like) is not np.ndarray and _is_number(x):
        return placed_like(np.asarray(x), like)  # host-data: a number, placed where like is
    return as_array(x)


def numbers_beside(values: Sequence[Any]) -> Sequence[Any]:
    """The operands ``values`` of one function, each number among them (see
    ``number_beside``) made an array where the first operand that is neither a number nor a
    NumPy array lives (a device array, a tracer, a list holding one: stacked first);
    ``values`` itself when there is no such operand (NumPy meets the numbers itself).

    Example:
        >>> numbers_beside([np.ones(2), 3.0])
        [array([1., 1.]), 3.0]
    """
    if type(values) is not list and type(values) is not tuple:
        values = list(values)  # (an iterator, read once)
    lists = False
    for v in values:  # (NumPy arrays and numbers alone: one look at each, nothing made)
        kind = type(v)
        if kind is np.ndarray:
            continue
        if kind in HOST_DATA:
            lists = lists or kind is list or kind is tuple
            continue
        break
    else:
        if not lists:
            return values
    return _numbers_placed(values)


def pair_beside(a: Any, b: Any) -> tuple[Any, Any]:
    """``numbers_beside((a, b))`` for the two operands of a function, after one look at their
    types: only a number beside something other than a NumPy array may need placing.

    Example:
        >>> pair_beside(2.0, np.ones(2))
        (2.0, array([1., 1.]))
    """
    ta, tb = type(a), type(b)
    if ta in HOST_DATA and tb is not np.ndarray or tb in HOST_DATA and ta is not np.ndarray:
        a, b = numbers_beside((a, b))
    return a, b


def _numbers_placed(values: Sequence[Any]) -> Sequence[Any]:
    """``numbers_beside`` for operands among which there is an array or tracer of a device, or
    a list that may hold one."""
    out = list(values)
    like = None
    numbers = False
    for i, v in enumerate(out):
        kind = type(v)
        if kind in HOST_DATA:
            if kind in (list, tuple) and holds_device_value(v):
                v = out[i] = stacked(v)
                like = v if like is None else like
            else:
                numbers = True
        elif like is None and kind is not np.ndarray:
            like = v
    if not numbers or like is None:
        return out
    return [placed_like(np.asarray(v), like) if _is_number(v)  # host-data: numbers, placed
            else v for v in out]


def nan_filled(a: ArrayLike, fill: ArrayLike) -> Array:
    """``a`` with its NaN entries replaced by ``fill`` (arrays of other dtypes as they are).

    Example:
        >>> nan_filled(np.array([1.0, np.nan]), 0.0).tolist()
        [1.0, 0.0]
    """
    a = as_array(a)
    if a.dtype.kind not in "fc":
        return a
    return _ew.select(isnan(a), fill, a)


def plain_module(a: Any) -> Any:
    """The array module to call directly when ``a`` is a plain array (the fast path of
    reductions), else None.

    Example:
        >>> plain_module(np.ones(2)) is np
        True
    """
    kind = type(a)
    if kind is _ndarray:
        return np
    if isinstance(a, Tracer) or kind in _SCALARS_AND_LISTS or _ndarray is not np.ndarray:
        return None
    return array_module(a) if hasattr(a, "__array_namespace__") or hasattr(a, "shape") else None


def any_tracer(*xs: Any) -> bool:
    """True if any argument is a traced array.

    Example:
        >>> any_tracer(1.0, np.ones(2))
        False
    """
    for x in xs:
        if isinstance(x, Tracer):
            return True
    return False


# --- axes ---------------------------------------------------------------------------------------------


def normalize_axis(axis: int, ndim: int, name: str = "axis") -> int:
    """``axis`` counted from the front (negative axes count from the end).

    Example:
        >>> normalize_axis(-1, 3)
        2
    """
    if not -ndim <= axis < max(ndim, 1) and not (ndim == 0 and axis in (0, -1)):
        raise np.exceptions.AxisError(f"{name} {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim if ndim else 0


def normalize_axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """``None`` means every axis; an int or a sequence of ints (negative from the end).

    Example:
        >>> normalize_axes((0, -1), 3)
        (0, 2)
    """
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Sequence):
        axes = tuple(normalize_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"duplicate value in 'axis': {axis}")
        return axes
    return (normalize_axis(axis, ndim),)


def reduction_operand(a: ArrayLike, axis: int | Sequence[int] | None,
                      dtype: DType | None) -> tuple[Array, tuple[int, ...]]:
    """``(a, axes)`` for a reduction: ``a`` as an array (in ``dtype`` if given) and ``axis`` as
    a tuple of axes counted from the front (None: all of them).

    Example:
        >>> reduction_operand([1, 2], None, np.float32)[0].dtype
        dtype('float32')
    """
    a = operand(a)
    if dtype is not None:
        a = convert_element_type(a, new_dtype=dtype)
    if isinstance(a, NUMBERS):
        a = np.asarray(a)  # host-data: a Python scalar
    return a, normalize_axes(axis, len(a.shape))


def in_dtype(result: Array, dtype: DType | None) -> Array:
    """A reduction's ``result`` in the ``dtype`` the caller asked for: its primitive may
    accumulate small integers in 64 bits, and the cast back gives the value NumPy's
    accumulation in ``dtype`` wraps to (sums and products are exact modulo ``2**bits``).

    Example:
        >>> in_dtype(np.array(300), np.int8)
        array(44, dtype=int8)
    """
    if dtype is None or dtype_of(result) == np.dtype(dtype):
        return result
    return convert_element_type(result, new_dtype=dtype)


def keep_dims(result: Array, x_shape: Shape, axes: Sequence[int], keepdims: bool) -> Array:
    """A reduction's ``result`` with the reduced ``axes`` of ``x_shape`` put back as size 1
    when ``keepdims``.

    Example:
        >>> keep_dims(np.ones(3), (2, 3), (0,), True).shape
        (1, 3)
    """
    if not keepdims:
        return result
    return _shape.reshape(result, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))


def flat_or_axis(a: Array, axis: int | None) -> tuple[Array, int]:
    """``(a, axis)`` with ``axis`` counted from the front, or the flattened ``a`` and 0 when
    ``axis`` is None (NumPy's convention for functions of the flattened array).

    Example:
        >>> [v if isinstance(v, int) else v.shape for v in flat_or_axis(np.ones((2, 3)), None)]
        [(6,), 0]
    """
    if axis is None:
        return _shape.reshape(a, (math.prod(a.shape),)), 0
    return a, normalize_axis(axis, len(a.shape))


def slice_axis(a: Array, axis: int, start: int, stop: int) -> Array:
    """``a[..., start:stop, ...]`` along ``axis`` (a non-negative axis).

    Example:
        >>> slice_axis(np.arange(6.0).reshape(2, 3), 1, 1, 3).tolist()
        [[1.0, 2.0], [4.0, 5.0]]
    """
    starts = [0] * len(a.shape)
    limits = list(a.shape)
    starts[axis], limits[axis] = start, stop
    return _shape.slice_(a, tuple(starts), tuple(limits))


def take_axis(a: Array, idx: Array, axis: int) -> Array:
    """``a`` indexed by the integer array ``idx`` along ``axis`` (``numpy.take`` semantics).

    Example:
        >>> take_axis(np.array([1.0, 2.0, 3.0]), np.array([2, 0]), 0).tolist()
        [3.0, 1.0]
    """
    if not any_tracer(a, idx):
        try:
            return a[(slice(None),) * axis + (idx,)]
        except IndexError as error:
            raise out_of_range(error) from None
    return gather_p.bind(a, idx, index=(slice(None),) * axis + (IndexArray(0),))


# --- where arrays live: host-made constants and index data placed on the device of an operand -----


def _witness(like: Any) -> Any:
    """The concrete array behind ``like`` (a tracer's value), or None if it has none yet."""
    while isinstance(like, Tracer):
        try:
            like = like.to_concrete()
        except errors.TracerConversionError:
            return None
    return like


def clamped(positions: Any, n: int) -> Array:
    """``positions`` moved into ``[0, n - 1]`` (``clip`` mode), by primitives: traced or not,
    on any device.

    Example:
        >>> clamped(np.array([-2, 1, 9]), 3).tolist()
        [0, 1, 2]
    """
    return _ew.max_p.bind(_ew.min_p.bind(positions, max(n - 1, 0)), 0)


def without_values(x: Any) -> bool:
    """Whether ``x`` is traced with no values to read (under jit or vmap), as opposed to an
    array or a tracer of eager differentiation, whose values are known.

    Example:
        >>> without_values(np.ones(2))
        False
    """
    return isinstance(x, Tracer) and _witness(x) is None


def placed_like(value: np.ndarray, like: Any) -> Array:
    """Host data ``value`` (a small NumPy array: an index, a mask) where ``like`` lives.

    NumPy operands get ``value`` itself; an operand on a device gets a copy on that device
    (an explicit, small transfer, as CuPy copies a Python list used as an index).

    Example:
        >>> placed_like(np.arange(2), np.ones(3)).tolist()
        [0, 1]
    """
    if type(like) is np.ndarray:
        return value
    concrete = _witness(like)
    if concrete is None:  # no value yet (a staged program): the constant is made when it runs
        return constant_like(like, _host_constant, value)
    backend = backend_of(concrete)
    if backend is NUMPY:
        return value
    return backend.put(value, backend.device_of(concrete))


def _host_constant(xp: Any, value: np.ndarray) -> Array:
    return xp.asarray(value)


def host_values(x: Any) -> np.ndarray:
    """``x`` (a concrete array of any backend, or a tracer with a value) as host NumPy data,
    for what must be known on the host: output shapes that depend on values (unique,
    nonzero, repeat counts). An explicit transfer, and a synchronisation on a device.

    Example:
        >>> host_values([1, 2]).tolist()
        [1, 2]
    """
    traced = x
    x = _witness(x) if isinstance(x, Tracer) else x
    if x is None:
        traced.to_concrete()  # (jit's variable of a Python scalar argument names the argument)
        raise errors.TracerConversionError("this operation needs the values of its argument")
    if isinstance(x, HOST_VALUES):
        return np.asarray(x)  # host-data: host values (parameters, lists, host_values)
    return to_host(x)


def concrete_index(item: Any) -> Any:
    """The value of an index array whose values decide a result's shape (a traced one must
    have a concrete value); other items as they are.

    Example:
        >>> concrete_index([0, 2])
        [0, 2]
    """
    if isinstance(item, Tracer):
        try:
            value = item.to_concrete()
        except errors.TracerConversionError:
            raise errors.UnsupportedError(
                "An index array must have concrete values: the positions it selects decide the "
                "shape of the result. Use fnp.where to choose values instead of indexing."
            ) from None
        return value
    return item

