"""NumPy's floating-point error handling (``seterr``, ``geterr``, ``errstate`` and the error
callbacks), forwarded to NumPy's own settings.

What they govern: NumPy's reaction (ignore, warn, raise, call, print, log) to division by
zero, overflow, underflow and invalid operations in the computations that run on NumPy
arrays: plain calls, and the primitives that ``grad``, ``jvp``, ``vjp`` and ``vmap`` evaluate
as they go. A ``jit``-compiled function evaluates its program when it is called, so the
settings in force at the call apply; a ``with fnp.errstate(...)`` block written inside the
jitted function only covers its tracing, where nothing is computed: put it around the call.
CuPy reports no floating-point errors on the GPU, so these settings do not affect CuPy arrays.
``functrans.config.debug_nans`` is the way to stop at the first NaN in any mode.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

ErrorMode = Literal["ignore", "warn", "raise", "call", "print", "log"]


def seterr(all: ErrorMode | None = None, divide: ErrorMode | None = None, over: ErrorMode | None = None,
           under: ErrorMode | None = None, invalid: ErrorMode | None = None) -> dict[str, Any]:
    """Set how NumPy treats floating-point errors (see the module notes on transformations),
    as ``numpy.seterr``; returns the previous settings.

    Example:
        >>> import functrans.numpy as fnp
        >>> old = fnp.seterr(divide="ignore")
        >>> float(fnp.divide(1.0, fnp.zeros(())))
        inf
        >>> _ = fnp.seterr(**old)
    """
    # numpy-only: NumPy's own settings, which CuPy does not have
    return dict(np.seterr(all=all, divide=divide, over=over, under=under, invalid=invalid))


def geterr() -> dict[str, Any]:
    """The current treatment of floating-point errors, as ``numpy.geterr``.

    Example:
        >>> import functrans.numpy as fnp
        >>> sorted(fnp.geterr())
        ['divide', 'invalid', 'over', 'under']
    """
    # numpy-only: NumPy's own settings
    return dict(np.geterr())


def seterrcall(func: Callable[[str, int], Any] | Any | None) -> Callable[[str, int], Any] | Any | None:
    """Set the function (or object with a ``write`` method) that receives floating-point
    errors in the ``"call"`` (or ``"log"``) mode, as ``numpy.seterrcall``; returns the
    previous one.

    Example:
        >>> import functrans.numpy as fnp
        >>> seen = []
        >>> old = fnp.seterrcall(lambda kind, flag: seen.append(kind))
        >>> with fnp.errstate(divide="call"):
        ...     _ = fnp.divide(1.0, fnp.zeros(()))
        >>> _ = fnp.seterrcall(old)
        >>> seen
        ['divide by zero']
    """
    # numpy-only: NumPy's own settings
    return np.seterrcall(func)


def geterrcall() -> Callable[[str, int], Any] | Any | None:
    """The function that receives floating-point errors in the ``"call"`` mode, as
    ``numpy.geterrcall``.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.geterrcall() is None
        True
    """
    # numpy-only: NumPy's own settings
    return np.geterrcall()


class errstate(np.errstate):
    """A context manager (or decorator) that sets the treatment of floating-point errors for
    the code it covers, as ``numpy.errstate`` (which it is, with these notes): it covers what
    runs inside it, so under ``jit`` put it around the call of the jitted function, not inside
    the function (see the module notes).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> with fnp.errstate(divide="ignore"):
        ...     float(ft.grad(lambda x: fnp.log(x))(0.0))
        inf
    """

    def __init__(self, *, call: Any = None, all: str | None = None, divide: str | None = None,
                 over: str | None = None, under: str | None = None, invalid: str | None = None) -> None:
        options: dict[str, Any] = {"all": all, "divide": divide, "over": over, "under": under,
                                   "invalid": invalid}
        if call is not None:  # NumPy tells "not given" apart from None for the handler
            options["call"] = call
        super().__init__(**options)
