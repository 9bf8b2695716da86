"""NumPy's functional-programming helpers: ``vectorize``, ``apply_along_axis``,
``apply_over_axes`` and ``piecewise``. Functions of one example are mapped over many with
``functrans.vmap``, so they may use any functrans.numpy function and stay differentiable;
``piecewise`` evaluates every piece everywhere and selects, as ``jax.numpy.piecewise``."""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np

from functrans import errors, tree
from functrans.api import vmap
from functrans.numpy._indexing import where
from functrans.numpy._joining import stack
from functrans.numpy._reductions import any as _any
from functrans.numpy._shape import broadcast_arrays, broadcast_to, expand_dims, moveaxis, reshape
from functrans.numpy._util import as_array
from functrans.primitives import elementwise as _ew
from functrans.primitives.conversion import convert_element_type, full_like
from functrans.typing import Array, ArrayLike


def vectorize(pyfunc: Callable[..., Any], otypes: Any = None, doc: str | None = None,
              excluded: Collection[int | str] | None = None, cache: bool = False,
              signature: str | None = None) -> Callable[..., Any]:
    """``pyfunc``, a function of scalars, made a function of arrays that broadcast together:
    it is applied to every combination of entries, as ``numpy.vectorize``, but by
    ``functrans.vmap`` rather than a Python loop, so ``pyfunc`` must be written with
    functrans.numpy operations (no Python ``if`` on values; ``fnp.where`` instead), and the
    result is differentiable and works under ``jit``. Arguments named in ``excluded``
    (positions or keywords) are passed as they are. ``otypes``, ``doc`` and ``cache`` are
    accepted for NumPy's signature; the output dtypes are ``pyfunc``'s.

    Example:
        >>> import functrans.numpy as fnp
        >>> clipped = fnp.vectorize(lambda x, lo: fnp.where(x < lo, lo, x), excluded={1})
        >>> clipped(fnp.array([[0.0, 2.0], [3.0, -1.0]]), 1.0).tolist()
        [[1.0, 2.0], [3.0, 1.0]]
    """
    if signature is not None:
        raise errors.UnsupportedError(
            "fnp.vectorize does not take signature= (generalized ufuncs): write the function of one "
            "example with its core dimensions and map it with functrans.vmap, once per batch axis.")
    skip = frozenset(excluded or ())

    @functools.wraps(pyfunc)
    def vectorized(*args: Any, **kwargs: Any) -> Any:
        mapped_pos = [i for i in range(len(args)) if i not in skip]
        mapped_kw = [k for k in kwargs if k not in skip]
        arrays = broadcast_arrays(*[as_array(args[i]) for i in mapped_pos],
                                  *[as_array(kwargs[k]) for k in mapped_kw])
        shape = tuple(arrays[0].shape) if arrays else ()
        size = math.prod(shape)
        flat = [reshape(a, (size,)) for a in arrays]

        def one(*entries: Any) -> Any:
            call_args = list(args)
            for i, e in zip(mapped_pos, entries):
                call_args[i] = e
            call_kwargs = dict(kwargs)
            for k, e in zip(mapped_kw, entries[len(mapped_pos):]):
                call_kwargs[k] = e
            return pyfunc(*call_args, **call_kwargs)

        if not flat:
            return one()
        out = vmap(one)(*flat)
        return tree.map(lambda o: reshape(o, shape + tuple(o.shape[1:])), out)

    return vectorized


def apply_along_axis(func1d: Callable[..., Any], axis: int, arr: ArrayLike, *args: Any, **kwargs: Any) -> Array:
    """``func1d`` applied to every 1-D slice of ``arr`` along ``axis``, its outputs in place
    of that axis, as ``numpy.apply_along_axis``. On arrays of other backends and on traced
    arrays the slices are mapped with ``functrans.vmap`` (so ``func1d`` must use functrans.numpy
    operations); the result is differentiable.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.apply_along_axis(lambda r: r[0] + r[-1], 1, fnp.array([[1.0, 2.0], [3.0, 5.0]])).tolist()
        [3.0, 8.0]
    """
    a = as_array(arr)
    if type(a) is np.ndarray:
        return np.apply_along_axis(func1d, axis, a, *args, **kwargs)  # numpy-only: a NumPy array
    nd = len(a.shape)
    if nd == 0:
        raise ValueError("apply_along_axis takes an array of at least one dimension")
    axis = axis % nd
    moved = moveaxis(a, axis, -1)
    batch_shape = tuple(moved.shape[:-1])
    rows = reshape(moved, (math.prod(batch_shape), a.shape[axis]))
    out = as_array(vmap(lambda row: as_array(func1d(row, *args, **kwargs)))(rows))
    core = tuple(out.shape[1:])
    out = reshape(out, batch_shape + core)
    # the function's output dimensions take the place of the axis
    return moveaxis(out, tuple(range(len(batch_shape), len(batch_shape) + len(core))),
                    tuple(range(axis, axis + len(core)))) if core else out


def apply_over_axes(func: Callable[[Array, int], Array], a: ArrayLike, axes: int | Sequence[int]) -> Array:
    """``func(a, axis)`` applied for each axis in turn, each result taking the place of
    ``a`` (with the axis kept as length 1 when ``func`` drops it), as
    ``numpy.apply_over_axes``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.apply_over_axes(fnp.sum, fnp.ones((2, 3, 4)), [0, 2]).shape
        (1, 3, 1)
    """
    val = as_array(a)
    nd = len(val.shape)
    for axis in ([axes] if isinstance(axes, int) else axes):
        axis = axis % nd
        res = as_array(func(val, axis))
        if len(res.shape) == len(val.shape):
            val = res
        else:
            res = expand_dims(res, axis)
            if len(res.shape) != len(val.shape):
                raise ValueError("function is not returning an array of the correct shape")
            val = res
    return val


def piecewise(x: ArrayLike, condlist: Any, funclist: Sequence[Any], *args: Any, **kw: Any) -> Array:
    """An array of ``x``'s shape and dtype whose entries where ``condlist[i]`` holds are
    ``funclist[i](x, *args, **kw)`` (or the constant ``funclist[i]``), later conditions
    winning; one extra function or constant fills where no condition holds (zero otherwise),
    as ``numpy.piecewise``. Every function is evaluated on all of ``x`` and the results
    selected (as ``jax.numpy.piecewise``), so it works under ``jit`` and ``vmap``; the
    derivative is that of the piece selected.

    Example:
        >>> import functrans.numpy as fnp
        >>> x = fnp.array([-2.0, 0.5, 3.0])
        >>> fnp.piecewise(x, [x < 0, x > 1], [lambda v: -v, lambda v: v * v, 0.0]).tolist()
        [2.0, 0.0, 9.0]
    """
    x = as_array(x)
    if not isinstance(condlist, (list, tuple)) or (condlist and not hasattr(condlist[0], "shape")
                                                    and not isinstance(condlist[0], (list, tuple, bool))):
        condlist = [condlist]
    conds = [as_array(c) for c in condlist]
    n = len(conds)
    if len(funclist) not in (n, n + 1):
        raise ValueError(f"with {n} condition(s), funclist must have {n} or {n + 1} items, got {len(funclist)}")
    if len(funclist) == n + 1:
        otherwise = _ew.logical_not(_any(_stack_conds(conds, x), axis=0)) if n else full_like(x, True, dtype=bool)
        conds = conds + [otherwise]
    y: Any = full_like(x, 0)
    for cond, piece in zip(conds, funclist):
        value = piece(x, *args, **kw) if callable(piece) else piece
        if not isinstance(value, (int, float, complex)):  # (a Python number takes x's dtype in where)
            value = as_array(value)
            if value.dtype != x.dtype:
                value = convert_element_type(value, new_dtype=x.dtype)
        y = where(cond, value, y)
    return y


def _stack_conds(conds: list[Array], like: Array) -> Array:
    shape = tuple(like.shape)
    return stack([c if tuple(c.shape) == shape else broadcast_to(c, shape) for c in conds])
