"""Differentiable collectives for model-parallel code: ``psum``, ``pmean``, ``all_gather`` and
``pvary`` as primitives, usable under ``grad``, ``jvp``, ``vmap`` and ``jit`` (where the
collective is one step of the program).

The SPMD convention is JAX's ``shard_map``: a value computed by ``psum`` (or ``all_gather``) is
the same on every rank (replicated), and a cotangent of a replicated value is not summed again.
So for ``L = psum(f(x_r))`` evaluated on every rank, the gradient on rank ``r`` is ``f'(x_r)``:
psum's transpose passes the cotangent through, and all_gather's keeps this rank's block. Where a
replicated value meets rank-dependent data and the objective is the sum over ranks of
unreplicated values, mark the replicated value with ``pvary``: it computes nothing, and its
transpose sums the cotangents over the ranks, so ``psum`` followed by ``pvary`` transposes to a
psum and ``all_gather`` followed by ``pvary`` to a reduce-scatter.

Every rank runs the same collectives in the same order: a tangent known to be zero is sent as
zeros, and the primitives are in ``EFFECTFUL``, so ``jit`` neither drops them as dead code nor
computes them ahead of a call.
"""
from __future__ import annotations

from typing import Any

from functrans import tree as ft_tree
from functrans._abstract import dtype_of, shape_of
from functrans.core.primitive import EFFECTFUL, Primitive
from functrans.core.trace import Tracer
from functrans.core.zeros import zero
from functrans.distributed import _comm
from functrans.distributed.collectives import all_reduce as _all_reduce_tree
from functrans.primitives._define import zeros_like
from functrans.primitives.shape import slice_

__all__ = ["psum", "pmean", "all_gather", "pvary", "psum_p", "all_gather_p", "pvary_p"]


def _instantiate(t: Any, like: Any) -> Any:
    return zeros_like(like) if t is zero else t


# --- psum: the sum over ranks (output replicated) -------------------------------------------------
psum_p: Any = Primitive("psum")


def _psum_impl(x: Any) -> Any:
    return _all_reduce_tree(x, op="sum")


def _psum_jvp(primals: Any, tangents: Any) -> tuple:
    (x,), (t,) = primals, tangents
    return psum_p.bind(x), psum_p.bind(_instantiate(t, x))


psum_p.impl = _psum_impl
psum_p.shape_rule = lambda x: (shape_of(x), dtype_of(x))
psum_p.jvp = _psum_jvp
psum_p.transpose = lambda ct, x: (ct,)  # a replicated cotangent is not summed again
psum_p.batch = lambda values, dims: (psum_p.bind(values[0]), dims[0])
EFFECTFUL.add(psum_p)


def psum(x: Any) -> Any:
    """The sum of ``x`` over all ranks, on every rank (differentiable; see the module for the
    convention of its gradient).

    Example:
        >>> import numpy as np, functrans as ft
        >>> float(ft.grad(lambda x: psum(x * x))(3.0))  # a world of one process
        6.0
    """
    return ft_tree.map(psum_p.bind, x)


def pmean(x: Any) -> Any:
    """The mean of ``x`` over all ranks, on every rank (``psum(x) / size()``).

    Example:
        >>> import numpy as np
        >>> pmean(np.array([2.0, 4.0]))
        array([2., 4.])
    """
    n = _comm.size()
    return ft_tree.map(lambda v: psum_p.bind(v) * (1.0 / n) if n > 1 else psum_p.bind(v), x)


# --- pvary: a replicated value used as a rank-dependent one ---------------------------------------
pvary_p: Any = Primitive("pvary")


def _pvary_jvp(primals: Any, tangents: Any) -> tuple:
    (x,), (t,) = primals, tangents
    return pvary_p.bind(x), pvary_p.bind(_instantiate(t, x))


pvary_p.impl = lambda x: x
pvary_p.shape_rule = lambda x: (shape_of(x), dtype_of(x))
pvary_p.jvp = _pvary_jvp
pvary_p.transpose = lambda ct, x: (psum_p.bind(ct),)  # unreplicated cotangents: summed
pvary_p.batch = lambda values, dims: (pvary_p.bind(values[0]), dims[0])
EFFECTFUL.add(pvary_p)


def pvary(x: Any) -> Any:
    """``x`` itself, marked as a value whose cotangent differs between ranks: its transpose sums
    the cotangents over the ranks. Use it on a replicated value (a ``psum``'s result) that enters
    an objective summed over ranks rather than one replicated on every rank.

    Example:
        >>> import functrans as ft
        >>> float(ft.grad(lambda x: pvary(psum(x)) * 2.0)(1.0))  # a world of one process
        2.0
    """
    return pvary_p.bind(x)


# --- all_gather: the ranks' blocks concatenated along an axis (output replicated) ----------------
all_gather_p: Any = Primitive("all_gather")


def _all_gather_impl(x: Any, *, axis: int) -> Any:
    from functrans.distributed.collectives import all_gather as gather_tree
    return gather_tree(x, axis=axis)


def _all_gather_shape(x: Any, *, axis: int) -> tuple:
    shape = list(shape_of(x))
    shape[axis] *= _comm.size()
    return tuple(shape), dtype_of(x)


def _all_gather_jvp(primals: Any, tangents: Any, *, axis: int) -> tuple:
    (x,), (t,) = primals, tangents
    return all_gather_p.bind(x, axis=axis), all_gather_p.bind(_instantiate(t, x), axis=axis)


def _all_gather_transpose(ct: Any, x: Any, *, axis: int) -> tuple:
    # replicated cotangent: this rank's block (after a pvary the block of the summed one)
    shape = shape_of(ct)
    k = shape[axis] // _comm.size()
    r = _comm.rank()
    start = [0] * len(shape)
    limit = list(shape)
    start[axis], limit[axis] = r * k, (r + 1) * k
    return (slice_(ct, start, limit),)


def _all_gather_batch(values: Any, dims: Any, *, axis: int) -> tuple:
    (x,), (d,) = values, dims
    inner = axis + 1 if d <= axis else axis
    return all_gather_p.bind(x, axis=inner), d


all_gather_p.impl = _all_gather_impl
all_gather_p.shape_rule = _all_gather_shape
all_gather_p.jvp = _all_gather_jvp
all_gather_p.transpose = _all_gather_transpose
all_gather_p.batch = _all_gather_batch
EFFECTFUL.add(all_gather_p)


def all_gather(tree: Any, axis: int = 0) -> Any:
    """Every rank's ``tree``, each leaf concatenated along ``axis`` in rank order, on every rank.
    Differentiable: the transpose keeps this rank's block of a replicated cotangent. On concrete
    arrays the leaves go in one checked collective call per leaf.

    Example:
        >>> import numpy as np
        >>> all_gather({"x": np.ones((2, 3))}, axis=1)["x"].shape  # a world of one process
        (2, 3)
    """
    leaves = ft_tree.leaves(tree)
    if not any(isinstance(v, Tracer) for v in leaves):
        from functrans.distributed.collectives import all_gather as gather_tree
        return gather_tree(tree, axis=axis)

    def one(x: Any) -> Any:
        ndim = len(shape_of(x))
        if ndim == 0:
            raise ValueError("all_gather needs arrays of at least one dimension (a scalar has "
                             "no axis to concatenate along); reshape it to (1,) first.")
        return all_gather_p.bind(x, axis=int(axis) % ndim)

    return ft_tree.map(one, tree)
