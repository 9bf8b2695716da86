"""Argument checks shared by the samplers, and the wrapper that makes a function a sampler."""
from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numpy as np

import functrans.numpy as fnp
from functrans.backend import NUMPY, array_module, backend_of, device_put
from functrans.core.trace import Tracer
from functrans.errors import TracerConversionError
from functrans.primitives.conversion import to_device_of
from functrans.primitives.opaque import opaque_call_p
from functrans.random._bits import _F64, _U32, ArrayModule
from functrans.typing import Array, DType

Shape = int | Sequence[int]
"""The shape of a sample: an int ``n`` stands for ``(n,)``."""

_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_KEY_HELP = "expected a key from functrans.random.key(seed) (uint32, shape (2,))"


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _reject_tracer(value: Any, name: str, fn: str) -> None:
    """Refuse a traced value where the draw runs on concrete values (the samplers route their
    traced parameters around such places, so this guards the internal calls)."""
    if hasattr(value, "_trace"):
        raise TracerConversionError(
            f"functrans.random.{fn}: argument '{name}' is a traced value (inside jit, vmap or "
            f"grad), but this draw needs its concrete value: create '{name}' outside the "
            f"transformed function, or mark it static (jit's static_argnums)."
        )


def _refuse_traced_size(values: Any, name: str, fn: str, role: str = "sets the shape of the result") -> None:
    """The error for a traced value (``jit`` traces Python ints; ``vmap`` maps its arguments)
    among ``values`` where a concrete int is needed, as in JAX: a size, a count or an axis."""
    if any(isinstance(v, Tracer) for v in values):
        raise TracerConversionError(
            f"functrans.random.{fn}: '{name}' is a traced value (jit traces the Python ints "
            f"passed to it; vmap maps its arguments), but it {role}, so it must be a concrete "
            f"int, as in JAX: under jit mark it static (static_argnums), under vmap leave it "
            f"unmapped (in_axes=None), or write it in the function as a constant."
        )


def _check_key(k: Any, fn: str) -> ArrayModule:
    """Validate a key and return its array module."""
    _reject_tracer(k, "key", fn)
    dtype = getattr(k, "dtype", None)
    shape = getattr(k, "shape", None)
    if dtype is None or shape is None:
        hint = ""
        if _is_int(k):
            hint = f"; to make a key from the seed {k}, call functrans.random.key({k})"
        raise TypeError(
            f"functrans.random.{fn}: {_KEY_HELP}, got {type(k).__name__} {k!r:.60}{hint}"
        )
    if dtype != _U32:
        raise TypeError(
            f"functrans.random.{fn}: {_KEY_HELP}, got an array of dtype {dtype} and shape "
            f"{tuple(shape)}"
        )
    if tuple(shape) != (2,):
        hint = ""
        if len(shape) >= 2 and shape[-1] == 2:
            hint = " (a batch of keys, as split returns; pass one of them, e.g. keys[0])"
        raise ValueError(
            f"functrans.random.{fn}: {_KEY_HELP}, got a uint32 array of shape "
            f"{tuple(shape)}{hint}"
        )
    return array_module(k)


def _check_shape(shape: Any, fn: str, name: str = "shape") -> tuple[int, ...]:
    if _is_int(shape):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None:
        _refuse_traced_size((shape,), name, fn)
        raise TypeError(
            f"functrans.random.{fn}: '{name}' must be an int or a tuple of ints, got "
            f"{type(shape).__name__} {shape!r:.60}"
        )
    if not all(_is_int(d) for d in dims):
        _refuse_traced_size(dims, name, fn)
        raise TypeError(
            f"functrans.random.{fn}: '{name}' must be an int or a tuple of ints, got {dims!r:.60}"
        )
    dims = tuple(int(d) for d in dims)
    if any(d < 0 for d in dims):
        raise ValueError(
            f"functrans.random.{fn}: '{name}' must not have negative sizes, got {dims}"
        )
    return dims


def _float_dtype(dtype: DType, fn: str) -> np.dtype:
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is None or d not in _FLOATS:  # (`None in _FLOATS` is True: NumPy reads None as float64)
        other = ""
        if d is not None and d.kind in "iu":
            other = "; for integers use functrans.random.randint"
        raise TypeError(
            f"functrans.random.{fn}: dtype must be a floating dtype (float16, float32 or "
            f"float64), got {dtype!r}{other}"
        )
    return d


def _integer_dtype(dtype: DType, fn: str, kinds: str, wanted: str, instead: str) -> np.dtype:
    """``dtype`` as a NumPy dtype of one of ``kinds`` (``"iu"`` or ``"u"``), else a TypeError
    naming what ``fn`` takes (``wanted``) and what to use ``instead``."""
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is None or d.kind not in kinds:
        raise TypeError(f"functrans.random.{fn}: dtype must be {wanted}, got {dtype!r}; {instead}")
    return d


def _broadcasts_to(src: tuple[int, ...], dst: tuple[int, ...]) -> bool:
    """Whether an array of shape ``src`` broadcasts to exactly ``dst``."""
    if len(src) > len(dst):
        return False
    return all(s == 1 or s == d for s, d in zip(reversed(src), reversed(dst)))


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _param(xp: ArrayModule, value: Any, name: str, fn: str, shape: tuple[int, ...],
           dtype: DType | None) -> float | Array:
    """A distribution parameter: a Python float, or a flat array broadcast to ``shape``."""
    _reject_tracer(value, name, fn)
    if _is_real(value):
        return float(value)
    try:
        arr = xp.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"functrans.random.{fn}: '{name}' must be a real number or an array, got "
            f"{type(value).__name__} {value!r:.60}"
        ) from None
    if not _broadcasts_to(tuple(arr.shape), shape):
        raise ValueError(
            f"functrans.random.{fn}: '{name}' of shape {tuple(arr.shape)} does not broadcast to "
            f"the requested shape {shape}; pass a shape it broadcasts to"
        )
    return xp.broadcast_to(arr, shape).reshape(-1)


def _normalize_axis(axis: Any, ndim: int, fn: str) -> int:
    if not _is_int(axis):
        _refuse_traced_size((axis,), "axis", fn, "picks an axis")
        raise TypeError(f"functrans.random.{fn}: 'axis' must be an int, got {axis!r:.60}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"functrans.random.{fn}: axis {axis} is out of range for an array with {ndim} "
            f"dimension(s)"
        )
    return int(axis) % ndim



class _Draw:
    """One sampling call with its key left out: ``_Draw(normal, ((3,),), {})(key)`` draws.
    ``arrays`` names keyword arguments passed after the key, as the operands of a draw whose
    arrays are traced: ``_Draw(categorical, (), {}, ("logits",))(key, logits)``."""

    __slots__ = ("sampler", "args", "kwargs", "arrays")

    def __init__(self, sampler: Callable[..., Array], args: tuple, kwargs: dict,
                 arrays: tuple[str, ...] = ()) -> None:
        self.sampler, self.args, self.kwargs, self.arrays = sampler, args, kwargs, arrays

    def __call__(self, key: Array, *arrays: Array) -> Array:
        return self.sampler(key, *self.args, **self.kwargs, **dict(zip(self.arrays, arrays)))

    def __repr__(self) -> str:
        parts = ([repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
                 + list(self.arrays))
        return f"{self.sampler.__name__}({', '.join(['key'] + parts)})"


class _StatedDraw(_Draw):
    """A draw that states its result's shape and dtype, so that ``opaque_call``'s shape rule
    does not run it on zero stand-ins of its arrays (whose values its checks would refuse)."""

    __slots__ = ("result",)

    def __init__(self, sampler: Callable[..., Array], args: tuple, kwargs: dict,
                 arrays: tuple[str, ...], result: tuple[tuple[int, ...], np.dtype]) -> None:
        super().__init__(sampler, args, kwargs, arrays)
        self.result = result

    def result_aval(self, *arrays: Any) -> tuple[tuple[int, ...], np.dtype]:
        return self.result


_F = TypeVar("_F", bound=Callable[..., Array])


def _sampler(fn: _F) -> _F:
    """Make ``fn(key, ...)`` a public sampler, keeping its signature and docstring.

    The sampler runs ``fn`` with the arrays it makes from nothing (counters) on the key's
    device. ``device=``, which ``fn`` declares for its signature and documentation, is
    handled here: the key moves there first. A key without a concrete value (inside ``jit``,
    or batched by ``vmap``) makes the whole draw one ``opaque_call`` primitive, run on the
    key's value when the program runs (example by example under ``vmap``), so it gives the
    same numbers as an eager call.
    """

    @functools.wraps(fn)
    def sample(key: Array, *args: Any, device: str | None = None, **kwargs: Any) -> Array:
        if isinstance(key, Tracer):
            if device is not None:
                kwargs["device"] = device
            return opaque_call_p.bind(key, fn=_Draw(sample, args, kwargs))
        if device is not None:
            key = device_put(key, device)
        backend = backend_of(key)
        if backend is NUMPY or hasattr(key, "_trace"):
            return fn(key, *args, **kwargs)
        with backend.device_scope(backend.device_of(key)):
            return fn(key, *args, **kwargs)

    sample.__module__ = "functrans.random"  # the public path, for help() and reprs
    return cast(_F, sample)


def _traced_counts(*names: str) -> Callable[[_F], _F]:
    """Let the count parameters ``names`` of an integer sampler be traced (a rate passed into
    ``jit``, ``vmap`` over rates): the draw becomes one ``opaque_call`` of the key and those
    parameters, run on their values when the program runs, so it gives the eager counts.
    Integer counts have no derivative, so the call's zero derivative is the right one."""

    def wrap(sample: _F) -> _F:
        signature = inspect.signature(sample)

        @functools.wraps(sample)
        def run(key: Array, *args: Any, **kwargs: Any) -> Array:
            if not any(isinstance(a, Tracer) for a in (*args, *kwargs.values())):
                return sample(key, *args, **kwargs)  # (the common eager call: no binding)
            bound = signature.bind(key, *args, **kwargs)
            traced = tuple(n for n in names if isinstance(bound.arguments.get(n), Tracer))
            if not traced:
                return sample(key, *args, **kwargs)
            named = dict(bound.arguments)
            key = named.pop("key")
            arrays = [named.pop(n) for n in traced]
            return opaque_call_p.bind(key, *arrays, fn=_Draw(sample, (), named, traced))

        run.__module__ = "functrans.random"  # the public path, for help() and reprs
        return cast(_F, run)

    return wrap


# --------------------------------------------------------------------------------------------
# Samplers differentiable in their parameters
# --------------------------------------------------------------------------------------------


def _public(fn: _F) -> _F:
    """Show ``fn`` under its public path, ``functrans.random``, in help() and reprs."""
    fn.__module__ = "functrans.random"
    return fn


def _check_any_key(k: Any, fn: str) -> None:
    """Validate a key that may be traced (inside ``jit`` or ``vmap``): its shape and dtype."""
    if not isinstance(k, Tracer):
        _check_key(k, fn)
        return
    shape, dtype = tuple(getattr(k, "shape", ())), getattr(k, "dtype", None)
    if shape != (2,) or dtype != _U32:
        raise TypeError(
            f"functrans.random.{fn}: {_KEY_HELP}, got a traced array of dtype {dtype} and "
            f"shape {shape}"
        )


def _float_param(value: Any, name: str, fn: str, key: Any) -> Any:
    """A differentiable distribution parameter: a Python float, a tracer, or an array.

    Numbers stay Python floats (they mix with the samples of any dtype and device); a concrete
    array moves to the key's device, as the other samplers' parameters do; so does a traced
    value, when the program runs, and derivatives flow through the move.
    """
    if _is_real(value):
        return float(value)
    if isinstance(value, Tracer):
        traced: Any = _traced_on_key_device(value, key)
        return traced if traced.dtype.kind == "f" else traced.astype(_F64)
    if getattr(value, "dtype", None) is not None and value.dtype.kind == "c":
        raise TypeError(f"functrans.random.{fn}: '{name}' must be real, got dtype {value.dtype}")
    try:
        if isinstance(key, Tracer):  # moved to the key's device when the program runs
            arr = _draw_with(_same, key, fnp.asarray(value))
        else:
            backend = backend_of(key)
            with backend.device_scope(backend.device_of(key)):
                arr = array_module(key).asarray(value)
        if arr.dtype.kind != "f":
            arr = arr.astype(_F64)
    except (TypeError, ValueError):
        raise TypeError(
            f"functrans.random.{fn}: '{name}' must be a real number or an array, got "
            f"{type(value).__name__} {value!r:.60}"
        ) from None
    return arr


def _traced_on_key_device(value: Any, key: Any) -> Any:
    """A traced ``value`` moved to the key's device when the program runs (under ``jit`` an
    array computed from Python numbers alone is a host array, as it is eagerly, where a
    sampler moves it): explicitly, differentiably; as it is beside a key on the host."""
    if not isinstance(key, Tracer) and backend_of(key) is NUMPY:
        return value
    return to_device_of(value, key)


def _broadcast_shapes(fn: str, shapes: dict[str, tuple[int, ...]]) -> tuple[int, ...]:
    """The broadcast of the parameters' shapes, or an error naming them."""
    ndim = max((len(s) for s in shapes.values()), default=0)
    out = []
    for axis in range(ndim):
        sizes = {s[axis - ndim + len(s)] for s in shapes.values() if axis - ndim + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            raise ValueError(
                f"functrans.random.{fn}: the parameters' shapes "
                f"{', '.join(f'{k}={v}' for k, v in shapes.items())} do not broadcast together"
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _sample_shape(fn: str, shape: Any, **params: Any) -> tuple[int, ...]:
    """The shape of a sample: ``shape``, or the broadcast of the parameters' shapes if None.

    Every parameter must broadcast to an explicit ``shape``, as in JAX.
    """
    shapes = {k: tuple(getattr(v, "shape", ())) for k, v in params.items()}
    if shape is None:
        return _broadcast_shapes(fn, shapes)
    dims = _check_shape(shape, fn)
    for name, s in shapes.items():
        if not _broadcasts_to(s, dims):
            raise ValueError(
                f"functrans.random.{fn}: '{name}' of shape {s} does not broadcast to the "
                f"requested shape {dims}; pass a shape it broadcasts to (or shape=None for "
                "the parameters' own shape)"
            )
    return dims


class _OnKeyDevice:
    """``fn(key, *arrays)`` run with the arrays it makes from nothing on the key's device."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Array]) -> None:
        self.fn = fn

    def __call__(self, key: Array, *arrays: Array) -> Array:
        backend = backend_of(key)
        if backend is NUMPY:
            return self.fn(key, *arrays)
        xp = array_module(key)
        with backend.device_scope(backend.device_of(key)):
            return self.fn(key, *(xp.asarray(a) for a in arrays))

    def __repr__(self) -> str:
        return self.fn.__name__


def _same(key: Array, value: Array) -> Array:
    return value


def _draw_with(fn: Callable[..., Array], key: Any, *arrays: Any) -> Array:
    """``fn(key, *arrays)`` on concrete values: directly, or as one ``opaque_call`` when the
    key or an array is traced (the draw then runs when the program runs, on their values)."""
    run = _OnKeyDevice(fn)
    if isinstance(key, Tracer) or any(isinstance(a, Tracer) for a in arrays):
        return opaque_call_p.bind(key, *arrays, fn=run)
    return run(key, *arrays)


class _Shaped:
    """A stand-in with only a shape, for the shape checks of a batch of event parameters."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)


def _on(key: Any, device: str | None) -> Any:
    """The key, moved to ``device`` if one is given."""
    return key if device is None else device_put(key, device)


def _finish(x: Any, dtype: np.dtype) -> Array:
    """``x`` as an array of ``dtype`` (a 0-d result stays an array, not a NumPy scalar)."""
    if not isinstance(x, Tracer):
        x = fnp.asarray(x)
    return x if x.dtype == dtype else x.astype(dtype)
