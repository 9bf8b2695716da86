"""Forward mode: ``JVPTrace`` carries a (primal, tangent) pair through every primitive.

The primal is a concrete array (or a tracer of an outer transformation, which is concrete
in turn), so Python control flow on traced values works. A tangent known to be zero is the
symbolic ``zero``: a primitive whose inputs all have zero tangents returns its plain primal
output, and the work of the derivative is skipped entirely.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from functrans import errors
from functrans._abstract import PY_SCALARS, dtype_of
from functrans.config import config
from functrans.core.debug_nans import jvp_scope
from functrans.core.trace import (
    Trace,
    Tracer,
    check_foreign_tracer,
    enter_scope,
    exit_scope,
    pop_trace,
    push_trace,
)
from functrans.core.zeros import zero

_new = object.__new__


class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    # The primal is an array, a tracer of an outer transformation, or a Python scalar (an
    # argument differentiated eagerly stays one: weakly typed, as under jit), whose shape is
    # () and dtype its default one.
    @property
    def shape(self):
        primal = self.primal
        return () if type(primal) in PY_SCALARS else primal.shape

    @property
    def dtype(self):
        primal = self.primal
        return dtype_of(primal) if type(primal) in PY_SCALARS else primal.dtype

    def to_concrete(self):
        primal = self.primal
        return primal.to_concrete() if isinstance(primal, Tracer) else primal

    # A Python number made from a float or complex value would carry no derivative: the
    # conversions that would drop it raise instead (bool(), int() and __index__ stay allowed:
    # control flow and indices have no derivative to lose).
    def __float__(self):
        return float(self._number("float(x)"))

    def __complex__(self):
        return complex(self._number("complex(x)"))

    def item(self, *args):
        """The value as a Python scalar; refused for a float or complex value (it would drop
        the derivative: use ``stop_gradient`` first when a constant is meant)."""
        return self._number("x.item()").item(*args)

    def tolist(self):
        """The value as nested Python lists; refused for a float or complex value, as ``item``."""
        return self._number("x.tolist()").tolist()

    def _number(self, what: str):
        """The concrete value, unless it is of a float or complex dtype (whose derivative a
        Python number would drop)."""
        if self.dtype.kind in "fc":
            raise errors.DroppedDerivativeError(
                f"{what} on a value traced by {self._trace.origin} (shape {self.shape}, dtype "
                f"{self.dtype}) would make a Python number without its derivative, so the "
                "gradient through it would silently be 0 (this includes math.exp(x) and the like, "
                "and storing x into a NumPy array, B[i] = x, which call float(x)). Compute with "
                "functrans.numpy instead (fnp.exp(x), x.at[i].set(v)); if a constant is meant, "
                "write float(ft.stop_gradient(x))."
            )
        return self.to_concrete()

    def __repr__(self):
        return f"Traced<{self._trace.origin}>({self.primal!r})"


class JVPTrace(Trace):
    __slots__ = ()

    def process_primitive(self, prim, args, params):
        # One and two arguments (nearly every primitive) are unpacked without a loop, and a
        # registrar's rule takes the pairs as they are (``Primitive.jvp_args``). bind chose
        # this trace, so at least one argument is its tracer.
        rule = prim.jvp
        unpacked = prim.jvp_args
        if unpacked is not None and unpacked[0] is not rule:
            unpacked = None
        n = len(args)
        if n == 1:
            (x,) = args
            if type(x) is not JVPTracer or x._trace is not self:
                return self.apply_rule(prim, rule, args, params)
            if unpacked is not None:
                out, tangent_out = (unpacked[1](x.primal, x.tangent, **params) if params
                                    else unpacked[1](x.primal, x.tangent))
            else:
                return self.apply_rule(prim, rule, args, params, [x.primal], [x.tangent])
        elif n == 2:
            x, y = args
            if type(x) is JVPTracer and x._trace is self:
                px, tx = x.primal, x.tangent
                if type(y) is JVPTracer and y._trace is self:
                    py, ty = y.primal, y.tangent
                elif not isinstance(y, Tracer):
                    py, ty = y, zero
                else:
                    return self.apply_rule(prim, rule, args, params)
            elif type(y) is JVPTracer and y._trace is self and not isinstance(x, Tracer):
                px, tx, py, ty = x, zero, y.primal, y.tangent
            else:
                return self.apply_rule(prim, rule, args, params)
            if unpacked is not None and not params:
                out, tangent_out = unpacked[1](px, tx, py, ty)
            elif unpacked is not None and len(unpacked) > 2:  # (a rule that takes parameters)
                out, tangent_out = unpacked[2](px, tx, py, ty, **params)
            else:
                return self.apply_rule(prim, rule, args, params, [px, py], [tx, ty])
        else:
            return self.apply_rule(prim, rule, args, params)
        if tangent_out is zero:
            return out
        # filled in here rather than by __init__: one Python call less, once per primitive
        tracer = _new(JVPTracer)
        tracer._trace = self
        tracer.primal = out
        tracer.tangent = tangent_out
        return tracer

    def apply_rule(self, prim: Any, rule: Callable | None, args: Sequence, params: dict,
                   primals: list | None = None, tangents: list | None = None) -> Any:
        """``prim``'s JVP rule ``rule`` applied to ``args`` (split into ``primals`` and
        ``tangents`` unless given): the output, or its tracers."""
        if primals is None or tangents is None:
            primals, tangents = self.split(args)
        if rule is None:
            if not prim.differentiable:
                return prim.bind(*primals, **params)
            raise NotImplementedError(
                f"functrans cannot differentiate the primitive {prim.name!r}: it has no JVP rule."
            )
        out, tangent_out = rule(primals, tangents, **params) if params else rule(primals, tangents)
        if prim.multiple_results:
            return [o if t is zero else JVPTracer(self, o, t) for o, t in zip(out, tangent_out)]
        return out if tangent_out is zero else JVPTracer(self, out, tangent_out)

    def split(self, args: Sequence) -> tuple[list, list]:
        """The primals and the tangents of ``args``: a value that is not this trace's tracer is
        a constant, of tangent ``zero`` (a tracer of an outer transformation is checked to be
        one)."""
        primals = []
        tangents = []
        for arg in args:
            if type(arg) is JVPTracer and arg._trace is self:
                primals.append(arg.primal)
                tangents.append(arg.tangent)
            else:
                if isinstance(arg, Tracer):  # an outer transformation's: check it is one
                    check_foreign_tracer(self, arg)
                primals.append(arg)
                tangents.append(zero)
        return primals, tangents


_process_primitive = JVPTrace.__dict__["process_primitive"]


def _process_primitive_in_scope(self: JVPTrace, prim: Any, args: Sequence, params: dict) -> Any:
    """``JVPTrace.process_primitive`` while debug_nans is on: the rule runs in the scope
    ``jvp[name]``, so that a NaN it makes is reported as made by the JVP of ``prim``."""
    outer = enter_scope(jvp_scope(prim))
    try:
        return _process_primitive(self, prim, args, params)
    finally:
        exit_scope(outer)


def _set_scope_marks(on: bool) -> None:
    JVPTrace.process_primitive = _process_primitive_in_scope if on else _process_primitive  # type: ignore[method-assign]


config.watch("debug_nans", _set_scope_marks)


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
    trace = push_trace(JVPTrace, origin)  # (not new_trace's with block: cheaper, every call)
    try:
        tracers = [p if t is zero else JVPTracer(trace, p, t) for p, t in zip(primals, tangents)]
        pairs = [split_output(trace, out) for out in fun(tracers)]
    finally:
        pop_trace(trace)
    return [p for p, _ in pairs], [t for _, t in pairs]
