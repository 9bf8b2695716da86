"""Recording programs, and running them: the traces that build a ``Program`` instead of
computing, ``stage`` (a function recorded on abstract inputs) and ``eval_program``.

``StagingTrace`` does not compute: every primitive applied to one of its variables is
appended, in execution order, to a flat list of equations, with the user's source line and
the name scope. Values that are not its own variables (concrete arrays, tracers of outer
transformations) stay in the equations as constants. ``LinearTrace`` records the linear
programs of reverse mode (``linearize``'s tangent program), without metadata: it runs once
per primitive under ``grad``, where a frame walk would cost more than most primitives.

Python scalars given to ``jit`` are inputs that stand for a Python ``bool``/``int``/``float``/
``complex`` (weakly typed, as NumPy 2 treats a Python scalar): a recording keeps, for each
variable computed from them, the Python type it stands for (``scalar_kind``), so that
promotion at recording gives the dtypes NumPy gives the eager function, and an error that
needs such a value names the argument it came from.
"""
from __future__ import annotations

import contextlib
import operator
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from numpy import generic as _NUMPY_SCALAR
from numpy import ndarray as _NUMPY_ARRAY
from numpy import result_type as _result_type

from functrans._abstract import dtype_of
from functrans.config import config
from functrans.core.ir import Eqn, Program, Var
from functrans.core.primitive import Primitive
from functrans.core.trace import Trace, Tracer, _stack, capturing, check_foreign_tracer, named_scope, new_trace

_NO_PARAMS: dict = {}
_new = object.__new__

# Sample values standing for a Python scalar of each type, for shape rules and probes.
_SAMPLES: dict = {bool: True, int: 1, float: 1.0, complex: 1j}

# Primitives whose implementation can run on sample Python scalars at recording: elementwise
# ones (their shape rules already probe them so). Applied to values that stand for Python
# scalars only, their result stands for one when the implementation returns one.
_SCALAR_PROBED: set = set()


def probe_with_scalars(prim) -> None:
    """Declare ``prim`` elementwise and cheap on Python scalars: applied under ``jit`` to
    Python scalar inputs (and values computed from them alone), its result stands for a
    Python scalar exactly when its implementation, run on Python scalars, returns one (``+``
    does, ``sin`` returns a NumPy scalar), as in the function run without ``jit``.

    Example:
        >>> from functrans.primitives import add_p
        >>> probe_with_scalars(add_p)  # (elementwise primitives are declared when made)
    """
    _SCALAR_PROBED.add(prim)


def scalar_kind(x) -> type | None:
    """The Python scalar type ``x`` stands for: its own type for a Python scalar, the type of
    the Python scalar a variable of a ``jit`` recording stands for, else ``None`` (arrays,
    NumPy scalars, other tracers).

    Example:
        >>> import numpy as np
        >>> scalar_kind(2.0), scalar_kind(np.float64(2.0))
        (<class 'float'>, None)
    """
    kind = type(x)
    if kind in _SAMPLES:
        return kind
    if kind is Var:
        scalars = x._trace.scalars
        if scalars is not None:
            info = scalars.get(x.index)
            if info is not None:
                return info[0]
    return None

# Frames of files under this directory are functrans's own; the first other frame is the
# user's code that applied a primitive.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_source():
    """``(filename, line)`` of the innermost frame outside functrans, or ``None`` when that
    code is not in a Python file (a doctest, the REPL: no file to open at that line)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            return (filename, frame.f_lineno) if filename.endswith(".py") else None
        frame = frame.f_back
    return None


class StagingTrace(Trace):
    """Records every primitive applied to its variables as an ``Eqn`` instead of computing it.

    Each equation carries its source line (when ``config.staging_source_info`` is on) and the
    name scope; ``scope_base`` is the depth of the scope when the trace started, so that a
    program shows only the names entered inside it.
    """

    __slots__ = ("eqns", "num_vars", "scope_base", "scalars")

    #: Whether the recorded program is linear in its variables (see ``ir.is_linear``).
    linear = False

    def __init__(self, level: int, origin: str):
        Trace.__init__(self, level, origin)
        self.eqns: list[Eqn] = []
        self.num_vars = 0
        self.scope_base = len(_stack.scope)
        # Variables computed from Python scalar inputs alone: index -> (the Python type the
        # value stands for, or None when it is a NumPy value; the origin of the
        # input, for errors). None in programs without such inputs.
        self.scalars: dict[int, tuple] | None = None

    def new_var(self, shape, dtype) -> Var:
        var = Var(self, shape, dtype, self.num_vars)
        self.num_vars += 1
        return var

    def process_primitive(self, prim, args, params):
        from_scalars = False
        for arg in args:
            if isinstance(arg, Tracer):
                trace = arg._trace
                if trace is not self:  # kept as a constant
                    check_foreign_tracer(self, arg)
                if type(arg) is Var and trace.scalars is not None and arg.index in trace.scalars:
                    from_scalars = True
        host_step = False
        if from_scalars and prim in _SCALAR_PROBED:
            args = _explicit_weak(self, args)
        if from_scalars:
            outs, host_step = _scalar_vars(self, prim, args, params)
        else:
            outs = _new_vars(self, prim, args, params)
        source = user_source() if config.staging_source_info else None
        self.eqns.append(Eqn(prim, args, params or _NO_PARAMS, outs, source, _stack.scope))
        if host_step:  # a 0-d array made from Python scalars alone: a NumPy scalar, as eagerly
            return host_scalar_p.bind(outs[0])
        return outs if prim.multiple_results else outs[0]

    def is_own(self, x) -> bool:
        return type(x) is Var and x._trace is self


class LinearTrace(StagingTrace):
    """Records a linear program (the tangent program of ``linearize``, a function given to
    ``linear_transpose``): its variables are the linear inputs of the transpose rules.

    Its equations carry no metadata: this trace records every tangent operation of ``grad``,
    so its ``process_primitive`` does no more than make the variable and the equation.
    """

    __slots__ = ()

    linear = True

    def process_primitive(self, prim, args, params):
        if prim.multiple_results:
            outs = _new_vars(self, prim, args, params)
            self.eqns.append(Eqn(prim, args, params or _NO_PARAMS, outs, None, ()))
            return outs
        shape, dtype = prim.shape_rule(*args, **params) if params else prim.shape_rule(*args)
        n = self.num_vars
        self.num_vars = n + 1
        # The variable and the equation are filled in here rather than by their __init__:
        # one Python call less per object, on the path every tangent operation of grad takes.
        var = _new(Var)
        var._trace = self
        var.shape = shape
        var.dtype = dtype
        var.index = n
        eqn = _new(Eqn)
        eqn.prim = prim
        eqn.args = args
        eqn.params = params or _NO_PARAMS
        eqn.outs = (var,)
        eqn.source = None
        eqn.scope = ()
        self.eqns.append(eqn)
        return var


    #: Whether ``record_like`` may build the equation itself (not while debug_nans is on,
    #: which records every tangent operation's source line through ``process_primitive``).
    direct = True

    def record_like(self, prim: Primitive, args: tuple, like: Var, params: dict = _NO_PARAMS) -> Var:
        """Record ``prim(*args, **params)`` whose output has the shape and dtype of ``like``
        (the caller knows it: ``scale`` of a tangent by a value of its own shape and dtype, a
        tangent product shaped like the primal one), without the shape rule; returns the
        output variable. Same equation as ``process_primitive`` records."""
        if not self.direct:
            return self.process_primitive(prim, args, params)
        n = self.num_vars
        self.num_vars = n + 1
        var = _new(Var)
        var._trace = self
        var.shape = like.shape
        var.dtype = like.dtype
        var.index = n
        eqn = _new(Eqn)
        eqn.prim = prim
        eqn.args = args
        eqn.params = params
        eqn.outs = (var,)
        eqn.source = None
        eqn.scope = ()
        self.eqns.append(eqn)
        return var


class ScalarAwareLinearTrace(LinearTrace):
    """``LinearTrace`` for a linearization inside a ``jit`` recording with Python scalar
    inputs: an elementwise primitive's shape rule sees a Python scalar where an argument
    stands for one, so a float32 tangent times a Python float learning rate stays float32
    (``linear_trace_type`` picks it; ``LinearTrace`` itself does no such check, on grad's
    hot path)."""

    __slots__ = ()

    def process_primitive(self, prim, args, params):
        if prim in _SCALAR_PROBED:
            rule_args = tuple(_SAMPLES[kind] if type(a) is Var and (kind := scalar_kind(a)) is not None
                              else a for a in args)
            if any(r is not a for r, a in zip(rule_args, args)):
                outs = _new_vars(self, prim, rule_args, params)
                self.eqns.append(Eqn(prim, args, params or _NO_PARAMS, outs, None, ()))
                return outs if prim.multiple_results else outs[0]
        return LinearTrace.process_primitive(self, prim, args, params)


def linear_trace_type() -> type:
    """The trace type that records a linear program here: ``ScalarAwareLinearTrace`` inside
    a recording with Python scalar inputs (in this thread), else ``LinearTrace``.

    Example:
        >>> linear_trace_type() is LinearTrace
        True
    """
    for trace in _stack.traces:
        if isinstance(trace, StagingTrace) and trace.scalars:
            return ScalarAwareLinearTrace
    return LinearTrace


def _new_vars(trace: StagingTrace, prim, args, params) -> tuple:
    """The output variables of ``prim`` applied to ``args``, from its shape rule."""
    rule_out = prim.shape_rule(*args, **params)
    n = trace.num_vars
    if prim.multiple_results:
        outs = tuple(Var(trace, shape, dtype, n + i) for i, (shape, dtype) in enumerate(rule_out))
    else:
        outs = (Var(trace, rule_out[0], rule_out[1], n),)
    trace.num_vars = n + len(outs)
    return outs


# Python's operators whose primitives (NumPy ufuncs) give NumPy scalars where Python's give
# Python scalars (abs, //, %): applied to values that all stand for Python scalars (see
# ``scalar_kind``), a recording applies Python's operator itself (``python_operator_p``), so
# that ``x_float32 * abs(lr)`` under jit is float32 and has the value it has without jit.
_PYTHON_OPERATORS: dict[str, Callable] = {
    "abs": abs, "floordiv": operator.floordiv, "mod": operator.mod,
    "rfloordiv": lambda a, b: b // a, "rmod": lambda a, b: b % a,
}


def _python_operator_impl(*args, operator: str):
    return _PYTHON_OPERATORS[operator](*args)


def _python_operator_shape(*args, operator: str):
    samples = [_SAMPLES[scalar_kind(a)] for a in args]
    return (), dtype_of(_PYTHON_OPERATORS[operator](*samples))


#: One of Python's operators on Python scalars, as Python computes it (a jit recording's step
#: for ``abs(s)``, ``s // 2``, ``7 % s`` where every operand stands for a Python scalar).
python_operator_p = Primitive("python_operator")
python_operator_p.impl = _python_operator_impl
python_operator_p.shape_rule = _python_operator_shape
python_operator_p.differentiable = False


def _host_scalar_impl(x):
    return x[()] if type(x) is _NUMPY_ARRAY else x


#: A 0-d NumPy array as a NumPy scalar (a jit recording's step after a primitive applied to
#: values standing for Python scalars alone whose result may be a 0-d array).
host_scalar_p = Primitive("host_scalar")
host_scalar_p.impl = _host_scalar_impl
host_scalar_p.shape_rule = lambda x: ((), x.dtype)
host_scalar_p.differentiable = False


def _python_scalar_operator(name: str) -> Callable:
    dunder = f"__{name}__"

    def method(self: Var, *other: Any) -> Any:
        kinds = [scalar_kind(self), *(scalar_kind(o) for o in other)]
        if None in kinds:
            return getattr(Tracer, dunder)(self, *other)
        try:
            kind = type(_PYTHON_OPERATORS[name](*(_SAMPLES[k] for k in kinds)))
        except Exception:  # (Python refuses the operands: the primitive's error says why)
            kind = None
        if kind not in _SAMPLES:
            return getattr(Tracer, dunder)(self, *other)
        origin = self._trace.scalars[self.index][1]
        if hasattr(origin, "convert"):
            # a loop's program, which other transformations rewrite: the ordinary primitive
            out = getattr(Tracer, dunder)(self, *other)
        else:
            out = python_operator_p.bind(self, *other, operator=name)
        out._trace.scalars[out.index] = (kind, origin)
        return out

    method.__name__ = dunder
    return method


for _name in _PYTHON_OPERATORS:
    setattr(Var, f"__{_name}__", _python_scalar_operator(_name))


def _scalar_vars(trace: StagingTrace, prim, args, params) -> tuple:
    """``_new_vars`` for an equation some of whose arguments are computed from Python scalar
    inputs: for an elementwise primitive, the shape rule sees a Python scalar where the
    argument stands for one (so promotion is NumPy's for Python scalars), and the outputs
    are marked as standing for a Python scalar or as computed from scalar inputs."""
    infos = [_scalar_info(a) for a in args]
    probed = prim in _SCALAR_PROBED
    rule_args = args
    if probed:
        rule_args = tuple(a if info is None or info[0] is None else _SAMPLES[info[0]]
                          for a, info in zip(args, infos))
    outs = _new_vars(trace, prim, rule_args, params)
    if any(isinstance(a, Tracer) and info is None for a, info in zip(args, infos)):
        return outs, False  # also computed from arrays: an array value, with the array's origin
    origin = next(info[1] for info in infos if info is not None)
    kind = None  # the type of the result on host scalars, if the primitive is probed
    single = not prim.multiple_results and outs[0].shape == ()
    if probed and single:
        # (values standing for Python scalars as those, NumPy values of scalars as NumPy scalars)
        samples = [_SAMPLES[info[0]] if info is not None and info[0] is not None
                   else a.dtype.type(1) if info is not None else a for a, info in zip(args, infos)]
        try:
            kind = type(prim.impl(*samples, **params))
        except Exception:  # (a sample the primitive rejects: the result is then a NumPy value)
            kind = None
    weak = all(info[0] is not None if info is not None else type(a) in _SAMPLES
               for a, info in zip(args, infos))
    if trace.scalars is None:
        trace.scalars = {}
    for out in outs:
        trace.scalars[out.index] = (kind if weak and kind in _SAMPLES else None, origin)
    # At replay the primitive gets host scalars only; a 0-d result that may be a 0-d array
    # (np.where gives one) is made a NumPy scalar, which mixes with arrays of every device as
    # the eager function's scalars do.
    host_step = (single and prim is not host_scalar_p and getattr(origin, "replayed", True)
                 and (kind is None or not (kind in _SAMPLES or issubclass(kind, _NUMPY_SCALAR))))
    return outs, host_step


def _explicit_weak(trace: StagingTrace, args: tuple) -> tuple:
    """``args`` of an elementwise primitive with each value that stands for a Python scalar
    and whose origin converts (``origin.convert``, the conversion primitive: a loop's weakly
    typed carry) converted, in ``trace``, to the dtype NumPy computes in when a Python scalar
    meets the other, strongly typed operands (a counter ``i`` times a float32 ``x``:
    float32). The program then says so itself: its replay, and the programs other
    transformations derive from it, give the recorded dtypes whatever the counter's runtime
    type."""
    infos = [_scalar_info(a) for a in args]
    weak = [i for i, info in enumerate(infos)
            if info is not None and info[0] is not None and hasattr(info[1], "convert")]
    if not weak:
        return args
    strong = [dtype_of(a) for a, info in zip(args, infos)
              if (info is None or info[0] is None) and type(a) not in _SAMPLES]
    if not strong:
        return args
    dtype = _result_type(*strong, *(_SAMPLES[infos[i][0]] for i in weak))  # host-metadata: dtype rule
    args = list(args)
    for i in weak:
        if args[i].dtype != dtype:
            args[i] = StagingTrace.process_primitive(trace, infos[i][1].convert, (args[i],), {"new_dtype": dtype})
    return tuple(args)


def _scalar_info(x) -> tuple | None:
    """``(kind, origin)`` of a variable computed from Python scalar inputs, else ``None``."""
    if type(x) is Var and x._trace.scalars is not None:
        return x._trace.scalars.get(x.index)
    return None


def stage(flat_fun: Callable[[list], Sequence], avals: Sequence[tuple], origin: str, *,
          linear: bool = False, scalars: dict[int, tuple] | None = None, capture: bool = False) -> Program:
    """Record ``flat_fun`` on abstract inputs: one variable per ``(shape, dtype)`` of
    ``avals``, given as a list; ``flat_fun`` returns a list of outputs.

    The one way functrans records a function: ``jit``, ``make_jaxpr``, ``linear_transpose``,
    and the shape rules of custom rules and checkpoint all use it. With ``linear=True`` the
    program is linear (its variables are linear inputs of the transpose rules).
    ``scalars`` maps positions of ``avals`` to ``(kind, origin)``: that input stands for a
    Python scalar of type ``kind`` (weakly typed: promotion treats it as NumPy treats a
    Python scalar); ``origin`` names it in errors (its ``message(use)`` is the error's text)
    and says whether the program is replayed on devices (``replayed``: then a 0-d array made
    of such values alone becomes a NumPy scalar, ``host_scalar_p``). With ``capture=True``
    the program also records what ``flat_fun`` computes from the values of outer
    transformations and from plain arrays (``capturing``): the branches of ``cond``.

    Example:
        >>> import numpy as np
        >>> from functrans.core.staging import stage
        >>> from functrans.primitives import sin_p
        >>> program = stage(lambda xs: [sin_p.bind(xs[0])], [((3,), np.dtype("float64"))], "example")
        >>> [eqn.prim.name for eqn in program.eqns], program.outs[0].shape
        (['sin'], (3,))
    """
    with new_trace(LinearTrace if linear else StagingTrace, origin) as trace:
        in_vars = [trace.new_var(tuple(shape), dtype) for shape, dtype in avals]
        if scalars:
            trace.scalars = {in_vars[i].index: info for i, info in scalars.items()}
        if capture:
            with capturing(trace):
                outs = list(flat_fun(in_vars))
        else:
            outs = list(flat_fun(in_vars))
    return Program(trace, in_vars, trace.eqns, outs)


def stage_closed(flat_fun: Callable[[list], Sequence], avals: Sequence[tuple], origin: str, *,
                 scalars: dict[int, tuple] | None = None, capture: bool = False) -> tuple[Program, list]:
    """``stage``, with the tracers ``flat_fun`` closes over (tracers of outer transformations,
    variables of an outer recording) made explicit inputs: the body of a higher-order
    primitive, whose application must hand those tracers to the outer transformations as
    arguments (a constant hidden in a parameter would escape them).

    Returns the program, whose inputs are one variable per closed-over tracer followed by one
    per entry of ``avals``, and the list of those tracers. Concrete constants stay in the
    equations as they are.

    Example:
        >>> import numpy as np
        >>> from functrans.core.staging import stage_closed
        >>> from functrans.primitives import mul_p
        >>> program, consts = stage_closed(lambda xs: [mul_p.bind(xs[0], 2.0)],
        ...                                [((), np.dtype("float64"))], "example")
        >>> len(program.in_vars), consts
        (1, [])
    """
    return close_over_tracers(stage(flat_fun, avals, origin, scalars=scalars, capture=capture))


def close_over_tracers(program: Program) -> tuple[Program, list]:
    """``program`` with the tracers it holds as constants (tracers of other transformations,
    variables of another recording) made its first inputs; returns it and those tracers.
    The equations are updated in place (for a program just recorded, as ``stage_closed``
    and the linearized bodies of control flow have).

    Example:
        >>> import numpy as np
        >>> from functrans.core.staging import close_over_tracers, stage
        >>> from functrans.primitives import sin_p
        >>> program = stage(lambda xs: [sin_p.bind(xs[0])], [((), np.dtype("float64"))], "example")
        >>> len(close_over_tracers(program)[0].in_vars)
        1
    """
    trace = program.trace
    lifted: dict[int, Var] = {}
    consts: list = []

    def lift(x):
        if not isinstance(x, Tracer) or (type(x) is Var and x._trace is trace):
            return x
        var = lifted.get(id(x))
        if var is None:
            var = lifted[id(x)] = trace.new_var(tuple(x.shape), x.dtype)
            consts.append(x)
            info = _scalar_info(x)
            if info is not None:  # still stands for the Python scalar it stood for outside
                if trace.scalars is None:
                    trace.scalars = {}
                trace.scalars[var.index] = info
        return var

    for eqn in program.eqns:
        if any(isinstance(a, Tracer) and (type(a) is not Var or a._trace is not trace) for a in eqn.args):
            eqn.args = tuple(lift(a) for a in eqn.args)
    outs = [lift(o) for o in program.outs]
    return Program(trace, [lifted[id(c)] for c in consts] + program.in_vars, program.eqns, outs), consts


def eval_program(program: Program, inputs: Sequence, scope: str | None = None,
                 frees: Sequence[tuple[int, ...]] | None = None) -> list:
    """Run ``program`` on values for its inputs, each equation through ``Primitive.bind`` (so
    tracers among the inputs or constants see every primitive); returns the outputs
    (``zero`` stays ``zero``). ``scope`` names the operations in an outer recording.
    ``frees[i]``, if given, lists the variables whose last use is equation ``i``: they are
    dropped right after it, so intermediates live no longer than they must."""
    trace = program.trace
    env: list = [None] * trace.num_vars
    for var, value in zip(program.in_vars, inputs):
        env[var.index] = value
    with named_scope(scope) if scope else contextlib.nullcontext():
        for position, eqn in enumerate(program.eqns):
            args = [env[a.index] if type(a) is Var and a._trace is trace else a for a in eqn.args]
            out = eqn.prim.bind(*args, **eqn.params)
            if eqn.prim.multiple_results:
                for o, value in zip(eqn.outs, out):
                    env[o.index] = value
            else:
                env[eqn.outs[0].index] = out
            if frees is not None:
                del args, out
                for index in frees[position]:
                    env[index] = None
    return [env[o.index] if type(o) is Var and o._trace is trace else o for o in program.outs]
