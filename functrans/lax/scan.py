"""``scan``: a loop over the leading axis of arrays as one higher-order primitive (``scan_p``)
whose body is a staged program, with every rule beside it.

``scan_p`` takes ``consts + init + xs`` (flat leaves) and returns ``final carry + stacked ys``.
Its parameter ``body`` (a ``ScanBody``) holds the program of one step, ``(consts, carry, x)
-> (carry, y)``, recorded once on abstract values; anything the user's step function closes
over (arrays, tracers of outer transformations) became an explicit const of the primitive,
so every transformation sees it as an input.

- impl: the body program compiled once by jit's replay (``ReplayPlan``) and run per step.
  (``scan`` on plain arrays with no transformation active calls the step function in a
  Python loop instead: no tracer can reach it, so nothing needs recording.)
- JVP (forward mode): one scan of the body's JVP, carry tangents carried along. A carry
  whose tangent is zero on entry but not after a step is given a dense zero tangent, and the
  body is recorded again, until the set of carries with tangents stops growing.
- linearize (reverse mode): the body is linearized once on abstract values, which splits it
  into a forward scan (the primal step, which also returns the residuals the tangent step
  needs, stacked along the loop axis; residuals that do not change from step to step are
  computed once, outside the loop) and a linear scan of the tangent step over those
  residuals. Its transpose is a scan in the opposite direction over the same residuals,
  carrying the cotangents of the carries and summing those of the consts.
- batching: consts, carries and xs batched at the front (xs: behind the loop axis); a carry
  batched on output but not on input is broadcast, and the body recorded again.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy
from numpy import generic, ndarray

from functrans import errors, tree
from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.backend import backend_of
from functrans.config import config
from functrans.core.ir import Program, Var, format_program, is_linear
from functrans.core.primitive import Primitive
from functrans.core.staging import close_over_tracers, eval_program, scalar_kind, stage, stage_closed
from functrans.core.trace import transforming
from functrans.core.zeros import zero
from functrans.interpreters.batching import active_examples, enclosing_batch, name_within, vmap_flat
from functrans.interpreters.jvp import JVPTracer, jvp_flat
from functrans.interpreters.linearize import linearize_flat
from functrans.interpreters.replay import ReplayPlan
from functrans.interpreters.transpose import transpose_program
from functrans.lax._body import plain_arrays_explained
from functrans.lax._body_cache import DerivedCache, fingerprint
from functrans.lax._programs import (
    check_tree,
    check_types,
    moved_to_front,
    promote_weak_carries,
    relaxed_avals,
    unbatched_scalars,
    weak_aval,
)
from functrans.lax._scan_hoist import Hoisted, hoist_products, invariant_vars
from functrans.lax._stack_pool import StackPool
from functrans.primitives import add_p, full_like_p, mul_p
from functrans.primitives._define import NOT_MAPPED, batch_size, bdim_at_front, move_axis, to_front
from functrans.primitives.dot import dot_general_p

__all__ = ["ScanBody", "scan", "scan_p"]

# =============================================================================================
# the body: a program of one step, its constants hoisted into inputs
# =============================================================================================


class ScanBody:
    """The program of one step, ``(consts, carry, x) -> (carry, y)``, on flat leaves.

    ``program``'s inputs are ``num_consts`` consts, ``num_carry`` carries and the slices of
    the xs; its outputs the ``num_carry`` new carries and the ys. Its constants are concrete
    values only (the tracers the step closed over are among the consts).
    """

    __slots__ = ("program", "num_consts", "num_carry", "name", "_plans", "_key", "_layouts",
                 "_stacks")

    def __init__(self, program: Program, num_consts: int, num_carry: int, name: str):
        self.program = program
        self.num_consts = num_consts
        self.num_carry = num_carry
        self.name = name
        self._plans: dict[tuple, ReplayPlan] = {}
        self._key: Any = False  # not computed yet
        self._layouts: tuple[tuple[int, ...], tuple[int, ...]] | None = None
        self._stacks: dict[int, list] = {}

    @property
    def layouts(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The consts to lay out in C order, and those to lay out in Fortran order, before the
        loop, since every step reads them in the layout its matrix products want.

        A const a 2-d product reads as its right operand contracted on its last axis
        (``x @ w.T``, the layout of a PyTorch-style weight) goes to Fortran order, so that
        ``w.T`` is a C-ordered matrix: BLAS's fastest layout, 0.3-0.6x the time of the strided
        product for 4 to 16 rows and 0.7-0.95x for 64 to 256 (float32 and float64, one thread).
        One the products read as a left operand contracted on its first axis stays as it is:
        BLAS runs that strided view as fast as a copy. Every other const goes to C order (a
        copy only where it is strided)."""
        if self._layouts is None:
            consts = {v.index: i for i, v in enumerate(self.program.in_vars[:self.num_consts])}
            keep: set[int] = set()
            fortran: set[int] = set()
            others: set[int] = set()  # read by a product in another layout
            for eqn in self.program.eqns:
                if eqn.prim is not dot_general_p:
                    continue
                contract, batch = eqn.params["dimension_numbers"]
                for side, a in enumerate(eqn.args):
                    if type(a) is not Var or a.index not in consts:
                        continue
                    i = consts[a.index]
                    if len(a.shape) != 2 or batch[side]:
                        others.add(i)
                    elif side == 0 and contract[0] == (0,):
                        keep.add(i)
                    elif side == 1 and contract[1] == (1,):
                        fortran.add(i)
                    else:
                        others.add(i)
            fortran -= keep | others
            keep |= fortran
            self._layouts = (tuple(i for i in range(self.num_consts) if i not in keep),
                             tuple(sorted(fortran)))
        return self._layouts

    @property
    def key(self) -> tuple | None:
        """The structural key of the step (``_body_cache.fingerprint``), ``None`` if it has
        none: bodies with equal keys derive the same linearization, transpose and plans."""
        if self._key is False:
            found = fingerprint(self.program)
            self._key = None if found is None else (found, self.num_consts, self.num_carry)
        return self._key

    @property
    def in_avals(self) -> list[tuple]:
        return [(v.shape, v.dtype) for v in self.program.in_vars]

    @property
    def out_avals(self) -> list[tuple]:
        return [(tuple(shape_of(v)), dtype_of(v)) for v in self.program.outs]

    def evaluate(self, leaves: Sequence) -> list:
        """The step on any values (tracers included), each equation through ``bind``."""
        return eval_program(self.program, leaves)

    def plan(self, kinds: frozenset = frozenset()) -> ReplayPlan:
        """The step on plain arrays: the program compiled by jit's replay, once per setting of
        ``debug_nans`` (which the plan reads when it is built) and per set of array types
        ``kinds`` (a plan compiles for the arrays of its first run)."""
        key = (bool(config.debug_nans), kinds)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = ReplayPlan(self.program)
        return plan

    def stacks(self, length: int) -> list:
        """NumPy arrays for the stacked ys of ``length`` steps: new ones on the body's first
        call, then each taken from a small pool of arrays kept between calls
        (``_stack_pool.StackPool``) when one is free. Every step writes its row, so what a
        kept array held before is overwritten."""
        avals = self.out_avals[self.num_carry:]
        pools = self._stacks.get(length)
        if pools is None:  # the first call: a body run once gains nothing from keeping its stacks
            self._stacks[length] = []
            return [numpy.empty((length,) + tuple(shape), dtype)  # numpy-only: scan's NumPy stacks
                    for shape, dtype in avals]
        if not pools and avals:
            pools = self._stacks[length] = [StackPool((length,) + tuple(shape), dtype)
                                            for shape, dtype in avals]
        return [pool.take() for pool in pools]

    def __str__(self) -> str:
        return format_program(self.program).replace("\n", "\n    ")

    def __repr__(self) -> str:
        return f"ScanBody({self.name})"


def _make_body(fn: Callable[[list], Sequence], avals: Sequence[tuple], num_consts: int,
               num_carry: int, name: str, scalars: dict | None = None) -> tuple[ScanBody, list]:
    """Record ``fn`` (a step on flat leaves ``consts + carry + x``; ``scalars`` as for
    ``stage``) into a ``ScanBody``; returns it and the constants it closes over, to be passed
    before the other consts."""
    program, consts = stage_closed(fn, avals, name, scalars=scalars)
    return ScanBody(program, len(consts) + num_consts, num_carry, name), consts


# What the rules derive from a body, by its structural key: an eager ``grad`` records the
# user's step anew on every call, and derives from it the same bodies and plans.
_DERIVED = DerivedCache(256)


def _derived(body: ScanBody, what: tuple, make: Callable[[], Any]) -> Any:
    """``make()``, once per structure of ``body`` and ``what`` (the other arguments)."""
    return _DERIVED.get(body.key, what, make)


def _split(seq: Sequence, *sizes: int) -> list[list]:
    parts, start = [], 0
    for n in sizes:
        parts.append(list(seq[start:start + n]))
        start += n
    parts.append(list(seq[start:]))
    return parts


def _select(values: Sequence, flags: Sequence[bool]) -> list:
    return [v for v, f in zip(values, flags) if f]


def _is_float(dtype: Any) -> bool:
    return dtype.kind in "fc"


def _zeros(like: Any, shape: tuple, dtype: Any) -> Any:
    return full_like_p.bind(like, fill_value=0, shape=tuple(shape), dtype=dtype)


def _is_scalar(x: Any) -> bool:
    """A Python or NumPy scalar: a value with no device of its own."""
    return type(x) in PY_SCALARS or isinstance(x, generic)


def _device_like(values: Sequence) -> Any:
    """A value on the device of ``values`` (the first that is not a scalar; 0.0 if none)."""
    return next((v for v in values if not _is_scalar(v)), 0.0)


def _zeros_of(x: Any, like: Any) -> Any:
    """Zeros of the type of ``x``, on its device (on that of ``like`` for a scalar ``x``)."""
    return _zeros(like if _is_scalar(x) else x, shape_of(x), dtype_of(x))


# =============================================================================================
# the public function
# =============================================================================================


_LEAF = tree.structure(0.0)
_NONE = tree.structure(None)


def _flatten(x: Any) -> tuple[list, Any]:
    """``tree.flatten``, without its cost for a single array or ``None`` (the usual carry and
    y of a step run once per step)."""
    if x is None:
        return [], _NONE
    if type(x) in PY_SCALARS or (hasattr(x, "shape") and hasattr(x, "dtype")):
        return [x], _LEAF
    return tree.flatten(x)


def _check_carry(name: str, init_tree: Any, init_avals: list, new_carry: Any) -> list:
    """The leaves of the carry ``new_carry`` a step returned, checked to have the structure
    (``init_tree``), shapes and dtypes (``init_avals``) of the initial carry."""
    leaves, treedef = _flatten(new_carry)
    if treedef is not init_tree:
        check_tree(name, "the carry returned by the step function", treedef, init_tree,
                   "the initial carry")
    check_types(name, "the carry returned by the step function", leaves, init_avals, init_tree,
                "carry", "the initial carry")
    return leaves


def _scan_length(name: str, xs: Any, xs_leaves: list, length: int | None) -> int:
    lengths = set()
    for path, x in tree.flatten_with_path(xs)[0]:
        shape = tuple(shape_of(x))
        if not shape:
            raise ValueError(f"{name}: xs{tree.keystr(path)} is a scalar; every leaf of xs needs a "
                             "leading axis to scan over.")
        lengths.add(shape[0])
    if length is not None:
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise ValueError(f"{name}: length must be a non-negative int, got {length!r}")
        lengths.add(length)
    if not lengths:
        raise ValueError(f"{name}: with no xs (xs=None), give the number of steps as length=.")
    if len(lengths) > 1:
        sizes = ", ".join(f"xs{tree.keystr(p)}: {shape_of(x)[0]}" for p, x in tree.flatten_with_path(xs)[0])
        raise ValueError(f"{name}: the leading axes of xs must all have the same length (and "
                         f"equal length= if given); got {sizes}"
                         + (f", length={length}" if length is not None else ""))
    return lengths.pop()


def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None,
         length: int | None = None, reverse: bool = False, unroll: int | bool = 1) -> tuple[Any, Any]:
    """Loop ``f`` over the leading axis of ``xs``, carrying a state: JAX's ``lax.scan``.

    The same as this Python loop, but one operation of a staged program (its size does not
    grow with the number of steps under ``jit``), differentiable in both modes and batchable::

        carry, ys = init, []
        for x in xs:                       # reversed(xs) with reverse=True
            carry, y = f(carry, x)
            ys.append(y)
        return carry, stack(ys)            # ys in the order of xs

    ``f`` is recorded once on abstract values (so Python control flow in it cannot depend on
    the values of the carry or of x); it may close over arrays and traced values.

    Args:
        f: ``f(carry, x) -> (new_carry, y)``; ``new_carry`` must have the structure, shapes and
            dtypes of ``init``; ``y`` any pytree of arrays (or ``None``).
        init: the initial carry, a pytree of arrays. A Python number in it is weakly typed,
            as in JAX: it starts in the dtype the step gives that carry (``0.0`` summing
            float32 values is a float32 carry), else in its default dtype.
        xs: a pytree of arrays scanned along their leading axis, or ``None`` (then ``x`` is
            ``None`` and ``length`` gives the number of steps).
        length: the number of steps (checked against the leading axes of ``xs``).
        reverse: run from the last element of ``xs`` to the first; ``ys`` keep the order of
            ``xs``.
        unroll: accepted for JAX compatibility; every step runs the compiled body on NumPy
            and CuPy alike, so it changes nothing.

    Returns:
        ``(final_carry, ys)``: ``ys`` is ``y`` of every step stacked along a new leading axis.

    Raises:
        TreeStructureError: the carry returned by ``f`` differs from ``init`` in structure.
        TypeError: a leaf of that carry differs in shape or dtype (named by its key path).

    Example:
        >>> import numpy as np
        >>> from functrans import lax
        >>> total, ys = lax.scan(lambda c, x: (c + x, c * x), 0.0, np.arange(1.0, 5.0))
        >>> float(total), ys
        (10.0, array([ 0.,  2.,  9., 24.]))
    """
    name = f"scan({getattr(f, '__name__', 'f')})"
    if not callable(f):
        raise TypeError(f"scan: f must be a function f(carry, x) -> (carry, y), got {type(f).__name__}")
    if not (isinstance(unroll, (int, bool)) and unroll >= 1) and unroll is not True:
        raise ValueError(f"scan: unroll must be a positive int or True, got {unroll!r}")
    init_leaves, init_tree = _flatten(init)
    xs_leaves, xs_tree = _flatten(xs)
    n = _scan_length(name, xs, xs_leaves, length)
    eager = bool(n) and not transforming()  # plain arrays only, no tracer anywhere: the Python loop
    y_tree: list = []

    def step(leaves: list) -> list:
        carry = init_tree.unflatten(leaves[:len(init_leaves)])
        x = xs_tree.unflatten(leaves[len(init_leaves):])
        out = f(carry, x)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"{name}: the step function must return a pair (new_carry, y), "
                            f"got {type(out).__name__}. Return None as y to stack nothing.")
        # (in promote_weak_carries's recording, a carry that starts as a Python number may
        # come back in a dtype it promotes to)
        expected = relaxed_avals(init_leaves, carry_avals, _flatten(out[0])[0]) if trying else carry_avals
        carry_leaves = _check_carry(name, init_tree, expected, out[0])
        y_leaves, treedef = tree.flatten(out[1])
        y_tree.append(treedef)
        return carry_leaves + y_leaves

    carry_avals = [(tuple(shape_of(c)), dtype_of(c)) for c in init_leaves]
    x_avals = [(tuple(shape_of(x))[1:], dtype_of(x)) for x in xs_leaves]
    trying = False
    scalars: dict = {}
    trial = None
    if not eager and any(scalar_kind(c) not in (None, bool) for c in init_leaves):
        # a Python number takes the dtype the step gives it (0.0 + float32 xs: float32); one
        # the step keeps a number (a counter) stays weakly typed in the recording
        trying = True
        init_leaves, scalars, trial = promote_weak_carries(init_leaves, step, x_avals, name)
        trying = False
        init = init_tree.unflatten(init_leaves)
        carry_avals = [(tuple(shape_of(c)), dtype_of(c)) for c in init_leaves]
    if eager:
        with plain_arrays_explained(name):
            return _python_scan(name, f, init, init_tree, carry_avals, xs_leaves, xs_tree, n, reverse)
    if trial is not None:  # the trial recording is the loop's: no carry changed dtype
        program, consts = trial
        body = ScanBody(program, len(consts), len(init_leaves), name)
    else:
        body, consts = _make_body(step, carry_avals + x_avals, 0, len(init_leaves), name, scalars)
    outs = scan_p.bind(*consts, *init_leaves, *xs_leaves, body=body, length=n,
                       reverse=bool(reverse), unroll=unroll)
    k = len(init_leaves)
    return init_tree.unflatten(outs[:k]), y_tree[0].unflatten(outs[k:])


def _python_scan(name: str, f: Callable, init: Any, init_tree: Any, carry_avals: list,
                 xs_leaves: list, xs_tree: Any, n: int, reverse: bool) -> tuple[Any, Any]:
    """``scan`` on plain arrays with no transformation active: ``f`` called step by step (no
    tracer can reach it, so nothing needs recording), the carry checked after every step."""
    carry = init
    ys: list = []
    y_tree = None
    single = xs_leaves[0] if xs_tree is _LEAF else None
    # one array carry: checked by two attribute reads per step
    shape, dtype = carry_avals[0] if init_tree is _LEAF else ((), None)
    first = True
    for i in (range(n - 1, -1, -1) if reverse else range(n)):
        out = f(carry, single[i] if single is not None else xs_tree.unflatten([x[i] for x in xs_leaves]))
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"{name}: the step function must return a pair (new_carry, y), "
                            f"got {type(out).__name__}. Return None as y to stack nothing.")
        if first:
            first = False
            promoted = _promoted_init(init, init_tree, carry_avals, out[0])
            if promoted is not None:  # a Python number the step promotes: start again from it
                init, carry_avals = promoted
                return _python_scan(name, f, init, init_tree, carry_avals, xs_leaves, xs_tree, n, reverse)
        carry = out[0]
        carry_dtype = getattr(carry, "dtype", None)  # (None == a NumPy dtype can be True)
        if dtype is None or carry_dtype is None or carry_dtype != dtype or carry.shape != shape:
            _check_carry(name, init_tree, carry_avals, carry)
        y_leaves, treedef = _flatten(out[1])
        if y_tree is None:
            y_tree = treedef
            ys = [_zeros(y, (n,) + tuple(shape_of(y)), dtype_of(y)) for y in y_leaves]
        elif treedef is not y_tree and treedef != y_tree:
            raise errors.TreeStructureError(
                f"{name}: the step function returned y of structure {treedef} at step {i} but "
                f"{y_tree} before; y must have one structure, shape and dtype at every step.")
        for stacked, y in zip(ys, y_leaves):
            stacked[i] = y
    assert y_tree is not None
    return carry, y_tree.unflatten(ys)


def _promoted_init(init: Any, init_tree: Any, carry_avals: list, new_carry: Any) -> tuple | None:
    """After the first eager step: if a Python number of ``init`` came back in a dtype it
    promotes to (0.0 + float32: float32, as JAX's weak typing), the initial carry with those
    numbers in that dtype, and its types; else ``None``. (As JAX traces the step again with
    the promoted carry, the step then runs again from the start.)"""
    if init_tree is _LEAF:
        leaves, new = [init], [new_carry]
    else:
        leaves, new = tree.leaves(init), tree.leaves(new_carry)
    if len(new) != len(leaves) or not any(type(x) in PY_SCALARS for x in leaves):
        return None
    avals = [weak_aval(x, aval, out) if type(x) in PY_SCALARS else aval
             for x, aval, out in zip(leaves, carry_avals, new)]
    if avals == carry_avals:
        return None
    leaves = [aval[1].type(x) if type(x) in PY_SCALARS and aval != old else x
              for x, aval, old in zip(leaves, avals, carry_avals)]
    return (leaves[0] if init_tree is _LEAF else init_tree.unflatten(leaves)), avals


# =============================================================================================
# scan_p: impl and shape rule
# =============================================================================================


def _scan_impl(*args, body, length, reverse, unroll):
    consts, carry, xs = _split(args, body.num_consts, body.num_carry)
    y_avals = body.out_avals[body.num_carry:]
    like = _device_like(args)  # ys are made on the device of the operands
    if not length or _is_scalar(like):
        ys = [_zeros(like, (length,) + tuple(shape), dtype) for shape, dtype in y_avals]
        if not length:
            return carry + ys
    elif type(like) is ndarray:  # every step writes its row of each y, in kept memory
        ys = body.stacks(length)
    else:
        backend = backend_of(like)
        ys = [backend.make_like(like, _empty, (length,) + tuple(shape), dtype) for shape, dtype in y_avals]
    # every step reads every const: each is laid out once in the order its products want
    # (ScanBody.layouts)
    c_order, f_order = body.layouts
    for i in c_order:
        consts[i] = _in_c_order(consts[i])
    for i in f_order:
        consts[i] = _in_f_order(consts[i])
    plan = body.plan(frozenset(map(type, args)))
    run = plan.run_shared  # each step's carry only feeds the next step; ys are copied
    k = body.num_carry
    c = len(consts)
    inputs = consts + carry + [None] * len(xs)  # refilled in place at every step
    outs: list = []
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        for j, x in enumerate(xs, c + k):
            inputs[j] = x[i]
        outs = run(inputs)
        inputs[c:c + k] = outs[:k]
        for j, y in enumerate(ys, k):
            y[i] = outs[j]
    return plan.detach(outs)[:k] + ys  # (detach takes a whole output list of the plan)


def _empty(xp: Any, shape: tuple, dtype: Any) -> Any:
    return xp.empty(shape, dtype)


def _in_c_order(x: Any) -> Any:
    """``x``, copied to C order if it is a strided array of two or more dimensions."""
    flags = getattr(x, "flags", None)
    if flags is None or flags.c_contiguous or len(x.shape) < 2:
        return x
    return backend_of(x).xp.ascontiguousarray(x)


def _in_f_order(x: Any) -> Any:
    """``x`` (2-d), copied to Fortran order unless it is in that order already."""
    flags = getattr(x, "flags", None)
    if flags is None or flags.f_contiguous:
        return x
    return backend_of(x).xp.asfortranarray(x)


def _scan_shape(*args, body, length, reverse, unroll):
    avals = body.out_avals
    k = body.num_carry
    return avals[:k] + [((length,) + tuple(shape), dtype) for shape, dtype in avals[k:]]


# =============================================================================================
# forward mode
# =============================================================================================


def _tangent_flags(body: ScanBody, tangents: Sequence) -> list[bool]:
    return [t is not zero and _is_float(dtype) for t, (_, dtype) in zip(tangents, body.in_avals)]


def _grow_carries(body: ScanBody, flags: list[bool], make: Callable,
                  floats_only: bool = True) -> tuple[Any, list[bool]]:
    """Call ``make(flags)`` (which records a body and returns it with the flags of the carries
    that come out with a tangent, or batched), adding carries to ``flags`` until those coming
    out are among those going in: the fixed point of which carries need one. Only float
    carries get a tangent (``floats_only``); any carry can be batched."""
    c, k = body.num_consts, body.num_carry
    while True:
        result, carry_out = make(flags)
        grown = [a or (b and (not floats_only or _is_float(dtype)))
                 for a, b, (_, dtype) in zip(flags[c:c + k], carry_out, body.in_avals[c:c + k])]
        if grown == flags[c:c + k]:
            return result, flags
        flags = flags[:c] + grown + flags[c + k:]


def _jvp_body(body: ScanBody, flags: list[bool]) -> tuple[tuple, list[bool]]:
    """The body's JVP, inputs ``consts, const tangents, carries, carry tangents, xs, x
    tangents`` (tangents of the inputs marked in ``flags`` only), outputs ``carries, carry
    tangents, ys, nonzero y tangents``."""
    c, k = body.num_consts, body.num_carry
    avals = body.in_avals
    fc, fk, fx = _split(flags, c, k)
    ac, ak, ax = _split(avals, c, k)
    arranged = ac + _select(ac, fc) + ak + _select(ak, fk) + ax + _select(ax, fx)
    sizes = (c, sum(fc), k, sum(fk), len(ax))
    found: dict = {}

    def fn(ins: list) -> list:
        pc, tc, pk, tk, px, tx = _split(ins, *sizes)
        tangents = _spread(tc, fc) + _spread(tk, fk) + _spread(tx, fx)
        outs, t_outs = jvp_flat(body.evaluate, pc + pk + px, tangents, f"jvp({body.name})")
        t_carry = t_outs[:k]
        found["carry_out"] = [t is not zero for t in t_carry]
        found["ys"] = [t is not zero for t in t_outs[k:]]
        t_in = _spread(tk, fk)
        t_carry = [t if t is not zero else mul_p.bind(t_in[j], 0.0)
                   for j, t in enumerate(t_carry) if fk[j]]
        return outs[:k] + t_carry + outs[k:] + [t for t in t_outs[k:] if t is not zero]

    made, consts = _make_body(fn, arranged, c + sum(fc), k + sum(fk), f"jvp({body.name})")
    return (made, consts, found["ys"]), found["carry_out"]


def _spread(values: Sequence, flags: Sequence[bool]) -> list:
    """``values`` at the positions marked in ``flags``, ``zero`` elsewhere."""
    it = iter(values)
    return [next(it) if f else zero for f in flags]


def _scan_jvp(primals, tangents, *, body, length, reverse, unroll):
    if any(is_linear(t) for t in tangents if t is not zero):
        return _scan_linearize(primals, tangents, body, length, reverse, unroll)
    c, k = body.num_consts, body.num_carry
    flags = _tangent_flags(body, tangents)
    (jbody, jconsts, y_flags), flags = _grow_carries(
        body, flags, lambda fl: _derived(body, ("jvp", tuple(fl)), lambda: _jvp_body(body, fl)))
    pc, pk, px = _split(primals, c, k)
    like = _device_like(list(primals) + [t for t in tangents if t is not zero])
    tangents = [_zeros_of(p, like) if f and t is zero else t for p, t, f in zip(primals, tangents, flags)]
    tc, tk, tx = _split(tangents, c, k)
    fc, fk, fx = _split(flags, c, k)
    outs = scan_p.bind(*jconsts, *pc, *_select(tc, fc), *pk, *_select(tk, fk), *px,
                       *_select(tx, fx), body=jbody, length=length, reverse=reverse, unroll=unroll)
    carry, t_carry, ys, t_ys = _split(outs, k, sum(fk), len(y_flags))
    return carry + ys, _spread(t_carry, fk) + _spread(t_ys, y_flags)


# =============================================================================================
# reverse mode: a forward scan with stacked residuals, and a linear scan over them
# =============================================================================================


class _Linearized:
    """The body split for reverse mode (see ``_linearize_body``)."""

    def __init__(self, known: Program, tangent: Program, residuals: list, carry_out: list[bool],
                 ys: list[bool]):
        self.known = known  # (consts, carry, x) -> (carry, ys, residuals)
        self.tangent = tangent  # (residuals, tangents of every input) -> nonzero tangent outs
        self.residuals = residuals
        self.carry_out = carry_out
        self.ys = ys


def _linearize_body(body: ScanBody, flags: list[bool]) -> tuple[_Linearized, list[bool]]:
    """Linearize the body on abstract values, along the inputs marked in ``flags``."""
    found: dict = {}

    def masked(tracers: list) -> list:  # only the marked inputs carry a tangent
        return body.evaluate([t if f or type(t) is not JVPTracer else t.primal
                              for t, f in zip(tracers, flags)])

    def known(ins: list) -> list:
        outs, linear = linearize_flat(masked, ins, f"linearize({body.name})")
        tangent, residuals = close_over_tracers(linear)
        k = body.num_carry
        found["tangent"], found["residuals"] = tangent, residuals
        found["carry_out"] = [t is not zero for t in linear.outs[:k]]
        found["ys"] = [t is not zero for t in linear.outs[k:]]
        return outs

    program = stage(known, body.in_avals, f"linearize({body.name})")
    lin = _Linearized(program, found["tangent"], found["residuals"], found["carry_out"], found["ys"])
    return lin, lin.carry_out


def _scan_linearize(primals, tangents, body, length, reverse, unroll):
    c, k = body.num_consts, body.num_carry
    flags = _tangent_flags(body, tangents)
    lin, flags = _grow_carries(
        body, flags, lambda fl: _derived(body, ("linearize", tuple(fl)), lambda: _linearize_body(body, fl)))
    known = lin.known
    trace = known.trace
    in_index = {v.index: i for i, v in enumerate(known.in_vars)}
    invariant = invariant_vars(known, c)
    # Where each residual comes from: a value known now (outside the program), an input of
    # the step (a const, or an x: the xs themselves serve), computed from consts only (once,
    # before the loop), or per step (stacked by the forward scan).
    res_consts: list = []  # (position among residuals, value or var)
    res_xs: list = []
    once: list = []
    stacked: list = []
    for j, r in enumerate(lin.residuals):
        if not (type(r) is Var and r._trace is trace):
            res_consts.append((j, r))
        elif r.index in in_index and in_index[r.index] < c:
            res_consts.append((j, primals[in_index[r.index]]))
        elif r.index in in_index and in_index[r.index] >= c + k:
            res_xs.append((j, primals[in_index[r.index]]))
        elif r.index in invariant:
            once.append((j, r))
        else:
            stacked.append((j, r))
    if once:
        program = Program(trace, known.in_vars[:c], [e for e in known.eqns
                          if all(o.index in invariant for o in e.outs)], [r for _, r in once])
        values = eval_program(program, primals[:c])
        res_consts += [(j, v) for (j, _), v in zip(once, values)]
    # the forward scan: carries, ys and the per-step residuals
    fwd = _derived(body, ("forward", tuple(flags), tuple(j for j, _ in stacked)), lambda: ScanBody(
        Program(trace, known.in_vars, known.eqns, known.outs + [r for _, r in stacked]), c, k, body.name))
    outs = scan_p.bind(*primals, body=fwd, length=length, reverse=reverse,
                       unroll=unroll)
    n_y = len(outs) - k - len(stacked)
    carry, ys, res_stacked = _split(outs, k, n_y)
    # the linear scan: consts = residual consts + const tangents; carries = carry tangents;
    # xs = stacked residuals, residual xs, x tangents
    fc, fk, fx = _split(flags, c, k)
    like = _device_like(list(primals) + [t for t in tangents if t is not zero])
    tangents = [_zeros_of(p, like) if f and t is zero else t for p, t, f in zip(primals, tangents, flags)]
    tc, tk, tx = _split(tangents, c, k)
    const_res, x_res = [j for j, _ in res_consts], [j for j, _ in stacked] + [j for j, _ in res_xs]
    tbody = _derived(body, ("tangent", tuple(flags), tuple(const_res), tuple(x_res)),
                     lambda: _tangent_body(body, lin, flags, const_res, x_res))
    t_outs = scan_p.bind(*[v for _, v in res_consts], *_select(tc, fc), *_select(tk, fk),
                         *res_stacked, *[v for _, v in res_xs], *_select(tx, fx), body=tbody,
                         length=length, reverse=reverse, unroll=unroll)
    t_carry, t_ys = _split(t_outs, sum(fk))
    return carry + ys, _spread(t_carry, fk) + _spread(t_ys, lin.ys)


def _tangent_body(body: ScanBody, lin: _Linearized, flags: list[bool], const_res: list[int],
                  x_res: list[int]) -> ScanBody:
    """The tangent step as a scan body: consts = the residuals ``const_res`` and the const
    tangents; carries = the carry tangents; xs = the residuals ``x_res`` and the x tangents.
    Every carry tangent comes out dense (a zero one as ``0 * tangent in``)."""
    c, k = body.num_consts, body.num_carry
    fc, fk, fx = _split(flags, c, k)
    n_res = len(lin.residuals)
    res_avals = [(tuple(shape_of(r)), dtype_of(r)) for r in lin.residuals]
    ac, ak, ax = _split(body.in_avals, c, k)
    avals = ([res_avals[j] for j in const_res] + _select(ac, fc) + _select(ak, fk)
             + [res_avals[j] for j in x_res] + _select(ax, fx))
    sizes = (len(const_res), sum(fc), sum(fk), len(x_res))

    def fn(ins: list) -> list:
        r_c, tc, tk, r_x, tx = _split(ins, *sizes)
        residuals: list = [None] * n_res
        for j, v in zip(const_res + x_res, r_c + r_x):
            residuals[j] = v
        t_in = _spread(tc, fc) + _spread(tk, fk) + _spread(tx, fx)
        outs = eval_program(lin.tangent, residuals + [None if t is zero else t for t in t_in])
        t_carry = [t if t is not zero else mul_p.bind(t_in[c + j], 0.0)
                   for j, t in enumerate(outs[:k]) if fk[j]]
        return t_carry + [t for t in outs[k:] if t is not zero]

    made, consts = _make_body(fn, avals, len(const_res) + sum(fc), sum(fk), f"linear({body.name})")
    assert not consts, "a tangent step closes over no value: its residuals are inputs"
    return made


def _scan_transpose(cts, *args, body, length, reverse, unroll):
    c, k = body.num_consts, body.num_carry
    consts, carry, xs = _split(args, c, k)
    lin_c = [is_linear(a) for a in consts]
    lin_x = [is_linear(a) for a in xs]
    like = next(ct for ct in cts if ct is not zero)
    avals = body.out_avals
    ct_carry = [_zeros(like, shape, dtype) if ct is zero else ct
                for ct, (shape, dtype) in zip(cts[:k], avals[:k])]
    ct_ys = list(cts[k:])
    y_flags = [ct is not zero for ct in ct_ys]
    tbody, hoisted = _derived(body, ("transpose", tuple(lin_c), tuple(lin_x), tuple(y_flags)),
                              lambda: _hoisted_body(_transpose_body(body, lin_c, lin_x, y_flags), sum(lin_c)))
    ac = body.in_avals[:c]
    acc_avals = _select(ac, lin_c)
    kept = [_zeros(like, shape, dtype) for j, (shape, dtype) in enumerate(acc_avals)
            if j not in hoisted]
    outs = scan_p.bind(*_select(consts, [not f for f in lin_c]), *kept, *ct_carry,
                       *_select(xs, [not f for f in lin_x]), *_select(ct_ys, y_flags), body=tbody,
                       length=length, reverse=not reverse, unroll=unroll)
    ct_kept, ct_init, ct_xs = _split(outs, len(kept), k)
    ct_xs, stacked = ct_xs[:sum(lin_x)], ct_xs[sum(lin_x):]
    loop_xs = _select(xs, [not f for f in lin_x]) + _select(ct_ys, y_flags)
    products = iter(ct_kept)
    ct_consts = [hoisted[j].apply([stacked[i] if kind == "y" else loop_xs[i]
                                   for kind, i in hoisted[j].sources]) if j in hoisted
                 else next(products) for j in range(len(acc_avals))]
    in_cts = _spread(ct_consts, lin_c) + [ct if is_linear(a) else zero for ct, a in zip(ct_init, carry)]
    return tuple(in_cts + _spread(ct_xs, lin_x))


def _transpose_body(body: ScanBody, lin_c: list[bool], lin_x: list[bool], y_flags: list[bool]) -> ScanBody:
    """The transposed step: consts = the non-linear consts; carries = the accumulated
    cotangents of the linear consts and the carry cotangents; xs = the non-linear xs and the
    nonzero y cotangents; outputs: carries, then the cotangents of the linear xs."""
    c, k = body.num_consts, body.num_carry
    ac, ak, ax = _split(body.in_avals, c, k)
    not_c, not_x = [not f for f in lin_c], [not f for f in lin_x]
    y_avals = body.out_avals[k:]
    avals = (_select(ac, not_c) + _select(ac, lin_c) + ak + _select(ax, not_x)
             + _select(y_avals, y_flags))
    sizes = (sum(not_c), sum(lin_c), k, sum(not_x))
    name = f"transpose({body.name})"

    def fn(ins: list) -> list:
        v_c, acc, ct_k, v_x, ct_y = _split(ins, *sizes)
        like = ins[0] if ins else None
        lin_avals = _select(ac, lin_c) + ak + _select(ax, lin_x)

        def linear_step(tv: list) -> list:
            t_c, t_k, t_x = _split(tv, sum(lin_c), k)
            return body.evaluate(_merge(v_c, t_c, lin_c) + t_k + _merge(v_x, t_x, lin_x))

        program = stage(linear_step, lin_avals, name, linear=True)
        in_cts = transpose_program(program, ct_k + _spread(ct_y, y_flags))
        in_cts = [_zeros(like, shape, dtype) if ct is zero else ct
                  for ct, (shape, dtype) in zip(in_cts, lin_avals)]
        ct_c, ct_init, ct_x = _split(in_cts, sum(lin_c), k)
        return [add_p.bind(a, b) for a, b in zip(acc, ct_c)] + ct_init + ct_x

    made, consts = _make_body(fn, avals, sum(not_c), sum(lin_c) + k, name)
    assert not consts
    return made


def _hoisted_body(tbody: ScanBody, num_acc: int) -> tuple[ScanBody, dict[int, Hoisted]]:
    """``tbody`` with the const cotangents ``hoist_products`` takes out of the loop."""
    program, hoisted = hoist_products(tbody.program, tbody.num_consts, tbody.num_carry, num_acc)
    if not hoisted:
        return tbody, hoisted
    return ScanBody(program, tbody.num_consts, tbody.num_carry - len(hoisted), tbody.name), hoisted


def _merge(values: Sequence, linear: Sequence, flags: Sequence[bool]) -> list:
    """``linear`` at the positions marked in ``flags``, ``values`` at the others."""
    v, t = iter(values), iter(linear)
    return [next(t) if f else next(v) for f in flags]


# =============================================================================================
# batching
# =============================================================================================


def _batched_body(body: ScanBody, flags: list[bool], size: int, within: Any,
                  active: Any = None) -> tuple[tuple, list[bool]]:
    """The body on batches: every input marked in ``flags`` has the batch axis in front, so
    has every carry marked there and every y that depends on the batch. ``within``: the batch
    whose examples they are (``vmap_flat``); ``active``: the examples that run it
    (``active_examples``), which loops in the body wait for."""
    c, k = body.num_consts, body.num_carry
    avals = [((size,) + tuple(shape), dtype) if f else (shape, dtype)
             for (shape, dtype), f in zip(body.in_avals, flags)]
    found: dict = {}

    def fn(ins: list) -> list:
        dims = [0 if f else NOT_MAPPED for f in flags]
        outs, out_dims = vmap_flat(body.evaluate, ins, dims, size, f"vmap({body.name})", within=within,
                                   active=active)
        found["carry_out"] = [d is not NOT_MAPPED for d in out_dims[:k]]
        found["ys"] = [d is not NOT_MAPPED for d in out_dims[k:]]
        carry = [bdim_at_front(o, d, size) if f else o
                 for o, d, f in zip(outs[:k], out_dims[:k], flags[c:c + k])]
        ys = [o if d is NOT_MAPPED else to_front(o, d) for o, d in zip(outs[k:], out_dims[k:])]
        return carry + ys

    made, consts = _make_body(fn, avals, c, k, f"vmap({body.name})",
                              unbatched_scalars(body.program, flags))
    return (made, consts, found["ys"]), found["carry_out"]


def _scan_batch(values, dims, *, body, length, reverse, unroll):
    c, k = body.num_consts, body.num_carry
    size = batch_size(values, dims)
    flags = [d is not NOT_MAPPED for d in dims]
    within = enclosing_batch()
    name = name_within(within)  # (a collective in the body reduces over the batch of its name)
    running = active_examples()
    if running is None:
        def make(fl: list[bool]) -> tuple:
            return _derived(body, ("vmap", tuple(fl), size, name),
                            lambda: _batched_body(body, fl, size, within))
    else:  # in a branch of a batched cond: its examples, for the loops in the body (not kept)
        def make(fl: list[bool]) -> tuple:
            return _batched_body(body, fl, size, within, running)
    (bbody, bconsts, y_flags), flags = _grow_carries(body, flags, make, floats_only=False)
    moved = moved_to_front(values, dims, flags[:c + k] + [False] * (len(values) - c - k), size)
    for i in range(c + k, len(values)):  # the xs: the batch axis behind the loop axis
        d = dims[i]
        if d is not NOT_MAPPED and d != 1:
            moved[i] = move_axis(values[i], d, 1)
    outs = scan_p.bind(*bconsts, *moved, body=bbody, length=length, reverse=reverse, unroll=unroll)
    out_dims = [0 if f else NOT_MAPPED for f in flags[c:c + k]]
    out_dims += [1 if f else NOT_MAPPED for f in y_flags]
    return outs, out_dims


scan_p = Primitive("scan", multiple_results=True)
scan_p.impl = _scan_impl
scan_p.shape_rule = _scan_shape
scan_p.jvp = _scan_jvp
scan_p.transpose = _scan_transpose
scan_p.batch = _scan_batch
