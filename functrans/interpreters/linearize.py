"""Linearize by recording: run forward mode with tangents that are variables of a staging
trace, so that every tangent operation (all of them linear) is appended to a flat program.

The primal computation runs eagerly as usual; the program that comes out maps input
tangents to output tangents, with the residuals it needs (cos(x) for sin, say) held as
constants. ``vjp`` transposes that program; ``jvp`` of it would simply evaluate it.

Levels: the staging trace sits one level below the JVP trace, so the JVP trace's rules,
which apply primitives to tangents, reach the staging trace; and both sit above any outer
transformation, whose tracers therefore appear in the program as constants.
"""
from __future__ import annotations

from functrans.core.ir import StagingTrace
from functrans.core.trace import new_trace
from functrans.core.zeros import zero
from functrans.interpreters.jvp import JVPTrace, JVPTracer, split_output


class LinearProgram:
    """A recorded linear map from input tangents to output tangents."""

    __slots__ = ("trace", "in_vars", "out_tangents")

    def __init__(self, trace, in_vars, out_tangents):
        self.trace = trace
        self.in_vars = in_vars
        self.out_tangents = out_tangents  # Var of the trace, or zero


def linearize_flat(fun, primals, origin):
    """Run ``fun(list_of_tracers) -> list_of_outputs``; return (outputs, LinearProgram, extra).

    ``fun`` returns a pair ``(output_leaves, extra)``; ``extra`` is passed through untouched
    (it carries auxiliary data and the output tree structure).
    """
    with new_trace(StagingTrace, origin) as staging, new_trace(JVPTrace, origin) as jvp_trace:
        staging.records_tangents = True
        in_vars = [staging.new_var(p.shape, p.dtype) for p in primals]
        # Integer and boolean inputs have no tangent: they enter as the constants they are.
        tracers = [JVPTracer(jvp_trace, p, v) if p.dtype.kind in "fc" else p
                   for p, v in zip(primals, in_vars)]
        outs, extra = fun(tracers)
        out_primals = []
        out_tangents = []
        for out in outs:
            primal, tangent = split_output(jvp_trace, out)
            if tangent is not zero and not staging.is_own(tangent):
                tangent = zero  # a tangent that does not depend on the input tangents is 0
            out_primals.append(primal)
            out_tangents.append(tangent)
    return out_primals, LinearProgram(staging, in_vars, out_tangents), extra
