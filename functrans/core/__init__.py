"""The core: primitives, traces and tracers, the symbolic zero, the IR of recorded programs
(``Var``, ``Eqn``, ``Program``), recording and evaluating them, and the argument flattening
every transformation shares."""
from functrans.core import debug_nans  # (registers the debug_nans setting's swap)
from functrans.core.flatten import FlatFun
from functrans.core.ir import Eqn, Program, Var, is_linear
from functrans.core.primitive import Primitive
from functrans.core.staging import LinearTrace, StagingTrace, eval_program, stage
from functrans.core.trace import Trace, Tracer, is_tracer, named_scope, new_trace
from functrans.core.zeros import zero

__all__ = [
    "Eqn", "FlatFun", "LinearTrace", "Primitive", "Program", "StagingTrace", "Trace", "Tracer", "Var",
    "eval_program", "is_linear", "is_tracer", "named_scope", "new_trace", "stage", "zero",
]
