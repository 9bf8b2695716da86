"""SciPy's ``integrate`` names, differentiable: ``odeint`` (HIPS autograd's
``autograd.scipy.integrate.odeint``) is ``functrans.integrate.odeint``.

Its signature is JAX's: ``odeint(func, y0, t, *args)`` with ``func(y, t, *args)``, the order
SciPy's ``odeint`` also uses; the tolerances are keywords (``rtol``, ``atol``, ``mxstep``,
``hmax``).
"""
from functrans.integrate import odeint

__all__ = ["odeint"]
