"""Recorded programs: ``make_jaxpr`` shows the program functrans records for a function,
``jit`` records it once per input signature and replays it.

Both record with ``core.staging.stage``; ``jit`` compiles the program into a
``ReplayPlan`` (interpreters/replay.py).
"""
from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any, overload

import numpy as np

from functrans import errors, tree
from functrans._abstract import PY_SCALARS
from functrans.api._checks import as_array
from functrans.backend import backend_of
from functrans.config import config
from functrans.core.flatten import FlatFun, fun_name
from functrans.core.ir import Program, format_program
from functrans.core.staging import eval_program, stage
from functrans.core.trace import Tracer, named_scope
from functrans.interpreters.replay import ReplayPlan, holds_outer_tracers


class StagedProgram:
    """A function recorded as a flat program (what ``make_jaxpr`` returns).

    ``str(program)`` prints one equation a line, with shapes and dtypes, and a trailing
    comment with the equation's name scope and the line of the user's code that applied it;
    ``eqns`` lists the equations (``Eqn``: ``prim``, ``args``, ``params``, ``outs``,
    ``source``, ``scope``); calling it runs the program on new inputs of the same shapes.

    Attributes:
        program: the recorded ``Program`` (input variables, equations, outputs).
        in_tree: the structure of the arguments it was recorded with.
        out_tree: the structure of the output.
    """

    __slots__ = ("program", "in_tree", "out_tree")

    def __init__(self, program: Program, in_tree: Any, out_tree: Any):
        self.program = program
        self.in_tree = in_tree
        self.out_tree = out_tree

    @property
    def inputs(self) -> list:
        """The input variables, one per leaf of the arguments."""
        return self.program.in_vars

    @property
    def outputs(self) -> list:
        """The outputs: variables, or constants for outputs that do not depend on the inputs."""
        return self.program.outs

    @property
    def eqns(self) -> list:
        """The equations, in execution order."""
        return list(self.program.eqns)

    def __call__(self, *args: Any) -> Any:
        outs = eval_program(self.program, tree.leaves(args))
        return self.out_tree.unflatten(outs)

    def __str__(self) -> str:
        return format_program(self.program)

    __repr__ = __str__


def make_jaxpr(fun: Callable) -> Callable[..., StagedProgram]:
    """Show the program functrans records for ``fun``: every primitive it applies, in order.

    The inputs are abstract (only shapes and dtypes), so every operation on them is recorded
    and Python control flow on their values raises an error. Transformations inside ``fun``
    show what they compute: ``make_jaxpr(grad(f))`` prints the forward pass and the backward
    pass, ``make_jaxpr(vmap(f))`` the batched operations. It is the same program format that
    ``vjp`` and ``linearize`` record internally.

    Args:
        fun: a function of arrays (pytrees); keyword arguments are passed through unrecorded.

    Returns:
        A function with ``fun``'s signature returning a ``StagedProgram`` (print it).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> print(ft.make_jaxpr(lambda x: fnp.sin(x) * 2.0)(np.ones(3)))
        { lambda v0:float64[3] .
            v1:float64[3] = sin[] v0
            v2:float64[3] = mul[] v1 2.0
          in (v2) }
    """
    name = f"make_jaxpr({fun_name(fun)})"

    @functools.wraps(fun)
    def staged(*args: Any, **kwargs: Any) -> StagedProgram:
        flat = FlatFun(fun, args, kwargs, name=name)
        leaves = [as_array(leaf) for leaf in flat.leaves]
        program = stage(flat, [(tuple(x.shape), np.dtype(x.dtype)) for x in leaves], name)
        return StagedProgram(program, flat.in_tree, flat.out_tree)

    return staged


_JIT_CACHE_SIZE = 64


@overload
def jit(fun: Callable, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = ()) -> Callable: ...


@overload
def jit(fun: None = None, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = ()) -> Callable[[Callable], Callable]: ...


def jit(fun: Callable | None = None, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = ()) -> Callable:
    """Record ``fun`` once per input signature and replay the recorded primitives afterwards.

    The first call with arrays of given shapes and dtypes (and given pytree structure and
    static arguments) stages ``fun`` on abstract values, as ``make_jaxpr`` does, drops the
    operations no output needs, and keeps the program. Later calls with the same signature
    run the program's primitives directly, without the Python work of tracing, JVP rules and
    transposition: ``jit(value_and_grad(loss))`` gives the same numbers as the eager
    function, several times faster on small arrays. Nothing is compiled: the primitives still
    run on NumPy (or CuPy), one after another.

    What changes under ``jit``, as in JAX:

    - values are abstract while the function is staged, so Python control flow that depends
      on them (``if x > 0``) raises; use ``functrans.numpy.where``, or make the argument
      static, or do not jit that function;
    - Python scalars (``int``, ``float``, ``bool``, ``complex``) and the arguments named by
      ``static_argnums``/``static_argnames`` are part of the signature, by value: a new value
      stages the function again. Pass arrays for values that change on every call. Scalars
      are told apart as the program would: ``1``, ``1.0`` and ``True`` are three signatures,
      so are ``0.0`` and ``-0.0``, and every NaN (of one sign) is one;
    - arrays the function reads from outside (closures, globals) are captured by value when
      it is staged: they are copied, so editing such an array in place later does not change
      what the jitted function computes. Pass arrays that change as arguments;
    - side effects (print, appending to a list) happen once, while staging.

    Outputs are new arrays: never memory the staged program keeps from one call to the next
    (a constant, a value computed once), so writing into an output does not change later
    calls; and never the caller's arguments or views of them (``jit(lambda x: x)`` returns a
    copy), so writing into an output leaves the arguments alone, whatever the program's steps.

    Used as a decorator with options, ``@jit(static_argnums=1)`` is
    ``@functools.partial(jit, static_argnums=1)``. The cache of signatures (the last 64
    staged) may be shared by threads.

    ``jit`` composes with the other transformations: ``grad(jit(f))``, ``jit(grad(f))``,
    ``vmap(jit(f))`` all work. An error raised by a primitive while the program is replayed
    carries a note naming the primitive and the line of ``fun`` that applied it.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        static_argnums: positions of arguments that are not arrays (hashable configuration).
        static_argnames: names of keyword arguments that are not arrays.

    Returns:
        A function with ``fun``'s signature (without ``fun``: a decorator that makes one).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> step = ft.jit(ft.grad(lambda w, x: fnp.sum(fnp.tanh(x @ w))))
        >>> w, x = np.zeros(3), np.ones((4, 3))
        >>> step(w, x)  # staged on this call, replayed on the next ones
        array([4., 4., 4.])
        >>> @ft.jit(static_argnums=1)
        ... def power(x, n):
        ...     return x ** n if n > 0 else fnp.ones_like(x)
        >>> power(np.array([2.0]), 3)
        array([8.])
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums, static_argnames=static_argnames)
    name = f"jit({fun_name(fun)})"
    static_nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    static_names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if not callable(fun):
        raise TypeError(f"jit: expected a function, got {type(fun).__name__}.")
    cache: dict = {}
    lock = threading.Lock()  # insertion and eviction; a lookup is one atomic dict.get

    @functools.wraps(fun)
    def jitted(*args: Any, **kwargs: Any) -> Any:
        static_args, dynamic_args = _split_static(name, args, static_nums)
        static_kwargs = tuple(sorted((k, kwargs[k]) for k in static_names if k in kwargs))
        dynamic_kwargs = {k: v for k, v in kwargs.items() if k not in static_names}
        leaves, in_treedef = tree.flatten((dynamic_args, dynamic_kwargs))
        signature, dynamic_leaves = _signature(name, leaves)
        if static_args or static_kwargs:
            key = (in_treedef, signature, _static_key(static_args), _static_key(static_kwargs),
                   config.debug_nans)
        else:
            key = (in_treedef, signature, (), (), config.debug_nans)
        try:
            entry = cache.get(key)
        except TypeError:
            raise TypeError(
                f"{name}: a static argument is not hashable ({static_args!r}, {static_kwargs!r}); "
                "static arguments are part of the cache key, so they must be hashable (use a "
                "tuple instead of a list)."
            ) from None
        if entry is None:
            # Staged outside the lock: two threads may both stage a new signature, and the
            # entry of the first to finish is the one kept.
            plan, out_tree = _stage_for_jit(fun, name, static_args, static_kwargs,
                                            (dynamic_args, dynamic_kwargs), leaves)
            if holds_outer_tracers(plan):  # valid for this call only: run it through bind
                with named_scope(name):
                    return out_tree.unflatten(plan.bind(dynamic_leaves))
            with lock:
                entry = cache.get(key)
                if entry is None:
                    while len(cache) >= _JIT_CACHE_SIZE:  # first in, first out
                        del cache[next(iter(cache))]
                    entry = cache[key] = plan, out_tree
        plan, out_tree = entry
        if any(isinstance(leaf, Tracer) for leaf in dynamic_leaves):
            with named_scope(name):
                return out_tree.unflatten(plan.bind(dynamic_leaves))
        return out_tree.unflatten(plan.run(dynamic_leaves))

    def clear_cache() -> None:
        with lock:
            cache.clear()

    jitted.clear_cache = clear_cache  # type: ignore[attr-defined]
    jitted._cache_size = cache.__len__  # type: ignore[attr-defined]
    return jitted


def _split_static(name: str, args: tuple, static_nums: tuple) -> tuple[tuple, tuple]:
    """The static arguments as ``(position, value)`` pairs (negative positions normalised),
    and the arguments with ``None`` in the static positions."""
    if not static_nums:
        return (), args
    n = len(args)
    positions = set()
    for i in static_nums:
        if not -n <= i < n:
            raise ValueError(f"{name}: static_argnums={i} is out of range for a call with {n} arguments.")
        positions.add(i % n)
    static = tuple((i, args[i]) for i in sorted(positions))
    dynamic = tuple(None if i in positions else a for i, a in enumerate(args))
    return static, dynamic


def _static_key(pairs: tuple) -> tuple:
    """``(position or name, value)`` pairs of static arguments, a Python scalar value keyed as
    ``_scalar_key`` keys it."""
    return tuple((k, _scalar_key(v)) if type(v) in PY_SCALARS else (k, v) for k, v in pairs)


def _scalar_key(value: Any) -> Any:
    """``value`` (a Python scalar) as a cache key that tells apart what Python's ``==`` does
    not and a program would: the type (``1``, ``1.0``, ``True``), the sign of a zero
    (``x / -0.0`` is ``-inf``); every NaN of one sign is one key (``nan != nan``)."""
    kind = type(value)
    if kind is float:
        if value == 0.0 or value != value:
            return kind, repr(value), math.copysign(1.0, value)
        return kind, value
    if kind is complex:
        return kind, _scalar_key(value.real), _scalar_key(value.imag)
    return kind, value


def _signature(name: str, leaves: list) -> tuple[tuple, list]:
    """The cache-key part of the dynamic leaves, and the leaves the program takes as inputs
    (arrays; Python scalars are keyed by value and baked into the program)."""
    signature: list[tuple] = []
    dynamic = []
    for i, leaf in enumerate(leaves):
        kind = type(leaf)
        if kind in PY_SCALARS:
            signature.append(_scalar_key(leaf))
            continue
        shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
        if shape is None or dtype is None:
            raise TypeError(
                f"{name}: argument leaf {i} is a {kind.__name__}, not an array. jit takes arrays "
                "(and pytrees of them) as arguments; pass configuration through static_argnums "
                "or static_argnames, or close over it."
            )
        if kind is not np.ndarray and issubclass(kind, np.generic):
            kind = np.ndarray  # NumPy scalars and 0-d arrays stage alike: one signature
        device = None
        if kind is not np.ndarray and not isinstance(leaf, Tracer):
            device = backend_of(leaf).device_of(leaf)  # a plan keeps constants on one device
        signature.append((kind, tuple(shape), np.dtype(dtype), device))
        dynamic.append(leaf)
    return tuple(signature), dynamic


def _stage_for_jit(fun: Callable, name: str, static_args: tuple, static_kwargs: tuple,
                   dynamic: tuple, leaves: list) -> tuple[ReplayPlan, Any]:
    """Record ``fun`` with abstract values for the array leaves of ``dynamic`` (the
    arguments and keyword arguments that are not static; Python scalars are baked in);
    returns the replay plan and the output structure."""
    static = dict(static_args)

    def call(dynamic_args: tuple, dynamic_kwargs: dict) -> Any:
        args = [static[i] if i in static else a for i, a in enumerate(dynamic_args)]
        return fun(*args, **dynamic_kwargs, **dict(static_kwargs))

    flat = FlatFun(call, dynamic, name=name)
    positions = [i for i, leaf in enumerate(leaves) if type(leaf) not in PY_SCALARS]

    def with_scalars(in_vars: list) -> list:
        full = list(leaves)
        for i, var in zip(positions, in_vars):
            full[i] = var
        return flat(full)

    avals = [(tuple(leaves[i].shape), np.dtype(leaves[i].dtype)) for i in positions]
    try:
        program = stage(with_scalars, avals, name)
    except errors.TracerConversionError as error:
        reason = str(error).split("\n(See ")[0]  # the docs link is added again below
        raise errors.TracerConversionError(
            f"{name}: {reason} Under jit the arguments are abstract while the function is "
            "recorded; if a value decides the control flow, pass it as a static argument "
            "(static_argnums / static_argnames), or call the function without jit."
        ) from None
    return ReplayPlan(program), flat.out_tree
