"""functrans: composable function transformations (grad, jvp, vjp) for NumPy and CuPy arrays.

Example:
    >>> import functrans as ft
    >>> float(ft.grad(lambda x: x ** 2 + 3 * x + 1)(2.0))
    7.0
"""
from functrans import primitives as _primitives  # registers every primitive
from functrans import numpy, tree  # noqa: F401  (numpy wires the tracer methods)
from functrans import errors
from functrans import io, nn, optim, random, viz  # noqa: F401
from functrans.backend import device_get, device_put, devices
from functrans.api import grad, jvp, stop_gradient, value_and_grad, vjp
from functrans._transforms_api import (
    hessian, jacfwd, jacrev, jit, linear_transpose, linearize, make_jaxpr, vmap,
)
from functrans.lax.checkpoint import checkpoint, remat
from functrans.lax.custom import custom_jvp, custom_vjp

__version__ = "0.1.0"

__all__ = ["grad", "jvp", "numpy", "stop_gradient", "tree", "value_and_grad", "vjp", "vmap",
           "jacfwd", "jacrev", "hessian", "linearize", "linear_transpose", "make_jaxpr",
           "custom_jvp", "custom_vjp", "checkpoint", "remat", "jit"]
__all__ += ["devices", "device_put", "device_get"]
_ = _primitives
