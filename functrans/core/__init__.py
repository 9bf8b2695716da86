"""The core: primitives, traces and tracers, the staged-program IR, the symbolic zero."""
from functrans.core.ir import Eqn, StagingTrace, Var, is_linear
from functrans.core.primitive import Primitive
from functrans.core.trace import Trace, Tracer, is_tracer, new_trace
from functrans.core.zeros import zero

__all__ = [
    "Eqn", "Primitive", "StagingTrace", "Trace", "Tracer", "Var",
    "is_linear", "is_tracer", "new_trace", "zero",
]
