"""The NaN debugging mode (``config.debug_nans``): while it is on, every primitive's
implementation checks its results and raises ``FloatingPointError`` at the first NaN made
from inputs without one.

Nothing here runs while the setting is off: turning it on swaps a checking wrapper into
each primitive's ``impl`` (the attribute ``Primitive.bind`` calls on plain arrays), and
makes ``LinearTrace`` record the user's source line of each tangent operation, so that a
NaN of the backward pass names the line whose derivative made it. Turning it off restores
both. The interpreters add what they know: ``jvp`` names the rule running (a scope
``jvp[name]``, see ``jvp_scope``), the transpose walk runs in the scope ``transpose``, and
jit's replay checks each step of a recorded program against its equation.
"""
from __future__ import annotations

import sys
from types import FrameType
from typing import Any

from functrans.backend import to_host
from functrans.config import config
from functrans.core.ir import Eqn, source_str
from functrans.core.primitive import Primitive, primitives_created
from functrans.core.staging import LinearTrace, StagingTrace, user_source
from functrans.core.trace import current_scope

__all__ = ["CheckedImpl", "has_nan", "jvp_scope", "made_nan", "nan_error", "unchecked"]

_JVP_MARK = "jvp["


def jvp_scope(prim: Primitive) -> str:
    """The scope name under which the JVP rule of ``prim`` runs while debug_nans is on.

    Example:
        >>> from functrans.primitives import sin_p
        >>> jvp_scope(sin_p)
        'jvp[sin]'
    """
    return f"{_JVP_MARK}{prim.name}]"


def has_nan(x: Any) -> bool:
    """Whether ``x`` (an array of any backend, or a Python number) holds a NaN.

    Example:
        >>> import numpy as np
        >>> has_nan(np.array([1.0, np.nan])), has_nan(np.arange(3)), has_nan(float("nan"))
        (True, False, True)
    """
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return type(x) in (float, complex) and x != x
    if dtype.kind not in "fc":
        return False
    return bool(to_host((x != x).any()))  # (an explicit read: a sync)


def made_nan(prim: Primitive, args: Any, out: Any) -> bool:
    """Whether ``prim`` applied to ``args`` made a NaN: one in ``out`` and none in ``args``.

    Example:
        >>> import numpy as np
        >>> from functrans.primitives import log_p
        >>> made_nan(log_p, (np.array(-1.0),), np.log(np.array(-1.0)))
        True
    """
    if prim.multiple_results:
        found = any(has_nan(o) for o in out)
    else:
        found = has_nan(out)
    return found and not any(has_nan(a) for a in args)


def _pass_of(prim: Primitive, scope: tuple) -> tuple[str, str]:
    """The pass (forward, JVP, transpose) a primitive applied in ``scope`` belongs to, and
    what was being differentiated or transposed: read from the innermost mark."""
    for name in reversed(scope):
        if name == "transpose":
            return "transpose", ""
        if name.startswith(_JVP_MARK) and name.endswith("]"):
            ruled = name[len(_JVP_MARK):-1]
            if ruled == prim.name:  # the rule computing its own primal output
                return "forward", ""
            return "JVP", f" (in the JVP rule of {ruled!r})"
    return "forward", ""


def _transposed_eqn() -> Eqn | None:
    """The equation the transpose walk is transposing now, read from its frame (found by the
    name of the function, so that the core names no interpreter)."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "_walk_backwards":
            eqn = frame.f_locals.get("eqn")
            return eqn if isinstance(eqn, Eqn) else None
        frame = frame.f_back
    return None


def nan_error(prim: Primitive, scope: tuple, source: Any = None,
              where: str = "") -> FloatingPointError:
    """The error for a NaN that ``prim`` made: the primitive, the pass, and the user's line.

    ``source`` is the recorded ``(filename, line)`` of a staged equation; without it (eager
    code) the innermost frame outside functrans is the line that applied the primitive.

    Example:
        >>> from functrans.primitives import log_p
        >>> print(nan_error(log_p, (), ("model.py", 3)))  # doctest: +ELLIPSIS
        the primitive 'log' made a NaN from inputs without one, in the forward pass, at model.py:3...
    """
    pass_name, detail = _pass_of(prim, scope)
    if pass_name == "transpose":
        eqn = _transposed_eqn() if source is None else None
        if eqn is not None:
            detail = f" (transposing {eqn.prim.name!r}"
            if eqn.source is not None:
                source = eqn.source
                detail += ", the derivative of the operation at that line"
            detail += ")"
    if source is None:
        source = user_source()
    at = f" at {source_str(source, full_path=True)}" if source is not None else " in code without a source file"
    return FloatingPointError(
        f"the primitive {prim.name!r} made a NaN from inputs without one, in the {pass_name} "
        f"pass{detail}{where},{at}. (functrans.config.debug_nans is on: this check runs on every "
        "primitive; config.update('debug_nans', False) turns it off.)"
    )


class CheckedImpl:
    """A primitive's implementation that raises ``nan_error`` when it makes a NaN."""

    __slots__ = ("prim", "impl")

    def __init__(self, prim: Primitive, impl: Any):
        self.prim = prim
        self.impl = impl

    def __call__(self, *args: Any, **params: Any) -> Any:
        out = self.impl(*args, **params)
        if made_nan(self.prim, args, out):
            raise nan_error(self.prim, current_scope())
        return out


def unchecked(impl: Any) -> Any:
    """The implementation under a ``CheckedImpl`` (``impl`` itself if it is not one).

    Example:
        >>> from functrans.primitives import sin_p
        >>> unchecked(sin_p.impl) is unchecked(unchecked(sin_p.impl))
        True
    """
    return impl.impl if type(impl) is CheckedImpl else impl


_record_linear = LinearTrace.__dict__["process_primitive"]


def _set_checks(on: bool) -> None:
    """Swap the checking implementations in (``on``) or out."""
    for prim in primitives_created():
        impl = unchecked(prim.impl)
        if impl is not None:
            prim.impl = CheckedImpl(prim, impl) if on else impl  # type: ignore[assignment]
    # recording the source line of every tangent operation costs a frame walk each: only here
    LinearTrace.process_primitive = StagingTrace.process_primitive if on else _record_linear  # type: ignore[method-assign]
    LinearTrace.direct = not on


config.watch("debug_nans", _set_checks)


class CheckedStep:
    """The implementation of a recorded equation, for jit's replay while debug_nans is on:
    a NaN it makes is reported with the equation's recorded source line and scope.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> program = ft.make_jaxpr(fnp.log)(np.ones(2)).program
        >>> CheckedStep(program.eqns[0])(np.ones(2))
        array([0., 0.])
    """

    __slots__ = ("eqn", "impl")

    def __init__(self, eqn: Eqn):
        self.eqn = eqn
        self.impl = unchecked(eqn.prim.impl)

    def __call__(self, *args: Any, **params: Any) -> Any:
        out = self.impl(*args, **params)
        eqn = self.eqn
        if made_nan(eqn.prim, args, out):
            raise nan_error(eqn.prim, eqn.scope, eqn.source, " of a program recorded by jit")
        return out
