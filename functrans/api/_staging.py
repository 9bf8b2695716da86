"""Recorded programs: ``make_jaxpr`` shows the program functrans records for a function,
``jit`` records it once per input signature and replays it.

Both record with ``core.staging.stage``; ``jit`` compiles the program into a
``ReplayPlan`` (interpreters/replay.py).
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any, overload

import numpy as np

from functrans import errors, tree
from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.api._checks import as_array
from functrans.backend import backend_of
from functrans.config import config
from functrans.core.flatten import FlatFun, fun_name
from functrans.core.ir import Program, format_program
from functrans.core.staging import eval_program, scalar_kind, stage
from functrans.core.trace import Tracer, named_scope
from functrans.interpreters.replay import Lowered, ReplayPlan, holds_outer_tracers


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


def make_jaxpr(fun: Callable, static_argnums: int | Sequence[int] = (),
               return_shape: bool = False) -> Callable[..., Any]:
    """Show the program functrans records for ``fun``: every primitive it applies, in order.

    The inputs are abstract (only shapes and dtypes), so every operation on them is recorded
    and Python control flow on their values raises an error. Python int, float and complex
    arguments are inputs too, standing for Python scalars (weakly typed), as ``jit`` records
    them. Transformations inside ``fun``
    show what they compute: ``make_jaxpr(grad(f))`` prints the forward pass and the backward
    pass, ``make_jaxpr(vmap(f))`` the batched operations. It is the same program format that
    ``vjp`` and ``linearize`` record internally.

    Args:
        fun: a function of arrays (pytrees); keyword arguments are passed through unrecorded.
        static_argnums: positions of arguments passed through unrecorded, as keyword
            arguments are (settings, sizes, functions), as in ``jit``.
        return_shape: also return the output's shapes and dtypes (``eval_shape``'s result).

    Returns:
        A function with ``fun``'s signature returning a ``StagedProgram`` (print it), or
        ``(program, shapes)`` with ``return_shape``.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> print(ft.make_jaxpr(lambda x: fnp.sin(x) * 2.0)(np.ones(3)))
        { lambda v0:float64[3] .
            v1:float64[3] = sin[] v0
            v2:float64[3] = mul[] v1 2.0
          in (v2) }
    """
    name = f"make_jaxpr({fun_name(fun)})"
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun)
    def staged(*args: Any, **kwargs: Any) -> Any:
        positions = dict(_split_static(name, args, static, n_positional=0)[0])
        flat = FlatFun(fun, args, kwargs, [i for i in range(len(args)) if i not in positions],
                       name=name)
        program = _stage_abstract(flat, fun, name, args)
        staged_program = StagedProgram(program, flat.in_tree, flat.out_tree)
        if not return_shape:
            return staged_program
        return staged_program, flat.out_tree.unflatten(
            [ShapeDtypeStruct(shape_of(out), dtype_of(out)) for out in program.outs])

    return staged


def _stage_abstract(flat: FlatFun, fun: Callable, name: str, args: tuple,
                    shapes_only: bool = False) -> Program:
    """``flat`` recorded on abstract inputs: each leaf of ``args`` (its arguments) as an
    input of its shape and dtype, a Python int, float or complex as an input standing for a
    Python scalar (as jit stages them); with ``shapes_only``, any object with ``shape`` and
    ``dtype`` (a ``ShapeDtypeStruct``) stands for an array."""
    avals = []
    scalars = {}
    paths = None
    for i, leaf in enumerate(flat.leaves):
        kind = type(leaf)
        if kind in _TRACED_SCALARS:  # as jit stages them: standing for a Python scalar
            if paths is None:  # (those of the arguments at argnums, the others are static)
                paths = [path for path, _ in tree.flatten_with_path(args)[0]
                         if getattr(path[0], "idx", None) in flat.argnums]
            path = (tree.SequenceKey(0), *paths[i])
            scalars[i] = (kind, _ScalarArgument(name, fun, path, kind, replayed=False))
            avals.append(((), np.result_type(leaf)))
            continue
        if shapes_only and not isinstance(leaf, Tracer) and hasattr(leaf, "shape") \
                and hasattr(leaf, "dtype"):
            avals.append((tuple(leaf.shape), np.dtype(leaf.dtype)))
            continue
        x = as_array(leaf)
        avals.append((tuple(x.shape), np.dtype(x.dtype)))
    return stage(flat, avals, name, scalars=scalars)


class ShapeDtypeStruct:
    """The shape and dtype of an array, without its values: what ``eval_shape`` returns for
    each output, and what it (like ``linear_transpose``) accepts in place of an array.

    Example:
        >>> import numpy as np, functrans as ft
        >>> s = ft.ShapeDtypeStruct((2, 3), np.float32)
        >>> s.shape, s.dtype, s.ndim, s.size
        ((2, 3), dtype('float32'), 2, 6)
    """

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: Sequence[int], dtype: Any):
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name})"


def eval_shape(fun: Callable, *args: Any, **kwargs: Any) -> Any:
    """The shapes and dtypes of ``fun(*args, **kwargs)``'s outputs, without computing them.

    ``fun`` is recorded on abstract inputs (as ``make_jaxpr`` and ``jit`` record it): no
    array operation runs, so it costs the Python of one trace whatever the sizes. Arguments
    may be arrays, Python scalars, or ``ShapeDtypeStruct`` objects (anything with ``shape``
    and ``dtype``); keyword arguments are abstract too. Python control flow on the values of
    the arguments raises, as under ``jit``.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        *args: its positional arguments, or their shapes and dtypes.
        **kwargs: its keyword arguments, likewise.

    Returns:
        The output's pytree with a ``ShapeDtypeStruct`` at each leaf.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> x = ft.ShapeDtypeStruct((1000, 3), np.float32)
        >>> ft.eval_shape(lambda x, w: {"y": fnp.tanh(x @ w), "n": x.shape[0]}, x, np.ones((3, 2)))
        {'n': ShapeDtypeStruct(shape=(), dtype=int64), 'y': ShapeDtypeStruct(shape=(1000, 2), dtype=float64)}
    """
    name = f"eval_shape({fun_name(fun)})"
    if kwargs:
        positional = len(args)
        flat = FlatFun(lambda *a: fun(*a[:positional], **a[positional]), (*args, kwargs), name=name)
        args = (*args, kwargs)
    else:
        flat = FlatFun(fun, args, name=name)
    program = _stage_abstract(flat, fun, name, args, shapes_only=True)
    return flat.out_tree.unflatten(
        [ShapeDtypeStruct(shape_of(out), dtype_of(out)) for out in program.outs])


_JIT_CACHE_SIZE = 64

# Python scalars jit traces (as inputs standing for a Python scalar); bools stay static.
_TRACED_SCALARS = (int, float, complex)
_BOOL_KEYS = {True: (bool, True), False: (bool, False)}
_GENERAL = object()  # heads the cache key of a call with keyword or static arguments
_LEAF = tree.structure(0)
# The NumPy scalar types of the common dtypes, keyed inline as 0-d arrays of their dtype.
_NUMPY_SCALARS = frozenset(np.dtype(code).type for code in "?bhilqBHILQefdgFDG")
_TRACED_MESSAGE = "jit traces Python int, float and complex arguments"


@overload
def jit(fun: Callable, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), *, donate_argnums: int | Sequence[int] = (),
        donate_argnames: str | Sequence[str] = ()) -> Callable: ...


@overload
def jit(fun: None = None, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), *, donate_argnums: int | Sequence[int] = (),
        donate_argnames: str | Sequence[str] = ()) -> Callable[[Callable], Callable]: ...


def jit(fun: Callable | None = None, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), *, donate_argnums: int | Sequence[int] = (),
        donate_argnames: str | Sequence[str] = ()) -> Callable:
    """Record ``fun`` once per input signature and replay the recorded primitives afterwards.

    The first call with arrays of given shapes and dtypes (and given pytree structure and
    static arguments) stages ``fun`` on abstract values, as ``make_jaxpr`` does, drops the
    operations no output needs, and keeps the program. Later calls with the same signature
    run the program's primitives directly, without the Python work of tracing, JVP rules and
    transposition: ``jit(value_and_grad(loss))`` gives the same numbers as the eager
    function, several times faster on small arrays. Before its first run the program is
    simplified (common subexpressions, algebraic identities) and its elementwise results reuse
    dead buffers; chains of arithmetic run as compiled kernels, on CuPy arrays always and
    on NumPy arrays with the optional ``jit`` extra (Numba and SciPy), which also runs a weight
    update of a matrix product as one BLAS call. The other primitives run on NumPy (or CuPy),
    one after another; ``jit(fun).lower(*args).as_text()`` prints the program that runs.

    What changes under ``jit``, as in JAX:

    - values are abstract while the function is staged, so Python control flow that depends
      on them (``if x > 0``) raises; use ``functrans.numpy.where``, or make the argument
      static, or do not jit that function;
    - Python ``int``, ``float`` and ``complex`` arguments are traced too: the signature holds
      their type, not their value, so a new learning rate or step count runs the same
      program. They stay weakly typed, as NumPy 2 treats a Python scalar (a float32 array
      times a Python float is float32), and the program gets the Python scalar itself, so
      values and dtypes are those of the function without jit. A traced scalar used where
      Python needs its value (``range(n)``, a shape, ``if n > 0``) raises an error that names
      the argument: make it static with ``static_argnums``/``static_argnames``;
    - Python ``bool`` arguments are static (flags such as ``training=True`` usually decide
      Python control flow): each of the two values has its own program;
    - the arguments named by ``static_argnums``/``static_argnames`` are part of the signature,
      by value: a new value stages the function again (they must be hashable);
    - arrays the function reads from outside (closures, globals) are captured by value when
      it is staged: they are copied, so editing such an array in place later does not change
      what the jitted function computes. Pass arrays that change as arguments;
    - side effects (print, appending to a list) happen once, while staging.

    Outputs are new arrays: never memory the staged program keeps from one call to the next
    (a constant, a value computed once), so writing into an output does not change later
    calls; and never the caller's arguments or views of them (``jit(lambda x: x)`` returns a
    copy), so writing into an output leaves the arguments alone, whatever the program's steps.
    On NumPy arrays the memory of a result is kept for later calls and written again only
    once nothing refers to the result or a view of it (docs/transforms.md, "Replaying with
    jit"): a result you hold never changes.

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
        donate_argnums: accepted for programs ported from JAX, where it lets the compiler
            reuse the memory of those arguments for the outputs; nothing is donated here
            (the arguments stay valid), so it changes nothing.
        donate_argnames: the same, by name.

    Returns:
        A function with ``fun``'s signature (without ``fun``: a decorator that makes one).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> step = ft.jit(ft.grad(lambda w, x: fnp.sum(fnp.tanh(x @ w))))
        >>> w, x = np.zeros(3), np.ones((4, 3))
        >>> step(w, x)  # staged on this call, replayed on the next ones
        array([4., 4., 4.])
        >>> update = ft.jit(lambda w, lr: w - lr * w)
        >>> update(np.ones(2, np.float32), 0.5)  # one program for every learning rate
        array([0.5, 0.5], dtype=float32)
        >>> @ft.jit(static_argnums=1)
        ... def power(x, n):
        ...     return x ** n if n > 0 else fnp.ones_like(x)
        >>> power(np.array([2.0]), 3)
        array([8.])
    """
    _check_donation(donate_argnums, donate_argnames)
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums, static_argnames=static_argnames)
    name = f"jit({fun_name(fun)})"
    static_nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    static_names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if not callable(fun):
        raise TypeError(f"jit: expected a function, got {type(fun).__name__}.")
    static_nums, static_names, n_positional = _static_by_signature(fun, static_nums, static_names)
    cache: dict = {}
    lock = threading.Lock()  # insertion and eviction; a lookup is one atomic dict.get
    ndarray = np.ndarray

    def staged_entry(key: tuple, static_args: tuple, static_kwargs: tuple, dynamic: tuple,
                     leaves: list) -> tuple[tuple, bool]:
        """The cache entry of ``key``, staged now, and whether it is cached: not when the
        program holds tracers of an outer transformation (valid for this call only)."""
        plan, out_tree = _stage_for_jit(fun, name, static_args, static_kwargs, dynamic, leaves)
        entry = (plan, _output_builder(out_tree), out_tree == _LEAF)
        if holds_outer_tracers(plan):
            return entry, False
        with lock:
            kept = cache.get(key)
            if kept is None:
                while len(cache) >= _JIT_CACHE_SIZE:  # first in, first out
                    del cache[next(iter(cache))]
                kept = cache[key] = entry
        return kept, True

    def general(args: tuple, kwargs: dict) -> Any:
        """A call with keyword or static arguments."""
        static_args, dynamic_args = _split_static(name, args, static_nums, n_positional)
        static_kwargs = tuple(sorted((k, kwargs[k]) for k in static_names if k in kwargs))
        dynamic_kwargs = {k: v for k, v in kwargs.items() if k not in static_names}
        dynamic = (dynamic_args, dynamic_kwargs)
        leaves, treedef = tree.flatten(dynamic)
        signature = [_GENERAL, treedef, config.debug_nans]
        for leaf in leaves:
            signature.extend(_leaf_key(name, leaf, leaves))
        key = (*signature, _static_key(static_args), _static_key(static_kwargs))
        try:
            entry = cache.get(key)
        except TypeError:
            raise _unhashable_static(name, fun, static_args + static_kwargs) from None
        return run(entry, key, static_args, static_kwargs, dynamic, leaves, True)

    def run(entry: tuple | None, key: tuple, static_args: tuple, static_kwargs: tuple,
            dynamic: tuple, leaves: list, other: bool) -> Any:
        inputs = [leaf for leaf in leaves if type(leaf) is not bool] if other else leaves
        cached = True
        if entry is None:
            entry, cached = staged_entry(key, static_args, static_kwargs, dynamic, leaves)
        plan, out_tree, single = entry
        if not cached or (other and any(isinstance(leaf, Tracer) for leaf in inputs)):
            with named_scope(name):
                return out_tree.unflatten(plan.bind(inputs))
        outs = plan.run(inputs)
        return outs[0] if single else out_tree.unflatten(outs)

    def nested(args: tuple) -> Any:
        """A call with positional arguments only, some of them pytrees or other leaves."""
        leaves: list[Any] = []
        key = [_WALKED, config.debug_nans]
        if _walk(args, key.append, leaves.append):
            signature = tuple(key)
            entry = cache.get(signature)
            if entry is None:
                return run(entry, signature, (), (), (args, {}), leaves, False)
            plan, out_tree, single = entry
            outs = plan.run(leaves)
            return outs[0] if single else out_tree.unflatten(outs)
        return treedef_keyed(args)

    def treedef_keyed(args: tuple) -> Any:
        """A call with positional arguments only, some of them leaves ``_walk`` leaves to
        the pytree library (tracers, bools, registered nodes, other backends' arrays)."""
        leaves, treedef = tree.flatten(args)
        key: list[Any] = [treedef, config.debug_nans]
        other = False
        for leaf in leaves:
            kind = type(leaf)
            if kind is ndarray:
                key.append(leaf.shape)
                key.append(leaf.dtype)
            elif kind is float or kind is int or kind is complex:
                key.append(kind)
            elif kind in _NUMPY_SCALARS:  # staged as a 0-d array of its dtype
                key.append(())
                key.append(leaf.dtype)
            else:
                other = True
                key.extend(_leaf_key(name, leaf, leaves))
        signature = tuple(key)
        entry = cache.get(signature)
        if entry is None or other:
            return run(entry, signature, (), (), (args, {}), leaves, other)
        plan, out_tree, single = entry
        outs = plan.run(leaves)
        return outs[0] if single else out_tree.unflatten(outs)

    @functools.wraps(fun)
    def jitted(*args: Any, **kwargs: Any) -> Any:
        if config.disable_jit:
            return fun(*args, **kwargs)
        if kwargs or static_nums:
            return general(args, kwargs)
        # The key: the number of arguments, then per argument its shape and dtype (arrays)
        # or its type (traced Python scalars), flat in one tuple; pytrees and other leaves
        # (tracers, NumPy scalars, bools, other backends' arrays) take the longer path.
        key: list[Any] = [len(args), config.debug_nans]
        append = key.append
        for leaf in args:
            kind = type(leaf)
            if kind is ndarray:
                append(leaf.shape)
                append(leaf.dtype)
            elif kind is float or kind is int or kind is complex:
                append(kind)
            elif kind in _NUMPY_SCALARS:
                append(())
                append(leaf.dtype)
            else:
                return nested(args)
        signature = tuple(key)
        entry = cache.get(signature)
        if entry is None:
            return run(entry, signature, (), (), (args, {}), list(args), False)
        plan, out_tree, single = entry
        outs = plan.run(args)
        return outs[0] if single else out_tree.unflatten(outs)

    def clear_cache() -> None:
        with lock:
            cache.clear()

    def lower(*args: Any, **kwargs: Any) -> Lowered:
        """The optimized program jit runs for these arguments (``.as_text()`` prints it:
        simplified, buffers reused, kernels fused); ``make_jaxpr`` prints it as recorded."""
        static_args, dynamic_args = _split_static(name, args, static_nums, n_positional)
        static_kwargs = tuple(sorted((k, kwargs[k]) for k in static_names if k in kwargs))
        dynamic = (dynamic_args, {k: v for k, v in kwargs.items() if k not in static_names})
        leaves = tree.leaves(dynamic)
        plan, _ = _stage_for_jit(fun, name, static_args, static_kwargs, dynamic, leaves)
        return Lowered(plan, [leaf for leaf in leaves if type(leaf) is not bool])

    jitted.clear_cache = clear_cache  # type: ignore[attr-defined]
    jitted._cache_size = cache.__len__  # type: ignore[attr-defined]
    jitted.lower = lower  # type: ignore[attr-defined]
    return jitted


def disable_jit(disable: bool = True) -> contextlib.AbstractContextManager[None]:
    """A ``with`` block in which every ``jit``-wrapped function runs as the plain function:
    not recorded, so ``print`` shows values, a debugger steps through it, and Python control
    flow on values works. The values are those of the jitted function. The setting is
    ``config.disable_jit`` (``jax_disable_jit`` in JAX's spelling).

    Args:
        disable: whether to turn jit off in the block (``False`` leaves it on).

    Example:
        >>> import numpy as np, functrans as ft
        >>> f = ft.jit(lambda x: x * 2 if float(x[0]) > 0 else -x)  # value-dependent
        >>> with ft.disable_jit():
        ...     f(np.array([1.0, 2.0]))
        array([2., 4.])
    """
    return config.override(disable_jit=disable)


_WALKED = object()  # heads the cache key of a call whose arguments ``_walk`` keyed


class _Leaf:
    """A stand-in for the output leaf at ``index``, to read an output structure from."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


class _OutputBuilder:
    """Builds a jitted function's output from the plan's flat outputs, as ``out_tree``'s
    ``unflatten`` does, by a function written for that structure (``_output_builder``)."""

    __slots__ = ("unflatten",)

    def __init__(self, unflatten: Callable[[list], Any]):
        self.unflatten = unflatten


def _output_builder(out_tree: Any) -> Any:
    """``out_tree``, or for an output of lists, tuples, dicts (str or int keys) and None, an
    ``_OutputBuilder`` whose ``unflatten`` is one expression building that structure: for
    W2's step (a list of three dicts of two arrays, and the loss) 0.6 us instead of 1.6 us.

    Example:
        >>> from functrans import tree
        >>> build = _output_builder(tree.structure(([{"w": 0, "b": 0}], 0, None)))
        >>> build.unflatten(["b", "w", "loss"])
        ([{'b': 'b', 'w': 'w'}], 'loss', None)
    """
    if out_tree.num_leaves > _BUILT_LEAVES:
        return out_tree
    template = out_tree.unflatten([_Leaf(i) for i in range(out_tree.num_leaves)])
    expression = _expression(template, 0)
    if expression is None:
        return out_tree
    namespace: dict = {}
    exec(compile(f"def build(o):\n    return {expression}\n", "<jit output>", "exec"), namespace)
    return _OutputBuilder(namespace["build"])


_BUILT_LEAVES = 1024  # outputs with more leaves, or nested deeper, are left to unflatten
_BUILT_DEPTH = 32


def _expression(node: Any, depth: int) -> str | None:
    """Python source building ``node`` (a template of ``_Leaf`` stand-ins for ``o[i]``), or
    ``None`` for a node it does not write (registered types, namedtuples, other keys)."""
    if depth > _BUILT_DEPTH:
        return None
    kind = type(node)
    if kind is _Leaf:
        return f"o[{node.index}]"
    if node is None:
        return "None"
    if kind is list or kind is tuple:
        parts = [_expression(item, depth + 1) for item in node]
        if any(part is None for part in parts):
            return None
        if kind is list:
            return "[" + ", ".join(parts) + "]"  # type: ignore[arg-type]
        return "(" + "".join(f"{part}, " for part in parts) + ")"
    if kind is dict:
        items = []
        for name, value in node.items():
            part = _expression(value, depth + 1)
            if part is None or type(name) not in (str, int):
                return None
            items.append(f"{name!r}: {part}")
        return "{" + ", ".join(items) + "}"
    return None


def _walk(node: Any, key: Callable, leaf: Callable) -> bool:
    """Append to ``key`` the cache key entries of ``node`` (a pytree of lists, tuples, dicts
    with sortable keys, None, NumPy arrays and scalars, Python int/float/complex) and to
    ``leaf`` its leaves in ``tree.flatten``'s order; ``False`` at any other node or leaf (the
    caller then flattens with the pytree library).

    One walk instead of ``tree.flatten`` and a second pass over the leaves: for a list of
    three dicts of two arrays and two arrays, 2.8 us instead of 4.6 us. Each entry says what
    it stands for (a container's type, then its length or its dict keys; an array's shape and
    dtype; a scalar's type), so two calls share a key only if they share a structure and
    every leaf's shape and dtype, as ``tree.flatten``'s treedef and the leaf keys tell.

    Example:
        >>> key, leaves = [], []
        >>> _walk(({"b": np.ones(2), "a": 1.0}, None), key.append, leaves.append), len(leaves)
        (True, 2)
    """
    kind = type(node)
    if kind is np.ndarray:
        leaf(node)
        key(node.shape)
        key(node.dtype)
        return True
    if kind is list or kind is tuple:
        key(kind)
        key(len(node))
        for item in node:
            if type(item) is np.ndarray:  # (the usual leaf, without a call)
                leaf(item)
                key(item.shape)
                key(item.dtype)
            elif not _walk(item, key, leaf):
                return False
        return True
    if kind is dict:
        try:
            keys = tuple(sorted(node))
        except TypeError:
            return False
        key(dict)
        key(keys)
        for name in keys:
            item = node[name]
            if type(item) is np.ndarray:
                leaf(item)
                key(item.shape)
                key(item.dtype)
            elif not _walk(item, key, leaf):
                return False
        return True
    if kind is float or kind is int or kind is complex:
        leaf(node)
        key(kind)
        return True
    if node is None:
        key(None)
        return True
    if kind in _NUMPY_SCALARS:  # staged as a 0-d array of its dtype
        leaf(node)
        key(())
        key(node.dtype)
        return True
    return False


def _check_donation(nums: Any, names: Any) -> None:
    """Refuse ``donate_argnums``/``donate_argnames`` of the wrong kind (ints, strings), which
    ``jit`` otherwise ignores: nothing is donated."""
    for value, kind, option in ((nums, int, "donate_argnums"), (names, str, "donate_argnames")):
        items = (value,) if isinstance(value, kind) else value
        try:
            ok = all(isinstance(item, kind) and not isinstance(item, bool) for item in items)
        except TypeError:
            ok = False
        if not ok:
            raise TypeError(f"jit: {option} must be {'an int' if kind is int else 'a string'} or a "
                            f"sequence of them, got {value!r}.")


def _static_by_signature(fun: Callable, nums: tuple, names: tuple, transform: str = "jit",
                         option: str = "static_arg") -> tuple[tuple, tuple, int | None]:
    """``static_argnums`` and ``static_argnames`` completed from ``fun``'s signature, as JAX
    does: given only one of them, a parameter that can be passed either way is static both
    ways (``static_argnames="n"`` also makes ``f(x, 3)``'s 3 static). Also the number of
    parameters that can be passed by position (``None``: any number, or no signature).
    ``transform`` and ``option`` (``static_arg``: the options ``static_argnums`` and
    ``static_argnames``) name the caller in the error message."""
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):  # a builtin or an extension type: nothing to infer
        return nums, names, None
    kinds = inspect.Parameter
    n_positional: int | None = sum(p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
                                   for p in params)
    if any(p.kind is kinds.VAR_POSITIONAL for p in params):
        n_positional = None
    if names and not any(p.kind is kinds.VAR_KEYWORD for p in params):
        unknown = [n for n in names if n not in {p.name for p in params
                                                  if p.kind is not kinds.POSITIONAL_ONLY}]
        if unknown:
            raise ValueError(
                f"{transform}({fun_name(fun)}): {option}names names {unknown}, which "
                f"{'is not a parameter' if len(unknown) == 1 else 'are not parameters'} of the "
                f"function that can be passed by keyword (its parameters: "
                f"{[p.name for p in params]}). Fix the spelling, or use {option}nums."
            )
    either_way = [(i, p.name) for i, p in enumerate(params) if p.kind is kinds.POSITIONAL_OR_KEYWORD]
    if nums and not names:
        names = tuple(name for i, name in either_way if i in nums)
    elif names and not nums:
        nums = tuple(i for i, name in either_way if name in names)
    return nums, names, n_positional


def _split_static(name: str, args: tuple, static_nums: tuple,
                  n_positional: int | None = None) -> tuple[tuple, tuple]:
    """The static arguments as ``(position, value)`` pairs (negative positions normalised),
    and the arguments with ``None`` in the static positions. A static position the call
    does not fill (the argument is passed by keyword or left to its default) is skipped if
    the function has such a parameter (``n_positional`` of them, ``None``: any number)."""
    if not static_nums:
        return (), args
    n = len(args)
    positions = set()
    for i in static_nums:
        if not -n <= i < n:
            if i >= n and (n_positional is None or i < n_positional):
                continue
            raise ValueError(f"{name}: static_argnums={i} is out of range for a call with {n} arguments.")
        positions.add(i % n)
    static = tuple((i, args[i]) for i in sorted(positions))
    dynamic = tuple(None if i in positions else a for i, a in enumerate(args))
    return static, dynamic


def _unhashable_static(name: str, fun: Callable, pairs: tuple) -> TypeError:
    """The error for a static argument (one of the ``(position or name, value)`` ``pairs``)
    that cannot key the cache: which one, its type, and the fix for that type."""
    where, value = next(((k, v) for k, v in pairs if not _hashable(v)), pairs[0])
    what = f"argument {where}" if isinstance(where, int) else f"argument {where!r}"
    kind = type(value).__name__
    if isinstance(value, (list, dict, set)):
        fix = "pass a tuple (or a frozenset, or a tuple of (key, value) pairs) instead"
    elif hasattr(value, "shape") and hasattr(value, "dtype"):
        fix = ("pass an array as an ordinary (traced) argument, not a static one; a value that "
               "must be known while tracing can be a tuple (tuple(x.tolist()))")
    else:
        fix = (f"give {kind} __hash__ and __eq__ (a frozen dataclass does), or pass its arrays as "
               "ordinary arguments")
    return TypeError(
        f"{name}: the static {what} of {fun_name(fun)}, a {kind}, is not hashable; static "
        f"arguments key the cache of staged programs by value, so they must be hashable: {fix}."
    )


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


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


def _leaf_key(name: str, leaf: Any, leaves: list) -> tuple:
    """The entries of the cache key for one argument leaf: ``(shape, dtype)`` of a NumPy
    array or scalar, the type of a traced Python scalar (or of a value standing for one in
    an outer ``jit``), the value of a bool, ``((type, shape, dtype, device),)`` of a tracer or
    another backend's array."""
    kind = type(leaf)
    if kind is bool:
        return (_BOOL_KEYS[leaf],)
    if kind in _TRACED_SCALARS:
        return (kind,)
    weak = scalar_kind(leaf)
    if weak is not None and weak is not bool:
        return (weak,)
    shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
    if shape is None or dtype is None:
        raise TypeError(
            f"{name}: argument leaf {_position(leaf, leaves)} is a {kind.__name__}, not an array. "
            "jit takes arrays, Python scalars (and pytrees of them) as arguments; pass "
            "configuration through static_argnums or static_argnames, or close over it."
        )
    if kind is np.ndarray or issubclass(kind, np.generic):
        return tuple(shape), np.dtype(dtype)  # NumPy scalars and 0-d arrays stage alike
    device = None
    if not isinstance(leaf, Tracer):
        device = backend_of(leaf).device_of(leaf)  # a plan keeps constants on one device
    return ((kind, tuple(shape), np.dtype(dtype), device),)


def _position(leaf: Any, leaves: list) -> int:
    return next(i for i, other in enumerate(leaves) if other is leaf)


class _ScalarArgument:
    """A Python scalar argument of a jitted function, which the recording traces: names it
    (``message``) when Python needs its value while the function is recorded."""

    __slots__ = ("name", "fun", "path", "kind", "replayed")

    def __init__(self, name: str, fun: Callable, path: tuple, kind: type, replayed: bool = True):
        self.name = name
        self.fun = fun
        self.path = path  # the key path in (positional arguments, keyword arguments)
        self.kind = kind
        self.replayed = replayed  # jit's program (not make_jaxpr's, which is for reading)

    def message(self, use: str) -> str:
        """The error for a use of the value that needs it (``use``: what needed it)."""
        where, fix = self._where_and_fix()
        kind = self.kind.__name__
        return (
            f"{self.name}: the value of {where}, a Python {kind}, is needed {use}. "
            f"{_TRACED_MESSAGE}: they are inputs of the recorded program, so "
            "that a new value (a learning rate, a step count) runs the same program, and "
            "their values are unknown while the function is recorded. If this value decides "
            f"a shape, an axis, a loop count or Python control flow, {fix}; each new value "
            "then records the function again. Otherwise compute with it through "
            "functrans.numpy (fnp.where(n > 0, a, b) for a choice; functrans.lax.fori_loop "
            "or while_loop for a loop whose count is traced)."
        )

    def _where_and_fix(self) -> tuple[str, str]:
        fun_label = fun_name(self.fun)
        keys: list[Any] = [getattr(k, "idx", getattr(k, "key", None)) for k in self.path]
        if len(keys) < 2:
            return "an argument", "make the argument static (static_argnums or static_argnames)"
        rest = tree.keystr(self.path[2:])
        if self.name.startswith("eval_shape("):  # (every argument is abstract: no static ones)
            return (f"argument {keys[1]}{rest}", "bind it to the function instead: "
                    f"eval_shape(functools.partial({fun_label}, ...), ...)")
        if keys[0] == 0:  # positional
            position = keys[1]
            param = _parameter_name(self.fun, position)
            label = f"argument {position}" + (f" ({param})" if param else "")
            if rest:
                return (f"{label}{rest}", f"pass it as an argument of its own, made static with "
                        f"jit({fun_label}, static_argnums=...), or close over it")
            named = f" or jit({fun_label}, static_argnames={param!r})" if param else ""
            return label, f"make it static: jit({fun_label}, static_argnums={position}){named}"
        keyword = keys[1]
        if rest:
            return (f"keyword argument {keyword}{rest}", "pass it as a keyword argument of its "
                    "own, named in static_argnames, or close over it")
        return (f"keyword argument {keyword}",
                f"make it static: jit({fun_label}, static_argnames={keyword!r})")


def _parameter_name(fun: Callable, position: int) -> str | None:
    """The name of ``fun``'s positional parameter at ``position``, if it has one."""
    import inspect

    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return positional[position].name if position < len(positional) else None


def _scalar_avals(name: str, fun: Callable, dynamic: Any, leaves: list) -> tuple[list, dict]:
    """For the inputs of a recording of ``dynamic`` (its leaves but bools, which are baked
    in): their ``(shape, dtype)``, and the ``stage`` scalars entry of each traced Python
    scalar (and of each value standing for one in an outer recording)."""
    paths = None
    avals: list[tuple] = []
    scalars: dict[int, tuple] = {}
    for i, leaf in enumerate(leaves):
        kind = type(leaf)
        if kind is bool:
            continue
        weak = kind if kind in _TRACED_SCALARS else scalar_kind(leaf)
        if weak is not None and weak is not bool:
            if paths is None:
                paths = [path for path, _ in tree.flatten_with_path(dynamic)[0]]
            path = paths[i]
            scalars[len(avals)] = (weak, _ScalarArgument(name, fun, tuple(path), weak))
            dtype = dtype_of(leaf)  # (a Python scalar's default dtype, or the outer value's)
            avals.append(((), dtype))
            continue
        avals.append((tuple(leaf.shape), np.dtype(leaf.dtype)))
    return avals, scalars


def _stage_for_jit(fun: Callable, name: str, static_args: tuple, static_kwargs: tuple,
                   dynamic: tuple, leaves: list) -> tuple[ReplayPlan, Any]:
    """Record ``fun`` with abstract values for the leaves of ``dynamic`` (the arguments and
    keyword arguments that are not static): arrays by shape and dtype, Python int/float/
    complex as inputs standing for Python scalars, bools baked in; returns the replay plan
    and the output structure."""
    static = dict(static_args)

    def call(dynamic_args: tuple, dynamic_kwargs: dict) -> Any:
        args = [static[i] if i in static else a for i, a in enumerate(dynamic_args)]
        return fun(*args, **dynamic_kwargs, **dict(static_kwargs))

    flat = FlatFun(call, dynamic, name=name)
    positions = [i for i, leaf in enumerate(leaves) if type(leaf) is not bool]

    def with_bools(in_vars: list) -> list:
        full = list(leaves)
        for i, var in zip(positions, in_vars):
            full[i] = var
        return flat(full)

    avals, scalars = _scalar_avals(name, fun, dynamic, leaves)
    try:
        program = stage(with_bools, avals, name, scalars=scalars)
    except errors.TracerConversionError as error:
        if _TRACED_MESSAGE in str(error):  # names the traced scalar argument and the fix
            raise
        reason = str(error).split("\n(See ")[0]  # the docs link is added again below
        raise errors.TracerConversionError(
            f"{name}: {reason} Under jit the arguments are abstract while the function is "
            "recorded; if a value decides the control flow, pass it as a static argument "
            "(static_argnums / static_argnames), or call the function without jit."
        ) from None
    except (TypeError, ValueError, IndexError) as error:
        # NumPy, given a traced scalar as a shape, raises its own error naming the variable
        if scalars and "Var(" in str(error) and hasattr(error, "add_note"):
            error.add_note(_scalar_note(name, [origin for _, origin in scalars.values()]))
        raise
    return ReplayPlan(program), flat.out_tree


def _scalar_note(name: str, origins: list) -> str:
    """A note for an error raised on a variable while a function with traced Python scalar
    arguments was recorded: which those arguments are, and how to make them static."""
    parts = []
    for origin in origins:
        where, fix = origin._where_and_fix()
        parts.append(f"{where} ({fix})")
    return (f"{name}: {_TRACED_MESSAGE}, so their values are unknown while the function is "
            f"recorded. If the variable above is one of them, or computed from one, and gives a "
            f"shape, an axis or a loop count: {'; '.join(parts)}.")
