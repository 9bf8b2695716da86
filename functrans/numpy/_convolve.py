"""NumPy's one-dimensional discrete convolution and correlation (``convolve``,
``correlate``), differentiable in both sequences: each output entry is a dot product of one
sequence with a window of the other, gathered by a host index table."""
from __future__ import annotations

from typing import Literal

import numpy as np

from functrans.backend import array_module
from functrans.numpy._complex import conj
from functrans.numpy._joining import concatenate
from functrans.numpy._products import matmul
from functrans.numpy._shape import flip, ravel
from functrans.numpy._util import any_tracer, as_array, pair_beside, placed_like, take_axis
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, ArrayLike

Mode = Literal["full", "same", "valid"]


def _vector(x: ArrayLike, name: str, which: str) -> Array:
    x = as_array(x)
    if len(x.shape) > 1:
        raise ValueError(f"fnp.{name} takes 1-D sequences; {which} has shape {tuple(x.shape)}")
    x = ravel(x)
    if x.shape[0] == 0:
        raise ValueError(f"fnp.{name}: {which} cannot be empty")
    return x


def _full(a: Array, v: Array) -> Array:
    """The full convolution: entry k is sum_i a[i] v[k - i] over the i where v's index exists."""
    n, m = a.shape[0], v.shape[0]
    dtype = np.result_type(a.dtype, v.dtype)  # host-metadata: dtypes only
    if a.dtype != dtype:
        a = convert_element_type(a, new_dtype=dtype)
    if v.dtype != dtype:
        v = convert_element_type(v, new_dtype=dtype)
    # v with n - 1 zeros on each side; row k of the table picks v[k - i] for i = 0 .. n - 1
    zeros = placed_like(np.zeros(n - 1, dtype), v)  # host-data: zeros of a dtype
    padded = concatenate([zeros, v, zeros])
    # host-data: an index table of the shapes
    table = np.arange(n + m - 1)[:, None] - np.arange(n)[None, :] + (n - 1)
    return matmul(take_axis(padded, placed_like(table, padded), 0), a)


def _cropped(full: Array, n: int, m: int, mode: str, name: str) -> Array:
    """The entries of the full result (of sequences of lengths ``n`` and ``m``) that ``mode``
    keeps. NumPy's 'same' centres a correlation whose first sequence is the shorter one
    from the other end (it correlates them swapped, then reverses): for an even shorter
    length, one entry later."""
    if mode == "full":
        return full
    short, long = min(n, m), max(n, m)
    if mode == "same":
        start, length = (short - 1) // 2, long
        if name == "correlate" and n < m:
            start = short - 1 - start
    elif mode == "valid":
        start, length = short - 1, long - short + 1
    else:
        raise ValueError(f"fnp.{name}: mode must be 'full', 'same' or 'valid', not {mode!r}")
    return full[start:start + length]


def convolve(a: ArrayLike, v: ArrayLike, mode: Mode = "full") -> Array:
    """The discrete convolution of two 1-D sequences, as ``numpy.convolve``: ``mode`` 'full'
    (every overlap), 'same' (the length of the longer, centred) or 'valid' (full overlaps
    only). Differentiable in both.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.convolve(fnp.array([1.0, 2.0, 3.0]), fnp.array([0.0, 1.0, 0.5])).tolist()
        [0.0, 1.0, 2.5, 4.0, 1.5]
    """
    a, v = pair_beside(a, v)
    a, v = _vector(a, "convolve", "a"), _vector(v, "convolve", "v")
    if not any_tracer(a, v):
        return array_module(a).convolve(a, v, mode)
    return _cropped(_full(a, v), a.shape[0], v.shape[0], mode, "convolve")


def correlate(a: ArrayLike, v: ArrayLike, mode: Mode = "valid") -> Array:
    """The cross-correlation of two 1-D sequences, as ``numpy.correlate``:
    ``c[k] = sum_n a[n + k] * conj(v[n])``, with the modes of ``convolve`` (default
    'valid'). Differentiable in both.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.correlate(fnp.array([1.0, 2.0, 3.0]), fnp.array([0.0, 1.0, 0.5])).tolist()
        [3.5]
    """
    a, v = pair_beside(a, v)
    a, v = _vector(a, "correlate", "a"), _vector(v, "correlate", "v")
    if not any_tracer(a, v):
        return array_module(a).correlate(a, v, mode)
    reversed_v = flip(conj(v) if v.dtype.kind == "c" else v)
    return _cropped(_full(a, reversed_v), a.shape[0], v.shape[0], mode, "correlate")
