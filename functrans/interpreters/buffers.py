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

Memory kept between calls (``pooled_steps``): each step that makes new memory and can write
into a given array (a ufunc, a 2-d matrix product, a fused update or kernel) takes its result
array from a pool the plan keeps for that shape and dtype, and writes into a pooled array only when
nothing outside the pool refers to it (``sys.getrefcount`` tells): a result the caller still
holds, or any view of it (a view refers to its base), is never written into; the memory of a
result the caller dropped is written again, already mapped and often in cache, instead of a
fresh allocation that pays a page fault per page on first touch. The reference is taken
before the count is read, so two threads running one plan never get the same array.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from functrans.primitives import _define, elementwise
from functrans.primitives.dot import MATMUL_2D_INTO, dot_general_p
from functrans.primitives.reduction import argmax_p, argmin_p, reduce_max_p, reduce_min_p, reduce_prod_p

__all__ = ["UFUNCS", "plan_reuse", "new_memory_slots", "pooled_steps", "POOL_SIZE", "FREE_REFS",
           "first_free"]


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


# -- memory kept between calls ---------------------------------------------------------------

#: Arrays kept per pooled step: two let a loop that feeds each call's results to the next
#: call (``params = step(params, x)``) alternate between two warm arrays.
POOL_SIZE = 2
_MATRIX_DTYPES = frozenset(np.dtype(c) for c in "fdFD")


def _taker(shape: tuple, dtype: np.dtype, free: int, room: int = POOL_SIZE) -> Any:
    """A function returning an array of ``shape`` and ``dtype`` that nothing outside its pool
    refers to: a pooled one when one is free, else a new one (pooled while the pool holds
    fewer than ``room``)."""
    pool: list = []
    getrefcount = sys.getrefcount
    empty = np.empty

    def take() -> np.ndarray:
        for buf in pool:  # (the loop variable holds a reference before the count is read)
            if getrefcount(buf) == free:
                return buf
        buf = empty(shape, dtype)
        if len(pool) < room:
            pool.append(buf)
        return buf

    return take


def _count_in_loop(pool: list) -> int:
    for buf in pool:  # the same references as ``take``'s check: the list, the loop variable
        return sys.getrefcount(buf)
    return 0


def _calibrate() -> int | None:
    """The reference count ``take`` reads for a pooled array nothing else refers to, or
    ``None`` where reference counts cannot tell (an interpreter without them, or without the
    GIL, whose counts are not exact): no pools then."""
    gil_enabled: Any = getattr(sys, "_is_gil_enabled", None)
    if not hasattr(sys, "getrefcount") or gil_enabled is not None and not gil_enabled():
        return None
    probe = [np.empty(1)]  # host-metadata: a probe of reference counts, never a user array
    free = _count_in_loop(probe)
    held = probe[0]
    if _count_in_loop(probe) != free + 1:
        return None
    view = held[:]
    del held
    if _count_in_loop(probe) != free + 1:  # the view's base
        return None
    del view
    if _count_in_loop(probe) != free:
        return None
    take = _taker((1,), np.dtype(np.float64), free)
    first = take()
    first_id = id(first)
    again = take()  # ``first`` is held: another array
    if again is first:
        return None
    del first, again
    return free if id(take()) == first_id else None


_FREE = _calibrate()

#: The reference count ``sys.getrefcount`` reads for a kept array that nothing outside its
#: pool (a list) refers to, while a loop over the pool holds it, or ``None`` where counts
#: cannot tell: the one calibration behind every pool of kept arrays (jit's results, scan's
#: stacks, the distributed collectives' results), which then keep nothing.
FREE_REFS = _FREE


def first_free(pool: list) -> np.ndarray | None:
    """The first array of ``pool`` that nothing outside ``pool`` refers to (no caller holds
    it or a view of it), or ``None``; only where ``FREE_REFS`` is not ``None``.

    Example:
        >>> pool = [np.zeros(2)]
        >>> held = pool[0]
        >>> first_free(pool) is None
        True
        >>> del held
        >>> first_free(pool) is pool[0] or FREE_REFS is None
        True
    """
    for buf in pool:  # the references ``_calibrate`` counted: the list, the loop variable
        if sys.getrefcount(buf) == _FREE:
            return buf
    return None


def pooled_steps(steps: list, borrow: dict, avals: dict, template: list) -> dict:
    """The steps that take their result arrays from pools: ``{position: (function, takers)}``
    with the function to call with ``out=`` and, for a one-result step, its taker, for a fused
    kernel a tuple of a taker or ``None`` (a borrowed buffer) per output. Steps that write into
    a dead temporary (``borrow``) keep it; results of no known shape, or 0-d (NumPy returns
    scalars there), are not pooled. Empty where reference counts cannot tell.
    """
    if _FREE is None:
        return {}
    pooled: dict[int, tuple] = {}
    # One pool per shape and dtype, shared by the steps whose results have them: a step takes
    # an array that an earlier step's dead result left (as the allocator would give it, and
    # still in cache) rather than one of its own, so a call touches no more memory than it
    # did without pools. Room: two arrays per step that may take from it.
    users: dict[tuple, int] = {}
    for step in steps:
        out_slots = step[4]
        for slot in (out_slots,) if type(out_slots) is int else out_slots:
            aval = avals.get(slot)
            if aval is not None and tuple(aval[0]) != ():
                key = (tuple(aval[0]), np.dtype(aval[1]))
                users[key] = users.get(key, 0) + 1
    takers: dict[tuple, Any] = {}

    def taker(slot: int) -> Any:
        aval = avals.get(slot)
        if aval is None or tuple(aval[0]) == ():
            return None
        key = (tuple(aval[0]), np.dtype(aval[1]))
        take = takers.get(key)
        if take is None:
            take = takers[key] = _taker(key[0], key[1], _FREE, POOL_SIZE * users.get(key, 1))
        return take

    for position, (prim, impl, params, arg_slots, out_slots, _) in enumerate(steps):
        lent = borrow.get(position)
        if getattr(prim, "takes_out", False):
            lent = lent or (None,) * len(out_slots)
            per_output = tuple(taker(s) if b is None else None for s, b in zip(out_slots, lent))
            if any(t is not None for t in per_output):
                pooled[position] = (impl, per_output)
            continue
        if lent is not None or type(out_slots) is not int:
            continue
        if prim in UFUNCS and not params:
            function = UFUNCS[prim]
        elif getattr(prim, "name", None) == "gemm_update" and getattr(prim, "fresh_outputs", False):
            function = impl
        elif prim is dot_general_p:
            function = _matrix_product(params, arg_slots, out_slots, avals, template)
        else:
            continue
        take = taker(out_slots) if function is not None else None
        if take is not None:
            pooled[position] = (function, take)
    return pooled


def _matrix_product(params: dict, arg_slots: tuple, out_slot: int, avals: dict,
                    template: list) -> Any:
    """The function writing a 2-d product of one float or complex dtype into ``out``, or
    ``None`` for another product."""
    contract, batch = params["dimension_numbers"]
    function = MATMUL_2D_INTO.get((tuple(contract[0]), tuple(contract[1])))
    if batch != ((), ()) or function is None:
        return None
    dtypes = set()
    for slot in (*arg_slots, out_slot):
        aval = avals.get(slot)
        if aval is None:
            value = template[slot] if slot < len(template) else None
            if type(value) is not np.ndarray:
                return None
            aval = (value.shape, value.dtype)
        if len(aval[0]) != 2:
            return None
        dtypes.add(np.dtype(aval[1]))
    return function if len(dtypes) == 1 and dtypes <= _MATRIX_DTYPES else None
