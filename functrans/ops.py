"""Segment reductions, as in ``jax.ops``: ``segment_sum``, ``segment_prod``, ``segment_max`` and
``segment_min`` combine the rows of ``data`` that share a segment id (message passing in graph
networks, per-group statistics, pooling over variable-sized sets).

Row ``k`` of ``data`` goes to segment ``segment_ids[k]``; a segment no row goes to holds the
reduction's identity (0, 1, the dtype's lowest or highest value; ``-inf`` and ``inf`` for
floats); ids outside ``[0, num_segments)`` are dropped (``mode="clip"`` moves them to the
nearest segment instead). Every row counts, repeated ids included, eagerly and under ``jit`` and
``vmap``, where the ids may be traced; ``num_segments`` must then be given, since it decides the
shape of the result. Derivatives flow to ``data``; at a tie in ``segment_max`` or
``segment_min`` the tied rows share the derivative evenly.

Example:
    >>> import numpy as np
    >>> segment_sum(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 2]), num_segments=3).tolist()
    [3.0, 0.0, 3.0]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from functrans import errors
from functrans import numpy as fnp
from functrans._abstract import dtype_of, shape_of
from functrans.numpy._util import host_values, without_values
from functrans.typing import Array, ArrayLike

__all__ = ["segment_sum", "segment_prod", "segment_max", "segment_min"]

_MODES = (None, "drop", "fill", "promise_in_bounds", "clip")


def _identity(kind: str, dtype: np.dtype) -> Any:
    if kind in ("add", "multiply"):
        return 0 if kind == "add" else 1
    lowest = kind == "max"
    if dtype.kind == "b":
        return not lowest
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return info.min if lowest else info.max
    return -np.inf if lowest else np.inf


def _segment(kind: str, name: str, data: ArrayLike, segment_ids: ArrayLike,
             num_segments: int | None, mode: str | None) -> Array:
    if mode not in _MODES:
        raise ValueError(f"{name}: mode={mode!r} is not one of {_MODES}.")
    data = fnp.asarray(data)
    ids = fnp.asarray(segment_ids)
    if dtype_of(ids).kind not in "iu":
        raise TypeError(f"{name}: segment_ids must be integers; got dtype {dtype_of(ids)}.")
    lead = tuple(shape_of(ids))
    if tuple(shape_of(data))[:len(lead)] != lead:
        raise ValueError(
            f"{name}: segment_ids of shape {lead} must match the leading axes of data, of shape "
            f"{tuple(shape_of(data))}: one id per row.")
    if num_segments is None:
        if without_values(ids):
            raise errors.UnsupportedError(
                f"{name} with traced segment_ids (under jit or vmap): the number of segments "
                "decides the shape of the result. Pass num_segments=n, as in JAX.")
        values = host_values(ids)
        num_segments = int(values.max()) + 1 if values.size else 0
    num_segments = int(num_segments)
    if num_segments < 0:
        raise ValueError(f"{name}: num_segments={num_segments} must be >= 0.")
    tail = tuple(shape_of(data))[len(lead):]
    if mode == "clip":
        slots, ids = num_segments, fnp.clip(ids, 0, max(num_segments - 1, 0))
    else:  # rows with an id out of range land in one more segment, cut off at the end
        slots = num_segments + 1
        ids = fnp.where((ids >= 0) & (ids < num_segments), ids, num_segments)
    out = fnp.full_like(data, _identity(kind, np.dtype(dtype_of(data))), shape=(slots,) + tail)
    out = getattr(fnp.at(out)[ids], kind)(data)
    return out[:num_segments]


def segment_sum(data: ArrayLike, segment_ids: ArrayLike, num_segments: int | None = None,
                indices_are_sorted: bool = False, unique_indices: bool = False,
                bucket_size: int | None = None, mode: str | None = None) -> Array:
    """The sum of the rows of ``data`` in each segment: ``out[s] = sum(data[k] for k with
    segment_ids[k] == s)``, shape ``(num_segments,) + data.shape[segment_ids.ndim:]``.

    ``num_segments`` defaults to ``max(segment_ids) + 1`` on concrete ids (required when they
    are traced). ``indices_are_sorted``, ``unique_indices`` and ``bucket_size`` are JAX's hints
    for its compiler; they do not change the result here. ``mode``: ids out of range are
    dropped (``None``, ``"drop"``, ``"fill"``, ``"promise_in_bounds"``) or moved to the
    nearest segment (``"clip"``).

    Example:
        >>> import numpy as np
        >>> segment_sum(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 0, 1, 5]), num_segments=2).tolist()
        [2.0, 4.0]
    """
    return _segment("add", "segment_sum", data, segment_ids, num_segments, mode)


def segment_prod(data: ArrayLike, segment_ids: ArrayLike, num_segments: int | None = None,
                 indices_are_sorted: bool = False, unique_indices: bool = False,
                 bucket_size: int | None = None, mode: str | None = None) -> Array:
    """The product of the rows of ``data`` in each segment (1 in an empty one); arguments as
    in ``segment_sum``. Its derivative is exact where rows are zero too.

    Example:
        >>> import numpy as np
        >>> segment_prod(np.array([2.0, 3.0, 4.0]), np.array([0, 0, 2]), num_segments=3).tolist()
        [6.0, 1.0, 4.0]
    """
    return _segment("multiply", "segment_prod", data, segment_ids, num_segments, mode)


def segment_max(data: ArrayLike, segment_ids: ArrayLike, num_segments: int | None = None,
                indices_are_sorted: bool = False, unique_indices: bool = False,
                bucket_size: int | None = None, mode: str | None = None) -> Array:
    """The largest row of ``data`` in each segment, elementwise (``-inf``, or the dtype's
    lowest value, in an empty one); arguments as in ``segment_sum``.

    Example:
        >>> import numpy as np
        >>> segment_max(np.array([2.0, 3.0, 1.0]), np.array([0, 0, 2]), num_segments=3).tolist()
        [3.0, -inf, 1.0]
    """
    return _segment("max", "segment_max", data, segment_ids, num_segments, mode)


def segment_min(data: ArrayLike, segment_ids: ArrayLike, num_segments: int | None = None,
                indices_are_sorted: bool = False, unique_indices: bool = False,
                bucket_size: int | None = None, mode: str | None = None) -> Array:
    """The smallest row of ``data`` in each segment, elementwise (``inf``, or the dtype's
    highest value, in an empty one); arguments as in ``segment_sum``.

    Example:
        >>> import numpy as np
        >>> segment_min(np.array([2.0, 3.0, 1.0]), np.array([0, 0, 2]), num_segments=3).tolist()
        [2.0, inf, 1.0]
    """
    return _segment("min", "segment_min", data, segment_ids, num_segments, mode)
