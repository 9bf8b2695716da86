"""The program graph drawn as SVG in pure Python, and written to a file (SVG, or any Graphviz format)."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from functrans.errors import UnsupportedError
from functrans.viz._dot import FILL, LEGEND, colour_key, dot_text, has_backward
from functrans.viz._graph import graph
from functrans.viz._layout import layout

__all__ = ["MAX_NODES", "escape", "render", "to_svg"]

#: the most nodes ``to_svg`` draws by default: beyond it a picture is too large to read, and
#: Graphviz (``to_dot``) draws it better
MAX_NODES = 2500

_CHAR_W, _LINE_H, _PAD_X, _PAD_Y = 7.0, 14.0, 10.0, 6.0
_GAP_X, _GAP_Y, _MARGIN = 24.0, 44.0, 16.0
_WAYPOINT_W = 4.0
_LEGEND_H, _SWATCH = 24.0, 14.0
_STROKE = {"backward": "#6d28d9"}
_PORT_COLOUR = "#1d4ed8"
_SCOPE_TINTS = ("#64748b", "#0d9488", "#c2410c")


def escape(text: str) -> str:
    """Text made safe inside SVG elements and attribute values.

    Example:
        >>> escape('a < b & "c"')
        'a &lt; b &amp; &quot;c&quot;'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _num(v: float) -> str:
    return str(round(v))  # whole pixels: shorter files, and faster to write than decimals


def to_svg(fun: Callable | Any, *args: Any, title: str | None = None,
           max_nodes: int = MAX_NODES, **kwargs: Any) -> str:
    """The recorded program of ``fun`` at ``args`` drawn as an SVG image, without Graphviz.

    Operations are laid out in layers from the inputs (top) to the outputs (bottom); each box
    shows the primitive's name, its short parameters and its output's dtype and shape. The
    forward pass is amber, the backward pass (reverse mode's transposed program) violet, with
    a legend; a small blue number where an edge enters an operation whose arguments do not
    commute gives the argument's position; each ``named_scope`` is a dashed box with its name.
    The layout takes time linear in the graph's size (about a second for 2,000 nodes).

    Args:
        fun: a function of arrays, or a program returned by ``make_jaxpr``.
        *args: example arguments (only their shapes and dtypes matter).
        title: an optional caption drawn above the graph.
        max_nodes: the largest graph drawn; a larger one raises ``ValueError`` (use
            ``to_dot`` and Graphviz for it, or raise the limit).
        **kwargs: keyword arguments passed to ``fun`` unrecorded.

    Returns:
        The SVG document as a string (deterministic: same program, same bytes).

    Raises:
        ValueError: the graph has more than ``max_nodes`` nodes.

    Example:
        >>> import functrans.numpy as fnp
        >>> svg = to_svg(lambda x: fnp.tanh(x) ** 2, 0.5)
        >>> svg.startswith("<svg") and "tanh" in svg
        True
    """
    g = graph(fun, *args, **kwargs)
    if len(g.nodes) > max_nodes:
        raise ValueError(
            f"viz.to_svg: the program has {len(g.nodes)} nodes, more than max_nodes={max_nodes}; "
            "a picture that large cannot be read. Export it with viz.to_dot(...) and lay it out "
            "with Graphviz (dot -Tsvg program.dot -o program.svg), draw a smaller part of the "
            "function, or pass a larger max_nodes.")
    nodes = {n.id: n for n in g.nodes}
    lay = layout(g)
    rows = lay.rows
    size: dict[str, tuple[float, float]] = {}
    for n in g.nodes:
        lines = [n.label] + [line for line in n.detail.split("\n") if line]
        width = max(len(line) for line in lines) * _CHAR_W + 2 * _PAD_X
        size[n.id] = (max(width, 40.0), len(lines) * _LINE_H + 2 * _PAD_Y)
    for chain in lay.waypoints.values():
        for wid in chain:
            size[wid] = (_WAYPOINT_W, 0.0)
    legend = LEGEND if has_backward(g) else ()
    legend_w = sum(_SWATCH + 8 + len(text) * _CHAR_W + 16 for _, text in legend)
    row_widths = [sum(size[i][0] for i in row) + _GAP_X * (len(row) - 1) for row in rows]
    total_w = max(max(row_widths, default=0.0), legend_w) + 2 * _MARGIN
    top = _MARGIN + (22.0 if title else 0.0) + (_LEGEND_H if legend else 0.0)
    if any(n.scope for n in g.nodes):
        top += 8.0  # room for a scope's band above the first row
    pos: dict[str, tuple[float, float]] = {}
    row_h: list[float] = []
    row_top: list[float] = []
    y = top
    for row, row_w in zip(rows, row_widths):
        x = (total_w - row_w) / 2
        h_row = max((size[i][1] for i in row), default=0.0)
        row_h.append(h_row)
        row_top.append(y)
        for nid in row:
            w, h = size[nid]
            pos[nid] = (x + w / 2, y + h_row / 2)
            x += w + _GAP_X
        y += h_row + _GAP_Y
    total_h = y - _GAP_Y + _MARGIN
    f = _num

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{f(total_w)}" height="{f(total_h)}" '
        f'viewBox="0 0 {f(total_w)} {f(total_h)}" font-family="Helvetica, Arial, sans-serif" '
        f'font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#555"/></marker></defs>',
        f'<rect width="{f(total_w)}" height="{f(total_h)}" fill="white"/>',
    ]
    y_legend = _MARGIN
    if title:
        out.append(f'<text x="{f(total_w / 2)}" y="{f(_MARGIN + 10)}" text-anchor="middle" '
                   f'font-weight="bold">{escape(title)}</text>')
        y_legend += 22.0
    x = (total_w - legend_w) / 2
    for key, text in legend:
        out.append(f'<g class="legend"><rect x="{f(x)}" y="{f(y_legend)}" width="{f(_SWATCH)}" '
                   f'height="{f(_SWATCH)}" rx="3" fill="{FILL[key]}" stroke="{_STROKE.get(key, "#444")}"/>'
                   f'<text x="{f(x + _SWATCH + 6)}" y="{f(y_legend + 11)}" fill="#222">{escape(text)}</text></g>')
        x += _SWATCH + 8 + len(text) * _CHAR_W + 16

    # scopes: a shaded band per row under the operations of each named_scope, the bands of
    # consecutive rows touching; nested scopes shade darker. Rows keep each scope contiguous
    # (see layout), so a band covers no operation of another scope.
    bands: dict[tuple[str, ...], dict[int, list[float]]] = {}
    nesting: dict[tuple[str, ...], int] = {}
    for node in g.nodes:
        if not node.scope:
            continue
        cx = pos[node.id][0]
        half_w = size[node.id][0] / 2
        r = lay.row_of[node.id]
        for depth in range(1, len(node.scope) + 1):
            path = node.scope[:depth]
            span = bands.setdefault(path, {}).setdefault(r, [cx - half_w, cx + half_w])
            span[0], span[1] = min(span[0], cx - half_w), max(span[1], cx + half_w)
            nesting[path] = max(nesting.get(path, 0), len(node.scope) - depth)
    scope_labels: list[str] = []
    for number, (path, spans) in enumerate(bands.items()):
        tint = _SCOPE_TINTS[number % len(_SCOPE_TINTS)]  # neighbouring scopes told apart
        pad = 6.0 + 6.0 * nesting[path]
        first = min(spans)
        parts = [f'<g class="scope" data-scope="{escape("/".join(path))}">']
        for r, (x0, x1) in sorted(spans.items()):
            y0 = row_top[r] - _GAP_Y / 2
            parts.append(f'<rect x="{f(x0 - pad)}" y="{f(y0)}" width="{f(x1 - x0 + 2 * pad)}" '
                         f'height="{f(row_h[r] + _GAP_Y)}" fill="{tint}" fill-opacity="0.13"/>')
        parts.append("</g>")
        out.append("".join(parts))
        x0 = spans[first][0]  # the name goes on top of everything, at the scope's first row
        scope_labels.append(f'<text class="scope-name" x="{f(x0 - pad + 3)}" y="{f(row_top[first] - _GAP_Y / 2 + 12)}" '
                            f'fill="#334155" font-style="italic" stroke="white" stroke-width="3" '
                            f'paint-order="stroke">{escape(path[-1])}</text>')

    for k, ((a, b), port) in enumerate(zip(g.edges, g.ports)):
        # through the waypoints: straight down each row, a smooth S-bend between rows
        points = [(pos[a][0], pos[a][1] + size[a][1] / 2)]
        for wid in lay.waypoints[k]:
            x, y_mid = pos[wid]
            half = row_h[lay.row_of[wid]] / 2
            points += [(x, y_mid - half), (x, y_mid + half)]
        end = (pos[b][0], pos[b][1] - size[b][1] / 2)
        points.append(end)
        d = [f"M {f(points[0][0])} {f(points[0][1])}"]
        for (x0, y0), (x1, y1) in zip(points[0::2], points[1::2]):
            if len(d) > 1:
                d.append(f"L {f(x0)} {f(y0)}")
            mid = (y0 + y1) / 2
            d.append(f"C {f(x0)} {f(mid)}, {f(x1)} {f(mid)}, {f(x1)} {f(y1)}")
        dash = ' stroke-dasharray="4,3" stroke-opacity="0.6"' if k in lay.straight else ""
        out.append(f'<path d="{" ".join(d)}" fill="none" stroke="#555" stroke-width="1.2"{dash} '
                   'marker-end="url(#arrow)"/>')
        if port is not None:  # beside the last bend, three quarters of the way down
            (x0, y0), (x1, y1) = points[-2], end
            t = 0.75
            lx = x0 + (x1 - x0) * (3 * (1 - t) * t * t + t ** 3)
            ly = y0 + (y1 - y0) * t
            side, anchor = (-5.0, "end") if x0 <= x1 else (5.0, "start")
            out.append(f'<text class="port" x="{f(lx + side)}" y="{f(ly + 4)}" text-anchor="{anchor}" '
                       f'font-size="11" font-weight="bold" fill="{_PORT_COLOUR}" stroke="white" '
                       f'stroke-width="3" paint-order="stroke">{port}</text>')
    for nid, (cx, cy) in pos.items():
        if nid not in nodes:
            continue  # a waypoint
        node = nodes[nid]
        w, h = size[nid]
        x0, y0 = cx - w / 2, cy - h / 2
        rx = h / 2 if node.kind in ("input", "output") else 6.0
        key = colour_key(node)
        stroke = "none" if node.kind == "const" else _STROKE.get(key, "#444")
        out.append(f'<rect id="{nid}" x="{f(x0)}" y="{f(y0)}" width="{f(w)}" height="{f(h)}" '
                   f'rx="{f(rx)}" fill="{FILL[key]}" stroke="{stroke}"/>')
        lines = [node.label] + [line for line in node.detail.split("\n") if line]
        for i, line in enumerate(lines):
            weight = ' font-weight="bold"' if i == 0 and node.kind == "op" else ""
            colour = "#222" if i == 0 else "#666"
            ty = y0 + _PAD_Y + _LINE_H * (i + 0.75)
            out.append(f'<text x="{f(cx)}" y="{f(ty)}" text-anchor="middle" fill="{colour}"'
                       f'{weight}>{escape(line)}</text>')
    out.extend(scope_labels)
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
        **kwargs: keyword arguments passed to ``fun`` unrecorded (and ``title``,
            ``max_nodes`` to the built-in drawing).

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
    kwargs.pop("title", None)
    kwargs.pop("max_nodes", None)
    source = dot_text(graph(fun, *args, **kwargs))
    subprocess.run([dot_binary, f"-T{fmt}", "-o", path], input=source.encode(), check=True)
    return path
