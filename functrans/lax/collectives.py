"""Collectives over the named batch axis of a ``vmap``: ``psum``, ``pmean``, ``pmax``,
``pmin``, ``all_gather`` and ``axis_index``, as JAX's lax has them.

``vmap(f, axis_name="i")`` names its batch axis; inside ``f``, which sees one example,
``psum(x, "i")`` is the sum of ``x`` over all the examples of that batch: the same value in
every example. ``axis_index("i")`` is the position of the example in the batch. A name that
no enclosing ``vmap`` binds is an error; nested ``vmap``s bind a name each, and a tuple of
names reduces over all of them.

They work in the loops and branches a ``vmap`` batches: the rule that batches a body runs it
as a batch of the same examples, which takes the name (``vmap_flat``'s ``within``). JAX's
semantics follow: a ``cond`` with a batched predicate computes every branch for every
example, and a batched ``while_loop`` runs every example until all are done (the finished
ones' carries frozen), so their collectives combine every example's values. A loop that no
``vmap`` batches runs on plain arrays: its collective is that of copies.

Derivatives are JAX's under ``vmap``: ``psum`` is linear and its transpose is ``psum`` (and
``all_gather``'s sums the cotangents over the examples, keeping each example's block), so the
gradient of ``psum(g(x), "i")`` with respect to one example's ``x`` collects the cotangents of
every example: ``vmap(grad(f), axis_name="i")`` equals ``grad`` of the sum over the examples of
``f``. ``pmax`` and ``pmin`` have no derivative (JAX's neither). ``functrans.distributed.psum``,
over MPI processes instead of a batch, follows ``shard_map``'s convention instead (a replicated
cotangent is not summed again): see its module.
"""
from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from functrans import errors, tree
from functrans._abstract import dtype_of, shape_of
from functrans.core.primitive import Primitive
from functrans.core.staging import LinearTrace, StagingTrace
from functrans.core.trace import Tracer, capturing, live_traces
from functrans.core.zeros import zero
from functrans.interpreters.batching import AXIS_RULES, NOT_MAPPED, BatchTrace, BatchTracer, bound_axis, looping_over
from functrans.primitives._define import broadcast_in_dim, full_like, reduce_sum, reshape, transpose
from functrans.primitives.conversion import iota_like
from functrans.primitives.elementwise import mul
from functrans.primitives.indexing import IndexArray, gather
from functrans.primitives.reduction import reduce_max, reduce_min
from functrans.typing import PyTree

__all__ = ["psum", "pmean", "pmax", "pmin", "all_gather", "axis_index", "psum_p", "pmax_p",
           "pmin_p", "all_gather_p"]

AxisName = Hashable


def _names(axis_name: Any) -> tuple:
    names = tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)
    if not names:
        raise errors.BatchAxisError("a collective needs at least one axis name")
    return names


def _trace_of(name: Any, what: str) -> BatchTrace:
    trace = bound_axis(name)
    if trace is None:
        raise errors.BatchAxisError(
            f"{what}: the axis name {name!r} is not bound: no enclosing vmap has "
            f"axis_name={name!r}. Name the batch axis the collective reduces over: "
            f"functrans.vmap(f, axis_name={name!r}).")
    return trace


def _unbatched_trace_of(name: Any, what: str) -> BatchTrace:
    """``_trace_of`` for a collective's implementation, which sees plain arrays: the same in
    every example, unless a primitive around it runs example by example (it has no batching
    rule for its arguments), where the examples cannot see each other: refused."""
    trace = _trace_of(name, what)
    looping = looping_over(trace)
    if looping is not None:
        raise errors.BatchAxisError(
            f"lax.{what} over the vmap axis {name!r} inside {looping.name}, which vmap runs "
            f"example by example (it has no batching rule for these arguments), where one "
            f"example cannot see the others. Compute the collective outside it and pass "
            f"the result in (for custom_linear_solve or custom_root, a solver that works on a "
            f"whole batch can be marked with lax.batch_as_block).")
    return trace


def _on_device(trace: BatchTrace, x: Any) -> Any:
    """A Python number as a 0-d array on the device of the batch's arrays, typed as NumPy
    types it beside them (``psum(1.0, "i")`` in a float32 batch is float32): a collective of a
    number must not put its result on the host."""
    like = trace.device_like
    if type(x) in (int, float, complex, bool) and hasattr(like, "dtype"):
        return full_like(like, x, shape=(), dtype=np.result_type(like.dtype, x))  # host-metadata: a dtype
    return x


def _replicated(trace: BatchTrace, x: Any) -> BatchTracer:
    """``x``, the same in every example of ``trace``'s batch, as a value of that batch (a
    collective's result on an argument that does not depend on the batch: a batched value
    keeps a jit staged inside the vmap from folding it into a constant of one batch size)."""
    value = broadcast_in_dim(x, (trace.axis_size, *shape_of(x)), tuple(range(1, len(shape_of(x)) + 1)))
    return BatchTracer(trace, value, 0)


def _check_passed_on(trace: BatchTrace, d: Any, what: str) -> None:
    """A collective passed on by a batch that a rule made without saying over which
    examples (``vmap_flat``'s ``within``) cannot tell which named axis that batch stands
    for: refused rather than reduced over the wrong examples."""
    if not trace.own_axis and d is not NOT_MAPPED:
        raise errors.BatchAxisError(
            f"lax.{what} over a named vmap axis inside {trace.origin}: the batching rule that "
            f"made this batch does not say whose examples it runs (vmap_flat's within=), so "
            f"the collective could reduce over the wrong examples. A rule that batches a body "
            f"passes within=enclosing_batch(); else compute the collective outside the body "
            f"and pass the result in.")


def _mixes(trace: BatchTrace, d: Any) -> None:
    """Count a collective that combines the examples of ``trace`` (``collectives_over``)."""
    if d is not NOT_MAPPED:
        trace.collectives[0] += 1


#: How each collective treats a value that is the same in every example:
#: ``of_copies(x, size, **params)``.
_OF_COPIES: dict[Primitive, Any] = {}

_BOUND = [0]  # collectives handed to a transformation so far (``collectives_bound``)


def collectives_bound() -> int:
    """How many collectives were handed to a transformation so far (recorded in a program,
    or batched): a rule compares the counts before and after it records a sub-program to
    learn whether that program combines the examples of a ``vmap``.

    Example:
        >>> import numpy as np, functrans as ft
        >>> from functrans import lax
        >>> before = collectives_bound()
        >>> _ = ft.vmap(lambda x: lax.psum(x, "i"), axis_name="i")(np.ones(2))
        >>> collectives_bound() > before
        True
    """
    return _BOUND[0]


#: How a reduction treats a Python number: ``of_number(x, size)``, a Python number again.
_OF_NUMBERS: dict[Primitive, Any] = {}
_NUMBERS = (int, float, complex)


def _recorded_inside(trace: BatchTrace) -> bool:
    """Whether a recording (``jit``, a loop's body) runs inside the batch of ``trace``: a
    program recorded there may be replayed on batches of other sizes, so a collective must
    not leave the size in it as a constant. (The linear recording of a ``grad`` is made and
    used within one call.)"""
    live = live_traces()
    return any(isinstance(t, StagingTrace) and not isinstance(t, LinearTrace)
               for t in live[live.index(trace) + 1:])


def _apply(prim: Primitive, x: Any, axis_name: tuple, level: int | None = None, **params: Any) -> Any:
    """``prim`` over the named axes of ``x``, as every entry point and rule applies it. A
    value of a transformation that encloses a named vmap (an outer grad's or jit's, made
    before the vmap began) is the same in every example of that vmap: its collective is
    computed here from copies, since binding would hand the primitive to that outer
    transformation, which does not know the name. So is a plain array's, made a value of
    the batch (``_replicated``), and, given the ``level`` of the batch it stands for (a
    batch's value passed on by its rule), a value of a batch made outside the named vmap."""
    kept = []
    for n in axis_name:
        trace = _trace_of(n, prim.name)
        if type(x) in _NUMBERS and prim in _OF_NUMBERS and not _recorded_inside(trace):
            x = _OF_NUMBERS[prim](x, trace.axis_size)
        elif not isinstance(x, Tracer):
            with capturing(None):  # (a value of the batch, not of a cond branch recorded in it)
                x = _replicated(trace, _OF_COPIES[prim](_on_device(trace, x), trace.axis_size, **params))
        elif x._trace.level < trace.level or (level is not None and level < trace.level):
            x = _OF_COPIES[prim](x, trace.axis_size, **params)
        else:
            kept.append(n)
    if not kept:
        return x
    _BOUND[0] += 1
    return prim.bind(x, axis_name=tuple(kept), **params)


class _Collective(Primitive):
    """The primitive of a collective: bound to a value of a transformation that encloses the
    named vmap (a jit's, when a body the vmap batches is replayed on a value the body shares
    by every example), it is computed from copies, as ``_apply`` does, rather than recorded
    by that transformation, which does not know the name."""

    def bind(self, *args: Any, **params: Any) -> Any:
        x = args[0]
        if isinstance(x, Tracer) and "axis_name" in params:
            for n in params["axis_name"]:
                trace = bound_axis(n)
                if trace is not None and x._trace.level < trace.level:
                    return _apply(self, x, **params)
        return super().bind(*args, **params)


# --- psum, pmax, pmin ----------------------------------------------------------------------

def _reduction_primitive(name: str, reduce: Any, of_copies: Any) -> Primitive:
    """A reduction over named axes: ``reduce(value, axes)`` reduces a batch along an axis,
    ``of_copies(x, size)`` is the reduction of ``size`` copies of ``x``."""
    prim = _Collective(name)

    def impl(x: Any, *, axis_name: tuple) -> Any:
        # (a recorded loop step run on arrays no vmap batches: the reduction of as many
        # copies as the batch holds)
        out = x
        for n in axis_name:
            trace = _unbatched_trace_of(n, name)
            out = of_copies(_on_device(trace, out), trace.axis_size)
        return out

    def batch(trace: BatchTrace, values: list, dims: list, *, axis_name: tuple) -> tuple:
        (x,), (d,) = values, dims
        if trace.axis_name not in axis_name:  # another vmap's name: passed on to it
            _check_passed_on(trace, d, name)
            return _apply(prim, x, axis_name, trace.examples_level), d
        rest = tuple(n for n in axis_name if n != trace.axis_name)
        _mixes(trace, d)
        out = of_copies(x, trace.axis_size) if d is NOT_MAPPED else reduce(x, (d,))
        return (_apply(prim, out, rest, trace.examples_level) if rest else out), NOT_MAPPED

    prim.impl = impl
    prim.shape_rule = lambda x, *, axis_name: (shape_of(x), dtype_of(x))
    AXIS_RULES[prim] = batch
    _OF_COPIES[prim] = of_copies
    return prim


psum_p = _reduction_primitive("psum", reduce_sum, lambda x, n: mul(x, n))
pmax_p = _reduction_primitive("pmax", reduce_max, lambda x, n: x)
pmin_p = _reduction_primitive("pmin", reduce_min, lambda x, n: x)
# A Python number's collective is a Python number, weakly typed as the number is (JAX's
# psum(1, "i") is the batch size as a weak int): x32 * psum(1, "i") stays float32.
_OF_NUMBERS.update({psum_p: lambda x, n: x * n, pmax_p: lambda x, n: x, pmin_p: lambda x, n: x})


def _psum_jvp(primals: tuple, tangents: tuple, *, axis_name: tuple) -> tuple:
    (x,), (t,) = primals, tangents
    out = _apply(psum_p, x, axis_name)
    return out, (zero if t is zero else _apply(psum_p, t, axis_name))


psum_p.jvp = _psum_jvp
psum_p.transpose = lambda ct, x, *, axis_name: (
    zero if ct is zero else _apply(psum_p, ct, axis_name),)


def _no_derivative(name: str) -> Any:
    def jvp(primals: tuple, tangents: tuple, **params: Any) -> tuple:
        raise errors.UnsupportedError(
            f"lax.{name} has no derivative (as in JAX). To differentiate the largest or "
            f"smallest value over the batch, gather it (lax.all_gather) and use fnp.max or "
            f"fnp.min, whose derivatives are defined.")
    return jvp


pmax_p.jvp = _no_derivative("pmax")
pmin_p.jvp = _no_derivative("pmin")


def _tree_collective(prim: Primitive, x: PyTree, axis_name: Any, what: str) -> PyTree:
    names = _names(axis_name)
    for n in names:
        _trace_of(n, what)  # an unbound name is an error even on an argument no vmap batches
    return tree.map(lambda leaf: _apply(prim, leaf, names), x)


def psum(x: PyTree, axis_name: AxisName | tuple) -> PyTree:
    """The sum of ``x`` (a pytree) over the examples of the ``vmap`` whose ``axis_name`` is
    given (or over several, given a tuple of names): the same value in every example.

    Its derivative is JAX's under ``vmap``: the transpose of ``psum`` is ``psum``. Of a Python
    number it is a Python number (``psum(1, "i")`` is the batch size), weakly typed as in JAX,
    except in a ``jit`` or loop body recorded inside the ``vmap``, where it is an array of the
    batch's dtype, so that the recording does not keep one batch's size.

    Example:
        >>> import numpy as np, functrans as ft
        >>> from functrans import lax
        >>> ft.vmap(lambda x: x / lax.psum(x, "i"), axis_name="i")(np.array([1.0, 3.0]))
        array([0.25, 0.75])
        >>> ft.vmap(lambda x: x * lax.psum(1, "i"), axis_name="i")(np.ones(2, np.float32))
        array([2., 2.], dtype=float32)
    """
    return _tree_collective(psum_p, x, axis_name, "psum")


def pmean(x: PyTree, axis_name: AxisName | tuple) -> PyTree:
    """The mean of ``x`` over the examples of the named ``vmap`` axis (or axes): ``psum``
    divided by the number of examples.

    Example:
        >>> import numpy as np, functrans as ft
        >>> from functrans import lax
        >>> ft.vmap(lambda x: x - lax.pmean(x, "i"), axis_name="i")(np.array([1.0, 3.0]))
        array([-1.,  1.])
    """
    names = _names(axis_name)
    count = 1
    for n in names:
        count *= _trace_of(n, "pmean").axis_size
    return tree.map(lambda s: s / count, psum(x, names))


def pmax(x: PyTree, axis_name: AxisName | tuple) -> PyTree:
    """The elementwise largest value of ``x`` over the examples of the named ``vmap`` axis
    (or axes). It has no derivative, as in JAX.

    Example:
        >>> import numpy as np, functrans as ft
        >>> from functrans import lax
        >>> ft.vmap(lambda x: lax.pmax(x, "i"), axis_name="i")(np.array([1.0, 3.0]))
        array([3., 3.])
    """
    return _tree_collective(pmax_p, x, axis_name, "pmax")


def pmin(x: PyTree, axis_name: AxisName | tuple) -> PyTree:
    """The elementwise smallest value of ``x`` over the examples of the named ``vmap`` axis
    (or axes). It has no derivative, as in JAX.

    Example:
        >>> import numpy as np, functrans as ft
        >>> from functrans import lax
        >>> ft.vmap(lambda x: lax.pmin(x, "i"), axis_name="i")(np.array([1.0, 3.0]))
        array([1., 1.])
    """
    return _tree_collective(pmin_p, x, axis_name, "pmin")


# --- axis_index ----------------------------------------------------------------------------

def axis_index(axis_name: AxisName) -> Any:
    """The position of the current example in the batch of the ``vmap`` named ``axis_name``
    (an integer array: 0, 1, ... across the batch).

    Example:
        >>> import numpy as np, functrans as ft
        >>> from functrans import lax
        >>> ft.vmap(lambda x: x * lax.axis_index("i"), axis_name="i")(np.ones(3))
        array([0., 1., 2.])
    """
    trace = _trace_of(axis_name, "axis_index")
    with capturing(None):  # (a value of the batch, not of a cond branch recorded in it)
        return BatchTracer(trace, iota_like(trace.device_like, trace.axis_size), 0)


# --- all_gather ----------------------------------------------------------------------------

all_gather_p = _Collective("all_gather")


def _gathered_shape(shape: tuple, size: int, axis: int, tiled: bool) -> tuple:
    if tiled:
        return (*shape[:axis], size * shape[axis], *shape[axis + 1:])
    return (*shape[:axis], size, *shape[axis:])


def _stack_copies(x: Any, size: int, axis: int, tiled: bool) -> Any:
    shape = shape_of(x)
    copies = broadcast_in_dim(x, (*shape[:axis], size, *shape[axis:]),
                              tuple(i if i < axis else i + 1 for i in range(len(shape))))
    return reshape(copies, _gathered_shape(shape, size, axis, tiled)) if tiled else copies


def _all_gather_impl(x: Any, *, axis_name: tuple, axis: int, tiled: bool) -> Any:
    trace = _unbatched_trace_of(axis_name[0], "all_gather")
    return _stack_copies(_on_device(trace, x), trace.axis_size, axis, tiled)


def _all_gather_batch(trace: BatchTrace, values: list, dims: list, *, axis_name: tuple,
                      axis: int, tiled: bool) -> tuple:
    (x,), (d,) = values, dims
    if trace.axis_name != axis_name[0]:  # another vmap's name: passed on to it
        _check_passed_on(trace, d, "all_gather")
        level = trace.examples_level
        if d is NOT_MAPPED:
            return _apply(all_gather_p, x, axis_name, level, axis=axis, tiled=tiled), NOT_MAPPED
        inner = axis if axis < d else axis + 1  # the gathered axis among the batch's axes
        out_dim = d + 1 if inner <= d and not tiled else d
        return _apply(all_gather_p, x, axis_name, level, axis=inner, tiled=tiled), out_dim
    if d is NOT_MAPPED:
        return _stack_copies(x, trace.axis_size, axis, tiled), NOT_MAPPED
    _mixes(trace, d)
    # the batch axis is the gathered one: moved into place (and merged with the next, tiled)
    shape = shape_of(x)
    per_example = shape[:d] + shape[d + 1:]
    order = [i for i in range(len(shape)) if i != d]
    order.insert(axis, d)
    moved = x if order == list(range(len(shape))) else transpose(x, tuple(order))
    if tiled:
        moved = reshape(moved, _gathered_shape(per_example, trace.axis_size, axis, True))
    return moved, NOT_MAPPED


def _all_gather_jvp(primals: tuple, tangents: tuple, **params: Any) -> tuple:
    (x,), (t,) = primals, tangents
    out = _apply(all_gather_p, x, **params)
    return out, (zero if t is zero else _apply(all_gather_p, t, **params))


def _all_gather_transpose(ct: Any, x: Any, *, axis_name: tuple, axis: int, tiled: bool) -> tuple:
    """The cotangents of every example summed, and this example's block of the sum taken."""
    if ct is zero:
        return (zero,)
    total = _apply(psum_p, ct, axis_name)
    if tiled:  # the gathered axis split into (examples, the example's own length)
        shape = shape_of(x)
        examples = shape_of(total)[axis] // shape[axis]
        total = reshape(total, (*shape[:axis], examples, shape[axis], *shape[axis + 1:]))
    me = axis_index(axis_name[0])
    return (gather(total, (slice(None),) * axis + (IndexArray(0),), (me,)),)


all_gather_p.impl = _all_gather_impl
all_gather_p.shape_rule = lambda x, *, axis_name, axis, tiled: (
    _gathered_shape(shape_of(x), _trace_of(axis_name[0], "all_gather").axis_size, axis, tiled),
    dtype_of(x))
all_gather_p.jvp = _all_gather_jvp
all_gather_p.transpose = _all_gather_transpose
AXIS_RULES[all_gather_p] = _all_gather_batch
_OF_COPIES[all_gather_p] = _stack_copies


def all_gather(x: PyTree, axis_name: AxisName, *, axis: int = 0, tiled: bool = False) -> PyTree:
    """Every example's ``x`` (a pytree) over the ``vmap`` named ``axis_name``, stacked along a
    new axis ``axis`` (or, ``tiled=True``, concatenated along the existing axis ``axis``): the
    same value in every example.

    Example:
        >>> import numpy as np, functrans as ft
        >>> from functrans import lax
        >>> ft.vmap(lambda x: lax.all_gather(x, "i"), axis_name="i")(np.array([1.0, 3.0]))
        array([[1., 3.],
               [1., 3.]])
    """
    if isinstance(axis_name, (tuple, list)):
        raise errors.BatchAxisError("all_gather gathers over one named axis: give one name")
    _trace_of(axis_name, "all_gather")

    def one(leaf: Any) -> Any:
        ndim = len(shape_of(leaf))
        if not (-(ndim + (not tiled)) <= axis < ndim + (not tiled)) or (tiled and ndim == 0):
            raise errors.BatchAxisError(
                f"all_gather: axis={axis} is out of range for a value of shape "
                f"{tuple(shape_of(leaf))}" + (" (tiled=True needs an axis to concatenate along)"
                                               if tiled else ""))
        return _apply(all_gather_p, leaf, (axis_name,), axis=axis % (ndim + (not tiled)), tiled=tiled)
    return tree.map(one, x)
