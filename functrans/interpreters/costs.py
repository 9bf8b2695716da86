"""What the steps of a plan cost, estimated from their shapes: enough to tell a kernel that
saves a sizeable share of a plan's time from one that saves a sliver of it.

The model counts nanoseconds on one core: a NumPy call's fixed cost, plus a share per element
its arrays hold, plus, for a matrix product, its multiply-adds at the rate of a BLAS on one
core. The constants are round figures measured on this project's benchmark machine (float64
products of the W2 step at about 40 GFLOP/s, float32 at about 80; an elementwise call about
1 us plus half a nanosecond per element read or written). A step the model does not know (a
loop, a call) is priced as an elementwise one, so its cost is underestimated, never over: a
kernel beside it looks larger, not smaller, than it is.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["aval", "step_cost", "plan_cost", "CALL_NS", "ELEMENT_NS", "FLOPS_PER_NS"]

#: The fixed cost of one NumPy call, in nanoseconds.
CALL_NS = 1000.0
#: The cost of one element an elementwise step reads or writes.
ELEMENT_NS = 0.5
#: Floating-point operations per nanosecond of a matrix product, by dtype (others: 10).
FLOPS_PER_NS = {np.dtype(np.float64): 40.0, np.dtype(np.float32): 80.0,
                np.dtype(np.complex128): 40.0, np.dtype(np.complex64): 80.0}


def aval(slot: int, avals: dict, template: list) -> tuple | None:
    """``(shape, dtype)`` of a plan slot: a variable's from ``avals``, a constant array's from
    its value (``None`` for a Python number or an unknown slot).

    Example:
        >>> aval(1, {}, [None, np.zeros((2, 3))])
        ((2, 3), dtype('float64'))
    """
    known = avals.get(slot)
    if known is not None:
        return known
    value = template[slot] if slot < len(template) else None
    if isinstance(value, np.ndarray):
        return tuple(value.shape), value.dtype
    return None


def _shape(slot: int, avals: dict, template: list) -> tuple | None:
    known = aval(slot, avals, template)
    return None if known is None else tuple(known[0])


def step_cost(step: tuple, avals: dict, template: list) -> float:
    """The estimated nanoseconds of one plan step ``(prim, impl, params, arg_slots,
    out_slots, frees)``; ``avals`` maps variable slots to ``(shape, dtype)``, ``template``
    holds the plan's constants.

    Example:
        >>> from functrans.primitives import elementwise
        >>> avals = {0: ((1000,), np.dtype("float64")), 1: ((1000,), np.dtype("float64"))}
        >>> step_cost((elementwise.exp_p, None, {}, (0,), 1, ()), avals, [None, None])
        2000.0
    """
    prim, _, params, arg_slots, out_slots, _ = step
    outs = (out_slots,) if type(out_slots) is int else tuple(out_slots)
    elements = 0
    for slot in (*arg_slots, *outs):
        shape = _shape(slot, avals, template)
        if shape is not None:
            elements += math.prod(shape)
    cost = CALL_NS + ELEMENT_NS * elements
    if getattr(prim, "name", None) == "dot_general" and len(arg_slots) == 2 and outs:
        lhs = _shape(arg_slots[0], avals, template)
        out = avals.get(outs[0])
        (contracting, _), _ = params["dimension_numbers"]
        if lhs is not None and out is not None:
            flops = 2.0 * math.prod(out[0]) * math.prod(lhs[a] for a in contracting)
            cost += flops / FLOPS_PER_NS.get(np.dtype(out[1]), 10.0)
    return cost


def plan_cost(steps: list, avals: dict, template: list) -> float:
    """The estimated nanoseconds of a plan's steps (see ``step_cost``).

    Example:
        >>> plan_cost([], {}, [])
        0.0
    """
    return float(sum(step_cost(step, avals, template) for step in steps))
