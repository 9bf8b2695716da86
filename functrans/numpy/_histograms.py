"""NumPy's binning functions: ``digitize``, ``bincount``, ``histogram`` and
``histogram_bin_edges``. Bin indices and counts have no derivative; weighted counts are
differentiable in the weights, and bin edges made from the data's range in the data."""
from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from functrans import errors
from functrans._abstract import dtype_of, shape_of
from functrans.backend import array_module
from functrans.core.trace import Tracer
from functrans.numpy._creation import linspace
from functrans.numpy._indexing import at, binned_counts, where
from functrans.numpy._joining import stack
from functrans.numpy._reductions import max, min, sum
from functrans.numpy._shape import ravel
from functrans.numpy._sorting import searchsorted
from functrans.numpy._util import any_tracer, as_array, host_values, inexact, numbers_beside, pair_beside, placed_like
from functrans.primitives import elementwise as _ew
from functrans.primitives.conversion import convert_element_type, full_like
from functrans.typing import Array, ArrayLike


def digitize(x: ArrayLike, bins: ArrayLike, right: bool = False) -> Array:
    """The index of the bin of each entry of ``x``, for the monotonic 1-D ``bins``, as
    ``numpy.digitize`` (``right``: bins closed on the right). Works under ``jit`` and
    ``vmap`` (both orders are computed and the one of ``bins``'s direction is chosen).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.digitize(fnp.array([0.5, 1.5, 3.0]), fnp.array([1.0, 2.0])).tolist()
        [0, 1, 2]
    """
    x, bins = pair_beside(x, bins)
    x, bins = as_array(x), as_array(bins)
    if not any_tracer(x, bins):
        return array_module(x).digitize(x, bins, right)
    if len(bins.shape) != 1:
        raise ValueError("bins must be one-dimensional")
    side = "left" if right else "right"
    n = bins.shape[0]
    if n == 0:
        return convert_element_type(full_like(x, 0), new_dtype=np.intp)
    increasing = searchsorted(bins, x, side=side)
    decreasing = _ew.sub(n, searchsorted(bins[::-1], x, side="right" if right else "left"))
    return where(_ew.ge(bins[-1], bins[0]), increasing, convert_element_type(decreasing, new_dtype=increasing.dtype))


def _known_values(x: Any, name: str) -> np.ndarray:
    if isinstance(x, Tracer):
        try:
            x.to_concrete()
        except errors.TracerConversionError:
            fix = ("pass length=n for the counts of 0 .. n - 1, as in JAX" if name == "bincount"
                   else "use fnp.histogram with a number of bins and a range")
            raise errors.UnsupportedError(
                f"fnp.{name} needs the values of its input, which decide the result (its length, or "
                "the estimated bins), and jit and vmap do not have them yet. Compute it outside the "
                f"transformation, or {fix}.") from None
    return host_values(x)


def bincount(x: ArrayLike, weights: ArrayLike | None = None, minlength: int = 0, *,
             length: int | None = None) -> Array:
    """How often each non-negative integer occurs in the 1-D ``x`` (or the sum of the
    ``weights`` at its positions), as ``numpy.bincount``; the result's length is
    ``max(x) + 1`` or ``minlength``, so a traced ``x`` needs concrete values, or ``length``
    (as in JAX): the counts of ``0 .. length - 1``, where values from ``length`` up are left
    out and negative ones counted as 0 (JAX's rule; NumPy's own call, without ``length``,
    rejects them). Weighted counts are differentiable in the weights.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.bincount(fnp.array([0, 1, 1, 3])).tolist()
        [1, 2, 0, 1]
        >>> fnp.bincount(fnp.array([0, 1, 1, 3]), length=2).tolist()
        [1, 2]
    """
    if length is not None:
        return _bincount_of_length(as_array(x), weights, operator.index(length))
    x = as_array(x)
    if not any_tracer(x, weights):
        return array_module(x).bincount(x, weights, minlength)
    values = _known_values(x, "bincount")
    if values.ndim != 1:
        raise ValueError("object too deep for desired array: bincount takes a 1-D array")
    if values.size and values.min() < 0:
        raise ValueError("'list' argument must have no negative elements")
    length = int(np.maximum(values.max() + 1 if values.size else 0, minlength))  # host-data: the values read above
    index = placed_like(values.astype(np.intp), x)  # host-data: the values read above
    if weights is None or not values.size:  # (NumPy's count of no values is integer, weighted too)
        counts = np.bincount(values, minlength=minlength)  # host-data: counts of the values read above
        return placed_like(counts, x)
    w = inexact(weights)
    if tuple(shape_of(w)) != values.shape:
        raise ValueError(f"bincount: weights must have the shape of x, {values.shape}, "
                         f"got {tuple(shape_of(w))} (one weight per value counted)")
    zeros = full_like(w, 0, shape=(length,), dtype=np.result_type(w.dtype, np.float64))
    return at(zeros)[index].add(w)


def _bincount_of_length(x: Array, weights: ArrayLike | None, length: int) -> Array:
    if len(shape_of(x)) != 1:
        raise ValueError("object too deep for desired array: bincount takes a 1-D array")
    if dtype_of(x).kind not in "iub":
        raise TypeError(f"bincount: x must hold integers, got dtype {dtype_of(x)}")
    if length < 0:
        raise ValueError(f"bincount: length must be non-negative, got {length}")
    return binned_counts(_ew.max_p.bind(x, 0), length, weights)  # (negatives count as 0)


def _edges(a: Array, bins: Any, range_: Sequence[float] | None, weights: Any) -> Array:
    if isinstance(bins, str):
        values = _known_values(a, "histogram_bin_edges")
        w = None if weights is None else host_values(weights)
        # host-data: NumPy's estimators read the values
        return placed_like(np.histogram_bin_edges(values, bins, cast(Any, range_), w), a)
    if (len(bins.shape) if hasattr(bins, "shape") else np.ndim(bins)) == 1:  # host-metadata: a shape
        return as_array(bins)
    count = int(bins)
    if count < 1:
        raise ValueError("`bins` must be positive, when an integer")
    flat = ravel(a)
    if range_ is not None:
        lo, hi = float(range_[0]), float(range_[1])
        if lo > hi:
            raise ValueError("max must be larger than min in range parameter.")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edge_type = np.result_type(lo, hi, flat.dtype)  # host-metadata: NumPy's edge dtype
        # host-data: edges from the given range, placed where the data is
        return placed_like(np.linspace(lo, hi, count + 1).astype(edge_type), flat)
    edge_type = np.result_type(flat.dtype, np.float16 if flat.dtype.kind in "fc" else np.float64)  # host-metadata
    if flat.shape[0] == 0:
        return placed_like(np.linspace(0.0, 1.0, count + 1).astype(edge_type), flat)  # host-data: NumPy's default
    first, last = (convert_element_type(v, new_dtype=np.float64) for v in (min(flat), max(flat)))
    # equal ends: NumPy widens the range by 0.5 on each side
    first, last = (_ew.sub(first, 0.5), _ew.add(last, 0.5)) if _equal(first, last) else (first, last)
    return convert_element_type(linspace(first, last, count + 1), new_dtype=edge_type)


def _equal(first: Any, last: Any) -> bool:
    if isinstance(first, float) and isinstance(last, float):
        return first == last
    try:
        return bool(host_values(_ew.eq(first, last)))
    except errors.TracerConversionError:
        return False


def histogram_bin_edges(a: ArrayLike, bins: Any = 10, range: Sequence[float] | None = None,
                        weights: ArrayLike | None = None) -> Array:
    """The bin edges ``histogram`` uses, as ``numpy.histogram_bin_edges``: ``bins`` equal
    bins over ``range`` (the data's range by default; differentiable in the data), given
    edges, or an estimator's name ('auto', 'fd', ..., which reads values).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.histogram_bin_edges(fnp.array([0.0, 1.0, 4.0]), 2).tolist()
        [0.0, 2.0, 4.0]
    """
    a = as_array(a)
    if not any_tracer(a, bins, weights):
        return array_module(a).histogram_bin_edges(a, bins, range, weights)
    return _edges(a, bins, range, weights)


def histogram(a: ArrayLike, bins: Any = 10, range: Sequence[float] | None = None, density: bool | None = None,
              weights: ArrayLike | None = None) -> tuple[Array, Array]:
    """The histogram of the flattened ``a``: counts (or sums of ``weights``) per bin and the
    bin edges, as ``numpy.histogram`` (every bin half-open except the last; ``density``
    normalises to a probability density). With integer or given bins it works under ``jit``
    and ``vmap``; weighted counts are differentiable in the weights, the edges in the data.

    Example:
        >>> import functrans.numpy as fnp
        >>> counts, edges = fnp.histogram(fnp.array([0.0, 1.0, 1.5, 4.0]), 2)
        >>> counts.tolist(), edges.tolist()
        ([3, 1], [0.0, 2.0, 4.0])
    """
    a = as_array(a)
    if isinstance(bins, (list, tuple)):  # the edges, beside a device array
        a, bins, weights = numbers_beside((a, bins, weights))
    if not any_tracer(a, bins, weights):
        return array_module(a).histogram(a, bins, range, density, weights)
    edges = _edges(a, bins, range, weights)
    flat = ravel(a)
    n = edges.shape[0] - 1
    index = _ew.sub(searchsorted(edges, flat, side="right"), 1)
    index = where(_ew.eq(flat, edges[-1]), n - 1, index)  # the last bin is closed
    inside = _ew.logical_and(_ew.ge(index, 0), _ew.lt(index, n))
    safe = where(inside, index, 0)
    if weights is None:
        w: Any = convert_element_type(inside, new_dtype=np.intp)
    else:
        w = where(inside, ravel(as_array(weights)), 0)
    zeros = full_like(w, 0, shape=(n,))
    counts = at(zeros)[safe].add(w)
    if density:
        widths = _ew.sub(edges[1:], edges[:-1])
        counts = _ew.div(_ew.div(inexact(counts), widths), sum(counts))
    return counts, edges


def _bin_index(x: Array, edges: Array) -> tuple[Array, Array]:
    """The bin of each entry of the 1-D ``x`` (the last bin closed) and whether it has one."""
    n = edges.shape[0] - 1
    index = _ew.sub(searchsorted(edges, x, side="right"), 1)
    index = where(_ew.eq(x, edges[-1]), n - 1, index)
    inside = _ew.logical_and(_ew.ge(index, 0), _ew.lt(index, n))
    return where(inside, index, 0), inside


def histogramdd(sample: ArrayLike, bins: Any = 10, range: Sequence[Any] | None = None, density: bool | None = None,
                weights: ArrayLike | None = None) -> tuple[Array, list[Array]]:
    """The multidimensional histogram of ``sample`` (``N`` points by ``D`` coordinates, or a
    sequence of ``D`` coordinate arrays), as ``numpy.histogramdd``: counts (or sums of
    ``weights``) per cell and the ``D`` edge arrays. ``bins``: one count or edge array for all
    dimensions, or one per dimension. With counts and ranges (or given edges) it works under
    ``jit`` and ``vmap``; weighted counts are differentiable in the weights.

    Example:
        >>> import functrans.numpy as fnp
        >>> counts, edges = fnp.histogramdd(fnp.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]]), bins=2)
        >>> counts.tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    if isinstance(sample, (list, tuple)):
        sample = stack([as_array(s) for s in sample], axis=-1)
    points = as_array(sample)
    if not any_tracer(points, bins, weights):
        return array_module(points).histogramdd(points, bins, range, density, weights)
    if len(points.shape) == 1:
        points = points[:, None]
    d = points.shape[1]
    per_dim = list(bins) if isinstance(bins, (list, tuple)) else [bins] * d
    ranges = list(range) if range is not None else [None] * d
    if len(per_dim) != d or len(ranges) != d:
        raise ValueError("The dimension of bins (and of range) must be equal to the dimension of the sample x.")
    edges = [_edges(points[:, i], per_dim[i], ranges[i], None) for i in builtins.range(d)]
    sizes = [e.shape[0] - 1 for e in edges]
    flat: Any = 0
    inside: Any = True
    for i in builtins.range(d):
        index, ok = _bin_index(points[:, i], edges[i])
        flat = _ew.add(_ew.mul(flat, sizes[i]), index)
        inside = _ew.logical_and(inside, ok)
    w: Any = convert_element_type(inside, new_dtype=np.float64) if weights is None else \
        where(inside, inexact(weights), 0)
    counts = at(full_like(w, 0, shape=(math.prod(sizes),)))[where(inside, flat, 0)].add(w)
    counts = counts.reshape(tuple(sizes))
    if density:
        volume: Any = 1.0
        for i, e in enumerate(edges):
            shape = [1] * d
            shape[i] = sizes[i]
            volume = _ew.mul(volume, _ew.sub(e[1:], e[:-1]).reshape(tuple(shape)))
        counts = _ew.div(_ew.div(counts, volume), sum(counts))
    return counts, edges


def histogram2d(x: ArrayLike, y: ArrayLike, bins: Any = 10, range: Sequence[Any] | None = None,
                density: bool | None = None, weights: ArrayLike | None = None) -> tuple[Array, Array, Array]:
    """The two-dimensional histogram of the points ``(x, y)``, as ``numpy.histogram2d``:
    counts (or sums of ``weights``) per cell and the edges in ``x`` and in ``y``; see
    ``histogramdd``.

    Example:
        >>> import functrans.numpy as fnp
        >>> counts, xe, ye = fnp.histogram2d(fnp.array([0.0, 1.0, 1.0]), fnp.array([0.0, 1.0, 0.0]), bins=2)
        >>> counts.tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    xs, ys = as_array(x), as_array(y)
    if not any_tracer(xs, ys, bins, weights):
        return array_module(xs).histogram2d(xs, ys, bins, range, density, weights)
    if not isinstance(bins, (list, tuple)) or (len(bins) != 2 and not hasattr(bins, "shape")):
        bins = [bins, bins]
    counts, (x_edges, y_edges) = histogramdd([xs, ys], bins, range, density, weights)
    return counts, x_edges, y_edges
