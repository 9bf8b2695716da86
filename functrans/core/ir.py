"""The IR of a recorded program: variables, equations, and the program that lists them.

- ``Var``: a value the program computes or takes as input; it has a shape, a dtype and a number,
  but no value. While the program is recorded it is also the tracer that the user's code
  (or a JVP rule) computes with, so recording costs one object per value and no lookup.
- ``Eqn``: one primitive application, ``outs = prim(*args, **params)``, with where it came
  from: the line of the user's code that applied it and the name scope around it.
- ``Program``: input variables, equations in execution order, outputs. A constant (an array,
  a Python scalar, a tracer of an outer transformation) sits in an equation's arguments as
  the value it is; ``Program.consts`` lists them.

Reverse mode transposes *linear* programs, the ones recorded by ``linearize`` (whose
variables are tangents) and by ``linear_transpose``: ``is_linear(x)`` tells a transpose rule
which of its arguments are variables of such a program (its linear inputs) and which are
values.
"""
from __future__ import annotations

import os
from typing import Any

from functrans import errors
from functrans.core.trace import Trace, Tracer, index_refused, note_index_refused
from functrans.core.zeros import zero


class Var(Tracer):
    """A variable of a program: shape, dtype and its number ``index`` in the program.

    ``_trace`` is the trace recording the program; a variable of a linear program (see
    ``is_linear``) is a linear input to the transpose rules of its equations.
    """

    __slots__ = ("shape", "dtype", "index")

    def __init__(self, trace: Trace, shape: tuple, dtype: Any, index: int):
        self._trace = trace
        self.shape = shape
        self.dtype = dtype
        self.index = index

    def __repr__(self) -> str:
        return f"Var(v{self.index}:{type_str(self.shape, self.dtype)})"

    # A variable has no value. One computed from a Python scalar argument of ``jit`` (see
    # ``staging.scalar_kind``) says, when Python needs its value, which argument it came
    # from and how to make that argument static; other variables give the generic error.
    def _value_needed(self, use: str) -> Any:
        scalars = getattr(self._trace, "scalars", None)
        info = scalars.get(self.index) if scalars else None
        if info is None:
            return Tracer.to_concrete(self)
        raise errors.TracerConversionError(info[1].message(use))

    def to_concrete(self) -> Any:
        return self._value_needed("by an operation that reads values (quantile positions, repeat "
                                  "counts, unique)")

    def __bool__(self) -> bool:
        return self._value_needed("for Python control flow (if, while, and, or, not, bool())")

    def __index__(self) -> int:
        if not self._from_scalars():
            return Tracer.__index__(self)
        note_index_refused(self)
        return self._value_needed("as a Python int (a shape, an axis, a loop count in range(), an "
                                  "index or a slice bound)")

    def __int__(self) -> int:
        return self._value_needed("by int()")

    def __float__(self) -> float:
        return self._value_needed("by float()")

    def __complex__(self) -> complex:
        return self._value_needed("by complex()")

    def __len__(self) -> int:
        if not self.shape and self._from_scalars():  # NumPy asks a shape for its length
            return self._value_needed("as a Python int (a shape, a length)")
        return Tracer.__len__(self)

    def __iter__(self) -> Any:
        if not self.shape and self._from_scalars():
            return self._value_needed("as a Python int (a shape, a loop)")
        return Tracer.__iter__(self)

    def _from_scalars(self) -> bool:
        scalars = getattr(self._trace, "scalars", None)
        return bool(scalars) and self.index in scalars

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        if self._from_scalars() and not index_refused(self):  # (an index: Tracer's message)
            return self._value_needed("as a NumPy array (np.asarray, a NumPy function)")
        return Tracer.__array__(self, dtype, copy)


class Eqn:
    """One primitive application ``outs = prim(*args, **params)``.

    ``outs`` is a tuple of ``Var`` (one for a single-output primitive). ``source`` is
    ``(filename, line)`` of the user's code that applied the primitive, or ``None`` when it
    was not recorded (linearize's tape never records it: it is on the hot path of ``grad``).
    ``scope`` is the tuple of names of the transformations and ``named_scope`` blocks active
    then, outermost first.
    """

    __slots__ = ("prim", "args", "params", "outs", "source", "scope")

    def __init__(self, prim, args: tuple, params: dict, outs: tuple, source=None, scope: tuple = ()):
        self.prim = prim
        self.args = args
        self.params = params
        self.outs = outs
        self.source = source
        self.scope = scope

    def __repr__(self) -> str:
        return f"Eqn({format_eqn(self, None)})"


class Program:
    """A recorded program: ``in_vars``, ``eqns`` (in execution order), ``outs``.

    ``trace`` is the trace that recorded it: the variables of the program are the ``Var``
    objects whose ``_trace`` it is, and anything else in an equation's arguments is a
    constant. An output is one of its variables, a constant, or ``zero`` (an output of a
    linear program that does not depend on the inputs).
    """

    __slots__ = ("trace", "in_vars", "eqns", "outs")

    def __init__(self, trace: Any, in_vars: list, eqns: list, outs: list):
        self.trace = trace
        self.in_vars = in_vars
        self.eqns = eqns
        self.outs = outs

    @property
    def num_vars(self) -> int:
        """How many variables the program numbered (inputs included): an upper bound of
        ``index + 1``, the size of an environment indexed by variable."""
        return self.trace.num_vars

    @property
    def linear(self) -> bool:
        """Whether the program is linear in its inputs (recorded by ``linearize`` or
        ``linear_transpose``), so that it can be transposed."""
        return self.trace.linear

    def owns(self, x) -> bool:
        """Whether ``x`` is one of this program's variables (not a constant)."""
        return type(x) is Var and x._trace is self.trace

    @property
    def consts(self) -> list:
        """The constants the equations and outputs use, in order of first use (Python
        scalars, which print inline, left out)."""
        seen: set[int] = set()
        out = []
        values = [a for eqn in self.eqns for a in eqn.args] + list(self.outs)
        for a in values:
            if self.owns(a) or a is zero or type(a) in _LITERALS or id(a) in seen:
                continue
            seen.add(id(a))
            out.append(a)
        return out

    def __str__(self) -> str:
        return format_program(self)

    __repr__ = __str__


_LITERALS = frozenset((int, float, complex, bool))


def is_linear(x) -> bool:
    """In a transpose rule: is this argument a linear input, or a value?

    The linear inputs of a transpose rule are the variables of the linear program being
    transposed; they have ``.shape`` and ``.dtype`` but no value. Every other argument (a
    residual of the forward pass, a constant, a variable of an outer ``make_jaxpr`` or
    ``jit``) is a value the rule may compute with. In a JVP rule, a tangent for which this is
    true is being recorded by ``linearize`` for reverse mode rather than computed in forward
    mode.

    Example:
        >>> import numpy as np
        >>> from functrans.extend import is_linear
        >>> is_linear(np.ones(3))
        False
    """
    return type(x) is Var and x._trace.linear


# -- printing ------------------------------------------------------------------------------


def type_str(shape, dtype) -> str:
    """``float64[2,3]``: a dtype and a shape, as programs print them."""
    return f"{dtype}[{','.join(map(str, shape))}]"


def source_str(source, full_path: bool = False) -> str:
    """``model.py:12`` for a recorded ``(filename, line)`` (the whole path with
    ``full_path``), ``""`` for ``None``."""
    if source is None:
        return ""
    filename, line = source
    return f"{filename if full_path else os.path.basename(filename)}:{line}"


def metadata_str(eqn: Eqn, scope_base: int = 0) -> str:
    """``grad(loss)/layer1 model.py:12``: the scope (below the first ``scope_base`` names)
    and the source line of an equation, each left out when absent."""
    parts = []
    if len(eqn.scope) > scope_base:
        parts.append("/".join(eqn.scope[scope_base:]))
    if eqn.source is not None:
        parts.append(source_str(eqn.source))
    return " ".join(parts)


def _value_str(x: Any, program: Program | None) -> str:
    """How a value in an equation prints: ``v3`` for a variable of the program (any variable
    without one), ``2.0`` for a Python scalar, ``const:float64[3]`` for another value."""
    if type(x) is Var and (program is None or x._trace is program.trace):
        return f"v{x.index}"
    if x is zero:
        return "zero"
    if type(x) in _LITERALS:
        return repr(x)
    shape = getattr(x, "shape", None)
    return f"const:{type_str(shape, x.dtype)}" if shape is not None else repr(x)


def format_eqn(eqn: Eqn, program: Program | None) -> str:
    """One equation as a line of the printed program (without the metadata comment)."""
    outs = " ".join(f"v{o.index}:{type_str(o.shape, o.dtype)}" for o in eqn.outs)
    params = " ".join(f"{k}={v}" for k, v in eqn.params.items())
    args = " ".join(_value_str(a, program) for a in eqn.args)
    return f"{outs} = {eqn.prim.name}[{params}] {args}"


def format_program(program: Program) -> str:
    """The program, one equation a line, with shapes and dtypes; a trailing comment gives
    each equation's name scope and source line where they were recorded."""
    base = getattr(program.trace, "scope_base", 0)
    inputs = " ".join(f"v{v.index}:{type_str(v.shape, v.dtype)}" for v in program.in_vars)
    lines = ["{ lambda " + inputs + " ."]
    for eqn in program.eqns:
        line = "    " + format_eqn(eqn, program)
        meta = metadata_str(eqn, base)
        lines.append(f"{line}  # {meta}" if meta else line)
    lines.append("  in (" + ", ".join(_value_str(o, program) for o in program.outs) + ") }")
    return "\n".join(lines)
