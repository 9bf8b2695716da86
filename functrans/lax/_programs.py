"""The staged sub-programs of the control-flow primitives (a loop's condition and body, a
conditional's branches): ``Body`` runs one on a flat list of values, and the helpers stage
a user's pytree function as one, check that its output has the type it must have, and
record the sub-programs the JVP and batching rules need.

A ``Body``'s program takes the tracers its function closed over as its first inputs
(``core.staging.stage_closed``): the primitive binds them as ordinary arguments, so every
outer transformation sees them.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy import generic

from functrans import errors, tree
from functrans._abstract import PY_SCALARS, aval_of, dtype_of
from functrans.config import config
from functrans.core.ir import Program, Var, type_str
from functrans.core.staging import eval_program, scalar_kind, stage, stage_closed
from functrans.core.trace import Tracer
from functrans.core.zeros import zero
from functrans.interpreters.batching import enclosing_batch, vmap_flat
from functrans.interpreters.jvp import jvp_flat
from functrans.interpreters.replay import ReplayPlan
from functrans.primitives import convert_element_type_p, full_like_p
from functrans.primitives._define import NOT_MAPPED, bdim_at_front

Aval = tuple  # (shape, dtype)


class Body:
    """A staged sub-program, called on a flat list of values (its inputs in order).

    On plain arrays it runs a ``ReplayPlan`` of the program (built on the first call: a loop
    body runs many times); with tracers among the values it evaluates the program through
    ``Primitive.bind``, so the transformations of those tracers see every primitive.
    """

    __slots__ = ("program", "name", "_plan", "_nans")

    def __init__(self, program: Program, name: str):
        self.program = program
        self.name = name
        self._plan: ReplayPlan | None = None
        self._nans = False

    def __call__(self, args: Sequence) -> list:
        for a in args:
            if isinstance(a, Tracer):
                return eval_program(self.program, args)
        return self.plan.run(list(args))

    @property
    def plan(self) -> ReplayPlan:
        """The program compiled for plain arrays (built on first use, and again when
        ``debug_nans`` has changed since: a plan checks for NaNs or not). A primitive's
        implementation, which only ever sees plain arrays, calls it directly."""
        plan = self._plan
        if plan is None or self._nans is not config.debug_nans:
            self._nans = config.debug_nans
            plan = self._plan = ReplayPlan(self.program)
        return plan

    @property
    def in_avals(self) -> list[Aval]:
        return [(v.shape, v.dtype) for v in self.program.in_vars]

    @property
    def out_avals(self) -> list[Aval]:
        return [aval_of(o) for o in self.program.outs]

    def __repr__(self) -> str:
        return f"{{{self.name}: {len(self.program.eqns)} eqns}}"


def per_example_aval(x: Any, dim: int | None) -> Aval:
    """The type of one example of ``x``, whose batch axis is ``dim`` (``None``: unbatched)."""
    shape, dtype = aval_of(x)
    if dim is NOT_MAPPED:
        return shape, dtype
    return shape[:dim] + shape[dim + 1:], dtype


def is_inexact(aval: Aval) -> bool:
    """Whether values of this type have tangents (float and complex dtypes)."""
    return aval[1].kind in "fc"


def stage_body(flat_fun: Callable[[list], Sequence], avals: Sequence[Aval], name: str,
               scalars: dict | None = None, capture: bool = False) -> tuple[Body, list]:
    """Stage ``flat_fun`` (flat list in, flat list out) on ``avals`` (``scalars`` and
    ``capture`` as for ``stage``): the ``Body`` and the tracers it closed over (the first
    inputs of its program)."""
    program, consts = stage_closed(flat_fun, avals, name, scalars=scalars, capture=capture)
    return Body(program, name), consts


def stage_all(flat_fun: Callable[[list], Sequence], avals: Sequence[Aval], name: str,
              scalars: dict | None = None) -> Body:
    """``stage_body`` for a function of a rule (a JVP or batched body), which closes over
    nothing but concrete constants."""
    body, consts = stage_body(flat_fun, avals, name, scalars)
    assert not consts, consts
    return body


def unbatched_scalars(program: Program, batched: Sequence[bool], offset: int = 0) -> dict:
    """The ``stage`` scalars entries of a batched form of ``program`` (a body): each of its
    first inputs (one per flag of ``batched``) that stands for a Python scalar and is not
    batched stays one, weakly typed, at its position plus ``offset`` (a float32 carry times
    it stays float32 under ``vmap`` as without).

    Example:
        >>> program = stage(lambda xs: xs, [((), np.dtype(float))], "example")
        >>> unbatched_scalars(program, [False])
        {}
    """
    scalars = program.trace.scalars
    if not scalars:
        return {}
    return {i + offset: info for i, (v, b) in enumerate(zip(program.in_vars, batched))
            if not b and (info := scalars.get(v.index)) is not None}


class _WeakCarry:
    """Where a loop carry that starts as a Python number, and that the step keeps one (a
    counter), comes from in a recording of the step: a use that needs its value (a NumPy
    array indexed by a loop counter) notes the carry in ``needed``, which then stays as it
    is; an elementwise primitive where it meets a strongly typed value converts it
    explicitly to the dtype NumPy computes in (with ``convert``)."""

    replayed = False  # (no host_scalar steps, which have no derivative: a float carry has one)

    def __init__(self, position: int, needed: set):
        self.position = position
        self.needed = needed

    def message(self, use: str) -> str:
        self.needed.add(self.position)
        return f"the value of a loop carry that starts as a Python number is needed {use}"

    convert = convert_element_type_p


def promote_weak_carries(leaves: Sequence, step: Callable[[list], Sequence],
                         extra_avals: Sequence[Aval], name: str) -> tuple[list, dict, tuple | None]:
    """The initial carry ``leaves`` with each Python number (weakly typed: ``0.0``, or a
    value of a ``jit`` recording standing for one) made an array scalar of the dtype the loop
    gives that carry, as JAX's loops do: ``0.0`` carried through ``c + x`` with a float32
    ``x`` starts as float32. ``step`` maps the carry leaves and then inputs of
    ``extra_avals`` (a scan's slices of xs) to the new carry leaves (and possibly more
    outputs after them); it is recorded (``stage_closed``) with the numbers weakly typed,
    so its type checks must accept a carry of the dtype ``weak_aval`` gives. A carry whose
    step does not give a dtype the number promotes to keeps the number's default dtype, and
    the loop's own check reports a mismatch; one the step keeps a number of its own type
    stays a Python number (a counter); a carry whose value the step needs (an index into a
    NumPy array), or every carry if the step fails, is left as it is.

    Returns the carry, the ``scalars`` of ``stage`` for the carries that stay Python
    numbers (the loop records its step with them weakly typed, so ``i * x`` with a float32
    ``x`` is float32 as in the eager loop), and the trial recording ``(program, consts)``
    when it is the loop's own (no carry changed dtype), else ``None``."""
    weak = {i: kind for i, kind in ((i, scalar_kind(x)) for i, x in enumerate(leaves))
            if kind is not None and kind is not bool}
    avals = [aval_of(x) for x in leaves] + list(extra_avals)
    trial = None
    while weak:
        needed: set = set()
        scalars = {i: (kind, _WeakCarry(i, needed)) for i, kind in weak.items()}
        try:
            trial = stage_closed(step, avals, name, scalars=scalars)
            break
        except Exception:  # (the loop records the step again, and reports what is wrong)
            if not needed:
                return list(leaves), {}, None
            weak = {i: kind for i, kind in weak.items() if i not in needed}
    out = list(leaves)
    if trial is None or len(trial[0].outs) < len(leaves):
        return out, {}, None
    program, consts = trial
    kept = {}
    promoted = {}
    for i in weak:
        x = leaves[i]
        dtype = weak_aval(x, aval_of(x), program.outs[i])[1]
        if dtype != dtype_of(x):
            out[i] = convert_element_type_p.bind(x, new_dtype=dtype) if isinstance(x, Tracer) else dtype.type(x)
            promoted[i] = dtype
        else:  # (a number the step keeps a number stays one: a loop counter)
            kept[i] = scalars[i]
    if promoted and not _retyped(program, len(consts), promoted):
        trial = None
    return out, kept, trial


def _retyped(program: Program, first: int, promoted: dict) -> bool:
    """Make the trial recording ``program`` of ``promote_weak_carries`` the step on the
    promoted carry, in place, if that is only a change of type: each promoted carry (input
    ``first + i``, weakly typed in the trial) is used only where it met a value of the dtype
    it is promoted to (converted to that dtype there, ``_explicit_weak``); its input then
    takes that dtype and the conversions go. Else (the carry also computed with Python
    numbers, as weakly typed) ``False``, the program untouched: the loop records the step
    again."""
    trace = program.trace
    targets = {program.in_vars[first + i].index: dtype for i, dtype in promoted.items()}
    replaced: dict = {}  # a conversion's output -> the carry's input
    for eqn in program.eqns:
        for a in eqn.args:
            if type(a) is Var and a._trace is trace and a.index in targets:
                if (eqn.prim is not convert_element_type_p or len(eqn.args) != 1
                        or eqn.params != {"new_dtype": targets[a.index]}):
                    return False
                replaced[eqn.outs[0].index] = a
    for i, dtype in promoted.items():
        program.in_vars[first + i].dtype = dtype
    scalars = trace.scalars if trace.scalars is not None else {}
    for index in (*targets, *replaced):
        scalars.pop(index, None)

    def new(a: Any) -> Any:
        return replaced.get(a.index, a) if type(a) is Var and a._trace is trace else a

    kept = []
    for eqn in program.eqns:
        if eqn.prim is convert_element_type_p and eqn.outs[0].index in replaced:
            continue
        if any(type(a) is Var and a._trace is trace and a.index in replaced for a in eqn.args):
            eqn.args = tuple(new(a) for a in eqn.args)
        kept.append(eqn)
    program.eqns[:] = kept
    program.outs[:] = [new(o) for o in program.outs]
    return True


def relaxed_avals(leaves: Sequence, avals: Sequence[Aval], new: Sequence) -> list[Aval]:
    """The types a step may give the carries ``leaves`` (of types ``avals``) that start as
    Python numbers, as ``new`` shows (``weak_aval``); the others keep theirs."""
    if len(new) != len(leaves):
        return list(avals)
    return [weak_aval(x, aval, out) if scalar_kind(x) not in (None, bool) else aval
            for x, aval, out in zip(leaves, avals, new)]


def weak_aval(x: Any, aval: Aval, new: Any) -> Aval:
    """The type of a loop carry that starts as the Python number ``x`` (of type ``aval``, its
    default dtype) and that a step makes ``new``: ``new``'s dtype if the number promotes to
    it (as a Python number does in NumPy and a weakly typed value in JAX), else ``aval``."""
    shape, dtype = aval_of(new)
    kind = scalar_kind(x)
    if kind is not None and shape == () and np.result_type(dtype, kind(0)) == dtype:  # host-metadata: dtype rule
        return shape, dtype
    return aval


def describe(treedef: Any, i: int, root: str) -> str:
    """The key path of leaf ``i`` of a tree of structure ``treedef``, as ``root[1]['w']``."""
    paths = tree.flatten_with_path(treedef.unflatten(list(range(treedef.num_leaves))))[0]
    return root + tree.keystr(paths[i][0])


def check_tree(name: str, what: str, treedef: Any, expected: Any, expected_what: str) -> None:
    """A ``TreeStructureError`` unless the two structures are the same."""
    if treedef != expected:
        raise errors.TreeStructureError(
            f"{name}: {what} has structure {treedef}, but {expected_what} has structure "
            f"{expected}. They must be the same."
        )


def check_types(name: str, what: str, outs: Sequence, expected: Sequence[Aval], treedef: Any,
                root: str, expected_what: str) -> None:
    """A ``TypeError`` naming the first leaf (by key path) whose shape or dtype differs."""
    for i, (out, aval) in enumerate(zip(outs, expected)):
        got = aval_of(out)
        if got != (tuple(aval[0]), aval[1]):
            raise TypeError(
                f"{name}: {what} must have the shape and dtype of {expected_what}, but at "
                f"{describe(treedef, i, root)} it is {type_str(*got)} where {expected_what} is "
                f"{type_str(*aval)}. Convert it (x.astype(...), fnp.broadcast_to(...)) so "
                "that every iteration or branch gives values of one type."
            )


def zeros_of(like: Any, aval: Aval) -> Any:
    """Zeros of type ``aval`` on the device of ``like``."""
    return full_like_p.bind(like, fill_value=0, shape=tuple(aval[0]), dtype=aval[1])


def jvp_of(fun: Callable[[list], Sequence], n: int, nonzero: Sequence[bool],
           instantiate: Sequence[bool] | None, name: str) -> Callable[[list], list]:
    """The JVP of ``fun`` (``n`` inputs) as a flat function: its inputs are the primals then
    the tangents of the inputs flagged ``nonzero``; its outputs are the primal outputs then
    the tangents of the outputs flagged in ``instantiate`` (zeros where none flows), or, with
    ``instantiate=None``, every output tangent as it comes (``zero`` where none flows)."""

    def jvp_fun(leaves: list) -> list:
        primals = leaves[:n]
        given = iter(leaves[n:])
        tangents = [next(given) if nz else zero for nz in nonzero]
        outs, t_outs = jvp_flat(fun, primals, tangents, f"jvp({name})")
        if instantiate is None:
            return list(outs) + list(t_outs)
        extra = [zeros_of(o, aval_of(o)) if t is zero else t
                 for o, t, keep in zip(outs, t_outs, instantiate) if keep]
        return list(outs) + extra

    return jvp_fun


def nonzero_tangents(fun: Callable[[list], Sequence], avals: Sequence[Aval], nonzero: Sequence[bool],
                     name: str) -> list[bool]:
    """Which outputs of ``fun`` get a tangent when the inputs flagged ``nonzero`` have one
    (found by staging its JVP)."""
    t_avals = [a for a, nz in zip(avals, nonzero) if nz]
    program = stage(jvp_of(fun, len(avals), nonzero, None, name), list(avals) + t_avals, name)
    n_out = len(program.outs) // 2
    return [t is not zero for t in program.outs[n_out:]]


def moved_to_front(values: Sequence, dims: Sequence, flags: Sequence[bool], size: int) -> list:
    """``values`` with the batch axis in front where flagged (broadcast where they have none);
    a scalar broadcast takes the device of a batched value (a Python or NumPy scalar has none)."""
    like = next((v for v, d in zip(values, dims) if d is not NOT_MAPPED), None)
    out = []
    for v, d, f in zip(values, dims, flags):
        if not f:
            out.append(v)
        elif d is NOT_MAPPED and like is not None and (type(v) in PY_SCALARS or isinstance(v, generic)):
            out.append(full_like_p.bind(like, fill_value=v, shape=(size,), dtype=dtype_of(v)))
        else:
            out.append(bdim_at_front(v, d, size))
    return out


def batched_avals(avals: Sequence[Aval], batched: Sequence[bool], size: int) -> list[Aval]:
    """The types of the batched values: the batch axis of ``size`` in front where flagged."""
    return [((size,) + tuple(s), d) if b else (tuple(s), d) for (s, d), b in zip(avals, batched)]


def batch_of(fun: Callable[[list], Sequence], batched: Sequence[bool], size: int,
             force: Sequence[bool] | None, name: str, out_dims: list | None = None,
             active: Any = None) -> Callable[[list], list]:
    """``fun`` on batches as a flat function: the inputs flagged ``batched`` have the batch
    axis in front, the others are the same for every example; the outputs flagged in
    ``force`` get the batch axis in front (broadcast if they do not depend on the batch).
    ``out_dims``, if given, receives the batch axis of every output before forcing.
    ``active`` marks the examples that run ``fun`` (``vmap_flat``). Made in a batching rule:
    the examples are those of the batch whose rule runs (``enclosing_batch``)."""
    in_dims = [0 if b else NOT_MAPPED for b in batched]
    within = enclosing_batch()

    def batched_fun(leaves: list) -> list:
        outs, dims = vmap_flat(fun, leaves, in_dims, size, f"vmap({name})", active=active, within=within)
        if out_dims is not None:
            out_dims[:] = dims
        if force is None:
            return list(outs)
        batched_leaves = [v for v, b in zip(leaves, batched) if b]
        return moved_to_front(list(outs) + batched_leaves, list(dims) + [0] * len(batched_leaves),
                              list(force) + [False] * len(batched_leaves), size)[:len(outs)]

    return batched_fun


def batched_outputs(fun: Callable[[list], Sequence], avals: Sequence[Aval], batched: Sequence[bool],
                    size: int, name: str) -> list[bool]:
    """Which outputs of ``fun`` depend on the batch when the inputs flagged ``batched`` do."""
    dims: list = []
    stage(batch_of(fun, batched, size, None, name, dims), batched_avals(avals, batched, size), name)
    return [d is not NOT_MAPPED for d in dims]
