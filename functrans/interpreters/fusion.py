"""Elementwise fusion for jit's plan: runs of elementwise steps of one shape and float dtype,
optionally ending in a sum, max or min over some axes, become one kernel that reads each input
once and writes only the values something outside the run needs.

On NumPy arrays the kernels are Numba functions (``kernels_numba``, the optional
``jit`` extra); on CuPy arrays they are CuPy ``ElementwiseKernel`` and
``ReductionKernel`` objects made from generated CUDA source (``kernels_cupy``). Without a
kernel library, or for anything a kernel does not cover, the plan runs its steps as they are.

A group is grown along the plan's execution order: an elementwise step joins the open group
when its result has the group's shape and dtype and each of its arguments is a value of the
group, a Python number, or an array of the group's dtype that broadcasts to the group's shape
as a whole array, a row (the last axis), a column (all axes but the last) or a single element.
A reduction of a value of the group over the last axis, over all axes but the last, or over
all axes ends the group (``REDUCTION_KERNELS``): its operand is then not materialised unless
another step reads it. Any other step that reads a value of the open group closes it, so the
kernel runs before that step. A program of 0-d values (a scalar chain and its derivative)
becomes one call of a function of scalars. Which groups become kernels: groups of 0-d values of
at least ``MIN_SCALAR_GROUP`` steps, and groups of arithmetic on arrays (``ARRAY_KERNELS``) of
at least ``MIN_ARRAY_GROUP`` steps and ``MIN_ARRAY_SIZE`` elements (``MIN_LONG_GROUP_SIZE``
for groups of ``LONG_GROUP`` steps or more); a kernel's outputs go into
dead temporaries where the plan has some (``buffers.plan_reuse``), like a ufunc step's.

Fused values are those of the same operations in the same dtype, with Python numbers taken in
the group's dtype as NumPy does; transcendental functions come from the compiler's math
library rather than NumPy's loops, so they may differ from the unfused plan in the last bit,
and a kernel ending in a sum adds in another order than NumPy's pairwise one (in float64 for
float32 data; its arithmetic may be reassociated, so it vectorizes).
"""
from __future__ import annotations

import importlib.util
import math
import os
from typing import Any

import numpy as np

from functrans.interpreters import costs, kernels_numba
from functrans.interpreters.kernels_numba import kernel_source, wait_for_kernels
from functrans.primitives import _define, elementwise, reduction

__all__ = ["available", "cupy_available", "all_cupy", "fuse", "FusedStep", "KernelSpec",
           "TEMPLATES", "REDUCTIONS", "broadcast_pattern", "reduction_axes", "spliced",
           "worth_compiling_first", "kernel_source", "wait_for_kernels"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

#: Whether groups of arrays (not only of 0-d values) become kernels. Measured on the shapes of
#: the W2 training steps (bench/jit_compiler.py, one thread): a loop of arithmetic runs about
#: twice as fast as the same NumPy ufuncs writing into reused buffers, but a loop calling the
#: math library's tanh or exp runs 5-30x slower than NumPy's SIMD ones, so only arithmetic
#: (``_ARRAY_PRIMS``) is fused on arrays; transcendental steps stay NumPy ufunc calls.
ARRAY_KERNELS = True
#: Whether a reduction of a group's value ends the group inside its kernel.
REDUCTION_KERNELS = True
#: Which reductions do: over the last axis ("rows"), all axes but the last ("cols"), all axes
#: ("all"). Measured (bench/jit_compiler.py's fused-reduction rows, one thread, best of 5):
#: the kernel takes 0.28-0.39x the time of the group's steps plus NumPy's reduction for
#: tanh' * d summed over a (256, 1024) batch, a cross entropy and row norms in float64,
#: 0.33-0.56x in float32, 0.55-0.61x for a clip by the global norm (whose division stays a
#: second pass). Such a kernel compiles when its plan is built (its sums are not NumPy's to the
#: last bit, so the first call cannot run NumPy's steps meanwhile).
REDUCTION_MODES = frozenset(("rows", "cols", "all"))
#: Whether a reduction whose operand other steps read too (an output of the program: never)
#: ends a group on NumPy arrays: the kernel then writes the operand and reduces it in the same
#: pass, saving the reduction's read. Measured (Numba, one thread, CPU time, best of 27 runs of 200 calls): a bias
#: gradient beside the product that reads the same values (``d = a * b``, ``sum(d, axis=0)``,
#: ``d @ w``), 0.78-0.85x of the unfused steps at (64, 128) and (256, 128), float32 and
#: float64; the W2 64-128-128-10 step 0.98x (float32) and 0.99x (float64) of its plan without.
SHARED_OPERANDS = True

#: The least share of its plan's estimated cost (``costs.plan_cost``) that the steps of a group
#: need when its kernel must compile before the plan's first call returns (it is not
#: ``deferrable``). Such a compilation costs 0.3-1 s once per machine (Numba's cache keeps it)
#: and Numba's import, about 0.5 s, in each process; a group below 2% of its plan saves less
#: than 2% of a call. Measured: the softmax cross entropy of the W2 784-512-512-10 step (0.2%
#: of its plan) took the step's first call from 0.05 s to 1.2-2.0 s and saved nothing
#: measurable per call; that of the W2 64-128-128-10 step (5-8%) saves about 7%.
MIN_SYNC_SHARE = 0.02

#: The fewest elements a group of two steps needs on NumPy arrays (to become a kernel, or to
#: end in its reduction), and a group of ``LONG_GROUP`` steps or more. Measured under jit
#: (Numba, one thread, CPU time, best of 27 runs of 100 calls, kernels writing apart from their
#: inputs), fused over unfused: ``p - 0.01 * g`` 0.94-1.14x from 512 to 3072 elements (its call
#: costs what it saves), 0.89-0.96x at 4096, 0.74-0.87x from 8192 on, float32 and float64
#: alike; ``(1 - a * a) * b, b + c`` (four steps) 0.50-0.73x from 1024 elements, 0.47-0.57x
#: from 8192 on. CuPy plans fuse any size (each kernel launch costs the same).
MIN_ARRAY_SIZE = 4096
MIN_LONG_GROUP_SIZE = 1024  # (or MIN_ARRAY_SIZE, where that is smaller)
LONG_GROUP = 3
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
    """Whether fused kernels can be compiled for NumPy arrays: Numba is installed (``pip
    install -e ".[jit]"`` in the clone) and not turned off by the environment variable
    ``FUNCTRANS_JIT_KERNELS=0``.

    Example:
        >>> isinstance(available(), bool)
        True
    """
    return _HAVE_NUMBA


def cupy_available() -> bool:
    """Whether plans on CuPy arrays fuse their groups into CuPy kernels (not turned off by
    ``FUNCTRANS_JIT_KERNELS=0``; CuPy itself is there whenever CuPy arrays are).

    Example:
        >>> isinstance(cupy_available(), bool)
        True
    """
    return os.environ.get("FUNCTRANS_JIT_KERNELS", "1") != "0"


def all_cupy(values: Any) -> bool:
    """Whether every array among ``values`` is a CuPy array and there is one (Python and
    NumPy scalars and ``None`` may be among them). The type's module tells, so CuPy is not
    imported.

    Example:
        >>> all_cupy([np.ones(2), 1.0])
        False
    """
    seen = False
    for value in values:
        if value is None or type(value) in _PY_NUMBERS or isinstance(value, np.generic):
            continue
        if type(value).__module__.partition(".")[0] != "cupy":
            return False
        seen = True
    return seen


# -- what a kernel can compute -------------------------------------------------------------------

def _by_name(names: frozenset) -> dict:
    table = {}
    for module in (_define, elementwise):
        for value in vars(module).values():
            if type(value).__name__ == "Primitive" and value.name in names:
                table[value] = value.name
    return table


TEMPLATES = _by_name(kernels_numba.NAMES)  # primitive -> its name in the kernel renderers
_ARITHMETIC = frozenset(("add", "sub", "mul", "div", "neg", "max", "min", "abs", "integer_pow"))
# What array kernels compute on the host: arithmetic (the math library's transcendental
# functions lose to NumPy's vectorized ones).
_ARRAY_PRIMS = frozenset(p for p, name in TEMPLATES.items() if name in _ARITHMETIC)
# Operations a Numba kernel computes to the same bits as NumPy's ufunc (max and min differ in
# the sign of a zero result, integer powers above 2 are not libm's pow).
_EXACT = frozenset(("add", "sub", "mul", "div", "neg", "abs"))
REDUCTIONS = {_define.reduce_sum_p: "sum", reduction.reduce_max_p: "max",
              reduction.reduce_min_p: "min"}


class FusedStep:
    """The primitive slot of a plan step that runs a kernel: its name, for error notes and
    printing, the equations it stands for, and whether it gives their NumPy steps' values to
    the last bit (``exact``)."""

    __slots__ = ("eqns", "source", "name", "takes_out", "exact")
    multiple_results = True
    fresh_outputs = True  # its outputs are new arrays, never views of its inputs

    def __init__(self, eqns: list, source: str, takes_out: bool, exact: bool = False):
        self.eqns = eqns
        self.source = source
        self.takes_out = takes_out  # its run takes out=(buffer or None, ...)
        self.exact = exact
        self.name = "fused[" + " ".join(e.prim.name for e in eqns) + "]"


class KernelSpec:
    """What one kernel computes, independent of the program's variable names: the renderers
    (``kernels_numba``, ``kernels_cupy``) write its source.

    ``ops`` holds ``(primitive name, operands, y)`` per equation, an operand being ``"aK"``
    (input K), ``"vN"`` (the value of equation N) or a float constant; ``patterns`` how each
    input broadcasts ("full", "row", "col", "one"); ``outputs`` the equations whose values
    leave the kernel; ``reduction`` ``(kind, mode, N)``: a "sum", "max" or "min" of equation
    N's value over the last axis ("rows"), the other axes ("cols") or all ("all"), of shape
    ``reduced_shape``.
    """

    __slots__ = ("dtype", "shape", "scalar", "ops", "patterns", "outputs", "reduction",
                 "reduced_shape", "axes")

    def __init__(self, dtype: np.dtype, shape: tuple, ops: list, patterns: list, outputs: list,
                 reduction: tuple | None = None, reduced_shape: tuple = (), axes: tuple = ()):
        self.dtype = dtype
        self.shape = shape
        self.scalar = shape == ()
        self.ops = ops
        self.patterns = patterns
        self.outputs = outputs
        self.reduction = reduction
        self.reduced_shape = reduced_shape
        self.axes = axes

    @property
    def exact(self) -> bool:
        """Whether a Numba kernel gives the NumPy steps' values to the last bit (IEEE
        arithmetic only, no reduction)."""
        return self.reduction is None and self.deferrable

    @property
    def deferrable(self) -> bool:
        """Whether a Numba kernel gives the values of the group's fallback (``_fallback``) to
        the last bit, so that it may compile in the background while the fallback runs: IEEE
        arithmetic only, ending in no reduction or in a sum over all axes but the last, which
        the kernel adds up in the order NumPy adds up the fallback's C-contiguous operand: row
        by row (with one column, NumPy sums the column pairwise instead)."""
        return not self.scalar and (
            self.reduction is None
            or self.reduction[:2] == ("sum", "cols") and self.shape[-1] >= 2) and all(
            name in _EXACT or name == "integer_pow" and y in (0, 1, 2) for name, _, y in self.ops)


# -- grouping ------------------------------------------------------------------------------------


class _Group:
    __slots__ = ("shape", "dtype", "positions", "made", "inputs", "reduction")

    def __init__(self, shape: tuple, dtype: np.dtype):
        self.shape = shape
        self.dtype = dtype
        self.positions: list[int] = []
        self.made: set[int] = set()       # slots the group computes
        self.inputs: dict[int, str] = {}  # slot read from outside -> how it broadcasts
        self.reduction: tuple | None = None  # (position, kind, mode) of the closing reduction


def fuse(steps: list, eqns: list, avals: dict, template: list, var_slots: set,
         keep: set, target: str = "numpy", plan_ns: float | None = None) -> tuple[list, list]:
    """The plan's steps with runs of elementwise steps replaced by kernel steps.

    ``steps`` are ``(prim, impl, params, arg_slots, out_slots, frees)`` without frees yet,
    ``eqns`` the equation of each step, ``avals`` the ``(shape, dtype)`` of each variable
    slot, ``template`` the plan's environment (constants filled in), ``keep`` the output
    slots; ``target`` is "numpy" (Numba kernels) or "cupy" (CuPy kernels); ``plan_ns`` the
    plan's estimated cost (``costs.plan_cost``), which a group whose kernel compiles before
    the first call returns must be a share of (``MIN_SYNC_SHARE``). Returns the new steps and
    the equation that stands for each (for error notes).
    """
    if target == "numpy" and not _HAVE_NUMBA or target == "cupy" and not cupy_available():
        return steps, eqns
    array_prims = _ARRAY_PRIMS if target == "numpy" else frozenset(TEMPLATES)
    readers: dict[int, list[int]] = {}
    for position, step in enumerate(steps):
        for slot in step[3]:
            readers.setdefault(slot, []).append(position)
    groups: list[_Group] = []
    open_group: _Group | None = None

    def joins(group: _Group, prim: Any, params: dict, arg_slots: tuple, out_slots: Any) -> bool:
        return _joins(group, prim, params, arg_slots, out_slots, avals, template, var_slots,
                      array_prims)

    for position, (prim, _, params, arg_slots, out_slots, _) in enumerate(steps):
        if open_group is not None and prim in REDUCTIONS and _ends(
                open_group, position, params, arg_slots, out_slots, avals, readers, keep, target):
            _end(open_group, position, prim, params, out_slots)
            groups.append(open_group)
            open_group = None
            continue
        if open_group is not None and any(s in open_group.made for s in arg_slots) and not joins(
                open_group, prim, params, arg_slots, out_slots):
            groups.append(open_group)
            open_group = None
        if prim not in TEMPLATES or type(out_slots) is not int or out_slots not in avals:
            continue
        shape, dtype = avals[out_slots]
        if np.dtype(dtype) not in _FLOATS or (
                shape != () and (not ARRAY_KERNELS or prim not in array_prims)):
            continue
        if open_group is not None and (open_group.shape != shape or open_group.dtype != dtype
                                       or len(open_group.positions) >= MAX_GROUP):
            groups.append(open_group)
            open_group = None
        if open_group is None:
            open_group = _Group(shape, np.dtype(dtype))
        if not joins(open_group, prim, params, arg_slots, out_slots):
            groups.append(open_group)
            open_group = _Group(shape, np.dtype(dtype))
            if not joins(open_group, prim, params, arg_slots, out_slots):
                open_group = None
                continue
        _add(open_group, position, arg_slots, out_slots, avals, template, var_slots)
    if open_group is not None:
        groups.append(open_group)
    groups = [g for g in groups
              if (len(g.positions) >= MIN_SCALAR_GROUP if g.shape == ()
                  else len(g.positions) >= MIN_ARRAY_GROUP
                  and (target == "cupy" or math.prod(g.shape) >= (
                      MIN_ARRAY_SIZE if len(g.positions) < LONG_GROUP
                      else min(MIN_ARRAY_SIZE, MIN_LONG_GROUP_SIZE))))]
    if not groups:
        return steps, eqns
    replaced: dict[int, tuple] = {}  # last position of a group -> its kernel step
    members: set[int] = set()
    for group in groups:
        step = _kernel_step(group, steps, eqns, readers, keep, template, target, avals, plan_ns)
        if step is None:
            continue
        replaced[group.positions[-1]] = step
        members.update(group.positions)
    return spliced(steps, eqns, replaced, members)


def spliced(steps: list, eqns: list, replaced: dict, members: set,
            replaced_eqns: dict | None = None) -> tuple[list, list]:
    """The plan's steps (and their equations) with each kernel step of ``replaced`` (position
    of a group's last step -> its kernel's step) in that place and the group's other steps
    (the positions in ``members``) left out. A kernel step stands beside the equation of
    ``replaced_eqns`` at its position, if given, else beside the last step's."""
    new_steps, new_eqns = [], []
    for position, step in enumerate(steps):
        if position in replaced:
            new_steps.append(replaced[position])
            new_eqns.append(eqns[position] if replaced_eqns is None else replaced_eqns[position])
        elif position not in members:
            new_steps.append(step)
            new_eqns.append(eqns[position])
    return new_steps, new_eqns


def broadcast_pattern(shape: tuple, arg_shape: tuple) -> str | None:
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
           template: list, var_slots: set, array_prims: frozenset = _ARRAY_PRIMS) -> bool:
    """Whether this step can be computed inside the group's kernel."""
    if prim not in TEMPLATES or type(out_slots) is not int or out_slots not in avals:
        return False
    shape, dtype = avals[out_slots]
    if tuple(shape) != group.shape or np.dtype(dtype) != group.dtype:
        return False
    if group.shape != () and prim not in array_prims:
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
            if aval is None or np.dtype(aval[1]) != group.dtype or broadcast_pattern(group.shape, aval[0]) is None:
                return False
            continue
        value = template[slot]
        if type(value) in _PY_NUMBERS:
            continue
        if not (isinstance(value, np.generic) or hasattr(value, "shape") and hasattr(value, "dtype")
                ) or value.dtype != group.dtype:
            return False
        if broadcast_pattern(group.shape, value.shape) is None:
            return False
    return True


def _reduction_mode(ndim: int, axes: tuple) -> str | None:
    """How a reduction over ``axes`` of an array of ``ndim`` axes maps onto a kernel's
    (rows, cols) loops: "rows" (the last axis), "cols" (all but the last), "all", or None."""
    axes = tuple(sorted(a % ndim for a in axes))
    if axes == tuple(range(ndim)):
        return "all"
    if axes == (ndim - 1,):
        return "rows"
    if axes == tuple(range(ndim - 1)):
        return "cols"
    return None


def _ends(group: _Group, position: int, params: dict, arg_slots: tuple, out_slots: Any,
          avals: dict, readers: dict, keep: set, target: str) -> bool:
    """Whether this reduction can end the group inside its kernel: when no other step reads
    its operand, so the kernel saves writing and reading that temporary, or on NumPy arrays
    (``SHARED_OPERANDS``) when other steps read it (not when it is an output of the
    program), so it saves reading it back (a kernel with a
    reduction is compiled when the plan is built, as its sums are not NumPy's to the last
    bit: it must pay for that)."""
    if (not REDUCTION_KERNELS or group.shape == () or group.reduction is not None
            or math.prod(group.shape) < (1 if target == "cupy" else MIN_ARRAY_SIZE)
            or len(arg_slots) != 1
            or arg_slots[0] not in group.made or type(out_slots) is not int):
        return False
    members = set(group.positions)
    if arg_slots[0] in keep or not (SHARED_OPERANDS and target == "numpy") and any(
            r != position and r not in members for r in readers.get(arg_slots[0], ())):
        return False
    aval = avals.get(out_slots)
    axes = reduction_axes(params)
    if aval is None or np.dtype(aval[1]) != group.dtype or type(axes) is not tuple or not axes:
        return False
    mode = _reduction_mode(len(group.shape), axes)
    return mode is not None and (mode in REDUCTION_MODES or target == "cupy")


def _end(group: _Group, position: int, prim: Any, params: dict, out_slot: int) -> None:
    group.positions.append(position)
    group.reduction = (position, REDUCTIONS[prim], _reduction_mode(len(group.shape), reduction_axes(params)))


def reduction_axes(params: dict) -> Any:
    """A reduction step's axes (the plan may call the ufunc's ``reduce`` with ``axis=``)."""
    return params["axes"] if "axes" in params else params.get("axis")


def _add(group: _Group, position: int, arg_slots: tuple, out_slot: int, avals: dict,
         template: list, var_slots: set) -> None:
    group.positions.append(position)
    for slot in arg_slots:
        if slot in group.made or slot in group.inputs:
            continue
        if slot in var_slots:
            group.inputs[slot] = broadcast_pattern(group.shape, avals[slot][0]) or "full"
        elif type(template[slot]) not in _PY_NUMBERS:
            group.inputs[slot] = broadcast_pattern(group.shape, template[slot].shape) or "full"
    group.made.add(out_slot)


# -- the kernel step -----------------------------------------------------------------------------


def _spec(group: _Group, steps: list, readers: dict, keep: set, template: list,
          avals: dict | None = None) -> tuple[KernelSpec, tuple, tuple] | None:
    """The group's ``KernelSpec`` with its input slots and output slots, or ``None`` if
    nothing it computes is needed."""
    positions = set(group.positions)
    names: dict[int, str] = {slot: f"a{k}" for k, slot in enumerate(group.inputs)}
    ops: list[tuple] = []
    out_slots: list[int] = []
    outputs: list[int] = []
    reduction = None
    reduced_shape: tuple = ()
    axes: tuple = ()
    for position in group.positions:
        prim, _, params, arg_slots, out_slot, _ = steps[position]
        if group.reduction is not None and position == group.reduction[0]:
            _, kind, mode = group.reduction
            reduction = (kind, mode, int(names[arg_slots[0]][1:]))
            axes = reduction_axes(params)
            reduced_shape = tuple(d for i, d in enumerate(group.shape)
                                  if i not in {a % len(group.shape) for a in axes})
            continue
        operands = [names[s] if s in names else float(template[s]) for s in arg_slots]
        names[out_slot] = f"v{len(ops)}"
        ops.append((TEMPLATES[prim], operands, params.get("y")))
        if out_slot in keep or any(r not in positions for r in readers.get(out_slot, ())):
            out_slots.append(out_slot)
            outputs.append(len(ops) - 1)
    if group.reduction is not None:
        out_slots.append(steps[group.reduction[0]][4])
    if not out_slots:
        return None
    spec = KernelSpec(group.dtype, group.shape, ops, list(group.inputs.values()), outputs,
                      reduction, reduced_shape, axes)
    return spec, tuple(group.inputs), tuple(out_slots)


def worth_compiling_first(steps: list, positions: list, avals: dict, template: list,
                          plan_ns: float | None) -> bool:
    """Whether a kernel that compiles before its plan's first call returns pays: its steps (at
    ``positions``) are at least ``MIN_SYNC_SHARE`` of the plan's estimated cost ``plan_ns``
    (``None``: not estimated, it does)."""
    return plan_ns is None or sum(costs.step_cost(steps[p], avals, template)
                                  for p in positions) >= MIN_SYNC_SHARE * plan_ns


def _kernel_step(group: _Group, steps: list, eqns: list, readers: dict, keep: set,
                 template: list, target: str, avals: dict,
                 plan_ns: float | None = None) -> tuple | None:
    """The plan step running the group's kernel, or ``None`` if it does not compile or, when
    it would compile before the first call returns, it does not pay
    (``worth_compiling_first``)."""
    made = _spec(group, steps, readers, keep, template)
    if made is None:
        return None
    spec, in_slots, out_slots = made
    if target == "numpy" and not spec.deferrable and not worth_compiling_first(
            steps, group.positions, avals, template, plan_ns):
        return None
    members = [eqns[p] for p in group.positions]
    if target == "cupy":
        from functrans.interpreters import kernels_cupy

        source, run = kernels_cupy.make_runner(spec)
        return (FusedStep(members, source, takes_out=False), run, {}, in_slots, out_slots, ())
    fallback = _fallback([steps[p] for p in group.positions], in_slots, out_slots, template,
                         contiguous=spec.reduction is not None and spec.reduction[1] == "cols")
    run = kernels_numba.make_runner(spec, fallback)
    if run is None:
        return None
    prim = FusedStep(members, kernels_numba.spec_source(spec), takes_out=not spec.scalar,
                     exact=spec.exact)
    return (prim, run, {}, in_slots, out_slots, ())


def _fallback(group_steps: list, in_slots: tuple, out_slots: tuple, template: list,
              contiguous: bool = False) -> Any:
    """The group computed by its own NumPy steps: a function of its input values returning
    the tuple of its outputs, run while its kernel compiles. ``contiguous``: the closing
    reduction reads its operand in C order (the order its kernel adds it up in)."""
    constants = {s: template[s] for _, _, _, args, _, _ in group_steps for s in args
                 if s not in in_slots and template[s] is not None}
    program = [(impl, params, args, out) for _, impl, params, args, out, _ in group_steps]
    if contiguous:
        impl, params, args, out = program[-1]
        contiguous_copy = np.ascontiguousarray  # numpy-only: the fallback of a Numba kernel
        program[-1] = (lambda x, **kw: impl(contiguous_copy(x), **kw), params, args, out)

    def run(*values: Any) -> tuple:
        env = dict(constants)
        env.update(zip(in_slots, values))
        for impl, params, args, out in program:
            env[out] = impl(*[env[s] for s in args], **params)
        return tuple(env[s] for s in out_slots)

    return run
