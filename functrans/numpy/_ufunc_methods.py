"""NumPy's ufunc methods on the elementwise functions of functrans.numpy: ``fnp.add.reduce``,
``.accumulate``, ``.reduceat``, ``.outer`` and ``.at``, with the attributes ``nin``, ``nout``,
``nargs`` and ``identity``.

The methods are attributes of the function objects, so ``fnp.add(a, b)`` costs what it did.
Values follow NumPy's methods (the result's dtype, axes, ``keepdims``, ``initial``, ``where``,
the errors of empty reductions); on plain NumPy arrays they are NumPy's methods. On traced
arrays each is built from differentiable functions: sums, products, extrema and truth tests
from the reductions, running forms from ``cumsum``, ``cumprod``, ``lax.cummax``,
``lax.cummin`` and ``lax.cumlogsumexp``, and every other function folded along the axis with
``lax.scan``. ``at`` has JAX's functional form: it returns the updated copy and needs
``inplace=False``.
"""
from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans import errors
from functrans._abstract import PY_SCALARS, shape_of
from functrans.lax import cumlogsumexp, cummax, cummin, scan
from functrans.numpy import _cumulative, _indexing, _reductions
from functrans.numpy._creation import asarray, full_like
from functrans.numpy._joining import concatenate
from functrans.numpy._shape import broadcast_to, moveaxis
from functrans.numpy._util import (
    as_array,
    host_values,
    normalize_axes,
    normalize_axis,
    placed_like,
    refuse_out,
    slice_axis,
    without_values,
)
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike, DType

_Fn = Callable[..., Array]

# The methods of x.at[index] that apply each update in turn at a repeated index.
_AT_METHODS = {"add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "divide",
               "maximum": "max", "minimum": "min"}
# NumPy's ufuncs whose reduction may run over several axes at once (their order does not matter).
_REORDERABLE = {"add", "multiply", "maximum", "minimum", "fmax", "fmin", "logaddexp", "logaddexp2",
                "hypot", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
                "bitwise_xor", "gcd"}
# NumPy's reduce and reduceat give wrong values for these along a contiguous axis of more than
# two entries (NumPy 2.4: their fast loops disagree with accumulate and with a Python fold), so
# they are folded here for plain arrays too.
_NUMPY_REDUCE_WRONG = {"power", "arctan2"}
_INPLACE = ("functrans arrays are not updated in place (as in JAX); pass inplace=False and use "
            "the array returned: a = fnp.{name}.at(a, indices{b}, inplace=False)")


def _host(*xs: Any) -> bool:
    """Whether every argument is a NumPy array, a NumPy or Python scalar or None (no tracer,
    no other backend's array), so that NumPy's own method gives the answer."""
    return all(x is None or type(x) is np.ndarray or type(x) in PY_SCALARS or isinstance(x, np.generic)
               for x in xs)


def _array(x: Any) -> Any:
    """Lists and tuples as arrays (where their entries are); anything else as it is."""
    return as_array(x) if type(x) in (list, tuple) else x


def _result_dtype(ufunc: np.ufunc, method: str, dtype: np.dtype, requested: DType | None) -> np.dtype:
    """The dtype of ``ufunc.method`` on an array of ``dtype``, as NumPy computes it (on a
    one-element array); NumPy's TypeError where it has no loop for that dtype."""
    probe = np.ones((1,), dtype)  # host-metadata: a one-element probe for the result's dtype
    with np.errstate(all="ignore"):
        if method == "reduceat":
            return ufunc.reduceat(probe, [0], dtype=requested).dtype
        return getattr(ufunc, method)(probe, dtype=requested).dtype


def _to_front(a: Array, axes: tuple[int, ...]) -> Array:
    """``a`` with ``axes`` moved to the front and merged into one."""
    moved = moveaxis(a, axes, tuple(range(len(axes))))
    rest = tuple(shape_of(moved))[len(axes):]
    return _shape.reshape(moved, (math.prod(shape_of(a)[i] for i in axes),) + rest)


def _fold(fn: _Fn, dtype: np.dtype, start: Array, xs: Array, mask: Array | None) -> Array:
    """``fn(... fn(fn(start, xs[0]), xs[1]) ..., xs[-1])``, skipping the steps where ``mask``
    is false, as a ``lax.scan``."""
    if shape_of(xs)[0] == 0:
        return start

    def step(carry: Array, x: Any) -> tuple[Array, None]:
        if mask is None:
            return convert_element_type(fn(carry, x), new_dtype=dtype), None
        value, keep = x
        return _indexing.where(keep, convert_element_type(fn(carry, value), new_dtype=dtype), carry), None

    return scan(step, start, xs if mask is None else (xs, mask))[0]


# --- reduce -------------------------------------------------------------------------------------


def _reduce_sum(a: Array, axes: tuple[int, ...], keepdims: bool, initial: Any, where: Any) -> Array:
    return _reductions.sum(a, axes, keepdims=keepdims, initial=initial, where=where)


def _reduce_prod(a: Array, axes: tuple[int, ...], keepdims: bool, initial: Any, where: Any) -> Array:
    return _reductions.prod(a, axes, keepdims=keepdims, initial=initial, where=where)


def _reduce_max(a: Array, axes: tuple[int, ...], keepdims: bool, initial: Any, where: Any) -> Array:
    return _reductions.max(a, axes, keepdims, initial=initial, where=where)


def _reduce_min(a: Array, axes: tuple[int, ...], keepdims: bool, initial: Any, where: Any) -> Array:
    return _reductions.min(a, axes, keepdims, initial=initial, where=where)


_REDUCE = {"add": _reduce_sum, "multiply": _reduce_prod, "maximum": _reduce_max, "minimum": _reduce_min}


def reduce(fn: _Fn, ufunc: np.ufunc, a: ArrayLike, axis: int | Sequence[int] | None = 0,
           dtype: DType | None = None, out: None = None, keepdims: bool = False,
           initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """``ufunc.reduce``: ``a`` reduced along ``axis`` by applying the function between its
    entries, ``fn(fn(a[0], a[1]), a[2]) ...`` (``axis=None``: all axes; several axes only for
    functions whose order does not matter, such as ``add`` and ``maximum``).

    ``initial`` starts the reduction (the function's identity does when it has one);
    ``where``, a boolean mask broadcast against ``a``, picks the entries (it needs
    ``initial`` when there is no identity). The dtype is NumPy's (``add`` and ``multiply``
    sum small integers and booleans as the default integer). Differentiable where the
    function is: ``add``, ``multiply``, ``maximum`` and ``minimum`` are ``sum``, ``prod``,
    ``max`` and ``min``; other functions are folded with ``lax.scan``.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> fnp.add.reduce(fnp.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [4.0, 6.0]
        >>> float(fnp.subtract.reduce(fnp.array([10.0, 1.0, 2.0])))
        7.0
        >>> ft.grad(lambda x: fnp.divide.reduce(x))(fnp.array([8.0, 2.0])).tolist()
        [0.5, -2.0]
    """
    name = fn.__name__
    refuse_out(f"{name}.reduce", out)
    if where is True:
        where = None
    where = _array(where)
    a = _array(a)
    if _host(a, initial, where) and name not in _NUMPY_REDUCE_WRONG:
        options: dict[str, Any] = {} if initial is None else {"initial": initial}
        if where is not None:
            options["where"] = where
        return ufunc.reduce(a, axis=axis, dtype=dtype, keepdims=keepdims, **options)
    shape = tuple(shape_of(a))
    if not shape and isinstance(axis, Sequence) and len(axis):
        raise np.exceptions.AxisError(f"axis {axis[0]} is out of bounds for array of dimension 0")
    axes = () if not shape and axis is not None and not isinstance(axis, Sequence) \
        else normalize_axes(axis, len(shape))  # (NumPy's reduce of a 0-d array along axis 0: itself)
    if len(axes) > 1 and name not in _REORDERABLE:
        raise ValueError(f"reduction operation '{name}' is not reorderable, so at most one axis may "
                         f"be specified (as in NumPy): reduce along one axis at a time")
    identity = ufunc.identity
    if where is not None and identity is None and initial is None:
        raise ValueError(f"reduction operation '{name}' does not have an identity, so to use a where "
                         f"mask one has to specify 'initial' (as in NumPy): the value where the mask "
                         f"keeps no entry")
    count = math.prod(shape[i] for i in axes)
    if count == 0 and identity is None and initial is None:
        raise ValueError(f"zero-size array to reduction operation {name} which has no identity: "
                         f"pass initial=, the value of an empty reduction")
    out_dtype = _result_dtype(ufunc, "reduce", np.dtype(a.dtype), dtype)
    a = convert_element_type(a, new_dtype=out_dtype)
    if where is not None and _host(where):  # a host mask (NumPy's, a list): placed where a is
        where = placed_like(np.asarray(where), a)  # host-data: the mask's values
    if where is not None:
        where = _reductions.boolean_mask(where)
    if name in _REDUCE:
        return _REDUCE[name](a, axes, keepdims, initial, where)
    rest = tuple(d for i, d in enumerate(shape) if i not in axes)
    xs = _to_front(a, axes)
    mask = None if where is None else _to_front(broadcast_to(as_array(where), shape), axes)
    start_value = initial if initial is not None else identity
    if start_value is not None and _host(start_value):  # a number or host array: made where a is
        start = full_like(a, start_value, shape=rest)
    elif start_value is not None:
        start = broadcast_to(convert_element_type(as_array(start_value), new_dtype=out_dtype), rest)
    else:  # no identity: the first entry starts
        start, xs = xs[0], xs[1:]
    result = _fold(fn, out_dtype, start, xs, mask)
    if keepdims:
        result = _shape.reshape(result, tuple(1 if i in axes else d for i, d in enumerate(shape)))
    return result


# --- accumulate ---------------------------------------------------------------------------------


_ACCUMULATE: dict[str, Callable[[Array, int], Array]] = {
    "add": lambda a, axis: _cumulative.cumsum(a, axis),
    "multiply": lambda a, axis: _cumulative.cumprod(a, axis),
    "maximum": lambda a, axis: cummax(a, axis),
    "minimum": lambda a, axis: cummin(a, axis),
    "logaddexp": lambda a, axis: cumlogsumexp(a, axis),
}


def accumulate(fn: _Fn, ufunc: np.ufunc, a: ArrayLike, axis: int = 0, dtype: DType | None = None,
               out: None = None) -> Array:
    """``ufunc.accumulate``: the running reduction along ``axis``, every partial result kept
    (``fnp.add.accumulate`` is ``cumsum``, ``fnp.maximum.accumulate`` a running maximum).

    The dtype is NumPy's. Differentiable where the function is: ``add``, ``multiply``,
    ``maximum``, ``minimum`` and ``logaddexp`` are ``cumsum``, ``cumprod``, ``lax.cummax``,
    ``lax.cummin`` and ``lax.cumlogsumexp``; other functions are a ``lax.scan``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.maximum.accumulate(fnp.array([1.0, 3.0, 2.0, 5.0])).tolist()
        [1.0, 3.0, 3.0, 5.0]
        >>> fnp.subtract.accumulate(fnp.array([10.0, 1.0, 2.0])).tolist()
        [10.0, 9.0, 7.0]
    """
    name = fn.__name__
    refuse_out(f"{name}.accumulate", out)
    if axis is None or isinstance(axis, Sequence):
        raise ValueError(f"fnp.{name}.accumulate does not allow multiple axes (as in NumPy): give "
                         f"one axis, or ravel the array first")
    a = _array(a)
    if _host(a):
        return ufunc.accumulate(a, axis=axis, dtype=dtype)
    shape = tuple(shape_of(a))
    if not shape:
        raise TypeError(f"fnp.{name}.accumulate cannot accumulate on a scalar (as in NumPy): "
                        f"give an array of at least one dimension")
    axis = normalize_axis(axis, len(shape))
    out_dtype = _result_dtype(ufunc, "accumulate", np.dtype(a.dtype), dtype)
    a = convert_element_type(a, new_dtype=out_dtype)
    if shape[axis] == 0:
        return a
    if name in _ACCUMULATE:
        return convert_element_type(_ACCUMULATE[name](a, axis), new_dtype=out_dtype)
    xs = moveaxis(a, axis, 0)

    def step(carry: Array, x: Array) -> tuple[Array, Array]:
        new = convert_element_type(fn(carry, x), new_dtype=out_dtype)
        return new, new

    rest = scan(step, xs[0], xs[1:])[1]
    return moveaxis(concatenate([xs[:1], rest], axis=0), 0, axis)


# --- reduceat -----------------------------------------------------------------------------------


def reduceat(fn: _Fn, ufunc: np.ufunc, a: ArrayLike, indices: ArrayLike, axis: int = 0,
             dtype: DType | None = None, out: None = None) -> Array:
    """``ufunc.reduceat``: reductions of the slices of ``a`` between the ``indices`` along
    ``axis``: entry ``i`` is the reduction of ``a[indices[i]:indices[i + 1]]`` (to the end for
    the last), or ``a[indices[i]]`` itself where ``indices[i] >= indices[i + 1]``, as in NumPy.

    The indices decide the result's shape, so they must be concrete (a traced array of
    indices is an error; ``functrans.ops.segment_sum`` takes traced segment ids). Each slice
    is reduced by ``reduce``, with its derivatives.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.add.reduceat(fnp.arange(8.0), [0, 4, 1, 5]).tolist()
        [6.0, 4.0, 10.0, 18.0]
    """
    name = fn.__name__
    refuse_out(f"{name}.reduceat", out)
    if isinstance(axis, Sequence) or axis is None:
        raise ValueError(f"fnp.{name}.reduceat takes a single integer axis, not {axis!r}")
    a = _array(a)
    if _host(a) and (_host(indices) or type(indices) in (list, tuple)) and name not in _NUMPY_REDUCE_WRONG:
        return ufunc.reduceat(a, np.asarray(indices), axis=axis, dtype=dtype)  # numpy-only: host arrays
    if without_values(indices):
        raise errors.UnsupportedError(
            f"fnp.{name}.reduceat with traced indices (under jit or vmap): the indices decide the "
            f"shape of the result, so they must be concrete (a NumPy array or a list); for traced "
            f"segment ids use functrans.ops.segment_sum / segment_max with num_segments=")
    starts = host_values(indices)
    if starts.ndim != 1 or starts.dtype.kind not in "iu":
        raise TypeError(f"fnp.{name}.reduceat: indices must be a 1-d array of integers, not of shape "
                        f"{starts.shape} and dtype {starts.dtype}")
    shape = tuple(shape_of(a))
    if not shape:
        raise TypeError(f"fnp.{name}.reduceat needs an array of at least one dimension (as in NumPy)")
    axis = normalize_axis(axis, len(shape))
    n = shape[axis]
    for s in starts.tolist():
        if not 0 <= s < n:
            raise IndexError(f"index {s} out-of-bounds in {name}.reduceat [0, {n})")
    out_dtype = _result_dtype(ufunc, "reduceat", np.dtype(a.dtype), dtype)
    stops = starts[1:].tolist() + [n]
    pieces = []
    for s, e in zip(starts.tolist(), stops):
        part = slice_axis(a, axis, s, e if s < e else s + 1)
        if s < e:
            part = reduce(fn, ufunc, part, axis=axis, dtype=out_dtype, keepdims=True)
        pieces.append(convert_element_type(part, new_dtype=out_dtype))
    if not pieces:
        return convert_element_type(slice_axis(a, axis, 0, 0), new_dtype=out_dtype)
    return concatenate(pieces, axis=axis)


# --- outer and at -------------------------------------------------------------------------------


def outer(fn: _Fn, ufunc: np.ufunc, A: ArrayLike, B: ArrayLike, /) -> Array:
    """``ufunc.outer``: the function of every pair, ``out[i..., j...] = fn(A[i...], B[j...])``,
    of shape ``A.shape + B.shape``; differentiable as the function is.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.multiply.outer(fnp.array([1, 2]), fnp.array([1, 10, 100])).tolist()
        [[1, 10, 100], [2, 20, 200]]
    """
    A, B = _array(A), _array(B)
    if _host(A, B):
        return ufunc.outer(A, B)
    A, B = asarray(A), asarray(B)  # (numbers too: NumPy's outer makes arrays of them first)
    a_shape, b_shape = tuple(shape_of(A)), tuple(shape_of(B))
    return fn(_shape.reshape(A, a_shape + (1,) * len(b_shape)), B)


def at(fn: _Fn, ufunc: np.ufunc, a: ArrayLike, indices: Any, b: ArrayLike | None = None, /, *,
       inplace: bool = True) -> Array:
    """``ufunc.at`` in JAX's functional form: a copy of ``a`` with ``a[indices]`` replaced by
    ``fn(a[indices], b)`` (``fn(a[indices])`` for a function of one argument). It needs
    ``inplace=False``, a reminder that ``a`` itself is unchanged, unlike NumPy.

    At a repeated index every update applies in turn for ``add``, ``subtract``,
    ``multiply``, ``divide``, ``maximum`` and ``minimum`` (as ``x.at[indices].add`` etc.);
    the other functions take indices that do not repeat.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.add.at(fnp.zeros(3), fnp.array([0, 0, 2]), 1.0, inplace=False).tolist()
        [2.0, 0.0, 1.0]
    """
    name = fn.__name__
    if ufunc.nin == 2 and b is None:
        raise TypeError(f"fnp.{name}.at: a function of two arguments needs the values b: "
                        f"fnp.{name}.at(a, indices, b, inplace=False)")
    if ufunc.nin == 1 and b is not None:
        raise TypeError(f"fnp.{name}.at: a function of one argument takes no values b")
    if inplace:
        raise NotImplementedError(_INPLACE.format(name=name, b="" if b is None else ", b"))
    update = _indexing.at(a)[indices]
    if name in _AT_METHODS:
        return getattr(update, _AT_METHODS[name])(b)
    x = as_array(a)
    if _indexing._may_repeat(tuple(shape_of(x)), indices):
        raise NotImplementedError(
            f"fnp.{name}.at with indices that repeat (or traced ones, which may): only add, subtract, "
            f"multiply, divide, maximum and minimum apply every update at a repeated index. Make the "
            f"indices unique (fnp.unique), or loop over the updates with lax.fori_loop and "
            f"x.at[i].set(fnp.{name}(x[i], ...))")
    current = update.get()
    return update.set(fn(current) if b is None else fn(current, b))


# --- installing ---------------------------------------------------------------------------------

_BINARY_METHODS = (reduce, accumulate, reduceat, outer, at)


def _bound(method: Callable[..., Array], fn: _Fn, ufunc: np.ufunc) -> Callable[..., Array]:
    def bound(*args: Any, **kwargs: Any) -> Array:
        return method(fn, ufunc, *args, **kwargs)

    bound.__name__ = method.__name__
    bound.__qualname__ = f"{fn.__name__}.{method.__name__}"
    bound.__module__ = "functrans.numpy"
    bound.__doc__ = method.__doc__
    bound.__signature__ = inspect.signature(functools.partial(method, fn, ufunc))  # type: ignore[attr-defined]
    return bound


def _unsupported(fn: _Fn, name: str, message: str) -> Callable[..., Array]:
    """A method NumPy's ufunc has but refuses for a function of two outputs: NumPy's error."""
    def method(*args: Any, **kwargs: Any) -> Array:
        raise ValueError(f"fnp.{fn.__name__}.{name}: {message} (as in NumPy)")

    method.__name__ = name
    method.__qualname__ = f"{fn.__name__}.{name}"
    method.__module__ = "functrans.numpy"
    return method


def install(namespace: dict[str, Any]) -> None:
    """Give every function of ``namespace`` that NumPy has as a ufunc of one or two arguments
    its attributes ``nin``, ``nout``, ``nargs`` and ``identity``, and its methods: ``at`` for
    all, ``reduce``, ``accumulate``, ``reduceat`` and ``outer`` for those of two arguments.
    For the functions of two outputs (``divmod``, ``frexp``, ``modf``) these methods raise
    NumPy's ``ValueError``, except ``divmod.outer``, which gives both outer arrays as NumPy's.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.add.nin, fnp.add.identity, fnp.maximum.identity, fnp.divmod.nout
        (2, 0, None, 2)
    """
    for fn in list(namespace.values()):
        if not inspect.isfunction(fn) or hasattr(fn, "nin"):
            continue
        ufunc = getattr(np, fn.__name__, None)
        if not isinstance(ufunc, np.ufunc) or ufunc.nout not in (1, 2) or ufunc.nin not in (1, 2) \
                or ufunc.signature is not None:
            continue
        fn.nin, fn.nout, fn.nargs, fn.identity = ufunc.nin, ufunc.nout, ufunc.nargs, ufunc.identity  # type: ignore[attr-defined]
        for method in _BINARY_METHODS if ufunc.nin == 2 else (at,):
            if ufunc.nout == 1 or method is outer:
                setattr(fn, method.__name__, _bound(method, fn, ufunc))
            else:
                message = ("only functions of one output support at" if method is at else
                           f"{method.__name__} only supported for functions returning a single value")
                setattr(fn, method.__name__, _unsupported(fn, method.__name__, message))
