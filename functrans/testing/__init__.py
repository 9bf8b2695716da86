"""Tools for testing derivatives: ``check_grads`` and its parts.

``check_grads(f, args)`` checks forward mode against central finite differences and reverse
mode by the inner-product identity, along seeded random directions, to second order by
default. Use it to test a new primitive or any function built from functrans.numpy.

Example:
    >>> import numpy as np, functrans.numpy as fnp
    >>> from functrans.testing import check_grads
    >>> check_grads(lambda x: fnp.sum(fnp.exp(x) * x), (np.array([0.5, -1.0]),))
"""
from functrans.testing._gradcheck import check_grads, check_jvp, check_vjp, numerical_jvp

__all__ = ["check_grads", "check_jvp", "check_vjp", "numerical_jvp"]
