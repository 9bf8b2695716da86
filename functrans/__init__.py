"""functrans: composable function transformations (grad, jvp, vjp) for NumPy and CuPy arrays.

Example:
    >>> import functrans as ft
    >>> float(ft.grad(lambda x: x ** 2 + 3 * x + 1)(2.0))
    7.0
"""
from functrans import (
    checkpoint_policies,
    errors,
    implicit,
    integrate,
    io,
    lax,
    nn,
    numpy,
    ops,
    optim,
    random,
    tree,
    viz,
)
from functrans.api import (
    ShapeDtypeStruct,
    checkpoint,
    checkpoint_name,
    closure_convert,
    custom_gradient,
    custom_jvp,
    custom_vjp,
    disable_jit,
    eval_shape,
    grad,
    hessian,
    jacfwd,
    jacobian,
    jacrev,
    jit,
    jvp,
    linear_transpose,
    linearize,
    make_jaxpr,
    named_scope,
    remat,
    stop_gradient,
    value_and_grad,
    vjp,
    vmap,
)
from functrans.backend import block_until_ready, device_get, device_put, devices
from functrans.config import config, environment_settings

__version__ = "0.1.0"

for _name, _value in environment_settings().items():  # FUNCTRANS_DEBUG_NANS=1
    config.update(_name, _value)

__all__ = [
    "ShapeDtypeStruct", "block_until_ready", "checkpoint", "checkpoint_name", "checkpoint_policies",
    "closure_convert", "config", "custom_gradient", "custom_jvp", "custom_vjp",
    "device_get", "device_put", "devices", "disable_jit", "eval_shape", "grad", "hessian", "jacfwd",
    "jacobian", "jacrev", "jit", "jvp", "lax", "linear_transpose", "linearize", "make_jaxpr",
    "named_scope", "numpy", "remat", "stop_gradient", "tree", "value_and_grad", "vjp", "vmap",
]
