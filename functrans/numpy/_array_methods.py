"""The array interface of tracers: Python operators, ndarray methods and properties, and
NumPy's dispatch protocols, each delegating to functrans.numpy. Wired in one place."""
from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from functrans import errors
from functrans.core.trace import Tracer
from functrans.primitives import elementwise as _ew


def _op(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """The form of the binary function ``f`` for a traced array's operator (see ``binary_ufunc``)."""
    return getattr(f, "operator_form", f)


def _swap(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def swapped(self: Any, other: Any) -> Any:
        return f(other, self)

    return swapped


def _sort_in_place(self: Any, *args: Any, **kwargs: Any) -> None:
    raise errors.InPlaceUpdateError(
        "x.sort() sorts an array in place, which a traced array cannot do (the derivative needs "
        "the old order). Write x = functrans.numpy.sort(x) instead, which returns a new array."
    )


# PyTorch's names of NumPy's keywords: a traced array's method given one says NumPy's.
_TORCH_KEYWORDS = {"dim": "axis", "keepdim": "keepdims"}

# The methods that take NumPy's axis= (and keepdims=).
_AXIS_METHODS = ("sum", "prod", "mean", "var", "std", "max", "min", "argmax", "argmin", "all", "any",
                 "cumsum", "cumprod", "argsort", "squeeze", "repeat", "take")


# The methods NumPy's arrays give out=; a traced array's refuses it as the functions do.
_OUT_METHODS = ("sum", "prod", "mean", "var", "std", "max", "min", "argmax", "argmin", "all", "any",
                "cumsum", "cumprod", "clip", "dot", "round", "trace", "take")


def _checked_method(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` as the array method ``name``, one wrapper that refuses what NumPy's method
    would take and functrans's cannot: PyTorch's ``dim=``/``keepdim=`` (a TypeError naming
    NumPy's keyword), for the methods taking ``axis=``; and ``out=`` (the way to use the result
    instead of Python's TypeError for an unexpected keyword), for those NumPy gives ``out=``."""
    axis, out_too = name in _AXIS_METHODS, name in _OUT_METHODS

    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            if out_too and kwargs.pop("out", None) is not None:
                raise NotImplementedError(
                    f"x.{name} does not take out=: functrans arrays (as JAX's) are never written in "
                    f"place. Use the result, y = x.{name}(...), or to fill a NumPy array you own, "
                    f"out[...] = x.{name}(...)")
            if axis and not _TORCH_KEYWORDS.keys().isdisjoint(kwargs):
                torch = [k for k in kwargs if k in _TORCH_KEYWORDS]
                spelled = ", ".join([repr(a) for a in args]
                                    + [f"{_TORCH_KEYWORDS.get(k, k)}={v!r}" for k, v in kwargs.items()])
                raise TypeError(
                    f"x.{name}() got {' and '.join(k + '=' for k in torch)}, as PyTorch spells it; arrays "
                    f"in functrans follow NumPy, which says "
                    f"{' and '.join(_TORCH_KEYWORDS[k] + '=' for k in torch)}: write x.{name}({spelled})")
        return method(self, *args, **kwargs)

    checked.__name__ = checked.__qualname__ = name
    checked.__wrapped__ = method  # type: ignore[attr-defined]  # inspect.signature shows the method's
    return checked


def _is_boolean(x: Any) -> bool:
    return type(x) is bool or getattr(getattr(x, "dtype", None), "kind", None) == "b"


def _boolean_operator(symbol: str, logical: Callable[..., Any], swap: bool = False) -> Callable[..., Any]:
    """The operator ``symbol`` (``&``, ``|``, ``^``, ``~``) of boolean arrays, which is the
    logical operation; for other dtypes a TypeError that says so (integers' bitwise
    operations have no functrans version)."""

    def operator(self: Any, *other: Any) -> Any:
        operands = (*other, self) if swap else (self, *other)
        if all(_is_boolean(x) for x in operands):
            return logical(*operands)
        dtypes = " and ".join(str(getattr(x, "dtype", type(x).__name__)) for x in operands)
        raise TypeError(
            f"The operator {symbol} on traced arrays of dtype {dtypes}: functrans supports {symbol} "
            "on boolean arrays (masks), where it is the logical operation; for other dtypes write "
            "fnp.logical_and/logical_or/logical_xor/logical_not of boolean masks, or do bitwise "
            "integer arithmetic outside the transformed function.")

    operator.__name__ = operator.__qualname__ = f"__{'r' if swap else ''}{logical.__name__}__"
    return operator


def _install(fnp: ModuleType) -> None:
    T: Any = Tracer  # a class extended here: its methods are set at run time
    T.__add__ = _op(fnp.add)
    T.__radd__ = _swap(_op(fnp.add))
    T.__sub__ = _op(fnp.subtract)
    T.__rsub__ = _swap(_op(fnp.subtract))
    T.__mul__ = _op(fnp.multiply)
    T.__rmul__ = _swap(_op(fnp.multiply))
    T.__truediv__ = _op(fnp.divide)
    T.__rtruediv__ = _swap(_op(fnp.divide))
    T.__floordiv__ = _op(fnp.floor_divide)
    T.__rfloordiv__ = _swap(_op(fnp.floor_divide))
    T.__mod__ = _op(fnp.mod)
    T.__rmod__ = _swap(_op(fnp.mod))
    T.__divmod__ = fnp.divmod
    T.__rdivmod__ = _swap(fnp.divmod)
    T.__pow__ = _op(fnp.power)
    T.__rpow__ = _swap(_op(fnp.power))
    T.__matmul__ = fnp.matmul
    T.__rmatmul__ = _swap(fnp.matmul)
    T.__neg__ = lambda self: _ew.neg(self)
    T.__pos__ = lambda self: self
    T.__abs__ = lambda self: _ew.abs(self)
    T.__lt__ = _op(fnp.less)
    T.__le__ = _op(fnp.less_equal)
    T.__gt__ = _op(fnp.greater)
    T.__ge__ = _op(fnp.greater_equal)
    T.__eq__ = _op(fnp.equal)
    T.__ne__ = _op(fnp.not_equal)
    T.__getitem__ = fnp.getitem
    T.__and__ = _boolean_operator("&", fnp.logical_and)
    T.__rand__ = _boolean_operator("&", fnp.logical_and, swap=True)
    T.__or__ = _boolean_operator("|", fnp.logical_or)
    T.__ror__ = _boolean_operator("|", fnp.logical_or, swap=True)
    T.__xor__ = _boolean_operator("^", fnp.logical_xor)
    T.__rxor__ = _boolean_operator("^", fnp.logical_xor, swap=True)
    T.__invert__ = _boolean_operator("~", fnp.logical_not)

    T.T = property(lambda self: fnp.transpose(self))
    T.mT = property(lambda self: fnp.swapaxes(self, -1, -2))
    T.real = property(lambda self: fnp.real(self))
    T.imag = property(lambda self: fnp.imag(self))
    T.at = property(lambda self: fnp.at(self))
    T.conj = lambda self: fnp.conj(self)
    T.conjugate = T.conj
    T.reshape = lambda self, *shape, order="C": fnp.reshape(
        self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape, order=order)
    T.transpose = lambda self, *axes: fnp.transpose(
        self, None if not axes else (axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes))
    T.swapaxes = lambda self, a, b: fnp.swapaxes(self, a, b)
    T.squeeze = lambda self, axis=None: fnp.squeeze(self, axis)
    T.ravel = lambda self: fnp.ravel(self)
    T.flatten = lambda self: fnp.ravel(self)
    T.sum = lambda self, axis=None, dtype=None, keepdims=False, *, initial=None, where=None: fnp.sum(
        self, axis, dtype, keepdims, initial=initial, where=where)
    T.prod = lambda self, axis=None, dtype=None, keepdims=False, *, initial=None, where=None: fnp.prod(
        self, axis, dtype, keepdims, initial=initial, where=where)
    T.mean = lambda self, axis=None, dtype=None, keepdims=False, *, where=None: fnp.mean(
        self, axis, dtype, keepdims, where=where)
    T.var = lambda self, axis=None, dtype=None, ddof=0, keepdims=False, *, where=None: fnp.var(
        self, axis, dtype, ddof, keepdims, where=where)
    T.std = lambda self, axis=None, dtype=None, ddof=0, keepdims=False, *, where=None: fnp.std(
        self, axis, dtype, ddof, keepdims, where=where)
    T.max = lambda self, axis=None, keepdims=False, *, initial=None, where=None: fnp.max(
        self, axis, keepdims, initial=initial, where=where)
    T.min = lambda self, axis=None, keepdims=False, *, initial=None, where=None: fnp.min(
        self, axis, keepdims, initial=initial, where=where)
    T.argmax = lambda self, axis=None, keepdims=False: fnp.argmax(self, axis, keepdims)
    T.argmin = lambda self, axis=None, keepdims=False: fnp.argmin(self, axis, keepdims)
    T.clip = lambda self, min=None, max=None: fnp.clip(self, min, max)
    T.dot = lambda self, other: fnp.dot(self, other)
    T.astype = lambda self, dtype, copy=True: fnp.astype(self, dtype)
    T.cumsum = lambda self, axis=None, dtype=None: fnp.cumsum(self, axis, dtype)
    T.cumprod = lambda self, axis=None, dtype=None: fnp.cumprod(self, axis, dtype)
    T.sort = _sort_in_place
    T.argsort = lambda self, axis=-1, kind=None, order=None: fnp.argsort(self, axis, kind, order)
    T.round = lambda self, decimals=0: fnp.round(self, decimals)
    T.trace = lambda self, offset=0, axis1=0, axis2=1, dtype=None: fnp.trace(self, offset, axis1, axis2, dtype)
    T.diagonal = lambda self, offset=0, axis1=0, axis2=1: fnp.diagonal(self, offset, axis1, axis2)
    T.all = lambda self, axis=None, keepdims=False, *, where=None: fnp.all(self, axis, keepdims, where=where)
    T.any = lambda self, axis=None, keepdims=False, *, where=None: fnp.any(self, axis, keepdims, where=where)
    T.repeat = lambda self, repeats, axis=None: fnp.repeat(self, repeats, axis)
    T.take = lambda self, indices, axis=None, mode=None: fnp.take(self, indices, axis, mode=mode)
    T.nonzero = lambda self: fnp.nonzero(self)
    T.copy = lambda self, order="C": fnp.copy(self)
    for name in dict.fromkeys(_AXIS_METHODS + _OUT_METHODS):
        setattr(T, name, _checked_method(name, getattr(T, name)))

    def array_ufunc(self: Any, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        target = getattr(fnp, ufunc.__name__, None) if method == "__call__" else None
        if target is None or kwargs:
            spelled = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            raise errors.UnsupportedError(
                f"{spelled} was called on a traced array"
                + (f" with arguments {sorted(kwargs)}" if kwargs else "")
                + ", which functrans cannot differentiate. "
                + (f"Call functrans.numpy.{ufunc.__name__} without out=/where=/dtype= arguments."
                   if target is not None else
                   "functrans.numpy has no version of it yet; express it with functrans.numpy functions.")
            )
        return target(*inputs)

    def array_function(self: Any, func: Callable[..., Any], types: Any, args: tuple[Any, ...],
                       kwargs: dict[str, Any]) -> Any:
        module = func.__module__ or ""
        namespace: Any = fnp  # the module, then its submodule named by func.__module__
        for part in module.split(".")[1:]:
            if part in ("_core", "core", "fromnumeric", "numeric", "multiarray", "shape_base",
                        "_multiarray_umath", "function_base", "_function_base_impl",
                        "_shape_base_impl", "_ufunc_config", "lib"):
                continue
            namespace = getattr(namespace, part, None)
            if namespace is None:
                break
        target = getattr(namespace, func.__name__, None) if namespace is not None else None
        if target is None:
            public = [part for part in module.split(".") if not part.startswith("_")]
            public = [part for part in public if part not in ("core", "lib")]
            spelled = ".".join(public + [func.__name__])
            raise errors.UnsupportedError(
                f"{spelled} was called on a traced array, and functrans.numpy has no "
                f"version of it yet. Express it with functrans.numpy functions "
                f"(import functrans.numpy as fnp), which are differentiable."
            )
        return target(*args, **kwargs)

    T.__array_ufunc__ = array_ufunc
    T.__array_function__ = array_function
