"""Elementwise fusion for jit's plan: runs of elementwise steps of one shape and float dtype
become one compiled loop (a kernel) that reads each input once and writes only the values
something outside the run needs.

The kernels are Numba functions (the optional ``functrans[jit]`` extra); without Numba, or
for anything a kernel does not cover, the plan runs its steps as they are. A group is grown
along the plan's execution order: an elementwise step joins the open group when its result
has the group's shape and dtype and each of its arguments is a value of the group, a Python
number, or an array of the group's dtype that broadcasts to the group's shape as a whole
array, a row (the last axis), a column (all axes but the last) or a single element; any
other step that reads a value of the open group closes it, so the kernel runs before that
step. A program of 0-d values (a scalar chain and its derivative) becomes one call of a
function of scalars. Which groups become kernels: groups of 0-d values of at least
``MIN_SCALAR_GROUP`` steps, and groups of arithmetic on arrays (``ARRAY_KERNELS``) of at least
``MIN_ARRAY_GROUP``; a kernel's outputs go into dead temporaries where the plan has some
(``buffers.plan_reuse``), like a ufunc step's.

The kernel source is written to a file in a cache directory (``FUNCTRANS_KERNEL_CACHE``, by
default ``~/.cache/functrans/kernels``) named by a hash of the source, so Numba's on-disk
cache serves it to later processes without compiling again. A kernel that fails to compile
leaves its steps unfused.

Fused values are those of the same operations in the same dtype, with Python numbers taken in
the group's dtype as NumPy does; transcendental functions come from the compiler's math
library rather than NumPy's loops, so they may differ from the unfused plan in the last bit.
"""
from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import sys
import threading
from typing import Any

import numpy as np

from functrans.primitives import _define, elementwise

__all__ = ["available", "fuse", "FusedStep", "kernel_source"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

#: Whether groups of arrays (not only of 0-d values) become kernels. Measured on the shapes of
#: the W2 training steps (bench/jit_compiler.py, one thread): a loop of arithmetic runs about
#: twice as fast as the same NumPy ufuncs writing into reused buffers, but a loop calling the
#: math library's tanh or exp runs 5-30x slower than NumPy's SIMD ones, so only arithmetic
#: (``_ARRAY_PRIMS``) is fused on arrays; transcendental steps stay NumPy ufunc calls.
ARRAY_KERNELS = True

#: The fewest steps a group of 0-d values needs to become a kernel (a first compilation costs
#: a few hundred milliseconds: worth it for a chain, not for two or three steps).
MIN_SCALAR_GROUP = 6
#: The fewest steps a group of arrays needs (one pass over memory instead of two already pays).
MIN_ARRAY_GROUP = 2
#: The most steps in one kernel: compiling takes longer than linear in its length (a cut
#: through a derivative program passes every forward value it needs from kernel to kernel).
MAX_GROUP = 1024
_PY_NUMBERS = (bool, int, float)


# Numba is found when functrans is imported but imported only when a plan first fuses (its
# import takes most of a second).
_HAVE_NUMBA = (os.environ.get("FUNCTRANS_JIT_KERNELS", "1") != "0"
               and importlib.util.find_spec("numba") is not None)


def available() -> bool:
    """Whether fused kernels can be compiled: Numba is installed (``pip install -e
    ".[jit]"`` in the clone) and not turned off by the environment variable
    ``FUNCTRANS_JIT_KERNELS=0``.

    Example:
        >>> isinstance(available(), bool)
        True
    """
    return _HAVE_NUMBA


# -- what a kernel can compute: primitive -> a template of its scalar expression ----------------

def _templates() -> dict:
    binary = {"add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})",
              "div": "({0} / {1})", "max": "np.maximum({0}, {1})", "min": "np.minimum({0}, {1})"}
    unary = {"neg": "(-{0})"}
    for name in ("sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "expm1", "log", "log1p",
                 "sqrt", "arctan", "arcsin", "arccos"):
        unary[name] = f"np.{name}({{0}})"
    unary["abs"] = "abs({0})"
    table = {}
    for module in (_define, elementwise):
        for value in vars(module).values():
            if type(value).__name__ != "Primitive":
                continue
            if value.name in binary:
                table[value] = (2, binary[value.name])
            elif value.name in unary:
                table[value] = (1, unary[value.name])
    table[elementwise.integer_pow_p] = (1, "({0} ** {y})")
    return table


_TEMPLATES = _templates()
# What array kernels compute: arithmetic (the math library's transcendental functions lose to
# NumPy's vectorized ones).
_ARRAY_PRIMS = frozenset(p for p in _TEMPLATES if p.name in (
    "add", "sub", "mul", "div", "neg", "max", "min", "abs", "integer_pow"))


class FusedStep:
    """The primitive slot of a plan step that runs a kernel: its name, for error notes and
    printing, and the equations it stands for."""

    __slots__ = ("eqns", "source", "name", "takes_out")
    multiple_results = True
    fresh_outputs = True  # its outputs are new arrays, never views of its inputs

    def __init__(self, eqns: list, source: str, takes_out: bool):
        self.eqns = eqns
        self.source = source
        self.takes_out = takes_out  # its run takes out=(buffer or None, ...)
        self.name = "fused[" + " ".join(e.prim.name for e in eqns) + "]"


# -- grouping ------------------------------------------------------------------------------------


class _Group:
    __slots__ = ("shape", "dtype", "positions", "made", "inputs")

    def __init__(self, shape: tuple, dtype: np.dtype):
        self.shape = shape
        self.dtype = dtype
        self.positions: list[int] = []
        self.made: set[int] = set()       # slots the group computes
        self.inputs: dict[int, str] = {}  # slot read from outside -> how it broadcasts


def fuse(steps: list, eqns: list, avals: dict, template: list, var_slots: set,
         keep: set) -> tuple[list, list]:
    """The plan's steps with runs of elementwise steps replaced by kernel steps.

    ``steps`` are ``(prim, impl, params, arg_slots, out_slots, frees)`` without frees yet,
    ``eqns`` the equation of each step, ``avals`` the ``(shape, dtype)`` of each variable
    slot, ``template`` the plan's environment (constants filled in), ``keep`` the output
    slots. Returns the new steps and the equation that stands for each (for error notes).
    """
    if not _HAVE_NUMBA:
        return steps, eqns
    readers: dict[int, list[int]] = {}
    for position, step in enumerate(steps):
        for slot in step[3]:
            readers.setdefault(slot, []).append(position)
    groups: list[_Group] = []
    open_group: _Group | None = None
    for position, (prim, _, params, arg_slots, out_slots, _) in enumerate(steps):
        if open_group is not None and any(s in open_group.made for s in arg_slots) and not _joins(
                open_group, prim, params, arg_slots, out_slots, avals, template, var_slots):
            groups.append(open_group)
            open_group = None
        if prim not in _TEMPLATES or type(out_slots) is not int or out_slots not in avals:
            continue
        shape, dtype = avals[out_slots]
        if np.dtype(dtype) not in _FLOATS or (
                shape != () and (not ARRAY_KERNELS or prim not in _ARRAY_PRIMS)):
            continue
        if open_group is not None and (open_group.shape != shape or open_group.dtype != dtype
                                       or len(open_group.positions) >= MAX_GROUP):
            groups.append(open_group)
            open_group = None
        if open_group is None:
            open_group = _Group(shape, np.dtype(dtype))
        if not _joins(open_group, prim, params, arg_slots, out_slots, avals, template, var_slots):
            groups.append(open_group)
            open_group = _Group(shape, np.dtype(dtype))
            if not _joins(open_group, prim, params, arg_slots, out_slots, avals, template, var_slots):
                open_group = None
                continue
        _add(open_group, position, arg_slots, out_slots, avals, template, var_slots)
    if open_group is not None:
        groups.append(open_group)
    groups = [g for g in groups
              if len(g.positions) >= (MIN_SCALAR_GROUP if g.shape == () else MIN_ARRAY_GROUP)]
    if not groups:
        return steps, eqns
    replaced: dict[int, tuple] = {}  # last position of a group -> its kernel step
    members: set[int] = set()
    for group in groups:
        step = _kernel_step(group, steps, eqns, readers, keep, template)
        if step is None:
            continue
        replaced[group.positions[-1]] = step
        members.update(group.positions)
    new_steps, new_eqns = [], []
    for position, step in enumerate(steps):
        if position in replaced:
            new_steps.append(replaced[position])
            new_eqns.append(eqns[position])
        elif position not in members:
            new_steps.append(step)
            new_eqns.append(eqns[position])
    return new_steps, new_eqns


def _pattern(shape: tuple, arg_shape: tuple) -> str | None:
    """How an argument of shape ``arg_shape`` broadcasts to the group's ``shape``: "full",
    "row" (the last axis), "col" (all axes but the last), "one" (a single element), or
    ``None`` for another pattern."""
    if math.prod(arg_shape) == 1:
        return "one"
    if tuple(arg_shape) == tuple(shape):
        return "full"
    padded = (1,) * (len(shape) - len(arg_shape)) + tuple(arg_shape)
    if len(padded) != len(shape) or not shape:
        return None
    if all(d == 1 for d in padded[:-1]) and padded[-1] == shape[-1]:
        return "row"
    if padded[-1] == 1 and padded[:-1] == tuple(shape[:-1]):
        return "col"
    return None


def _joins(group: _Group, prim: Any, params: dict, arg_slots: tuple, out_slots: Any, avals: dict,
           template: list, var_slots: set) -> bool:
    """Whether this step can be computed inside the group's kernel."""
    if prim not in _TEMPLATES or type(out_slots) is not int or out_slots not in avals:
        return False
    shape, dtype = avals[out_slots]
    if tuple(shape) != group.shape or np.dtype(dtype) != group.dtype:
        return False
    if group.shape != () and prim not in _ARRAY_PRIMS:
        return False
    if prim is elementwise.integer_pow_p and type(params.get("y")) is not int:
        return False
    if params and prim is not elementwise.integer_pow_p:
        return False
    for slot in arg_slots:
        if slot in group.made:
            continue
        if slot in var_slots:
            aval = avals.get(slot)
            if aval is None or np.dtype(aval[1]) != group.dtype or _pattern(group.shape, aval[0]) is None:
                return False
            continue
        value = template[slot]
        if type(value) in _PY_NUMBERS:
            continue
        if not isinstance(value, (np.ndarray, np.generic)) or value.dtype != group.dtype:
            return False
        if _pattern(group.shape, value.shape) is None:
            return False
    return True


def _add(group: _Group, position: int, arg_slots: tuple, out_slot: int, avals: dict,
         template: list, var_slots: set) -> None:
    group.positions.append(position)
    for slot in arg_slots:
        if slot in group.made or slot in group.inputs:
            continue
        if slot in var_slots:
            group.inputs[slot] = _pattern(group.shape, avals[slot][0]) or "full"
        elif type(template[slot]) not in _PY_NUMBERS:
            group.inputs[slot] = _pattern(group.shape, template[slot].shape) or "full"
    group.made.add(out_slot)


# -- code generation -----------------------------------------------------------------------------


def _literal(value: Any, dtype: np.dtype) -> str:
    """A Python number as a constant of the group's dtype in kernel source."""
    number = float(value)
    if math.isnan(number):
        text = "np.nan"
    elif math.isinf(number):
        text = "np.inf" if number > 0 else "-np.inf"
    else:
        text = repr(number)
    return f"np.{dtype.name}({text})"


_INDEX = {"full": "[i, j]", "row": "[0, j]", "col": "[i, 0]", "one": "[0, 0]"}
_RESHAPE = {"full": "(rows, cols)", "row": "(1, cols)", "col": "(rows, 1)", "one": "(1, 1)"}


def kernel_source(body: list[str], inputs: list[tuple[str, str]], outputs: list[str],
                  dtype: np.dtype, scalar: bool) -> str:
    """The source of one kernel module: a Numba function of the inputs (and, on arrays, of
    the output arrays) computing ``body`` per element.

    Example:
        >>> print(kernel_source(["v2 = (a0 * np.float64(2.0))"], [("a0", "full")], ["v2"],
        ...                     np.dtype("float64"), scalar=True).splitlines()[-1])
            return v2
    """
    name = dtype.name
    lines = ["import numpy as np", "from numba import njit", ""]
    args = [a for a, _ in inputs]
    # error_model="numpy": a division by zero gives inf or nan, as NumPy's, instead of raising
    options = 'cache=True, nogil=True, error_model="numpy"'
    if scalar:
        result = f"UniTuple({name}, {len(outputs)})" if len(outputs) > 1 else name
        signature = f"{result}({', '.join([name] * len(args))})"
        lines.append(f'@njit("{signature}", {options})')
        lines.append(f"def kernel({', '.join(args)}):")
        lines.extend(f"    {line}" for line in body)
        lines.append(f"    return {', '.join(outputs)}")
        return "\n".join(lines) + "\n"
    outs = [f"o{k}" for k in range(len(outputs))]
    # C-contiguous 2-D arrays (the inner loop vectorizes); inputs typed read-only, which
    # writable arrays convert to.
    lines[1] = "from numba import njit, types"
    lines.append(f"R = types.Array(types.{name}, 2, 'C', readonly=True)")
    lines.append(f"W = types.Array(types.{name}, 2, 'C')")
    signature = f"types.void({', '.join(['R'] * len(args) + ['W'] * len(outs))})"
    lines.append(f"@njit({signature}, {options})")
    lines.append(f"def kernel({', '.join(args + outs)}):")
    lines.append("    for i in range(o0.shape[0]):")
    lines.append("        for j in range(o0.shape[1]):")
    for a, pattern in inputs:
        lines.append(f"            {a}_ = {a}{_INDEX[pattern]}")
    lines.extend(f"            {line}" for line in body)
    for o, v in zip(outs, outputs):
        lines.append(f"            {o}[i, j] = {v}")
    return "\n".join(lines) + "\n"


def _kernel_step(group: _Group, steps: list, eqns: list, readers: dict, keep: set,
                 template: list) -> tuple | None:
    """The plan step running the group's kernel, or ``None`` if it does not compile."""
    scalar = group.shape == ()
    positions = set(group.positions)
    names: dict[int, str] = {}
    inputs = []
    for k, (slot, pattern) in enumerate(group.inputs.items()):
        names[slot] = f"a{k}" if scalar else f"a{k}_"
        inputs.append((f"a{k}", pattern))
    body = []
    for n, position in enumerate(group.positions):
        prim, _, params, arg_slots, out_slot, _ = steps[position]
        operands = []
        for slot in arg_slots:
            if slot in names:
                operands.append(names[slot])
            else:
                operands.append(_literal(template[slot], group.dtype))
        _, text = _TEMPLATES[prim]
        expression = text.format(*operands, y=params.get("y"))
        names[out_slot] = f"v{n}"
        body.append(f"v{n} = {expression}")
    out_slots = [steps[p][4] for p in group.positions
                 if steps[p][4] in keep or any(r not in positions for r in readers.get(steps[p][4], ()))]
    if not out_slots:
        return None
    in_slots = tuple(group.inputs)
    source = kernel_source(body, inputs, [names[s] for s in out_slots], group.dtype, scalar)
    kernel = _compiled(source)
    if kernel is None:
        return None
    run = _wrapper(kernel, inputs, len(out_slots), group.shape, group.dtype, scalar)
    prim = FusedStep([eqns[p] for p in group.positions], source, takes_out=not scalar)
    return (prim, run, {}, in_slots, tuple(out_slots), ())


def _wrapper(kernel: Any, inputs: list, n_out: int, shape: tuple, dtype: np.dtype,
             scalar: bool) -> Any:
    """A Python function of the group's input values returning its outputs: it shapes the
    arguments for the kernel and, on arrays, takes the output arrays from ``out`` (a tuple
    of C-contiguous arrays of the group's shape and dtype, or ``None`` each) or allocates
    them."""
    args = ", ".join(a for a, _ in inputs)
    namespace: dict[str, Any] = {
        "kernel": kernel, "np": np, "empty": np.empty, "contiguous": np.ascontiguousarray,
        "dt": dtype, "scalar_type": dtype.type, "shape": shape}
    if scalar:  # (float() takes NumPy scalars, 0-d arrays and Python numbers alike, exactly)
        call = ", ".join(f"float({a})" for a, _ in inputs)
        if n_out == 1:
            source = f"def run({args}):\n    return (scalar_type(kernel({call})),)\n"
        else:
            outs = ", ".join(f"scalar_type(r[{k}])" for k in range(n_out))
            source = f"def run({args}):\n    r = kernel({call})\n    return ({outs},)\n"
    else:
        cols = shape[-1]
        rows = math.prod(shape[:-1])
        namespace.update(rows=rows, cols=cols)
        lines = [f"def run({args}, out=None):"]
        for k in range(n_out):
            lines.append(f"    o{k} = None if out is None else out[{k}]")
            lines.append(f"    if o{k} is None or not o{k}.flags.c_contiguous:")
            lines.append(f"        o{k} = empty(shape, dt)")
        operands = [f"contiguous({a}).reshape{_RESHAPE[p]}" for a, p in inputs]
        operands += [f"o{k}.reshape(rows, cols)" for k in range(n_out)]
        lines.append(f"    kernel({', '.join(operands)})")
        lines.append(f"    return ({''.join(f'o{k}, ' for k in range(n_out))})")
        source = "\n".join(lines) + "\n"
    exec(compile(source, "<functrans fused kernel>", "exec"), namespace)
    return namespace["run"]


# -- compiling, with an on-disk cache ------------------------------------------------------------

_compiled_kernels: dict[str, Any] = {}
_lock = threading.Lock()


def _cache_dir() -> str:
    return os.environ.get("FUNCTRANS_KERNEL_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "functrans", "kernels")


def _compiled(source: str) -> Any:
    """The kernel of ``source``, compiled once per process (and loaded from Numba's cache
    when another process compiled it), or ``None`` if it does not compile."""
    kernel = _compiled_kernels.get(source)
    if kernel is not None:
        return kernel
    digest = hashlib.sha1(source.encode()).hexdigest()[:20]
    with _lock:
        kernel = _compiled_kernels.get(source)
        if kernel is not None:
            return kernel
        try:
            directory = _cache_dir()
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, f"k_{digest}.py")
            if not os.path.exists(path):
                temporary = f"{path}.{os.getpid()}.tmp"
                with open(temporary, "w") as file:
                    file.write(source)
                os.replace(temporary, path)
            # Numba's cache records the module by name: it stays importable under that name.
            name = f"functrans_kernel_{digest}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)  # type: ignore[union-attr]
            except Exception:
                del sys.modules[name]
                raise
            kernel = module.kernel
        except Exception:  # a kernel that does not compile: the steps run unfused
            return None
        _compiled_kernels[source] = kernel
        return kernel
