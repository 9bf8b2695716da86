"""Pictures of the programs functrans records: computation graphs as Graphviz DOT or SVG.

``make_jaxpr`` records a function as a flat list of primitive applications. This module draws
that list as a graph, one node per input, constant, operation and output, with an arrow from
each value to every operation that uses it:

- ``to_dot(fun, *args)``: the graph as Graphviz DOT text (no Graphviz needed to produce it);
- ``to_svg(fun, *args)``: the graph as an SVG image, laid out here in pure Python (layers
  from the inputs down, boxes and arrows), so no external program is needed;
- ``render(fun, *args, path=...)``: writes the image to a file. An ``.svg`` uses the ``dot``
  program when it is installed and the built-in layout otherwise; other formats (``.png``,
  ``.pdf``) need Graphviz's ``dot`` program.

Each function also accepts an already recorded program (what ``make_jaxpr(f)(*args)``
returns) in place of ``fun, *args``. Drawing ``grad(f)`` shows the forward and backward
passes together, as the reverse-mode program functrans runs.

Example:
    >>> import numpy as np, functrans as ft, functrans.numpy as fnp
    >>> from functrans import viz
    >>> dot = viz.to_dot(lambda x: fnp.sin(x) * 2.0, np.ones(3))
    >>> print(dot.splitlines()[0])
    digraph program {
    >>> "sin" in dot and "mul" in dot
    True
"""
from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

from functrans import tree
from functrans.api import StagedProgram, make_jaxpr
from functrans.core.ir import type_str
from functrans.errors import UnsupportedError

__all__ = ["Graph", "graph", "to_dot", "to_svg", "render"]

_MAX_PARAM_CHARS = 24


class Node:
    """One box of the drawing. ``kind`` is ``input``, ``const``, ``op`` or ``output``."""

    __slots__ = ("id", "label", "kind", "detail")

    def __init__(self, id: str, label: str, kind: str, detail: str = ""):
        self.id, self.label, self.kind, self.detail = id, label, kind, detail

    def __repr__(self) -> str:
        return f"Node({self.id!r}, {self.label!r}, {self.kind!r}, {self.detail!r})"


class Graph:
    """A recorded program as nodes and edges, in execution order (inputs first).

    Attributes:
        nodes: the nodes; an edge ``(a, b)`` means the value of node ``a`` is used by ``b``.
        edges: pairs of node ids, in the order the operations use their arguments.
    """

    __slots__ = ("nodes", "edges")

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[tuple[str, str]] = []


def _program(fun_or_program: Any, args: tuple, kwargs: dict) -> tuple[StagedProgram, tuple | None]:
    if isinstance(fun_or_program, StagedProgram):
        if args or kwargs:
            raise TypeError("pass either a recorded program, or a function and its arguments")
        return fun_or_program, None
    if not callable(fun_or_program):
        raise TypeError(f"expected a function or a make_jaxpr program, got {type(fun_or_program).__name__}")
    return make_jaxpr(fun_or_program)(*args, **kwargs), args


def escape(text: str) -> str:
    """Text made safe inside SVG elements and attribute values."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


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


def graph(fun: Callable | Any, *args: Any, **kwargs: Any) -> Graph:
    """The program ``make_jaxpr(fun)(*args)`` records, as nodes and edges.

    Args:
        fun: a function of arrays, or a program returned by ``make_jaxpr``.
        *args: example arguments (only their shapes and dtypes matter).
        **kwargs: keyword arguments passed to ``fun`` unrecorded.

    Returns:
        A ``Graph``: input nodes, one node per operation and per constant, output nodes.

    Example:
        >>> import numpy as np, functrans.numpy as fnp
        >>> g = graph(lambda x, y: fnp.sin(x) * y, np.ones(2), 3.0)
        >>> [(n.kind, n.label) for n in g.nodes]
        [('input', 'x'), ('input', 'y'), ('op', 'sin'), ('op', 'mul'), ('output', 'out')]
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

    for n, eqn in enumerate(program.eqns):
        node_id = f"op{n}"
        outs = eqn.outs
        arg_ids = [value_id(a) for a in eqn.args]
        detail = ", ".join(type_str(o.shape, o.dtype) for o in outs)
        params = _short_params(eqn.params or {})
        out.nodes.append(Node(node_id, eqn.prim.name, "op", (params + "\n" if params else "") + detail))
        out.edges.extend((a, node_id) for a in arg_ids)
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
        out.edges.append((src, node_id))
    return out


# -- DOT --------------------------------------------------------------------------------

_DOT_STYLE = {
    "input": 'shape=ellipse, style=filled, fillcolor="#dbeafe"',
    "const": 'shape=plaintext, fontcolor="#555555"',
    "op": 'shape=box, style="rounded,filled", fillcolor="#fef3c7"',
    "output": 'shape=ellipse, style=filled, fillcolor="#dcfce7"',
}


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(fun: Callable | Any, *args: Any, **kwargs: Any) -> str:
    """The recorded program of ``fun`` at ``args`` as Graphviz DOT text.

    Render it with ``dot -Tsvg program.dot -o program.svg`` or any DOT viewer.

    Args:
        fun: a function of arrays, or a program returned by ``make_jaxpr``.
        *args: example arguments (only their shapes and dtypes matter).
        **kwargs: keyword arguments passed to ``fun`` unrecorded.

    Returns:
        The DOT source, one statement a line.

    Example:
        >>> import functrans.numpy as fnp
        >>> print(to_dot(lambda x: fnp.exp(x), 1.0))
        digraph program {
          node [fontname="Helvetica", fontsize=11];
          in0 [label="x\\nfloat64[]", shape=ellipse, style=filled, fillcolor="#dbeafe"];
          op0 [label="exp\\nfloat64[]", shape=box, style="rounded,filled", fillcolor="#fef3c7"];
          out0 [label="out", shape=ellipse, style=filled, fillcolor="#dcfce7"];
          in0 -> op0;
          op0 -> out0;
        }
    """
    g = graph(fun, *args, **kwargs)
    lines = ["digraph program {", '  node [fontname="Helvetica", fontsize=11];']
    for node in g.nodes:
        label = node.label + ("\n" + node.detail if node.detail else "")
        lines.append(f"  {node.id} [label={_dot_quote(label)}, {_DOT_STYLE[node.kind]}];")
    lines.extend(f"  {a} -> {b};" for a, b in g.edges)
    lines.append("}")
    return "\n".join(lines)


# -- a small layered layout, drawn as SVG ------------------------------------------------

_FILL = {"input": "#dbeafe", "const": "#f3f4f6", "op": "#fef3c7", "output": "#dcfce7"}
_CHAR_W, _LINE_H, _PAD_X, _PAD_Y = 7.0, 14.0, 10.0, 6.0
_GAP_X, _GAP_Y, _MARGIN = 24.0, 44.0, 16.0
_WAYPOINT_W = 4.0


def _layout(g: Graph) -> tuple[list[list[str]], dict[tuple[str, str], list[str]]]:
    """Longest-path layering (every edge points down), constants pulled next to their user;
    an edge that skips layers passes through one small waypoint per skipped layer, so the
    ordering below keeps it clear of the boxes. A few barycenter sweeps reduce crossings.
    Deterministic. Returns the rows of node ids and each long edge's waypoint ids."""
    preds: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    succs: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    for a, b in g.edges:
        preds[b].append(a)
        succs[a].append(b)
    kind = {n.id: n.kind for n in g.nodes}
    level: dict[str, int] = {}
    for node in g.nodes:  # nodes are in execution order, so predecessors come first
        if kind[node.id] in ("input", "const"):
            level[node.id] = 0
        else:
            level[node.id] = 1 + max((level[p] for p in preds[node.id]), default=-1)
    for node in g.nodes:
        if kind[node.id] == "const" and succs[node.id]:
            level[node.id] = max(0, min(level[s] for s in succs[node.id]) - 1)
    waypoints: dict[tuple[str, str], list[str]] = {}
    up: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    down: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    for k, (a, b) in enumerate(g.edges):
        chain = [a]
        for step in range(level[a] + 1, level[b]):
            wid = f"~{k}.{step}"
            level[wid] = step
            up[wid], down[wid] = [], []
            chain.append(wid)
        chain.append(b)
        for u, v in zip(chain, chain[1:]):
            down[u].append(v)
            up[v].append(u)
        waypoints[(a, b)] = chain[1:-1]
    depth = max(level.values(), default=0)
    rows: list[list[str]] = [[] for _ in range(depth + 1)]
    for nid in level:
        rows[level[nid]].append(nid)

    def sweep(order: list[int], neighbours: dict) -> None:
        for r in order[1:]:
            prev = r - 1 if order[0] < r else r + 1
            pos = {nid: i for i, nid in enumerate(rows[prev])}
            keyed = []
            for i, nid in enumerate(rows[r]):
                ns = [pos[m] for m in neighbours[nid] if m in pos]
                keyed.append((sum(ns) / len(ns) if ns else float(i), i, nid))
            rows[r] = [nid for _, _, nid in sorted(keyed)]

    for _ in range(3):
        sweep(list(range(len(rows))), up)
        sweep(list(range(len(rows) - 1, -1, -1)), down)
    return rows, waypoints


def to_svg(fun: Callable | Any, *args: Any, title: str | None = None, **kwargs: Any) -> str:
    """The recorded program of ``fun`` at ``args`` drawn as an SVG image, without Graphviz.

    Operations are laid out in layers from the inputs (top) to the outputs (bottom); each box
    shows the primitive's name, its short parameters and its output's dtype and shape.

    Args:
        fun: a function of arrays, or a program returned by ``make_jaxpr``.
        *args: example arguments (only their shapes and dtypes matter).
        title: an optional caption drawn above the graph.
        **kwargs: keyword arguments passed to ``fun`` unrecorded.

    Returns:
        The SVG document as a string (deterministic: same program, same bytes).

    Example:
        >>> import functrans.numpy as fnp
        >>> svg = to_svg(lambda x: fnp.tanh(x) ** 2, 0.5)
        >>> svg.startswith("<svg") and "tanh" in svg
        True
    """
    g = graph(fun, *args, **kwargs)
    nodes = {n.id: n for n in g.nodes}
    layers, waypoints = _layout(g)
    size: dict[str, tuple[float, float]] = {}
    for n in g.nodes:
        lines = [n.label] + [line for line in n.detail.split("\n") if line]
        width = max(len(line) for line in lines) * _CHAR_W + 2 * _PAD_X
        size[n.id] = (max(width, 40.0), len(lines) * _LINE_H + 2 * _PAD_Y)
    for chain in waypoints.values():
        for wid in chain:
            size[wid] = (_WAYPOINT_W, 0.0)
    row_widths = [sum(size[i][0] for i in row) + _GAP_X * (len(row) - 1) for row in layers]
    total_w = max(row_widths, default=0.0) + 2 * _MARGIN
    top = _MARGIN + (22.0 if title else 0.0)
    pos: dict[str, tuple[float, float]] = {}
    y = top
    for row, row_w in zip(layers, row_widths):
        x = (total_w - row_w) / 2
        row_h = max((size[i][1] for i in row), default=0.0)
        for nid in row:
            w, h = size[nid]
            pos[nid] = (x + w / 2, y + row_h / 2)
            x += w + _GAP_X
        y += row_h + _GAP_Y
    total_h = y - _GAP_Y + _MARGIN

    def f(v: float) -> str:
        return f"{v:.1f}".rstrip("0").rstrip(".")

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{f(total_w)}" height="{f(total_h)}" '
        f'viewBox="0 0 {f(total_w)} {f(total_h)}" font-family="Helvetica, Arial, sans-serif" '
        f'font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#555"/></marker></defs>',
        f'<rect width="{f(total_w)}" height="{f(total_h)}" fill="white"/>',
    ]
    if title:
        out.append(f'<text x="{f(total_w / 2)}" y="{f(_MARGIN + 10)}" text-anchor="middle" '
                   f'font-weight="bold">{escape(title)}</text>')
    for a, b in g.edges:
        # through the waypoints: straight down each row, a smooth S-bend between rows
        points = [(pos[a][0], pos[a][1] + size[a][1] / 2)]
        for wid in waypoints[(a, b)]:
            x, y_mid = pos[wid]
            row_h = max(size[i][1] for i in layers[next(r for r, row in enumerate(layers) if wid in row)])
            points += [(x, y_mid - row_h / 2), (x, y_mid + row_h / 2)]
        points.append((pos[b][0], pos[b][1] - size[b][1] / 2))
        d = [f"M {f(points[0][0])} {f(points[0][1])}"]
        for (x0, y0), (x1, y1) in zip(points[0::2], points[1::2]):
            if len(d) > 1:
                d.append(f"L {f(x0)} {f(y0)}")
            mid = (y0 + y1) / 2
            d.append(f"C {f(x0)} {f(mid)}, {f(x1)} {f(mid)}, {f(x1)} {f(y1)}")
        out.append(f'<path d="{" ".join(d)}" fill="none" stroke="#555" stroke-width="1.2" '
                   'marker-end="url(#arrow)"/>')
    for nid, (cx, cy) in pos.items():
        if nid not in nodes:
            continue  # a waypoint
        node = nodes[nid]
        w, h = size[nid]
        x0, y0 = cx - w / 2, cy - h / 2
        rx = h / 2 if node.kind in ("input", "output") else 6.0
        stroke = "none" if node.kind == "const" else "#444"
        out.append(f'<rect x="{f(x0)}" y="{f(y0)}" width="{f(w)}" height="{f(h)}" rx="{f(rx)}" '
                   f'fill="{_FILL[node.kind]}" stroke="{stroke}"/>')
        lines = [node.label] + [line for line in node.detail.split("\n") if line]
        for k, line in enumerate(lines):
            weight = ' font-weight="bold"' if k == 0 and node.kind == "op" else ""
            colour = "#222" if k == 0 else "#666"
            ty = y0 + _PAD_Y + _LINE_H * (k + 0.75)
            out.append(f'<text x="{f(cx)}" y="{f(ty)}" text-anchor="middle" fill="{colour}"'
                       f'{weight}>{escape(line)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render(fun: Callable | Any, *args: Any, path: str, engine: str = "auto", **kwargs: Any) -> str:
    """Draw the recorded program of ``fun`` at ``args`` into the file ``path``.

    The format comes from the file's extension. ``.svg`` works everywhere: with
    ``engine="auto"`` it uses Graphviz's ``dot`` program when it is on the ``PATH`` and the
    built-in layout (``to_svg``) otherwise. ``.png``, ``.pdf`` and the other Graphviz formats
    need ``dot`` (install Graphviz: ``apt install graphviz``, ``brew install graphviz`` or
    ``conda install graphviz``; the ``graphviz`` package on PyPI alone does not include it).

    Args:
        fun: a function of arrays, or a program returned by ``make_jaxpr``.
        *args: example arguments (only their shapes and dtypes matter).
        path: the file to write, e.g. ``"graph.svg"``.
        engine: ``"auto"``, ``"dot"`` (require Graphviz) or ``"builtin"`` (SVG only).
        **kwargs: keyword arguments passed to ``fun`` unrecorded.

    Returns:
        ``path``.

    Raises:
        UnsupportedError: the format or engine needs Graphviz's ``dot`` and it is not installed.

    Example:
        >>> import os, tempfile, functrans.numpy as fnp
        >>> path = os.path.join(tempfile.mkdtemp(), "g.svg")
        >>> render(lambda x: fnp.sin(x), 1.0, path=path, engine="builtin") == path
        True
    """
    import shutil
    import subprocess

    if engine not in ("auto", "dot", "builtin"):
        raise ValueError(f"engine must be 'auto', 'dot' or 'builtin', got {engine!r}")
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "svg"
    dot_binary = shutil.which("dot") if engine != "builtin" else None
    if dot_binary is None:
        if engine == "dot" or fmt != "svg":
            what = "engine='dot'" if engine == "dot" else f"a .{fmt} file"
            raise UnsupportedError(
                f"viz.render: {what} needs Graphviz's `dot` program, which is not on the PATH. "
                "Install Graphviz (apt install graphviz, brew install graphviz, or conda install "
                "graphviz), or write an .svg file, which the built-in layout draws without it.")
        text = to_svg(fun, *args, **kwargs)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return path
    source = to_dot(fun, *args, **kwargs)
    subprocess.run([dot_binary, f"-T{fmt}", "-o", path], input=source.encode(), check=True)
    return path
