"""The program graph as Graphviz DOT text: colours by pass, argument positions, scope clusters."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functrans.viz._graph import Graph, Node, graph

__all__ = ["to_dot"]

#: fill colours: inputs blue, forward operations amber, backward operations violet, outputs green
FILL = {"input": "#dbeafe", "const": "#f3f4f6", "forward": "#fef3c7", "backward": "#e9d5ff",
        "output": "#dcfce7"}
LEGEND = (("input", "input"), ("forward", "forward pass"), ("backward", "backward pass"),
          ("output", "output"))


def colour_key(node: Node) -> str:
    """The key of ``FILL`` a node is drawn with: its pass for an operation, else its kind."""
    return node.phase if node.kind == "op" else node.kind


def has_backward(g: Graph) -> bool:
    """Whether the graph holds a backward pass (then the drawings show a legend)."""
    return any(n.phase == "backward" for n in g.nodes)


def _style(node: Node) -> str:
    fill = FILL[colour_key(node)]
    if node.kind == "const":
        return 'shape=plaintext, fontcolor="#555555"'
    if node.kind == "op":
        return f'shape=box, style="rounded,filled", fillcolor="{fill}"'
    return f'shape=ellipse, style=filled, fillcolor="{fill}"'


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node_line(node: Node, indent: str) -> str:
    label = node.label + ("\n" + node.detail if node.detail else "")
    return f"{indent}{node.id} [label={_quote(label)}, {_style(node)}];"


def dot_text(g: Graph) -> str:
    """The DOT source of a graph (see ``to_dot``)."""
    lines = ["digraph program {", '  node [fontname="Helvetica", fontsize=11];',
             "  edge [labelfontsize=9, labelfontcolor=\"#1d4ed8\"];"]
    # the scopes as nested clusters: a node goes into the cluster of its full scope path
    members: dict[tuple[str, ...], list[Node]] = {(): []}
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}
    for node in g.nodes:
        for depth in range(1, len(node.scope) + 1):
            path = node.scope[:depth]
            if path not in members:
                members[path], children[path] = [], []
                children[path[:-1]].append(path)
        members[node.scope].append(node)
    cluster_ids = {path: i for i, path in enumerate(members)}
    # depth-first over the scope tree with an explicit stack: open, members, children, close
    stack: list[tuple[tuple[str, ...], bool]] = [((), True)]
    while stack:
        path, opening = stack.pop()
        indent = "  " * (len(path) + 1)
        if not opening:
            lines.append("  " * len(path) + "}")
            continue
        if path:
            lines.append("  " * len(path) + f"subgraph cluster_{cluster_ids[path]} {{")
            lines.append(f'{indent}label={_quote(path[-1])}; style="rounded,dashed"; color="#6b7280";')
        lines.extend(_node_line(node, indent) for node in members[path])
        if path:
            stack.append((path, False))
        stack.extend((child, True) for child in reversed(children[path]))
    for (a, b), port in zip(g.edges, g.ports):
        lines.append(f"  {a} -> {b};" if port is None else f'  {a} -> {b} [headlabel="{port}"];')
    if has_backward(g):
        lines.append('  subgraph cluster_legend {')
        lines.append('    label="legend"; style=solid; color="#9ca3af"; rank=sink;')
        lines.extend(f'    legend_{key} [label={_quote(text)}, shape=box, style=filled, '
                     f'fillcolor="{FILL[key]}"];' for key, text in LEGEND)
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def to_dot(fun: Callable | Any, *args: Any, **kwargs: Any) -> str:
    """The recorded program of ``fun`` at ``args`` as Graphviz DOT text.

    Render it with ``dot -Tsvg program.dot -o program.svg`` or any DOT viewer. Operations
    of the backward pass (reverse mode's transposed program) are filled violet, those of the
    forward pass amber, with a legend when both are present; an edge into an operation whose
    arguments do not commute (``sub``, ``div``, ``dot_general``, ...) carries the argument's
    position as a head label; each ``named_scope`` is a cluster. No size limit: Graphviz lays
    out graphs far larger than the built-in drawing of ``to_svg`` accepts.

    Args:
        fun: a function of arrays, or a program returned by ``make_jaxpr``.
        *args: example arguments (only their shapes and dtypes matter).
        **kwargs: keyword arguments passed to ``fun`` unrecorded.

    Returns:
        The DOT source, one statement a line.

    Example:
        >>> import functrans.numpy as fnp
        >>> print(to_dot(lambda x: fnp.exp(x) / x, 1.0))
        digraph program {
          node [fontname="Helvetica", fontsize=11];
          edge [labelfontsize=9, labelfontcolor="#1d4ed8"];
          in0 [label="x\\nfloat64[]", shape=ellipse, style=filled, fillcolor="#dbeafe"];
          op0 [label="exp\\nfloat64[]", shape=box, style="rounded,filled", fillcolor="#fef3c7"];
          op1 [label="div\\nfloat64[]", shape=box, style="rounded,filled", fillcolor="#fef3c7"];
          out0 [label="out", shape=ellipse, style=filled, fillcolor="#dcfce7"];
          in0 -> op0;
          op0 -> op1 [headlabel="0"];
          in0 -> op1 [headlabel="1"];
          op1 -> out0;
        }
    """
    return dot_text(graph(fun, *args, **kwargs))
