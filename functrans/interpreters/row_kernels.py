"""Row kernels for jit's plan on NumPy arrays: a region of steps in which a reduction along the
rows of a matrix feeds later elementwise steps of the same rows (a softmax, a log-softmax and
its cross entropy, and their derivatives) runs as one Numba kernel. The kernel walks the rows
once and, within a row, makes one pass over its entries per reduction that later entries wait
on.

``fusion`` fuses runs of elementwise steps ending in at most one reduction, whose result
leaves the kernel. A softmax needs two reductions whose results broadcast back along each row,
so there it fuses nothing, and NumPy spends a call on each of the twenty-odd steps of a
classifier head's loss and gradient: several microseconds each on a small matrix, where the
arithmetic itself takes less.

A region has one shape ``(..., C)``; its values are

- full arrays of that shape ("F"),
- per-row values of shape ``(...)`` or ``(..., 1)`` ("V": a reduction over the last axis, the
  arithmetic on such values, a reshape between the two forms),
- sums, maxima or minima over all entries ("S", with the 0-d arithmetic on them, computed
  after the rows), and over all rows ("K", of shape ``(C,)``), which leave the kernel.

Its inputs are arrays of the region's dtype that broadcast as a whole array, a row of ``C``
(a bias), a column (a value per row) or one element, and Python numbers. The phase of a full
value is the number of row reductions it waits on in a chain; a row's entries are computed
phase by phase, and a full value read in a later phase than its own is kept in a scratch row
(or read back from its output array).

The values are those of the same operations in the same dtype, except that a kernel takes
transcendental functions from the compiler's math library (they may differ from NumPy's in
the last bit) and adds in float64 in another order than NumPy's pairwise sums. Those functions
run 5x slower there than NumPy's vectorized loops, so the kernel pays only on small matrices,
where the calls it saves dominate (``MAX_SIZE``).
"""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from functrans.interpreters import fusion, kernels_numba
from functrans.primitives import elementwise
from functrans.primitives._define import reshape_p
from functrans.primitives.conversion import stop_gradient_p
from functrans.primitives.indexing import gather_p

__all__ = ["fuse_rows", "ENABLED", "MAX_SIZE", "MIN_STEPS"]

#: The most entries a region's matrix may have. Measured (Numba, one thread, best of 7 runs of
#: 500 calls; a softmax cross entropy with its gradient, 21 NumPy steps, against the kernel of
#: the same steps): (128, 10) 31 us against 11 us, (256, 10) 47 against 20 in float32 and
#: 50 against 21 in float64; (512, 65) 152 against 191 in float32 and 216 against 194 in
#: float64; (1024, 100) and (256, 1000) 1.0-2.3x slower as a kernel.
MAX_SIZE = 8192
#: The fewest steps a region needs.
MIN_STEPS = 4
#: ``FUNCTRANS_JIT_ROW_KERNELS=0`` turns the pass off (the other kernels stay).
ENABLED = os.environ.get("FUNCTRANS_JIT_ROW_KERNELS", "1") != "0"

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_PY_NUMBERS = (bool, int, float)
_ALIASES = (reshape_p, stop_gradient_p)
_INIT = {"sum": "0.0", "max": "-np.inf", "min": "np.inf"}
_COMBINE = {"sum": "{0} + {1}", "max": "np.maximum({0}, {1})", "min": "np.minimum({0}, {1})"}
_INDEX = {"full": "[i, j]", "row": "[0, j]", "col": "[i, 0]", "one": "[0, 0]"}


class _Region:
    __slots__ = ("shape", "rows", "cols", "dtype", "positions", "kind", "inputs", "ops")

    def __init__(self, shape: tuple, dtype: np.dtype):
        self.shape = shape
        self.rows = math.prod(shape[:-1])
        self.cols = shape[-1]
        self.dtype = dtype
        self.positions: list[int] = []
        self.kind: dict[int, str] = {}     # slot computed here -> "F", "V", "S" or "K"
        self.inputs: dict[int, str] = {}   # slot read from outside -> how it broadcasts
        self.ops: list[tuple] = []         # per member, what it computes (``_admit``)

    def per_row(self, shape: tuple) -> bool:
        return shape == self.shape[:-1] or shape == self.shape[:-1] + (1,)


def fuse_rows(steps: list, eqns: list, avals: dict, template: list, var_slots: set,
              keep: set, plan_ns: float | None = None) -> tuple[list, list]:
    """The plan's steps with each region of row-wise steps (see the module's docstring)
    replaced by one kernel step, placed where its last step was.

    ``steps`` are ``(prim, impl, params, arg_slots, out_slots, frees)`` (frees are recomputed
    by the caller), ``eqns`` the equation of each step, ``avals`` the ``(shape, dtype)`` of
    the variable slots, ``template`` the plan's environment (constants filled in), ``keep``
    the output slots, ``plan_ns`` the plan's estimated cost (``costs.plan_cost``): a kernel
    compiles before the first call returns, so a region must be ``fusion.MIN_SYNC_SHARE`` of
    it. Without Numba the steps come back as they are.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> def softmax(z):
        ...     e = fnp.exp(z - fnp.max(z, axis=1, keepdims=True))
        ...     return e / fnp.sum(e, axis=1, keepdims=True)
        >>> z = np.arange(6.0).reshape(2, 3)
        >>> text = ft.jit(softmax).lower(z).as_text()
        >>> ("fused[" in text) == fusion.available()
        True
        >>> np.allclose(ft.jit(softmax)(z).sum(axis=1), 1.0)
        True
    """
    if not (ENABLED and fusion.available()):
        return steps, eqns
    regions: list[_Region] = []
    region: _Region | None = None
    for position, (prim, _, params, arg_slots, out_slots, _) in enumerate(steps):
        if region is not None:
            admitted = _admit(region, prim, params, arg_slots, out_slots, avals, template,
                              var_slots)
            if admitted is not None:
                _add(region, position, *admitted)
                continue
            if any(s in region.kind for s in arg_slots):  # a reader outside: the region ends
                regions.append(region)
                region = None
        opened = _opening(prim, arg_slots, out_slots, avals)
        if opened is None:
            continue
        admitted = _admit(opened, prim, params, arg_slots, out_slots, avals, template, var_slots)
        if admitted is None:
            continue
        if region is not None:
            regions.append(region)
        region = opened
        _add(region, position, *admitted)
    if region is not None:
        regions.append(region)
    readers: dict[int, list[int]] = {}
    for position, step in enumerate(steps):
        for slot in step[3]:
            readers.setdefault(slot, []).append(position)
    replaced: dict[int, tuple] = {}
    members: set[int] = set()
    for region in regions:
        if not fusion.worth_compiling_first(steps, region.positions, avals, template, plan_ns):
            continue
        step = _kernel_step(region, eqns, avals, readers, keep)
        if step is not None:
            replaced[region.positions[-1]] = step
            members.update(region.positions)
    if not replaced:
        return steps, eqns
    return fusion.spliced(steps, eqns, replaced, members)


# -- which steps a region takes ------------------------------------------------------------------

def _opening(prim: Any, arg_slots: tuple, out_slots: Any, avals: dict) -> _Region | None:
    """A new region for an elementwise step of a float matrix (or higher), or a reduction of
    one, else ``None``."""
    if type(out_slots) is not int or out_slots not in avals:
        return None
    if prim in fusion.REDUCTIONS and arg_slots and arg_slots[0] in avals:
        shape, dtype = avals[arg_slots[0]]
    elif prim in fusion.TEMPLATES:
        shape, dtype = avals[out_slots]
    else:
        return None
    shape = tuple(shape)
    if np.dtype(dtype) not in _FLOATS or len(shape) < 2 or 0 in shape:
        return None
    return _Region(shape, np.dtype(dtype))


def _admit(region: _Region, prim: Any, params: dict, arg_slots: tuple, out_slot: Any,
           avals: dict, template: list, var_slots: set) -> tuple | None:
    """``(op, kind, new inputs)`` when the step can be computed in the region, else ``None``.

    ``op`` is ``("ew", out, name, operands, y)`` for elementwise arithmetic (an operand is
    ``("v", slot)``, a value of the region or an input, or ``("c", number)``), ``("red", out,
    operand, kind, mode)`` for a reduction (mode "rows", "all", "cols", or "vall": of a
    per-row value over all rows), ``("alias", out, operand)`` for a reshape or
    ``stop_gradient``."""
    if type(out_slot) is not int or out_slot not in avals:
        return None
    shape, dtype = avals[out_slot]
    shape = tuple(shape)
    if np.dtype(dtype) != region.dtype:
        return None
    made = region.kind
    combine = fusion.REDUCTIONS.get(prim)
    if combine is not None:
        operand = arg_slots[0]
        axes = fusion.reduction_axes(params)
        known = made.get(operand)
        new_inputs: dict[int, str] = {}
        if known is None and operand in var_slots and region.inputs.get(operand, "full") == "full":
            aval = avals.get(operand)  # a full array from outside, read in the first pass
            if aval is not None and tuple(aval[0]) == region.shape \
                    and np.dtype(aval[1]) == region.dtype:
                known, new_inputs = "F", {operand: "full"}
        if known not in ("F", "V") or not isinstance(axes, (tuple, list)):
            return None
        ndim = len(avals[operand][0])
        axes = tuple(sorted(a % ndim for a in axes)) if ndim else ()
        if known == "V":
            if axes == tuple(range(ndim)) and shape == ():
                return ("red", out_slot, operand, combine, "vall"), "S", {}
            return None
        if axes == (ndim - 1,) and shape == region.shape[:-1]:
            return ("red", out_slot, operand, combine, "rows"), "V", new_inputs
        if axes == tuple(range(ndim)) and shape == ():
            return ("red", out_slot, operand, combine, "all"), "S", new_inputs
        if axes == tuple(range(ndim - 1)) and shape == (region.cols,):
            return ("red", out_slot, operand, combine, "cols"), "K", new_inputs
        return None
    if prim in _ALIASES or prim is gather_p and params.get("index") == (Ellipsis, None):
        kind = made.get(arg_slots[0]) if len(arg_slots) == 1 else None
        if kind == "V" and region.per_row(shape) or kind == "F" and shape == region.shape:
            return ("alias", out_slot, arg_slots[0]), kind, {}
        return None
    if prim not in fusion.TEMPLATES:
        return None
    if prim is elementwise.integer_pow_p:
        if type(params.get("y")) is not int:
            return None
    elif params:
        return None
    if shape == region.shape:
        kind = "F"
    elif region.per_row(shape):
        kind = "V"
    elif shape == ():
        kind = "S"
    else:
        return None
    operands: list[tuple] = []
    new_inputs: dict[int, str] = {}
    touches = False
    keepdims = region.shape[:-1] + (1,)
    for slot in arg_slots:
        known = made.get(slot)
        if known is not None:
            arg_shape = tuple(avals[slot][0])
            if kind == "F" and not (known == "F" or known == "V" and arg_shape == keepdims) \
                    or kind == "V" and not (known == "V" and arg_shape == shape) \
                    or kind == "S" and known != "S":
                return None
            touches = True
            operands.append(("v", slot))
            continue
        if slot in var_slots:
            aval = avals.get(slot)
            if aval is None or np.dtype(aval[1]) != region.dtype:
                return None
            arg_shape = tuple(aval[0])
        else:
            value = template[slot]
            if type(value) in _PY_NUMBERS:
                operands.append(("c", float(value)))
                continue
            if not hasattr(value, "shape") or getattr(value, "dtype", None) != region.dtype:
                return None
            arg_shape = tuple(value.shape)
        if math.prod(arg_shape) == 1 and len(arg_shape) <= len(shape):
            pattern: str | None = "one"
        elif kind == "F":
            pattern = fusion.broadcast_pattern(region.shape, arg_shape)
        elif kind == "V" and arg_shape == shape:
            pattern = "col"
        else:
            pattern = None
        seen = region.inputs.get(slot) or new_inputs.get(slot)
        if pattern is None or kind == "S" and pattern != "one" or seen not in (None, pattern):
            return None
        new_inputs[slot] = pattern
        operands.append(("v", slot))
    if kind != "F" and not touches:
        return None
    return ("ew", out_slot, fusion.TEMPLATES[prim], operands, params.get("y")), kind, new_inputs


def _add(region: _Region, position: int, op: tuple, kind: str, new_inputs: dict) -> None:
    region.positions.append(position)
    region.ops.append(op)
    region.kind[op[1]] = kind
    region.inputs.update(new_inputs)


# -- the kernel ----------------------------------------------------------------------------------

def _kernel_step(region: _Region, eqns: list, avals: dict, readers: dict,
                 keep: set) -> tuple | None:
    """The plan step running the region's kernel, or ``None`` where the region does not pay
    (too few steps, no reduction that later entries wait on, a matrix too large) or its
    kernel does not compile."""
    if len(region.positions) < MIN_STEPS or region.rows * region.cols > MAX_SIZE:
        return None
    positions = set(region.positions)
    outputs = [op[1] for op in region.ops
               if op[1] in keep or any(r not in positions for r in readers.get(op[1], ()))]
    if not outputs:
        return None
    made = _source(region, outputs)
    if made is None:
        return None
    source, out_kinds = made
    kernel = kernels_numba.compiled(source)
    if kernel is None:
        return None
    run = _runner(region, kernel, out_kinds, [tuple(avals[s][0]) for s in outputs])
    prim = fusion.FusedStep([eqns[p] for p in region.positions], source, takes_out=True)
    return (prim, run, {}, tuple(region.inputs), tuple(outputs), ())


def _source(region: _Region, outputs: list) -> tuple[str, list] | None:
    """The kernel's module source and the kind of each output, or ``None`` when no reduction
    feeds a later phase (``fusion`` takes such a run)."""
    dt = region.dtype.name
    symbol: dict[int, str] = {slot: f"a{k}" for k, slot in enumerate(region.inputs)}
    pattern = region.inputs
    phase: dict[int, int] = dict.fromkeys(region.inputs, 0)
    # per section (before loop p, or after the last) and per loop: lines, in program order
    loops: dict[int, list[tuple]] = {}     # p -> [("F", name, expression, operands) or
    #                                              ("acc" | "col", accumulator, combine, operand)]
    sections: dict[int, list[str]] = {}    # p -> lines computing per-row values
    finals: list[str] = []                 # 0-d values after the rows
    accumulators: list[str] = []           # before the rows
    after: list[str] = []                  # after the rows: accumulators into results
    ends: dict[int, list[str]] = {}        # p -> lines closing loop p's row reductions
    starts: dict[int, list[str]] = {}      # p -> lines opening loop p's row reductions
    f_reads: dict[int, set] = {}           # F value slot -> loops that read it
    kind = region.kind
    for n, op in enumerate(region.ops):
        form, out = op[0], op[1]
        name = f"v{n}"
        if form == "alias":
            symbol[out] = symbol[op[2]]
            phase[out] = phase[op[2]]
            continue
        symbol[out] = name
        if form == "red":
            operand, combine, mode = op[2], op[3], op[4]
            p = phase[operand]
            acc = f"r{n}"
            if mode == "rows":
                starts.setdefault(p, []).append(f"{acc} = {_INIT[combine]}")
                loops.setdefault(p, []).append(("acc", acc, combine, operand))
                ends.setdefault(p, []).append(f"{name} = np.{dt}({acc})")
                phase[out] = p + 1
                f_reads.setdefault(operand, set()).add(p)
            elif mode == "cols":
                init = "np.zeros(cols)" if combine == "sum" else f"np.full(cols, {_INIT[combine]})"
                accumulators.append(f"{acc} = {init}")
                loops.setdefault(p, []).append(("col", acc, combine, operand))
                after.append(f"{name} = {acc}")
                f_reads.setdefault(operand, set()).add(p)
            else:  # "all" (of a full value, in its loop) or "vall" (of a per-row value)
                accumulators.append(f"{acc} = {_INIT[combine]}")
                if mode == "all":
                    loops.setdefault(p, []).append(("acc", acc, combine, operand))
                    f_reads.setdefault(operand, set()).add(p)
                else:
                    sections.setdefault(p, []).append(
                        f"{acc} = {_COMBINE[combine].format(acc, symbol[operand])}")
                finals.append(f"{name} = np.{dt}({acc})")
            continue
        _, _, prim_name, operands, y = op
        texts = []
        for tag, value in operands:
            if tag == "c":
                texts.append(kernels_numba.literal(value, region.dtype))
            elif value in region.inputs:
                texts.append(f"{symbol[value]}_")
            else:
                texts.append(symbol[value])
        expression = kernels_numba.expression(prim_name, texts, y)
        if kind[out] == "S":
            finals.append(f"{name} = {expression}")
            continue
        p = max([phase[value] for tag, value in operands if tag == "v"] + [0])
        phase[out] = p
        if kind[out] == "F":
            loops.setdefault(p, []).append(("F", name, expression, operands))
            for tag, value in operands:
                if tag == "v" and kind.get(value) == "F":
                    f_reads.setdefault(value, set()).add(p)
        else:
            sections.setdefault(p, []).append(f"{name} = {expression}")
    count = max((p for p in loops), default=-1) + 1
    if count < 2:
        return None
    # the full values read in a later loop than their own: kept in a scratch row, or read
    # back from their output array
    out_arrays: dict[int, str] = {}
    out_kinds: list[str] = []
    for k, slot in enumerate(outputs):
        out_arrays[slot] = f"o{k}"
        out_kinds.append(kind[slot])
    stored: dict[str, str] = {}  # F symbol -> its row's array expression, indexed by j
    for slot, loops_reading in f_reads.items():
        if kind.get(slot) != "F" or max(loops_reading) <= phase[slot]:
            continue
        name = symbol[slot]
        if name in stored:
            continue
        owner = next((s for s in outputs if symbol.get(s) == name), None)
        if owner is not None:
            stored[name] = f"{out_arrays[owner]}[i, j]"
        else:
            accumulators.append(f"t{name} = np.empty(cols, np.{dt})")
            stored[name] = f"t{name}[j]"
    lines = ["import numpy as np", "from numba import njit, types", ""]
    lines.append(f"R = types.Array(types.{dt}, 2, 'C', readonly=True)")
    lines.append(f"W = types.Array(types.{dt}, 2, 'C')")
    lines.append(f"W1 = types.Array(types.{dt}, 1, 'C')")
    params = ["R"] * len(region.inputs) + ["W" if k == "F" else "W1" for k in out_kinds]
    names = [f"a{k}" for k in range(len(region.inputs))] + [f"o{k}" for k in range(len(outputs))]
    signature = f"types.void({', '.join(params + ['types.intp', 'types.intp'])})"
    lines.append(f'@njit({signature}, cache=True, nogil=True, error_model="numpy", '
                 'fastmath={"reassoc"})')
    lines.append(f"def kernel({', '.join(names + ['rows', 'cols'])}):")
    body = [f"    {line}" for line in accumulators]
    body += [f"    {symbol[s]}_ = {symbol[s]}[0, 0]" for s, p in pattern.items() if p == "one"]
    body.append("    for i in range(rows):")
    body += [f"        {symbol[s]}_ = {symbol[s]}[i, 0]" for s, p in pattern.items() if p == "col"]
    for p in range(count + 1):
        body.extend(f"        {line}" for line in sections.get(p, ()))
        if p == count:
            break
        body.extend(f"        {line}" for line in starts.get(p, ()))
        body.append("        for j in range(cols):")
        body.extend(_loop_lines(loops.get(p, []), p, region, symbol, pattern, phase, stored,
                                outputs, out_arrays))
        body.extend(f"        {line}" for line in ends.get(p, ()))
    body += [f"        {out_arrays[s]}[i] = {symbol[s]}" for s in outputs if kind[s] == "V"]
    body.extend(f"    {line}" for line in after)
    body.extend(f"    {line}" for line in finals)
    for k, slot in enumerate(outputs):
        if kind[slot] == "K":
            body.append("    for j in range(cols):")
            body.append(f"        o{k}[j] = {symbol[slot]}[j]")
        elif kind[slot] == "S":
            body.append(f"    o{k}[0] = {symbol[slot]}")
    lines.extend(body)
    return "\n".join(lines) + "\n", out_kinds


def _loop_lines(entries: list, p: int, region: _Region, symbol: dict, pattern: dict,
                phase: dict, stored: dict, outputs: list, out_arrays: dict) -> list[str]:
    """The body of loop ``p`` over a row's entries: the inputs it reads, the full values of
    earlier loops it reads back, its full values (kept or written out where needed), and its
    accumulations."""
    indent = "            "
    used: set = set()
    for entry in entries:
        if entry[0] == "F":
            used.update(value for tag, value in entry[3] if tag == "v")
        else:
            used.add(entry[3])
    lines = [f"{indent}{symbol[s]}_ = {symbol[s]}{_INDEX[pat]}"
             for s, pat in pattern.items() if pat in ("full", "row") and s in used]
    loaded: set = set()
    for s in sorted(used):
        name = symbol.get(s)
        if name in stored and region.kind.get(s) == "F" and phase[s] < p and name not in loaded:
            lines.append(f"{indent}{name} = {stored[name]}")
            loaded.add(name)
    for entry in entries:
        if entry[0] == "F":
            name, expression = entry[1], entry[2]
            lines.append(f"{indent}{name} = {expression}")
            targets = {f"{out_arrays[s]}[i, j]" for s in outputs
                       if symbol.get(s) == name and region.kind[s] == "F"}
            if name in stored:
                targets.add(stored[name])
            lines.extend(f"{indent}{target} = {name}" for target in sorted(targets))
            continue
        tag, acc, combine, operand = entry
        value = symbol[operand] + ("_" if operand in pattern else "")
        if tag == "acc":
            lines.append(f"{indent}{acc} = {_COMBINE[combine].format(acc, value)}")
        else:
            lines.append(f"{indent}{acc}[j] = {_COMBINE[combine].format(f'{acc}[j]', value)}")
    return lines


def _runner(region: _Region, kernel: Any, out_kinds: list, out_shapes: list) -> Any:
    """The plan step's function: the inputs shaped for the kernel, the outputs taken from
    ``out`` (arrays of the outputs' shapes and dtype, or ``None`` each) or allocated; a 0-d
    output is a NumPy scalar, as NumPy's reductions give."""
    dt = region.dtype
    rows, cols = region.rows, region.cols
    shapes = [(rows, cols) if p == "full" else (1, cols) if p == "row" else (rows, 1)
              if p == "col" else None for p in region.inputs.values()]
    flat = {"F": (rows, cols), "V": (rows,), "K": (cols,), "S": (1,)}
    outs = [(k, kind, (1,) if kind == "S" else shape, flat[kind])
            for k, (kind, shape) in enumerate(zip(out_kinds, out_shapes))]
    empty, contiguous, asarray, scalar = np.empty, np.ascontiguousarray, np.asarray, dt.type

    def run(*args: Any, out: Any = None) -> tuple:
        operands = [asarray(a, dt).reshape(1, 1) if shape is None
                    else contiguous(a).reshape(shape) for a, shape in zip(args, shapes)]
        results = []
        for k, kind, shape, view in outs:
            o = None if out is None or kind == "S" else out[k]
            if o is None or not o.flags.c_contiguous:
                o = empty(shape, dt)
            results.append(o)
            operands.append(o.reshape(view))
        kernel(*operands, rows, cols)
        return tuple(scalar(o[0]) if kind == "S" else o
                     for o, (_, kind, _, _) in zip(results, outs))

    return run
