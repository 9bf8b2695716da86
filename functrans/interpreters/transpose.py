"""Reverse mode: transpose a recorded linear program by walking its equations backwards.

Each equation's transpose rule turns the cotangent of its output into cotangents of its
linear inputs; cotangents of a variable used several times are summed. A variable whose
cotangent is never produced costs nothing (symbolic zero). The walk is a loop over a list:
no recursion, so a program of a million equations transposes as easily as a small one.
"""
from __future__ import annotations

from functrans.core.ir import Var
from functrans.core.zeros import zero
from functrans.primitives.elementwise import add_cotangents


def transpose_program(program, out_cts, consume: bool = False):
    """Cotangents of the program's inputs (``None`` where zero) given those of its outputs.

    With ``consume=True`` (a program transposed once, as under ``grad``) each equation is
    dropped from the program as soon as it has been transposed, so the residuals it holds are
    freed during the backward pass instead of after it: peak memory falls by what the
    already-transposed part of the program kept alive.
    """
    trace = program.trace
    was_transposing, trace.transposing = trace.transposing, True
    try:
        return _walk_backwards(program, trace, out_cts, consume)
    finally:
        trace.transposing = was_transposing


def _walk_backwards(program, trace, out_cts, consume):
    acc = [None] * trace.num_vars
    for tangent, ct in zip(program.out_tangents, out_cts):
        if tangent is zero or ct is None:
            continue
        index = tangent.index
        previous = acc[index]
        acc[index] = ct if previous is None else add_cotangents(previous, ct)
    if consume:
        order = _popping(trace.eqns)
        trace.eqns = []
    else:
        order = reversed(trace.eqns)
    for eqn in order:
        if type(eqn) is Var:
            ct = acc[eqn.index]
            if ct is None:
                continue
            acc[eqn.index] = None  # free it as soon as it is used
            in_cts = eqn.prim.transpose(ct, *eqn.args, **eqn.params)
        else:
            out = eqn.out
            cts = [acc[o.index] for o in out]
            if all(c is None for c in cts):
                continue
            for o in out:
                acc[o.index] = None
            in_cts = eqn.prim.transpose(cts, *eqn.args, **eqn.params)
        for arg, ct_in in zip(eqn.args, in_cts):
            if ct_in is None or ct_in is zero or type(arg) is not Var or arg._trace is not trace:
                continue
            index = arg.index
            previous = acc[index]
            acc[index] = ct_in if previous is None else add_cotangents(previous, ct_in)
    return [acc[v.index] for v in program.in_vars]


def _popping(eqns):
    """The equations last to first, each removed from the list as it is handed out."""
    pop = eqns.pop
    while eqns:
        yield pop()
