"""The primitives behind rematerialisation (``functrans.checkpoint``): ``checkpoint_call``
and ``checkpoint_linear``.

A checkpointed call runs the user's function once, recording every primitive it applies
(``RecordingTrace``), and binds ``checkpoint_call`` with the recorded ``Program``; every later
evaluation of that call replays the program, never the Python function. So a function that
draws from a stateful random generator, or has any other side effect, gets its value and its
derivatives from one run, and its side effects happen once per call.

The recording computes each primitive on the concrete values of its inputs where they have
them (the primal under ``grad``, ``jvp``), so Python control flow on values works as in the
unrecorded function, and on shapes alone where they do not (under ``jit`` and ``vmap``, where
such control flow raises as usual). The traced values the function reads without taking
them as arguments (tracers of outer transformations it closes over) become inputs of the
program and operands of ``checkpoint_call``, as the arguments are: every outer
transformation sees them, so derivatives with respect to them are right, under ``jit`` too.

Under linearize (``grad``, ``vjp``) the call is evaluated without a tangent program, so none
of its intermediate values is kept, and one equation, ``checkpoint_linear``, holds the call's
operands and the recorded program. In the backward pass that equation's transpose
linearizes the program again from those operands and transposes the fresh linear program at
once, so the intermediates of one checkpointed block live only while its own cotangents are
computed. The price is one more forward evaluation of the block.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from numpy import bool_, generic

from functrans import errors
from functrans._abstract import PY_SCALARS, aval_of, dtype_of, shape_of
from functrans.config import config
from functrans.core.ir import Eqn, Program, Var, is_linear
from functrans.core.primitive import Primitive
from functrans.core.staging import StagingTrace, eval_program, stage, user_source
from functrans.core.trace import (
    Tracer,
    check_foreign_tracer,
    current_scope,
    named_scope,
    new_trace,
    note_index_refused,
)
from functrans.core.zeros import zero
from functrans.interpreters.batching import active_examples, enclosing_batch, vmap_flat
from functrans.interpreters.jvp import JVPTracer, jvp_flat
from functrans.interpreters.linearize import linearize_flat
from functrans.interpreters.simplify import REMATERIALIZED
from functrans.interpreters.transpose import transpose_program
from functrans.lax._body_cache import fingerprint
from functrans.primitives import full_like_p
from functrans.primitives._define import NOT_MAPPED, batch_size, bdim_at_front

_NO_PARAMS: dict = {}


class RecordingTracer(Tracer):
    """A value of the function being recorded: the variable (``var``) standing for it in the
    program, its concrete ``value`` (``None`` where only its shape and dtype are known), and
    ``witness``, an outer tracer it is computed from that decides what converting it to a
    Python value does: for a value without a concrete one, a tracer that has none either
    (its conversions raise the error of its own transformation); for a concrete value, a
    tracer being differentiated (a float made of it would drop its derivative), or ``None``
    when nothing it is computed from is differentiated."""

    __slots__ = ("value", "var", "witness")

    def __init__(self, trace: RecordingTrace, value: Any, var: Var, witness: Any):
        self._trace = trace
        self.value = value
        self.var = var
        self.witness = witness

    @property
    def shape(self) -> tuple:
        return self.var.shape

    @property
    def dtype(self) -> Any:
        return self.var.dtype

    def _unknown(self, convert: Callable[[Any], Any]) -> Any:
        """``convert`` applied to the witness of a value without a concrete one: it raises the
        error of the transformation that makes the value unknown."""
        convert(self.witness)
        return Tracer.to_concrete(self)  # (not reached: the witness has no value either)

    def to_concrete(self) -> Any:
        if self.value is None:
            return self._unknown(lambda w: w.to_concrete())
        return self.value

    def __bool__(self) -> bool:
        if self.value is None:
            return self._unknown(bool)
        return bool(self.value)

    def __int__(self) -> int:
        if self.value is None:
            return self._unknown(int)
        return int(self.value)

    def __index__(self) -> int:
        if self.value is None:
            note_index_refused(self)
            return self._unknown(lambda w: w.__index__())
        return self.value.__index__()

    def __float__(self) -> float:
        return float(self._number("float(x)", float))

    def __complex__(self) -> complex:
        return complex(self._number("complex(x)", complex))

    def item(self, *args: Any) -> Any:
        """The value as a Python scalar (refused where it would drop a derivative)."""
        return self._number("x.item()", lambda w: w.item(*args)).item(*args)

    def tolist(self) -> Any:
        """The value as nested Python lists (refused where it would drop a derivative)."""
        return self._number("x.tolist()", lambda w: w.tolist()).tolist()

    def _number(self, what: str, convert: Callable[[Any], Any]) -> Any:
        """The concrete value, unless it has none or is a float or complex value being
        differentiated (a Python number would drop its derivative)."""
        if self.value is None:
            return self._unknown(convert)
        if self.witness is not None and self.dtype.kind in "fc":
            raise errors.DroppedDerivativeError(
                f"{what} inside {self._trace.origin} on a value differentiated by "
                f"{self.witness._trace.origin} (shape {self.shape}, dtype {self.dtype}) would make "
                "a Python number without its derivative, so the gradient through it would "
                "silently be 0 (this includes math.exp(x) and the like, and storing x into a "
                "NumPy array, B[i] = x). Compute with functrans.numpy instead (fnp.exp(x), "
                "x.at[i].set(v)); if a constant is meant, write float(ft.stop_gradient(x))."
            )
        return self.value

    def __repr__(self) -> str:
        shown = f"shape={self.shape}, dtype={self.dtype}" if self.value is None else repr(self.value)
        return f"Traced<{self._trace.origin}>({shown})"


def _known(x: Tracer) -> tuple[Any, Tracer | None]:
    """``(value, witness)`` for a tracer of an outer transformation read by the function
    being recorded (see ``RecordingTracer``)."""
    try:
        value = x.to_concrete()
    except errors.TracerConversionError:
        return None, x
    if type(x) is RecordingTracer:  # an outer recording (nested checkpoints): its witness
        return value, x.witness
    return value, x if type(x) is JVPTracer else None


class ScalarOrigin:
    """Where an input of a recording standing for a Python scalar comes from, in a recording
    that is differentiated rather than replayed (no ``host_scalar`` steps in it): names it,
    by ``text`` with ``{use}`` in it, when the recording needs its value.

    Example:
        >>> ScalarOrigin("the value of c is needed {use}").message("in an if")
        'the value of c is needed in an if'
    """

    replayed = False

    def __init__(self, text: str):
        self.text = text

    def message(self, use: str) -> str:
        return self.text.format(use=use)


#: A Python scalar that ``grad``, ``vjp`` or ``jvp`` differentiates at without ``jit`` (the
#: primal of their tracer), needed by a recording of a function given that tracer.
_DIFFERENTIATED_SCALAR = ScalarOrigin(
    "the value of a Python scalar being differentiated is needed {use} while a function "
    "taking it is recorded on abstract inputs. Compute with it through functrans.numpy, or "
    "pass it as a NumPy value (np.float64(c)).")

#: A Python scalar argument of a checkpointed function (an input of its recording).
_RECORDED_SCALAR = ScalarOrigin(
    "the value of a Python scalar argument of a checkpointed function is needed {use} while "
    "the function is recorded. Pass it in static_argnums, or compute with it through "
    "functrans.numpy.")


def scalar_origin(x: Tracer) -> tuple | None:
    """What a ``jit`` recording knows of ``x`` standing for a Python scalar argument (see
    ``staging.scalar_kind``), looked up through the primals of outer ``grad``/``jvp``; for a
    tracer of ``grad``/``vjp``/``jvp`` whose primal is a Python scalar (one differentiated
    without ``jit``), its type and ``_DIFFERENTIATED_SCALAR``."""
    while True:
        if type(x) is JVPTracer:
            x = x.primal
        elif type(x) is RecordingTracer:
            x = x.var
        else:
            break
    if type(x) is Var:
        scalars = getattr(x._trace, "scalars", None)
        if scalars:
            return scalars.get(x.index)
    elif type(x) in PY_SCALARS:
        return type(x), _DIFFERENTIATED_SCALAR
    return None


class RecordingTrace(StagingTrace):
    """Records every primitive applied to its tracers as an equation of their variables,
    and computes it on their values where all are concrete (on shapes alone otherwise): a
    run of the function and its program at once. The program is only ever evaluated at the
    inputs it was recorded at (or, under ``vmap``, batches of them), so decisions Python
    took on the values stay right.

    A tracer of an outer transformation met among the arguments of a primitive (one the
    function closes over) becomes an input of the program (``consts``, in order of first use).
    """

    __slots__ = ("consts", "const_inputs", "_lifted")

    def __init__(self, level: int, origin: str):
        super().__init__(level, origin)
        self.consts: list = []
        self.const_inputs: list[RecordingTracer] = []
        self._lifted: dict[int, RecordingTracer] = {}

    def input(self, x: Any) -> RecordingTracer:
        """A new input of the program, standing for ``x`` (an array, a Python scalar, or a
        tracer of an outer transformation). A Python scalar stays weakly typed in the
        recording, as it is when the function runs on it."""
        var = self.new_var(tuple(shape_of(x)), dtype_of(x))
        if type(x) in PY_SCALARS:
            if self.scalars is None:
                self.scalars = {}
            self.scalars[var.index] = (type(x), _RECORDED_SCALAR)
        if not isinstance(x, Tracer):
            return RecordingTracer(self, x, var, None)
        check_foreign_tracer(self, x)
        value, witness = _known(x)
        if value is None:
            info = scalar_origin(x)
            if info is not None:  # stands for the Python scalar it stood for outside
                if self.scalars is None:
                    self.scalars = {}
                self.scalars[var.index] = info
        return RecordingTracer(self, value, var, witness)

    def lift(self, x: Tracer) -> RecordingTracer:
        """The input standing for ``x``, a tracer of an outer transformation that the function
        reads without taking it as an argument."""
        tracer = self._lifted.get(id(x))
        if tracer is None:
            tracer = self._lifted[id(x)] = self.input(x)
            self.consts.append(x)
            self.const_inputs.append(tracer)
        return tracer

    def process_primitive(self, prim: Primitive, args: Sequence, params: dict) -> Any:
        values = []
        arg_vars = []
        unknown = None  # the witness of an argument without a concrete value
        witness = None
        for arg in args:
            if isinstance(arg, Tracer):
                if type(arg) is not RecordingTracer or arg._trace is not self:
                    arg = self.lift(arg)
                if arg.value is None:
                    if unknown is None:
                        unknown = arg.witness
                elif witness is None:
                    witness = arg.witness
                values.append(arg.value)
                arg_vars.append(arg.var)
            else:
                values.append(arg)
                arg_vars.append(arg)
        if unknown is not None:  # recorded from shapes alone, as jit records
            staged = StagingTrace.process_primitive(self, prim, tuple(arg_vars), params)
            out_vars = staged if prim.multiple_results else (staged,)
            tracers = [RecordingTracer(self, None, v, unknown) for v in out_vars]
            return tracers if prim.multiple_results else tracers[0]
        out = prim.bind(*values, **params)
        results = out if prim.multiple_results else (out,)
        n = self.num_vars
        out_vars = tuple(Var(self, tuple(shape_of(r)), dtype_of(r), n + i) for i, r in enumerate(results))
        self.num_vars = n + len(out_vars)
        source = user_source() if config.staging_source_info else None
        self.eqns.append(Eqn(prim, tuple(arg_vars), params or _NO_PARAMS, out_vars, source,
                             current_scope()))
        tracers = [RecordingTracer(self, r, v, witness) for r, v in zip(results, out_vars)]
        return tracers if prim.multiple_results else tracers[0]


_NO_KEY = object()


def _array_constant(a: Any) -> bool:
    """Whether ``a``, an argument or output of a recorded program, is an array it closes over
    (not a variable, a tracer, or a Python or NumPy scalar)."""
    return not isinstance(a, (Var, Tracer, generic, bool, int, float, complex, str, type(None)))


class CheckpointCall:
    """The ``call`` parameter: one call of a checkpointed function, as its recorded
    ``program`` (inputs: the closed-over tracers, then the arguments' leaves).

    ``first`` holds the inputs the function ran on and its outputs, while the first
    evaluation on exactly those inputs (the primal of ``grad``) is still to come: it returns
    them rather than computing them again.
    """

    __slots__ = ("program", "label", "name", "out_avals", "first", "prevent_cse", "_frees", "_captured", "_key")

    def __init__(self, program: Program, label: str, first: tuple[list, list] | None = None,
                 prevent_cse: bool = True):
        self.program = program
        self.label = label
        self.prevent_cse = prevent_cse  # whether jit keeps the recomputation apart
        self.name = f"checkpoint({label})"
        self.out_avals = [aval_of(o) for o in program.outs]
        self.first = first
        self._frees: list[tuple[int, ...]] | None = None
        self._captured = False
        self._key: Any = _NO_KEY

    def key(self) -> tuple | None:
        """The call's structural key, equal for two calls of the same recorded program (the
        same primitives and parameters on inputs of the same shapes and dtypes), so that a
        loop body recording the call at every step or on every call of a training step is
        derived and compiled once; ``None`` when the program reads an array it closes over
        (``capture`` copies those, so only the call itself may stand for them)."""
        if self._key is _NO_KEY:
            self._key = None
            if not any(_array_constant(a) for eqn in self.program.eqns for a in eqn.args) \
                    and not any(_array_constant(o) for o in self.program.outs):
                found = fingerprint(self.program)
                self._key = None if found is None else (self.label, self.prevent_cse, found)
        return self._key

    def __hash__(self) -> int:
        key = self.key()
        return id(self) if key is None else hash(key)

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if type(other) is not CheckpointCall:
            return NotImplemented
        key = self.key()
        return key is not None and key == other.key()

    def capture(self) -> None:
        """Replace the arrays the program reads as constants (arrays the function closes over)
        by copies, once: a call staged into a program (``jit``) captures them by value, as
        the staged program's own constants are, so later in-place edits stay out."""
        if self._captured:
            return
        self._captured = True
        copies: dict[int, Any] = {}

        def captured(x: Any) -> Any:
            if isinstance(x, (Tracer, generic)) or not (hasattr(x, "shape") and hasattr(x, "copy")):
                return x
            kept = copies.get(id(x))
            if kept is None:
                kept = copies[id(x)] = x.copy()
            return kept

        program = self.program
        for eqn in program.eqns:
            eqn.args = tuple(captured(a) for a in eqn.args)
        program.outs = [captured(o) for o in program.outs]

    def replay(self, leaves: Sequence) -> list:
        """The recorded program evaluated on ``leaves``, each intermediate dropped after its
        last use (a block's intermediates live no longer than they did when it ran)."""
        if self._frees is None:
            self._frees = _last_uses(self.program)
        return eval_program(self.program, leaves, scope=self.name, frees=self._frees)

    def __repr__(self) -> str:
        return self.label


def record(body: Callable[[list], Sequence], leaves: Sequence, origin: str) -> tuple[list, Program, list, list]:
    """Run ``body`` (a function of a list of leaves returning a list) on ``leaves``, once,
    recording it.

    Returns its outputs (``None`` for one whose value is not known: under ``jit`` and
    ``vmap``), the ``Program`` that computes them (inputs: one per tracer ``body`` closes
    over, then one per leaf; no intermediate value is kept in it), those tracers, and the
    values the run used for the program's inputs (``None`` where not known).

    Example:
        >>> import numpy as np
        >>> from functrans.primitives import sin_p
        >>> outs, program, consts, _ = record(lambda xs: [sin_p.bind(xs[0])], [np.zeros(2)], "example")
        >>> outs, [eqn.prim.name for eqn in program.eqns], consts
        ([array([0., 0.])], ['sin'], [])
    """
    with new_trace(RecordingTrace, origin) as trace:
        inputs = [trace.input(x) for x in leaves]
        results = []
        for out in body(inputs):
            if isinstance(out, Tracer) and (type(out) is not RecordingTracer or out._trace is not trace):
                out = trace.lift(out)  # a closed-over tracer returned as it is
            results.append(out)
    values = [r.value if type(r) is RecordingTracer else r for r in results]
    out_vars = [r.var if type(r) is RecordingTracer else r for r in results]
    consts, ins = trace.consts, trace.const_inputs + inputs
    # the program keeps its trace: drop what only the run needed (values, outer tracers)
    trace.consts, trace.const_inputs, trace._lifted = [], [], {}
    program = Program(trace, [t.var for t in ins], trace.eqns, out_vars)
    return values, program, consts, [t.value for t in ins]


def checkpoint_apply(body: Callable[[list], Sequence], leaves: Sequence, label: str,
                     prevent_cse: bool = True) -> list:
    """``body`` applied to ``leaves`` as one checkpointed call: ``body`` runs once, recorded,
    and the call binds ``checkpoint_call`` on the tracers it closes over and the leaves.

    Example:
        >>> import numpy as np, functrans as ft
        >>> from functrans.primitives import mul_p
        >>> def scaled(w):  # the body closes over w: an operand of the call all the same
        ...     return checkpoint_apply(lambda xs: [mul_p.bind(xs[0], w)], [np.array(3.0)], "scale")[0]
        >>> float(ft.grad(scaled)(2.0))
        3.0
    """
    with named_scope(f"checkpoint({label})"):
        values, program, consts, inputs = record(body, leaves, f"checkpoint({label})")
    return _bind_call(program, [*consts, *leaves], inputs, values, label, prevent_cse)


def _bind_call(program: Program, operands: Sequence, inputs: list, values: list, label: str,
               prevent_cse: bool) -> list:
    """``program`` bound as one ``checkpoint_call`` on ``operands``; ``inputs`` and ``values``
    are the values its recorded run read and made (``None`` where not known), which its first
    evaluation returns instead of computing them again. With no operand traced (the body of
    an eager ``vmap``), the run is the call: its ``values``."""
    if not any(isinstance(x, Tracer) for x in operands):
        return values
    known = all(v is not None for v in values) and all(v is not None for v in inputs)
    first = (inputs, values) if known else None
    return checkpoint_call_p.bind(*operands, call=CheckpointCall(program, label, first, prevent_cse))


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


# --- checkpoint_call: the recorded call applied to traced operands ---------------------------
def _checkpoint_call_impl(*args: Any, call: CheckpointCall) -> list:
    first = call.first
    if first is not None:
        call.first = None
        inputs, outs = first
        if len(inputs) == len(args) and all(a is b for a, b in zip(args, inputs)):
            return list(outs)
    return call.replay(args)


def _checkpoint_call_shape(*args: Any, call: CheckpointCall) -> list:
    call.capture()  # asked when the call is staged into a program: its constants by value
    return list(call.out_avals)


def _checkpoint_call_jvp(primals: Sequence, tangents: Sequence, *, call: CheckpointCall) -> tuple[list, list]:
    live = [t for t in tangents if t is not zero]
    if not all(is_linear(t) for t in live):  # forward mode: nothing is stored anyway
        call.first = None
        return jvp_flat(call.replay, primals, tangents, f"jvp({call.name})")
    # evaluated without a tangent program: by the program's equations themselves when an outer
    # transformation or recording sees them (a scan's step, jit: a staged program runs them
    # faster than a nested replay), else as the call (the outputs of the run, not recomputed)
    if any(isinstance(p, Tracer) for p in primals):
        call.first = None
        outs = call.replay(primals)
    else:
        outs = _checkpoint_call_impl(*primals, call=call)
    positions = tuple(i for i, t in enumerate(tangents) if t is not zero)
    out_avals = tuple(call.out_avals)
    # the primals are arguments (values of the linear equation, not linear inputs), so that a
    # recording around this one (a scan's step, jit) sees them as the operands they are
    t_outs = checkpoint_linear_p.bind(*primals, *live, call=call, num_primals=len(primals),
                                      positions=positions, out_avals=out_avals)
    return outs, [t if dtype.kind in "fc" else zero for (_, dtype), t in zip(out_avals, t_outs)]


def _checkpoint_call_batch(values: Sequence, dims: Sequence, *, call: CheckpointCall) -> tuple[list, list]:
    size = batch_size(values, dims)
    in_dims = [NOT_MAPPED if d is NOT_MAPPED else 0 for d in dims]
    moved = [v if d is NOT_MAPPED else bdim_at_front(v, d, size) for v, d in zip(values, dims)]
    origin = f"vmap({call.name})"
    within = enclosing_batch()
    active = active_examples()  # (in a branch of a batched cond: its examples, for the loops)

    def on_batches(leaves: list) -> list:
        outs, out_dims = vmap_flat(call.replay, leaves, in_dims, size, origin, within=within,
                                   active=active)
        return [bdim_at_front(o, d, size) for o, d in zip(outs, out_dims)]

    if any(isinstance(v, Tracer) for v in moved):  # a transformation around the vmap
        outs = checkpoint_apply(on_batches, moved, f"vmap({call.label})", call.prevent_cse)
    else:  # nothing to record for: the program is closed, so the batches are all it reads
        with named_scope(origin):
            outs = on_batches(moved)
    return outs, [0] * len(outs)


def _checkpoint_call_transpose(cts: Sequence, *args: Any, call: CheckpointCall) -> tuple:
    # a call linear in its linear inputs (linear_transpose of a checkpointed linear function):
    # its program, the other operands fixed, recorded as a linear program and transposed
    linear = [is_linear(a) for a in args]

    def on_linear(xs: list) -> list:
        it = iter(xs)
        return call.replay([next(it) if lin else a for a, lin in zip(args, linear)])

    avals = [aval_of(a) for a, lin in zip(args, linear) if lin]
    program = stage(on_linear, avals, f"transpose({call.name})", linear=True)
    for eqn in program.eqns:
        if eqn.prim.transpose is None:
            raise errors.NotLinearError(
                f"{call.name} applies {eqn.prim.name!r}, which is not linear, to the linear "
                "inputs of a transposed function, so it has no transpose. linear_transpose is "
                "for linear functions; for the transpose of a derivative use functrans.vjp."
            )
    program.outs = [o if program.owns(o) else zero for o in program.outs]
    in_cts = iter(transpose_program(program, list(cts), consume=True))
    return tuple(next(in_cts) if lin else zero for lin in linear)


checkpoint_call_p = Primitive("checkpoint_call", multiple_results=True)
checkpoint_call_p.impl = _checkpoint_call_impl  # type: ignore[assignment]
checkpoint_call_p.shape_rule = _checkpoint_call_shape  # type: ignore[assignment]
checkpoint_call_p.jvp = _checkpoint_call_jvp  # type: ignore[assignment]
checkpoint_call_p.batch = _checkpoint_call_batch  # type: ignore[assignment]
checkpoint_call_p.transpose = _checkpoint_call_transpose  # type: ignore[assignment]


# --- checkpoint_linear: the derivative of one call, recomputed when it is transposed ---------
def _checkpoint_linear_impl(*args: Any, call: CheckpointCall, num_primals: int, positions: tuple,
                            out_avals: tuple) -> list:
    primals, tangents = args[:num_primals], args[num_primals:]
    full: list = [zero] * len(primals)
    for i, t in zip(positions, tangents):
        full[i] = t
    outs, t_outs = jvp_flat(call.replay, primals, full, f"jvp({call.name})")
    return [full_like_p.bind(o, fill_value=0, shape=tuple(shape), dtype=dtype) if t is zero else t
            for o, t, (shape, dtype) in zip(outs, t_outs, out_avals)]


def _checkpoint_linear_transpose(cts: Sequence, *args: Any, call: CheckpointCall, num_primals: int,
                                 positions: tuple, out_avals: tuple) -> tuple:
    primals = args[:num_primals]
    # (under jit, the recomputation must not be merged with the forward pass's equations)
    with named_scope(REMATERIALIZED) if call.prevent_cse else contextlib.nullcontext():
        _, program = linearize_flat(call.replay, list(primals), call.name)
    # consume: each equation (and the residuals it holds) is freed once transposed, instead of
    # waiting for the cycle collector (variables and their trace refer to each other).
    in_cts = transpose_program(program, list(cts), consume=True)
    return (zero,) * num_primals + tuple(in_cts[i] for i in positions)


checkpoint_linear_p = Primitive("checkpoint_linear", multiple_results=True)
checkpoint_linear_p.impl = _checkpoint_linear_impl  # type: ignore[assignment]
checkpoint_linear_p.shape_rule = lambda *args, call, num_primals, positions, out_avals: list(out_avals)  # type: ignore[assignment]
checkpoint_linear_p.transpose = _checkpoint_linear_transpose  # type: ignore[assignment]


# --- policies: which values a checkpointed call saves for the backward pass ------------------
class PolicyRecordingTrace(RecordingTrace):
    """The recording of a checkpointed call with a policy, which splits the call in pieces.

    A primitive the policy calls saveable is not recorded: the piece recorded so far is
    closed (bound as one ``checkpoint_call`` on the values outside the recording that it
    reads), and the primitive is applied to values outside the recording, where the outer
    transformations see it as if it were not checkpointed (``grad`` keeps what its
    derivative reads, and does not compute it again). Its outputs are read by the next
    piece as values from outside. So in the backward pass each piece is computed once more,
    and the saveable primitives are not.

    ``outer_of`` maps each variable whose value lives outside the current piece (an input,
    a value read from outside, an output of a closed piece) to that outside value;
    ``values`` holds the values of the current piece's variables, for its first evaluation.
    """

    __slots__ = ("policy", "label", "prevent_cse", "outer_of", "values")

    def __init__(self, level: int, origin: str):
        super().__init__(level, origin)
        self.policy: Callable[..., bool] | None = None
        self.label = origin
        self.prevent_cse = True
        self.outer_of: dict[int, Any] = {}
        self.values: dict[int, Any] = {}

    def lift(self, x: Tracer) -> RecordingTracer:
        tracer = super().lift(x)
        self.outer_of[tracer.var.index] = x
        return tracer

    def process_primitive(self, prim: Primitive, args: Sequence, params: dict) -> Any:
        try:
            saved = self.policy is not None and self.policy(prim, *args, **params)
            if type(saved) is not bool and not isinstance(saved, bool_):
                raise TypeError(f"it returned {saved!r}, not True or False")
        except TypeError as error:
            raise TypeError(
                f"{self.origin}: the checkpoint policy failed on {prim.name}: {error}. A policy is "
                "called as policy(prim, *args, **params) and returns whether to save; a factory "
                "such as save_only_these_names is called with the names first: "
                "policy=save_only_these_names('hidden')."
            ) from error
        if not saved:
            out = super().process_primitive(prim, args, params)
            for t in out if prim.multiple_results else (out,):
                self.values[t.var.index] = t.value
            return out
        self.close()
        outer = [self.outer_of[a.var.index] if type(a) is RecordingTracer and a._trace is self else a
                 for a in args]
        out = prim.bind(*outer, **params)
        results = [self.lift(r) if isinstance(r, Tracer) else r
                   for r in (out if prim.multiple_results else (out,))]
        return results if prim.multiple_results else results[0]

    def close(self) -> None:
        """Bind the piece recorded since the last close as one checkpointed call, all of
        whose variables are its outputs (a later piece may read any of them)."""
        eqns = self.eqns
        if not eqns:
            return
        self.eqns = []
        outs = [o for eqn in eqns for o in eqn.outs]
        defined = {o.index for o in outs}
        ins: list = []
        for eqn in eqns:
            for a in eqn.args:
                if type(a) is Var and a._trace is self and a.index not in defined:
                    defined.add(a.index)
                    ins.append(a)
        operands = [self.outer_of[v.index] for v in ins]
        values = [self.values.pop(o.index) for o in outs]
        inputs = [_known(x)[0] if isinstance(x, Tracer) else x for x in operands]
        results = _bind_call(Program(self, ins, eqns, outs), operands, inputs, values, self.label,
                             self.prevent_cse)
        for o, r in zip(outs, results):
            self.outer_of[o.index] = r


def checkpoint_apply_with_policy(body: Callable[[list], Sequence], leaves: Sequence, label: str,
                                 policy: Callable[..., bool], prevent_cse: bool = True) -> list:
    """``checkpoint_apply`` where ``policy(prim, *args, **params)`` says which primitives
    are saved instead of computed again in the backward pass (see
    ``PolicyRecordingTrace``): the call runs once, in pieces between those primitives.

    Example:
        >>> import numpy as np, functrans as ft
        >>> from functrans.primitives import dot_general_p, tanh_p
        >>> body = lambda xs: [tanh_p.bind(xs[0] @ xs[0])]
        >>> dots = lambda prim, *args, **params: prim is dot_general_p
        >>> f = lambda x: checkpoint_apply_with_policy(body, [x], "layer", dots)[0].sum()
        >>> np.allclose(ft.grad(f)(np.eye(2)), ft.grad(lambda x: np.tanh(x @ x).sum())(np.eye(2)))
        True
    """
    origin = f"checkpoint({label})"
    with named_scope(origin), new_trace(PolicyRecordingTrace, origin) as trace:
        trace.policy, trace.label, trace.prevent_cse = policy, label, prevent_cse
        inputs = []
        for x in leaves:
            tracer = trace.input(x)
            trace.outer_of[tracer.var.index] = x
            inputs.append(tracer)
        results = list(body(inputs))
        trace.close()
        outs = [trace.outer_of[r.var.index] if type(r) is RecordingTracer and r._trace is trace else r
                for r in results]
        trace.policy = None
        trace.outer_of, trace.values = {}, {}
    return outs


# --- checkpoint_name: an identity that names a value, for the policies that save by name ----
name_p = Primitive("name")
name_p.impl = lambda x, *, name: x  # type: ignore[assignment]
name_p.shape_rule = lambda x, *, name: aval_of(x)  # type: ignore[assignment]
name_p.jvp = lambda primals, tangents, *, name: (name_p.bind(primals[0], name=name), tangents[0])  # type: ignore[assignment]
name_p.transpose = lambda ct, x, *, name: (ct,)  # type: ignore[assignment]
name_p.batch = lambda values, dims, *, name: (name_p.bind(values[0], name=name), dims[0])  # type: ignore[assignment]
