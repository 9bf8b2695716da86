"""Pictures of the programs functrans records: computation graphs as Graphviz DOT or SVG.

``make_jaxpr`` records a function as a flat list of primitive applications. This module draws
that list as a graph, one node per input, constant, operation and output, with an arrow from
each value to every operation that uses it:

- ``to_dot(fun, *args)``: the graph as Graphviz DOT text (no Graphviz needed to produce it);
- ``to_svg(fun, *args)``: the graph as an SVG image, laid out here in pure Python (layers
  from the inputs down, boxes and arrows, in time linear in the graph's size), so no
  external program is needed;
- ``render(fun, *args, path=...)``: writes the image to a file. An ``.svg`` uses the ``dot``
  program when it is installed and the built-in layout otherwise; other formats (``.png``,
  ``.pdf``) need Graphviz's ``dot`` program.

Each function also accepts an already recorded program (what ``make_jaxpr(f)(*args)``
returns) in place of ``fun, *args``. Drawing ``grad(f)`` shows the forward and backward
passes together, as the reverse-mode program functrans runs, in two colours. Operations whose
arguments do not commute (``sub``, ``div``, ``dot_general``, ...) number their incoming
edges; the operations of each ``named_scope`` are grouped in a box (the nn layers do not open
scopes of their own: wrap a layer's call in ``ft.named_scope("encoder")`` to group it).

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

from functrans.viz._dot import to_dot
from functrans.viz._graph import Graph, Node, graph
from functrans.viz._layout import Layout, layout
from functrans.viz._svg import MAX_NODES, render, to_svg

__all__ = ["MAX_NODES", "Graph", "Layout", "Node", "graph", "layout", "render", "to_dot", "to_svg"]
