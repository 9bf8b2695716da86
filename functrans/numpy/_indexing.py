"""Indexing with NumPy's names: ``x[idx]``, functional index updates (``x.at[idx].set(v)``),
taking entries along an axis, diagonals, and choosing between arrays (``where``, ``select``,
``choose``), and the index tricks ``r_`` and ``c_``.

Indices may hold ints, slices, ``None``, ``Ellipsis``, integer arrays and boolean masks.
Integer arrays are data for the ``gather``/``scatter`` primitives, traced or not; a boolean
mask must be concrete (its number of true entries decides the result's shape) and is turned
into integer arrays first. Values move with their derivatives; repeated positions accumulate.
"""
from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans import errors
from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.api import vmap
from functrans.backend import array_module
from functrans.core.trace import AS_PYTHON_INT, Tracer
from functrans.numpy._joining import concatenate
from functrans.numpy._shape import atleast_1d
from functrans.numpy._util import (
    NUMBERS,
    any_tracer,
    as_array,
    clamped,
    concrete_index,
    holds_device_value,
    host_values,
    inexact,
    normalize_axis,
    number_beside,
    numbers_beside,
    operand,
    placed_like,
    refuse_out,
    take_axis,
    without_values,
)
from functrans.primitives import elementwise as _ew
from functrans.primitives import shape as _shape
from functrans.primitives._define import full_like
from functrans.primitives._define import reshape as reshape_
from functrans.primitives.conversion import convert_element_type, iota_like
from functrans.primitives.cumulative import cumsum
from functrans.primitives.indexing import IndexArray, gather_p, out_of_range, scatter_add_p, scatter_p
from functrans.primitives.scatter_ufunc import scatter_ufunc
from functrans.typing import Array, ArrayLike, Shape

# --- x[index] and x.at[index] ----------------------------------------------------------------------


def _static_index(x_ndim: int, index: Any, like: Any = None) -> tuple[tuple[Any, ...], list[Array]]:
    """Split an index into a static part (with IndexArray placeholders) and the arrays (host
    index data placed where ``like``, the indexed array, lives)."""
    if not isinstance(index, tuple):
        index = (index,)
    static: list[Any] = []  # ints, slices, None, Ellipsis, IndexArray placeholders
    arrays: list[Array] = []
    for item in index:
        if item is None or item is Ellipsis:
            static.append(item)
            continue
        if isinstance(item, slice):
            static.append(slice(*map(_slice_bound, (item.start, item.stop, item.step)))
                          if _traced_slice(item) else item)
            continue
        if isinstance(item, (bool, np.bool_)):
            raise errors.UnsupportedError("indexing with a Python bool is not supported; use a mask array")
        if isinstance(item, (int, np.integer)):
            static.append(int(item))
            continue
        if isinstance(item, list) and holds_device_value(item):  # [i, 0] with i traced: stacked
            item = operand(item)
        if isinstance(item, Tracer) and dtype_of(item).kind in "iu":
            # An integer index array's values do not decide the result's shape: it can stay
            # traced (abstract under jit, batched under vmap) and go to gather as data.
            static.append(IndexArray(len(arrays)))
            arrays.append(item)
            continue
        if isinstance(item, Tracer):
            _check_traced_index(item)
        item = concrete_index(item)
        if isinstance(item, (list, tuple)):
            item = np.asarray(item)  # host-data: host values (parameters, lists, host_values)
        dtype = getattr(item, "dtype", None)
        if dtype is None:
            raise TypeError(f"invalid index of type {type(item).__name__}")
        if dtype == np.bool_:
            for part in item.nonzero():
                static.append(IndexArray(len(arrays)))
                arrays.append(part)
        elif np.issubdtype(dtype, np.integer):
            static.append(IndexArray(len(arrays)))
            arrays.append(item)
        else:
            raise IndexError(f"arrays used as indices must be of integer (or boolean) type, not {dtype}")
    if like is not None:
        arrays = [placed_like(a, like) if type(a) is np.ndarray else a for a in arrays]
    return tuple(static), arrays


def _check_traced_index(item: Tracer) -> None:
    """Raise, naming the fix, for a traced index array that is not integer, or a traced mask
    without values (under jit or vmap), whose number of true entries decides the shape."""
    if dtype_of(item).kind not in "biu":
        raise IndexError(f"arrays used as indices must be of integer (or boolean) type, not {dtype_of(item)}")
    if dtype_of(item) == np.bool_ and without_values(item):
        raise errors.UnsupportedError(
            "A boolean mask selects as many entries as it holds True values, so its values "
            "decide the shape of the result, and under jit or vmap they are not known. Choose "
            "element by element instead: fnp.where(mask, x, 0) for x[mask] (in a sum, a "
            "product, ...), fnp.where(mask, v, x) for x.at[mask].set(v); or select a fixed "
            "number of entries: x[fnp.nonzero(mask, size=n, fill_value=...)].")


def _slice_bound(bound: Any) -> Any:
    """A slice bound as a Python int: a traced one must have a concrete value (the bounds
    decide the result's shape)."""
    if not isinstance(bound, Tracer):
        return bound
    try:
        return operator.index(bound)
    except errors.TracerConversionError as error:
        # the reason the value is unknown (the docs link is added again; the slice's own fix)
        reason = str(error).split("\n(See ")[0].split(AS_PYTHON_INT)[0]
        raise errors.TracerConversionError(
            f"{reason} Here it is a bound of a slice x[i:j], which decides the shape of the "
            "result. For a block of static size n at a traced start i, write "
            "functrans.lax.dynamic_slice(x, (i,), (n,)) (or lax.dynamic_slice_in_dim(x, i, n, "
            "axis)).") from None


def _traced_slice(item: slice) -> bool:
    return isinstance(item.start, Tracer) or isinstance(item.stop, Tracer) or isinstance(item.step, Tracer)


def _holds_tracer(index: Any) -> bool:
    for item in index if isinstance(index, tuple) else (index,):
        if isinstance(item, Tracer) or (type(item) is slice and _traced_slice(item)) or \
                (type(item) is list and holds_device_value(item)):
            return True
    return False


def getitem(x: ArrayLike, index: Any) -> Array:
    """``x[index]`` for arrays and traced arrays alike.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.getitem(fnp.arange(5.0), slice(1, 3)).tolist()
        [1.0, 2.0]
    """
    if not isinstance(x, Tracer):
        if not _holds_tracer(index):
            try:
                return operand(x)[index]
            except IndexError as error:
                raise out_of_range(error) from None
        x = operand(x)  # a plain array read at traced positions: gather, so vmap/jit see it
    static, arrays = _static_index(len(shape_of(x)), index, x)
    return gather_p.bind(x, *arrays, index=static)


def _matching_dtype(x: Array, v: ArrayLike) -> Array:
    """The update values ``v`` in ``x``'s dtype (as JAX casts them): arrays converted; a Python
    number kept unless ``x``'s kind cannot hold it (a float for an integer ``x``), then cast,
    so ``2`` plus ``-1.5`` is ``2 + int(-1.5)`` at any index, one position or many, batched
    or not."""
    v = number_beside(v, x) if type(v) in (list, tuple) else operand(v)  # (a list: where x is)
    if isinstance(v, NUMBERS):
        kind = dtype_of(x).kind
        if (isinstance(v, float) and kind in "iub") or (isinstance(v, complex) and kind != "c"):
            return np.asarray(v).astype(dtype_of(x))[()]  # host-data: a Python number
        return v
    return v if v.dtype == x.dtype else convert_element_type(v, new_dtype=x.dtype)


_HOST_INDEX_ITEMS = (list, np.ndarray, int, np.integer, slice)
_UNKNOWN = object()


def _host_index_item(item: Any) -> Any:
    """An index item with host values: device and concrete traced arrays are read back."""
    if item is None or item is Ellipsis or isinstance(item, _HOST_INDEX_ITEMS):
        return item
    try:
        return host_values(item)
    except errors.TracerConversionError:
        return _UNKNOWN


def _single(item: Any) -> bool:
    """Whether an index item selects along its axes as an int or a slice does: no index array
    of more than one element."""
    if item is None or item is Ellipsis or isinstance(item, (int, slice, np.integer, np.bool_)):
        return True
    return not isinstance(item, list) and hasattr(item, "shape") and math.prod(shape_of(item)) <= 1


def _may_repeat(shape: Shape, index: Any, kept: Shape | None = None) -> bool:
    """Whether ``index`` may select some position of an array of ``shape`` more than once:
    False only when it is known not to (no index arrays, or index arrays whose values show no
    repeat). An index array on a device is read to the host; a traced one may repeat. Given
    ``kept``, only the positions of the leading block of that shape count (the others are
    the slots that ``mode='drop'`` sends positions out of range to, and cuts off)."""
    items = index if isinstance(index, tuple) else (index,)
    if all(_single(i) for i in items):
        return False  # one position per index array (traced or not): none can repeat
    items = tuple(_host_index_item(i) for i in items)
    if any(i is _UNKNOWN for i in items):
        return True  # a traced index array without a value: not known here
    if not any(isinstance(i, (list, np.ndarray)) for i in items):
        return False  # only ints, slices, None, Ellipsis: no position can repeat
    index = items if isinstance(index, tuple) else items[0]
    try:
        flat = np.arange(math.prod(shape)).reshape(shape)[index].reshape(-1)  # host-metadata: flat positions
        if kept is not None:
            counted = np.zeros(shape, bool)  # host-metadata: which positions count
            counted[tuple(slice(0, n) for n in kept)] = True
            flat = flat[counted[index].reshape(-1)]
    except IndexError as error:
        raise out_of_range(error) from None
    return flat.size > 1 and bool((np.diff(np.sort(flat)) == 0).any())  # host-data: host index math


_MODES = (None, "promise_in_bounds", "clip", "drop", "fill")


def _as_item(item: Any) -> Any:
    """An index item with a list made an array (NumPy reads a list as an index array)."""
    return operand(item) if isinstance(item, list) else item


def _is_position(item: Any) -> bool:
    """Whether an index item is an int or an integer array (traced or not)."""
    if isinstance(item, (bool, np.bool_)):
        return False
    return isinstance(item, (int, np.integer)) or (hasattr(item, "dtype") and dtype_of(item).kind in "iu")


def _axes_of(ndim: int, items: tuple[Any, ...]) -> list[int]:
    """The axis of x along which each index item picks (masks: their first axis; None: the
    position it inserts)."""
    def width(item: Any) -> int:
        if item is None or item is Ellipsis:
            return 0
        return len(shape_of(item)) if getattr(item, "dtype", None) == np.bool_ else 1

    rest = ndim - sum(width(i) for i in items)
    axes, axis = [], 0
    for item in items:
        axes.append(axis)
        axis += rest if item is Ellipsis else width(item)
    return axes


def _default_fill(dtype: np.dtype) -> Any:
    """JAX's fill value for reads out of range: NaN, or the integer type's extreme, or True."""
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind == "b":
        return True
    info = np.iinfo(dtype)  # host-metadata: a dtype's limits
    return info.min if dtype.kind == "i" else info.max


def _counted_from_start(position: Any, n: int) -> Any:
    """A position with a negative one counted from the end (once, as NumPy and JAX do)."""
    if isinstance(position, (int, np.integer)):
        return int(position) + n if position < 0 else int(position)
    return _ew.select(_ew.lt(position, 0), _ew.add(position, n), position)


class _IndexUpdate:
    """``x.at[index]``: methods return a new array with ``x[index]`` updated."""

    __slots__ = ("x", "index")

    def __init__(self, x: ArrayLike, index: Any) -> None:
        self.x = x
        self.index = index

    def _parts(self) -> tuple[Array, tuple[Any, ...], list[Array]]:
        x = operand(self.x)
        static, arrays = _static_index(len(x.shape), self.index, x)
        return x, static, arrays

    def _within(self, mode: str | None, fill: Any = 0) -> tuple[_IndexUpdate, Callable[[Array], Array]]:
        """This update with out-of-range positions handled by ``mode``, as JAX's: ``'clip'``
        moves each (negative ones counted from the end first) to the nearest end of its axis;
        ``'drop'`` and ``'fill'`` send them to one slot, holding ``fill``, added past the end of
        their axis, which the returned function cuts off again. ``None`` (and JAX's
        ``'promise_in_bounds'``) leaves them to raise, as in NumPy."""
        if mode not in _MODES:
            raise ValueError(f"x.at[index]: mode must be one of {', '.join(map(repr, _MODES[1:]))} "
                             f"or None, not {mode!r}")
        if mode is None or mode == "promise_in_bounds":
            return self, lambda out: out
        x = operand(self.x)
        items = tuple(_as_item(i) for i in (self.index if isinstance(self.index, tuple) else (self.index,)))
        shape = tuple(x.shape)
        axes = _axes_of(len(shape), items)
        padded = sorted({a for a, i in zip(axes, items) if _is_position(i)})
        moved = []
        for axis, item in zip(axes, items):
            if not _is_position(item):
                moved.append(item)
                continue
            n = shape[axis]
            position = _counted_from_start(item, n)
            if mode == "clip":
                moved.append(builtins.min(builtins.max(position, 0), n - 1) if isinstance(position, int)
                             else clamped(position, n))
            elif isinstance(position, int):
                moved.append(position if 0 <= position < n else n)
            else:
                inside = _ew.logical_and(_ew.ge(position, 0), _ew.lt(position, n))
                moved.append(_ew.select(inside, position, n))
        if mode == "clip":
            return _IndexUpdate(x, tuple(moved)), lambda out: out
        for axis in padded:
            slot = full_like(x, fill, shape=tuple(x.shape[:axis]) + (1,) + tuple(x.shape[axis + 1:]))
            x = concatenate([x, slot], axis)
        keep = tuple(slice(0, n) if d in padded else slice(None) for d, n in enumerate(shape))
        return _IndexUpdate(x, tuple(moved)), lambda out: getitem(out, keep)

    def get(self, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None, fill_value: ArrayLike | None = None) -> Array:
        """``x[index]``. A position out of range raises, as in NumPy, unless ``mode`` says
        otherwise, as in JAX: ``'clip'`` reads the nearest end of the axis, ``'fill'`` (or
        ``'drop'``) reads ``fill_value`` (by default NaN, an integer type's extreme, True).
        ``indices_are_sorted`` and ``unique_indices`` are JAX's hints, not needed here.

        Example:
            >>> import functrans.numpy as fnp
            >>> float(fnp.at(fnp.arange(3.0))[1].get())
            1.0
            >>> fnp.at(fnp.arange(3.0))[[1, 5]].get(mode="fill", fill_value=-1.0).tolist()
            [1.0, -1.0]
        """
        if fill_value is None and mode in ("fill", "drop"):
            fill_value = _default_fill(dtype_of(operand(self.x)))
        target, _ = self._within(mode, fill_value)
        return getitem(target.x, target.index)

    def set(self, values: ArrayLike, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None) -> Array:
        """A copy of ``x`` with ``x[index] = values``. A position out of range raises, as in
        NumPy, unless ``mode`` says otherwise, as in JAX: ``'drop'`` (or ``'fill'``) skips its
        update, ``'clip'`` writes at the nearest end of the axis. (So for every update.)

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.zeros(3))[1].set(5.0).tolist()
            [0.0, 5.0, 0.0]
            >>> fnp.at(fnp.zeros(3))[fnp.array([1, 3])].set(5.0, mode="drop").tolist()
            [0.0, 5.0, 0.0]
        """
        target, back = self._within(mode)
        x, static, arrays = target._parts()
        return back(scatter_p.bind(x, _matching_dtype(x, values), *arrays, index=static))

    def add(self, values: ArrayLike, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None) -> Array:
        """A copy of ``x`` with ``values`` added at ``index``; repeated indices accumulate.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.zeros(3))[[0, 0, 2]].add(1.0).tolist()
            [2.0, 0.0, 1.0]
        """
        target, back = self._within(mode)
        x, static, arrays = target._parts()
        return back(scatter_add_p.bind(x, _matching_dtype(x, values), *arrays, index=static))

    def subtract(self, values: ArrayLike, *, indices_are_sorted: bool = False, unique_indices: bool = False,
                 mode: str | None = None) -> Array:
        """A copy of ``x`` with ``values`` subtracted at ``index``; repeated indices accumulate.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.zeros(3))[[0, 0, 2]].subtract(1.0).tolist()
            [-2.0, 0.0, -1.0]
        """
        x = operand(self.x)
        return self.add(_ew.neg(_matching_dtype(x, values)), mode=mode)

    def _combine(self, op: Callable[[Array, Array], Array], values: ArrayLike, ufunc: str) -> Array:
        x = operand(self.x)
        values = _matching_dtype(x, values)
        if not _may_repeat(x.shape, self.index):  # every position at most once: gather, op, scatter
            return self.set(op(self.get(), values))
        # Positions that repeat, or traced ones that may: every update applies, in order
        x, static, arrays = self._parts()
        size = math.prod(x.shape)
        flat_positions = reshape_(iota_like(x, size), tuple(x.shape))
        positions = gather_p.bind(flat_positions, *arrays, index=static)
        if isinstance(values, NUMBERS):  # a scalar: an array where x lives
            values = placed_like(np.asarray(values, x.dtype), x)  # host-data: a Python scalar
        updates = _shape.broadcast_to(values, tuple(positions.shape))
        count = math.prod(positions.shape)
        out = scatter_ufunc(reshape_(x, (size,)), reshape_(updates, (count,)),
                            reshape_(positions, (count,)), ufunc)
        return reshape_(out, tuple(x.shape))

    def multiply(self, values: ArrayLike, *, indices_are_sorted: bool = False, unique_indices: bool = False,
                 mode: str | None = None) -> Array:
        """A copy of ``x`` with ``x[index]`` multiplied by ``values``; at a repeated index every
        factor applies.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.ones(3))[1].multiply(4.0).tolist()
            [1.0, 4.0, 1.0]
        """
        target, back = self._within(mode)
        return back(target._combine(_ew.mul, values, "multiply"))

    mul = multiply

    def divide(self, values: ArrayLike, *, indices_are_sorted: bool = False, unique_indices: bool = False,
               mode: str | None = None) -> Array:
        """A copy of ``x`` with ``x[index]`` divided by ``values``.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.ones(2))[0].divide(4.0).tolist()
            [0.25, 1.0]

        Integers and booleans are divided in the floating dtype NumPy's ``true_divide`` gives
        them (as in JAX), so the result is that dtype.
        """
        x = operand(self.x)
        if dtype_of(x).kind not in "fc":
            quotient = np.divide(np.ones(0, dtype_of(x)), np.ones(0, dtype_of(x))).dtype  # host-metadata: a dtype
            return _IndexUpdate(convert_element_type(x, new_dtype=quotient), self.index).divide(values, mode=mode)
        target, back = self._within(mode)
        return back(target._combine(_ew.div, values, "divide"))

    def min(self, values: ArrayLike, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None) -> Array:
        """A copy of ``x`` with ``x[index] = minimum(x[index], values)``.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.ones(2))[0].min(0.5).tolist()
            [0.5, 1.0]
        """
        target, back = self._within(mode)
        return back(target._combine(_ew.min, values, "minimum"))

    def max(self, values: ArrayLike, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None) -> Array:
        """A copy of ``x`` with ``x[index] = maximum(x[index], values)``.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.ones(2))[0].max(3.0).tolist()
            [3.0, 1.0]
        """
        target, back = self._within(mode)
        return back(target._combine(_ew.max, values, "maximum"))


    def power(self, values: ArrayLike, *, indices_are_sorted: bool = False, unique_indices: bool = False,
              mode: str | None = None) -> Array:
        """A copy of ``x`` with ``x[index]`` raised to the power ``values``. At a repeated
        index the exponents multiply: ``x ** (a * b)``, JAX's definition (which is
        ``(x ** a) ** b`` for positive ``x``); derivatives are exact there too.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.array([2.0, 3.0]))[1].power(2.0).tolist()
            [2.0, 9.0]
            >>> fnp.at(fnp.array([2.0, 3.0]))[[0, 0]].power(fnp.array([2.0, 3.0])).tolist()
            [64.0, 3.0]
        """
        if mode not in (None, "promise_in_bounds"):
            target, back = self._within(mode)
            return back(target.power(values))
        x = operand(self.x)
        values = _matching_dtype(x, values)
        if not _may_repeat(x.shape, self.index):  # every position at most once
            return self.set(_ew.pow(self.get(), values))
        exponents = _IndexUpdate(full_like(x, 1), self.index).multiply(values)
        hit = _IndexUpdate(full_like(x, False, dtype=np.dtype(bool)), self.index).set(True)
        # x ** 1 only where hit: elsewhere x itself, whose derivative in the exponent (a
        # log of x, NaN for x < 0) is not formed
        return _ew.select(hit, _ew.pow(x, _ew.select(hit, exponents, 1)), x)

    def apply(self, func: Callable[[Array], Array], *, indices_are_sorted: bool = False,
              unique_indices: bool = False, mode: str | None = None) -> Array:
        """A copy of ``x`` with ``func`` applied to each selected value (a function of one
        number, applied to each on its own: ``x[index] = vmap(func)(x[index])``). A position
        out of range raises, as in NumPy, unless ``mode`` says otherwise, as in JAX:
        ``'drop'`` (or ``'fill'``) leaves it out, ``'clip'`` applies ``func`` at the nearest end
        of the axis.

        JAX applies ``func`` again at each repeat of an index; that is refused here when the
        index repeats a position it applies ``func`` at (or may: traced index arrays; positions
        that ``'drop'`` leaves out never repeat), since ``func`` is then composed with
        itself a number of times only the index knows. Write the repeats out, or use
        ``.set(func(x[unique_index]))``.

        Example:
            >>> import functrans.numpy as fnp
            >>> fnp.at(fnp.array([1.0, 2.0, 3.0]))[[0, 2]].apply(lambda v: v * 10).tolist()
            [10.0, 2.0, 30.0]
            >>> fnp.at(fnp.array([1.0, 2.0, 3.0]))[[0, 5]].apply(lambda v: v * 10, mode="drop").tolist()
            [10.0, 2.0, 3.0]
        """
        if mode not in (None, "promise_in_bounds"):
            target, back = self._within(mode)
            # (positions out of range, all sent to one dropped slot, are no repeat)
            kept = tuple(shape_of(operand(self.x))) if mode in ("drop", "fill") else None
            return back(target._apply(func, kept))
        return self._apply(func, None)

    def _apply(self, func: Callable[[Array], Array], kept: Shape | None) -> Array:
        """``apply`` with positions in range; only those within ``kept`` (if given) count as
        repeats."""
        x = operand(self.x)
        if _may_repeat(x.shape, self.index, kept):
            raise ValueError(
                "x.at[index].apply(func): the index repeats a position, or is traced (under jit "
                "or vmap) so it may; JAX would apply func once per repeat there. Apply it to "
                "unique positions (x.at[fnp.unique(index)].apply(func) with a concrete index), "
                "or write the repeated applications out.")
        picked = self.get()
        shape = tuple(shape_of(picked))
        # func maps each selected value on its own, as JAX's: vmapped over them one by one,
        # so that a func of a whole array (a cumsum, a softmax) cannot mix them
        out = vmap(func)(reshape_(picked, (math.prod(shape),)))
        if tuple(shape_of(out)) != (math.prod(shape),):
            raise ValueError(f"x.at[index].apply(func): func must map a number to a number, "
                             f"but it maps one to shape {tuple(shape_of(out))[1:]}")
        return self.set(reshape_(out, shape))


class _AtIndexer:
    __slots__ = ("x",)

    def __init__(self, x: ArrayLike) -> None:
        self.x = x

    def __getitem__(self, index: Any) -> _IndexUpdate:
        return _IndexUpdate(self.x, index)


def at(x: ArrayLike) -> _AtIndexer:
    """Functional index updates for any array: ``fnp.at(x)[idx].add(v)`` is ``x.at[idx].add(v)``
    (plain NumPy arrays have no ``.at``, so the same code works whether or not ``x`` is traced).

    Example:
        >>> import numpy as np, functrans.numpy as fnp
        >>> fnp.at(np.zeros(2))[0].set(1.0).tolist()
        [1.0, 0.0]
    """
    return _AtIndexer(x)


def nonzero(a: ArrayLike, *, size: int | None = None,
            fill_value: ArrayLike | Sequence[ArrayLike] | None = None) -> tuple[Array, ...]:
    """Indices of the non-zero entries, one array per dimension. No derivative.

    How many entries are nonzero decides the shape, so a traced ``a`` (under ``jit`` or
    ``vmap``) needs ``size``, as in JAX: the indices of the first ``size`` nonzero entries,
    padded with ``fill_value`` (0 by default; one value per dimension also works) when there
    are fewer.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.nonzero(fnp.array([0.0, 2.0, 3.0]))[0].tolist()
        [1, 2]
        >>> fnp.nonzero(fnp.array([0.0, 2.0, 3.0]), size=3, fill_value=-1)[0].tolist()
        [1, 2, -1]
    """
    if size is None:
        if fill_value is not None:
            raise ValueError("nonzero: fill_value needs size")
        values_or_size(a, "nonzero")
        value = concrete_index(a)
        return operand(value).nonzero()
    a = operand(a)
    shape = tuple(shape_of(a))
    flat, valid = first_nonzero(a, size)
    fills = fill_value if isinstance(fill_value, (tuple, list)) else (fill_value,) * len(shape)
    if len(fills) != len(shape):
        raise ValueError(f"nonzero: {len(fills)} fill values for an array of {len(shape)} dimensions")
    out = []
    for d in reversed(range(len(shape))):
        coordinate = flat % shape[d] if shape[d] else flat
        flat = flat // shape[d] if shape[d] else flat
        fill = 0 if fills[d] is None else fills[d]
        out.append(_ew.select(valid, coordinate, fill))
    return tuple(reversed(out))


def binned_counts(bins: Array, length: int, weights: ArrayLike | None = None) -> Array:
    """How often each of ``0 .. length - 1`` occurs in the non-negative integer ``bins`` (or
    the sum of the ``weights`` there), by one scatter-add: bins from ``length`` up land in one
    more bin, dropped at the end, so no value is read on the host.

    Example:
        >>> binned_counts(np.array([0, 2, 2, 7]), 3).tolist()
        [1, 0, 2]
    """
    inside = _ew.select(_ew.lt(bins, length), bins, length)
    if weights is None:
        room = placed_like(np.zeros(length + 1, np.intp), bins)  # host-data: placed
        return at(room)[inside].add(1)[:length]
    w = inexact(weights)
    room = full_like(w, 0, shape=(length + 1,), dtype=np.result_type(w.dtype, np.float64))
    return at(room)[inside].add(w)[:length]


def values_or_size(a: Any, name: str, counted: str = "nonzero") -> None:
    """Raise, naming ``size=``, when ``a`` is traced without values (under jit or vmap): how
    many entries are ``counted`` decides the shape of ``name``'s result."""
    if without_values(a):
        raise errors.UnsupportedError(
            f"{name} of a traced array: how many entries are {counted} decides the shape of the "
            "result. Pass size=n (and fill_value=...) for the first n of them, padded, as in JAX.")


def first_nonzero(a: Array, size: int) -> tuple[Array, Array]:
    """The flat positions of the first ``size`` nonzero entries of ``a`` in order (padded with
    0), and which of them are entries (``arange(size) < count``): each nonzero entry's number
    among them is scattered to its slot, without reading a value on the host."""
    size = operator.index(size)
    if size < 0:
        raise ValueError(f"size must be a non-negative int, got {size}")
    flat = _shape.reshape(a, (math.prod(shape_of(a)),))
    mask = flat if dtype_of(flat) == np.bool_ else _ew.ne(flat, 0)
    n = shape_of(flat)[0]
    counts = cumsum(convert_element_type(mask, new_dtype=np.intp), 0)  # the slot of each, plus 1
    slot = _ew.select(_ew.logical_and(mask, _ew.le(counts, size)), _ew.sub(counts, 1), size)
    numbers = placed_like(np.arange(n, dtype=np.intp), flat)  # host-data: placed
    room = full_like(numbers, 0, shape=(size + 1,))
    positions = _shape.slice_(scatter_p.bind(room, numbers, slot, index=(IndexArray(0),)), (0,), (size,))
    total = counts[n - 1] if n else 0
    valid = _ew.lt(placed_like(np.arange(size, dtype=np.intp), flat), total)  # host-data: placed
    return positions, valid


# --- taking and putting along an axis --------------------------------------------------------------


def _index(indices: ArrayLike, like: Array, abstract_ok: bool = False) -> Array:
    """A concrete integer index array on the device of ``like`` (a Python list or a tracer's
    value is converted; host data is copied to ``like``'s device). With ``abstract_ok``, an
    integer tracer without a concrete value (under vmap) is returned as it is: the gather
    primitive takes index arrays as data."""
    if isinstance(indices, (list, tuple)) and holds_device_value(indices):  # [i, 0], i traced
        indices = operand(indices)
    if abstract_ok and isinstance(indices, Tracer) and dtype_of(indices).kind in "iu":
        try:
            indices.to_concrete()
        except errors.TracerConversionError:
            return indices
    value = concrete_index(indices)
    on_host = isinstance(value, (np.ndarray, np.generic, list, tuple, int, bool))
    if on_host:
        value = np.asarray(value)  # host-data: host values (parameters, lists, host_values)
    if value.dtype.kind not in "iu":
        if value.size == 0:
            return value.astype(np.intp)
        raise IndexError(f"indices must be integers, got dtype {value.dtype}")
    return placed_like(value, like) if on_host else value


def take(a: ArrayLike, indices: ArrayLike, axis: int | None = None, out: None = None,
         mode: str | None = None, *, unique_indices: bool = False, indices_are_sorted: bool = False,
         fill_value: ArrayLike | None = None) -> Array:
    """Entries of ``a`` at ``indices`` along ``axis`` (of the flattened array by default).
    By default out-of-range indices raise, as in NumPy; ``mode='wrap'`` or ``'clip'`` moves
    them in (NumPy's modes), ``mode='fill'`` reads ``fill_value`` there (JAX's default: NaN,
    an integer type's extreme, True). ``unique_indices`` and ``indices_are_sorted`` are JAX's
    hints, not needed here.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> fnp.take(fnp.array([1.0, 2.0, 3.0]), [2, 0]).tolist()
        [3.0, 1.0]
        >>> ft.grad(lambda x: fnp.take(x, [0, 0]).sum())(fnp.ones(2)).tolist()
        [2.0, 0.0]
    """
    refuse_out("take", out)
    a = as_array(a)
    idx = _index(indices, a, abstract_ok=True)
    if axis is None:
        a = _shape.reshape(a, (math.prod(a.shape),))
        axis = 0
    axis = normalize_axis(axis, len(a.shape))
    n = a.shape[axis]
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = clamped(idx, n)
    elif mode == "fill":
        return at(a)[(slice(None),) * axis + (idx,)].get(mode="fill", fill_value=fill_value)
    elif mode not in (None, "raise"):
        raise ValueError(f"clipmode must be one of 'clip', 'fill', 'raise', or 'wrap' (got {mode!r})")
    return take_axis(a, idx, axis)


def _along_axis_index(shape: Shape, indices: Array, axis: int, like: Array) -> list[Array]:
    """The full advanced index that picks ``indices`` along ``axis`` of an array of ``shape``
    (the aranges of the other axes on the device of ``like``)."""
    nd = len(shape)
    if len(indices.shape) != nd:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    items = []
    for d in range(nd):
        if d == axis:
            items.append(indices)
        else:
            view = [1] * nd
            view[d] = shape[d]
            # host-data: made on the host, placed on the operand's device
            items.append(placed_like(np.arange(shape[d]).reshape(view), like))
    return items


def take_along_axis(arr: ArrayLike, indices: ArrayLike, axis: int | None = -1, mode: str | None = None,
                    fill_value: ArrayLike | None = None) -> Array:
    """Entries of ``arr`` at ``indices`` along ``axis``, matching the other dimensions
    (``indices`` has ``arr``'s number of dimensions), as ``numpy.take_along_axis``. Indices
    out of range raise, unless ``mode`` is one of JAX's (see ``x.at[i].get``): ``'clip'``,
    or ``'fill'`` to read ``fill_value`` there.

    Example:
        >>> import functrans.numpy as fnp
        >>> x = fnp.array([[3.0, 1.0], [0.0, 2.0]])
        >>> fnp.take_along_axis(x, fnp.argsort(x, axis=1), axis=1).tolist()
        [[1.0, 3.0], [0.0, 2.0]]
    """
    arr = as_array(arr)
    idx = _index(indices, arr, abstract_ok=True)
    if axis is None:
        arr = _shape.reshape(arr, (math.prod(arr.shape),))
        axis = 0
    axis = normalize_axis(axis, len(arr.shape))
    items = _along_axis_index(arr.shape, idx, axis, arr)
    if mode is not None:
        return at(arr)[tuple(items)].get(mode=mode, fill_value=fill_value)
    if not any_tracer(arr, idx):
        return getitem(arr, tuple(items))
    return gather_p.bind(arr, *items, index=tuple(IndexArray(k) for k in range(len(items))))


def put_along_axis(arr: ArrayLike, indices: ArrayLike, values: ArrayLike, axis: int | None,
                   inplace: bool = False, mode: str | None = None) -> Array:
    """A copy of ``arr`` with ``values`` written at ``indices`` along ``axis`` (the
    functional form of ``numpy.put_along_axis``, which writes in place and returns None).
    Differentiable in ``arr`` and ``values``. Indices out of range raise, unless ``mode`` is
    one of JAX's (see ``x.at[i].set``): ``'drop'`` skips them, ``'clip'`` writes at the end.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.put_along_axis(fnp.zeros((1, 3)), fnp.array([[1]]), 5.0, axis=1).tolist()
        [[0.0, 5.0, 0.0]]
    """
    if inplace:
        raise ValueError("functrans.numpy.put_along_axis returns a new array; pass inplace=False "
                         "(the default) and use its result")
    arr = as_array(arr)
    shape = tuple(arr.shape)
    idx = _index(indices, arr, abstract_ok=True)
    if axis is None:  # positions in the flattened array; the result keeps arr's shape, as NumPy's
        arr = _shape.reshape(arr, (math.prod(shape),))
        axis = 0
    axis = normalize_axis(axis, len(arr.shape))
    items = _along_axis_index(arr.shape, idx, axis, arr)
    out = at(arr)[tuple(items)].set(values, mode=mode)
    return out if tuple(out.shape) == shape else _shape.reshape(out, shape)


def diagonal(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Array:
    """The diagonal ``offset`` above the main one of the planes ``axis1, axis2``; those two
    axes are removed and the diagonal becomes the last axis.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.diagonal(fnp.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [1.0, 4.0]
    """
    a = as_array(a)
    nd = len(a.shape)
    if nd < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    ax1, ax2 = normalize_axis(axis1, nd), normalize_axis(axis2, nd)
    if ax1 == ax2:
        raise ValueError("axis1 and axis2 cannot be the same")
    if not any_tracer(a):
        return array_module(a).diagonal(a, offset, ax1, ax2)
    rest = tuple(d for d in range(nd) if d not in (ax1, ax2))
    moved = _shape.transpose(a, rest + (ax1, ax2))
    n1, n2 = a.shape[ax1], a.shape[ax2]
    row0, col0 = max(-offset, 0), max(offset, 0)
    length = max(0, min(n1 - row0, n2 - col0))
    # host-data: made on the host, placed on the operand's device
    rows = placed_like(np.arange(length) + row0, a)
    # host-data: made on the host, placed on the operand's device
    cols = placed_like(np.arange(length) + col0, a)
    return gather_p.bind(moved, rows, cols, index=(Ellipsis, IndexArray(0), IndexArray(1)))


# --- choosing --------------------------------------------------------------------------------------


def where(condition: ArrayLike, x: ArrayLike | None = None, y: ArrayLike | None = None, /, *,
          size: int | None = None, fill_value: ArrayLike | Sequence[ArrayLike] | None = None) -> Array:
    """``x`` where ``condition`` holds, else ``y`` (broadcast). With one argument, the
    indices where ``condition`` is true (as ``numpy.nonzero``, with its ``size`` and
    ``fill_value`` for a traced condition).

    In reverse mode both branches' derivatives enter the gradient, whatever ``condition``
    holds, so an infinite or NaN derivative in the branch that is not chosen reaches it as
    ``0 * inf = nan``: the same eagerly, under ``jit`` and under ``vmap``. The remedy is a
    second ``where`` that keeps the unused branch finite:
    ``where(x > 0, sqrt(where(x > 0, x, 1)), 0)`` (docs/sharp-bits.md).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> f = lambda x: fnp.where(x < 1, x, fnp.sqrt(fnp.where(x < 1, 1.0, x)))
        >>> float(ft.grad(f)(0.0)), float(ft.grad(f)(4.0))
        (1.0, 0.25)
    """
    if x is None and y is None:
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("where takes one argument (condition) or three (condition, x, y)")
    if size is not None or fill_value is not None:
        raise ValueError("where: size and fill_value go with the one-argument form, where(condition)")
    if type(x) in (list, tuple) or type(y) in (list, tuple):  # lists: where the arrays are
        condition, x, y = numbers_beside((condition, x, y))
    condition = operand(condition)
    if dtype_of(condition) != np.bool_:
        condition = _ew.ne(condition, 0)
    return _ew.select(condition, operand(x), operand(y))


def select(condlist: Sequence[ArrayLike], choicelist: Sequence[ArrayLike], default: ArrayLike = 0) -> Array:
    """From the first condition that holds, the matching choice; ``default`` where none
    holds (all broadcast together).

    Example:
        >>> import functrans.numpy as fnp
        >>> x = fnp.array([-1.0, 0.5, 3.0])
        >>> fnp.select([x < 0, x < 1], [-x, x * 10], default=0.0).tolist()
        [1.0, 5.0, 0.0]
    """
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    choices = [operand(c) for c in choicelist]
    default = operand(default)
    weak = default if isinstance(default, NUMBERS) else dtype_of(default)
    dtype = np.result_type(*(dtype_of(c) for c in choices), weak)
    if isinstance(default, NUMBERS):  # an array where the choices live
        witness = next((c for c in choices if type(c) not in PY_SCALARS), None)
        out = np.asarray(default, dtype)  # host-data: made on the host, placed on the operand's device
        out = out if witness is None else placed_like(out, witness)
    else:
        out = default
    shape = np.broadcast_shapes(*(shape_of(operand(c)) for c in list(condlist) + choices + [out]))
    out = _shape.broadcast_to(convert_element_type(out, new_dtype=dtype), shape)
    for cond, choice in zip(reversed(condlist), reversed(choices)):
        cond = operand(cond)
        if dtype_of(cond) != np.bool_:
            raise TypeError(f"invalid entry in condlist: should be boolean ndarray, got {dtype_of(cond)}")
        out = _ew.select(cond, convert_element_type(choice, new_dtype=dtype), out)
    return out


def choose(a: ArrayLike, choices: Sequence[ArrayLike], out: None = None, mode: str = "raise") -> Array:
    """``choices[a[i]][i]`` for each position ``i`` (everything broadcast together). Traced
    positions (under jit or vmap) need ``mode='wrap'`` or ``'clip'``, as in JAX: the default
    ``'raise'`` checks their values.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.choose(fnp.array([0, 1]), [fnp.array([1.0, 2.0]), fnp.array([3.0, 4.0])]).tolist()
        [1.0, 4.0]
    """
    refuse_out("choose", out)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    a = operand(a)
    n = len(choices)
    traced = without_values(a)  # positions known by their shape only (jit, vmap)
    if traced and mode == "raise":
        raise errors.UnsupportedError(
            "fnp.choose with traced positions and mode='raise': checking that every entry "
            "names a choice needs their values. Pass mode='wrap' or mode='clip', as in JAX.")
    idx = a if traced else concrete_index(a)
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = clamped(idx, n)
    elif type(idx) is np.ndarray and np.any((idx < 0) | (idx >= n)):  # numpy-only: checked on the host only
        raise ValueError("invalid entry in choice array")
    if type(idx) is np.ndarray and choices:
        idx = placed_like(idx, operand(choices[0]))
    return select([idx == k for k in range(n)], list(choices), default=0)


# --- index tricks ----------------------------------------------------------------------------------


class _Concatenator:
    """``r_[...]`` and ``c_[...]``: slices become ranges (a complex step ``5j`` means that many
    points, as ``linspace``), arrays and scalars are joined."""

    def __init__(self, columns: bool) -> None:
        self.columns = columns

    def __getitem__(self, key: Any) -> Array:
        items = key if isinstance(key, tuple) else (key,)
        parts: list[Array] = []
        for item in items:
            part: Array
            if isinstance(item, slice):
                start = 0 if item.start is None else item.start
                step = 1 if item.step is None else item.step
                if isinstance(step, complex):
                    # host-data: made on the host, placed on the operand's device
                    part = np.linspace(start, item.stop, int(abs(step)))
                else:
                    # host-data: made on the host, placed on the operand's device
                    part = np.arange(start, item.stop, step)
            elif isinstance(item, str):
                raise NotImplementedError("r_/c_ directive strings are not supported")
            else:
                part = atleast_1d(item)
            parts.append(part)
        witness = next((p for p in parts if type(p) is not np.ndarray), None)
        if witness is not None:  # ranges join the given arrays where they live
            parts = [placed_like(p, witness) if type(p) is np.ndarray else p for p in parts]
        if self.columns:
            parts = [_shape.reshape(p, (p.shape[0], 1)) if len(p.shape) == 1 else p for p in parts]
            return concatenate(parts, -1)
        return concatenate(parts, 0)


r_ = _Concatenator(columns=False)
r_.__doc__ = """Join slices (as ranges), arrays and scalars along the first axis: ``r_[1:3, [5.0]]``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.r_[0:2, fnp.array([5.0])].tolist()
        [0.0, 1.0, 5.0]
    """
c_ = _Concatenator(columns=True)
c_.__doc__ = """Join 1-D arrays as columns (along the last axis): ``c_[a, b]``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.c_[fnp.ones(2), fnp.zeros(2)].shape
        (2, 2)
    """
