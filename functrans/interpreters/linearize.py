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

import sys
from collections.abc import Callable, Sequence
from typing import Any

from functrans._abstract import PY_SCALARS, dtype_of
from functrans.core.ir import Program, Var
from functrans.core.staging import linear_trace_type
from functrans.core.trace import Tracer, pop_trace, push_trace
from functrans.core.zeros import zero
from functrans.interpreters.jvp import JVPTrace, JVPTracer

_new = object.__new__


def linearize_flat(fun: Callable[[list], Sequence], primals: Sequence, origin: str) -> tuple[list, Program]:
    """Run ``fun(list_of_tracers) -> list_of_outputs`` at ``primals``; return the outputs and
    the linear ``Program`` from input tangents to output tangents.

    A primal may be a Python scalar: ``fun`` gets it weakly typed (inside a tracer), its
    tangent variable has the scalar's default dtype. The program's inputs are one variable
    per primal; its outputs are variables, or ``zero``
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
            if type(p) in PY_SCALARS:  # a Python scalar: the primal stays one (weakly typed)
                dtype = dtype_of(p)
                shape = ()
            else:
                dtype = p.dtype
                shape = p.shape
            v = _new(Var)
            v._trace = tape
            v.shape = shape
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
    besides its variables) that code outside the program can still write into while the
    program waits to be run: those that share memory with ``caller_arrays`` (the inputs of
    ``vjp``/``linearize``, the outputs they return), and those something else refers to (an
    array the differentiated function closed over, a global, a view the caller keeps). NumPy
    code writes into such arrays (``out -= target``, ``A[:] = 2``); the derivative must stay
    the one at the point where it was taken, as if the arrays were immutable.

    The intermediates of the forward pass, which only the program refers to, are kept as they
    are: an array is someone else's when its reference count exceeds the references the
    program holds (its equations' and, for the owner of views, the views'). Where the count
    cannot be read every residual is copied: a copy too many costs memory, a copy too few a
    wrong derivative."""
    held, owners = _residual_arrays(program)
    if not held:
        return
    caller = {id(o) for o in map(_memory_owner, caller_arrays)}
    foreign = {oid for oid in owners if oid in caller}
    if _references is None:
        foreign = set(owners)
    else:
        ours = _references([object()])  # one reference from a list of ours, and the call's own
        for entry in held.values():
            oid = entry[2]
            if oid in foreign:
                continue
            is_owner = owners[oid][0] is entry[0]  # (then `owners` holds it too, and its views)
            views = owners[oid][1] if is_owner else 0
            if _references(entry) - ours - is_owner - entry[1] - views > 0:
                foreign.add(oid)
        for oid, owner in owners.items():
            if oid not in foreign and oid not in held and _references(owner) - ours - owner[1] > 0:
                foreign.add(oid)  # an owner the equations reach through views only
    copied = {i: None for i, entry in held.items() if entry[2] in foreign}
    if not copied:
        return
    for eqn in program.eqns:
        if any(id(a) in copied for a in eqn.args):
            eqn.args = tuple(_copy_once(a, copied) if id(a) in copied else a for a in eqn.args)


def _copy_once(a: Any, copied: dict) -> Any:
    if copied[id(a)] is None:
        copied[id(a)] = a.copy()
    return copied[id(a)]


def _residual_arrays(program: Program) -> tuple[dict, dict]:
    """The arrays ``program``'s equations read besides variables, whose memory can be written:
    ``{id: [array, references from the equations, id of its memory's owner]}``, and their
    owners, ``{id: [owner, how many of those arrays are views of it]}``. (A function of its
    own, so that no local variable of the caller refers to an array when it counts.)"""
    held: dict[int, list] = {}
    owners: dict[int, list] = {}
    for eqn in program.eqns:
        for a in eqn.args:
            if type(a) is Var:
                continue
            entry = held.get(id(a))
            if entry is not None:
                entry[1] += 1
                continue
            owner = _memory_owner(a)
            if owner is None or not getattr(getattr(owner, "flags", None), "writeable", True):
                continue  # not an array, or memory nothing can write (a NumPy scalar)
            held[id(a)] = [a, 1, id(owner)]
            known = owners.get(id(owner))
            if known is None:
                known = owners[id(owner)] = [owner, 0]
            if owner is not a:
                known[1] += 1
    return held, owners


def _count_references(entry: list) -> int:
    """The reference count of ``entry[0]``: the references held elsewhere, plus the list's
    and the call's own (as for ``[object()]``)."""
    return sys.getrefcount(entry[0])


#: ``_count_references``, or None where the interpreter counts no references (PyPy).
_references = _count_references if hasattr(sys, "getrefcount") else None


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
