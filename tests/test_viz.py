"""functrans.viz: the recorded program drawn as DOT text and as SVG, without Graphviz."""
import os
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import viz
from functrans.errors import UnsupportedError
from functrans.viz._dot import FILL
from functrans.viz._layout import SWEEPS, WAYPOINT_BUDGET


def f(x, y):
    return fnp.sum(fnp.sin(x) * y + x ** 2)


def test_graph_has_one_node_per_input_operation_and_output():
    g = viz.graph(f, np.ones(3), 2.0)
    kinds = [n.kind for n in g.nodes]
    assert kinds.count("input") == 2 and kinds.count("output") == 1
    program = ft.make_jaxpr(f)(np.ones(3), 2.0)
    assert [n.label for n in g.nodes if n.kind == "op"] == [e.prim.name for e in program.eqns]
    ids = {n.id for n in g.nodes}
    assert all(a in ids and b in ids for a, b in g.edges)


def test_input_labels_follow_argument_names_and_key_paths():
    def loss(params, x):
        return fnp.sum(params["w"] * x + params["b"])

    g = viz.graph(loss, {"w": np.ones(2), "b": np.zeros(2)}, np.ones(2))
    assert [n.label for n in g.nodes if n.kind == "input"] == ["params['b']", "params['w']", "x"]


def test_outputs_are_labelled_by_their_place_in_the_returned_tree():
    g = viz.graph(ft.grad(lambda p, x: fnp.sum(p["w"] * x), argnums=(0, 1)), {"w": np.ones(2)}, np.ones(2))
    assert [n.label for n in g.nodes if n.kind == "output"] == ["out[0]['w']", "out[1]"]


def test_a_recorded_program_can_be_drawn_directly():
    program = ft.make_jaxpr(f)(np.ones(3), 2.0)
    assert viz.to_dot(program).count("->") == viz.to_dot(f, np.ones(3), 2.0).count("->")
    with pytest.raises(TypeError):
        viz.to_dot(program, np.ones(3))


def test_dot_text_names_every_primitive_of_the_backward_pass():
    dot = viz.to_dot(ft.grad(f), np.ones(3), 2.0)
    assert dot.startswith("digraph program {") and dot.rstrip().endswith("}")
    for name in ("sin", "cos", "mul", "reduce_sum", "broadcast_in_dim"):
        assert f'label="{name}' in dot


def test_svg_is_well_formed_deterministic_and_labelled():
    svg = viz.to_svg(ft.grad(f), np.ones(3), 2.0, title="grad of f")
    assert svg == viz.to_svg(ft.grad(f), np.ones(3), 2.0, title="grad of f")
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "grad of f" in texts and "cos" in texts and "out" in texts
    paths = list(root.iter("{http://www.w3.org/2000/svg}path"))
    assert len(paths) - 1 == len(viz.graph(ft.grad(f), np.ones(3), 2.0).edges)  # minus the arrowhead


def test_multiple_outputs_and_constants():
    g = viz.graph(lambda x: (x * 2.0, fnp.exp(x) + np.arange(3.0)), np.ones(3))
    assert [n.label for n in g.nodes if n.kind == "output"] == ["out[0]", "out[1]"]
    assert any(n.kind == "const" and n.detail == "float64[3]" for n in g.nodes)
    ET.fromstring(viz.to_svg(lambda x: (x * 2.0, fnp.exp(x) + np.arange(3.0)), np.ones(3)))


def test_render_writes_svg_without_graphviz(tmp_path):
    path = str(tmp_path / "g.svg")
    assert viz.render(f, np.ones(3), 2.0, path=path, engine="builtin") == path
    ET.parse(path)


@pytest.mark.skipif(shutil.which("dot") is not None, reason="Graphviz is installed here")
def test_render_says_what_to_install_for_other_formats(tmp_path):
    with pytest.raises(UnsupportedError, match="Graphviz"):
        viz.render(f, np.ones(3), 2.0, path=str(tmp_path / "g.png"))
    with pytest.raises(UnsupportedError, match="apt install graphviz"):
        viz.render(f, np.ones(3), 2.0, path=str(tmp_path / "g.svg"), engine="dot")
    assert not os.listdir(tmp_path)


def test_bad_engine_and_non_function():
    with pytest.raises(ValueError, match="engine"):
        viz.render(f, 1.0, 2.0, path="x.svg", engine="neato")
    with pytest.raises(TypeError, match="function"):
        viz.to_dot(3.0)


# -- forward and backward pass, argument order, scopes -----------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def _svg_fills(svg):
    """The fill of each node's box, by node id."""
    return {r.get("id"): r.get("fill") for r in ET.fromstring(svg).iter(SVG + "rect") if r.get("id")}


def test_operations_know_their_pass():
    g = viz.graph(ft.grad(f), np.ones(3), 2.0)
    phases = [n.phase for n in g.nodes if n.kind == "op"]
    assert phases[0] == "forward" and phases[-1] == "backward"
    assert phases == sorted(phases, key=lambda p: p == "backward")  # one forward, then one backward run
    assert {n.label: n.phase for n in g.nodes if n.kind == "op"}["sin"] == "forward"
    assert all(n.phase == "" for n in g.nodes if n.kind != "op")
    assert {n.phase for n in viz.graph(f, np.ones(3), 2.0).nodes if n.kind == "op"} == {"forward"}


def test_forward_and_backward_are_drawn_in_two_colours_with_a_legend():
    fwd, bwd = FILL["forward"], FILL["backward"]
    assert fwd != bwd
    fun = ft.grad(lambda x: fnp.sum(fnp.sin(x) / x))
    svg = viz.to_svg(fun, np.ones(2))
    fills = _svg_fills(svg)
    g = viz.graph(fun, np.ones(2))
    assert {n.phase for n in g.nodes} == {"", "forward", "backward"}
    for n in g.nodes:
        if n.kind == "op":
            assert fills[n.id] == (fwd if n.phase == "forward" else bwd), n
    legend = [t.text for g in ET.fromstring(svg).iter(SVG + "g") if g.get("class") == "legend"
              for t in g.iter(SVG + "text")]
    assert legend == ["input", "forward pass", "backward pass", "output"]
    assert 'class="legend"' not in viz.to_svg(f, np.ones(3), 2.0)  # one pass: nothing to tell apart
    dot = viz.to_dot(ft.grad(lambda x: fnp.sum(fnp.sin(x) / x)), np.ones(2))
    for n in g.nodes:
        if n.kind == "op":
            assert f'{n.id} [label=' in dot
            line = next(line for line in dot.splitlines() if line.strip().startswith(f"{n.id} ["))
            assert f'fillcolor="{fwd if n.phase == "forward" else bwd}"' in line
    assert "subgraph cluster_legend" in dot and 'label="backward pass"' in dot
    assert "cluster_legend" not in viz.to_dot(f, np.ones(3), 2.0)


def test_arguments_are_numbered_where_their_order_matters():
    def h(x, y):
        return (x - y) / (y @ x) * fnp.maximum(x, y) + x

    g = viz.graph(h, np.ones(2), np.ones(2))
    ops = {n.id: n.label for n in g.nodes}
    ports = [(ops.get(b), p) for (a, b), p in zip(g.edges, g.ports)]
    assert [p for name, p in ports if name in ("sub", "div", "dot_general")] == [0, 1, 0, 1, 0, 1]
    assert {p for name, p in ports if name in ("mul", "max", "add") or name is None} == {None}
    g = viz.graph(lambda x: x - x, 1.0)  # one value as both arguments: two numbered edges
    assert list(zip(g.edges, g.ports))[:2] == [(("in0", "op0"), 0), (("in0", "op0"), 1)]
    dot = viz.to_dot(h, np.ones(2), np.ones(2))
    assert dot.count("headlabel=") == 6 and '[headlabel="1"]' in dot
    svg = viz.to_svg(h, np.ones(2), np.ones(2))
    numbers = [t.text for t in ET.fromstring(svg).iter(SVG + "text") if t.get("class") == "port"]
    assert sorted(numbers) == ["0", "0", "0", "1", "1", "1"]


def nested(x):
    with ft.named_scope("encoder"):
        with ft.named_scope("layer1"):
            h = fnp.tanh(x * 2.0)
        with ft.named_scope("layer2"):
            h = fnp.tanh(h - 1.0)
    return fnp.sum(h ** 2)


def test_operations_carry_their_scope_without_the_outer_transformation():
    g = viz.graph(ft.grad(nested), np.ones(3))
    scopes = {n.scope for n in g.nodes if n.kind == "op"}
    assert scopes == {("encoder", "layer1"), ("encoder", "layer2"), ()}  # no grad(nested)
    forward = [n for n in g.nodes if n.label == "tanh"]
    assert [n.scope for n in forward] == [("encoder", "layer1"), ("encoder", "layer2")]
    # a transformation inside the program is a scope of its own
    inner = viz.graph(lambda x: ft.grad(fnp.sin)(x) * x, 1.0)
    assert {n.scope for n in inner.nodes if n.kind == "op"} == {("grad(sin)",), ()}


def test_nn_layers_group_when_their_call_is_scoped():
    from functrans import nn, random

    layer = nn.Linear(3, 2)
    params = layer.init(random.key(0))

    def model(params, x):
        with ft.named_scope("linear"):
            y = layer.apply(params, x)
        return fnp.sum(y ** 2)

    g = viz.graph(model, params, np.ones((4, 3)))
    assert {n.scope for n in g.nodes if n.kind == "op" and n.label != "integer_pow"
            and n.label != "reduce_sum"} == {("linear",)}


def test_scopes_are_nested_dot_clusters_and_shaded_svg_bands():
    dot = viz.to_dot(ft.grad(nested), np.ones(3))
    lines = [line.strip() for line in dot.splitlines()]
    enc = lines.index(next(line for line in lines if line.startswith("subgraph cluster_") and
                           lines[lines.index(line) + 1].startswith('label="encoder"')))
    depth, end = 0, enc
    for end in range(enc, len(lines)):  # the encoder cluster holds both layer clusters
        depth += lines[end].endswith("{") - (lines[end] == "}")
        if depth == 0:
            break
    body = "\n".join(lines[enc:end])
    assert body.count("subgraph cluster_") == 3 and 'label="layer1"' in body and 'label="layer2"' in body
    svg = viz.to_svg(ft.grad(nested), np.ones(3))
    root = ET.fromstring(svg)
    bands = {g.get("data-scope") for g in root.iter(SVG + "g") if g.get("class") == "scope"}
    assert bands == {"encoder", "encoder/layer1", "encoder/layer2"}
    names = [t.text for t in root.iter(SVG + "text") if t.get("class") == "scope-name"]
    assert sorted(names) == ["encoder", "layer1", "layer2"]


def test_rows_keep_each_scope_together():
    def many(x):
        for i in range(4):
            with ft.named_scope(f"block{i % 2}"):
                x = fnp.sin(x) * x - fnp.cos(x)
        return fnp.sum(x)

    g = viz.graph(ft.grad(many), np.ones(2))
    scope = {n.id: n.scope for n in g.nodes}
    for row in viz.layout(g).rows:
        seen, last = set(), None
        for nid in row:
            s = scope.get(nid, last)  # a waypoint belongs with its source
            assert s == last or s not in seen, row
            seen.add(s)
            last = s


# -- the layout: linear work, bounded size -----------------------------------------------

def _chain(n, reuse):
    """n steps of elementwise work; with ``reuse`` every step also reads the input (long edges)."""
    def fun(x):
        y = x
        for _ in range(n):
            y = fnp.sin(y) - (x if reuse else 1.0)
        return fnp.sum(y)
    return ft.make_jaxpr(ft.grad(fun))(np.ones(2))


def _check_layout(g, lay):
    ids = [n.id for n in g.nodes]
    placed = [nid for row in lay.rows for nid in row if not nid.startswith("~")]
    assert sorted(placed) == sorted(ids)  # every node exactly once
    for k, (a, b) in enumerate(g.edges):
        chain = [a, *lay.waypoints[k], b]
        assert lay.row_of[a] < lay.row_of[b]  # every edge points down
        if k not in lay.straight:
            assert [lay.row_of[v] for v in chain] == list(range(lay.row_of[a], lay.row_of[b] + 1))


@pytest.mark.parametrize("reuse", [False, True])
def test_layout_work_grows_linearly_with_the_graph(reuse):
    ratios = []
    for n in (50, 400):
        g = viz.graph(_chain(n, reuse))
        lay = viz.layout(g)
        _check_layout(g, lay)
        size = len(g.nodes) + len(g.edges)
        waypoints = sum(len(w) for w in lay.waypoints.values())
        assert waypoints <= WAYPOINT_BUDGET * size
        assert lay.sweeps == 2 * SWEEPS
        ratios.append(lay.work / size)
    assert ratios[1] < 1.3 * ratios[0], ratios
    if reuse:  # residuals read far below their definition: too long for waypoints, drawn straight
        assert lay.straight


def test_large_graph_is_drawn_and_oversized_ones_point_to_dot():
    program = _chain(400, True)
    g = viz.graph(program)
    assert len(g.nodes) > 2000
    svg = viz.to_svg(program)
    root = ET.fromstring(svg)
    assert len(list(root.iter(SVG + "path"))) - 1 == len(g.edges)
    assert float(root.get("width")) < 5000
    with pytest.raises(ValueError, match=r"more than max_nodes=100.*viz\.to_dot"):
        viz.to_svg(program, max_nodes=100)
    assert viz.to_dot(program).count("->") == len(g.edges)  # DOT has no cap


def _parse_dot(text):
    """A small check of DOT syntax: statements, braces, quoted strings, declared endpoints."""
    lines = text.splitlines()
    assert lines[0] == "digraph program {" and lines[-1] == "}"
    depth, declared, edges = 0, set(), []
    for line in lines:
        s = line.strip()
        unescaped = s.replace('\\\\', "").replace('\\"', "")
        assert unescaped.count('"') % 2 == 0, s
        if s.endswith("{"):
            depth += 1
            assert s in ("digraph program {",) or s.startswith("subgraph cluster_"), s
        elif s == "}":
            depth -= 1
        else:
            assert s.endswith(";"), s
            head = unescaped.split("[")[0].rstrip(";").split()
            if "->" in head:
                edges.append((head[0], head[2]))
            elif not s.startswith(("node ", "edge ", "label=")):
                declared.add(head[0])
        assert depth >= 0
    assert depth == 0
    assert all(a in declared and b in declared for a, b in edges)
    return declared, edges


def test_dot_output_parses():
    for fun, args in ((f, (np.ones(3), 2.0)), (ft.grad(nested), (np.ones(3),)),
                      (lambda x: (x - 1.0, fnp.exp(x) / 'a"b'.__len__()), (1.0,))):
        g = viz.graph(fun, *args)
        declared, edges = _parse_dot(viz.to_dot(fun, *args))
        assert {n.id for n in g.nodes} <= declared and len(edges) == len(g.edges)


def test_viz_needs_no_matplotlib(tmp_path):
    """Drawing uses no plotting library: with matplotlib unimportable the SVG is still drawn."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "import functrans.numpy as fnp\nfrom functrans import viz\n"
            f"viz.render(fnp.sin, 1.0, path={str(tmp_path / 'g.svg')!r}, engine='builtin')\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    ET.parse(tmp_path / "g.svg")
