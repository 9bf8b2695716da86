"""A layered layout of a program graph in time linear in its size, for the built-in SVG drawing.

Sugiyama's scheme with bounded work: longest-path layering (each operation one row below its
lowest argument, each input and constant just above its first user), one small waypoint per
skipped row for edges that span several rows (so the ordering keeps them clear of the boxes)
within a budget proportional to the graph's size, and a fixed number of barycenter sweeps that
order each row by the mean position of its neighbours in the row before. Edges left over by
the budget (the residuals a backward pass reads from far up the forward pass) are drawn
straight and take no part in the ordering. Each row is sorted by name scope first, so the
operations of one ``named_scope`` sit side by side.
"""
from __future__ import annotations

from functrans.viz._graph import Graph

__all__ = ["Layout", "layout"]

#: down-and-up sweep pairs of the crossing reduction: a constant, so the work stays linear
SWEEPS = 3
#: waypoints allowed per node and edge of the graph, before long edges are drawn straight
WAYPOINT_BUDGET = 2


class Layout:
    """Rows of node ids (top to bottom, each in drawing order) and how each edge is routed.

    Attributes:
        rows: the node ids of each row, waypoints included, left to right.
        row_of: the row of every node id and waypoint id.
        waypoints: for each edge (by its index in ``Graph.edges``), the waypoint ids it passes
            through, one per row it skips; empty for an edge between adjacent rows.
        straight: the indices of the edges that skip rows but got no waypoints (over budget).
        sweeps: the number of ordering sweeps run (each visits every row once).
        work: the neighbour visits and row entries the ordering touched: grows linearly with
            ``len(nodes) + len(edges)`` (times the logarithm of a row's length, from sorting).
    """

    __slots__ = ("rows", "row_of", "waypoints", "straight", "sweeps", "work")

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.row_of: dict[str, int] = {}
        self.waypoints: dict[int, list[str]] = {}
        self.straight: set[int] = set()
        self.sweeps = 0
        self.work = 0


def _scope_keys(g: Graph) -> dict[str, tuple[int, ...]]:
    """A sort key per node that keeps each scope (and each scope inside it) contiguous: the
    rank of every enclosing scope path, in the order the scopes first appear."""
    rank: dict[tuple[str, ...], int] = {}
    keys: dict[str, tuple[int, ...]] = {}
    for node in g.nodes:
        key = []
        for depth in range(1, len(node.scope) + 1):
            key.append(rank.setdefault(node.scope[:depth], len(rank)))
        keys[node.id] = tuple(key)
    return keys


def layout(g: Graph) -> Layout:
    """Assign every node a row and a place in it; deterministic.

    Example:
        >>> import functrans.numpy as fnp
        >>> from functrans.viz import graph
        >>> lay = layout(graph(lambda x: fnp.sin(x) * x, 1.0))
        >>> lay.rows  # x skips a row on its way to mul: the waypoint ~2.1 carries it
        [['in0'], ['op0', '~2.1'], ['op1'], ['out0']]
    """
    out = Layout()
    preds: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    succs: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    for a, b in g.edges:
        preds[b].append(a)
        succs[a].append(b)
    level = out.row_of
    for node in g.nodes:  # nodes are in execution order, so arguments come first
        if node.kind in ("input", "const"):
            level[node.id] = 0
        else:
            level[node.id] = 1 + max((level[p] for p in preds[node.id]), default=-1)
    for node in g.nodes:  # an input or a constant sits just above its first user
        if node.kind in ("input", "const") and succs[node.id]:
            level[node.id] = max(0, min(level[s] for s in succs[node.id]) - 1)

    # waypoints for the shortest long edges first, within the budget
    spans = [(level[b] - level[a] - 1, k) for k, (a, b) in enumerate(g.edges)]
    budget = WAYPOINT_BUDGET * (len(g.nodes) + len(g.edges))
    keys = _scope_keys(g)
    up: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    down: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    for span, k in sorted(spans):
        a, b = g.edges[k]
        if span > budget:
            out.straight.add(k)
            out.waypoints[k] = []
            continue
        budget -= max(span, 0)
        chain = [a]
        for step in range(level[a] + 1, level[b]):
            wid = f"~{k}.{step}"
            level[wid] = step
            keys[wid] = keys[a]
            up[wid], down[wid] = [], []
            chain.append(wid)
        chain.append(b)
        for u, v in zip(chain, chain[1:]):
            down[u].append(v)
            up[v].append(u)
        out.waypoints[k] = chain[1:-1]

    depth = max(level.values(), default=0)
    rows: list[list[str]] = [[] for _ in range(depth + 1)]
    for nid in [n.id for n in g.nodes] + [w for k in sorted(out.waypoints) for w in out.waypoints[k]]:
        rows[level[nid]].append(nid)
    for r, row in enumerate(rows):  # start from execution order, grouped by scope
        rows[r] = sorted(row, key=lambda nid: keys[nid])

    def sweep(order: range, neighbours: dict[str, list[str]], step: int) -> int:
        work = 0
        for r in order:
            pos = {nid: i for i, nid in enumerate(rows[r - step])}
            keyed = []
            for i, nid in enumerate(rows[r]):
                ns = neighbours[nid]
                count = len(ns)
                work += 1 + count
                if count == 1:  # most of them: waypoints, and chains of unary operations
                    key = float(pos[ns[0]])
                else:
                    key = sum([pos[m] for m in ns]) / count if count else float(i)
                keyed.append((keys[nid], key, i, nid))
            keyed.sort()
            rows[r] = [item[3] for item in keyed]
        return work

    for _ in range(SWEEPS):
        out.work += sweep(range(1, len(rows)), up, 1)
        out.work += sweep(range(len(rows) - 2, -1, -1), down, -1)
        out.sweeps += 2
    out.rows = rows
    return out
