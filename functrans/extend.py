"""The stable surface for defining new primitives outside functrans.

Everything needed to add an operation with all its rules, and nothing else: the rest of the
package is private and free to change. See docs/extending.md for a primitive end to end and
the contract of a transpose rule.

Example:
    >>> import numpy as np
    >>> import functrans as ft
    >>> from functrans.extend import Primitive, defjvp, elementwise
    >>> cube_p = elementwise("cube", lambda x: x ** 3)
    >>> defjvp(cube_p, lambda t, x: t * 3 * x ** 2)
    >>> float(ft.grad(cube_p.bind)(2.0))
    12.0
"""
from functrans.core.ir import is_linear
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import (
    defjvp,
    defjvp_with_output,
    deflinear,
    defzero,
    elementwise,
    unbroadcast,
)

__all__ = [
    "Primitive", "defjvp", "defjvp_with_output", "deflinear", "defzero", "elementwise",
    "is_linear", "unbroadcast", "zero",
]
