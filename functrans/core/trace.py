"""Traces, tracers and the per-thread stack of active transformations.

A *trace* is one active transformation (one ``jvp``, one ``grad``, one staging of a
program). Each gets a *level*, its depth in the stack when it started: a transformation
started inside another gets a higher level. A *tracer* is the array stand-in a trace hands
to the user's function; it remembers its trace.

When a primitive is applied, the tracer of the highest level among its arguments decides
which trace processes it (``Primitive.bind``). Tracers of lower levels are treated by that
trace as constants. This is what keeps nested derivatives apart ("perturbation
confusion"): in ``d/dx [x * d/dy (x + y)]`` the inner derivative sees ``x`` as a constant,
because ``x`` belongs to the outer, lower-level trace.
"""
from __future__ import annotations

import threading
from threading import get_ident

from functrans import errors


class Trace:
    """One active transformation. Subclasses implement ``process_primitive``."""

    __slots__ = ("level", "origin", "thread")

    def __init__(self, level: int, origin: str):
        self.level = level
        self.origin = origin  # which transformation made it, for error messages
        # The id of the thread whose stack it is on while alive, None once finished: bind
        # compares it with the current thread's (cheaper than reading the thread-local stack
        # on every primitive), which catches a finished trace and another thread's at once.
        self.thread = get_ident()

    @property
    def alive(self) -> bool:
        """Whether its transformation is still running (in the thread ``thread``)."""
        return self.thread is not None

    def process_primitive(self, primitive, args, params):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(level={self.level}, origin={self.origin!r})"


class _Stack(threading.local):
    def __init__(self):
        self.traces: list[Trace] = []
        # The names of the transformations and user scopes active now, outermost first: every
        # equation of a staged program records the tuple current when it was applied.
        self.scope: tuple[str, ...] = ()
        # A recording that takes every primitive applied while it runs, also those on values
        # of outer transformations or on plain arrays (see ``capturing``); None if none.
        self.capture: Trace | None = None


_stack = _Stack()

#: How many ``capturing`` blocks run now, in any thread: ``bind`` looks at the capture of
#: its own thread only when this is not zero.
CAPTURES = [0]


class capturing:
    """``with capturing(trace):`` while ``trace`` (a recording on top of the stack) runs,
    primitives applied to values of outer transformations, or, with no transformation
    started inside, to plain arrays, are recorded by ``trace`` instead of computed: the
    branches of a ``cond`` take in all the work the user's functions do, so that what the
    branch an example does not take computes is neither run nor differentiated.

    Example:
        >>> trace = push_trace(Trace, "example")
        >>> with capturing(trace):
        ...     pass
        >>> pop_trace(trace)
    """

    __slots__ = ("trace", "outer")

    def __init__(self, trace):
        self.trace = trace

    def __enter__(self):
        self.outer = _stack.capture
        _stack.capture = self.trace
        CAPTURES[0] += 1
        return self.trace

    def __exit__(self, *exc_info):
        CAPTURES[0] -= 1
        _stack.capture = self.outer
        return False


class new_trace:
    """Start a transformation: ``with new_trace(TraceType, origin) as trace:`` pushes a trace
    one level above the current top.

    When the block ends the trace is marked dead, so that a tracer that escaped it (stored in
    a global, say) is caught the next time it is used. (A class rather than a generator
    context manager: it is entered on every transformed call, and this is cheaper.)
    """

    __slots__ = ("trace",)

    def __init__(self, trace_type, origin: str):
        traces = _stack.traces
        self.trace = trace_type(len(traces), origin)

    def __enter__(self):
        _stack.traces.append(self.trace)
        return self.trace

    def __exit__(self, *exc_info):
        _stack.traces.pop()
        self.trace.thread = None
        return False


def push_trace(trace_type: type, origin: str) -> Trace:
    """Start a transformation as ``new_trace`` does, without a ``with`` block: for the entry
    points every ``grad`` call runs (two traces each), where the context managers' calls cost
    more than the work. End it with ``pop_trace``, in a ``finally``.

    Example:
        >>> trace = push_trace(Trace, "example")
        >>> try:
        ...     alive = trace.alive
        ... finally:
        ...     pop_trace(trace)
        >>> alive, trace.alive
        (True, False)
    """
    traces = _stack.traces
    trace = trace_type(len(traces), origin)
    traces.append(trace)
    return trace


def pop_trace(trace: Trace) -> None:
    """End the transformation ``trace`` started by ``push_trace`` (the innermost one)."""
    _stack.traces.pop()
    trace.thread = None


class named_scope:
    """Name the operations applied inside a ``with`` block, for the printed programs
    (``make_jaxpr``), the pictures of ``functrans.viz`` and the error messages of ``jit``.

    Scopes nest: an operation records every scope around it, outermost first, together with
    the transformations it runs under (``grad(loss)``, ``vmap(f)``, ``checkpoint(block)``).
    Nothing is computed differently.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> def f(x):
        ...     with ft.named_scope("layer1"):
        ...         return fnp.tanh(x)
        >>> print(ft.make_jaxpr(f)(np.ones(2)))
        { lambda v0:float64[2] .
            v1:float64[2] = tanh[] v0  # layer1
          in (v1) }
    """

    __slots__ = ("name", "_outer")

    def __init__(self, name: str):
        if not isinstance(name, str):
            raise TypeError(f"named_scope takes a string, got {type(name).__name__}")
        self.name = name
        self._outer: tuple[str, ...] = ()

    def __enter__(self) -> None:
        self._outer = enter_scope(self.name)

    def __exit__(self, *exc_info: object) -> None:
        _stack.scope = self._outer


def enter_scope(name: str) -> tuple[str, ...]:
    """Enter the name scope ``name``; returns the scope to restore with ``exit_scope``. (What
    ``named_scope`` does, as two calls for the paths every ``grad`` call takes.)"""
    outer = _stack.scope
    _stack.scope = outer + (name,)
    return outer


def exit_scope(outer: tuple[str, ...]) -> None:
    """Leave a scope entered with ``enter_scope``, back to ``outer``."""
    _stack.scope = outer


def current_scope() -> tuple[str, ...]:
    """The names of the scopes active in this thread, outermost first."""
    return _stack.scope


def live_traces() -> tuple:
    """The transformations running in this thread, outermost first.

    Example:
        >>> live_traces()
        ()
    """
    return tuple(_stack.traces)


def transforming() -> bool:
    """Whether any transformation (or recording) is active in this thread: with none, no live
    tracer exists, and a higher-order primitive on plain arrays may run its Python directly."""
    return bool(_stack.traces)


def leaked_tracer_error(tracer) -> errors.LeakedTracerError:
    return leaked_tracer_error_of(tracer._trace, f" ({type(tracer).__name__} of shape {tracer.shape})")


def leaked_tracer_error_of(trace: Trace, what: str = "") -> errors.LeakedTracerError:
    return errors.LeakedTracerError(
        f"A tracer created by {trace.origin} was used after that transformation had finished"
        f"{what}. A value computed inside a "
        "transformed function escaped it, for example through a global variable, a list "
        "outside the function, or an attribute of an object. Return the value from the "
        "function instead (use has_aux=True to return extra values from grad)."
    )


def check_foreign_tracer(trace: Trace, tracer: Tracer) -> None:
    """Called when ``trace`` processes a tracer of another trace, which it treats as a
    constant: right only if that tracer belongs to an outer transformation of the same
    thread. A tracer of a finished transformation is a leak; one of a transformation running
    in another thread (or ``trace`` itself being another thread's) would silently get a
    derivative of 0."""
    other = tracer._trace
    traces = _stack.traces
    depth = len(traces)
    if other.level < depth and traces[other.level] is other and trace.level < depth \
            and traces[trace.level] is trace:
        return
    if other.alive and other.level < depth and traces[other.level] is other:
        other = trace  # ``trace`` is the foreign one
    raise unreachable_tracer_error(other)


def unreachable_tracer_error(trace: Trace) -> errors.LeakedTracerError:
    """The error for a tracer of ``trace`` used where ``trace`` is not on this thread's
    stack: its transformation has finished (a leak), or runs in another thread."""
    if not trace.alive:
        return leaked_tracer_error_of(trace)
    return errors.LeakedTracerError(
        f"A tracer created by {trace.origin} in another thread was used in this thread. The "
        "trace stack is per thread, so this thread's transformations cannot see it: its "
        "derivative would silently be lost, and the other thread's program corrupted. Pass "
        "the value into the function that runs in this thread as an argument, or run the "
        "transformation inside that thread (each thread its own grad/jvp/vjp/jit)."
    )



# The tracer whose __index__ was refused last, per thread. NumPy indexing a NumPy array by an
# object first asks its __index__, drops that error, then converts it by __array__: that
# conversion is then known to be an index, and its error says how to index at traced positions.
_index_refused = threading.local()


# How the error of a tracer's __index__ goes on after the reason the value is unknown.
AS_PYTHON_INT = " Here it is used as a Python int"


def note_index_refused(tracer: Tracer) -> None:
    """Record that ``tracer.__index__`` raised (for a tracer subclass's own ``__index__``).

    Example:
        >>> t = Tracer.__new__(Tracer)
        >>> note_index_refused(t); index_refused(t)
        True
    """
    _index_refused.id = id(tracer)


def index_refused(tracer: Tracer) -> bool:
    """Whether the ``__index__`` refused last is ``tracer``'s: converted now, it is an index.

    Example:
        >>> index_refused(Tracer.__new__(Tracer))
        False
    """
    return getattr(_index_refused, "id", None) == id(tracer)


class Tracer:
    """Stand-in for an array inside a transformed function.

    Subclasses provide ``shape`` and ``dtype``; the array methods and Python operators are
    attached in ``functrans.numpy._array_methods``, where each binds a primitive.
    """

    __slots__ = ("_trace",)
    __array_priority__ = 1000
    __hash__ = None  # like NumPy arrays: unhashable

    # -- abstract value --------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d array (a scalar) is undefined")
        return shape[0]

    # -- concrete values -------------------------------------------------------------
    def to_concrete(self):
        """The concrete array this tracer stands for, or an error if it has none."""
        raise errors.TracerConversionError(
            f"This {type(self).__name__} from {self._trace.origin} has no concrete value: "
            "its value is only known when the transformed program runs, so Python control "
            "flow (if, while, bool(), float()) cannot depend on it. Use functrans.numpy.where "
            "for value-dependent choices."
        )

    def __bool__(self):
        return bool(self.to_concrete())

    def __float__(self):
        return float(self.to_concrete())

    def __int__(self):
        return int(self.to_concrete())

    def __complex__(self):
        return complex(self.to_concrete())

    def __index__(self):
        try:
            value = self.to_concrete()
        except errors.TracerConversionError as error:
            note_index_refused(self)
            reason = str(error).split("\n(See ")[0]  # (the docs link is added again)
            raise errors.TracerConversionError(
                f"{reason}{AS_PYTHON_INT} (an index or a slice bound of a "
                "NumPy array or a list, a count in range(), a shape), which needs that value. "
                "Index through functrans instead, which takes traced positions: "
                "fnp.take(table, i, axis=0) or fnp.getitem(table, i), and "
                "lax.dynamic_slice(table, (i,), (n,)) for a block of static size n; loop over "
                "a traced count with lax.fori_loop.") from None
        try:
            return value.__index__()
        except TypeError:
            note_index_refused(self)
            raise

    def __format__(self, spec: str) -> str:
        """``f"{x:.3f}"`` formats the concrete value (an error if there is none, as
        ``float(x)`` gives); ``f"{x}"`` shows the tracer."""
        return format(self.to_concrete(), spec) if spec else str(self)

    def item(self, *args):
        """The value as a Python scalar (drops the derivative, like ``float(x)``)."""
        return self.to_concrete().item(*args)

    def tolist(self):
        """The value as nested Python lists (drops the derivative)."""
        return self.to_concrete().tolist()

    def __array__(self, dtype=None, copy=None):
        if index_refused(self):
            _index_refused.id = None
            raise errors.TracerConversionError(
                f"A NumPy array was indexed by a traced integer array (shape {self.shape}, "
                f"dtype {self.dtype}) inside {self._trace.origin}: NumPy's own indexing cannot "
                "take a traced value (under jit or vmap it has no value yet). Index through "
                "functrans, which takes traced positions: to read, "
                "fnp.take(table, i, axis=0) or fnp.getitem(table, i), which takes any index "
                "expression (fnp.getitem(table, (i, slice(1, 3)))); to write, "
                "table = fnp.at(table)[i].set(v). (fnp.asarray(table) of a NumPy array is that "
                "NumPy array, indexed by NumPy's rules.)")
        raise errors.TracerConversionError(
            f"Converting a traced array (shape {self.shape}, dtype {self.dtype}) to a NumPy "
            "array (np.asarray, np.array, or a NumPy function without a functrans version) "
            f"inside {self._trace.origin} would silently drop its derivative. Use "
            "functrans.numpy (import functrans.numpy as fnp) for array operations inside "
            "transformed functions, or functrans.stop_gradient(x) if you really mean to treat "
            "the value as a constant and then read it outside the transformation."
            + (" If it is an index into a NumPy array (table[i]), write fnp.getitem(table, i) "
               "or fnp.take(table, i, axis=0): NumPy's own indexing cannot take a traced "
               "index." if self.dtype.kind in "iu" else "")
        )

    def __setitem__(self, index, value):
        raise errors.InPlaceUpdateError(
            "Arrays inside transformed functions cannot be changed in place (x[i] = v): the "
            "derivative needs the old value. Write x = x.at[i].set(v) instead (or "
            ".add/.multiply/.min/.max), which returns a new array."
        )

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array (a scalar)")
        return (self[i] for i in range(self.shape[0]))


def is_tracer(x) -> bool:
    return isinstance(x, Tracer)
