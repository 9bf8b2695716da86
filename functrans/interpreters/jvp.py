"""Forward mode: ``JVPTrace`` carries a (primal, tangent) pair through every primitive.

The primal is a concrete array (or a tracer of an outer transformation, which is concrete
in turn), so Python control flow on traced values works. A tangent known to be zero is the
symbolic ``zero``: a primitive whose inputs all have zero tangents returns its plain primal
output, and the work of the derivative is skipped entirely.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from functrans.core.trace import Trace, Tracer, new_trace
from functrans.core.zeros import zero

_new = object.__new__


class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def shape(self):
        return self.primal.shape

    @property
    def dtype(self):
        return self.primal.dtype

    def to_concrete(self):
        primal = self.primal
        return primal.to_concrete() if isinstance(primal, Tracer) else primal

    def __repr__(self):
        return f"Traced<{self._trace.origin}>({self.primal!r})"


class JVPTrace(Trace):
    __slots__ = ()

    def process_primitive(self, prim, args, params):
        primals = []
        tangents = []
        for arg in args:
            if type(arg) is JVPTracer and arg._trace is self:
                primals.append(arg.primal)
                tangents.append(arg.tangent)
            else:
                primals.append(arg)
                tangents.append(zero)
        rule = prim.jvp
        if rule is None:
            if not prim.differentiable:
                return prim.bind(*primals, **params)
            raise NotImplementedError(
                f"functrans cannot differentiate the primitive {prim.name!r}: it has no JVP rule."
            )
        out, tangent_out = rule(primals, tangents, **params)
        if prim.multiple_results:
            return [o if t is zero else JVPTracer(self, o, t) for o, t in zip(out, tangent_out)]
        if tangent_out is zero:
            return out
        # filled in here rather than by __init__: one Python call less, once per primitive
        tracer = _new(JVPTracer)
        tracer._trace = self
        tracer.primal = out
        tracer.tangent = tangent_out
        return tracer


def split_output(trace: JVPTrace, out):
    """The (primal, tangent) of one output leaf; ``zero`` if it does not depend on the inputs."""
    if type(out) is JVPTracer and out._trace is trace:
        return out.primal, out.tangent
    return out, zero


def jvp_flat(fun: Callable[[list], Sequence], primals: Sequence, tangents: Sequence,
             origin: str) -> tuple[list, list]:
    """Forward mode on flat lists: ``fun(list_of_tracers) -> list_of_outputs`` evaluated at
    ``primals`` along ``tangents`` (``zero`` allowed); returns the output primals and their
    tangents (``zero`` for an output that does not depend on the inputs)."""
    with new_trace(JVPTrace, origin) as trace:
        tracers = [p if t is zero else JVPTracer(trace, p, t) for p, t in zip(primals, tangents)]
        pairs = [split_output(trace, out) for out in fun(tracers)]
    return [p for p, _ in pairs], [t for _, t in pairs]
