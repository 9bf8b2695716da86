"""Vectorising map: ``BatchTrace`` runs a per-example function on a whole batch at once.

A ``BatchTracer`` stands for one example, but holds the whole batch underneath: ``value`` is
an array (or a tracer of an outer transformation) with one extra axis, at position
``batch_dim``, running over the examples. Its ``shape`` is the per-example shape. When a
primitive meets batch tracers, its batching rule ``prim.batch(values, dims, **params)``
computes the batched result directly (one matrix product instead of a loop of vector
products) and says where the batch axis of the result is. Arguments that are not batched
arrive with dimension ``None`` (``NOT_MAPPED``).

A primitive without a batching rule, or whose rule returns ``NotImplemented`` for the
arguments at hand, is applied example by example (``batch_by_loop``: correct, slow). The
helpers for writing batching rules are in ``functrans.primitives._define``.

A ``vmap`` may name its batch axis (``axis_name``): the collectives over that axis
(``functrans.lax.psum`` and its kin) have rules in ``AXIS_RULES``, which also take the trace,
so that they reduce over the batch whose name they were given and pass the others on. A rule
that batches the body of a loop or branch runs it under a batch of its own over the same
examples (``vmap_flat(..., within=enclosing_batch())``): that batch takes the name, so a
collective in the body reduces over those examples too.
"""
from __future__ import annotations

import threading

import numpy as np

from functrans import errors
from functrans.core.trace import Trace, Tracer, check_foreign_tracer, index_refused, live_traces, new_trace
from functrans.primitives._define import NOT_MAPPED, batch_size, full_like, to_front
from functrans.primitives.indexing import gather
from functrans.primitives.shape import concatenate, expand_dims


class BatchTracer(Tracer):
    """One example of a batch: ``value`` carries the batch axis at ``batch_dim``."""

    __slots__ = ("value", "batch_dim")

    def __init__(self, trace, value, batch_dim: int):
        self._trace = trace
        self.value = value
        self.batch_dim = batch_dim

    @property
    def shape(self):
        shape = self.value.shape
        d = self.batch_dim
        return shape[:d] + shape[d + 1:]

    @property
    def dtype(self):
        return self.value.dtype

    def to_concrete(self):
        raise errors.TracerConversionError(
            f"A value inside {self._trace.origin} stands for a whole batch of values (shape "
            f"{self.shape} per example, dtype {self.dtype}), so Python control flow (if, while, "
            "bool(), float(), int()) cannot depend on it: each example may need a different "
            "branch. Choose values element by element with functrans.numpy.where(cond, a, b) "
            "instead of `if`, or move the Python decision outside the vmapped function."
        )

    def __array__(self, dtype=None, copy=None):
        if index_refused(self):  # NumPy indexing by it: that error names the fix
            return Tracer.__array__(self, dtype, copy)
        raise errors.TracerConversionError(
            f"Converting a value inside {self._trace.origin} to a NumPy array (np.asarray, "
            "np.array, or a NumPy function without a functrans version) cannot work: it stands "
            f"for a whole batch of values (shape {self.shape} per example, dtype {self.dtype}), "
            "and NumPy would compute on one array without knowing which axis is the batch. Use "
            "functrans.numpy (import functrans.numpy as fnp) for array operations inside the "
            "vmapped function."
            + (" If it is an index into a NumPy array (table[i]), write fnp.getitem(table, i) "
               "or fnp.take(table, i, axis=0): NumPy's own indexing cannot take a traced "
               "index." if self.dtype.kind in "iu" else "")
        )

    def __repr__(self):
        return f"BatchTracer<{self._trace.origin}>(shape={self.shape}, batch_dim={self.batch_dim})"


#: The batching rules of the primitives that depend on the batch's name (collectives over a
#: named axis): ``rule(trace, values, dims, **params)``.
AXIS_RULES: dict = {}


class _Active(threading.local):
    mask = None
    trace = None  # the batch trace whose rule runs
    looping: tuple = ()  # (batch trace, primitive) running example by example


_active = _Active()
#: Batch traces running now, in any thread, whose rules need to know them: those with an
#: ``active`` mask or an axis name (while none runs, rules are called without bookkeeping).
_CONTEXT_TRACES = [0]


def active_examples():
    """In a batching rule: which examples run the computation at hand, a boolean array with
    one entry per example (``None``: all of them). A branch of a ``cond`` with a batched
    predicate runs on the whole batch, but only the examples that take it run it: a loop in
    that branch must not wait for the others to finish.

    Example:
        >>> active_examples() is None  # (outside any batching rule)
        True
    """
    return _active.mask


class BatchTrace(Trace):
    """Processes primitives on batch tracers by their batching rules."""

    __slots__ = ("axis_size", "axis_name", "own_axis", "device_like", "active", "collectives",
                 "examples_level")

    def __init__(self, level, origin):
        super().__init__(level, origin)
        self.axis_size = None
        self.axis_name = None
        # which examples the batch stands for is known: a batch of its own (a user's vmap, a
        # Jacobian's basis), or a rule's batching of a body over the examples of such a batch
        self.own_axis = False
        self.device_like = 0  # (a named batch's: one of its arrays, for its examples' positions)
        self.active = None
        # how many collectives over these examples were computed so far: one count shared by
        # the batches of the same examples (``collectives_over``)
        self.collectives = [0]
        # the level of the batch that made these examples (a vmap inside it, of higher level,
        # sees every value of this batch as the same in all its own examples)
        self.examples_level = level

    def process_primitive(self, prim, args, params):
        values = []
        dims = []
        for arg in args:
            if type(arg) is BatchTracer and arg._trace is self:
                values.append(arg.value)
                dims.append(arg.batch_dim)
            else:
                if isinstance(arg, Tracer):  # an outer transformation's: check it is one
                    check_foreign_tracer(self, arg)
                values.append(arg)
                dims.append(NOT_MAPPED)
        if prim in AXIS_RULES:
            result = AXIS_RULES[prim](self, values, dims, **params)
        else:
            rule = prim.batch
            if rule is None:
                result = NotImplemented
            elif not _CONTEXT_TRACES[0]:
                result = rule(values, dims, **params)
            else:  # the rule sees this trace (active_examples, enclosing_batch)
                outer = _active.mask, _active.trace
                _active.mask, _active.trace = self.active, self
                try:
                    result = rule(values, dims, **params)
                finally:
                    _active.mask, _active.trace = outer
        if result is NotImplemented:
            if not _CONTEXT_TRACES[0]:
                result = batch_by_loop(prim, values, dims, self.axis_size, params)
            else:  # (a collective there cannot see the other examples: looping_over)
                outer_loops = _active.looping
                _active.looping = (*outer_loops, (self, prim))
                try:
                    result = batch_by_loop(prim, values, dims, self.axis_size, params)
                finally:
                    _active.looping = outer_loops
        out, out_dim = result
        if prim.multiple_results:
            return [o if d is NOT_MAPPED else BatchTracer(self, o, d) for o, d in zip(out, out_dim)]
        if out_dim is NOT_MAPPED:
            return out
        return BatchTracer(self, out, out_dim)


def enclosing_batch() -> BatchTrace | None:
    """In a batching rule: the batch trace whose rule runs, for the batches the rule makes of
    the primitive's bodies over the same examples (``vmap_flat``'s ``within``); ``None``
    when no running batch has a name or an active mask (nothing to take from it).

    Example:
        >>> enclosing_batch() is None  # (outside any batching rule)
        True
    """
    return _active.trace


def collectives_over(trace: BatchTrace | None) -> int:
    """How many collectives over the examples of ``trace`` (``lax.psum`` and its kin) were
    computed so far, in it or in the batches rules made of bodies over those examples: a
    rule compares the counts before and after it batches a body to learn whether the body
    combines the examples (then every example must run it as the others see it).

    Example:
        >>> collectives_over(None)
        0
    """
    return 0 if trace is None else trace.collectives[0]


def looping_over(trace: BatchTrace):
    """The primitive, if any, that a batch runs example by example (``batch_by_loop``) over
    the examples of ``trace``: a collective over them computed there would see one example.

    Example:
        >>> looping_over(BatchTrace(0, "demo")) is None
        True
    """
    return next((p for t, p in _active.looping if t.collectives is trace.collectives), None)


def name_within(within: BatchTrace | None):
    """The axis name of a batch a rule makes over the examples of ``within``
    (``vmap_flat``): ``within``'s, unless another vmap of that name runs inside it, which a
    collective in the body then means (the batch is unnamed and passes it on).

    Example:
        >>> name_within(None) is None
        True
    """
    if within is None or within.axis_name is None:
        return None
    bound = bound_axis(within.axis_name)
    return within.axis_name if bound is None or bound.collectives is within.collectives else None


def vmap_flat(fun, values, dims, axis_size: int, origin: str, axis_name=None,
              own_axis: bool = False, active=None, within: BatchTrace | None = None):
    """Batching on flat lists: ``fun(list_of_values) -> list_of_outputs`` run once on whole
    batches, ``values[i]`` batched along axis ``dims[i]`` (``NOT_MAPPED``: the same for every
    example) over ``axis_size`` examples, the batch axis named ``axis_name`` (or unnamed).
    ``own_axis``: the batch knows whose examples it runs (a user's ``vmap``, a Jacobian's
    basis; a rule's batch of a body knows through ``within``). ``active``, a boolean array with one entry per example,
    marks the examples that run ``fun`` (``None``: all; see ``active_examples``).
    ``within``, the trace of a rule batching a body of its primitive over that trace's
    examples (``enclosing_batch``): the batch takes its name, so that a collective in the
    body reduces over those examples. Returns the outputs and the batch axis of each
    (``NOT_MAPPED`` for an output that does not depend on the batch)."""
    shared = None
    if within is not None and within.axis_size == axis_size and within.own_axis:
        own_axis, shared, axis_name = True, within.collectives, name_within(within)
    with new_trace(BatchTrace, origin) as trace:
        trace.axis_size = axis_size
        trace.axis_name = axis_name
        trace.own_axis = own_axis
        trace.active = active
        if shared is not None:
            trace.collectives = shared
            trace.examples_level = within.examples_level
        if axis_name is not None:
            trace.device_like = next((v for v, d in zip(values, dims) if d is not NOT_MAPPED), 0)
        tracers = [v if d is NOT_MAPPED else BatchTracer(trace, v, d) for v, d in zip(values, dims)]
        context = active is not None or axis_name is not None
        if context:
            _CONTEXT_TRACES[0] += 1
        try:
            results = list(fun(tracers))
        finally:
            if context:
                _CONTEXT_TRACES[0] -= 1
        outs, out_dims = [], []
        for out in results:
            if type(out) is BatchTracer and out._trace is trace:
                outs.append(out.value)
                out_dims.append(out.batch_dim)
            else:
                outs.append(out)
                out_dims.append(NOT_MAPPED)
    return outs, out_dims


def bound_axis(name) -> BatchTrace | None:
    """The innermost running ``vmap`` of this thread whose batch axis is named ``name``.

    Example:
        >>> bound_axis("i") is None  # (no vmap named "i" runs)
        True
    """
    for trace in reversed(live_traces()):
        if type(trace) is BatchTrace and trace.axis_name is not None and trace.axis_name == name:
            return trace
    return None


class _Abstract:
    """A shape and dtype standing for an array, for shape rules (empty batches)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self):
        return len(self.shape)


def batch_by_loop(prim, values, dims, size, params):
    """The fallback for a primitive without a batching rule: apply it example by example
    and stack the results along a new leading axis."""
    if size is None:
        size = batch_size(values, dims)
    moved = [v if d is NOT_MAPPED else to_front(v, d) for v, d in zip(values, dims)]
    if size == 0:
        per_example = [v if d is NOT_MAPPED else _Abstract(v.shape[1:], v.dtype)
                       for v, d in zip(moved, dims)]
        rule_out = prim.shape_rule(*per_example, **params)
        like = next(v for v, d in zip(moved, dims) if d is not NOT_MAPPED)
        outs = rule_out if prim.multiple_results else [rule_out]
        zeros = [full_like(like, 0, shape=(0,) + tuple(s), dtype=dt) for s, dt in outs]
        return (zeros, [0] * len(zeros)) if prim.multiple_results else (zeros[0], 0)
    results = []
    for i in range(size):
        args = [v if d is NOT_MAPPED else gather(v, (i,)) for v, d in zip(moved, dims)]
        results.append(prim.bind(*args, **params))
    if prim.multiple_results:
        columns = list(zip(*results))
        return [_stack(c) for c in columns], [0] * len(columns)
    return _stack(results), 0


def _stack(xs):
    return concatenate([expand_dims(x, (0,)) for x in xs], 0)
