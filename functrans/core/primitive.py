"""``Primitive``: a named operation and every rule that defines it.

All rules live as attributes of the primitive object (no lookups by name on the hot path):

- ``impl(*arrays, **params)``: the computation, against the array module of its inputs;
- ``shape_rule(*args, **params) -> (shape, dtype)``: abstract evaluation, used when a
  program is recorded (linearize, jit, make_jaxpr);
- ``jvp(primals, tangents, **params) -> (primal_out, tangent_out)``: forward derivative,
  ``zero`` for a tangent known to be zero; ``None`` together with ``differentiable = False``
  declares a zero derivative;
- ``transpose(ct, *args, **params) -> tuple of cotangents``: for primitives linear in some
  inputs; linear inputs arrive as ``Var`` objects (``is_linear(x)``), the others as values;
  ``zero`` for an input that gets no cotangent.
- ``jvp_args``: ``(jvp, rule)`` or ``(jvp, rule, rule_with_params)``, set by the registrars of
  one- and two-input primitives: ``rule`` is ``jvp`` taking the (primal, tangent) pairs
  unpacked, ``rule(x, t_x, **params)`` or (without parameters) ``rule(x, t_x, y, t_y)``, and
  ``rule_with_params(x, t_x, y, t_y, **params)`` the two-input form with parameters; forward
  mode calls them instead of building the lists (only while ``jvp`` is still the rule they
  belong to).
"""
from __future__ import annotations

from threading import get_ident

from functrans.backend import HOST_TYPES, device_scope_for
from functrans.core.trace import CAPTURES, Tracer, _stack, leaked_tracer_error, unreachable_tracer_error

_ALL: list[Primitive] = []

#: Primitives with an effect beyond their outputs (a collective that every process must run):
#: ``jit``'s plan keeps their equations even when no output needs them and never computes them
#: ahead of a call as constants.
EFFECTFUL: set[Primitive] = set()


def primitives_created() -> list[Primitive]:
    """Every primitive made so far, functrans's own (first-order and higher-order) and users' (the
    NaN debugging mode wraps their implementations); ``functrans.primitives.all_primitives``
    lists only the first-order set the registry tests check.

    Example:
        >>> from functrans.primitives import sin_p
        >>> sin_p in primitives_created()
        True
    """
    return list(_ALL)


class Primitive:
    __slots__ = (
        "name", "impl", "shape_rule", "jvp", "transpose", "batch",
        "differentiable", "multiple_results", "jvp_args",
    )

    def __init__(self, name: str, *, multiple_results: bool = False):
        self.name = name
        self.impl = None
        self.shape_rule = None
        self.jvp = None
        self.transpose = None
        self.batch = None
        self.differentiable = True
        self.multiple_results = multiple_results
        self.jvp_args = None
        _ALL.append(self)

    def bind(self, *args, **params):
        """Apply the primitive: directly on plain arrays, else through the innermost trace."""
        trace = None
        foreign = False
        for arg in args:
            if type(arg) in HOST_TYPES:  # NumPy arrays and scalars: no device to check
                continue
            if isinstance(arg, Tracer):
                arg_trace = arg._trace
                if trace is None or arg_trace.level > trace.level:
                    trace = arg_trace
            else:
                foreign = True
        if CAPTURES[0]:
            capture = _stack.capture
            if capture is not None and (capture.level > trace.level if trace is not None
                                        else _stack.traces[-1] is capture):
                trace = capture
        if trace is None:
            if foreign:  # arrays of another library (CuPy, ...): one device, and run there
                return self._impl_on_device(args, params)
            return self.impl(*args, **params) if params else self.impl(*args)
        # The trace must be running in this thread: not finished (its thread is then None),
        # not another thread's. (A live trace is on the stack of the thread that made it.)
        if trace.thread != get_ident():
            if not trace.alive:
                raise leaked_tracer_error(next(a for a in args if isinstance(a, Tracer) and a._trace is trace))
            raise unreachable_tracer_error(trace)
        return trace.process_primitive(self, args, params)

    def _impl_on_device(self, args, params):
        """The implementation on the device of ``args`` (checked to be one), made current if
        it is not (CuPy allocates results on the current device)."""
        scope = device_scope_for(self.name, args)
        if scope is None:
            return self.impl(*args, **params)
        with scope:
            return self.impl(*args, **params)

    def __repr__(self):
        return f"Primitive({self.name})"
