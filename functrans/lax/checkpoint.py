"""The primitives behind rematerialisation (``functrans.checkpoint``): ``checkpoint_call``
and ``checkpoint_linear``.

A checkpointed call runs the user's function once, recording every primitive it applies
(``RecordingTrace``: the values are computed as usual, and the equations kept as a
``Program`` without any intermediate value); every later evaluation of that call replays the
recorded program, never the Python function. So a function that draws from a stateful random
generator, or has any other side effect, gets its value and its derivatives from one run,
and its side effects happen once per call.

Under linearize (``grad``, ``vjp``) the call runs (and is recorded) without a tangent
program, so none of its intermediate values is kept, and one equation, ``checkpoint_linear``,
holds the call's inputs and the recorded program. In the backward pass that equation's
transpose linearizes the program again from those inputs and transposes the fresh linear
program at once, so the intermediates of one checkpointed block live only while its own
cotangents are computed. The price is one more forward evaluation of the block.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from functrans._abstract import dtype_of, shape_of
from functrans.config import config
from functrans.core.flatten import FlatFun
from functrans.core.ir import Eqn, Program, Var, is_linear
from functrans.core.primitive import Primitive
from functrans.core.staging import StagingTrace, eval_program, user_source
from functrans.core.trace import Tracer, current_scope, named_scope, new_trace
from functrans.core.zeros import zero
from functrans.interpreters.jvp import jvp_flat
from functrans.interpreters.linearize import linearize_flat
from functrans.interpreters.transpose import transpose_program
from functrans.lax._body import batched, output_avals
from functrans.primitives import full_like_p
from functrans.primitives._define import batch_size, bdim_at_front

_NO_PARAMS: dict = {}


class RecordingTracer(Tracer):
    """A value being computed (``value``: an array, or a tracer of an outer transformation)
    and the variable (``var``) that stands for it in the program being recorded."""

    __slots__ = ("value", "var")

    def __init__(self, trace: RecordingTrace, value: Any, var: Var):
        self._trace = trace
        self.value = value
        self.var = var

    @property
    def shape(self) -> tuple:
        return self.var.shape

    @property
    def dtype(self) -> Any:
        return self.var.dtype

    def to_concrete(self) -> Any:
        value = self.value
        return value.to_concrete() if isinstance(value, Tracer) else value

    def __repr__(self) -> str:
        return f"Traced<{self._trace.origin}>({self.value!r})"


class RecordingTrace(StagingTrace):
    """Computes every primitive applied to its tracers, on their values, and records it as an
    equation of their variables: a run of the function and its program at once. Values stay
    concrete where they were, so Python control flow works as in the unrecorded function (the
    program is only ever replayed at the inputs it was recorded at)."""

    __slots__ = ()

    def process_primitive(self, prim: Primitive, args: Sequence, params: dict) -> Any:
        values = []
        arg_vars = []
        for arg in args:
            if type(arg) is RecordingTracer and arg._trace is self:
                values.append(arg.value)
                arg_vars.append(arg.var)
            else:
                values.append(arg)
                arg_vars.append(arg)
        out = prim.bind(*values, **params)
        results = out if prim.multiple_results else (out,)
        n = self.num_vars
        out_vars = tuple(Var(self, tuple(shape_of(r)), dtype_of(r), n + i) for i, r in enumerate(results))
        self.num_vars = n + len(out_vars)
        source = user_source() if config.staging_source_info else None
        self.eqns.append(Eqn(prim, tuple(arg_vars), params or _NO_PARAMS, out_vars, source,
                             current_scope()))
        tracers = [RecordingTracer(self, r, v) for r, v in zip(results, out_vars)]
        return tracers if prim.multiple_results else tracers[0]


def record(body: Callable[[list], Sequence], leaves: Sequence, origin: str) -> tuple[list, Program]:
    """Run ``body`` on ``leaves`` and record it: returns its outputs and the ``Program`` that
    computes them from the leaves (no intermediate value is kept in it).

    Example:
        >>> import numpy as np
        >>> from functrans.primitives import sin_p
        >>> outs, program = record(lambda xs: [sin_p.bind(xs[0])], [np.zeros(2)], "example")
        >>> outs, [eqn.prim.name for eqn in program.eqns]
        ([array([0., 0.])], ['sin'])
    """
    with new_trace(RecordingTrace, origin) as trace:
        in_vars = [trace.new_var(tuple(shape_of(x)), dtype_of(x)) for x in leaves]
        outs = list(body([RecordingTracer(trace, x, v) for x, v in zip(leaves, in_vars)]))
    values = []
    out_vars = []
    for out in outs:
        if type(out) is RecordingTracer and out._trace is trace:
            values.append(out.value)
            out_vars.append(out.var)
        else:  # an output that does not depend on the inputs: a constant of the program
            values.append(out)
            out_vars.append(out)
    return values, Program(trace, in_vars, trace.eqns, out_vars)


class CheckpointCall:
    """The ``call`` parameter: one call of a checkpointed function, on flat leaves.

    ``flat`` is the checkpointed function (it remembers the output structure); ``fun_flat``
    runs the body (``flat`` itself, or a batched version of it) the first time, recording it,
    and replays the recorded ``program`` every later time.
    """

    def __init__(self, flat: FlatFun, fun_flat: Callable[[list], Sequence] | None = None):
        self.flat = flat
        self.name = f"checkpoint({flat.name})"
        self._body: Callable[[list], Sequence] | None = fun_flat or flat
        self.program: Program | None = None
        self._frees: list[tuple[int, ...]] | None = None

    def fun_flat(self, leaves: Sequence) -> list:
        with named_scope(self.name):
            if self.program is None:
                assert self._body is not None
                outs, self.program = record(self._body, list(leaves), self.name)
                self._body = None  # never run again: the program stands for it
                return outs
            if self._frees is None:
                self._frees = _last_uses(self.program)
            return _replay(self.program, leaves, self._frees)

    def __repr__(self) -> str:
        return self.flat.name


def _last_uses(program: Program) -> list[tuple[int, ...]]:
    """For each equation, the variables (by index) read for the last time there, outputs
    excepted."""
    trace = program.trace
    keep = {o.index for o in program.outs if type(o) is Var and o._trace is trace}
    last: dict[int, int] = {}
    for position, eqn in enumerate(program.eqns):
        for a in eqn.args:
            if type(a) is Var and a._trace is trace and a.index not in keep:
                last[a.index] = position
    frees: list[list[int]] = [[] for _ in program.eqns]
    for index, position in last.items():
        frees[position].append(index)
    return [tuple(f) for f in frees]


def _replay(program: Program, inputs: Sequence, frees: list[tuple[int, ...]]) -> list:
    """``eval_program``, each value dropped after its last use: a block's intermediates live
    no longer than they did when the function ran, while its backward pass recomputes it."""
    return eval_program(program, inputs, frees=frees)


# --- checkpoint_call: the checkpointed function applied to traced arguments ------------------
def _checkpoint_call_jvp(primals, tangents, *, call):
    live = [t for t in tangents if t is not zero]
    if not all(is_linear(t) for t in live):  # forward mode: nothing is stored anyway
        return jvp_flat(call.fun_flat, primals, tangents, f"jvp({call.name})")
    outs = call.fun_flat(primals)  # plain evaluation: nothing recorded
    positions = tuple(i for i, t in enumerate(tangents) if t is not zero)
    out_avals = tuple((tuple(shape_of(o)), dtype_of(o)) for o in outs)
    # the primals are arguments (values of the linear equation, not linear inputs), so that a
    # recording around this one (a scan's step, jit) sees them as the operands they are
    t_outs = checkpoint_linear_p.bind(*primals, *live, call=call, num_primals=len(primals),
                                      positions=positions, out_avals=out_avals)
    return outs, [t if dtype_of(o).kind in "fc" else zero for o, t in zip(outs, t_outs)]


def _checkpoint_call_batch(values, dims, *, call):
    size = batch_size(values, dims)
    moved = [bdim_at_front(v, d, size) for v, d in zip(values, dims)]
    body = CheckpointCall(call.flat, batched(call.fun_flat, size, f"vmap({call.name})"))
    outs = checkpoint_call_p.bind(*moved, call=body)
    return outs, [0] * len(outs)


checkpoint_call_p = Primitive("checkpoint_call", multiple_results=True)
checkpoint_call_p.impl = lambda *leaves, call: call.fun_flat(leaves)
checkpoint_call_p.shape_rule = lambda *args, call: output_avals(call.fun_flat, args, call.name)
checkpoint_call_p.jvp = _checkpoint_call_jvp
checkpoint_call_p.batch = _checkpoint_call_batch


# --- checkpoint_linear: the derivative of one call, recomputed when it is transposed ---------
def _checkpoint_linear_impl(*args, call, num_primals, positions, out_avals):
    primals, tangents = args[:num_primals], args[num_primals:]
    full: list = [zero] * len(primals)
    for i, t in zip(positions, tangents):
        full[i] = t
    outs, t_outs = jvp_flat(call.fun_flat, primals, full, f"jvp({call.name})")
    return [full_like_p.bind(o, fill_value=0, shape=tuple(shape), dtype=dtype) if t is zero else t
            for o, t, (shape, dtype) in zip(outs, t_outs, out_avals)]


def _checkpoint_linear_transpose(cts, *args, call, num_primals, positions, out_avals):
    primals = args[:num_primals]
    _, program = linearize_flat(call.fun_flat, list(primals), call.name)
    # consume: each equation (and the residuals it holds) is freed once transposed, instead of
    # waiting for the cycle collector (variables and their trace refer to each other).
    in_cts = transpose_program(program, list(cts), consume=True)
    return (zero,) * num_primals + tuple(in_cts[i] for i in positions)


checkpoint_linear_p = Primitive("checkpoint_linear", multiple_results=True)
checkpoint_linear_p.impl = _checkpoint_linear_impl
checkpoint_linear_p.shape_rule = lambda *args, call, num_primals, positions, out_avals: list(out_avals)
checkpoint_linear_p.transpose = _checkpoint_linear_transpose
