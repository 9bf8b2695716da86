"""Loops written with ``scan`` and ``while_loop``: ``fori_loop`` (a counted loop) and ``map``
(a function applied to every element of the leading axis), with JAX's names and meaning."""
from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from functrans import tree
from functrans._abstract import shape_of
from functrans.core.trace import Tracer
from functrans.interpreters.batching import vmap_flat
from functrans.lax._programs import moved_to_front
from functrans.lax.scan import scan
from functrans.lax.while_loop import while_loop
from functrans.primitives.shape import concatenate, reshape, slice_

__all__ = ["fori_loop", "map"]


def _static_int(x: Any) -> int | None:
    """``x`` as a Python int if it is a concrete integer (an int, a NumPy integer, a 0-d
    integer array), ``None`` if it is traced."""
    if isinstance(x, Tracer):
        return None
    try:
        return operator.index(x)
    except TypeError:
        raise TypeError(f"fori_loop: the bounds must be integers, got {x!r}") from None


def fori_loop(lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` from ``lower`` to ``upper - 1``: JAX's
    ``lax.fori_loop``.

    With concrete integer bounds (Python ints, NumPy integers) the loop is a ``scan`` of
    ``upper - lower`` steps, so every transformation works, reverse mode included. With traced
    bounds (arguments of a jitted or vmapped function) it is a ``while_loop``, which supports
    forward mode, ``vmap`` and ``jit`` but not reverse mode: pass the bounds as Python ints
    (static) to differentiate it with ``grad``.

    Args:
        lower: the first index.
        upper: one past the last index (no step runs if ``upper <= lower``).
        body_fun: ``body_fun(i, val) -> val``, returning a value of the structure, shapes and
            dtypes of ``init_val``.
        init_val: the initial value, a pytree of arrays.

    Returns:
        The value after the last step.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> float(lax.fori_loop(0, 4, lambda i, x: x * 2.0 + i, np.float64(1.0)))
        27.0
    """
    lo, hi = _static_int(lower), _static_int(upper)
    if lo is not None and hi is not None:
        def fori_loop_body(carry: tuple, _: None) -> tuple:
            i, val = carry
            return (i + 1, body_fun(i, val)), None

        # (the counter is a Python int, weakly typed as in JAX: eagerly as in a for loop, and
        # staged by scan as a weak carry, so i * x with a float32 x is float32 either way)
        (_, val), _ = scan(fori_loop_body, (lo, init_val), None, length=max(hi - lo, 0))
        return val
    _, val = while_loop(lambda carry: carry[0] < upper,
                        lambda carry: (carry[0] + 1, body_fun(carry[0], carry[1])),
                        (lower, init_val))
    return val


def map(f: Callable[[Any], Any], xs: Any, *, batch_size: int | None = None) -> Any:
    """``f`` applied to every element along the leading axis of ``xs`` (a pytree), the results
    stacked: JAX's ``lax.map``, a ``scan`` without a carry. Unlike ``vmap`` the elements are
    computed one after the other, so memory holds one application of ``f`` at a time.

    Args:
        f: a function of one element (a pytree of arrays without the leading axis).
        xs: a pytree of arrays with a common leading axis.
        batch_size: if given, ``f`` is vectorized (``vmap``) over blocks of this many
            elements and the loop runs over the blocks, as in JAX; the elements left over
            after the last whole block are one more vectorized call. The values are those of
            the loop without it; memory holds one block at a time.

    Returns:
        The outputs of ``f``, stacked along a new leading axis.

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> lax.map(lambda row: row.sum(), np.arange(6.0).reshape(3, 2))
        array([1., 5., 9.])
        >>> lax.map(lambda x: x * 2.0, np.arange(5.0), batch_size=2)
        array([0., 2., 4., 6., 8.])
    """
    if batch_size is None:
        _, ys = scan(lambda carry, x: (carry, f(x)), None, xs)
        return ys
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"map: batch_size must be a positive int, got {batch_size!r}")
    leaves, treedef = tree.flatten(xs)
    if not leaves or any(len(shape_of(x)) == 0 for x in leaves):
        return map(f, xs)  # (scan reports what is missing)
    n = shape_of(leaves[0])[0]
    if any(shape_of(x)[0] != n for x in leaves):
        return map(f, xs)
    blocks, left = divmod(n, batch_size)
    whole = [reshape(_rows(x, 0, blocks * batch_size), (blocks, batch_size) + tuple(shape_of(x))[1:])
             for x in leaves]
    out_tree: list = []
    _, ys = scan(lambda carry, xb: (carry, _vmapped(f, treedef, tree.leaves(xb), batch_size, out_tree)),
                 None, treedef.unflatten(whole))
    ys = [reshape(y, (blocks * batch_size,) + tuple(shape_of(y))[2:]) for y in ys]
    if left:
        rest = _vmapped(f, treedef, [_rows(x, blocks * batch_size, n) for x in leaves], left, out_tree)
        ys = [concatenate([y, r], 0) for y, r in zip(ys, rest)]
    return out_tree[0].unflatten(ys)


def _rows(x: Any, start: int, stop: int) -> Any:
    """``x[start:stop]`` (static bounds)."""
    shape = tuple(shape_of(x))
    return slice_(x, (start,) + (0,) * (len(shape) - 1), (stop,) + shape[1:], (1,) * len(shape))


def _vmapped(f: Callable[[Any], Any], treedef: Any, leaves: list, size: int, out_tree: list) -> list:
    """The leaves of ``f`` vectorized over the leading axis of ``leaves`` (``size`` examples),
    every output batched in front; ``out_tree`` gets the structure of ``f``'s output."""
    def flat(xs: list) -> list:
        out, structure = tree.flatten(f(treedef.unflatten(xs)))
        out_tree.append(structure)
        return out

    outs, dims = vmap_flat(flat, leaves, [0] * len(leaves), size, "map", own_axis=True)
    return moved_to_front(outs, dims, [True] * len(outs), size)
