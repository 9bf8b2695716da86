"""Buffer reuse for jit's plan on NumPy arrays: an elementwise step writes its result into a
temporary that is dead by then (``ufunc(..., out=buffer)``) instead of a new array.

A fresh array of a few hundred kilobytes costs the allocator a new mapping and the processor a
page fault per page on first touch, often more than the arithmetic itself; a temporary the
plan has finished with is already mapped and in cache.

A temporary may lend its memory only if the plan alone can reach it:

* it was made by a step known to return new memory (a NumPy ufunc, a matrix product), not a
  view or a step that may return its argument (``reshape``, ``convert_element_type``, an
  unknown primitive);
* every step that reads it is known not to return a view of it (so when the variable is dead,
  so is its memory);
* it is not an output of the program, nor an input or a constant (those are never variables
  made by a step), and it is not 0-d (NumPy returns scalars, not arrays, there).

The borrower is a ufunc step (or a fused kernel, for each of its outputs, never into one of
its own arguments: a compiled loop whose output overlaps an input does not vectorize) whose
result has the temporary's shape and dtype; a ufunc given ``out=`` computes the same values in the same dtype
as without it (the loop is chosen from the inputs), and an argument that is the buffer itself
is read element by element before it is written.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from functrans.primitives import _define, elementwise
from functrans.primitives.dot import dot_general_p
from functrans.primitives.reduction import argmax_p, argmin_p, reduce_max_p, reduce_min_p, reduce_prod_p

__all__ = ["UFUNCS", "plan_reuse", "new_memory_slots"]


def _ufunc_table() -> dict:
    """The primitives whose implementation on NumPy arrays is exactly one NumPy ufunc call."""
    by_name = {
        "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
        "neg": np.negative, "max": np.maximum, "min": np.minimum,
        "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
        "gt": np.greater, "ge": np.greater_equal, "mod": np.remainder,
    }
    for name in ("sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
                 "arcsinh", "arccosh", "arctanh", "exp", "exp2", "expm1", "log", "log2",
                 "log10", "log1p", "sqrt", "cbrt", "abs", "sign", "floor", "ceil", "trunc",
                 "rint", "logical_not", "logical_and", "logical_or", "logical_xor", "arctan2",
                 "hypot", "logaddexp", "logaddexp2", "fmod", "floor_divide"):
        by_name[name] = getattr(np, name)
    table = {}
    for module in (_define, elementwise):
        for value in vars(module).values():
            if type(value).__name__ == "Primitive" and value.name in by_name:
                table[value] = by_name[value.name]
    return table


#: Primitive -> the NumPy ufunc that is its implementation on NumPy arrays.
UFUNCS: dict = _ufunc_table()

# Steps whose result is always new memory (a view of new memory at most) on NumPy arrays.
_FRESH = frozenset(UFUNCS) | {dot_general_p}
# Steps that never return their argument or a view of it.
_NOT_VIEWS = _FRESH | {_define.reduce_sum_p, reduce_max_p, reduce_min_p, reduce_prod_p,
                       argmax_p, argmin_p}


def plan_reuse(steps: list, avals: dict, var_slots: set, keep: set) -> tuple[dict, list]:
    """Which ufunc steps (and fused kernels) write into which dead temporaries.

    ``steps`` are the plan's ``(prim, impl, params, arg_slots, out_slots, frees)`` with their
    frees attached; ``avals`` maps a variable slot to its ``(shape, dtype)``; ``keep`` holds
    the output slots. Returns ``{position: buffer slot}`` (for a kernel, a tuple of a slot or
    ``None`` per output) and the steps with each borrowed
    buffer freed after its borrower instead of after its last read.
    """
    lendable = _lendable(steps, avals, var_slots, keep)
    if not lendable:
        return {}, steps
    freed_at: dict[int, int] = {}
    for position, step in enumerate(steps):
        for slot in step[5]:
            freed_at[slot] = position
    pool: dict[tuple, list[int]] = {}
    borrow: dict[int, Any] = {}
    moved: dict[int, int] = {}  # buffer slot -> position whose frees now include it
    for position, (prim, _, params, arg_slots, out_slots, frees) in enumerate(steps):
        for slot in frees:  # dead after this step's reads: usable by this step already
            if slot in lendable:
                pool.setdefault(avals[slot], []).append(slot)
        if prim in UFUNCS and not params and type(out_slots) is int:
            aval = avals.get(out_slots)
            free = pool.get(aval) if aval is not None else None
            if free:
                buffer = free.pop()
                borrow[position] = buffer
                moved[buffer] = position
        elif getattr(prim, "takes_out", False):  # a fused kernel: a buffer for each output
            taken: list[int | None] = []
            for slot in out_slots:
                free = pool.get(avals.get(slot))  # type: ignore[arg-type]
                taken.append(_not_read(free, arg_slots) if free else None)
            if any(b is not None for b in taken):
                borrow[position] = tuple(taken)
                for lent in taken:
                    if lent is not None:
                        moved[lent] = position
    if not borrow:
        return {}, steps
    new_frees: list[list[int]] = [[s for s in step[5] if s not in moved] for step in steps]
    for buffer, position in moved.items():
        new_frees[position].append(buffer)
    out = [step[:5] + (tuple(f),) for step, f in zip(steps, new_frees)]
    return borrow, out


def _not_read(free: list[int], arg_slots: tuple) -> int | None:
    """A buffer of ``free`` (taken out of it) that the kernel does not also read, or ``None``.

    A compiled loop vectorizes only after a check that its output does not overlap its inputs;
    when it does, the loop runs one element at a time. Measured on a (256, 128) float32 kernel
    (1 - a * a, b + bias): 7.9 us into a buffer of its own, 20.5 us into its input ``b``,
    31.6 us into ``a`` (NumPy's three ufuncs: 12.3 us)."""
    for k in range(len(free) - 1, -1, -1):
        if free[k] not in arg_slots:
            return free.pop(k)
    return None


def new_memory_slots(steps: list) -> set:
    """The slots of the steps' results that are never an argument or a view of one (ufuncs,
    products, reductions, fused kernels): memory no caller can hold."""
    slots: set = set()
    for prim, _, _, _, out_slots, _ in steps:
        if prim in _NOT_VIEWS or getattr(prim, "fresh_outputs", False):
            slots.update((out_slots,) if type(out_slots) is int else out_slots)
    return slots


def _lendable(steps: list, avals: dict, var_slots: set, keep: set) -> set:
    """The variable slots whose memory only the plan can reach once they are dead."""
    made_fresh = set()
    for prim, _, _, _, out_slots, _ in steps:
        if prim in _FRESH and type(out_slots) is int:
            made = (out_slots,)
        elif getattr(prim, "fresh_outputs", False):  # a fused kernel's or update's step
            made = (out_slots,) if type(out_slots) is int else out_slots
        else:
            continue
        for slot in made:
            aval = avals.get(slot)
            if slot in var_slots and aval is not None and aval[0] != ():
                made_fresh.add(slot)
    for prim, _, _, arg_slots, _, _ in steps:
        if prim not in _NOT_VIEWS and not getattr(prim, "fresh_outputs", False):
            made_fresh.difference_update(arg_slots)
    return made_fresh - keep
