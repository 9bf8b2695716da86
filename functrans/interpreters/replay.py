"""Replay of a staged program: what ``jit`` runs after recording a function once.

Eager execution pays Python for every primitive: finding the trace of the arguments, the
JVP rule, recording the tangent program, transposing it. ``jit`` pays that once per input
signature, when it stages the function into a flat program (``StagingTrace``); later calls
with arrays of the same shapes and dtypes run ``ReplayPlan``, a loop that calls each
primitive's implementation on the values of its arguments and nothing else.

Building the plan:

* dead code elimination: equations no output depends on are dropped (under ``grad`` the
  staged forward pass computes values only the eager tangent bookkeeping looked at), except
  those of the primitives in ``core.primitive.EFFECTFUL`` (collectives every process runs);
* every variable and every constant gets a slot in one flat list (the environment); an
  equation reads its arguments by slot number, so running it is a list comprehension and
  one call;
* after its last use a variable's slot is cleared, so intermediates are freed as early as
  the eager run frees them;
* steps that do not depend on the inputs' values (zeros or a Jacobian's basis made in an
  input's shape, and what is computed from them and constants) are computed on the first
  run and kept as constants;
* a program of moderate length is then written out as the source of one straight-line
  Python function (``s7 = f7(s2, s5)`` a line, ``del`` after last uses) and compiled once:
  local variables instead of list indexing make each step cost little more than the call
  of the implementation itself.

Outputs never share memory with what the plan keeps from one call to the next: the arrays
a program holds as constants (closed over when it was recorded) are copied when the plan is
built, so later in-place edits of the caller's array do not reach it, and an output that is
a kept array (a constant, a folded value) or a view of one is copied on every call, so a
caller writing into an output does not change later calls. Nor does an output share memory
with the call's inputs: one that is an input or a view of one (``lambda x: x``, a reshape, an
``astype`` to the same dtype) is copied, so writing into it leaves the caller's argument
alone, whichever primitives the plan ran.

With ``config.debug_nans`` on, each step checks its result (``CheckedStep``) and names its
equation's source line when it makes a NaN.

An error raised by a primitive while the plan runs gets a note naming the equation and the
line of the user's code that applied it when the program was recorded.

When the arguments are tracers of an outer transformation (``grad(jit(f))``, ``vmap(jit(f))``)
the plan runs through ``Primitive.bind`` instead, so the outer transformation sees every
primitive as usual.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from numpy import generic, ndarray

from functrans.config import config
from functrans.core.debug_nans import CheckedStep
from functrans.core.ir import Eqn, Program, Var, format_eqn, format_program, source_str, type_str
from functrans.core.primitive import EFFECTFUL
from functrans.core.trace import Tracer
from functrans.interpreters import costs, fusion, gemm_update, reductions, row_kernels
from functrans.interpreters.buffers import UFUNCS, new_memory_slots, plan_reuse, pooled_steps
from functrans.interpreters.simplify import simplify

_NO_SLOTS: tuple = ()

#: Whether plans simplify the program and reuse buffers (``optimize=None``); the environment
#: variable FUNCTRANS_JIT_OPTIMIZE=0 turns it off, to compare or to rule the passes out.
OPTIMIZE = os.environ.get("FUNCTRANS_JIT_OPTIMIZE", "1") != "0"
#: Whether optimized plans on NumPy arrays keep their steps' result memory between calls
#: (``buffers.pooled_steps``); FUNCTRANS_JIT_POOL=0 turns it off, to compare.
POOLS = os.environ.get("FUNCTRANS_JIT_POOL", "1") != "0"


class ReplayPlan:
    """A recorded program compiled to slot-indexed steps.

    ``run(inputs)`` evaluates it on concrete arrays; ``bind(inputs)`` evaluates it through
    ``Primitive.bind`` (for tracer inputs). Both return the list of output leaves.
    """

    __slots__ = ("env_template", "input_slots", "steps", "output_slots", "num_eqns",
                 "program", "_eqns", "_var_slots", "_foldable", "_straight", "_line_step",
                 "_kept", "_avals", "_borrow", "_repeated", "_pending", "_optimize",
                 "_bind_steps", "_bind_eqns", "_may_alias_inputs", "_pools")

    def __init__(self, program: Program, optimize: bool | None = None):
        trace = program.trace
        check_nans = config.debug_nans  # (part of jit's cache key: a plan is built for one value)
        # With debug_nans the program runs as recorded, one checked step per equation.
        self._optimize = (OPTIMIZE if optimize is None else optimize) and not check_nans
        if self._optimize:
            program = simplify(program)
        self.program = program
        live = _live_equations(program)
        self.num_eqns = len(live)
        slot_of_var: dict[int, int] = {}
        template: list = []
        copies: dict[int, object] = {}  # one copy per constant array, however often it is read

        def slot_for(value) -> int:
            if type(value) is Var and value._trace is trace:
                key = value.index
                if key not in slot_of_var:
                    slot_of_var[key] = len(template)
                    template.append(None)
                return slot_of_var[key]
            if _is_buffer(value):  # captured by value: later edits of the caller's array stay out
                kept = copies.get(id(value))
                if kept is None:
                    kept = copies[id(value)] = value.copy()
                    if type(kept) is ndarray:  # the plan's own: read-only, so a vjp through the
                        kept.flags.writeable = False  # plan need not copy it (own_residuals)
                value = kept
            template.append(value)  # a constant: its slot is filled once, here
            return len(template) - 1

        self.input_slots = tuple(slot_for(v) for v in program.in_vars)
        self.steps = []
        self._avals: dict[int, tuple] = {  # (shape, dtype) of the variable slots
            slot_of_var[v.index]: (tuple(v.shape), v.dtype) for v in program.in_vars
            if type(v) is Var and v.index in slot_of_var}
        for eqn in live:
            arg_slots = tuple(slot_for(a) for a in eqn.args)
            if eqn.prim.multiple_results:
                out_slots = tuple(slot_for(o) for o in eqn.outs)
            else:
                out_slots = slot_for(eqn.outs[0])
                self._avals[out_slots] = (tuple(eqn.outs[0].shape), eqn.outs[0].dtype)
            impl = CheckedStep(eqn) if check_nans else eqn.prim.impl
            self.steps.append((eqn.prim, impl, eqn.params, arg_slots, out_slots, _NO_SLOTS))
        self._eqns: list[Eqn] = live  # step i runs equation i, for error messages
        # Values that stand for Python scalars (weakly typed) are never fused: a kernel would
        # return NumPy scalars, which promote differently.
        for index in getattr(trace, "scalars", None) or ():
            self._avals.pop(slot_of_var.get(index, -1), None)
        self.output_slots = tuple(slot_for(o) for o in program.outs)
        # An output slot listed twice (merged common subexpressions, or `lambda x: (x, x)`):
        # the later positions get copies, as eager execution gives separate arrays.
        self._repeated = tuple(i for i, s in enumerate(self.output_slots) if s in self.output_slots[:i])
        self.env_template = template
        self._var_slots = set(slot_of_var.values())
        # (outputs are never folded: a caller may write into the array it gets back)
        self._foldable = _input_independent(self.steps, self._var_slots, self.input_slots) - set(
            self.output_slots)
        self._straight = None
        self._line_step: dict[int, int] = {}
        self._kept = _kept_memory(template)
        self._borrow: dict[int, int] = {}
        self._pools: dict[int, tuple] = {}  # step position -> (function, taker(s)): buffers.pooled_steps
        self._pending = True  # compiled on the first run, which sees the kind of arrays
        self._may_alias_inputs: tuple | None = None  # output positions checked against inputs
        self._bind_steps: list | None = None  # the steps unfused, for tracer inputs
        self._bind_eqns: list = live

    def run(self, inputs):
        if self._straight is not None:
            try:
                outputs = self._straight(*inputs)
            except Exception as error:
                self._annotate(error)
                raise
        elif self._pending:
            outputs = self._first_run(inputs)
        else:
            outputs = self._loop(inputs, through_bind=False)
        if self._repeated:
            _copy_repeated(outputs, self._repeated)
        positions = self._may_alias_inputs
        if positions is None:  # not compiled yet: every output is checked
            return _detach(outputs, self._kept.union(_owners(inputs)))
        if positions:  # (the outputs steps made in new memory hold neither inputs nor kept arrays)
            _detach(outputs, _owners(inputs), positions)
            if self._kept:
                _detach(outputs, self._kept, positions)
        return outputs

    def run_shared(self, inputs):
        """``run`` without the copies that keep outputs apart from the inputs and from the
        arrays the plan keeps: for a caller that only feeds them to the next step of a loop,
        and passes the last ones through ``detach`` before anyone else sees them."""
        if self._straight is None:
            return self.run(inputs)
        try:
            return self._straight(*inputs)
        except Exception as error:
            self._annotate(error)
            raise

    def detach(self, outputs: list) -> list:
        """``outputs`` (a list of ``run_shared``'s), each that shares memory with an array the
        plan keeps (or with another output) replaced by a copy."""
        if self._repeated:
            _copy_repeated(outputs, self._repeated)
        return _detach(outputs, self._kept)

    def bind(self, inputs):
        outputs = self._loop(inputs, through_bind=True, steps=self._bind_steps, eqns=self._bind_eqns)
        if self._repeated:
            _copy_repeated(outputs, self._repeated)
        return _detach(outputs, self._kept) if self._kept else outputs

    def _compile(self, host_only: bool, on_cupy: bool = False):
        """Attach the frees to the steps, choose the buffers ufunc steps write into (NumPy
        arrays only: ``host_only``), fuse kernels (Numba's on NumPy arrays, CuPy's when every
        array is CuPy's: ``on_cupy``), and write the straight-line function."""
        outputs = set(self.output_slots)
        self._bind_steps = self.steps = _with_frees(self.steps, self._var_slots, outputs)
        self._bind_eqns = self._eqns
        self._kept = _kept_memory(self.env_template)
        if host_only and self._optimize:
            # (estimated before the passes below replace products by steps it does not price)
            plan_ns = costs.plan_cost(self.steps, self._avals, self.env_template) \
                if fusion.available() and len(self.steps) <= _MAX_STRAIGHT_LINE else None
            if gemm_update.available():  # before fusion, which would take the update's steps
                fused, self._eqns = gemm_update.fuse_updates(
                    self.steps, self._eqns, self._avals, self.env_template, outputs)
                if fused is not self.steps:
                    self.steps = _with_frees(fused, self._var_slots, outputs)
            self.steps = reductions.direct_reductions(self.steps, self._avals)
            if fusion.available() and len(self.steps) <= _MAX_STRAIGHT_LINE:
                fused, self._eqns = row_kernels.fuse_rows(
                    self.steps, self._eqns, self._avals, self.env_template, self._var_slots,
                    outputs, plan_ns)
                if fused is not self.steps:
                    self.steps = _with_frees(fused, self._var_slots, outputs)
                fused, self._eqns = fusion.fuse(self.steps, self._eqns, self._avals,
                                                self.env_template, self._var_slots, outputs,
                                                plan_ns=plan_ns)
                if fused is not self.steps:
                    self.steps = _with_frees(fused, self._var_slots, outputs)
            self._borrow, self.steps = plan_reuse(self.steps, self._avals, self._var_slots, outputs)
            if POOLS and len(self.steps) <= _MAX_STRAIGHT_LINE:
                self._pools = pooled_steps(self.steps, self._borrow, self._avals, self.env_template)
        elif on_cupy and self._optimize and len(self.steps) <= _MAX_STRAIGHT_LINE:
            fused, self._eqns = fusion.fuse(self.steps, self._eqns, self._avals, self.env_template,
                                            self._var_slots, outputs, target="cupy")
            if fused is not self.steps:
                self.steps = _with_frees(fused, self._var_slots, outputs)
        self._straight = _straight_line(self) if len(self.steps) <= _MAX_STRAIGHT_LINE else None
        # Only outputs that a step may have returned as an argument or a view of one (or that
        # are inputs or constants) can share memory with the call's inputs or with the arrays
        # the plan keeps: the others are not checked.
        fresh = new_memory_slots(self.steps)
        self._may_alias_inputs = tuple(i for i, s in enumerate(self.output_slots) if s not in fresh)
        self._pending = False

    def _first_run(self, inputs):
        """The first run: also keep the values of the steps that do not depend on the inputs'
        values (a Jacobian's basis, zeros of an input's shape, products of constants), which
        from now on are constants of the plan instead of work on every call; then compile."""
        host_only = _all_host(inputs) and _all_host(self.env_template)
        on_cupy = not host_only and fusion.all_cupy(inputs) and fusion.all_cupy(self.env_template)
        if not self._foldable:
            outputs = self._loop(inputs, through_bind=False)
            self._compile(host_only, on_cupy)
            return self._as_compiled(inputs, outputs)
        outputs, env = self._loop(inputs, through_bind=False, keep_env=True)
        for slot in self._foldable:
            self.env_template[slot] = env[slot]
            self._var_slots.discard(slot)
        kept = [not (_out_slot_list(step[4]) and all(s in self._foldable for s in _out_slot_list(step[4])))
                for step in self.steps]
        self.steps = [step for step, keep in zip(self.steps, kept) if keep]
        self._eqns = [eqn for eqn, keep in zip(self._eqns, kept) if keep]
        # A step read only by folded ones (the output a cotangent's ones took their shape
        # from, under grad of grad) is not needed any more either.
        kept = _needed_steps(self.steps, set(self.output_slots))
        self.steps = [step for step, keep in zip(self.steps, kept) if keep]
        self._eqns = [eqn for eqn, keep in zip(self._eqns, kept) if keep]
        self._foldable = frozenset()
        self._compile(host_only, on_cupy)
        return self._as_compiled(inputs, outputs)

    def _as_compiled(self, inputs, outputs):
        """The first run's ``outputs`` (of the recorded steps), or, where the compiled plan
        computes other last bits (a kernel that sums in float64 or calls the math library, a
        weight update fused into its product), the compiled plan's outputs for the same
        inputs: every call of a plan gives the same bits. A plan with an effect (a
        collective) is not run twice."""
        if not any(isinstance(step[0], fusion.FusedStep) and not step[0].exact
                   or isinstance(step[0], gemm_update.GemmUpdateStep) for step in self.steps) \
                or any(step[0] in EFFECTFUL for step in self.steps):
            return outputs
        if self._straight is None:
            return self._loop(inputs, through_bind=False)
        return self._straight(*inputs)

    def _loop(self, inputs, through_bind: bool, keep_env: bool = False, steps=None, eqns=None):
        env = self.env_template.copy()
        for slot, value in zip(self.input_slots, inputs):
            env[slot] = value
        steps = self.steps if steps is None else steps
        eqns = self._eqns if eqns is None else eqns
        for position, (prim, impl, params, arg_slots, out_slots, frees) in enumerate(steps):
            args = [env[i] for i in arg_slots]
            try:
                if through_bind:
                    result = prim.bind(*args, **params)
                else:
                    result = impl(*args, **params) if params else impl(*args)
            except Exception as error:
                _note_step(error, eqns[position])
                raise
            if type(out_slots) is int:
                env[out_slots] = result
            else:
                for slot, value in zip(out_slots, result):
                    env[slot] = value
            for i in frees:
                env[i] = None
        outputs = [env[i] for i in self.output_slots]
        return (outputs, env) if keep_env else outputs

    def as_text(self) -> str:
        """The optimized program as the plan runs it: one line per step, a fused kernel with
        the equations it computes indented below it, ``# into vN`` where a step writes
        into the dead temporary of variable ``vN``, and ``# into kept memory`` where it writes
        into an array the plan keeps between calls (``buffers.pooled_steps``). Compiled on
        the first run: before that, the simplified program."""
        if self._pending:
            return format_program(self.program)
        var_of_slot = {slot: v.index for v, slot in zip(self.program.in_vars, self.input_slots)}
        for eqn, step in zip(self._bind_eqns, self._bind_steps or ()):
            for out, slot in zip(eqn.outs, _out_slot_list(step[4])):
                var_of_slot[slot] = out.index
        lines = ["{ lambda " + " ".join(f"v{v.index}:{type_str(v.shape, v.dtype)}"
                                         for v in self.program.in_vars) + " ."]
        for position, step in enumerate(self.steps):
            prim = step[0]
            if isinstance(prim, fusion.FusedStep):
                outs = " ".join(f"v{var_of_slot.get(s, '?')}" for s in step[4])
                into: Any = self._borrow.get(position)
                kept: Any = self._pools.get(position, (None, ()))[1]
                if into is not None or kept:
                    into = into or (None,) * len(kept)
                    kept = kept or (None,) * len(into)
                into_text = "" if into is None else "  # into " + " ".join(
                    "kept" if t is not None else "new" if b is None else f"v{var_of_slot.get(b, '?')}"
                    for b, t in zip(into, kept))
                lines.append(f"    {outs} = {prim.name.split('[')[0]}[{len(prim.eqns)} equations] {{"
                             + into_text)
                lines.extend("        " + format_eqn(e, self.program) for e in prim.eqns)
                lines.append("    }")
                continue
            line = "    " + format_eqn(self._eqns[position], self.program)
            buffer = self._borrow.get(position)
            if type(buffer) is int:
                line += f"  # into v{var_of_slot.get(buffer, '?')}"
            elif position in self._pools:
                line += "  # into kept memory"
            lines.append(line)
        outs = ", ".join(f"v{var_of_slot[s]}" if s in var_of_slot else "const"
                         for s in self.output_slots)
        lines.append(f"  in ({outs}) }}")
        return "\n".join(lines)

    def _annotate(self, error: Exception) -> None:
        """Name the failing step of the straight-line function, found from the traceback."""
        tb = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == _PROGRAM_FILENAME:
                position = self._line_step.get(tb.tb_lineno)
                if position is not None:
                    _note_step(error, self._eqns[position])
                return
            tb = tb.tb_next


def _is_buffer(value) -> bool:
    """Whether ``value`` is an array whose memory can be written into (not a tracer, a Python
    scalar or a NumPy scalar)."""
    return (hasattr(value, "shape") and hasattr(value, "copy")
            and not isinstance(value, (Tracer, generic)))


def _all_host(values) -> bool:
    """Whether every array among ``values`` is a NumPy array (not CuPy's, not a tracer)."""
    return all(v is None or type(v) is ndarray or not _is_buffer(v) and not isinstance(v, Tracer)
               for v in values)


def _copy_repeated(outputs: list, positions: tuple) -> None:
    """Replace the outputs at ``positions`` (repeats of an earlier output) by copies."""
    for i in positions:
        if _is_buffer(outputs[i]):
            outputs[i] = outputs[i].copy()


def _owner(value):
    """The object that owns the memory of the array ``value`` (itself, or the base of a view)."""
    base = getattr(value, "base", None)
    return value if base is None else base


def _owners(inputs) -> frozenset:
    """The ids of the memory owners of the call's input arrays."""
    return frozenset(id(_owner(x)) for x in inputs if type(x) is ndarray or _is_buffer(x))


def _kept_memory(template: list) -> frozenset:
    """The ids of the memory owners of the arrays a plan keeps (constants, folded values)."""
    return frozenset(id(_owner(v)) for v in template if v is not None and _is_buffer(v))


def _detach(outputs: list, kept: frozenset, positions: Sequence[int] | None = None) -> list:
    """The outputs (a list the plan made for this call), each one (of those at ``positions``,
    or all) that is a kept array (or an input) or a view of one replaced by a copy."""
    if not kept:
        return outputs
    for i in range(len(outputs)) if positions is None else positions:
        o = outputs[i]
        if type(o) is ndarray:  # the common case, tested first: NumPy arrays
            base = o.base
            owner = o if base is None else base
        elif _is_buffer(o):
            owner = _owner(o)
        else:
            continue
        if id(owner) in kept:
            outputs[i] = o.copy()
    return outputs


_PROGRAM_FILENAME = "<functrans.jit program>"
_NOTE_MARK = "functrans.jit: raised by"


def _note_step(error: Exception, eqn: Eqn) -> None:
    """Add to ``error`` a note naming the equation and where the user's code applied it."""
    if not hasattr(error, "add_note") or any(
            str(note).startswith(_NOTE_MARK) for note in getattr(error, "__notes__", ())):
        return  # (Python 3.10 has no notes; an inner plan already added its own)
    where = f" at {source_str(eqn.source, full_path=True)}" if eqn.source is not None else ""
    scope = f" (in {'/'.join(eqn.scope)})" if eqn.scope else ""
    error.add_note(f"{_NOTE_MARK} the primitive {eqn.prim.name!r} of the recorded program, applied"
                   f"{where or ' by code without a source file'}{scope} when the function was recorded.")


# Primitives whose result depends on their operand's shape, dtype and device only, not on its
# values: a step of one of these on a staged input can be computed once and kept.
_SHAPE_ONLY = frozenset(("full_like", "constant_like"))


def _out_slot_list(out_slots) -> tuple:
    return (out_slots,) if type(out_slots) is int else tuple(out_slots)


def _input_independent(steps, var_slots, input_slots) -> frozenset:
    """The variable slots whose values do not depend on the values of the inputs."""
    known: set = set()
    for prim, _, _, arg_slots, out_slots, _ in steps:
        if prim in EFFECTFUL:
            continue
        if prim.name in _SHAPE_ONLY or all(
                s in known or (s not in var_slots and s not in input_slots) for s in arg_slots):
            known.update(_out_slot_list(out_slots))
    return frozenset(known)


def _needed_steps(steps, needed: set) -> list[bool]:
    """For each step, whether an output (the slots in ``needed``) or an effect depends on it."""
    kept = [False] * len(steps)
    for position in range(len(steps) - 1, -1, -1):
        prim, _, _, arg_slots, out_slots, _ = steps[position]
        if prim in EFFECTFUL or any(s in needed for s in _out_slot_list(out_slots)):
            kept[position] = True
            needed.update(arg_slots)
    return kept


def _live_equations(program: Program) -> list:
    """The equations some output depends on, in execution order."""
    trace = program.trace
    needed = {o.index for o in program.outs if type(o) is Var and o._trace is trace}
    live = []
    for eqn in reversed(program.eqns):
        if not any(o.index in needed for o in eqn.outs) and eqn.prim not in EFFECTFUL:
            continue
        live.append(eqn)
        for a in eqn.args:
            if type(a) is Var and a._trace is trace:
                needed.add(a.index)
    live.reverse()
    return live


def _with_frees(steps, var_slots: set, keep: set) -> list:
    """The steps, each with the variable slots whose last use it is (never an output)."""
    last_use: dict[int, int] = {}
    for position, step in enumerate(steps):
        for slot in step[3]:
            if slot in var_slots and slot not in keep:
                last_use[slot] = position
    frees: list[list[int]] = [[] for _ in steps]
    for slot, position in last_use.items():
        frees[position].append(slot)
    return [step[:5] + (tuple(f) if f else _NO_SLOTS,) for step, f in zip(steps, frees)]


# Longer programs (a million-step chain, say) run in the loop of ``ReplayPlan.run``: compiling
# their source would take longer than it saves.
_MAX_STRAIGHT_LINE = 20_000


def _straight_line(plan: ReplayPlan):
    """Compile the plan into one Python function of its inputs returning its output list."""
    namespace: dict = {}
    for slot, value in enumerate(plan.env_template):
        if value is not None or slot not in plan.input_slots:
            namespace[f"s{slot}"] = value  # constants (and never-read slots) are globals
    inputs = ", ".join(f"s{slot}" for slot in plan.input_slots)
    lines = [f"def replay({inputs}):"]
    line_step = plan._line_step
    line_step.clear()
    borrow = plan._borrow
    pools = plan._pools
    for position, (prim, impl, params, arg_slots, out_slots, frees) in enumerate(plan.steps):
        buffer: Any = borrow.get(position)
        pooled = pools.get(position)
        namespace[f"f{position}"] = (
            pooled[0] if pooled is not None
            else impl if buffer is None or type(buffer) is tuple else UFUNCS[prim])
        call = f"f{position}(" + "".join(f"s{i}, " for i in arg_slots)
        if pooled is not None and type(pooled[1]) is tuple:  # a kernel's outputs, some pooled
            entries = []
            for k, (take, b) in enumerate(zip(pooled[1], buffer or (None,) * len(pooled[1]))):
                if take is not None:
                    namespace[f"t{position}_{k}"] = take
                    entries.append(f"t{position}_{k}(), ")
                else:
                    entries.append("None, " if b is None else f"s{b}, ")
            call += "out=(" + "".join(entries) + ")"
        elif pooled is not None:  # into an array kept for this step
            namespace[f"t{position}"] = pooled[1]
            call += f"out=t{position}()"
        elif type(buffer) is tuple:  # a fused kernel's outputs
            call += "out=(" + "".join("None, " if b is None else f"s{b}, " for b in buffer) + ")"
        elif buffer is not None:
            call += f"out=s{buffer}"
        elif params:
            namespace[f"p{position}"] = params
            call += f"**p{position}"
        call += ")"
        if type(out_slots) is int:
            target = f"s{out_slots}"
        else:
            target = "".join(f"s{i}, " for i in out_slots) or "_"
        lines.append(f"    {target} = {call}")
        line_step[len(lines)] = position  # (line numbers count from 1)
        if frees:
            lines.append("    del " + ", ".join(f"s{i}" for i in frees))
    lines.append("    return [" + ", ".join(f"s{i}" for i in plan.output_slots) + "]")
    exec(compile("\n".join(lines), _PROGRAM_FILENAME, "exec"), namespace)
    return namespace["replay"]


class Lowered:
    """A jitted function's plan for one set of arguments, to read what jit made of it
    (``jit(f).lower(*args)``).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> f = ft.jit(lambda x: fnp.exp(fnp.tanh(x) * 1.0) + 2.0)
        >>> print(f.lower(np.ones(3)).as_text())
        { lambda v0:float64[3] .
            v1:float64[3] = tanh[] v0  # into kept memory
            v3:float64[3] = exp[] v1  # into v1
            v4:float64[3] = add[] v3 2.0  # into v3
          in (v4) }
    """

    __slots__ = ("plan", "_inputs")

    def __init__(self, plan: ReplayPlan, inputs: list):
        self.plan = plan
        self._inputs = inputs

    def as_text(self) -> str:
        """The optimized program, one step a line (``ReplayPlan.as_text``); it is compiled
        by running it once on the arguments given to ``lower``."""
        if self.plan._pending and not holds_outer_tracers(self.plan):
            self.plan.run(list(self._inputs))
        return self.plan.as_text()

    def __str__(self) -> str:
        return self.as_text()


def holds_outer_tracers(plan: ReplayPlan) -> bool:
    """Whether a constant of the plan is a tracer of an outer transformation (a closure over
    one): such a plan is valid for this call only and must not be cached."""
    return any(isinstance(c, Tracer) for c in plan.env_template)
