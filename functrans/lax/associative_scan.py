"""``associative_scan``: the inclusive prefix combination of an associative function along an
axis, by the parallel-prefix algorithm, written with slices and concatenations of ordinary
primitives (so every derivative, ``vmap`` and ``jit`` come from theirs).

The algorithm (Blelloch's, as JAX's): combine neighbouring pairs, scan the half-length result
recursively (which gives the odd positions of the answer), combine those with the even
elements to get the even positions, and interleave. It calls ``fn`` O(log n) times, each on
whole arrays of about n/2 elements, and its depth of recursion is log2(n).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functrans import errors, tree
from functrans._abstract import shape_of
from functrans.lax._programs import aval_of, check_types
from functrans.primitives.shape import concatenate, expand_dims, reshape, rev, slice_
from functrans.typing import PyTree


def associative_scan(fn: Callable[[Any, Any], Any], elems: PyTree, reverse: bool = False,
                     axis: int = 0) -> PyTree:
    """The running combination ``fn(... fn(fn(e0, e1), e2) ..., ek)`` for every ``k`` along
    ``axis``, computed in O(log n) rounds of ``fn`` on whole arrays.

    ``fn`` must be associative (``fn(fn(a, b), c) == fn(a, b, c)`` grouped either way) but need
    not be commutative (matrix products work), and it must act elementwise along ``axis``: it
    receives pytrees like ``elems`` whose leaves have some length along ``axis`` and returns
    one of the same structure and shapes.

    Args:
        fn: the associative combination of two pytrees like ``elems``.
        elems: a pytree of arrays, all of one length along ``axis``.
        reverse: scan from the end, as JAX: the scan of the elements in reversed order,
            reversed back, so element ``k`` is ``fn(... fn(e_n-1, e_n-2) ..., e_k)`` (a later
            element is ``fn``'s first argument; for a non-commutative ``fn`` such as a matrix
            product this is ``e_n-1 @ ... @ e_k``).
        axis: the axis scanned over.

    Returns:
        A pytree like ``elems``.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.associative_scan(lambda a, b: a + b, np.arange(1.0, 6.0))
        array([ 1.,  3.,  6., 10., 15.])
    """
    leaves, treedef = tree.flatten(elems)
    if not leaves:
        return elems
    ndim = len(shape_of(leaves[0]))
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"associative_scan: axis {axis} is out of range for arrays of {ndim} dimensions.")
    axis = axis % ndim
    lengths = {shape_of(x)[axis] if len(shape_of(x)) > axis else None for x in leaves}
    if len(lengths) != 1 or None in lengths:
        raise ValueError(
            f"associative_scan: every leaf of elems must have the same length along axis {axis}; "
            f"the shapes are {[tuple(shape_of(x)) for x in leaves]}."
        )

    def combine(a: list, b: list) -> list:
        out, out_tree = tree.flatten(fn(treedef.unflatten(a), treedef.unflatten(b)))
        if out_tree != treedef:
            raise errors.TreeStructureError(
                f"associative_scan: fn returned structure {out_tree}, but elems has structure "
                f"{treedef}; fn must return a pytree like its arguments."
            )
        check_types("associative_scan", "fn's output", out, [aval_of(x) for x in a], treedef, "elems",
                    "its arguments")
        return out

    if reverse:
        leaves = [rev(x, (axis,)) for x in leaves]
    out = _scan(combine, leaves, axis)
    if reverse:
        out = [rev(x, (axis,)) for x in out]
    return treedef.unflatten(out)


def _cut(x: Any, axis: int, start: int, stop: int | None = None, step: int = 1) -> Any:
    """``x[start:stop:step]`` along ``axis``."""
    shape = tuple(shape_of(x))
    starts = [0] * len(shape)
    limits = list(shape)
    strides = [1] * len(shape)
    starts[axis] = start
    limits[axis] = shape[axis] if stop is None else (stop if stop >= 0 else shape[axis] + stop)
    strides[axis] = step
    return slice_(x, starts, limits, strides)


def _scan(combine: Callable[[list, list], list], elems: list, axis: int) -> list:
    n = shape_of(elems[0])[axis]
    if n < 2:
        return elems
    pairs = combine([_cut(x, axis, 0, -1, 2) for x in elems], [_cut(x, axis, 1, None, 2) for x in elems])
    odd = _scan(combine, pairs, axis)  # the answer at positions 1, 3, 5, ...
    if n % 2 == 0:  # positions 2, 4, ...: the answer before them, then the element there
        even = combine([_cut(x, axis, 0, -1) for x in odd], [_cut(x, axis, 2, None, 2) for x in elems])
    else:
        even = combine(odd, [_cut(x, axis, 2, None, 2) for x in elems])
    even = [concatenate([_cut(x, axis, 0, 1), e], axis) for x, e in zip(elems, even)]
    return [_interleave(e, o, axis) for e, o in zip(even, odd)]


def _interleave(even: Any, odd: Any, axis: int) -> Any:
    """``even[0], odd[0], even[1], odd[1], ...`` along ``axis`` (``even`` may be one longer)."""
    extra = shape_of(even)[axis] - shape_of(odd)[axis]
    if extra:  # a filler (the last even element) makes the lengths equal; it is cut off after
        odd = concatenate([odd, _cut(even, axis, -1 + shape_of(even)[axis])], axis)
    pairs = concatenate([expand_dims(even, (axis + 1,)), expand_dims(odd, (axis + 1,))], axis + 1)
    shape = list(shape_of(even))
    shape[axis] *= 2
    joined = reshape(pairs, tuple(shape))
    return _cut(joined, axis, 0, shape[axis] - extra) if extra else joined
