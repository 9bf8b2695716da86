"""An update fused into the matrix product that feeds it, for jit's plan on NumPy arrays:
``w - s * (a @ b)`` (or ``w + s * (a @ b)``, ``w - a @ b``, ``w + a @ b``) runs as one BLAS
``gemm`` call with ``beta = 1`` on a copy of ``w``, instead of a product and two passes over
its result.

This is the step an SGD update of a weight makes from the weight's gradient (``W - lr * dW``
with ``dW = h.T @ delta``). BLAS accumulates ``alpha * a @ b`` into ``c`` as it computes the
product, so the gradient is never written to memory nor read back. The copy of ``w`` is the
step's output: the plan never writes into an argument of the call.

The pass applies only where the result is the same computation in the same dtype: the
product is a 2-d matrix product (any of the four transposed layouts ``dot_general`` gives
it, no batch dimensions) of float32 or float64 operands of one dtype; its result is read by
the scaling alone, and the scaled product by the update alone (neither is an output); the
scale is a number (a constant, a 0-d value of the plan, or a Python number given to the jitted
function, read at every call) and the update's other operand has
the product's shape and dtype. It needs SciPy's BLAS wrappers (``scipy.linalg.blas``); without
SciPy the plan keeps its steps.

Measured with one BLAS thread (OpenBLAS; the W2 layers of ``bench/``: 784x512, 512x512,
512x10 with 128 rows, 64x128, 128x128, 128x10 with 256 rows; best of 15 to 40 interleaved
runs), the fused step against product + scale + update: float64 0.93-0.97x at every size,
also with the caches flushed between calls (0.95-0.96x on the large layers); float32
0.96-0.98x on the large layers with warm caches but 1.01x with cold ones, and 1.10-1.12x on
the small layers (64x128 and 128x128). So only float64 products are fused (``DTYPES``).
``FUNCTRANS_JIT_GEMM=0`` turns the pass off.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import math
import os
import sys
from typing import Any

import numpy as np

from functrans.backend import array_module
from functrans.core.ir import Eqn
from functrans.interpreters import costs, fusion
from functrans.primitives._define import add_p
from functrans.primitives.dot import dot_general, dot_general_p
from functrans.primitives.elementwise import mul_p, sub_p

__all__ = ["available", "fuse_updates", "GemmUpdateStep", "DTYPES"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
#: The dtypes whose updates are fused (the pass computes float32 as well; measured, it gains
#: nothing there: see the module's docstring).
DTYPES: frozenset = frozenset((np.dtype(np.float64),))
# The 2-d products dot_general computes as one matrix product: (x contract, y contract).
_MATRIX_PRODUCTS = frozenset((((1,), (0,)), ((0,), (0,)), ((1,), (1,)), ((0,), (1,))))
_NUMBERS = (int, float, np.integer, np.floating)

# SciPy is found when this module is imported but imported only when a plan first fuses an
# update (``scipy.linalg`` takes a fraction of a second to import).
_HAVE_SCIPY = (os.environ.get("FUNCTRANS_JIT_GEMM", "1") != "0"
               and importlib.util.find_spec("scipy") is not None)
_gemm: dict = {}


def available() -> bool:
    """Whether updates can be fused into products: SciPy is installed and the pass is not
    turned off by the environment variable ``FUNCTRANS_JIT_GEMM=0``.

    Example:
        >>> isinstance(available(), bool)
        True
    """
    return _HAVE_SCIPY


class GemmUpdateStep:
    """The primitive slot of a plan step that runs a fused update: its name, for error notes
    and printing, and the equations it stands for (product, scaling, update)."""

    __slots__ = ("eqns", "name")
    multiple_results = False
    fresh_outputs = True  # its output is a new array, never one of its arguments or a view
    takes_out = False

    def __init__(self, eqns: list):
        self.eqns = eqns
        self.name = "gemm_update"


def fuse_updates(steps: list, eqns: list, avals: dict, template: list,
                 keep: set) -> tuple[list, list]:
    """The plan's steps with each update of a matrix product that BLAS can fuse replaced by
    one ``GemmUpdateStep``, placed where the update was.

    ``steps`` are ``(prim, impl, params, arg_slots, out_slots, frees)`` (frees are recomputed
    by the caller), ``eqns`` the equation of each step, ``avals`` the ``(shape, dtype)`` of the
    variable slots, ``template`` the plan's environment (constants filled in), ``keep`` the
    output slots. Returns the new steps and the equation that stands for each.

    Example:
        >>> import numpy as np, functrans as ft
        >>> w, h, d = np.ones((64, 32)), np.ones((8, 64)), np.ones((8, 32))
        >>> step = ft.jit(lambda w, h, d: w - 0.5 * (h.T @ d))
        >>> text = step.lower(w, h, d).as_text()
        >>> ("gemm_update" in text) == available()
        True
        >>> float(step(w, h, d)[0, 0])
        -3.0
    """
    if not _HAVE_SCIPY:
        return steps, eqns
    readers: dict[int, list[int]] = {}
    for position, step in enumerate(steps):
        for slot in step[3]:
            readers.setdefault(slot, []).append(position)
    replaced: dict[int, tuple] = {}  # position of an update -> its fused step
    replaced_eqns: dict[int, Any] = {}  # and the equation it stands beside
    members: set[int] = set()
    for position, step in enumerate(steps):
        if step[0] is not dot_general_p:
            continue
        found = _match(position, steps, eqns, avals, template, readers, keep)
        if found is None:
            continue
        update, absorbed, fused, eqn = found
        # The sum of two products (x @ a + h @ b) matches twice: the first product is fused
        # and the second is its ``w``, computed on its own.
        if update in replaced:
            continue
        replaced[update] = fused
        replaced_eqns[update] = eqn
        members.update(absorbed)
    if not replaced:
        return steps, eqns
    return fusion.spliced(steps, eqns, replaced, members, replaced_eqns)


def _sole_reader(slot: int, readers: dict, keep: set) -> int | None:
    """The one step that reads ``slot``, if exactly one does and it is not an output."""
    reading = readers.get(slot, ())
    if slot in keep or len(reading) != 1:
        return None
    return reading[0]


def _match(position: int, steps: list, eqns: list, avals: dict, template: list,
           readers: dict, keep: set) -> tuple | None:
    """``(update position, positions it absorbs, fused step, its equation)`` when the
    product at ``position`` is scaled and added to a matrix as the pass requires, else
    ``None``."""
    _, _, params, (x_slot, y_slot), product, _ = steps[position]
    (contract, batch) = params["dimension_numbers"]
    if batch != ((), ()) or contract not in _MATRIX_PRODUCTS or type(product) is not int:
        return None
    out_aval, x_aval, y_aval = (costs.aval(s, avals, template) for s in (product, x_slot, y_slot))
    if out_aval is None or x_aval is None or y_aval is None:
        return None
    shape, dtype = out_aval
    dtype = np.dtype(dtype)
    if (dtype not in DTYPES or dtype not in _FLOATS or len(x_aval[0]) != 2 or len(y_aval[0]) != 2
            or np.dtype(x_aval[1]) != dtype or np.dtype(y_aval[1]) != dtype):
        return None
    if math.prod(shape) * x_aval[0][contract[0][0]] == 0:
        return None
    # Optionally a scaling by a number, read by the update alone.
    follower = _sole_reader(product, readers, keep)
    if follower is None:
        return None
    scale_slot: int | None = None
    scaled, scale_position = product, None
    prim, _, f_params, f_args, f_out, _ = steps[follower]
    if prim is mul_p and not f_params and type(f_out) is int and len(f_args) == 2:
        scale_slot = f_args[1] if f_args[0] == product else f_args[0]
        if (scale_slot == product or not _is_number(scale_slot, avals, template)
                or costs.aval(f_out, avals, template) != out_aval):
            return None
        scaled, scale_position = f_out, follower
        follower = _sole_reader(f_out, readers, keep)
        if follower is None:
            return None
        prim, _, f_params, f_args, f_out, _ = steps[follower]
    # The update: w - scaled, w + scaled or scaled + w, of the product's shape and dtype.
    if f_params or type(f_out) is not int or len(f_args) != 2 or (prim is not sub_p and prim is not add_p):
        return None
    if prim is sub_p:
        if f_args[1] != scaled or f_args[0] == scaled:
            return None
        w_slot, sign = f_args[0], -1.0
    else:
        w_slot = f_args[1] if f_args[0] == scaled else f_args[0]
        if w_slot == scaled:
            return None
        sign = 1.0
    w_aval = costs.aval(w_slot, avals, template)
    if w_aval is None or tuple(w_aval[0]) != tuple(shape) or np.dtype(w_aval[1]) != dtype:
        return None
    if costs.aval(f_out, avals, template) != out_aval:
        return None
    run = _runner(contract, dtype, sign, scale_slot, template)
    arg_slots = (x_slot, y_slot, w_slot) + (
        (scale_slot,) if scale_slot is not None and template[scale_slot] is None else ())
    members = [eqns[position]] + ([eqns[scale_position]] if scale_position is not None else []) + [
        eqns[follower]]
    fused_prim = GemmUpdateStep(members)
    update_eqn = eqns[follower]
    shown = tuple(eqns[position].args) + (update_eqn.args[f_args.index(w_slot)],)
    if scale_position is not None:
        shown += (eqns[scale_position].args[steps[scale_position][3].index(scale_slot)],)
    eqn = Eqn(fused_prim, shown, {"sign": "-" if sign < 0 else "+"}, update_eqn.outs,
              update_eqn.source, update_eqn.scope)
    absorbed = (position,) if scale_position is None else (position, scale_position)
    return follower, absorbed, (fused_prim, run, {}, arg_slots, f_out, ()), eqn


def _is_number(slot: int, avals: dict, template: list) -> bool:
    """Whether ``slot`` holds a real number: a constant Python or NumPy number or 0-d array,
    a 0-d variable of a real dtype, or a variable of no known shape (a Python number given to
    jit is one)."""
    value = template[slot] if slot < len(template) else None
    if value is None:
        aval = avals.get(slot)
        if aval is None:  # a Python number given to jit (or a value of unknown shape: the
            return True   # step checks it when it runs)
        return aval[0] == () and np.dtype(aval[1]).kind in "fiu"
    if type(value) is bool or isinstance(value, np.bool_):
        return False
    if isinstance(value, _NUMBERS):
        return True
    return isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "fiu"


def _operand(array: np.ndarray, transposed: bool) -> tuple[np.ndarray, int]:
    """``array`` (2-d) as BLAS's column-major operand standing for ``array.T`` (when
    ``transposed``) or ``array``: a Fortran-ordered array and the transpose flag to give it."""
    if array.flags.c_contiguous:
        return array.T, 0 if transposed else 1
    if array.flags.f_contiguous:
        return array, 1 if transposed else 0
    return array_module(array).ascontiguousarray(array).T, 0 if transposed else 1


def _routine(dtype: np.dtype) -> Any:
    """SciPy's ``sgemm`` or ``dgemm`` wrapper."""
    gemm = _gemm.get(dtype)
    if gemm is None:
        blas = _fblas() or importlib.import_module("scipy.linalg.blas")
        gemm = _gemm[dtype] = blas.sgemm if dtype == _FLOATS[0] else blas.dgemm
    return gemm


def _fblas() -> Any:
    """SciPy's compiled BLAS wrappers (``scipy.linalg._fblas``) loaded from their file alone,
    or ``None`` if that fails (the caller then imports ``scipy.linalg.blas``).

    Importing ``scipy.linalg`` takes 0.2-0.6 s (measured on this project's machines): it
    loads all of SciPy's linear algebra, which would make the first call of a jitted training
    step that much slower. The extension module itself needs only NumPy and loads in about
    10 ms; if ``scipy.linalg`` is imported later, it finds the module again by its name.
    """
    loaded = sys.modules.get("scipy.linalg._fblas")
    if loaded is not None:
        return loaded
    try:
        scipy_spec = importlib.util.find_spec("scipy")
        directory = os.path.join(os.path.dirname(scipy_spec.origin), "linalg")  # type: ignore[union-attr, arg-type]
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(directory, "_fblas" + suffix)
            if os.path.exists(path):
                spec = importlib.util.spec_from_file_location("scipy.linalg._fblas", path)
                module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
                spec.loader.exec_module(module)  # type: ignore[union-attr]
                return module if hasattr(module, "dgemm") and hasattr(module, "sgemm") else None
    except Exception:  # another layout of SciPy: the public import is used
        return None
    return None


def _runner(contract: tuple, dtype: np.dtype, sign: float, scale_slot: int | None,
            template: list) -> Any:
    """The step's function of ``(x, y, w[, scale][, out=])``: a copy of ``w`` (into ``out``
    when given) plus ``alpha * x . y``.

    Row-major ``c = w + alpha * (A @ B)`` is column-major ``c.T = w.T + alpha * B.T @ A.T``,
    with ``A = x`` or ``x.T`` and ``B = y`` or ``y.T`` as ``contract`` says."""
    gemm = _routine(dtype)
    (x_contract,), (y_contract,) = contract
    b_transposed = y_contract == 0   # B.T is y.T when B = y
    a_transposed = x_contract == 1   # A.T is x.T when A = x
    constant = scale_slot is not None and template[scale_slot] is not None
    alpha = sign * float(template[scale_slot]) if constant else sign  # type: ignore[index]

    def run(x: Any, y: Any, w: Any, scale: Any = None, out: Any = None) -> Any:
        if scale is not None and getattr(scale, "ndim", 0) != 0:
            # An array in the scale's place (a value the plan knew no shape of): unfused.
            product = dot_general(x, y, (contract, ((), ())))
            scaled = scale * product
            return w - scaled if sign < 0 else w + scaled
        first, trans_a = _operand(y, b_transposed)
        second, trans_b = _operand(x, a_transposed)
        if out is None:
            c = w.copy()
        else:  # an array the plan keeps for this step's result (C-ordered, w's shape and dtype)
            c = out
            np.copyto(c, w)  # numpy-only: the fused update runs on NumPy arrays only
        gemm(alpha if scale is None else sign * float(scale), first, second, 1.0, c.T,
             trans_a=trans_a, trans_b=trans_b, overwrite_c=1)
        return c

    return run
