"""SciPy's ``integrate`` names, differentiable: ``odeint`` with SciPy's (and HIPS autograd's)
calling convention, solved by ``functrans.integrate.odeint``, and ``trapezoid``."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import functrans.numpy as fnp
from functrans.integrate import odeint as _odeint
from functrans.typing import Array, ArrayLike

__all__ = ["odeint", "trapezoid"]

# SciPy's options for LSODA's internals, which a Dormand-Prince solver has no use for.
_LSODA_ONLY = ("Dfun", "col_deriv", "full_output", "ml", "mu", "tcrit", "h0", "hmin", "ixpr",
               "mxhnil", "mxordn", "mxords", "printmessg")


def odeint(func: Callable[..., Any], y0: Any, t: Any, *args: Any, rtol: float | None = None,
           atol: float | None = None, mxstep: float = 0, hmax: float = 0.0,
           tfirst: bool = False, **options: Any) -> Any:
    """``scipy.integrate.odeint``'s interface to ``functrans.integrate.odeint``: the solution
    of ``dy/dt = func(y, t, *args)`` at the times ``t``, differentiable in every mode.

    As in SciPy and HIPS autograd, the extra arguments may be given as ``args=(a, b)``
    (or positionally, as in JAX), ``tfirst=True`` means ``func(t, y, *args)``, and
    ``rtol``/``atol`` default to 1.49012e-8, ``mxstep=0`` and ``hmax=0.0`` to no limit. The
    method is Dormand-Prince 5(4), not LSODA: it suits non-stiff problems, and the options
    that tune LSODA (``Dfun``, ``ml``, ``h0``, ``full_output``, ...) are refused.

    Args:
        func: the vector field ``func(y, t, *args)`` (``func(t, y, *args)`` with ``tfirst``).
        y0: the initial state (an array or a pytree of arrays).
        t: a 1-D array of non-decreasing times; ``t[0]`` is the initial time.
        *args: extra arguments of ``func``; or ``args=(...)`` as a keyword.
        rtol, atol: the tolerances of each step's error.
        mxstep: the largest number of steps between two times of ``t`` (0: no limit).
        hmax: the largest step size (0.0: no limit).
        tfirst: ``func`` takes the time first.

    Returns:
        The states at the times ``t``, stacked on a leading axis (a pytree like ``y0``).

    Example:
        >>> import numpy as np
        >>> from functrans.scipy.integrate import odeint
        >>> ys = odeint(lambda y, t, k: -k * y, np.array([1.0]), np.array([0.0, 1.0]), args=(2.0,))
        >>> bool(np.isclose(ys[1, 0], np.exp(-2.0)))
        True
    """
    if "args" in options:
        if args:
            raise TypeError("odeint: give the extra arguments either positionally or as args=(...), "
                            "not both.")
        extra = options.pop("args")
        args = tuple(extra) if isinstance(extra, (tuple, list)) else (extra,)
    refused = sorted(k for k in options if k in _LSODA_ONLY)
    if refused:
        raise TypeError(
            f"odeint: {', '.join(refused)} tune SciPy's LSODA solver; functrans integrates with "
            "Dormand-Prince 5(4) and has no such option. Drop them (rtol, atol, mxstep and hmax "
            "are supported)."
        )
    if options:
        raise TypeError(f"odeint got unexpected keyword arguments {sorted(options)}.")
    if tfirst:
        vector_field = func
        func = lambda y, t, *a: vector_field(t, y, *a)
    tol = 1.49012e-8
    return _odeint(func, y0, t, *args, rtol=tol if rtol is None else rtol,
                   atol=tol if atol is None else atol, mxstep=mxstep or math.inf,
                   hmax=hmax or math.inf)


def trapezoid(y: ArrayLike, x: ArrayLike | None = None, dx: float = 1.0, axis: int = -1) -> Array:
    """``scipy.integrate.trapezoid``: the integral of ``y`` along ``axis`` by the trapezoidal
    rule, at the points ``x`` or spaced ``dx`` apart (``functrans.numpy.trapezoid``).
    Differentiable in ``y`` and ``x``.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> from functrans.scipy.integrate import trapezoid
        >>> x = fnp.linspace(0.0, 1.0, 3)
        >>> float(trapezoid(x ** 2, x))
        0.375
        >>> ft.grad(lambda y: trapezoid(y, dx=0.5))(fnp.ones(3)).tolist()
        [0.25, 0.5, 0.25]
    """
    return fnp.trapezoid(y, x, dx, axis)
