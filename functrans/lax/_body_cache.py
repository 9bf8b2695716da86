"""Structural keys of staged programs and a bounded cache of what a higher-order primitive's
rules derive from a body (its linearization, transpose, compiled plans), so that an eager
step which records the same loop body on every call derives them once.

Two programs get the same key when they hold the same primitives with equal parameters,
wired the same way, on inputs of the same shapes and dtypes, with equal scalar constants
and the very same constant arrays (held by the key, so their identities are not reused
while it lives). A program whose parameters cannot be hashed gets no key (``None``), and
its derivations are not cached.

Example:
    >>> import numpy as np
    >>> from functrans.core.staging import stage
    >>> from functrans.primitives import mul_p
    >>> double = lambda xs: [mul_p.bind(xs[0], 2.0)]
    >>> a = stage(double, [((3,), np.dtype("float64"))], "a")
    >>> b = stage(double, [((3,), np.dtype("float64"))], "b")
    >>> fingerprint(a) == fingerprint(b) != fingerprint(stage(double, [((4,), np.dtype("float64"))], "c"))
    True
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numpy import generic

from functrans.core.ir import Program, Var

__all__ = ["DerivedCache", "fingerprint"]


class _Same:
    """A constant array in a key: equal to the same object only."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return type(other) is _Same and other.value is self.value


_SCALARS = (bool, int, str, type(None))


def fingerprint(program: Program) -> tuple | None:
    """The structural key of ``program`` (see the module docstring), or ``None``.

    Example:
        >>> import numpy as np
        >>> from functrans.core.staging import stage
        >>> from functrans.primitives import add_p
        >>> p = stage(lambda xs: [add_p.bind(xs[0], xs[0])], [((), np.dtype("float32"))], "f")
        >>> len(fingerprint(p))
        4
    """
    trace = program.trace
    number: dict[int, int] = {}

    def ref(a: Any) -> Any:
        if type(a) is Var and a._trace is trace:
            return number[a.index]
        if type(a) is float:  # (0.0 and -0.0 are equal, and NaN is not itself)
            return (float, a.hex())
        if type(a) is complex:
            return (complex, a.real.hex(), a.imag.hex())
        if type(a) in _SCALARS:
            return (type(a), a)
        if isinstance(a, generic):
            return (type(a), a.tobytes())
        return _Same(a)

    inputs = []
    for v in program.in_vars:
        number[v.index] = len(number)
        inputs.append((tuple(v.shape), v.dtype))
    eqns = []
    for eqn in program.eqns:
        args = tuple(ref(a) for a in eqn.args)
        outs = []
        for o in eqn.outs:
            number[o.index] = len(number)
            outs.append((tuple(o.shape), o.dtype))
        eqns.append((eqn.prim, tuple(sorted(eqn.params.items())), args, tuple(outs)))
    scalars = getattr(trace, "scalars", None) or ()
    key = (tuple(inputs), tuple(eqns), tuple(ref(o) for o in program.outs),
           tuple(sorted(number[i] for i in scalars if i in number)))
    try:
        hash(key)
    except TypeError:  # a parameter holds an array or a list
        return None
    return key


class DerivedCache:
    """What rules derive from bodies, by ``(fingerprint, what)``; the oldest entries go once
    it holds ``size``.

    Example:
        >>> cache = DerivedCache(2)
        >>> cache.get(("body",), ("twice",), lambda: [2]) is cache.get(("body",), ("twice",), lambda: [3])
        True
    """

    def __init__(self, size: int):
        self.size = size
        self._entries: dict[tuple, Any] = {}

    def get(self, key: tuple | None, what: tuple, make: Callable[[], Any]) -> Any:
        """The value cached for ``(key, what)``, made by ``make()`` the first time (every
        time when ``key`` is ``None``)."""
        if key is None:
            return make()
        full = (key, what)
        value = self._entries.get(full)
        if value is None:
            value = make()
            if len(self._entries) >= self.size:
                try:
                    del self._entries[next(iter(self._entries))]
                except (KeyError, RuntimeError, StopIteration):  # another thread evicted first
                    pass
            self._entries[full] = value
        return value

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
