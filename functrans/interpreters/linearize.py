"""Linearize by recording: run forward mode with tangents that are variables of a linear
program being recorded, so that every tangent operation (all of them linear) is appended to
a flat ``Program``.

The primal computation runs eagerly as usual; the program that comes out maps input
tangents to output tangents, with the residuals it needs (cos(x) for sin, say) held as
constants. ``vjp`` transposes that program; ``linearize``'s ``f_jvp`` evaluates it.

Levels: the recording trace sits one level below the JVP trace, so the JVP trace's rules,
which apply primitives to tangents, reach it; and both sit above any outer transformation,
whose tracers therefore appear in the program as constants.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from functrans.core.ir import Program, Var
from functrans.core.staging import linear_trace_type
from functrans.core.trace import Tracer, pop_trace, push_trace
from functrans.core.zeros import zero
from functrans.interpreters.jvp import JVPTrace, JVPTracer

_new = object.__new__


def linearize_flat(fun: Callable[[list], Sequence], primals: Sequence, origin: str) -> tuple[list, Program]:
    """Run ``fun(list_of_tracers) -> list_of_outputs`` at ``primals``; return the outputs and
    the linear ``Program`` from input tangents to output tangents.

    The program's inputs are one variable per primal; its outputs are variables, or ``zero``
    for an output that does not depend on the inputs. Integer and boolean inputs have no
    tangent: they enter ``fun`` as the constants they are.
    """
    tape = push_trace(linear_trace_type(), origin)
    jvp_trace = push_trace(JVPTrace, origin)
    try:
        # One input variable and one tracer per primal, filled in here rather than by their
        # __init__ (three Python calls fewer per input, on every call of grad)
        in_vars = []
        tracers = []
        for n, p in enumerate(primals):
            dtype = p.dtype
            v = _new(Var)
            v._trace = tape
            v.shape = p.shape
            v.dtype = dtype
            v.index = n
            in_vars.append(v)
            if dtype.kind in "fc":
                tracer = _new(JVPTracer)
                tracer._trace = jvp_trace
                tracer.primal = p
                tracer.tangent = v
                tracers.append(tracer)
            else:
                tracers.append(p)
        tape.num_vars = len(in_vars)
        outs = fun(tracers)
        out_primals = []
        out_tangents = []
        for out in outs:
            if type(out) is JVPTracer and out._trace is jvp_trace:
                primal = out.primal
                tangent = out.tangent
                if tangent is not zero and (type(tangent) is not Var or tangent._trace is not tape):
                    tangent = zero  # a tangent that does not depend on the input tangents is 0
            else:
                primal, tangent = out, zero
            out_primals.append(primal)
            out_tangents.append(tangent)
    finally:
        pop_trace(jvp_trace)
        pop_trace(tape)
    return out_primals, Program(tape, in_vars, tape.eqns, out_tangents)


def _memory_owner(x: Any) -> Any:
    """The object that owns the memory of array ``x`` (the end of its ``base`` chain; ``x``
    itself if it owns its memory); None for what is not an array (a variable, a tracer, a
    Python scalar)."""
    if isinstance(x, (Var, Tracer)) or not hasattr(x, "shape"):
        return None
    owner = x
    base = getattr(x, "base", None)
    while base is not None:
        owner = base
        base = getattr(base, "base", None)
    return owner


def own_residuals(program: Program, caller_arrays: Sequence) -> None:
    """Give ``program`` copies of the residuals it reads (the arrays its equations take
    besides its variables) that share memory with ``caller_arrays``: arrays the caller keeps
    while the program waits to be run (the inputs of ``vjp``/``linearize``, the outputs they
    return). NumPy code writes into those (``out -= target``); the derivative must not
    change when it does."""
    owners = {id(o): o for o in map(_memory_owner, caller_arrays) if o is not None}
    if not owners:
        return
    copies: dict[int, tuple] = {}
    for eqn in program.eqns:
        args = eqn.args
        for a in args:  # (most arguments are variables: one type check each)
            if type(a) is not Var and id(_memory_owner(a)) in owners:
                break
        else:
            continue
        new = []
        for a in args:
            owner = _memory_owner(a)
            if owner is not None and id(owner) in owners:
                if id(a) not in copies:
                    copies[id(a)] = (a, a.copy())  # (the original kept: its id stays its own)
                a = copies[id(a)][1]
            new.append(a)
        eqn.args = tuple(new)


def apart_from(values: list, held: Sequence) -> list:
    """``values`` with each array that shares memory with one of ``held`` (arrays the caller
    passed in, such as the cotangent of a ``vjp``) replaced by a copy: a linear map's result
    can be its argument or a view of it (a reshape's transpose is a reshape), and the caller
    may write into either afterwards."""
    owners = {id(o): o for o in map(_memory_owner, held) if o is not None}
    if not owners:
        return values
    out = []
    for v in values:
        owner = _memory_owner(v)
        out.append(v.copy() if owner is not None and id(owner) in owners else v)
    return out
