"""The global 2-norm of a list of arrays, right wherever the norm is representable, as one
primitive: its implementation sees the arrays themselves, eagerly and when a ``jit`` plan
replays it, so the second pass that rescues overflowing or underflowing squares runs only
when it is needed, without a ``cond`` in the program and without reading a device.

``sqrt(sum(|u|**2))`` alone overflows for float32 leaves of 1e20 (the clipped update is then
0) and underflows to a norm of 0 for leaves of 1e-30. When that sum is inf or below
``tiny / eps``, the norm is taken again of the leaves divided by their largest magnitude.
On the host the implementation tests the sum and takes the second pass only then; on a
device both are computed and a select picks (a test would read the device, a
synchronisation per step), and under ``vmap`` the same select runs per example.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans._abstract import dtype_of, shape_of
from functrans.api import stop_gradient
from functrans.backend import NUMPY, backend_of, to_host
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import batch_size, bdim_at_front


def is_half(x: Any) -> bool:
    """Whether ``x`` is a float array of less than single precision."""
    dtype = getattr(x, "dtype", None)
    return dtype is not None and dtype.kind == "f" and dtype.itemsize < 4


def abs_sq(x: Any) -> Any:
    """``|x|**2`` elementwise: ``x * x`` for real arrays, the real ``x * conj(x)`` for complex
    ones (the second moments of complex parameters are their squared moduli, as in optax)."""
    if dtype_of(x).kind == "c":
        return fnp.real(x * fnp.conj(x))
    return x * x


def sum_of_squares(leaves: list, batched: bool = False) -> Any:
    """``sum over leaves of sum(|u|**2)`` (per example of a batch axis in front when
    ``batched``), or None for no leaves. Half-precision leaves are squared in float32, where
    no square of a float16 overflows or underflows."""
    total = None
    for u in leaves:
        if is_half(u):
            u = fnp.astype(u, np.float32)
        s = fnp.sum(abs_sq(u), axis=_example_axes(u) if batched else None)
        total = s if total is None else total + s
    return total


def _example_axes(u: Any) -> tuple[int, ...]:
    return tuple(range(1, len(shape_of(u))))


def _per_example(s: Any, u: Any) -> Any:
    """``s`` (one number per example) shaped to broadcast against ``u`` (batch axis in front)."""
    return fnp.reshape(s, (-1,) + (1,) * (len(shape_of(u)) - 1))


def _unsafe(squares: Any) -> Any:
    """Where a sum of squares overflowed or lost digits to underflow (not where it is NaN)."""
    info = np.finfo(dtype_of(squares))
    return (squares == np.inf) | (squares < float(info.tiny / info.eps))


def _scaled(leaves: list, squares: Any, batched: bool = False) -> Any:
    """``big * sqrt(sum(|u / big|**2))`` with ``big`` the largest ``|u|`` (of each example's
    leaves when ``batched``: the batch axis in front)."""
    leaves = [u for u in leaves if 0 not in shape_of(u)[int(batched):]]
    if not leaves:
        return fnp.sqrt(squares)
    big = None
    for u in leaves:
        m = fnp.max(fnp.abs(u), axis=_example_axes(u) if batched else None)
        big = m if big is None else fnp.maximum(big, m)
    big = fnp.astype(big, dtype_of(squares))
    zero = big == 0.0
    scale = fnp.where((big > 0) & (big < np.inf), big, 1.0)  # else a zero, inf or NaN tree
    total = sum_of_squares([u / (_per_example(scale, u) if batched else scale) for u in leaves],
                           batched)
    return fnp.where(zero, 0.0, scale * fnp.sqrt(fnp.where(zero, 1.0, total)))


def _selected(leaves: list, batched: bool = False) -> Any:
    """The norm by both formulas, selected by the first one's sum: no value is read."""
    with fnp.errstate(over="ignore"):
        squares = sum_of_squares(leaves, batched)
    unsafe = _unsafe(squares)
    plain = fnp.sqrt(fnp.where(unsafe, 1.0, squares))
    return fnp.where(unsafe, _scaled(leaves, squares, batched), plain)


def _impl(*leaves: Any) -> Any:
    if backend_of(*leaves) is not NUMPY:
        return _selected(list(leaves))
    with np.errstate(over="ignore"):  # an overflow here is caught below
        squares = sum_of_squares(list(leaves))
    if to_host(_unsafe(squares)):
        return _scaled(list(leaves), squares)
    return fnp.sqrt(squares)


def _dtype(leaves: Any) -> np.dtype:
    """The norm's dtype: the real dtype of the (half-precision: widened) leaves' squares."""
    return np.result_type(*[np.float32 if is_half(u) else np.finfo(dtype_of(u)).dtype
                            for u in leaves])


def _jvp(primals: Any, tangents: Any) -> tuple:
    norm = global_norm_p.bind(*primals)
    dot = None
    for u, t in zip(primals, tangents):
        if t is zero:
            continue
        d = fnp.sum(fnp.real(fnp.conj(u) * t) if dtype_of(u).kind == "c" else u * t)
        d = fnp.astype(d, dtype_of(norm))
        dot = d if dot is None else dot + d
    if dot is None:
        return norm, zero
    at_zero = stop_gradient(norm == 0.0)  # a zero tree: derivative 0
    return norm, fnp.where(at_zero, 0.0, dot / fnp.where(at_zero, 1.0, norm))


def _batch(values: Any, dims: Any) -> tuple:
    size = batch_size(values, dims)
    return _selected([bdim_at_front(v, d, size) for v, d in zip(values, dims)], batched=True), 0


#: ``global_norm_p.bind(*leaves)``: the 2-norm of float or complex arrays together, in the
#: real dtype of their squares (float32 for half precision).
global_norm_p: Any = Primitive("global_norm")
global_norm_p.impl = _impl
global_norm_p.shape_rule = lambda *leaves: ((), _dtype(leaves))
global_norm_p.jvp = _jvp
global_norm_p.batch = _batch
