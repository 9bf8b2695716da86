"""The recorded program of a function as a graph: nodes, edges, passes, argument order, scopes."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from functrans import tree
from functrans.api import StagedProgram, make_jaxpr
from functrans.core.ir import type_str

__all__ = ["Graph", "Node", "graph"]

_MAX_PARAM_CHARS = 24

#: primitives whose result does not depend on the order of their arguments: their edges carry
#: no argument position (every other operation with several inputs numbers them 0, 1, ...)
COMMUTATIVE = frozenset({
    "add", "add_any", "mul", "max", "min", "eq", "ne", "logaddexp", "logaddexp2", "hypot",
    "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
})

_TRANSPOSE_MARK = "transpose"
_JVP_MARK = "jvp["


class Node:
    """One box of the drawing.

    Attributes:
        id: a short identifier, unique in its graph (``in0``, ``op3``, ``c1``, ``out0``).
        label: what the box says first: the argument name, the primitive, the constant.
        kind: ``input``, ``const``, ``op`` or ``output``.
        detail: the short parameters and the output's dtype and shape, one item a line.
        phase: ``forward`` or ``backward`` for an operation (``backward``: the transposed
            linear program of reverse mode, what ``grad`` and ``vjp`` run after the forward
            pass); empty for the other kinds.
        scope: the ``named_scope`` blocks (and nested transformations) the operation was
            recorded in, outermost first, without the transformation that wraps the whole
            program.
    """

    __slots__ = ("id", "label", "kind", "detail", "phase", "scope")

    def __init__(self, id: str, label: str, kind: str, detail: str = "", phase: str = "",
                 scope: tuple[str, ...] = ()):
        self.id, self.label, self.kind, self.detail = id, label, kind, detail
        self.phase, self.scope = phase, scope

    def __repr__(self) -> str:
        return f"Node({self.id!r}, {self.label!r}, {self.kind!r}, {self.detail!r})"


class Graph:
    """A recorded program as nodes and edges, in execution order (inputs first).

    Attributes:
        nodes: the nodes; an edge ``(a, b)`` means the value of node ``a`` is used by ``b``.
        edges: pairs of node ids, in the order the operations use their arguments.
        ports: one entry per edge: the argument position of the value in the operation that
            uses it, for operations whose result depends on the order of their arguments
            (``sub``, ``div``, ``dot_general``, ...); ``None`` where the order does not matter.
    """

    __slots__ = ("nodes", "edges", "ports")

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[tuple[str, str]] = []
        self.ports: list[int | None] = []

    def add_edge(self, a: str, b: str, port: int | None = None) -> None:
        """Append the edge ``a -> b``, used as argument ``port`` of ``b``."""
        self.edges.append((a, b))
        self.ports.append(port)


def _program(fun_or_program: Any, args: tuple, kwargs: dict) -> tuple[StagedProgram, tuple | None]:
    if isinstance(fun_or_program, StagedProgram):
        if args or kwargs:
            raise TypeError("pass either a recorded program, or a function and its arguments")
        return fun_or_program, None
    if not callable(fun_or_program):
        raise TypeError(f"expected a function or a make_jaxpr program, got {type(fun_or_program).__name__}")
    return make_jaxpr(fun_or_program)(*args, **kwargs), args


def _input_names(fun: Any, args: tuple | None, count: int) -> list[str]:
    """``x``, ``params['w']``...: the argument name and key path of each input leaf."""
    if args is None:
        return [f"in{i}" for i in range(count)]
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        params = []
    names: list[str] = []
    for i, arg in enumerate(args):
        base = params[i].name if i < len(params) and params[i].kind in (
            inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) else f"arg{i}"
        pairs, _ = tree.flatten_with_path(arg)
        names.extend(base + tree.keystr(path) for path, _ in pairs)
    return names if len(names) == count else [f"in{i}" for i in range(count)]


def _short_params(params: dict) -> str:
    parts = []
    for key, value in params.items():
        text = f"{key}={value}"
        if callable(value) or len(text) > _MAX_PARAM_CHARS:
            continue
        parts.append(text)
    return ", ".join(parts)


def _phase_and_scopes(scopes: list[tuple[str, ...]]) -> tuple[list[str], list[tuple[str, ...]]]:
    """Each operation's pass (``backward`` inside a transpose walk) and its drawn scope: the
    pass marks removed, and the transformations every operation shares (``grad(f)`` around
    the whole program) left out, since a box around everything says nothing."""
    phases = ["backward" if _TRANSPOSE_MARK in s else "forward" for s in scopes]
    kept = [tuple(n for n in s if n != _TRANSPOSE_MARK and not n.startswith(_JVP_MARK))
            for s in scopes]
    common = 0
    if kept:
        first = kept[0]
        while (common < len(first) and "(" in first[common]
               and all(len(s) > common and s[common] == first[common] for s in kept)):
            common += 1
    return phases, [s[common:] for s in kept]


def graph(fun: Callable | Any, *args: Any, **kwargs: Any) -> Graph:
    """The program ``make_jaxpr(fun)(*args)`` records, as nodes and edges.

    Each operation knows its pass (forward, or backward for the transposed part of reverse
    mode), its name scope, and the position of each argument where the order matters.

    Args:
        fun: a function of arrays, or a program returned by ``make_jaxpr``.
        *args: example arguments (only their shapes and dtypes matter).
        **kwargs: keyword arguments passed to ``fun`` unrecorded.

    Returns:
        A ``Graph``: input nodes, one node per operation and per constant, output nodes.

    Example:
        >>> import numpy as np, functrans.numpy as fnp
        >>> g = graph(lambda x, y: fnp.sin(x) - y, np.ones(2), 3.0)
        >>> [(n.kind, n.label) for n in g.nodes]
        [('input', 'x'), ('input', 'y'), ('op', 'sin'), ('op', 'sub'), ('output', 'out')]
        >>> list(zip(g.edges, g.ports))
        [(('in0', 'op0'), None), (('op0', 'op1'), 0), (('in1', 'op1'), 1), (('op1', 'out0'), None)]
    """
    program, used_args = _program(fun, args, kwargs)
    out = Graph()
    ids: dict[int, str] = {}
    names = _input_names(fun, used_args, len(program.inputs))
    for var, name in zip(program.inputs, names):
        ids[id(var)] = f"in{var.index}"
        out.nodes.append(Node(f"in{var.index}", name, "input", type_str(var.shape, var.dtype)))
    counter = 0

    def value_id(x: Any) -> str:
        nonlocal counter
        if program.program.owns(x) and id(x) in ids:
            return ids[id(x)]
        counter += 1
        node_id = f"c{counter}"
        if isinstance(x, (int, float, complex, bool)):
            label, detail = repr(x), ""
        else:
            shape = getattr(x, "shape", None)
            label = "const"
            detail = type_str(shape, x.dtype) if shape is not None else type(x).__name__
            if shape == () and hasattr(x, "item"):
                label = repr(x.item())
        out.nodes.append(Node(node_id, label, "const", detail))
        return node_id

    eqns = program.eqns
    base = getattr(program.program.trace, "scope_base", 0)
    phases, scopes = _phase_and_scopes([tuple(e.scope[base:]) for e in eqns])
    for n, eqn in enumerate(eqns):
        node_id = f"op{n}"
        outs = eqn.outs
        arg_ids = [value_id(a) for a in eqn.args]
        detail = ", ".join(type_str(o.shape, o.dtype) for o in outs)
        params = _short_params(eqn.params or {})
        out.nodes.append(Node(node_id, eqn.prim.name, "op", (params + "\n" if params else "") + detail,
                              phases[n], scopes[n]))
        numbered = len(arg_ids) > 1 and eqn.prim.name not in COMMUTATIVE
        for k, a in enumerate(arg_ids):
            out.add_edge(a, node_id, k if numbered else None)
        for o in outs:
            ids[id(o)] = node_id
    results = program.outputs
    try:  # label outputs by where they sit in the returned pytree: out[0]['bias']
        pairs, _ = tree.flatten_with_path(program.out_tree.unflatten(list(range(len(results)))))
        out_names = ["out" + tree.keystr(path) for path, _ in pairs]
    except Exception:
        out_names = []
    if len(out_names) != len(results):
        out_names = ["out"] if len(results) == 1 else [f"out{i}" for i in range(len(results))]
    for i, (res, name) in enumerate(zip(results, out_names)):
        node_id = f"out{i}"
        src = value_id(res)
        out.nodes.append(Node(node_id, name, "output", ""))
        out.add_edge(src, node_id)
    return out
