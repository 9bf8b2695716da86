"""Slices at positions known only when the program runs: ``dynamic_slice`` reads a block of
static size at traced start indices, ``dynamic_update_slice`` writes one there, as JAX's lax
does. A start index is first taken from the end when negative (``allow_negative_indices``),
then clamped so the block lies inside the operand, so no start is ever out of range.

Concrete starts are static slices; traced ones (under jit or vmap, or a loop's counter) index
every dimension with its positions ``start + arange(size)`` laid out as an open mesh, one
gather or scatter whose derivatives and batching rules are the indexing primitives' own.

Example:
    >>> import numpy as np
    >>> dynamic_slice(np.arange(10), (8,), (3,))  # clamped to start at 7
    array([7, 8, 9])
"""
from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from functrans._abstract import dtype_of, shape_of
from functrans.core.trace import Tracer
from functrans.primitives import add_p, lt_p, max_p, min_p, select_p
from functrans.primitives._define import reshape
from functrans.primitives.conversion import convert_element_type, iota_like
from functrans.primitives.indexing import IndexArray, gather_p, scatter_p
from functrans.primitives.shape import slice_ as _slice
from functrans.typing import Array, ArrayLike

__all__ = ["dynamic_slice", "dynamic_update_slice", "dynamic_slice_in_dim", "dynamic_index_in_dim",
           "dynamic_update_slice_in_dim", "dynamic_update_index_in_dim"]


def _start(index: Any, dim: int, size: int, negative_ok: bool) -> Any:
    """A start index taken from the end when negative and clamped to ``[0, dim - size]``: a
    Python int for a host integer, else a 0-d integer array computed by primitives (a traced
    index, or one on a device, which is never read back to the host)."""
    if isinstance(index, (int, np.integer)) or (type(index) is np.ndarray and index.shape == ()
                                                and index.dtype.kind in "iu"):
        start = int(index)
        if negative_ok and start < 0:
            start += dim
        return builtins.max(builtins.min(start, dim - size), 0)
    if not hasattr(index, "dtype") or dtype_of(index).kind not in "iu" or shape_of(index) != ():
        raise TypeError(f"a start index must be an integer scalar, got {_describe(index)}")
    if negative_ok and dtype_of(index).kind == "i":
        index = select_p.bind(lt_p.bind(index, 0), add_p.bind(index, dim), index)
    return max_p.bind(min_p.bind(index, dim - size), 0)


def _describe(index: Any) -> str:
    if hasattr(index, "dtype") and hasattr(index, "shape"):
        return f"an array of shape {tuple(shape_of(index))} and dtype {dtype_of(index)}"
    return repr(index)


def _starts(operand: Any, start_indices: Any, sizes: Sequence[int], negative_ok: Any,
            name: str) -> list:
    shape = tuple(shape_of(operand))
    if isinstance(start_indices, Tracer) and len(shape_of(start_indices)) == 1:
        start_indices = [start_indices[k] for k in range(shape_of(start_indices)[0])]
    starts = list(start_indices)
    if len(starts) != len(shape) or len(sizes) != len(shape):
        raise TypeError(f"{name}: an operand of shape {shape} needs {len(shape)} start indices and "
                        f"sizes, got {len(starts)} start indices and sizes {tuple(sizes)}")
    for d, (size, dim) in enumerate(zip(sizes, shape)):
        if not 0 <= size <= dim:
            raise TypeError(f"{name}: the block's size {size} in dimension {d} does not fit the "
                            f"operand's {dim} (shape {shape})")
    oks = [negative_ok] * len(shape) if isinstance(negative_ok, bool) else list(negative_ok)
    return [_start(i, dim, size, ok) for i, dim, size, ok in zip(starts, shape, sizes, oks)]


def _mesh(operand: Any, starts: list, sizes: Sequence[int]) -> list:
    """For each dimension, the positions ``start + arange(size)`` shaped to broadcast against
    the other dimensions' (an open mesh, as ``numpy.ix_`` makes)."""
    rank = len(sizes)
    mesh = []
    for d, (start, size) in enumerate(zip(starts, sizes)):
        positions = reshape(iota_like(operand, size),
                            (1,) * d + (size,) + (1,) * (rank - d - 1))
        mesh.append(add_p.bind(positions, start) if type(start) is not int or start else positions)
    return mesh


def dynamic_slice(operand: ArrayLike, start_indices: Any, slice_sizes: Sequence[int], *,
                  allow_negative_indices: bool | Sequence[bool] = True) -> Array:
    """The block of shape ``slice_sizes`` of ``operand`` that starts at ``start_indices``,
    which may be traced (each clamped so the block fits).

    Example:
        >>> import numpy as np
        >>> import functrans as ft
        >>> from functrans import lax
        >>> ft.jit(lambda x, i: lax.dynamic_slice(x, (i,), (2,)))(np.arange(5.0), 1)
        array([1., 2.])
    """
    sizes = tuple(int(s) for s in slice_sizes)
    starts = _starts(operand, start_indices, sizes, allow_negative_indices, "dynamic_slice")
    if all(type(s) is int for s in starts):
        return _slice(operand, tuple(starts), tuple(s + n for s, n in zip(starts, sizes)), None)
    mesh = _mesh(operand, starts, sizes)
    return gather_p.bind(operand, *mesh, index=tuple(IndexArray(k) for k in range(len(mesh))))


def dynamic_update_slice(operand: ArrayLike, update: ArrayLike, start_indices: Any, *,
                         allow_negative_indices: bool | Sequence[bool] = True) -> Array:
    """A copy of ``operand`` with ``update`` written as the block that starts at
    ``start_indices``, which may be traced (each clamped so the block fits). ``update`` is
    converted to ``operand``'s dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.dynamic_update_slice(np.zeros(4), np.ones(2), (3,))  # clamped to start at 2
        array([0., 0., 1., 1.])
    """
    sizes = tuple(shape_of(update))
    if len(sizes) != len(shape_of(operand)):
        raise TypeError(f"dynamic_update_slice: an update of shape {sizes} has another rank than "
                        f"the operand's shape {tuple(shape_of(operand))}")
    starts = _starts(operand, start_indices, sizes, allow_negative_indices, "dynamic_update_slice")
    if dtype_of(update) != dtype_of(operand):
        update = convert_element_type(update, new_dtype=dtype_of(operand))
    if all(type(s) is int for s in starts):
        index: tuple = tuple(builtins.slice(s, s + n) for s, n in zip(starts, sizes))
        return scatter_p.bind(operand, update, index=index)
    mesh = _mesh(operand, starts, sizes)
    return scatter_p.bind(operand, update, *mesh, index=tuple(IndexArray(k) for k in range(len(mesh))))


def _in_dim(operand: Any, index: Any, size: int, axis: int) -> tuple[list, list]:
    shape = tuple(shape_of(operand))
    axis = axis + len(shape) if axis < 0 else axis
    starts: list = [0] * len(shape)
    sizes = list(shape)
    starts[axis], sizes[axis] = index, size
    return starts, sizes


def dynamic_slice_in_dim(operand: ArrayLike, start_index: ArrayLike, slice_size: int, axis: int = 0,
                         *, allow_negative_indices: bool = True) -> Array:
    """``dynamic_slice`` along one axis: ``slice_size`` entries from ``start_index``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.dynamic_slice_in_dim(np.arange(6).reshape(2, 3), 1, 2, axis=1).tolist()
        [[1, 2], [4, 5]]
    """
    starts, sizes = _in_dim(operand, start_index, slice_size, axis)
    return dynamic_slice(operand, starts, sizes, allow_negative_indices=allow_negative_indices)


def dynamic_index_in_dim(operand: ArrayLike, index: ArrayLike, axis: int = 0, keepdims: bool = True,
                         *, allow_negative_indices: bool = True) -> Array:
    """The entries at ``index`` along ``axis`` (kept as an axis of length one unless
    ``keepdims=False``).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.dynamic_index_in_dim(np.arange(6).reshape(2, 3), -1, axis=1, keepdims=False).tolist()
        [2, 5]
    """
    block = dynamic_slice_in_dim(operand, index, 1, axis, allow_negative_indices=allow_negative_indices)
    if keepdims:
        return block
    shape = list(shape_of(block))
    del shape[axis + len(shape) if axis < 0 else axis]
    return reshape(block, tuple(shape))


def dynamic_update_slice_in_dim(operand: ArrayLike, update: ArrayLike, start_index: ArrayLike, axis: int,
                                *, allow_negative_indices: bool = True) -> Array:
    """``dynamic_update_slice`` along one axis: ``update`` written from ``start_index``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.dynamic_update_slice_in_dim(np.zeros((2, 3)), np.ones((2, 1)), 2, axis=1).tolist()
        [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    """
    starts, _ = _in_dim(operand, start_index, 0, axis)
    return dynamic_update_slice(operand, update, starts, allow_negative_indices=allow_negative_indices)


def dynamic_update_index_in_dim(operand: ArrayLike, update: ArrayLike, index: ArrayLike, axis: int,
                                *, allow_negative_indices: bool = True) -> Array:
    """``operand`` with the entries at ``index`` along ``axis`` replaced by ``update`` (which
    may lack that axis).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.dynamic_update_index_in_dim(np.zeros((2, 2)), np.ones(2), 0, axis=0).tolist()
        [[1.0, 1.0], [0.0, 0.0]]
    """
    rank = len(shape_of(operand))
    axis = axis + rank if axis < 0 else axis
    if len(shape_of(update)) == rank - 1:
        shape = list(shape_of(update))
        shape.insert(axis, 1)
        update = reshape(update, tuple(shape))
    return dynamic_update_slice_in_dim(operand, update, index, axis,
                                       allow_negative_indices=allow_negative_indices)
