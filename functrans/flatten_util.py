"""``ravel_pytree``: a pytree of arrays as one flat vector and back, as ``jax.flatten_util``
does (for optimizers and solvers that work on vectors, such as ``scipy.optimize.minimize``)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

import functrans.numpy as fnp
from functrans import tree
from functrans.typing import Array, PyTree

__all__ = ["ravel_pytree"]


def ravel_pytree(pytree: PyTree) -> tuple[Array, Callable[[Array], PyTree]]:
    """The leaves of ``pytree`` raveled and joined into one vector, and the function that
    rebuilds the pytree from such a vector.

    The vector's dtype is the promotion of every leaf's dtype (NumPy 2's rules, as
    ``functrans.numpy.result_type``); ``unravel`` gives each leaf back its own shape and dtype.
    Both directions are made of ``functrans.numpy`` operations, so they are differentiable
    and work on traced arrays under ``jit`` and ``vmap`` (``unravel`` of a batched vector
    gives batched leaves). Integer and boolean leaves are carried as values of the common
    dtype; their derivative is zero, as for any integer input. A tree without leaves gives
    an empty float64 vector.

    Args:
        pytree: a pytree whose leaves are arrays or Python/NumPy scalars.

    Returns:
        ``(flat, unravel)``: the 1-D vector of all leaves, and ``unravel(v)``, which splits a
        vector of ``flat``'s shape and dtype into a pytree of ``pytree``'s structure.

    Raises:
        ValueError: from ``unravel``, for a vector of another shape than ``flat``'s.
        TypeError: from ``unravel``, for a vector of another dtype than ``flat``'s.

    Example:
        >>> import numpy as np
        >>> from functrans.flatten_util import ravel_pytree
        >>> flat, unravel = ravel_pytree({'w': np.ones((2, 2)), 'b': np.zeros(2, np.float32)})
        >>> flat
        array([0., 0., 1., 1., 1., 1.])
        >>> unravel(flat)['b'].dtype
        dtype('float32')
    """
    leaves, treedef = tree.flatten(pytree)
    if not leaves:
        return np.zeros(0), lambda flat: _unravel_checked(flat, 0, np.dtype(np.float64), lambda _: pytree)
    dtypes = [fnp.result_type(leaf) for leaf in leaves]
    shapes = [fnp.shape(leaf) for leaf in leaves]
    common = fnp.result_type(*dtypes)
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    flat = fnp.concatenate([fnp.ravel(fnp.astype(leaf, common)) for leaf in leaves])
    total = sum(sizes)

    def split(vector: Array) -> PyTree:
        parts, start = [], 0
        for shape, size, dtype in zip(shapes, sizes, dtypes):
            part = fnp.reshape(vector[start:start + size], shape)
            if dtype != common:
                # a real leaf's entries in a complex vector: their real parts (no ComplexWarning)
                part = fnp.astype(fnp.real(part) if common.kind == "c" and dtype.kind != "c" else part, dtype)
            parts.append(part)
            start += size
        return treedef.unflatten(parts)

    return flat, lambda vector: _unravel_checked(vector, total, common, split)


def _unravel_checked(vector: Array, total: int, dtype: np.dtype, split: Callable[[Array], PyTree]) -> PyTree:
    shape = fnp.shape(vector)
    if shape != (total,):
        raise ValueError(
            f"unravel expects a vector of shape ({total},), the shape of the flat vector "
            f"ravel_pytree returned, but got shape {shape}. To unravel a batch of vectors, "
            "map over it: functrans.vmap(unravel)(batch).")
    got = fnp.result_type(vector)
    if got != dtype:
        raise TypeError(
            f"unravel expects a vector of dtype {dtype}, the dtype of the flat vector "
            f"ravel_pytree returned, but got {got}. Convert it first: unravel(v.astype({dtype})).")
    return split(vector)
