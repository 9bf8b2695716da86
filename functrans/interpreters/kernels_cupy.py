"""CuPy kernels for jit's fusion groups (``fusion.KernelSpec``) on CuPy arrays: the CUDA source
of an ``ElementwiseKernel`` (a group of elementwise steps) or a ``ReductionKernel`` (a group
ending in a sum, max or min), and the plan step that calls it.

The source is generated as text (``elementwise_source``, ``reduction_source``): CuPy compiles
it on the kernel's first call and caches the binary on disk itself, so nothing here needs a
GPU until the plan runs. Arrays stay on the device: the step takes and returns CuPy arrays.
Operations follow NumPy's: ``max``/``min`` propagate NaN, Python numbers are constants of the
group's dtype.
"""
from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

__all__ = ["elementwise_source", "reduction_source", "make_runner", "CUPY_API"]

#: (dotted name, keywords passed to it) for everything this module calls in CuPy (checked
#: against the installed CuPy without a GPU, as the backend's list is).
CUPY_API: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cupy.ElementwiseKernel", ()),
    ("cupy.ReductionKernel", ()),
    ("cupy.ReductionKernel.__call__", ("axis",)),
    ("cupy.empty", ()),
    ("cupy.broadcast_to", ()),
)

_CTYPE = {"float32": "float", "float64": "double"}
_BINARY = {"add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})",
           "div": "({0} / {1})",
           # NumPy's maximum and minimum: the first argument when it is NaN or wins, else the second
           "max": "(({0} >= {1} || {0} != {0}) ? {0} : {1})",
           "min": "(({0} <= {1} || {0} != {0}) ? {0} : {1})"}
_UNARY = {"neg": "(-{0})", "abs": "fabs({0})", "arctan": "atan({0})", "arcsin": "asin({0})",
          "arccos": "acos({0})"}
for _function in ("sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "expm1", "log", "log1p", "sqrt"):
    _UNARY[_function] = f"{_function}({{0}})"
# bit patterns of inf and NaN (CUDA has no literal for them)
_SPECIAL = {"float64": ("__longlong_as_double(0x7ff0000000000000LL)",
                        "__longlong_as_double(0x7ff8000000000000LL)"),
            "float32": ("__int_as_float(0x7f800000)", "__int_as_float(0x7fc00000)")}


def literal(value: float, dtype: np.dtype) -> str:
    """A Python number as a CUDA constant of ``dtype`` (rounded to it as NumPy rounds a
    Python float to a float32 array's dtype).

    Example:
        >>> literal(0.1, np.dtype("float32")), literal(2.0, np.dtype("float64"))
        ('((float)0.1)', '2.0')
    """
    number = float(value)
    inf, nan = _SPECIAL[dtype.name]
    if math.isnan(number):
        text = nan
    elif math.isinf(number):
        text = inf if number > 0 else f"(-{inf})"
    else:
        text = repr(number)
    return text if dtype.name == "float64" or not math.isfinite(number) else f"((float){text})"


def _expression(name: str, operands: list[str], y: Any, ctype: str) -> str:
    if name == "integer_pow":
        if y == 0:
            return f"(({ctype})1)"
        if y == 1:
            return operands[0]
        if y == 2:  # NumPy's power squares by one multiplication
            return f"({operands[0]} * {operands[0]})"
        return f"pow({operands[0]}, ({ctype})({y}))"
    template = _BINARY.get(name) or _UNARY[name]
    return template.format(*operands)


def _operands(spec: Any, operands: list) -> list[str]:
    return [literal(o, spec.dtype) if isinstance(o, float) else o for o in operands]


def _params(spec: Any) -> str:
    return ", ".join(f"{spec.dtype.name} a{k}" for k in range(len(spec.patterns)))


def _kernel_name(*parts: str) -> str:
    digest = hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]
    return f"functrans_fused_{digest}"


def elementwise_source(spec: Any) -> tuple[str, str, str, str]:
    """``(in_params, out_params, operation, name)`` of the ``cupy.ElementwiseKernel``
    computing the elementwise part of ``spec``: one ``const`` local per equation and one
    assignment per output ``oK``; the name is a hash of the rest, so identical groups share
    CuPy's compiled kernel.

    Example:
        >>> from functrans.interpreters.fusion import KernelSpec
        >>> spec = KernelSpec(np.dtype("float32"), (4, 3), [("mul", ["a0", 2.0], None)],
        ...                   ["full"], [0])
        >>> elementwise_source(spec)[:3]
        ('float32 a0', 'float32 o0', 'const float v0 = (a0 * ((float)2.0)); o0 = v0;')
    """
    ctype = _CTYPE[spec.dtype.name]
    lines = [f"const {ctype} v{n} = {_expression(name, _operands(spec, ops), y, ctype)};"
             for n, (name, ops, y) in enumerate(spec.ops)]
    lines += [f"o{k} = v{n};" for k, n in enumerate(spec.outputs)]
    in_params = _params(spec)
    out_params = ", ".join(f"{spec.dtype.name} o{k}" for k in range(len(spec.outputs)))
    operation = " ".join(lines)
    return in_params, out_params, operation, _kernel_name(in_params, out_params, operation)


def _inlined(spec: Any, n: int, ctype: str) -> str:
    """Equation ``n``'s value as one expression of the inputs (a reduction's map is one
    expression: the values it depends on are substituted into it)."""
    texts: list[str] = []
    for name, ops, y in spec.ops[:n + 1]:
        operands = [texts[int(o[1:])] if isinstance(o, str) and o.startswith("v") else o
                    for o in _operands(spec, ops)]
        texts.append(_expression(name, operands, y, ctype))
    return texts[n]


def reduction_source(spec: Any) -> tuple[str, str, str, str, str, str, str]:
    """``(in_params, out_params, map_expr, reduce_expr, post_map_expr, identity, name)`` of
    the ``cupy.ReductionKernel`` computing ``spec``'s reduction of its elementwise value.

    Example:
        >>> from functrans.interpreters.fusion import KernelSpec
        >>> spec = KernelSpec(np.dtype("float64"), (4, 3), [("mul", ["a0", "a0"], None)],
        ...                   ["full"], [], ("sum", "rows", 0), (4,), (1,))
        >>> reduction_source(spec)[:6]
        ('float64 a0', 'float64 r', '(a0 * a0)', 'a + b', 'r = a', '0')
    """
    kind, _, n = spec.reduction
    ctype = _CTYPE[spec.dtype.name]
    inf = _SPECIAL[spec.dtype.name][0]
    reduce_expr = {"sum": "a + b", "max": _BINARY["max"].format("a", "b"),
                   "min": _BINARY["min"].format("a", "b")}[kind]
    identity = {"sum": "0", "max": f"(-{inf})", "min": inf}[kind]
    parts = (_params(spec), f"{spec.dtype.name} r", _inlined(spec, n, ctype), reduce_expr,
             "r = a", identity)
    return (*parts, _kernel_name(*parts))


def make_runner(spec: Any) -> tuple[str, Any]:
    """The kernel source of ``spec`` (as text, for printing) and the plan step's function of
    the group's input values returning the tuple of its outputs as CuPy arrays. The kernels
    are made on the first call (CuPy is imported then)."""
    shape, dtype = spec.shape, spec.dtype
    elementwise = elementwise_source(spec) if spec.outputs else None
    reduction = reduction_source(spec) if spec.reduction is not None else None
    text = "\n".join(
        ([f"ElementwiseKernel{elementwise!r}"] if elementwise else [])
        + ([f"ReductionKernel{reduction!r}"] if reduction else []))
    kernels: list = []

    def build() -> None:
        import cupy

        if elementwise is not None:
            kernels.append(cupy.ElementwiseKernel(*elementwise))
        if reduction is not None:
            kernels.append(cupy.ReductionKernel(*reduction))  # (it reduces in its output's type)
        kernels.append(cupy)

    def run(*args: Any) -> tuple:
        if not kernels:
            build()
        cupy = kernels[-1]
        outs: tuple = ()
        if elementwise is not None:
            buffers = [cupy.empty(shape, dtype) for _ in spec.outputs]
            kernels[0](*args, *buffers)
            outs = tuple(buffers)
        if reduction is not None:
            # (the inputs broadcast to the group's shape, so the axes are the group's)
            full = [cupy.broadcast_to(a, shape) for a in args]
            r = kernels[-2](*full, axis=spec.axes)
            outs += (r,)
        return outs

    return text, run
