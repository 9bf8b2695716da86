"""A staged program: variables, equations, and the trace that records them.

``StagingTrace`` does not compute: every primitive applied to one of its ``Var`` tracers is
appended, in execution order, to a flat list of ``Eqn``. Values that are not its own
variables (concrete arrays, tracers of outer transformations) are kept as constants.
``linearize`` uses it to record the linear tangent program; the list being already in
execution order, reverse mode is a reverse walk over it, with no graph search.
"""
from __future__ import annotations

from functrans.core.trace import Trace, Tracer

_NO_PARAMS: dict = {}


class Var(Tracer):
    """A variable of a staged program: it has a shape and dtype but no value.

    A variable computed by a single-output primitive is also the equation that defines it
    (``prim``, ``args``, ``params``): one object per recorded operation instead of two, on
    the hot path of reverse mode. Inputs have ``prim = None``.
    """

    __slots__ = ("shape", "dtype", "index", "prim", "args", "params")

    def __init__(self, trace, shape, dtype, index, prim=None, args=(), params=None):
        self._trace = trace
        self.shape = shape
        self.dtype = dtype
        self.index = index
        self.prim = prim
        self.args = args
        self.params = params

    @property
    def out(self):
        return self

    def __repr__(self):
        return f"Var(v{self.index}: {_type_str(self.shape, self.dtype)})"


class Eqn:
    """One primitive application: ``out = prim(*args, **params)``."""

    __slots__ = ("prim", "args", "params", "out")

    def __init__(self, prim, args, params, out):
        self.prim = prim
        self.args = args
        self.params = params
        self.out = out


class StagingTrace(Trace):
    """Records every primitive applied to its variables instead of computing it.

    ``eqns`` lists, in execution order, the ``Var`` of each single-output operation (it is
    its own equation) and an ``Eqn`` for each multiple-output one.
    """

    __slots__ = ("eqns", "num_vars", "transposing", "records_tangents")

    def __init__(self, level, origin):
        super().__init__(level, origin)
        self.eqns: list[Eqn] = []
        self.num_vars = 0
        # True while reverse mode walks this program: then, and only then, its variables are
        # the linear inputs of the transpose rules (see ``is_linear``).
        self.transposing = False
        # True for the program ``linearize`` records (its variables are tangents), False for
        # a program staged by ``make_jaxpr`` (its variables are ordinary values).
        self.records_tangents = False

    def new_var(self, shape, dtype) -> Var:
        var = Var(self, shape, dtype, self.num_vars)
        self.num_vars += 1
        return var

    def process_primitive(self, prim, args, params):
        rule_out = prim.shape_rule(*args, **params)
        if prim.multiple_results:
            out = tuple(self.new_var(shape, dtype) for shape, dtype in rule_out)
            self.eqns.append(Eqn(prim, args, params or _NO_PARAMS, out))
            return out
        shape, dtype = rule_out
        var = Var(self, shape, dtype, self.num_vars, prim, args, params or _NO_PARAMS)
        self.num_vars += 1
        self.eqns.append(var)
        return var

    def is_own(self, x) -> bool:
        return type(x) is Var and x._trace is self


def is_linear(x) -> bool:
    """In a transpose rule: is this argument a linear input or a constant?

    A linear input is a variable of the program being transposed. A variable of any other
    staged program (an outer ``make_jaxpr``, say, whose values are residuals here) is a
    constant like any array.
    """
    return type(x) is Var and x._trace.transposing


def is_recorded_tangent(x) -> bool:
    """In a JVP rule: is this tangent being recorded by ``linearize`` (reverse mode is coming)
    rather than computed (forward mode)?"""
    return type(x) is Var and x._trace.records_tangents


def _type_str(shape, dtype) -> str:
    return f"{dtype}[{','.join(map(str, shape))}]"


def format_program(trace: StagingTrace, inputs, outputs) -> str:
    """The recorded program, one equation a line, with shapes and dtypes."""

    def name(x):
        if type(x) is Var and x._trace is trace:
            return f"v{x.index}"
        if isinstance(x, (int, float, complex, bool)):
            return repr(x)
        shape = getattr(x, "shape", None)
        return f"const:{_type_str(shape, x.dtype)}" if shape is not None else repr(x)

    def typed(v):
        return f"v{v.index}:{_type_str(v.shape, v.dtype)}"

    lines = ["{ lambda " + " ".join(typed(v) for v in inputs) + " ."]
    for eqn in trace.eqns:
        outs = eqn.out if isinstance(eqn.out, tuple) else (eqn.out,)
        params = "".join(f" {k}={v}" for k, v in eqn.params.items())
        args = " ".join(name(a) for a in eqn.args)
        lines.append(f"    {' '.join(typed(o) for o in outs)} = {eqn.prim.name}[{params.strip()}] {args}")
    lines.append("  in (" + ", ".join(name(o) for o in outputs) + ") }")
    return "\n".join(lines)
