"""Numba kernels for jit's fusion groups (``fusion.KernelSpec``): their source, the Python
wrapper a plan step calls, and their compilation, once per process and cached on disk.

A kernel's source depends only on what it computes (operations, dtype, broadcasting patterns,
constants), never on the program's variable names, so identical groups of different programs
and runs share one compiled kernel, in memory and in Numba's on-disk cache
(``FUNCTRANS_KERNEL_CACHE``, by default ``~/.cache/functrans/kernels``), where the source is
written to a file named by its hash.

A kernel whose values equal those of its group's NumPy steps to the last bit
(``KernelSpec.deferrable``: IEEE arithmetic, no math library call, no reduction but a sum over
the leading axes, which NumPy adds up in a fixed order) compiles in a background thread: until
it is ready the step runs the group's NumPy steps, so the first call is not held up by the
compiler and every call gives the same values. Other kernels compile when the plan is built. A
kernel that fails to compile leaves its step running the NumPy steps.
"""
from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["kernel_source", "make_runner", "wait_for_kernels", "expression", "compiled", "BACKGROUND"]

#: Whether bit-exact kernels compile in a background thread (``FUNCTRANS_JIT_BACKGROUND=0``
#: compiles every kernel when its plan is built).
BACKGROUND = os.environ.get("FUNCTRANS_JIT_BACKGROUND", "1") != "0"

# primitive name -> template of its scalar expression in Numba source
_BINARY = {"add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})",
           "div": "({0} / {1})", "max": "np.maximum({0}, {1})", "min": "np.minimum({0}, {1})"}
_UNARY = {"neg": "(-{0})", "abs": "abs({0})", "integer_pow": "({0} ** {y})"}
for _function in ("sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "expm1", "log", "log1p",
              "sqrt", "arctan", "arcsin", "arccos"):
    _UNARY[_function] = f"np.{_function}({{0}})"
#: The primitive names a Numba kernel can compute.
NAMES = frozenset(_BINARY) | frozenset(_UNARY)


def literal(value: float, dtype: np.dtype) -> str:
    """A Python number as a constant of ``dtype`` in kernel source.

    Example:
        >>> literal(0.5, np.dtype("float32"))
        'np.float32(0.5)'
    """
    number = float(value)
    if math.isnan(number):
        text = "np.nan"
    elif math.isinf(number):
        text = "np.inf" if number > 0 else "-np.inf"
    else:
        text = repr(number)
    return f"np.{dtype.name}({text})"


def expression(name: str, operands: list[str], y: Any = None) -> str:
    """The Numba expression of the primitive ``name`` applied to operand texts (``y``: an
    integer power's exponent).

    Example:
        >>> expression("mul", ["a0_", "v1"])
        '(a0_ * v1)'
    """
    return (_BINARY.get(name) or _UNARY[name]).format(*operands, y=y)


def body_lines(spec: Any) -> list[str]:
    """The kernel body of ``spec``: one assignment ``vN = expression`` per equation, reading
    inputs as ``aK`` (0-d groups) or ``aK_`` (the element of input K)."""
    suffix = "" if spec.scalar else "_"
    lines = []
    for n, (name, operands, y) in enumerate(spec.ops):
        texts = [literal(o, spec.dtype) if isinstance(o, float)
                 else (o + suffix if o.startswith("a") else o) for o in operands]
        lines.append(f"v{n} = {expression(name, texts, y)}")
    return lines


_INDEX = {"full": "[i, j]", "row": "[0, j]", "col": "[i, 0]", "one": "[0, 0]"}
_RESHAPE = {"full": "(rows, cols)", "row": "(1, cols)", "col": "(rows, 1)", "one": "(1, 1)"}
_INIT = {"sum": "0.0", "max": "-np.inf", "min": "np.inf"}
_COMBINE = {"sum": "{0} + {1}", "max": "np.maximum({0}, {1})", "min": "np.minimum({0}, {1})"}


def kernel_source(body: list[str], inputs: list[tuple[str, str]], outputs: list[str],
                  dtype: np.dtype, scalar: bool, reduction: tuple[str, str, str] | None = None
                  ) -> str:
    """The source of one kernel module: a Numba function of the inputs (and, on arrays, of
    the output arrays and the loop sizes) computing ``body`` per element. ``reduction`` is
    ``(kind, mode, value)``: the group ends in a ``kind`` ("sum", "max", "min") of ``value``
    over the last axis (mode "rows": one result per row), over the other axes ("cols") or over
    all ("all"), written into the last output array (1-D). Sums over the rows or over all
    accumulate in float64; a sum over the other axes adds the rows in order in ``dtype``,
    starting from 0.0, which is what NumPy does to a C-contiguous array (so it gives NumPy's
    bits).

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
    params = ["R"] * len(args) + ["W"] * len(outs)
    names = args + outs
    kind, mode, value = reduction if reduction is not None else ("", "", "")
    if mode in ("rows", "all"):
        # reassociation lets the compiler split the sum into vector lanes (a sum in order is
        # bound by the latency of one addition per element)
        options += ', fastmath={"reassoc"}'
    if reduction is not None:
        lines.append(f"W1 = types.Array(types.{name}, 1, 'C')")
        params.append("W1")
        names.append("r")
    signature = f"types.void({', '.join(params + ['types.intp', 'types.intp'])})"
    lines.append(f"@njit({signature}, {options})")
    lines.append(f"def kernel({', '.join(names + ['rows', 'cols'])}):")
    inner = "            "
    if mode == "cols":
        start = f"np.{name}(0.0)" if kind == "sum" else _INIT[kind]
        lines.append(f"    acc = np.full(cols, {start})")
    elif mode == "all":
        lines.append(f"    acc = {_INIT[kind]}")
    lines.append("    for i in range(rows):")
    if mode == "rows":
        lines.append(f"        acc = {_INIT[kind]}")
    lines.append("        for j in range(cols):")
    lines.extend(f"{inner}{a}_ = {a}{_INDEX[pattern]}" for a, pattern in inputs)
    lines.extend(f"{inner}{line}" for line in body)
    lines.extend(f"{inner}{o}[i, j] = {v}" for o, v in zip(outs, outputs))
    if mode == "cols":
        lines.append(f"{inner}acc[j] = {_COMBINE[kind].format('acc[j]', value)}")
    elif mode:
        lines.append(f"{inner}acc = {_COMBINE[kind].format('acc', value)}")
    if mode == "rows":
        lines.append("        r[i] = acc")
    elif mode == "cols":
        lines.append("    for j in range(cols):")
        lines.append("        r[j] = acc[j]")
    elif mode == "all":
        lines.append("    r[0] = acc")
    return "\n".join(lines) + "\n"


def spec_source(spec: Any) -> str:
    """The kernel source of a ``fusion.KernelSpec``."""
    inputs = [(f"a{k}", pattern) for k, pattern in enumerate(spec.patterns)]
    outputs = [f"v{n}" for n in spec.outputs]
    reduction = None
    if spec.reduction is not None:
        kind, mode, operand = spec.reduction
        reduction = (kind, mode, f"v{operand}")
    return kernel_source(body_lines(spec), inputs, outputs, spec.dtype, spec.scalar, reduction)


def make_runner(spec: Any, fallback: Callable) -> Callable | None:
    """A Python function of the group's input values returning the tuple of its outputs, by
    the kernel of ``spec``; ``fallback`` (the same function by the group's NumPy steps) runs
    while a bit-exact kernel compiles in the background. ``None`` if the kernel does not
    compile."""
    source = spec_source(spec)
    namespace = _wrapper_namespace(spec, fallback)
    kernel = _compiled_kernels.get(source)
    if kernel is None and BACKGROUND and spec.deferrable:
        _compile_later(source, namespace)
    elif kernel is None:
        kernel = compiled(source)
        if kernel is None:
            return None
    namespace["kernel"] = kernel
    exec(compile(_wrapper_source(spec), "<functrans fused kernel>", "exec"), namespace)
    return namespace["run"]


def _wrapper_namespace(spec: Any, fallback: Callable) -> dict:
    shape = spec.shape
    rows = math.prod(shape[:-1]) if shape else 1
    cols = shape[-1] if shape else 1
    namespace: dict[str, Any] = {
        "kernel": None, "fallback": fallback, "np": np, "empty": np.empty,
        "contiguous": np.ascontiguousarray, "dt": spec.dtype, "scalar_type": spec.dtype.type,
        "shape": shape, "rows": rows, "cols": cols}
    if spec.reduction is not None:
        namespace["reduced_shape"] = spec.reduced_shape
        namespace["reduced_size"] = math.prod(spec.reduced_shape)
    return namespace


def _wrapper_source(spec: Any) -> str:
    """The source of ``run``: it shapes the arguments for the kernel and, on arrays, takes the
    output arrays from ``out`` (a tuple of arrays of the outputs' shapes and dtype, or ``None``
    each) or allocates them."""
    args = ", ".join(f"a{k}" for k in range(len(spec.patterns)))
    n_out = len(spec.outputs)
    if spec.scalar:  # (float() takes NumPy scalars, 0-d arrays and Python numbers alike, exactly)
        call = ", ".join(f"float(a{k})" for k in range(len(spec.patterns)))
        if n_out == 1:
            return f"def run({args}):\n    return (scalar_type(kernel({call})),)\n"
        outs = ", ".join(f"scalar_type(r[{k}])" for k in range(n_out))
        return f"def run({args}):\n    r = kernel({call})\n    return ({outs},)\n"
    lines = [f"def run({args}, out=None):",
             "    if kernel is None:",
             f"        return fallback({args})"]
    for k in range(n_out):
        lines.append(f"    o{k} = None if out is None else out[{k}]")
        lines.append(f"    if o{k} is None or not o{k}.flags.c_contiguous:")
        lines.append(f"        o{k} = empty(shape, dt)")
    operands = [f"contiguous(a{k}).reshape{_RESHAPE[p]}" for k, p in enumerate(spec.patterns)]
    operands += [f"o{k}.reshape(rows, cols)" for k in range(n_out)]
    results = "".join(f"o{k}, " for k in range(n_out))
    if spec.reduction is not None:
        if spec.reduced_shape == ():
            lines.append("    r = empty(1, dt)")
            result = "scalar_type(r[0])"  # (NumPy's full reduction gives a NumPy scalar)
        else:
            lines.append(f"    r = None if out is None else out[{n_out}]")
            lines.append("    if r is None or not r.flags.c_contiguous:")
            lines.append("        r = empty(reduced_shape, dt)")
            result = "r"
        operands.append("r.reshape(reduced_size)")
        results += f"{result}, "
    lines.append(f"    kernel({', '.join(operands + ['rows', 'cols'])})")
    lines.append(f"    return ({results})")
    return "\n".join(lines) + "\n"


# -- compiling, with an on-disk cache and a background thread ------------------------------------

_compiled_kernels: dict[str, Any] = {}
_lock = threading.Lock()
_pending: dict[str, list[dict]] = {}  # source -> the wrapper namespaces waiting for its kernel
_working = False  # whether the background thread runs (it ends when nothing is pending)
_idle = threading.Event()
_idle.set()


def _cache_dir() -> str:
    return os.environ.get("FUNCTRANS_KERNEL_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "functrans", "kernels")


def _compile_later(source: str, namespace: dict) -> None:
    """Compile ``source`` in the background thread, then set ``namespace["kernel"]``."""
    global _working
    with _lock:
        waiting = _pending.get(source)
        if waiting is not None:
            waiting.append(namespace)
            return
        _pending[source] = [namespace]
        _idle.clear()
        if not _working:
            _working = True
            # Not a daemon: the interpreter waits for a compilation in progress at exit
            # rather than tearing Numba down under it.
            threading.Thread(target=_work, name="functrans-kernels").start()


def _work() -> None:
    global _working
    while True:
        with _lock:
            if not _pending:
                _working = False
                _idle.set()
                return
            source = next(iter(_pending))
        kernel = compiled(source)
        with _lock:
            for namespace in _pending.pop(source):
                namespace["kernel"] = kernel  # (a failed compilation leaves None: NumPy steps)


def wait_for_kernels(timeout: float | None = None) -> bool:
    """Wait until the kernels compiling in the background are ready; ``False`` if
    ``timeout`` seconds passed first. Plans do not need it (they run the NumPy steps until
    then): it is for measurements and tests.

    Example:
        >>> wait_for_kernels(timeout=60.0)
        True
    """
    return _idle.wait(timeout)


def compiled(source: str) -> Any:
    """The kernel of ``source``, compiled once per process (and loaded from Numba's cache
    when another process compiled it), or ``None`` if it does not compile."""
    kernel = _compiled_kernels.get(source)
    if kernel is not None:
        return kernel
    digest = hashlib.sha1(source.encode()).hexdigest()[:20]
    try:
        directory = _cache_dir()
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"k_{digest}.py")
        if not os.path.exists(path):
            temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
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
