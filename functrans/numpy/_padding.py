"""Padding with NumPy's name and modes: ``pad``. New entries are copies of entries of the
array (edge, reflect, symmetric, wrap), constants, or computed from the entries near the edge
(a statistic, or a ramp to an end value), so derivatives collect from every entry used.
"""
from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from functrans import errors
from functrans.backend import array_module
from functrans.numpy._joining import concatenate
from functrans.numpy._reductions import max, min
from functrans.numpy._shape import broadcast_to
from functrans.numpy._statistics import mean, median
from functrans.numpy._util import any_tracer, as_array, placed_like, take_axis
from functrans.primitives import elementwise as _ew
from functrans.primitives import shape as _shape
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike

#: The modes of ``numpy.pad``.
PadMode = Literal["constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum", "reflect",
                  "symmetric", "wrap", "empty"]


def pad(array: ArrayLike, pad_width: int | Sequence[int] | Sequence[Sequence[int]], mode: PadMode = "constant",
        **kwargs: Any) -> Array:
    """Pad with ``mode``: ``'constant'`` (``constant_values``), ``'edge'``, ``'reflect'``,
    ``'symmetric'``, ``'wrap'``, ``'linear_ramp'`` (``end_values``), ``'maximum'``,
    ``'minimum'``, ``'mean'``, ``'median'`` (``stat_length``) or ``'empty'``; ``pad_width``
    as in NumPy (an int, a pair, or one pair per axis). Padding copies or computes entries
    from the array, so derivatives collect from every entry used.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.pad(fnp.array([1.0, 2.0]), 1, mode="edge").tolist()
        [1.0, 1.0, 2.0, 2.0]
    """
    a = as_array(array)
    nd = len(a.shape)
    # host-data: host values (parameters, lists, host_values)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (nd, 2)).tolist() if nd else []
    if np.any(np.asarray(widths) < 0):  # host-data: host values (parameters, lists, host_values)
        raise ValueError("index can't contain negative values")
    traced_values = any_tracer(*kwargs.values())
    if not traced_values and (type(a) is np.ndarray or (not any_tracer(a) and mode != "median")):
        return array_module(a).pad(a, pad_width, mode=mode, **kwargs)  # CuPy has no median
    if mode == "constant":
        values = kwargs.pop("constant_values", 0)
        if kwargs:
            raise TypeError(f"unexpected keyword arguments for mode 'constant': {sorted(kwargs)}")
        values = _per_side(values, nd)
        for ax, ((lo, hi), (v_lo, v_hi)) in enumerate(zip(widths, values)):
            for width, value, before in ((lo, v_lo, True), (hi, v_hi, False)):
                if width and any_tracer(value):  # a traced value: a block of it, joined on
                    shape = list(a.shape)
                    shape[ax] = width
                    block = broadcast_to(convert_element_type(value, new_dtype=a.dtype), shape)
                    a = concatenate([block, a] if before else [a, block], ax)
                elif width:
                    config = [(0, 0, 0)] * nd
                    config[ax] = (width, 0, 0) if before else (0, width, 0)
                    # host-data: host values (parameters, lists, host_values)
                    a = _shape.pad(a, np.asarray(value).astype(a.dtype).item(), config)
        return a
    if mode in _PAD_STATISTICS or mode == "linear_ramp":
        return _pad_computed(a, widths, mode, kwargs)
    if mode == "empty":  # NumPy leaves the new entries undefined; zeros are a fine choice
        return pad(a, pad_width, "constant")
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(
            f"functrans.numpy.pad: unknown mode {mode!r}; the modes are constant, edge, "
            "linear_ramp, maximum, mean, median, minimum, reflect, symmetric, wrap and empty")
    if kwargs:
        raise NotImplementedError(f"functrans.numpy.pad: options {sorted(kwargs)} are not supported")
    for ax, (lo, hi) in enumerate(widths):
        if lo or hi:
            # host-data: made on the host, placed on the operand's device
            idx = np.pad(np.arange(a.shape[ax]), (lo, hi), mode=mode)
            a = take_axis(a, placed_like(idx, a), ax)
    return a


_PAD_STATISTICS = ("maximum", "minimum", "mean", "median")


def _per_side(setting: Any, nd: int) -> list[list[Any]]:
    """A per-axis, per-side option (``constant_values``, ``end_values``, ``stat_length``) as
    ``nd`` pairs, broadcast as NumPy does; a traced option gives traced scalars, so the
    padding is differentiable in it."""
    if not nd:
        return []
    if any_tracer(setting):
        grid = broadcast_to(as_array(setting), (nd, 2))
        return [[grid[ax, 0], grid[ax, 1]] for ax in range(nd)]
    # host-data: host values (parameters, lists, host_values)
    return np.broadcast_to(np.asarray(setting, dtype=object), (nd, 2)).tolist()


def _pad_computed(a: Array, widths: list[list[int]], mode: str, options: dict[str, Any]) -> Array:
    """The modes whose new entries are computed from the edge: a statistic of the
    ``stat_length`` entries next to it, or a ramp from the edge to ``end_values``. Axis by
    axis, as NumPy does (later axes see the padding of earlier ones)."""
    key = "end_values" if mode == "linear_ramp" else "stat_length"
    setting = options.pop(key, 0 if mode == "linear_ramp" else None)
    if options:
        raise TypeError(f"unexpected keyword arguments for mode {mode!r}: {sorted(options)}")
    if mode != "linear_ramp" and any_tracer(setting):
        raise errors.UnsupportedError(
            "functrans.numpy.pad: stat_length must be numbers known when the call is traced: "
            "it decides how many entries the statistic reads. Pass Python ints.")
    nd = len(a.shape)
    settings = _per_side(setting, nd)
    statistics: dict[str, Callable[..., Array]] = {"maximum": max, "minimum": min, "mean": mean, "median": median}
    statistic = statistics.get(mode)
    for ax, ((lo, hi), (set_lo, set_hi)) in enumerate(zip(widths, settings)):
        n = a.shape[ax]
        parts = []
        for width, value, before in ((lo, set_lo, True), (hi, set_hi, False)):
            if not width:
                continue
            if statistic is not None:
                if n == 0:
                    raise ValueError(f"can't extend empty axis {ax} using modes other than "
                                     "'constant' or 'empty'")
                length = n if value is None else builtins.min(builtins.max(int(value), 1), n)
                # host-data: made on the host, placed on the operand's device
                near = np.arange(length) if before else np.arange(n - length, n)
                edge = statistic(take_axis(a, placed_like(near, a), ax), axis=ax, keepdims=True)
                block = take_axis(edge, placed_like(np.zeros(width, np.intp), a), ax)  # host-data: placed
            else:  # linear_ramp: from end_value at the outside to the edge entry
                # host-data: made on the host, placed on the operand's device
                edge = take_axis(a, placed_like(np.array([0 if before else n - 1]), a), ax)
                # host-data: ramp steps, placed below
                steps = np.arange(width) / width if before else np.arange(width)[::-1] / width
                shape = [1] * nd
                shape[ax] = width
                # host-data: ramp weights, placed on the operand's device
                weight = placed_like(steps.reshape(shape).astype(a.dtype), a)
                end = convert_element_type(value, new_dtype=a.dtype) if any_tracer(value) else float(value)
                block = _ew.add(end, _ew.mul(_ew.sub(edge, end), weight))
            parts.append((before, block))
        if parts:
            a = concatenate([b for before, b in parts if before] + [a]
                        + [b for before, b in parts if not before], ax)
    return a
