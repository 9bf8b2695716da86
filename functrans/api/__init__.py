"""The public transformations, one layer above the interpreters: argument handling and checks
here, the work in ``functrans.interpreters`` and ``functrans.lax``.

- derivatives (``_autodiff``): ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``linearize``,
  ``linear_transpose``, ``stop_gradient``;
- Jacobians (``_jacobians``): ``jacfwd``, ``jacrev`` (or ``jacobian``), ``hessian``;
- batching (``_vmap``): ``vmap``;
- recorded programs (``_staging``): ``make_jaxpr``, ``jit`` (``disable_jit``), ``eval_shape``;
- custom rules and rematerialisation (``_custom``): ``custom_jvp``, ``custom_vjp``,
  ``custom_gradient``, ``checkpoint`` (``checkpoint_name``), ``remat``;
- ``named_scope``, which names the operations of a block in recorded programs.

Every one of them handles its arguments with ``core.flatten.FlatFun``. ``functrans`` re-exports
them all (``ft.grad``...).
"""
from functrans.api._autodiff import grad, jvp, linear_transpose, linearize, stop_gradient, value_and_grad, vjp
from functrans.api._custom import (
    checkpoint,
    checkpoint_name,
    closure_convert,
    custom_gradient,
    custom_jvp,
    custom_vjp,
    remat,
)
from functrans.api._jacobians import hessian, jacfwd, jacobian, jacrev
from functrans.api._staging import ShapeDtypeStruct, StagedProgram, disable_jit, eval_shape, jit, make_jaxpr
from functrans.api._vmap import vmap
from functrans.core.trace import named_scope

__all__ = [
    "ShapeDtypeStruct", "StagedProgram", "checkpoint", "checkpoint_name", "closure_convert",
    "custom_gradient", "custom_jvp", "custom_vjp",
    "disable_jit", "eval_shape", "grad", "hessian", "jacfwd", "jacobian", "jacrev", "jit", "jvp",
    "linear_transpose", "linearize", "make_jaxpr", "named_scope", "remat", "stop_gradient",
    "value_and_grad", "vjp", "vmap",
]
